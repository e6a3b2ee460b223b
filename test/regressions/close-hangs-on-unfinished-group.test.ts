// Go flaw: Close() waited on a task group that never finished, so it hung forever.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newPool, PoolClosedError } from '../../src/index.js';

test('close() resolves though a group never reaches zero, and the group\'s wait is rejected', async () => {
  const lp = newPool(2, 2);
  const tg = lp.newTaskGroup(5); // only one task is ever added
  await lp.addTask(tg.newTaskOptions().setTask(() => 1).setAutoDone());
  const waiting = tg.wait();
  await lp.close();
  await assert.rejects(waiting, PoolClosedError);
  assert.equal(tg.count, 4);
});
