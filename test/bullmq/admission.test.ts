// Bounded admission across producers (API.md 4.2): at most workers × (1 + queueSize) tasks admitted and not
// finished for all producers of a pool together; `workers` caps the task functions running at once across
// worker processes; add timeouts, tryRun and run() waiting for room.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DistributedPool } from '../../src/bullmq/index.js';
import { AddTimeoutError } from '../../src/index.js';
import { rejection } from '../helpers.js';
import { distributedSuite, jobsAdded, jobsInQueue, leasesHeld, redisAvailable, waitFor, withPool } from '../fixtures/redis-server.js';

const available = redisAvailable();

const POOLS = {
  capacity: 'adm-capacity',
  addTimeout: 'adm-add-timeout',
  crossTimeout: 'adm-cross-timeout',
  tryRun: 'adm-try-run',
  waits: 'adm-waits',
} as const;

describe('bounded admission across producers', { skip: !available }, () => {
  const env = distributedSuite({ pools: Object.values(POOLS), workerOptions: { concurrency: 2 } });

  test('two producers never hold more than the capacity; workers caps running task functions; every task completes', async () => {
    const pool = POOLS.capacity;
    const key = `test:${pool}`;
    const a = new DistributedPool({ pool, connection: env.redis.url, workers: 2, queueSize: 1 });
    const b = new DistributedPool({ pool, connection: env.redis.url, workers: 2, queueSize: 1 });
    try {
      assert.equal(a.capacity, 4);
      await Promise.all([a.ready(), b.ready()]);
      let sampling = true;
      let maxLeases = 0;
      let maxJobs = 0;
      let samples = 0;
      const sampler = (async () => {
        while (sampling) {
          const [leases, jobs] = await Promise.all([leasesHeld(env.client, pool), jobsInQueue(env.client, pool)]);
          maxLeases = Math.max(maxLeases, leases);
          maxJobs = Math.max(maxJobs, jobs);
          samples++;
          await new Promise((r) => setTimeout(r, 1));
        }
      })();
      const runs = [a, b].flatMap((dp) => Array.from({ length: 12 }, () => dp.run<string>('slow', { ms: 60, key })));
      const ids = await Promise.all(runs);
      sampling = false;
      await sampler;
      assert.equal(new Set(ids).size, 24, 'every task completed, each once');
      assert.equal(await env.client.llen(`${key}:started`), 24);
      assert.ok(samples > 10, `the sampler ran (${samples} samples)`);
      assert.ok(maxLeases <= 4, `leases held across producers never above the capacity 4 (max ${maxLeases})`);
      assert.ok(maxLeases >= 2, `both producers' tasks were admitted (max leases ${maxLeases})`);
      // A job whose outcome has reached its producer may still be active in BullMQ for a moment: the bound
      // that holds today is the capacity plus the jobs finishing (at most `workers`, BullMQ's active cap).
      assert.ok(maxJobs <= 4 + 2, `BullMQ's unfinished jobs never above the capacity 4 plus 2 finishing (max ${maxJobs})`);
      const maxRunning = Number(await env.client.get(`${key}:max`));
      assert.ok(maxRunning >= 1 && maxRunning <= 2, `at most workers = 2 task functions at once across 2 processes (max ${maxRunning})`);
      assert.equal(await jobsAdded(env.client, pool), 24);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  test('setAddTimeout on a full pool rejects with AddTimeoutError (onAddTimeout, auto-done) and the task never runs', async () => {
    const pool = POOLS.addTimeout;
    const key = `test:${pool}`;
    const id = `${pool}-refused`;
    await withPool({ pool, connection: env.redis.url, workers: 1, queueSize: 0 }, async (dp) => {
      const held = dp.run<string>('hold', { key });
      await waitFor(async () => (await env.client.llen(`${key}:started`)) === 1, 10_000, 'the first task to start');
      assert.equal(await jobsAdded(env.client, pool), 1);
      let onAddTimeout = 0;
      const tg = dp.newTaskGroup(1);
      const opt = tg
        .newTaskOptions()
        .setTask('count', { id })
        .setAddTimeout(50)
        .setOnAddTimeout(() => onAddTimeout++)
        .setAutoDone();
      const err = await rejection(dp.addTask(opt));
      assert.ok(err instanceof AddTimeoutError, `${err.name}: ${err.message}`);
      assert.equal((err as AddTimeoutError).timeout, 50);
      assert.equal(onAddTimeout, 1);
      assert.equal(tg.count, 0, 'auto-done marked the group done');
      await tg.wait();
      assert.equal((await dp.usage()).rejected, 1);
      await env.client.set(`${key}:open`, '1');
      await held;
      // Room again: a later task runs, and the refused one is not replayed before or with it.
      assert.equal(await dp.run('count', { id: `${pool}-later` }), `${pool}-later`);
      await dp.onIdle();
      assert.equal(await env.client.get(`test:count:${pool}-later`), '1');
      assert.equal(await env.client.get(`test:count:${id}`), null, 'the refused task never ran');
      assert.equal(await jobsAdded(env.client, pool), 2, 'the refused task was never added to BullMQ');
    });
  });

  test('a producer whose pool is full because of another producer times out; it gets room once the other is done', async () => {
    const pool = POOLS.crossTimeout;
    const key = `test:${pool}`;
    const id = `${pool}-refused`;
    const a = new DistributedPool({ pool, connection: env.redis.url, workers: 1, queueSize: 0 });
    const b = new DistributedPool({ pool, connection: env.redis.url, workers: 1, queueSize: 0 });
    try {
      const held = a.run<string>('hold', { key });
      await waitFor(async () => (await env.client.llen(`${key}:started`)) === 1, 10_000, 'the first task to start');
      const err = await rejection(b.addTask(b.newTaskOptions().setTask('count', { id }).setAddTimeout(100)));
      assert.ok(err instanceof AddTimeoutError, `${err.name}: ${err.message}`);
      // run() on B waits for room, however long it takes: A's task holds the whole capacity.
      const waiting = b.run<string>('count', { id: `${pool}-waited` });
      await waitFor(() => b.blockedAdders === 1, 10_000, 'B to wait for room');
      assert.equal(await env.client.get(`test:count:${pool}-waited`), null);
      await env.client.set(`${key}:open`, '1');
      assert.equal(await waiting, `${pool}-waited`);
      assert.equal(typeof (await held), 'string');
      await Promise.all([a.onIdle(), b.onIdle()]);
      assert.equal(await env.client.get(`test:count:${id}`), null, 'the refused task never ran');
      assert.equal(await jobsAdded(env.client, pool), 2);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  test('tryRun resolves undefined (and runs nothing) when the pool is full across producers, the result when there is room', async () => {
    const pool = POOLS.tryRun;
    const key = `test:${pool}`;
    const a = new DistributedPool({ pool, connection: env.redis.url, workers: 1, queueSize: 0 });
    const b = new DistributedPool({ pool, connection: env.redis.url, workers: 1, queueSize: 0 });
    try {
      const held = a.run<string>('hold', { key });
      await waitFor(async () => (await env.client.llen(`${key}:started`)) === 1, 10_000, 'the first task to start');
      assert.equal(await a.tryRun('count', { id: `${pool}-a` }), undefined);
      assert.equal(await b.tryRun('count', { id: `${pool}-b` }), undefined);
      await env.client.set(`${key}:open`, '1');
      await held;
      assert.equal(await a.tryRun('add', { a: 1, b: 2 }), 3);
      // B gets room once A has given its lease back.
      await waitFor(async () => (await leasesHeld(env.client, pool)) === 0, 10_000, "A's lease to go back");
      assert.equal(await b.tryRun('add', { a: 2, b: 2 }), 4);
      await Promise.all([a.onIdle(), b.onIdle()]);
      assert.equal(await env.client.get(`test:count:${pool}-a`), null);
      assert.equal(await env.client.get(`test:count:${pool}-b`), null);
      assert.equal(await jobsAdded(env.client, pool), 3);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  test('run() waits for room, then runs, FIFO per producer', async () => {
    const pool = POOLS.waits;
    const key = `test:${pool}`;
    await withPool({ pool, connection: env.redis.url, workers: 1, queueSize: 0 }, async (dp) => {
      const held = dp.run<string>('hold', { key });
      await waitFor(async () => (await env.client.llen(`${key}:started`)) === 1, 10_000, 'the first task to start');
      const order: string[] = [];
      const waiting = ['x', 'y', 'z'].map((id) => dp.run<string>('count', { id: `${pool}-${id}` }).then((r) => order.push(r)));
      await waitFor(() => dp.blockedAdders === 3, 10_000, 'three runs to wait for room');
      assert.equal((await dp.usage()).blocked, 3);
      assert.equal(await env.client.get(`test:count:${pool}-x`), null, 'nothing runs while the pool is full');
      await env.client.set(`${key}:open`, '1');
      await Promise.all([held, ...waiting]);
      assert.deepEqual(order, [`${pool}-x`, `${pool}-y`, `${pool}-z`]);
      for (const id of ['x', 'y', 'z']) assert.equal(await env.client.get(`test:count:${pool}-${id}`), '1');
    });
  });
});
