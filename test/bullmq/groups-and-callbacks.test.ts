// The Go-style vocabulary on a DistributedPool (API.md 2.2, 2.4, 2.5, 4.1): groups, callbacks in their
// in-process order on the producer, auto-done counting each task once, refusals of what cannot travel, and
// map / mapIterable.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DistributedPool } from '../../src/bullmq/index.js';
import { AbortError, LitePool, TaskGroupError } from '../../src/index.js';
import { rejection } from '../helpers.js';
import { distributedSuite, jobsAdded, jobsInQueue, redisAvailable, waitFor, within, withPool } from '../fixtures/redis-server.js';

const available = redisAvailable();

const POOLS = {
  order: 'grp-order',
  once: 'grp-once',
  refusals: 'grp-refusals',
  other: 'grp-other',
  gang: 'grp-gang',
  map: 'grp-map',
  failFast: 'grp-fail-fast',
  iterable: 'grp-iterable',
} as const;

/** The error `submit` throws or rejects with. */
async function refusal(submit: () => unknown): Promise<Error> {
  try {
    await submit();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a refusal, but it was accepted');
}

describe('groups, callbacks and map on a DistributedPool', { skip: !available }, () => {
  const env = distributedSuite({ pools: Object.values(POOLS) });

  test('callbacks run on the producer in the in-process order; tg.wait() resolves once every callback has returned', async () => {
    await withPool({ pool: POOLS.order, connection: env.redis.url, workers: 2, queueSize: 2 }, async (dp) => {
      const log: string[] = [];
      const n = 8;
      const tg = dp.newTaskGroup(n);
      for (let i = 0; i < n; i++) {
        const fails = i % 3 === 0;
        const opt = tg.newTaskOptions();
        if (fails) opt.setTask('check', { value: i, fail: true });
        else opt.setTask('add', { a: i, b: 100 });
        opt
          .setOnSuccess(async (result) => {
            await new Promise((r) => setImmediate(r));
            log.push(`${i} onSuccess ${String(result)}`);
          })
          .setOnComplete(() => log.push(`${i} onComplete`))
          .setAutoDone();
        // Half of the failing tasks own their failure path (onError marks the group done); for the others
        // auto-done does it, as nobody else could.
        if (fails && i % 2 === 0)
          opt.setOnError((_handle, group, err) => {
            log.push(`${i} onError ${(err as Error & { code?: string }).code}`);
            group.done();
          });
        await dp.addTask(opt);
      }
      await tg.wait();
      assert.equal(tg.count, 0);
      // Two callbacks per task, but one for the failing tasks without onError (i = 3).
      assert.equal(log.length, 2 * n - 1, 'every callback has returned when wait() resolves');
      for (let i = 0; i < n; i++) {
        const mine = log.filter((line) => line.startsWith(`${i} `));
        if (i % 3 !== 0) assert.deepEqual(mine, [`${i} onSuccess ${i + 100}`, `${i} onComplete`]);
        else if (i % 2 === 0) assert.deepEqual(mine, [`${i} onError ECHECK`, `${i} onComplete`]);
        else assert.deepEqual(mine, [`${i} onComplete`]);
      }
      const usage = await dp.usage();
      assert.equal(usage.completed, 5);
      assert.equal(usage.failed, 3);
      assert.equal(usage.callbackErrors, 0);
    });
  });

  test('the interface forms call their objects with the object as this', async () => {
    await withPool({ pool: POOLS.order, connection: env.redis.url, workers: 2 }, async (dp) => {
      const log: string[] = [];
      const handler = {
        name: 'h',
        onSuccess(this: { name: string }, result: unknown) {
          log.push(`${this.name} onSuccess ${String(result)}`);
        },
        onError(this: { name: string }, _h: unknown, group: { done(): void }, err: Error) {
          log.push(`${this.name} onError ${err.message}`);
          group.done();
        },
        onComplete(this: { name: string }) {
          log.push(`${this.name} onComplete`);
        },
      };
      const first = dp.newTaskGroup(1);
      await dp.addTask(first.newTaskOptions().setTask('add', { a: 1, b: 1 }).setOnSuccessWithInterface(handler).setOnCompleteWithInterface(handler).setAutoDone());
      await first.wait();
      const second = dp.newTaskGroup(1);
      await dp.addTask(second.newTaskOptions().setTask('check', { value: 'x', fail: true }).setOnErrorWithInterface(handler).setOnCompleteWithInterface(handler));
      await second.wait();
      assert.deepEqual(log, ['h onSuccess 2', 'h onComplete', 'h onError check failed for "x"', 'h onComplete']);
    });
  });

  test('the group counts each task once, whatever its retries and re-runs', async () => {
    const pool = POOLS.once;
    const key = `test:${pool}`;
    await withPool({ pool, connection: env.redis.url, workers: 2, queueSize: 2 }, async (dp) => {
      const n = 4;
      const tg = dp.newTaskGroup(n);
      const results: unknown[] = [];
      for (let i = 0; i < n; i++) {
        const opt = tg
          .newTaskOptions()
          .setTask('flaky', { until: 3, code: 'EFLAKY', key: `${key}:${i}` })
          .setOnSuccess((r) => results.push(r))
          .setAutoDone();
        if (i % 2 === 0) opt.setRetry({ retries: 3, minDelay: 1 });
        else opt.setOnError((handle) => handle.errReload(3, (err, r) => results.push(err ?? r)));
        await dp.addTask(opt);
      }
      await tg.wait();
      assert.equal(tg.count, 0);
      assert.deepEqual(results, [3, 3, 3, 3]);
      assert.throws(() => tg.done(), TaskGroupError, 'the count is at zero: nothing counted twice, nothing missed');
      assert.equal((await dp.usage()).callbackErrors, 0);
      for (let i = 0; i < n; i++) assert.equal(await env.client.llen(`${key}:${i}:log`), 3);
    });
  });

  test('refused before anything reaches Redis: options of another pool, a task function, no task, a retryIf function', async () => {
    const pool = POOLS.refusals;
    const dp = new DistributedPool({ pool, connection: env.redis.url, workers: 2 });
    const other = new DistributedPool({ pool: POOLS.other, connection: env.redis.url, workers: 2 });
    const lp = new LitePool({ workers: 1 });
    try {
      const foreign = await refusal(() => dp.addTask(other.newTaskOptions().setTask('add', { a: 1, b: 2 })));
      assert.ok(foreign instanceof TypeError);
      assert.match(foreign.message, /addTask\(opt\): these TaskOptions belong to another pool/);
      const inProcess = await refusal(() => dp.addTask(lp.newTaskOptions().setTask(() => 1) as never));
      assert.ok(inProcess instanceof TypeError);
      assert.match(inProcess.message, /addTask\(opt\) takes TaskOptions from dp\.newTaskOptions\(\) or group\.newTaskOptions\(\)/);
      const fn = await refusal(() => dp.addTask(dp.newTaskOptions().setTask(() => 1)));
      assert.ok(fn instanceof TypeError);
      assert.match(fn.message, /a DistributedPool runs tasks by name: set the task with setTask\('handler', input\)/);
      const exec = await refusal(() => dp.addTask(dp.newTaskOptions().setTask({ exec: () => 1 })));
      assert.ok(exec instanceof TypeError);
      assert.match(exec.message, /runs tasks by name/);
      const none = await refusal(() => dp.addTask(dp.newTaskOptions()));
      assert.ok(none instanceof TypeError);
      assert.match(none.message, /no task was set; call setTask\('handler', input\) first/);
      const retryIf = await refusal(() =>
        dp.addTask(
          dp
            .newTaskOptions()
            .setTask('add', { a: 1, b: 2 })
            .setRetry({ retries: 1, retryIf: ((err: Error) => err.name === 'x') as never }),
        ),
      );
      assert.ok(retryIf instanceof TypeError);
      assert.match(retryIf.message, /retryIf: a function cannot travel to the workers; register it there/);
      const group = dp.newTaskGroup(1);
      const groupFn = await refusal(() => dp.addTask(group.newTaskOptions().setTask(() => 1)));
      assert.ok(groupFn instanceof TypeError);
      assert.equal(group.count, 1, 'a refused task counts nothing');
      assert.equal(await jobsAdded(env.client, pool), 0);
      assert.equal(await jobsAdded(env.client, POOLS.other), 0);
    } finally {
      await Promise.all([dp.close(), other.close(), lp.close()]);
    }
  });

  // Regression (found by this suite): addTaskGroup compared the gang with the leases the producer held (0
  // on a fresh producer) and rejected with RangeError 'the pool has 0'.
  test(
    'addTaskGroup admits a gang on a producer that holds no lease yet (the pool has room for it)',
    async () => {
      await withPool({ pool: POOLS.gang, connection: env.redis.url, workers: 4, queueSize: 1 }, async (dp) => {
        const tg = dp.newTaskGroup(3);
        const sums: unknown[] = [];
        const opts = [1, 2, 3].map((a) =>
          tg
            .newTaskOptions()
            .setTask('add', { a, b: 10 })
            .setOnSuccess((r) => sums.push(r))
            .setAutoDone(),
        );
        await dp.addTaskGroup(...opts);
        await tg.wait();
        assert.deepEqual(
          sums.sort((x, y) => Number(x) - Number(y)),
          [11, 12, 13],
        );
      });
    },
  );

  test('addTaskGroup with more tasks than the pool can ever hold is a RangeError, nothing added', async () => {
    await withPool({ pool: POOLS.gang, connection: env.redis.url, workers: 1, queueSize: 1 }, async (dp) => {
      const before = await jobsAdded(env.client, POOLS.gang);
      const opts = [1, 2, 3].map((a) => dp.newTaskOptions().setTask('add', { a, b: 0 }));
      const err = await rejection(dp.addTaskGroup(...opts));
      assert.ok(err instanceof RangeError, `${err.name}: ${err.message}`);
      assert.equal(await jobsAdded(env.client, POOLS.gang), before);
    });
  });

  test('map resolves with the results in input order; settle gives every outcome; an item that is not JSON fails as itself', async () => {
    await withPool({ pool: POOLS.map, connection: env.redis.url, workers: 2, queueSize: 2 }, async (dp) => {
      const items = Array.from({ length: 12 }, (_, i) => ({ a: i, b: i }));
      assert.deepEqual(
        await dp.map(items, 'add'),
        items.map(({ a, b }) => a + b),
      );
      async function* generated() {
        for (let i = 0; i < 5; i++) yield { value: i, fail: i === 2 };
      }
      const settled = await dp.map(generated(), 'check', { settle: true });
      assert.deepEqual(
        settled.map((s) => (s.status === 'fulfilled' ? s.value : `rejected ${(s.reason as Error & { code?: string }).code}`)),
        [0, 1, 'rejected ECHECK', 3, 4],
      );
      const err = await rejection(dp.map([{ a: 1, b: 2 }, { a: 1, b: () => 2 }], 'add'));
      assert.ok(err instanceof TypeError);
      assert.match(err.message, /input\[1\]\.b cannot be sent to a worker: a function/);
    });
  });

  test('map fails fast: it rejects with the first error; whatever of it had started is aborted on the workers, nothing is left', async () => {
    const pool = POOLS.failFast;
    const key = `test:${pool}`;
    await withPool({ pool, connection: env.redis.url, workers: 2, queueSize: 2 }, async (dp) => {
      const items = [{ key, fail: true, value: 'first' }, { key }, { key }, { key }, { key }];
      const err = (await rejection(dp.map(items, 'hold'))) as Error & { code?: string };
      assert.equal(err.code, 'EHOLD');
      assert.equal(err.message, 'hold failed for "first"');
      await dp.onIdle();
      const started = await env.client.llen(`${key}:started`);
      // Every member that started, other than the failing one, had its ctx.signal aborted on its worker.
      await waitFor(async () => (await env.client.llen(`${key}:aborted`)) === started, 10_000, 'the running members to be aborted');
      const aborted = await env.client.lrange(`${key}:aborted`, 0, -1);
      assert.equal(aborted.filter((line) => line.endsWith(':AbortError')).length, started - 1);
      await waitFor(async () => (await jobsInQueue(env.client, pool)) === 0, 10_000, 'no job of the map left in BullMQ');
      assert.equal(await env.client.get(`${key}:running`), '0');
    });
  });

  // Regression (found by this suite): map pulled an item only while the engine had room, and leases granted
  // later never pumped the batch, so map ran one item at a time and a held first item blocked it.
  test('map runs its items at once up to workers; failing fast, it aborts the members running on the workers', async () => {
    const pool = POOLS.failFast;
    const key = `test:${pool}:running`;
    const dp = new DistributedPool({ pool, connection: env.redis.url, workers: 3, queueSize: 1 });
    // The first two items never finish on their own: the third runs (and fails) only if map runs items at once.
    const mapped = rejection(dp.map([{ key }, { key }, { key, fail: true, value: 'third' }, { key }], 'hold'));
    try {
      const err = (await within(mapped, 10_000, 'map with a failing third item')) as Error & { code?: string };
      assert.equal(err.code, 'EHOLD');
      await dp.onIdle();
      // The fourth item may have started on the slot the third one freed before the map's abort reached it;
      // whichever members started, each but the failing one was aborted on its worker.
      const started = await env.client.llen(`${key}:started`);
      assert.ok(started >= 3, `the first three items ran at once (${started} started)`);
      await waitFor(async () => (await env.client.llen(`${key}:aborted`)) === started, 10_000, 'the running members to be aborted');
      const aborted = await env.client.lrange(`${key}:aborted`, 0, -1);
      assert.equal(aborted.filter((line) => line.endsWith(':AbortError')).length, started - 1);
    } finally {
      await env.client.set(`${key}:open`, '1');
      await mapped;
      await dp.close();
    }
  });

  test('an aborted map signal rejects with AbortError, aborts its running members on the workers, and its waiting ones never start', async () => {
    const pool = POOLS.failFast;
    const key = `test:${pool}:signal`;
    await withPool({ pool, connection: env.redis.url, workers: 2, queueSize: 1 }, async (dp) => {
      const controller = new AbortController();
      const mapped = rejection(dp.map([{ key }, { key }, { key }, { key }], 'hold', { signal: controller.signal }));
      await waitFor(async () => (await env.client.llen(`${key}:started`)) >= 1, 10_000, 'a member to start');
      controller.abort();
      assert.ok((await mapped) instanceof AbortError);
      await dp.onIdle();
      const started = await env.client.llen(`${key}:started`);
      await waitFor(async () => (await env.client.llen(`${key}:aborted`)) === started, 10_000, 'the running members to be aborted');
      await waitFor(async () => (await jobsInQueue(env.client, pool)) === 0, 10_000, 'no job of the map left in BullMQ');
      assert.equal(await env.client.llen(`${key}:started`), started, 'nothing started after the abort');
    });
  });

  // Regression (found by this suite): mapIterable sized its window from the leases held when it started (0
  // on a fresh producer), so it never pulled an item and never yielded.
  test(
    'mapIterable yields as results complete with ordered: false, in input order by default; a non-JSON item fails it',
    async () => {
      const pool = POOLS.iterable;
      const key = `test:${pool}`;
      const dp = new DistributedPool({ pool, connection: env.redis.url, workers: 2, queueSize: 2 });
      try {
        // b is open from the start; a waits for its gate, opened by the test.
        await env.client.set(`${key}:b:open`, '1');
        const items = (round: string) => [
          { key: `${key}:${round}`, gate: `${key}:${round}:a`, value: 'a' },
          { key: `${key}:${round}`, gate: `${key}:b`, value: 'b' },
        ];
        const unordered = dp.mapIterable(items('u'), 'hold', { ordered: false })[Symbol.asyncIterator]();
        assert.deepEqual(await within(unordered.next(), 10_000, 'the first result of mapIterable'), { value: 'b', done: false });
        await env.client.set(`${key}:u:a:open`, '1');
        assert.deepEqual(await unordered.next(), { value: 'a', done: false });
        assert.equal((await unordered.next()).done, true);

        const completed = (await dp.usage()).completed;
        const ordered = dp.mapIterable(items('o'), 'hold')[Symbol.asyncIterator]();
        const first = ordered.next();
        first.catch(() => {}); // awaited below; a failure before that must not be unhandled
        await waitFor(async () => (await dp.usage()).completed === completed + 1, 10_000, 'b to complete first');
        assert.equal(await env.client.llen(`${key}:o:started`), 2);
        await env.client.set(`${key}:o:a:open`, '1');
        assert.deepEqual(await first, { value: 'a', done: false });
        assert.deepEqual(await ordered.next(), { value: 'b', done: false });
        assert.equal((await ordered.next()).done, true);

        // An item that is not JSON fails the stream with that item's TypeError.
        const err = await rejection(
          (async () => {
            for await (const _ of dp.mapIterable([{ value: 1 }, { value: 10n }], 'check')) void _;
          })(),
        );
        assert.ok(err instanceof TypeError, `${err.name}: ${err.message}`);
        assert.match(err.message, /input\[1\]\.value cannot be sent to a worker: a BigInt/);
      } finally {
        await env.client.set(`${key}:u:a:open`, '1');
        await env.client.set(`${key}:o:a:open`, '1');
        await dp.close({ force: true });
      }
    },
  );
});
