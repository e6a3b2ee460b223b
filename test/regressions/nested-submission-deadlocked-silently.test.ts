// Issue #14.4 (p-limit #91, the same in every peer): a task that awaits run() on its own pool while every
// worker is held by such tasks waits forever, and nothing said so. The pool now warns once, naming the cycle:
// always for a child submitted before its parent's first await, and wherever it is submitted with the pool
// option `detectDeadlocks`.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LitePool, PoolClosedError } from '../../src/index.js';
import { gate, rejection } from '../helpers.js';

/** The next LitePoolWarning with `code`, marked as expected (test/setup.ts fails the run on any other). */
function nextWarning(code: string): { warning: Promise<Error & { code?: string }>; done: () => void } {
  const state = globalThis as { litepoolExpectWarnings?: number };
  state.litepoolExpectWarnings = (state.litepoolExpectWarnings ?? 0) + 1;
  let onWarning!: (w: Error & { code?: string }) => void;
  const warning = new Promise<Error & { code?: string }>((resolve) => {
    onWarning = (w) => {
      if (w.code === code) resolve(w);
    };
    process.on('warning', onWarning);
  });
  return {
    warning,
    done: () => {
      process.off('warning', onWarning);
      state.litepoolExpectWarnings = (state.litepoolExpectWarnings ?? 1) - 1;
    },
  };
}

test('the only worker held by a parent awaiting its queued child: one LitePoolWarning naming the cycle', { timeout: 20_000 }, async () => {
  const watch = nextWarning('LITEPOOL_NESTED_DEADLOCK');
  try {
    const lp = new LitePool({ workers: 1 });
    const parent = lp.run(async () => lp.run(() => 'child'));
    const w = await watch.warning;
    assert.equal(w.name, 'LitePoolWarning');
    assert.match(w.message, /the pool may be deadlocked/);
    assert.match(w.message, /\(task 1 on worker 0 waits for a task it submitted\)/);
    assert.equal(lp.size, 1, 'the child waits behind its parent');
    await lp.close({ force: true });
    assert.ok((await rejection(parent)) instanceof PoolClosedError);
  } finally {
    watch.done();
  }
});

test('with detectDeadlocks, children submitted after an await are tracked too', { timeout: 20_000 }, async () => {
  const watch = nextWarning('LITEPOOL_NESTED_DEADLOCK');
  try {
    const lp = new LitePool({ workers: 2, detectDeadlocks: true });
    const g = gate();
    const parents = [0, 1].map((i) =>
      lp.run(async () => {
        await g.promise; // both parents hold a worker before either submits its child
        return lp.run(() => `child ${i}`);
      }),
    );
    g.open();
    const w = await watch.warning;
    assert.match(w.message, /task 1 on worker 0 waits for a task it submitted; task 2 on worker 1 waits for a task it submitted/);
    await lp.close({ force: true });
    for (const p of parents) assert.ok((await rejection(p)) instanceof PoolClosedError);
  } finally {
    watch.done();
  }
  assert.throws(() => new LitePool({ detectDeadlocks: 'yes' as never }), { name: 'TypeError', message: /options\.detectDeadlocks must be a boolean/ });
});

test('nesting that makes progress warns about nothing', async () => {
  const lp = new LitePool({ workers: 2, detectDeadlocks: true });
  assert.equal(await lp.run(async () => lp.run(() => 'child')), 'child');
  const solo = new LitePool({ workers: 1 });
  let child: Promise<string> | undefined;
  assert.equal(
    await solo.run(() => {
      child = solo.run(() => 'later'); // not awaited: the parent returns and frees the worker
      return 'parent';
    }),
    'parent',
  );
  assert.equal(await child, 'later');
  await Promise.all([lp.close(), solo.close()]);
  // An unexpected LitePoolWarning would fail the run (test/setup.ts); the stall timer was disarmed by the
  // parent's release, so nothing keeps this process alive either.
});
