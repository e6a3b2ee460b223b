// Bug found in review: a caller blocked waiting for room was admitted from the completion of another task and
// started at once — in that task's async context instead of its own.
import assert from 'node:assert/strict';
import { AsyncLocalStorage } from 'node:async_hooks';
import { test } from 'node:test';
import { newPool } from '../../src/index.js';
import { flush, gate } from '../helpers.js';

test('a caller that waited for room still runs its task in its own async context', async () => {
  const als = new AsyncLocalStorage<string>();
  const lp = newPool(1, 0);
  const g = gate();
  const seen: (string | undefined)[] = [];
  const a = als.run('a', () => lp.run(async () => { await g.promise; seen.push(als.getStore()); }));
  const b = als.run('b', () => lp.run(() => { seen.push(als.getStore()); }));
  const c = als.run('c', () => lp.addTask(lp.newTaskOptions().setTask(() => { seen.push(als.getStore()); })));
  await flush();
  assert.equal(lp.blockedAdders, 2);
  g.open();
  await Promise.all([a, b, c]);
  await lp.onIdle();
  assert.deepEqual(seen, ['a', 'b', 'c']);
});
