// Per-key limits (API.md 5): `keys.workers` and `keys.rate` on top of the pool's, no head-of-line blocking
// (a free worker takes the oldest task whose key has room), with retries, priorities, timeouts, groups, map,
// cancellation and close; usage() per key.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { AbortError, LitePool, PoolClosedError, TaskTimeoutError, type TaskContext } from '../src/index.js';
import { flush, gate, rejection, turns } from './helpers.js';

/** Counts tasks running per key and overall, keeping the highest counts seen. */
class Meter {
  readonly now = new Map<string, number>();
  readonly max = new Map<string, number>();
  total = 0;
  maxTotal = 0;

  enter(key: string): void {
    const n = (this.now.get(key) ?? 0) + 1;
    this.now.set(key, n);
    this.max.set(key, Math.max(this.max.get(key) ?? 0, n));
    this.total++;
    this.maxTotal = Math.max(this.maxTotal, this.total);
  }

  leave(key: string): void {
    this.now.set(key, (this.now.get(key) as number) - 1);
    this.total--;
  }
}

test('keys.workers: at most that many tasks of one key at once, all keys progressing, the pool bound kept', async () => {
  const lp = new LitePool({ workers: 5, keys: { workers: 2 } });
  const meter = new Meter();
  const keys = ['a', 'b', 'c', 'd'];
  const runs = Array.from({ length: 40 }, (_, i) => {
    const key = keys[i % 4] as string;
    return lp.run(
      async () => {
        meter.enter(key);
        await turns(1 + (i % 3));
        meter.leave(key);
        return key;
      },
      { key },
    );
  });
  const results = await Promise.all(runs);
  assert.deepEqual(results, Array.from({ length: 40 }, (_, i) => keys[i % 4]));
  for (const key of keys) assert.equal(meter.max.get(key), 2, `key ${key}`);
  assert.equal(meter.maxTotal, 5);
  assert.deepEqual(lp.usage().keys, []);
  await lp.close();
});

test('no head-of-line blocking: a task whose key is full never holds back a later task of another key', async () => {
  const lp = new LitePool({ workers: 2, keys: { workers: 1 } });
  const g = gate();
  const log: string[] = [];
  const a = [1, 2, 3].map((n) => lp.run(async () => { log.push(`a${n}`); await g.promise; }, { key: 'a' }));
  const b = lp.run(() => { log.push('b'); }, { key: 'b' });
  await b;
  assert.deepEqual(log, ['a1', 'b'], 'b ran on the free worker while a2 and a3 wait for their key');
  assert.deepEqual(lp.usage().keys, [{ key: 'a', running: 1, waiting: 2 }]);
  assert.equal(lp.size, 2);
  g.open();
  await Promise.all(a);
  assert.deepEqual(log, ['a1', 'b', 'a2', 'a3']);
  await lp.close();
});

test('the oldest task whose key has room starts first, by priority first', async () => {
  const lp = new LitePool({ workers: 1, keys: { workers: 1 } });
  const g = gate();
  const log: string[] = [];
  const job = (name: string, key: string, priority = 0, wait = false) =>
    lp.run(
      async () => {
        log.push(name);
        if (wait) await g.promise;
      },
      { key, priority },
    );
  const all = [job('a1', 'a', 0, true), job('a2', 'a'), job('b1', 'b'), job('c1', 'c'), job('d1', 'd', 5)];
  await flush();
  g.open();
  await Promise.all(all);
  // a2 got its key's room back when a1 ended; it is older than b1 and c1, so it goes before them.
  assert.deepEqual(log, ['a1', 'd1', 'a2', 'b1', 'c1']);
  await lp.close();
});

test('keys.rate: each key keeps its own sliding window; keys do not slow each other', async () => {
  const rate = { limit: 3, interval: 100 };
  const lp = new LitePool({ workers: 8, keys: { rate } });
  const starts = new Map<string, number[]>();
  await Promise.all(
    Array.from({ length: 24 }, (_, i) => {
      const key = i % 2 === 0 ? 'x' : 'y';
      return lp.run(
        (ctx: TaskContext) => {
          const me = lp.tasks().find((t) => t.id === ctx.taskId);
          assert.equal(me?.key, key);
          starts.set(key, [...(starts.get(key) ?? []), me?.startedAt as number]);
        },
        { key },
      );
    }),
  );
  for (const [key, times] of starts) {
    assert.equal(times.length, 12, key);
    const sorted = [...times].sort((p, q) => p - q);
    for (let i = 0; i + rate.limit < sorted.length; i++) {
      const gap = (sorted[i + rate.limit] as number) - (sorted[i] as number);
      assert.ok(gap >= rate.interval - 1e-6, `key ${key}: ${rate.limit + 1} starts within ${gap} ms`);
    }
  }
  await lp.close();
});

test('keys with retries, timeouts, groups, map, aborts and close', async () => {
  const lp = new LitePool({ workers: 4, keys: { workers: 1 } });
  const meter = new Meter();
  // Retries: a retried task gives its key's room back during the backoff and takes it again.
  const flaky = await lp.run(
    async (ctx) => {
      meter.enter('r');
      await flush();
      meter.leave('r');
      if (ctx.attempt < 3) throw new Error('again');
      return ctx.attempt;
    },
    { key: 'r', retry: { retries: 3, minDelay: 1, maxDelay: 1 } },
  );
  assert.equal(flaky, 3);

  // A timed-out task frees its key once its function returns; the next task of the key runs then.
  const slow = gate();
  const timedOut = lp.run(() => slow.promise, { key: 't', timeout: 20 });
  const next = lp.run(() => 'next', { key: 't' });
  assert.ok((await rejection(timedOut)) instanceof TaskTimeoutError);
  slow.open();
  assert.equal(await next, 'next');

  // map: the batch's members share a key.
  const mapped = await lp.map(
    [1, 2, 3, 4],
    async (n) => {
      meter.enter('m');
      await flush();
      meter.leave('m');
      return n * 2;
    },
    { key: 'm' },
  );
  assert.deepEqual(mapped, [2, 4, 6, 8]);
  assert.equal(meter.max.get('m'), 1);

  // Go style: setKey, with a group and auto-done.
  const tg = lp.newTaskGroup(3);
  for (let i = 0; i < 3; i++) {
    await lp.addTask(
      tg
        .newTaskOptions()
        .setKey('g')
        .setAutoDone()
        .setTask(async () => {
          meter.enter('g');
          await flush();
          meter.leave('g');
        }),
    );
  }
  await tg.wait();
  assert.equal(meter.max.get('g'), 1);
  await assert.rejects(lp.addTaskGroup(lp.newTaskOptions().setKey('g').setTask(() => {})), /tasks that start together cannot have a key/);

  // An aborted task waiting behind its key leaves; the key goes on.
  const hold = gate();
  const first = lp.run(() => hold.promise, { key: 'k' });
  const ac = new AbortController();
  const aborted = lp.run(() => 'never', { key: 'k', signal: ac.signal });
  const after = lp.run(() => 'after', { key: 'k' });
  ac.abort();
  assert.ok((await rejection(aborted)) instanceof AbortError);
  hold.open();
  await first;
  assert.equal(await after, 'after');

  // A forced close fails tasks still waiting behind their key.
  const block = gate();
  const running = lp.run(() => block.promise, { key: 'z' });
  const parked = lp.run(() => 'parked', { key: 'z' });
  await flush();
  const closing = lp.close({ force: true });
  assert.ok((await rejection(parked)) instanceof PoolClosedError);
  await closing;
  block.open();
  await Promise.allSettled([running]);
});

test('keys: a graceful close runs every admitted task, parked ones included', async () => {
  const lp = new LitePool({ workers: 3, keys: { workers: 1 } });
  const ran: number[] = [];
  const runs = Array.from({ length: 6 }, (_, i) => lp.run(async () => { await flush(); ran.push(i); }, { key: 'same' }));
  await lp.close();
  await Promise.all(runs);
  assert.deepEqual(ran, [0, 1, 2, 3, 4, 5], 'one key, one at a time, in order');
});

test('keys: waiting tasks behind their key count toward the waiting room (backpressure)', async () => {
  const lp = new LitePool({ workers: 2, queueSize: 1, keys: { workers: 1 } });
  const g = gate();
  const runs = [lp.run(() => g.promise, { key: 'a' }), lp.run(() => g.promise, { key: 'a' }), lp.run(() => g.promise, { key: 'a' })];
  await flush();
  assert.equal(lp.running, 1);
  assert.equal(lp.size, 2, 'two waiting behind key a fill the room of 2 × 1');
  assert.equal(lp.tryRun(() => 'no room', { key: 'a' }), undefined, 'key a would wait, and the room is full');
  assert.equal(await lp.tryRun(() => 'starts now', { key: 'b' }), 'starts now', 'key b starts on the free worker at once');
  g.open();
  await Promise.all(runs);
  await lp.close();
});

test('keys: limits hold for any mix of keys, durations, failures, priorities and pool sizes (property)', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 1, max: 5 }),
      fc.integer({ min: 1, max: 3 }),
      fc.array(fc.record({ key: fc.constantFrom('a', 'b', 'c', 'd'), turns: fc.integer({ min: 0, max: 3 }), fail: fc.boolean(), priority: fc.integer({ min: 0, max: 2 }) }), { minLength: 1, maxLength: 30 }),
      async (workers, perKey, tasks) => {
        const lp = new LitePool({ workers, keys: { workers: perKey } });
        const meter = new Meter();
        const outcomes = await Promise.allSettled(
          tasks.map((t) =>
            lp.run(
              async (ctx) => {
                meter.enter(t.key);
                await turns(t.turns);
                meter.leave(t.key);
                if (t.fail && ctx.attempt === 1) throw new Error('once');
                return t.key;
              },
              { key: t.key, priority: t.priority, retry: { retries: 1, minDelay: 0, maxDelay: 0 } },
            ),
          ),
        );
        assert.ok(outcomes.every((o, i) => o.status === 'fulfilled' && o.value === tasks[i]?.key));
        for (const [key, max] of meter.max) assert.ok(max <= perKey, `key ${key}: ${max} at once, limit ${perKey}`);
        assert.ok(meter.maxTotal <= workers);
        assert.deepEqual(lp.usage().keys, []);
        assert.equal(lp.usage().waiting, 0);
        await lp.close();
      },
    ),
    { numRuns: Number(process.env.PROP_RUNS ?? 60) },
  );
});

test('keys options: bad values are refused with the option and the value', () => {
  assert.throws(() => new LitePool({ keys: { workers: 0 } }), /options\.keys\.workers must be an integer ≥ 1 or Infinity, received 0/);
  assert.throws(() => new LitePool({ keys: { rate: { limit: 1, interval: -1 } } }), /options\.keys\.rate\.interval must be a number of milliseconds ≥ 0, received -1/);
  assert.throws(() => new LitePool({ keys: { max: 1 } as never }), /options\.keys\.max is not a keys option \(known: workers, rate\)/);
  const lp = new LitePool({ keys: {} });
  assert.throws(() => lp.newTaskOptions().setKey(1 as never), /setKey\(key\) must be a string, received 1/);
});
