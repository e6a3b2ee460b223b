// Go flaw: calling Done() more times than the group counted panicked (sync.WaitGroup negative counter).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newPool, TaskGroupError } from '../../src/index.js';

test('done() past zero throws a TaskGroupError and leaves the group usable', async () => {
  const lp = newPool(1, 1);
  const tg = lp.newTaskGroup(1);
  tg.done();
  assert.throws(() => tg.done(), TaskGroupError);
  assert.equal(tg.count, 0);
  await tg.wait();
});

test('an auto-done past zero is reported as a callback error, not thrown into the pool', async () => {
  const seen: string[] = [];
  const lp = newPool(1, 1, { onCallbackError: (err, info) => seen.push(`${info.callback}:${err.name}`) });
  const tg = lp.newTaskGroup(1);
  await lp.addTask(tg.newTaskOptions().setTask(() => 1).setAutoDone());
  await lp.addTask(tg.newTaskOptions().setTask(() => 2).setAutoDone());
  await lp.onIdle();
  assert.deepEqual(seen, ['autoDone:TaskGroupError']);
  assert.equal(await lp.run(() => 'ok'), 'ok');
});
