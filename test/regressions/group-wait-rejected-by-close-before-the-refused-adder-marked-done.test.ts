// Issue #14.7: close() rejected a group's wait() although the group's count reached 0 a microtask later: the
// refused adder marks the group done in its rejection handler, which runs after close() had finished.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PoolClosedError, newPool } from '../../src/index.js';
import { rejection } from '../helpers.js';

test('a wait whose count reaches 0 through a refused adder’s done() resolves; one that cannot reach 0 rejects', async () => {
  const lp = newPool(1, 0);
  lp.pause(); // nothing starts and there is no waiting room: the adds below block
  const tg = lp.newTaskGroup(1);
  const refused = lp.addTask(tg.newTaskOptions().setTask(() => 1).setAutoDone()).catch((err: unknown) => {
    assert.ok(err instanceof PoolClosedError);
    tg.done();
  });
  const stuck = lp.newTaskGroup(2);
  const stuckAdd = lp.addTask(stuck.newTaskOptions().setTask(() => 1)).catch(() => stuck.done());
  const waited = tg.wait();
  const stuckWait = stuck.wait();
  await lp.close();
  await refused;
  await stuckAdd;
  await waited;
  assert.equal(tg.count, 0);
  assert.ok((await rejection(stuckWait)) instanceof PoolClosedError, 'a count that stays above 0 still rejects');
  assert.equal(stuck.count, 1);
});
