// Per-attempt timeout across processes (API.md 2.3, 4.2): the attempt fails with TaskTimeoutError at the
// deadline, and ctx.signal aborts on the worker that holds it; a timed-out attempt may be retried.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TaskTimeoutError } from '../../src/index.js';
import { rejection } from '../helpers.js';
import { distributedSuite, redisAvailable, waitFor, withPool } from '../fixtures/redis-server.js';

const available = redisAvailable();

const POOLS = {
  run: 'tmo-run',
  options: 'tmo-options',
  retried: 'tmo-retried',
  stubborn: 'tmo-stubborn',
} as const;

describe('per-attempt timeout across processes', { skip: !available }, () => {
  const env = distributedSuite({ pools: Object.values(POOLS) });

  test('run(..., { timeout }) rejects with TaskTimeoutError and aborts ctx.signal on the worker', async () => {
    const pool = POOLS.run;
    const key = `test:${pool}`;
    await withPool({ pool, connection: env.redis.url, workers: 2 }, async (dp) => {
      const err = await rejection(dp.run('slow', { ms: 5000, key }, { timeout: 100 }));
      assert.ok(err instanceof TaskTimeoutError, `${err.name}: ${err.message}`);
      assert.equal(err.timeout, 100);
      const [taskId] = await env.client.lrange(`${key}:started`, 0, -1);
      await waitFor(async () => (await env.client.llen(`${key}:aborted`)) === 1, 10_000, 'the worker to record the abort');
      assert.deepEqual(await env.client.lrange(`${key}:aborted`, 0, -1), [`${taskId}:TaskTimeoutError`]);
      assert.equal((await dp.usage()).failed, 1);
    });
  });

  test('setTimeout(ms) on TaskOptions: onError gets the TaskTimeoutError, then onComplete', async () => {
    const pool = POOLS.options;
    const key = `test:${pool}`;
    await withPool({ pool, connection: env.redis.url, workers: 2 }, async (dp) => {
      const log: string[] = [];
      const tg = dp.newTaskGroup(1);
      await dp.addTask(
        tg
          .newTaskOptions()
          .setTask('slow', { ms: 5000, key })
          .setTimeout(100)
          .setOnSuccess(() => log.push('onSuccess'))
          .setOnError((_h, group, err) => {
            log.push(`onError ${err.name} ${(err as TaskTimeoutError).timeout}`);
            group.done();
          })
          .setOnComplete(() => log.push('onComplete')),
      );
      await tg.wait();
      assert.deepEqual(log, ['onError TaskTimeoutError 100', 'onComplete']);
      await waitFor(async () => (await env.client.llen(`${key}:aborted`)) === 1, 10_000, 'the worker to record the abort');
    });
  });

  test('a timed-out attempt is retried when the policy says so; each attempt has its own deadline and its signal aborts', async () => {
    const pool = POOLS.retried;
    const key = `test:${pool}`;
    await withPool({ pool, connection: env.redis.url, workers: 2 }, async (dp) => {
      const retried: string[] = [];
      const err = await rejection(
        dp.run('slow', { ms: 5000, key }, { timeout: 100, retry: { retries: 1, minDelay: 1, retryIf: ['TaskTimeoutError'], onRetry: (e, a) => retried.push(`${e.name} ${a}`) } }),
      );
      assert.ok(err instanceof TaskTimeoutError, `${err.name}: ${err.message}`);
      assert.deepEqual(retried, ['TaskTimeoutError 1']);
      const started = await env.client.lrange(`${key}:started`, 0, -1);
      assert.equal(started.length, 2);
      assert.equal(new Set(started).size, 1, 'both attempts are the same task');
      await waitFor(async () => (await env.client.llen(`${key}:aborted`)) === 2, 10_000, 'both attempts to record their abort');
    });
  });

  // Regression (found by this suite): the job ended at the timeout while the handler still ran, so BullMQ
  // started the next job and workers: 1 ran two functions at once.
  test(
    'a handler that ignores its signal past the timeout still counts against workers (never more than workers task functions at once)',
    async () => {
      const pool = POOLS.stubborn;
      const key = `test:${pool}`;
      await withPool({ pool, connection: env.redis.url, workers: 1 }, async (dp) => {
        const outcomes = await Promise.allSettled([1, 2].map(() => dp.run('stubborn', { ms: 600, key }, { timeout: 50 })));
        assert.ok(outcomes.every((o) => o.status === 'rejected' && o.reason instanceof TaskTimeoutError));
        await waitFor(async () => (await env.client.get(`${key}:running`)) === '0', 10_000, 'both handlers to return');
        assert.equal(await env.client.get(`${key}:max`), '1', 'at most workers = 1 handler running at once');
      });
    },
  );
});
