// Issue #14.8: when a task succeeded on an errReload retry, onSuccess was not called (the handler owns the
// path, as in Go) and after() got only null: the result was lost (a crawler collected 171 of 198 pages).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newPool } from '../../src/index.js';

test('errReload: a rerun that succeeds hands its result to after(null, result); onSuccess is not called', async () => {
  const lp = newPool(1, 1);
  const tg = lp.newTaskGroup(1);
  let attempts = 0;
  const seen: unknown[] = [];
  const completed: unknown[] = [];
  lp.on('completed', (r) => completed.push(r));
  await lp.addTask(
    tg.newTaskOptions()
      .setTask(() => (++attempts < 3 ? Promise.reject(new Error(`attempt ${attempts}`)) : `page after ${attempts} attempts`))
      .setOnSuccess((r) => { seen.push(['onSuccess', r]); })
      .setOnError((h) => h.errReload(5, (err, result) => { seen.push(['after', err, result]); }))
      .setAutoDone(),
  );
  await tg.wait();
  assert.deepEqual(seen, [['after', null, 'page after 3 attempts']]);
  assert.deepEqual(completed, ['page after 3 attempts']);
  await lp.close();
});
