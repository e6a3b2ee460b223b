import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { AddTimeoutError, limit, newPool, type ErrHandle, type TaskContext, type TaskGroup } from '../src/index.js';
import { deferred, flush, turns } from './helpers.js';
import { ThreadPool } from '../src/threads/index.js';

type Shape = 'ok' | 'throw' | 'reject' | 'throwString' | 'delayOk' | 'delayReject' | 'slow';

const shapeArb = fc.constantFrom<Shape>('ok', 'throw', 'reject', 'throwString', 'delayOk', 'delayReject', 'slow');
const taskArb = fc.record({
  shape: shapeArb,
  delay: fc.integer({ min: 0, max: 3 }),
  timeout: fc.option(fc.integer({ min: 1, max: 4 }), { nil: undefined }),
  retries: fc.option(fc.integer({ min: 0, max: 2 }), { nil: undefined }),
  reload: fc.option(fc.integer({ min: 0, max: 2 }), { nil: undefined }),
  priority: fc.integer({ min: -1, max: 1 }),
  viaRun: fc.boolean(),
});

function body(shape: Shape, delay: number): (ctx: TaskContext) => unknown {
  const wait = () => new Promise((r) => setTimeout(r, delay));
  switch (shape) {
    case 'ok': return () => 'v';
    case 'throw': return () => { throw new Error('t'); };
    case 'reject': return () => Promise.reject(new Error('r'));
    case 'throwString': return () => { throw 's'; };
    case 'delayOk': return async () => { await wait(); return 'v'; };
    case 'delayReject': return async () => { await wait(); throw new Error('d'); };
    case 'slow': return async () => { await new Promise((r) => setTimeout(r, 6)); return 'slow'; };
  }
}

/**
 * Counts the task functions executing now; `returned()` resolves once none is (functions that timed out or
 * ignored a forced close's abort return later than their task settles).
 */
class Executing {
  now = 0;
  private waiters: (() => void)[] = [];

  enter(): number {
    return ++this.now;
  }

  leave(): void {
    if (--this.now > 0) return;
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  returned(): Promise<void> {
    return this.now === 0 ? Promise.resolve() : new Promise((resolve) => this.waiters.push(resolve));
  }
}

test('never more than `workers` task functions execute at once; every task settles exactly once', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 1, max: 4 }),
      fc.integer({ min: 0, max: 3 }),
      fc.array(taskArb, { minLength: 1, maxLength: 30 }),
      async (workers, queueSize, tasks) => {
        const lp = newPool(workers, queueSize);
        const executing = new Executing();
        let peak = 0;
        const counts = tasks.map(() => ({ completes: 0, outcomes: 0, settled: 0 }));
        const tg = lp.newTaskGroup(0);
        const adds: Promise<unknown>[] = [];
        for (const [i, t] of tasks.entries()) {
          const inner = body(t.shape, t.delay);
          const fn = async (ctx: TaskContext) => {
            peak = Math.max(peak, executing.enter());
            try {
              return await inner(ctx);
            } finally {
              executing.leave();
            }
          };
          if (t.viaRun) {
            const p = lp.run(fn, { timeout: t.timeout, retry: t.retries === undefined ? undefined : { retries: t.retries, minDelay: 0, maxDelay: 1 }, priority: t.priority });
            const c = counts[i] as (typeof counts)[number];
            adds.push(p.then(() => c.settled++, () => c.settled++));
          } else {
            const c = counts[i] as (typeof counts)[number];
            const opt = tg.newTaskOptions().setTask(fn).setPriority(t.priority)
              .setOnSuccess(() => { c.outcomes++; })
              .setOnComplete(() => { c.completes++; });
            if (t.timeout !== undefined) opt.setTimeout(t.timeout);
            if (t.retries !== undefined) opt.setRetry({ retries: t.retries, minDelay: 0, maxDelay: 1 });
            if (t.reload !== undefined) {
              const n = t.reload;
              opt.setOnError((h) => { c.outcomes++; return h.errReload(n); });
            } else {
              opt.setOnError(() => { c.outcomes++; });
            }
            adds.push(lp.addTask(opt));
          }
        }
        await Promise.all(adds);
        await lp.onIdle();
        await tg.wait();
        await lp.close();
        // Timed-out functions may still be running: wait for them to return and for the pool to see it.
        await executing.returned();
        await flush();
        assert.ok(peak <= workers, `peak ${peak} > workers ${workers}`);
        for (const [i, t] of tasks.entries()) {
          const c = counts[i] as (typeof counts)[number];
          if (t.viaRun) assert.equal(c.settled, 1, `run task ${i} settled ${c.settled} times`);
          else {
            assert.equal(c.completes, 1, `task ${i} completed ${c.completes} times`);
            assert.equal(c.outcomes, 1, `task ${i} had ${c.outcomes} outcomes`);
          }
        }
        const u = lp.usage();
        assert.equal(u.completed + u.failed, tasks.length);
        assert.equal(u.running, 0);
        assert.equal(u.waiting, 0);
      },
    ),
    { numRuns: 60, includeErrorInReport: true },
  );
});

test('FIFO among equal priorities holds for any mix of workers and queue sizes', async () => {
  await fc.assert(
    fc.asyncProperty(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 0, max: 4 }), fc.integer({ min: 1, max: 40 }), async (workers, queueSize, n) => {
      const lp = newPool(workers, queueSize);
      const started: number[] = [];
      const all: Promise<unknown>[] = [];
      for (let i = 0; i < n; i++) all.push(lp.run(async () => { started.push(i); await new Promise((r) => setImmediate(r)); }));
      await Promise.all(all);
      assert.deepEqual(started, Array.from({ length: n }, (_, i) => i));
    }),
    { numRuns: 40 },
  );
});

test('waiting tasks start by priority, highest first, FIFO among equals', async () => {
  await fc.assert(
    fc.asyncProperty(fc.integer({ min: 1, max: 3 }), fc.array(fc.integer({ min: -2, max: 2 }), { minLength: 1, maxLength: 30 }), async (workers, priorities) => {
      const lp = newPool(workers, Number.POSITIVE_INFINITY);
      // Every worker busy first, so that all the tasks below wait and are started from the queue.
      const gates = Array.from({ length: workers }, () => deferred<void>());
      const blockers = gates.map((g) => lp.run(() => g.promise));
      const started: number[] = [];
      const all = priorities.map((priority, i) => lp.run(() => { started.push(i); }, { priority }));
      for (const g of gates) g.resolve();
      await Promise.all([...blockers, ...all]);
      const expected = priorities.map((p, i) => ({ p, i })).sort((a, b) => b.p - a.p || a.i - b.i).map((x) => x.i);
      assert.deepEqual(started, expected);
    }),
    { numRuns: Number(process.env.PROP_RUNS ?? 60), includeErrorInReport: true },
  );
});

interface GoTask {
  admitted: boolean;
  completes: number;
  outcomes: number;
  inCallbacks: number;
}

type Op =
  | { k: 'run'; shape: Shape; delay: number; timeout?: number; retries?: number; abortAfter?: number; priority: number; honour: boolean }
  | { k: 'add'; shape: Shape; delay: number; addTimeout?: number; reload?: number; timeout?: number; abortAfter?: number; honour: boolean; cbTurns: number }
  | { k: 'wait' }
  | { k: 'gang'; size: number; shape: Shape; delay: number; abortAfter?: number }
  | { k: 'map'; n: number; failAt?: number; settle: boolean }
  | { k: 'iter'; n: number; failAt?: number; take: number; ordered: boolean }
  | { k: 'tryRun'; shape: Shape; delay: number }
  | { k: 'close'; force: boolean }
  | { k: 'pause' }
  | { k: 'resume' }
  | { k: 'resize'; workers: number }
  | { k: 'turns'; n: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ k: fc.constant('run' as const), shape: shapeArb, delay: fc.integer({ min: 0, max: 3 }), timeout: fc.option(fc.integer({ min: 1, max: 4 }), { nil: undefined }), retries: fc.option(fc.integer({ min: 0, max: 2 }), { nil: undefined }), abortAfter: fc.option(fc.integer({ min: 0, max: 3 }), { nil: undefined }), priority: fc.integer({ min: -1, max: 1 }), honour: fc.boolean() }, { requiredKeys: ['k', 'shape', 'delay', 'priority', 'honour'] }) },
  { weight: 4, arbitrary: fc.record({ k: fc.constant('add' as const), shape: shapeArb, delay: fc.integer({ min: 0, max: 3 }), addTimeout: fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }), reload: fc.option(fc.integer({ min: 0, max: 2 }), { nil: undefined }), timeout: fc.option(fc.integer({ min: 1, max: 4 }), { nil: undefined }), abortAfter: fc.option(fc.integer({ min: 0, max: 3 }), { nil: undefined }), honour: fc.boolean(), cbTurns: fc.integer({ min: 0, max: 2 }) }, { requiredKeys: ['k', 'shape', 'delay', 'honour', 'cbTurns'] }) },
  { weight: 1, arbitrary: fc.constant({ k: 'wait' as const }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('gang' as const), size: fc.integer({ min: 1, max: 4 }), shape: shapeArb, delay: fc.integer({ min: 0, max: 3 }), abortAfter: fc.option(fc.integer({ min: 0, max: 3 }), { nil: undefined }) }, { requiredKeys: ['k', 'size', 'shape', 'delay'] }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('map' as const), n: fc.integer({ min: 0, max: 6 }), failAt: fc.option(fc.integer({ min: 0, max: 6 }), { nil: undefined }), settle: fc.boolean() }, { requiredKeys: ['k', 'n', 'settle'] }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('iter' as const), n: fc.integer({ min: 0, max: 6 }), failAt: fc.option(fc.integer({ min: 0, max: 6 }), { nil: undefined }), take: fc.integer({ min: 0, max: 6 }), ordered: fc.boolean() }, { requiredKeys: ['k', 'n', 'take', 'ordered'] }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('tryRun' as const), shape: shapeArb, delay: fc.integer({ min: 0, max: 3 }) }) },
  { weight: 1, arbitrary: fc.constant({ k: 'pause' as const }) },
  { weight: 1, arbitrary: fc.constant({ k: 'resume' as const }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('resize' as const), workers: fc.integer({ min: 1, max: 4 }) }) },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('turns' as const), n: fc.integer({ min: 0, max: 3 }) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('close' as const), force: fc.boolean() }) },
);

test('any interleaving of submissions, aborts, gangs, maps, streams, pause, resize and close: the bound holds, nothing is lost or settled twice', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 1, max: 3 }),
      fc.integer({ min: 0, max: 2 }),
      fc.array(opArb, { minLength: 1, maxLength: 25 }),
      fc.constantFrom<'graceful' | 'force' | 'timeout'>('graceful', 'force', 'timeout'),
      interleaving,
    ),
    // PROP_RUNS=3000 for a longer search than CI's.
    { numRuns: Number(process.env.PROP_RUNS ?? 150), includeErrorInReport: true },
  );
});

/**
 * Runs `ops` against a fresh pool, closes it as `closing` says, and checks what must hold whatever the
 * interleaving: no task starts without a free worker or while paused, every promise the pool handed out
 * settles, every admitted Go-style task completes exactly once, and the pool ends empty and closed.
 */
async function interleaving(workers: number, queueSize: number, ops: Op[], closing: 'graceful' | 'force' | 'timeout'): Promise<void> {
  const lp = newPool(workers, queueSize);
  const executing = new Executing();
  const violations: string[] = [];
  const tg = lp.newTaskGroup(0);
  // Every promise the pool handed out, and how often each Go-style task ran its callbacks.
  const promises: Promise<unknown>[] = [];
  let unsettled = 0;
  const goTasks: GoTask[] = [];
  let paused = false;
  let closed = false;
  let attempts = 0;
  let gangsWaiting = 0;
  const track = (p: Promise<unknown>, onOk?: () => void, onFail?: (err: unknown) => void) => {
    unsettled++;
    promises.push(
      p.then(
        () => {
          unsettled--;
          onOk?.();
        },
        (err: unknown) => {
          unsettled--;
          onFail?.(err);
        },
      ),
    );
  };
  const instrument = (shape: Shape, delay: number, honour: boolean, reloads = false, own?: AbortSignal) => {
    const inner = body(shape, delay);
    return async (ctx: TaskContext) => {
      // A task about to start (or a policy retry back from its backoff) must have found a free worker:
      // fewer others executing than workers, and the pool not paused. An errReload attempt is not a
      // start: it goes on on the worker its task holds, even after a resize() down or a pause().
      if (!reloads || ctx.attempt === 1) {
        if (executing.now >= lp.workers) violations.push(`started with ${executing.now} executing and ${lp.workers} workers`);
        if (paused) violations.push(`attempt ${ctx.attempt} started while paused`);
      }
      // A task whose own signal has aborted never starts (nor retries).
      if (own?.aborted === true) violations.push(`attempt ${ctx.attempt} started after its signal aborted`);
      executing.enter();
      attempts++;
      try {
        if (honour && shape === 'slow') {
          return await Promise.race([inner(ctx), new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason)))]);
        }
        return await inner(ctx);
      } finally {
        executing.leave();
      }
    };
  };
  // Go-style tasks follow the Go README's pattern: the group counts each task once, auto-done marks it on
  // success, the error handler (after its errReload retries) on failure, the adder when it is refused.
  // Callbacks that take `cbTurns` turns of the event loop (synchronous with 0); `rec.inCallbacks` counts
  // those of a task still running.
  const callback = <A extends unknown[]>(rec: GoTask, cbTurns: number, fn: (...args: A) => unknown) => (...args: A): unknown => {
    if (cbTurns === 0) return fn(...args);
    rec.inCallbacks++;
    return turns(cbTurns).then(() => fn(...args)).finally(() => rec.inCallbacks--);
  };
  const goTask = (shape: Shape, delay: number, honour: boolean, reload?: number, cbTurns = 0, own?: AbortSignal) => {
    const rec: GoTask = { admitted: false, completes: 0, outcomes: 0, inCallbacks: 0 };
    goTasks.push(rec);
    tg.add(1);
    const opt = tg.newTaskOptions().setTask(instrument(shape, delay, honour, reload !== undefined, own)).setAutoDone()
      .setOnSuccess(callback(rec, cbTurns, () => { rec.outcomes++; }))
      .setOnComplete(callback(rec, cbTurns, () => { rec.completes++; }))
      .setOnError(callback(rec, cbTurns, (h: ErrHandle, g: TaskGroup) => {
        rec.outcomes++;
        if (g !== tg) violations.push('onError received another group');
        if (reload === undefined) g.done();
        else return h.errReload(reload, (err) => { if (err !== null) g.done(); });
        return undefined;
      }));
    if (own !== undefined) opt.setSignal(own);
    return { rec, opt };
  };
  const refused = (err: unknown) => {
    // An add timeout marks an auto-done task done itself; any other refusal leaves it to the adder.
    if (!(err instanceof AddTimeoutError)) tg.done();
  };
  for (const op of ops) {
    switch (op.k) {
      case 'run': {
        const ac = op.abortAfter === undefined ? undefined : new AbortController();
        track(lp.run(instrument(op.shape, op.delay, op.honour, false, ac?.signal), { timeout: op.timeout, retry: op.retries === undefined ? undefined : { retries: op.retries, minDelay: 0, maxDelay: 1 }, priority: op.priority, signal: ac?.signal }));
        if (ac !== undefined) void turns(op.abortAfter as number).then(() => ac.abort());
        break;
      }
      case 'add': {
        const ac = op.abortAfter === undefined ? undefined : new AbortController();
        const { rec, opt } = goTask(op.shape, op.delay, op.honour, op.reload, op.cbTurns, ac?.signal);
        if (op.addTimeout !== undefined) opt.setAddTimeout(op.addTimeout);
        if (op.timeout !== undefined) opt.setTimeout(op.timeout);
        track(lp.addTask(opt), () => { rec.admitted = true; }, refused);
        if (ac !== undefined) void turns(op.abortAfter as number).then(() => ac.abort());
        break;
      }
      case 'gang': {
        // One member's signal may abort: while the gang waits that rejects it whole, once started it aborts
        // that member's ctx.signal.
        const ac = op.abortAfter === undefined ? undefined : new AbortController();
        const members = Array.from({ length: op.size }, (_, i) => goTask(op.shape, op.delay, false, undefined, 0, i === 0 ? ac?.signal : undefined));
        if (ac !== undefined) void turns(op.abortAfter as number).then(() => ac.abort());
        gangsWaiting++;
        track(
          lp.addTaskGroup(...members.map((m) => m.opt)).finally(() => gangsWaiting--),
          () => { for (const m of members) m.rec.admitted = true; },
          () => { for (let i = 0; i < members.length; i++) tg.done(); },
        );
        break;
      }
      case 'map': {
        const fn = instrument('delayOk', 1, true);
        const items = Array.from({ length: op.n }, (_, i) => i);
        const failing = op.failAt !== undefined && op.failAt < op.n;
        // An item fails only with its own error, or with PoolClosedError when a forced close came first.
        const ownFailure = (i: number, err: unknown) => (i === op.failAt && (err as Error).message === `item ${i}`) || (err as Error).name === 'PoolClosedError';
        const mapped = lp.map(items, async (i, _index, ctx) => {
          await fn(ctx);
          if (i === op.failAt) throw new Error(`item ${i}`);
          return i;
        }, { settle: op.settle });
        track(mapped.then(
          (results) => {
            if (!op.settle) {
              if (failing) violations.push('map() resolved although an item failed');
              else if (JSON.stringify(results) !== JSON.stringify(items)) violations.push(`map() resolved with ${JSON.stringify(results)}`);
              return;
            }
            (results as PromiseSettledResult<number>[]).forEach((r, i) => {
              if (r.status === 'fulfilled' ? r.value !== i : !ownFailure(i, r.reason)) violations.push(`map({ settle }) item ${i}: ${String(r.status === 'fulfilled' ? r.value : r.reason)}`);
            });
            if (results.length !== op.n) violations.push(`map({ settle }) gave ${results.length} results for ${op.n} items`);
          },
          (err: unknown) => {
            if (op.settle || !((failing && (err as Error).message === `item ${op.failAt}`) || (err as Error).name === 'PoolClosedError')) {
              violations.push(`map() rejected with ${String(err)}`);
            }
          },
        ));
        break;
      }
      case 'iter': {
        const fn = instrument('delayOk', 1, true);
        const results = lp.mapIterable(Array.from({ length: op.n }, (_, i) => i), async (i, _index, ctx) => {
          await fn(ctx);
          if (i === op.failAt) throw new Error(`item ${i}`);
          return i;
        }, { ordered: op.ordered });
        // A consumer that stops early (break) or reads to the end; either way the stream must end, with items
        // in input order when ordered, each at most once, and no result past a failure when ordered.
        track((async () => {
          const seen: number[] = [];
          try {
            for await (const r of results) if (seen.push(r) >= op.take) break;
          } catch (err) {
            if (!((err as Error).message === `item ${op.failAt}` || (err as Error).name === 'PoolClosedError')) violations.push(`mapIterable() threw ${String(err)}`);
          }
          if (new Set(seen).size !== seen.length) violations.push(`mapIterable() repeated a result: ${seen.join()}`);
          if (op.ordered && seen.some((v, i) => v !== i)) violations.push(`mapIterable({ ordered }) gave ${seen.join()}`);
          if (seen.some((v) => v === op.failAt)) violations.push('mapIterable() yielded the failed item');
        })());
        break;
      }
      case 'tryRun': {
        const p = lp.tryRun(instrument(op.shape, op.delay, false));
        if (p !== undefined) track(p);
        break;
      }
      case 'close':
        // Not awaited: what comes after it must be refused, and the close at the end joins this one. Closing
        // un-pauses the pool for good.
        closed = true;
        paused = false;
        track(op.force ? lp.close({ force: true }) : lp.close());
        break;
      case 'wait': {
        // When a wait resolves, every task the group counted when it was called has finished, callbacks
        // included, whoever called done(). (One cut short by close, because a refused adder had not called
        // done() yet, rejects instead.)
        const counted = goTasks.slice();
        track(tg.wait().then(() => {
          for (const rec of counted) {
            if (rec.inCallbacks > 0 || (rec.admitted && rec.completes === 0)) violations.push('wait() resolved before a task of the group had finished its callbacks');
          }
        }));
        break;
      }
      case 'pause':
        lp.pause();
        paused = !closed;
        break;
      case 'resume':
        // Tasks start synchronously inside resume().
        paused = false;
        lp.resume();
        break;
      case 'resize':
        lp.resize(op.workers);
        break;
      case 'turns':
        await turns(op.n);
        // Work-conserving: no worker idles while a task waits, unless the pool is paused or a waiting gang
        // is reserving workers.
        if (!paused && gangsWaiting === 0 && lp.size > 0 && lp.running < lp.workers) {
          violations.push(`${lp.size} tasks waiting with ${lp.running} of ${lp.workers} workers busy`);
        }
        break;
    }
  }
  paused = false;
  await (closing === 'graceful' ? lp.close() : closing === 'force' ? lp.close({ force: true }) : lp.close({ timeout: 2 }));
  // Every promise settles, every admitted task finishes (a forced close does not wait for running ones), and
  // every function returns. A generous bound: whatever is still pending after it is lost, not slow.
  let hung = false;
  const deadline = new Promise<void>((resolve) => setTimeout(() => { hung = true; resolve(); }, 2000).unref());
  await Promise.race([Promise.all(promises).then(() => lp.onIdle()).then(() => tg.wait()).then(() => executing.returned()).then(flush), deadline]);
  assert.equal(hung, false, `${unsettled} of ${promises.length} promises left pending, ${executing.now} functions executing`);
  assert.deepEqual(violations, []);
  for (const [i, t] of goTasks.entries()) {
    assert.ok(t.completes <= 1 && t.outcomes <= 1, `Go-style task ${i}: ${t.completes} completes, ${t.outcomes} outcomes`);
    if (t.admitted) assert.equal(t.completes, 1, `admitted Go-style task ${i} never completed`);
  }
  // Each Go-style task was marked done exactly once, by auto-done, its handler or its adder.
  assert.equal(tg.count, 0);
  const u = lp.usage();
  assert.equal(u.callbackErrors, 0, 'a callback failed (a done() past zero, say)');
  assert.deepEqual([u.running, u.waiting, u.blocked, u.backoff], [0, 0, 0, 0]);
  // Usage counts every attempt that ran, on the worker that ran it.
  assert.equal(u.workers.reduce((sum, w) => sum + w.executed, 0), attempts);
  assert.equal(lp.state, 'closed');
}

type LimitOp = { k: 'call'; shape: Shape; delay: number } | { k: 'concurrency'; value: number } | { k: 'clear' } | { k: 'turns'; n: number };

const limitOpArb: fc.Arbitrary<LimitOp> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ k: fc.constant('call' as const), shape: shapeArb, delay: fc.integer({ min: 0, max: 2 }) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('concurrency' as const), value: fc.oneof(fc.integer({ min: 1, max: 4 }), fc.constant(Number.POSITIVE_INFINITY)) }) },
  { weight: 1, arbitrary: fc.constant({ k: 'clear' as const }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('turns' as const), n: fc.integer({ min: 0, max: 3 }) }) },
);

test('limit(): whatever the calls, concurrency changes and clears, a function starts only below the limit and every call settles', async () => {
  await fc.assert(
    fc.asyncProperty(fc.integer({ min: 1, max: 3 }), fc.array(limitOpArb, { minLength: 1, maxLength: 30 }), async (initial, ops) => {
      const l = limit({ concurrency: initial, rejectOnClear: true });
      const executing = new Executing();
      const violations: string[] = [];
      const calls: Promise<unknown>[] = [];
      // A function is called a microtask after its call takes a slot (p-limit's timing): the limit it must
      // respect is the highest one set since its call, not the one of the moment it runs.
      const unstarted = new Set<{ limit: number }>();
      for (const op of ops) {
        if (op.k === 'call') {
          const inner = body(op.shape, op.delay);
          const seen = { limit: l.concurrency };
          unstarted.add(seen);
          calls.push(
            l(async () => {
              unstarted.delete(seen);
              if (executing.now >= seen.limit) violations.push(`started with ${executing.now} running at concurrency ${seen.limit}`);
              executing.enter();
              try {
                return await inner(undefined as never);
              } finally {
                executing.leave();
              }
            }).catch(() => undefined),
          );
        } else if (op.k === 'concurrency') {
          l.concurrency = op.value;
          for (const u of unstarted) u.limit = Math.max(u.limit, op.value);
        } else if (op.k === 'clear') l.clearQueue();
        else await turns(op.n);
      }
      await Promise.all(calls);
      await executing.returned();
      await flush();
      assert.deepEqual(violations, []);
      assert.deepEqual([l.activeCount, l.pendingCount], [0, 0]);
    }),
    { numRuns: Number(process.env.PROP_RUNS ?? 100), includeErrorInReport: true },
  );
});

type ThreadOp =
  | { k: 'ok'; x: number; ms: number }
  | { k: 'throw' }
  | { k: 'exit' }
  | { k: 'runaway'; timeout: number }
  | { k: 'abort'; after: number }
  | { k: 'close'; force: boolean }
  | { k: 'turns'; n: number };

const threadOpArb: fc.Arbitrary<ThreadOp> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ k: fc.constant('ok' as const), x: fc.integer({ min: 0, max: 100 }), ms: fc.integer({ min: 0, max: 3 }) }) },
  { weight: 1, arbitrary: fc.constant({ k: 'throw' as const }) },
  { weight: 1, arbitrary: fc.constant({ k: 'exit' as const }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('runaway' as const), timeout: fc.integer({ min: 5, max: 20 }) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('abort' as const), after: fc.integer({ min: 0, max: 3 }) }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('turns' as const), n: fc.integer({ min: 0, max: 3 }) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('close' as const), force: fc.boolean() }) },
);

test('ThreadPool: any mix of results, throws, exits, runaways stopped by a timeout, aborts and closes settles every task with the right outcome and leaves no thread', async () => {
  const tasks = new URL('./fixtures/thread-tasks.ts', import.meta.url);
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 1, max: 2 }),
      fc.integer({ min: 1, max: 3 }),
      fc.array(threadOpArb, { minLength: 1, maxLength: 12 }),
      fc.boolean(),
      async (maxThreads, tasksPerThread, ops, force) => {
        const tp = new ThreadPool({ maxThreads, tasksPerThread });
        const outcomes: Promise<string>[] = [];
        const expected: RegExp[] = [];
        // A task may fail for a neighbour only when something ends threads: a crash, or a timeout, abort or
        // forced close (which end the thread, and the other tasks in flight on it). Only a forced close
        // fails tasks with PoolClosedError.
        const endsThreads = ops.some((op) => op.k === 'exit' || op.k === 'runaway' || op.k === 'abort');
        const forced = force || ops.some((op) => op.k === 'close' && op.force);
        const collateral = [...(endsThreads ? ['ThreadCrashError'] : []), ...(endsThreads || forced ? ['ThreadTerminatedError'] : []), ...(forced ? ['PoolClosedError'] : [])];
        // After a close, every new task is refused, and only that way.
        let closed = false;
        const expect = (p: Promise<unknown>, ok: unknown, failures: RegExp) => {
          expected.push(closed ? /^PoolClosedError$/ : new RegExp(`^(${['ok', failures.source, ...collateral].join('|')})$`));
          outcomes.push(p.then((v) => (v === ok ? 'ok' : `wrong value ${String(v)}`), (e: Error) => e.name));
        };
        for (const op of ops) {
          switch (op.k) {
            case 'ok':
              expect(tp.runTask(tasks, 'slowDouble', { x: op.x, ms: op.ms }), op.x * 2, /never/);
              break;
            case 'throw':
              expect(tp.runTask(tasks, 'throwsError', 'boom'), undefined, /RangeError/);
              break;
            case 'exit':
              expect(tp.runTask(tasks, 'exits', 3), undefined, /ThreadCrashError/);
              break;
            case 'runaway':
              expect(tp.runTask(tasks, 'forever', undefined, { timeout: op.timeout }), undefined, /TaskTimeoutError/);
              break;
            case 'abort': {
              const ac = new AbortController();
              expect(tp.runTask(tasks, 'forever', undefined, { signal: ac.signal }), undefined, /AbortError/);
              void turns(op.after).then(() => ac.abort());
              break;
            }
            case 'close':
              closed = true;
              outcomes.push(tp.close(op.force ? { force: true } : undefined).then(() => 'closed', (e: Error) => `close failed: ${e.name}`));
              expected.push(/^closed$/);
              break;
            case 'turns':
              await turns(op.n);
              break;
          }
        }
        // Runaways without a timeout are all aborted, so a graceful close ends too.
        await tp.close(force ? { force: true } : undefined);
        const got = await Promise.all(outcomes);
        for (const [i, o] of got.entries()) assert.match(o, expected[i] as RegExp, `step ${i} (${JSON.stringify(ops.filter((op) => op.k !== 'turns')[i])}): ${o}`);
        assert.equal(tp.threads, 0);
        assert.equal(tp.running, 0);
      },
    ),
    { numRuns: Number(process.env.PROP_RUNS ?? 12), includeErrorInReport: true },
  );
});
