import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { newPool, type TaskContext } from '../src/index.js';

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

test('never more than `workers` task functions execute at once; every task settles exactly once', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 1, max: 4 }),
      fc.integer({ min: 0, max: 3 }),
      fc.array(taskArb, { minLength: 1, maxLength: 30 }),
      async (workers, queueSize, tasks) => {
        const lp = newPool(workers, queueSize);
        let executing = 0;
        let peak = 0;
        const counts = tasks.map(() => ({ completes: 0, outcomes: 0, settled: 0 }));
        const tg = lp.newTaskGroup(0);
        const adds: Promise<unknown>[] = [];
        for (const [i, t] of tasks.entries()) {
          const inner = body(t.shape, t.delay);
          const fn = async (ctx: TaskContext) => {
            executing++;
            peak = Math.max(peak, executing);
            try {
              return await inner(ctx);
            } finally {
              executing--;
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
        // Timed-out functions may still be running: let them return before the last check.
        await new Promise((r) => setTimeout(r, 10));
        await lp.close();
        assert.ok(peak <= workers, `peak ${peak} > workers ${workers}`);
        assert.equal(executing, 0);
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
    { numRuns: 60 },
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
