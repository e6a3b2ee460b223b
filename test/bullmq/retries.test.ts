// Retries across processes (API.md 4.2): a policy becomes BullMQ attempts with litepool's backoff, retryIf is
// a code/name list or a predicate registered on the workers, onRetry runs on the producer, and errReload
// re-submits the task; ctx.attempt keeps counting and ctx.taskId stays the same throughout.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Redis } from 'ioredis';
import { LitePoolError } from '../../src/index.js';
import { rejection } from '../helpers.js';
import { distributedSuite, redisAvailable, withPool } from '../fixtures/redis-server.js';

const available = redisAvailable();

const POOLS = {
  listed: 'ret-listed',
  unlisted: 'ret-unlisted',
  predicate: 'ret-predicate',
  unknownPredicate: 'ret-unknown-predicate',
  endless: 'ret-endless',
  exhausted: 'ret-exhausted',
  errReload: 'ret-err-reload',
  errReloadPolicy: 'ret-err-reload-policy',
  errReloadFails: 'ret-err-reload-fails',
  options: 'ret-options',
} as const;

type Err = Error & { code?: string };

/** The runs the flaky handler logged under `key`: `[taskId, attempt, worker]`. */
async function runsOf(client: Redis, key: string): Promise<[string, number, string][]> {
  return (await client.lrange(`${key}:log`, 0, -1)).map((line) => {
    const [taskId, attempt, worker] = line.split('|');
    return [taskId as string, Number(attempt), worker as string];
  });
}

describe('retries across processes', { skip: !available }, () => {
  const env = distributedSuite({ pools: Object.values(POOLS) });

  test("retryIf: ['EFLAKY'] retries until the attempt that succeeds; onRetry, the 'retry' event and usage().retried count each retry", async () => {
    const pool = POOLS.listed;
    const key = `test:${pool}`;
    await withPool({ pool, connection: env.redis.url, workers: 2 }, async (dp) => {
      const seen: [string, number][] = [];
      const events: number[] = [];
      dp.on('retry', (_err, attempt) => events.push(attempt));
      const result = await dp.run<number>(
        'flaky',
        { until: 3, code: 'EFLAKY', key },
        { retry: { retries: 5, minDelay: 1, retryIf: ['EFLAKY'], onRetry: (err, attempt) => seen.push([(err as Err).code as string, attempt]) } },
      );
      assert.equal(result, 3);
      const runs = await runsOf(env.client, key);
      assert.deepEqual(
        runs.map(([, attempt]) => attempt),
        [1, 2, 3],
      );
      assert.equal(new Set(runs.map(([taskId]) => taskId)).size, 1, 'ctx.taskId is the same for every attempt');
      assert.ok((runs[0] as [string, number, string])[0].startsWith(`${dp.id}-`));
      assert.deepEqual(seen, [
        ['EFLAKY', 1],
        ['EFLAKY', 2],
      ]);
      assert.deepEqual(events, [1, 2]);
      const usage = await dp.usage();
      assert.equal(usage.retried, 2);
      assert.equal(usage.completed, 1);
      assert.equal(usage.failed, 0);
    });
  });

  test('a code not in the retryIf list is not retried: the first error is final', async () => {
    const pool = POOLS.unlisted;
    const key = `test:${pool}`;
    await withPool({ pool, connection: env.redis.url, workers: 2 }, async (dp) => {
      let retries = 0;
      const err = (await rejection(
        dp.run('flaky', { until: 3, code: 'EOTHER', key }, { retry: { retries: 5, minDelay: 1, retryIf: ['EFLAKY'], onRetry: () => retries++ } }),
      )) as Err;
      assert.equal(err.code, 'EOTHER');
      assert.equal(err.message, 'attempt 1 failed');
      assert.equal(retries, 0);
      assert.equal((await runsOf(env.client, key)).length, 1);
      assert.equal((await dp.usage()).retried, 0);
      assert.equal((await dp.usage()).failed, 1);
    });
  });

  test("retryIf: 'transient' uses the predicate registered on the workers", async () => {
    const pool = POOLS.predicate;
    const key = `test:${pool}`;
    await withPool({ pool, connection: env.redis.url, workers: 2 }, async (dp) => {
      assert.equal(await dp.run('flaky', { until: 3, code: 'ETRANSIENT', key: `${key}:yes` }, { retry: { retries: 5, minDelay: 1, retryIf: 'transient' } }), 3);
      assert.equal((await runsOf(env.client, `${key}:yes`)).length, 3);
      const err = (await rejection(dp.run('flaky', { until: 3, code: 'EPERM', key: `${key}:no` }, { retry: { retries: 5, minDelay: 1, retryIf: 'transient' } }))) as Err;
      assert.equal(err.code, 'EPERM');
      assert.equal((await runsOf(env.client, `${key}:no`)).length, 1, 'the predicate said no: not retried');
    });
  });

  test('an unknown predicate name fails the task with an error naming it (the task error as its cause)', async () => {
    const pool = POOLS.unknownPredicate;
    const key = `test:${pool}`;
    await withPool({ pool, connection: env.redis.url, workers: 2 }, async (dp) => {
      const err = await rejection(dp.run('flaky', { until: 3, code: 'EFLAKY', key }, { retry: { retries: 5, minDelay: 1, retryIf: 'noSuchPredicate' } }));
      assert.ok(err instanceof LitePoolError, `${err.name}: ${err.message}`);
      assert.match(err.message, /retryIf names a predicate "noSuchPredicate" that worker w[12]:\d does not have \(registered: transient\)/);
      assert.equal((err.cause as Err).code, 'EFLAKY');
      assert.equal((err.cause as Error).message, 'attempt 1 failed');
      assert.equal((await runsOf(env.client, key)).length, 1);
    });
  });

  test('retries: Infinity retries until the task succeeds', async () => {
    const pool = POOLS.endless;
    const key = `test:${pool}`;
    await withPool({ pool, connection: env.redis.url, workers: 2 }, async (dp) => {
      const attempts: number[] = [];
      assert.equal(await dp.run('flaky', { until: 5, code: 'EFLAKY', key }, { retry: { retries: Infinity, minDelay: 1, onRetry: (_e, a) => attempts.push(a) } }), 5);
      assert.deepEqual(attempts, [1, 2, 3, 4]);
      assert.deepEqual(
        (await runsOf(env.client, key)).map(([, a]) => a),
        [1, 2, 3, 4, 5],
      );
    });
  });

  test('when the retries run out the last error is final; without retryIf every failure is retried', async () => {
    const pool = POOLS.exhausted;
    const key = `test:${pool}`;
    await withPool({ pool, connection: env.redis.url, workers: 2 }, async (dp) => {
      const attempts: number[] = [];
      const err = (await rejection(dp.run('flaky', { until: 10, code: 'EANY', key }, { retry: { retries: 2, minDelay: 1, onRetry: (_e, a) => attempts.push(a) } }))) as Err;
      assert.equal(err.message, 'attempt 3 failed');
      assert.equal(err.code, 'EANY');
      assert.deepEqual(attempts, [1, 2]);
      assert.equal((await runsOf(env.client, key)).length, 3);
      assert.equal((await dp.usage()).retried, 2);
    });
  });

  test('errReload(n, after) from onError re-submits the task: after(null, result), not onSuccess; ctx.attempt counts on, ctx.taskId stays', async () => {
    const pool = POOLS.errReload;
    const key = `test:${pool}`;
    await withPool({ pool, connection: env.redis.url, workers: 2 }, async (dp) => {
      const log: string[] = [];
      const tg = dp.newTaskGroup(1);
      const opt = tg
        .newTaskOptions()
        .setTask('flaky', { until: 3, code: 'EFLAKY', key })
        .setOnSuccess(() => log.push('onSuccess'))
        .setOnError((handle, group, err) => {
          assert.equal(group, tg);
          log.push(`onError ${err.message}`);
          void handle.errReload(5, (last, result) => {
            log.push(`after ${String(last)} ${String(result)}`);
          });
        })
        .setOnComplete(() => log.push('onComplete'))
        .setAutoDone();
      await dp.addTask(opt);
      await tg.wait();
      assert.deepEqual(log, ['onError attempt 1 failed', 'after null 3', 'onComplete']);
      assert.equal(tg.count, 0, 'auto-done marked the group done once, when the re-run succeeded');
      const runs = await runsOf(env.client, key);
      assert.deepEqual(
        runs.map(([, a]) => a),
        [1, 2, 3],
      );
      assert.equal(new Set(runs.map(([taskId]) => taskId)).size, 1, 'ctx.taskId is the same across the re-runs');
      const usage = await dp.usage();
      assert.equal(usage.retried, 2);
      assert.equal(usage.completed, 1);
    });
  });

  test('errReload after a retry policy: each re-run keeps the policy, attempts count on across both, onRetry sees every retry', async () => {
    const pool = POOLS.errReloadPolicy;
    const key = `test:${pool}`;
    await withPool({ pool, connection: env.redis.url, workers: 2 }, async (dp) => {
      const retries: number[] = [];
      const log: string[] = [];
      const done = new Promise<void>((resolve) => {
        const opt = dp
          .newTaskOptions()
          .setTask('flaky', { until: 4, code: 'EFLAKY', key })
          .setRetry({ retries: 1, minDelay: 1, retryIf: ['EFLAKY'], onRetry: (_e, attempt) => retries.push(attempt) })
          .setOnError((handle, _group, err) => {
            log.push(`onError ${err.message}`);
            void handle.errReload(2, (last, result) => log.push(`after ${String(last)} ${String(result)}`));
          })
          .setOnComplete(() => resolve());
        void dp.addTask(opt);
      });
      await done;
      assert.deepEqual(log, ['onError attempt 2 failed', 'after null 4']);
      assert.deepEqual(retries, [1, 3]);
      const runs = await runsOf(env.client, key);
      assert.deepEqual(
        runs.map(([, a]) => a),
        [1, 2, 3, 4],
      );
      assert.equal(new Set(runs.map(([taskId]) => taskId)).size, 1);
    });
  });

  test('errReload that keeps failing gives after() the last error; the group is left to the handler', async () => {
    const pool = POOLS.errReloadFails;
    const key = `test:${pool}`;
    await withPool({ pool, connection: env.redis.url, workers: 2 }, async (dp) => {
      const tg = dp.newTaskGroup(1);
      let last: Error | null = null;
      await dp.addTask(
        tg
          .newTaskOptions()
          .setTask('flaky', { until: 10, code: 'EFLAKY', key })
          .setOnError((handle, group) =>
            handle.errReload(2, (err) => {
              last = err;
              group.done();
            }),
          )
          .setAutoDone(),
      );
      await tg.wait();
      assert.equal((last as Error | null)?.message, 'attempt 3 failed');
      assert.equal((last as Err | null)?.code, 'EFLAKY');
      assert.equal((await runsOf(env.client, key)).length, 3);
      assert.equal((await dp.usage()).failed, 1);
    });
  });

  test('a retryIf function is refused: it cannot travel to the workers', async () => {
    await withPool({ pool: POOLS.options, connection: env.redis.url }, async (dp) => {
      const err = await rejection(dp.run('add', { a: 1, b: 1 }, { retry: { retries: 1, retryIf: () => true } }));
      assert.ok(err instanceof TypeError);
      assert.match(err.message, /run\(\) options\.retry\.retryIf: a function cannot travel to the workers/);
      assert.equal((await dp.usage()).completed, 0);
    });
  });
});
