// Bug found by the soak check: a task that failed while the previous task's completion was on the stack
// (the next task starts synchronously from it) kept that task alive through its error's unformatted stack
// frames, and that task's error kept the one before: every failed task of the pool's history was retained.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { newPool } from '../../src/index.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

test('the errors of failed tasks do not keep earlier tasks alive', async () => {
  const lp = newPool(2, 8);
  const tg = lp.newTaskGroup(2000);
  let first: WeakRef<Error> | undefined;
  for (let i = 0; i < 2000; i++) {
    await lp.addTask(
      tg.newTaskOptions()
        .setTask(() => { throw new Error(`fail ${i}`); })
        .setOnError((h, g, err) => {
          first ??= new WeakRef(err);
          return h.errReload(1, () => g.done());
        }),
    );
  }
  await tg.wait();
  for (let i = 0; i < 3; i++) {
    await new Promise((r) => setImmediate(r));
    gc();
  }
  // The pool is still open and its workers still point at their last attempts.
  assert.equal(lp.state, 'open');
  assert.equal(first?.deref(), undefined, 'the first failed task\'s error was collected');
});
