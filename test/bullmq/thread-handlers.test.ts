// CPU-heavy handlers on threads (issue #12's optional part, and the advice of README and RELIABILITY): a
// handler that hands its work to a ThreadPool in the worker process keeps that process's event loop free
// (other tasks, lock renewals and heartbeats go on), and the task's ctx.signal reaches the thread: a timeout
// or a cancellation from the producer ends the work there.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { DistributedPool } from '../../src/bullmq/index.js';
import { AbortError, TaskTimeoutError } from '../../src/index.js';
import { rejection } from '../helpers.js';
import { distributedSuite, redisAvailable, waitFor, withPool } from '../fixtures/redis-server.js';

const available = redisAvailable();

const POOLS = { free: 'thr-free', timeout: 'thr-timeout', abort: 'thr-abort' } as const;

describe('handlers on threads', { skip: !available }, () => {
  // One worker process, so that the quick task surely shares it with the CPU-heavy one.
  const env = distributedSuite({ pools: Object.values(POOLS), workers: ['w1'], workerOptions: { concurrency: 2 } });

  /**
   * The handler's runTask settled (the thread pool reports an aborted signal as an AbortError, as it does
   * in-process), and, the worker having one thread, a next heavy task runs: the spin's thread really ended.
   */
  async function assertThreadStopped(dp: DistributedPool, key: string): Promise<void> {
    const [aborted] = await waitFor(async () => {
      const list = await env.client.lrange(`${key}:aborted`, 0, -1);
      return list.length > 0 ? list : undefined;
    }, 10_000, 'the handler to see its thread stopped');
    assert.match(aborted as string, /:AbortError$/);
    assert.equal(typeof (await dp.run('spinOnThread', { ms: 50, key: `${key}:next` }, { timeout: 10_000 })), 'number');
  }

  test('a task spinning on a thread leaves its worker process free: a quick task on the same process runs meanwhile', async () => {
    const pool = POOLS.free;
    const key = `test:${pool}`;
    await withPool({ pool, connection: env.redis.url, workers: 2 }, async (dp) => {
      const controller = new AbortController();
      let heavySettled = false;
      const heavy = rejection(dp.run('spinOnThread', { ms: 120_000, key }, { signal: controller.signal })).finally(() => {
        heavySettled = true;
      });
      await waitFor(async () => (await env.client.llen(`${key}:started`)) === 1, 10_000, 'the heavy task to start');
      // Were the spin on the process's own event loop, this task could not even be picked up before it ended.
      assert.deepEqual(await dp.run('echo', { quick: true }), { quick: true });
      assert.equal(heavySettled, false, 'the heavy task still runs');
      assert.equal(await env.client.get(`${key}:running`), '1');
      controller.abort();
      assert.ok((await heavy) instanceof AbortError);
    });
  });

  test('a timeout ends the work on the thread: TaskTimeoutError at the producer, the handler sees its thread stopped', async () => {
    const pool = POOLS.timeout;
    const key = `test:${pool}`;
    await withPool({ pool, connection: env.redis.url, workers: 2 }, async (dp) => {
      const err = await rejection(dp.run('spinOnThread', { ms: 120_000, key }, { timeout: 300 }));
      assert.ok(err instanceof TaskTimeoutError, `${err.name}: ${err.message}`);
      await assertThreadStopped(dp, key);
    });
  });

  test("the producer's abort reaches the thread", async () => {
    const pool = POOLS.abort;
    const key = `test:${pool}`;
    await withPool({ pool, connection: env.redis.url, workers: 2 }, async (dp) => {
      const controller = new AbortController();
      const running = rejection(dp.run('spinOnThread', { ms: 120_000, key }, { signal: controller.signal }));
      await waitFor(async () => (await env.client.llen(`${key}:started`)) === 1, 10_000, 'the task to start');
      controller.abort();
      assert.ok((await running) instanceof AbortError);
      await assertThreadStopped(dp, key);
    });
  });
});
