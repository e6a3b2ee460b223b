// A task that adds to its own saturated pool and awaits it. Like every bounded pool, litepool cannot start
// the inner task while all workers hold outer tasks waiting for it: the documented way out is to bound the
// outer task (a timeout) and pass its ctx.signal to the nested call, which then gives up instead of hanging.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AbortError, AddTimeoutError, newPool, TaskTimeoutError } from '../../src/index.js';

test('nested run() with ctx.signal under a timeout: the outer tasks fail with TaskTimeoutError, never hang', async () => {
  const lp = newPool(2, 0);
  // Both outer tasks hold a worker before either submits its inner task: the pool is saturated.
  let started = 0;
  let bothStarted!: () => void;
  const barrier = new Promise<void>((r) => (bothStarted = r));
  const outer = [0, 1].map(() =>
    lp.run(async (ctx) => {
      if (++started === 2) bothStarted();
      await barrier;
      return lp.run(() => 'inner', { signal: ctx.signal });
    }, { timeout: 50 }).then(
      () => 'done',
      (e: Error) => e.name,
    ),
  );
  const results = await Promise.all(outer);
  // The first outer task to time out gives up its worker, which may then serve the other's inner task.
  assert.ok(results.includes('TaskTimeoutError'), results.join());
  assert.ok(results.every((r) => r === 'TaskTimeoutError' || r === 'done'), results.join());
  await lp.onIdle();
  assert.equal(await lp.run(() => 'usable'), 'usable');
  assert.equal(lp.running, 0);
});

test('nested addTask() with an add timeout: the inner add is refused with AddTimeoutError', async () => {
  const lp = newPool(1, 0);
  const inner = await lp.run(() =>
    lp.addTask(lp.newTaskOptions().setTask(() => 1).setAddTimeout(20)).then(
      () => 'admitted',
      (e: unknown) => e,
    ),
  );
  assert.ok(inner instanceof AddTimeoutError);
});

test('with room to spare, nested submission simply works', async () => {
  const lp = newPool(2, 4);
  const out = await lp.run(async () => {
    const inner = await Promise.all([lp.run(() => 1), lp.run(() => 2)]);
    return inner.reduce((a, b) => a + b, 0);
  });
  assert.equal(out, 3);
});

test('the inner call sees the abort reason of the outer attempt', async () => {
  const lp = newPool(1, 0);
  let innerError: unknown;
  await lp.run(
    (ctx) => lp.run(() => 1, { signal: ctx.signal }).catch((e: unknown) => { innerError = e; throw e; }),
    { timeout: 20 },
  ).catch(() => {});
  assert.ok(innerError instanceof AbortError);
  assert.ok((innerError as AbortError).cause instanceof TaskTimeoutError);
});
