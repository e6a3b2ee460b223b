// Go flaw: ErrReload(n) treated every n < 1 as "forever", so ErrReload(0) retried in a tight loop.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newPool } from '../../src/index.js';

test('errReload(0) retries nothing and calls after(err) with the original error', async () => {
  const lp = newPool(1, 1);
  let attempts = 0;
  const after: (Error | null)[] = [];
  await lp.addTask(
    lp.newTaskOptions()
      .setTask(() => { attempts++; throw new Error('once'); })
      .setOnError((h) => h.errReload(0, (err) => { after.push(err); })),
  );
  await lp.onIdle();
  assert.equal(attempts, 1);
  assert.equal(after.length, 1);
  assert.equal(after[0]?.message, 'once');
});
