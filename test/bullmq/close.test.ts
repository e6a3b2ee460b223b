// Close (API.md 2.6, 4.1): a graceful close waits for running tasks and refuses new ones; close() is
// idempotent; close({ timeout }) turns forced; a closed pool leaves nothing of its own in Redis;
// Symbol.asyncDispose closes; a worker's graceful close waits for its running task.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DistributedPool } from '../../src/bullmq/index.js';
import { PoolClosedError, TaskTimeoutError } from '../../src/index.js';
import { rejection } from '../helpers.js';
import { distributedSuite, jobsInQueue, leasesHeld, redisAvailable, scanKeys, waitFor, withPool, WorkerProcess } from '../fixtures/redis-server.js';

const available = redisAvailable();

const POOLS = {
  graceful: 'close-graceful',
  idempotent: 'close-idempotent',
  timeout: 'close-timeout',
  dispose: 'close-dispose',
  forced: 'close-forced',
} as const;

describe('closing a DistributedPool and its workers', { skip: !available }, () => {
  const env = distributedSuite({ pools: Object.values(POOLS) });
  const started = (key: string, n: number) => waitFor(async () => (await env.client.llen(`${key}:started`)) >= n, 10_000, `${n} tasks to start under ${key}`);

  test('a graceful close waits for running tasks, refuses new ones and rejects callers still waiting for room', async () => {
    const pool = POOLS.graceful;
    const key = `test:${pool}`;
    await withPool({ pool, connection: env.redis.url, workers: 1, queueSize: 0 }, async (dp) => {
      const order: string[] = [];
      const held = dp.run<string>('hold', { key }).then((id) => {
        order.push('result');
        return id;
      });
      await started(key, 1);
      const blocked = rejection(dp.run('count', { id: `${pool}-blocked` }));
      await waitFor(() => dp.blockedAdders === 1, 10_000, 'a run to wait for room');
      const closing = dp.close().then(() => order.push('closed'));
      assert.equal(dp.state, 'closing');
      assert.ok((await blocked) instanceof PoolClosedError, 'a caller waiting for room is refused');
      assert.ok((await rejection(dp.run('add', { a: 1, b: 1 }))) instanceof PoolClosedError);
      assert.ok((await rejection((async () => dp.addTask(dp.newTaskOptions().setTask('add', { a: 1, b: 1 })))())) instanceof PoolClosedError);
      assert.equal(await dp.tryRun('add', { a: 1, b: 1 }), undefined);
      await env.client.set(`${key}:open`, '1');
      const [id] = await Promise.all([held, closing]);
      assert.deepEqual(order, ['result', 'closed'], 'close resolved after the running task finished');
      assert.equal(id, (await env.client.lrange(`${key}:started`, 0, -1))[0]);
      assert.equal(dp.state, 'closed');
      assert.equal(await env.client.llen(`${key}:aborted`), 0, 'the running task was not aborted');
      assert.equal(await env.client.get(`test:count:${pool}-blocked`), null);
    });
  });

  test('close() is idempotent: every call returns the same promise, also after it resolved, also with force', async () => {
    const dp = new DistributedPool({ pool: POOLS.idempotent, connection: env.redis.url, workers: 2 });
    assert.equal(await dp.run('add', { a: 2, b: 2 }), 4);
    const first = dp.close();
    assert.equal(dp.close(), first);
    await first;
    assert.equal(dp.state, 'closed');
    assert.equal(dp.close(), first);
    await dp.close({ force: true });
    await dp.close({ timeout: 10 });
    assert.equal(dp.state, 'closed');
  });

  test('close({ timeout }) is graceful until the timeout, then forced: running tasks are aborted on their workers', async () => {
    const pool = POOLS.timeout;
    const key = `test:${pool}`;
    await withPool({ pool, connection: env.redis.url, workers: 2 }, async (dp) => {
      const quick = dp.run('hold', { key: `${key}:quick`, value: 'quick' });
      const held = rejection(dp.run('hold', { key }));
      await Promise.all([started(key, 1), started(`${key}:quick`, 1)]);
      const closed = dp.close({ timeout: 1500 });
      // Within the graceful part, a task that finishes has its result.
      await env.client.set(`${key}:quick:open`, '1');
      assert.equal(await quick, 'quick');
      await closed;
      const err = await held;
      assert.ok(err instanceof PoolClosedError, `${err.name}: ${err.message}`);
      await waitFor(async () => (await env.client.llen(`${key}:aborted`)) === 1, 10_000, 'the worker to record the abort');
      assert.match((await env.client.lrange(`${key}:aborted`, 0, -1))[0] as string, /:PoolClosedError$/);
    });
  });

  test('Symbol.asyncDispose closes the pool: await using', async () => {
    let kept: DistributedPool | undefined;
    {
      await using dp = new DistributedPool({ pool: POOLS.dispose, connection: env.redis.url, workers: 2 });
      kept = dp;
      assert.equal(await dp.run('add', { a: 1, b: 2 }), 3);
      assert.equal(dp.state, 'open');
    }
    assert.equal(kept.state, 'closed');
    assert.equal(await leasesHeld(env.client, POOLS.dispose), 0);
    assert.equal(await env.client.zscore(`bull:${POOLS.dispose}:lp:producers`, kept.id), null);
  });

  test('once its producers and workers have closed, a pool leaves no key of its own under bull:<pool>:lp:', async () => {
    const pool = 'close-keys';
    const key = `test:${pool}`;
    const own = await Promise.all([WorkerProcess.start(env.redis.url, pool, 'k1'), WorkerProcess.start(env.redis.url, pool, 'k2')]);
    try {
      const a = new DistributedPool({ pool, connection: env.redis.url, workers: 2, queueSize: 1 });
      const b = new DistributedPool({ pool, connection: env.redis.url, workers: 2, queueSize: 1 });
      try {
        // A bit of everything: results, failures, retries, a timeout, a group with errReload, a cancelled
        // task, tasks waiting for room on both producers, a tryRun.
        const controller = new AbortController();
        const tg = a.newTaskGroup(1);
        const work = [
          ...Array.from({ length: 6 }, (_, i) => a.run('add', { a: i, b: i })),
          ...Array.from({ length: 6 }, (_, i) => b.run('add', { a: i, b: 0 })),
          a.run('flaky', { until: 2, code: 'EFLAKY' }, { retry: { retries: 2, minDelay: 1 } }),
          rejection(b.run('slow', { ms: 5000, key }, { timeout: 50 })).then((err) => assert.ok(err instanceof TaskTimeoutError)),
          rejection(b.run('hold', { key: `${key}:cancel` }, { signal: controller.signal })),
          a.addTask(
            tg
              .newTaskOptions()
              .setTask('check', { fail: true })
              .setOnError((h, g) => h.errReload(1, () => g.done())),
          ),
          a.tryRun('add', { a: 0, b: 0 }),
        ];
        await started(`${key}:cancel`, 1);
        controller.abort();
        await Promise.all(work);
        await tg.wait();
        const live = await scanKeys(env.client, `bull:${pool}:lp:*`);
        assert.ok(live.length > 0, 'while the pool is in use it has keys');
      } finally {
        await Promise.all([a.close(), b.close()]);
      }
      assert.deepEqual(
        (await scanKeys(env.client, `bull:${pool}:lp:*`)).filter((k) => !/^bull:close-keys:lp:(workers|w:k[12])$/.test(k)),
        [],
        "with its producers closed, only the live workers' keys remain",
      );
    } finally {
      await Promise.all(own.map((w) => w.close()));
    }
    assert.deepEqual(await scanKeys(env.client, `bull:${pool}:lp:*`), [], 'nothing left under lp:');
  });

  // Regression (found by this suite): the workers' outcomes of the tasks a forced close aborted arrived after
  // close() had deleted the producer's stream, and lpNotify re-created it with a 24 h TTL.
  test(
    'a producer closed with force leaves no outcome stream behind, though its workers report the aborted tasks after it closed',
    async () => {
      const pool = POOLS.forced;
      const key = `test:${pool}`;
      const forced = new DistributedPool({ pool, connection: env.redis.url, workers: 2 });
      try {
        const running = [1, 2].map(() => rejection(forced.run('hold', { key })));
        await started(key, 2);
        await forced.close({ force: true });
        for (const err of await Promise.all(running)) assert.ok(err instanceof PoolClosedError);
        // The workers have sent their outcomes once BullMQ has finished the jobs.
        await waitFor(async () => (await jobsInQueue(env.client, pool)) === 0, 10_000, 'the workers to finish the aborted jobs');
        assert.equal(await env.client.llen(`${key}:aborted`), 2);
        assert.deepEqual(await scanKeys(env.client, `bull:${pool}:lp:done:*`), []);
      } finally {
        await forced.close();
      }
    },
  );

  test("a worker's graceful close waits for its running task, which completes", async () => {
    const pool = 'close-worker';
    const key = `test:${pool}`;
    const worker = await WorkerProcess.start(env.redis.url, pool, 'c1', { concurrency: 1 });
    const dp = new DistributedPool({ pool, connection: env.redis.url, workers: 1 });
    try {
      const result = dp.run<string>('hold', { key });
      await started(key, 1);
      const exited = worker.close();
      await worker.closing;
      await env.client.set(`${key}:open`, '1');
      assert.equal(await result, (await env.client.lrange(`${key}:started`, 0, -1))[0], 'the task completed with its result');
      assert.equal(await exited, 0);
      assert.equal(await env.client.llen(`${key}:aborted`), 0, 'it was not aborted');
      assert.equal(await env.client.get(`${key}:running`), '0');
      assert.deepEqual((await dp.usage()).workers, [], 'the closed worker left the pool');
    } finally {
      await dp.close();
      await worker.close();
    }
  });
});
