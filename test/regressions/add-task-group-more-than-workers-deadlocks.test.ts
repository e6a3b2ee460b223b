// Go flaw: AddTaskGroup with more tasks than workers waited forever for workers that could never all be free.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newPool } from '../../src/index.js';

test('addTaskGroup with more tasks than workers rejects with a RangeError at once', async () => {
  const lp = newPool(2, 2);
  const opts = Array.from({ length: 5 }, () => lp.newTaskOptions().setTask(() => 1));
  await assert.rejects(lp.addTaskGroup(...opts), { name: 'RangeError', message: /5 tasks .* the pool has 2/ });
  assert.equal(lp.running, 0);
  await lp.close();
});
