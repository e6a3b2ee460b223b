// Go flaw: an auto-done task that failed and had no error handler never marked its group done, so Wait() hung.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newPool } from '../../src/index.js';

test('a failed auto-done task without onError still finishes its group', async () => {
  const lp = newPool(2, 2);
  const tg = lp.newTaskGroup(3);
  for (let i = 0; i < 3; i++) {
    await lp.addTask(tg.newTaskOptions().setTask(() => { if (i !== 1) throw new Error('fail'); }).setAutoDone());
  }
  await tg.wait({ timeout: 10_000 });
  assert.equal(tg.count, 0);
});
