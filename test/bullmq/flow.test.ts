// The pool-wide rate across processes (API.md 5): held in Redis and counted on Redis's clock, so that in any
// span of `interval` ms at most `limit` attempts start on all workers together; setRate() at run time;
// pauseFor() from the producer and from a handler (HTTP 429); keys per producer.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { distributedSuite, redisAvailable, waitFor, withPool } from '../fixtures/redis-server.js';

const available = redisAvailable();

const POOLS = { rate: 'flow-rate', set: 'flow-set', pause: 'flow-pause', keys: 'flow-keys' } as const;

type Stamp = { at: number; worker: string; attempt: number };

/** In every span of `interval` ms at most `limit` of `starts`. */
function assertWindows(starts: readonly number[], limit: number, interval: number): void {
  const sorted = [...starts].sort((a, b) => a - b);
  for (let i = 0; i + limit < sorted.length; i++) {
    const gap = (sorted[i + limit] as number) - (sorted[i] as number);
    assert.ok(gap >= interval - 1e-3, `${limit + 1} starts within ${gap} ms (limit ${limit} per ${interval} ms)`);
  }
}

describe('flow control across processes', { skip: !available }, () => {
  const env = distributedSuite({ pools: Object.values(POOLS), workerOptions: { concurrency: 4 } });

  test('rate: in every span of the window at most its limit of starts, on both workers together', async () => {
    await withPool({ pool: POOLS.rate, connection: env.redis.url, workers: 8, rate: { limit: 4, interval: 200 } }, async (dp) => {
      const stamps = await Promise.all(Array.from({ length: 20 }, () => dp.run<Stamp>('stamp', null)));
      assert.equal(new Set(stamps.map((s) => s.worker)).size, 2, 'both workers ran tasks');
      assertWindows(
        stamps.map((s) => s.at),
        4,
        200,
      );
      const sorted = stamps.map((s) => s.at).sort((a, b) => a - b);
      const span = (sorted[19] as number) - (sorted[0] as number);
      assert.ok(span >= 800 - 1e-3 && span < 10_000, `20 starts at 4 per 200 ms took ${span} ms`);
    });
  });

  test('setRate: a looser rate reaches the workers at once; [] removes it', async () => {
    await withPool({ pool: POOLS.set, connection: env.redis.url, workers: 4, rate: { limit: 1, interval: 60_000 } }, async (dp) => {
      const first = await dp.run<Stamp>('stamp', null);
      const rest = Array.from({ length: 3 }, () => dp.run<Stamp>('stamp', null));
      await dp.setRate({ limit: 100, interval: 1_000 });
      const stamps = await Promise.all(rest);
      assert.ok(stamps.every((s) => s.at - first.at < 30_000), 'they did not wait for the old minute');
      await dp.setRate([]);
      await Promise.all(Array.from({ length: 10 }, () => dp.run('echo', 1)));
    });
  });

  test('pauseFor: from the producer, and from a handler that got a 429; the retry starts after the pause', async () => {
    await withPool({ pool: POOLS.pause, connection: env.redis.url, workers: 4 }, async (dp) => {
      const before = await dp.run<Stamp>('stamp', null);
      await dp.pauseFor(300);
      const held = await dp.run<Stamp>('stamp', null);
      assert.ok(held.at - before.at >= 300 - 5, `started ${held.at - before.at} ms after pauseFor(300)`);

      const t0 = (await dp.run<Stamp>('stamp', null)).at;
      const retried = await dp.run<{ at: number; attempt: number }>('tooMany', { ms: 400 }, { retry: { retries: 1, minDelay: 0, maxDelay: 0 } });
      assert.equal(retried.attempt, 2);
      assert.ok(retried.at - t0 >= 400 - 5, `retried ${retried.at - t0} ms after the 429`);
    });
  });

  test('keys: per producer, at most keys.workers tasks of one key in flight', async () => {
    await withPool({ pool: POOLS.keys, connection: env.redis.url, workers: 8, keys: { workers: 1 } }, async (dp) => {
      const key = `test:${POOLS.keys}`;
      const held = Array.from({ length: 3 }, () => dp.run('hold', { key }, { key: 'a' }));
      const other = await dp.run<Stamp>('stamp', null, { key: 'b' });
      assert.equal(other.attempt, 1, 'key b is not held back by key a');
      const usage = await waitFor(
        async () => {
          const u = await dp.usage();
          return u.keys?.[0]?.running === 1 ? u : undefined;
        },
        10_000,
        'one task of key a in flight',
      );
      assert.deepEqual(usage.keys, [{ key: 'a', running: 1, waiting: 0 }]);
      assert.equal(usage.blocked, 2, 'the other two wait for their key before admission (no lease is taken for them)');
      await env.client.set(`${key}:open`, '1');
      await Promise.all(held);
      assert.deepEqual((await dp.usage()).keys, []);
      await assert.rejects(dp.run('stamp', null, { key: 3 as never }), /options\.key must be a string, received 3/);
    });
  });
});
