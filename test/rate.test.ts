// Rate windows (API.md 5): at most `limit` attempt starts in any span of `interval` ms, checked on every
// recorded start time and every window; several windows at once; retries count; setRate() and pauseFor()
// at run time, pauseFor() from inside a task.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { LitePool, type RateWindow, type TaskContext } from '../src/index.js';
import { flush, gate, rejection, turns } from './helpers.js';

/** The start time of the calling attempt, as the pool counts it (ms since the epoch, with a fraction). */
function startOf(lp: LitePool, ctx: TaskContext): number {
  const me = lp.tasks().find((t) => t.id === ctx.taskId && t.attempt === ctx.attempt);
  assert.ok(me !== undefined, 'a running task is listed by tasks()');
  return me.startedAt;
}

/**
 * Every span of `interval` ms holds at most `limit` of `starts`: for each start, count the starts in
 * [t, t + interval). The clock's epoch offset adds a rounding error far below a microsecond.
 */
function assertWindows(starts: readonly number[], windows: readonly RateWindow[]): void {
  const sorted = [...starts].sort((a, b) => a - b);
  for (const { limit, interval } of windows) {
    for (let i = 0; i < sorted.length; i++) {
      let n = 0;
      for (let j = i; j < sorted.length && (sorted[j] as number) - (sorted[i] as number) < interval - 1e-6; j++) n++;
      assert.ok(n <= limit, `${n} starts in ${interval} ms from start #${i}, limit ${limit}`);
    }
  }
}

/** Resolves with `p`, or fails the test when it takes longer than `ms` (a generous bound). */
async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} took over ${ms} ms`)), ms)));
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

test('rate: in every span of each window at most its limit of starts, with two windows at once', async () => {
  const rate = [
    { limit: 5, interval: 100 },
    { limit: 12, interval: 500 },
  ];
  const lp = new LitePool({ workers: 8, rate });
  const starts: number[] = [];
  await Promise.all(
    Array.from({ length: 30 }, (_, i) =>
      lp.run(async (ctx) => {
        starts.push(startOf(lp, ctx));
        if (i % 3 === 0) await flush();
      }),
    ),
  );
  assert.equal(starts.length, 30);
  assertWindows(starts, rate);
  const sorted = [...starts].sort((a, b) => a - b);
  // 30 starts at 12 per 500 ms need two full windows; the pool does not wait much longer than that.
  const span = (sorted[29] as number) - (sorted[0] as number);
  assert.ok(span >= 1000 - 1e-3, `span ${span}`);
  assert.ok(span < 6000, `span ${span}: the rate should not stall the pool`);
  await lp.close();
});

test('rate: the guarantee holds across window edges for any windows, durations, failures and retries (property)', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.record({ limit: fc.integer({ min: 1, max: 6 }), interval: fc.integer({ min: 10, max: 60 }) }), { minLength: 1, maxLength: 3 }),
      fc.array(fc.record({ delay: fc.integer({ min: 0, max: 8 }), failures: fc.integer({ min: 0, max: 2 }), sync: fc.boolean() }), { minLength: 1, maxLength: 18 }),
      fc.integer({ min: 1, max: 6 }),
      async (rate, tasks, workers) => {
        const lp = new LitePool({ workers, rate });
        const starts: number[] = [];
        const results = await Promise.all(
          tasks.map((t) =>
            lp.run(
              (ctx) => {
                starts.push(startOf(lp, ctx));
                if (ctx.attempt <= t.failures) throw new Error('flaky');
                if (t.sync) return ctx.attempt;
                return new Promise((resolve) => setTimeout(resolve, t.delay, ctx.attempt));
              },
              { retry: { retries: 2, minDelay: 0, maxDelay: 0 } },
            ),
          ),
        );
        assert.deepEqual(
          results,
          tasks.map((t) => t.failures + 1),
        );
        assert.equal(starts.length, tasks.reduce((n, t) => n + t.failures + 1, 0), 'retries are starts');
        assertWindows(starts, rate);
        await lp.close();
      },
    ),
    { numRuns: Number(process.env.PROP_RUNS ?? 12) },
  );
});

test('rate: Go-style tasks, gangs and errReload reruns count as starts', async () => {
  const rate = { limit: 3, interval: 80 };
  const lp = new LitePool({ workers: 4, rate });
  const starts: number[] = [];
  const tg = lp.newTaskGroup(6);
  let failures = 0;
  for (let i = 0; i < 4; i++) {
    const opt = tg.newTaskOptions().setAutoDone();
    opt.setTask((ctx: TaskContext) => {
      starts.push(startOf(lp, ctx));
      if (i === 0 && failures++ < 2) throw new Error('again');
    });
    if (i === 0) opt.setOnError((err) => err.errReload(2));
    await lp.addTask(opt);
  }
  const gang = [0, 1].map(() =>
    tg
      .newTaskOptions()
      .setAutoDone()
      .setTask((ctx: TaskContext) => {
        starts.push(startOf(lp, ctx));
      }),
  );
  await lp.addTaskGroup(...gang);
  await within(tg.wait(), 10_000, 'the group');
  assert.equal(starts.length, 4 + 2 + 2, 'two reruns');
  assertWindows(starts, [rate]);
  await assert.rejects(lp.addTaskGroup(...[0, 1, 2, 3].map(() => lp.newTaskOptions().setTask(() => {}))), /4 tasks must start together, but the pool's rate allows 3 starts per window/);
  await lp.close();
});

test('setRate: a looser rate takes effect at once, a stricter one at the next start, [] removes it', async () => {
  const lp = new LitePool({ workers: 4, rate: { limit: 1, interval: 60_000 } });
  const ran: number[] = [];
  const first = lp.run(() => ran.push(1));
  const rest = [2, 3].map((n) => lp.run(() => ran.push(n)));
  await first;
  await turns(3);
  assert.deepEqual(ran, [1], 'one start per minute');
  assert.equal(lp.usage().rate?.[0]?.available, 0);
  lp.setRate({ limit: 10, interval: 1_000 });
  await within(Promise.all(rest), 5_000, 'the tasks after setRate');
  assert.deepEqual(ran, [1, 2, 3]);
  assert.deepEqual(lp.usage().rate, [{ limit: 10, interval: 1_000, available: 7 }], 'the starts already made count');

  lp.setRate([{ limit: 3, interval: 60_000 }]);
  const g = gate();
  const held = lp.run(() => g.promise);
  await turns(3);
  assert.equal(lp.running, 0, 'the three starts of the last minute fill the new window');
  assert.equal(lp.size, 1);
  lp.setRate([]);
  await turns(3);
  assert.equal(lp.running, 1);
  assert.equal(lp.usage().rate, undefined);
  g.open();
  await held;
  await lp.close();
});

test('pauseFor: no start before the pause ends, admission goes on; from a task through ctx.pool (HTTP 429)', async () => {
  const lp = new LitePool({ workers: 2 });
  const t0 = performance.timeOrigin + performance.now();
  lp.pauseFor(120);
  let started = 0;
  const p = lp.run((ctx) => {
    started = startOf(lp, ctx);
  });
  await turns(3);
  assert.equal(lp.size, 1, 'admitted, waiting');
  await within(p, 5_000, 'the task after the pause');
  assert.ok(started - t0 >= 120 - 1, `started ${started - t0} ms after pauseFor(120)`);

  // A task that gets 429 asks the pool to hold off for Retry-After and is retried after it.
  const starts: number[] = [];
  const result = await lp.run(
    (ctx) => {
      starts.push(startOf(lp, ctx));
      if (ctx.attempt === 1) {
        ctx.pool.pauseFor(100);
        throw Object.assign(new Error('Too Many Requests'), { status: 429 });
      }
      return 'ok';
    },
    { retry: { retries: 1, minDelay: 0, maxDelay: 0 } },
  );
  assert.equal(result, 'ok');
  assert.ok((starts[1] as number) - (starts[0] as number) >= 100 - 1, `retried ${(starts[1] as number) - (starts[0] as number)} ms later`);

  lp.pauseFor(10_000);
  lp.pauseFor(50);
  const waiting = lp.run(() => 'late');
  await turns(3);
  assert.equal(lp.size, 1, 'the later end wins');
  await lp.close({ force: true });
  await assert.rejects(waiting, { name: 'PoolClosedError' });
});

test('rate options: bad values are refused with the option, the value and what would be right', async () => {
  assert.throws(() => new LitePool({ rate: { limit: 0, interval: 1000 } }), /options\.rate\.limit must be an integer ≥ 1, received 0/);
  assert.throws(() => new LitePool({ rate: { limit: 1.5, interval: 1000 } }), /options\.rate\.limit must be an integer ≥ 1, received 1\.5/);
  assert.throws(() => new LitePool({ rate: [{ limit: 1, interval: 0 }] }), /options\.rate\[0\]\.interval must be a number of milliseconds > 0, received 0/);
  assert.throws(() => new LitePool({ rate: { limit: 2_000_000, interval: 1000 } }), /options\.rate\.limit must be at most 1000000/);
  assert.throws(() => new LitePool({ rate: { limit: 1 } as never }), /options\.rate must be a rate window \{ limit, interval \}/);
  assert.throws(() => new LitePool({ rate: { limit: 1, interval: 1, burst: 2 } as never }), /options\.rate\.burst is not a rate window option/);
  const lp = new LitePool();
  assert.throws(() => lp.setRate({ limit: -1, interval: 10 }), /setRate\(rate\)\.limit must be an integer ≥ 1/);
  assert.throws(() => lp.pauseFor(-5), /pauseFor\(ms\) must be a number of milliseconds ≥ 0, received -5/);
  assert.equal((await rejection(lp.run(() => 1, { key: 7 as never }))).message, 'run(options).key must be a string, received 7 (number)');
  await lp.close();
});
