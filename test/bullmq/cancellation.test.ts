// Cancellation reaches the worker (API.md 2.3, 4.2): an aborted signal aborts ctx.signal on whichever worker
// holds the task; a task still waiting in BullMQ (or for room) is removed and never starts; close({ force })
// aborts running tasks on the workers and their promises reject with PoolClosedError.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AbortError, PoolClosedError } from '../../src/index.js';
import { rejection } from '../helpers.js';
import { distributedSuite, jobsAdded, jobsInQueue, redisAvailable, waitFor, withPool } from '../fixtures/redis-server.js';

const available = redisAvailable();

const POOLS = {
  running: 'cancel-running',
  waiting: 'cancel-waiting',
  blocked: 'cancel-blocked',
  force: 'cancel-force',
} as const;

describe('cancellation across processes', { skip: !available }, () => {
  // One task at a time per process: two running tasks are on two processes.
  const env = distributedSuite({ pools: Object.values(POOLS), workerOptions: { concurrency: 1 } });

  /** Waits until `n` tasks have started under `key`; returns `[taskId, worker]` of each. */
  async function started(key: string, n: number): Promise<[string, string][]> {
    await waitFor(async () => (await env.client.llen(`${key}:on`)) >= n, 10_000, `${n} tasks to start under ${key}`);
    return (await env.client.lrange(`${key}:on`, 0, -1)).map((line) => line.split('|') as [string, string]);
  }

  test('a signal aborted while the task runs rejects with AbortError and aborts ctx.signal on whichever worker holds it', async () => {
    const pool = POOLS.running;
    const key = `test:${pool}`;
    await withPool({ pool, connection: env.redis.url, workers: 2 }, async (dp) => {
      const controllers = [new AbortController(), new AbortController()];
      const runs = controllers.map((c) => rejection(dp.run('hold', { key }, { signal: c.signal })));
      const on = await started(key, 2);
      assert.deepEqual(new Set(on.map(([, worker]) => worker)), new Set(['w1', 'w2']), 'one task on each worker process');
      const reason = new Error('changed my mind');
      for (const c of controllers) c.abort(reason);
      for (const err of await Promise.all(runs)) {
        assert.ok(err instanceof AbortError, `${err.name}: ${err.message}`);
        assert.equal(err.name, 'AbortError');
      }
      await waitFor(async () => (await env.client.llen(`${key}:aborted`)) === 2, 10_000, 'both workers to record the abort');
      assert.deepEqual((await env.client.lrange(`${key}:aborted`, 0, -1)).sort(), on.map(([taskId]) => `${taskId}:AbortError`).sort());
      assert.equal((await dp.usage()).failed, 2);
    });
  });

  test('a task aborted while it waits in BullMQ is removed: it never starts, and later tasks still run', async () => {
    const pool = POOLS.waiting;
    const key = `test:${pool}`;
    const id = `${pool}-aborted`;
    await withPool({ pool, connection: env.redis.url, workers: 1, queueSize: 2 }, async (dp) => {
      const first = dp.run<string>('hold', { key });
      await started(key, 1);
      const controller = new AbortController();
      const waiting = rejection(dp.run('count', { id }, { signal: controller.signal }));
      await waitFor(async () => (await jobsInQueue(env.client, pool)) === 2, 10_000, 'the second job to wait in BullMQ');
      controller.abort(new Error('not needed'));
      const err = await waiting;
      assert.ok(err instanceof AbortError, `${err.name}: ${err.message}`);
      assert.equal((err.cause as Error).message, 'not needed');
      assert.equal(await jobsInQueue(env.client, pool), 1, 'the waiting job was removed from BullMQ');
      const later = dp.run<string>('count', { id: `${pool}-later` });
      await env.client.set(`${key}:open`, '1');
      await first;
      assert.equal(await later, `${pool}-later`);
      assert.equal(await env.client.get(`test:count:${id}`), null, 'the aborted task never ran');
      assert.equal(await env.client.llen(`${key}:started`), 1);
    });
  });

  test('a task aborted while it waits for room, or with a signal aborted already, is never added', async () => {
    const pool = POOLS.blocked;
    const key = `test:${pool}`;
    await withPool({ pool, connection: env.redis.url, workers: 1, queueSize: 0 }, async (dp) => {
      const first = dp.run<string>('hold', { key });
      await started(key, 1);
      const controller = new AbortController();
      const blocked = rejection(dp.run('count', { id: `${pool}-blocked` }, { signal: controller.signal }));
      await waitFor(() => dp.blockedAdders === 1, 10_000, 'the run to wait for room');
      controller.abort();
      assert.ok((await blocked) instanceof AbortError);
      assert.equal(dp.blockedAdders, 0);
      const early = await rejection(dp.run('count', { id: `${pool}-early` }, { signal: AbortSignal.abort() }));
      assert.ok(early instanceof AbortError);
      const opt = await rejection(
        (async () => {
          await dp.addTask(
            dp
              .newTaskOptions()
              .setTask('count', { id: `${pool}-opt` })
              .setSignal(AbortSignal.abort()),
          );
        })(),
      );
      assert.ok(opt instanceof AbortError);
      await env.client.set(`${key}:open`, '1');
      await first;
      await dp.onIdle();
      assert.equal(await jobsAdded(env.client, pool), 1, 'only the first task was ever added');
      for (const id of ['blocked', 'early', 'opt']) assert.equal(await env.client.get(`test:count:${pool}-${id}`), null);
      assert.equal((await dp.usage()).rejected, 3);
    });
  });

  test('close({ force: true }) aborts ctx.signal of running tasks on the workers; every run() rejects with PoolClosedError', async () => {
    const pool = POOLS.force;
    const key = `test:${pool}`;
    await withPool({ pool, connection: env.redis.url, workers: 2, queueSize: 1 }, async (dp) => {
      const runs = [1, 2, 3].map(() => rejection(dp.run('hold', { key })));
      const on = await started(key, 2);
      await waitFor(async () => (await jobsInQueue(env.client, pool)) === 3, 10_000, 'the third job to wait in BullMQ');
      await dp.close({ force: true });
      assert.equal(dp.state, 'closed');
      for (const err of await Promise.all(runs)) assert.ok(err instanceof PoolClosedError, `${err.name}: ${err.message}`);
      await waitFor(async () => (await env.client.llen(`${key}:aborted`)) === 2, 10_000, 'both workers to record the abort');
      assert.deepEqual((await env.client.lrange(`${key}:aborted`, 0, -1)).sort(), on.map(([taskId]) => `${taskId}:PoolClosedError`).sort());
      assert.deepEqual(new Set(on.map(([, worker]) => worker)), new Set(['w1', 'w2']));
      await waitFor(async () => (await jobsInQueue(env.client, pool)) === 0, 10_000, 'BullMQ to hold no job of the pool');
      assert.equal(await env.client.llen(`${key}:started`), 2, 'the waiting task never started');
    });
  });
});
