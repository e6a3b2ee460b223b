import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AbortError, newPool, TaskGroupError } from '../src/index.js';
import { flush, gate, rejection } from './helpers.js';

test('newTaskGroup validates n', () => {
  const lp = newPool(1, 1);
  assert.throws(() => lp.newTaskGroup(-1), { name: 'RangeError', message: /newTaskGroup\(n\) .* -1/ });
  assert.throws(() => lp.newTaskGroup(1.5), { name: 'RangeError' });
  assert.throws(() => lp.newTaskGroup('2' as never), { name: 'TypeError' });
  assert.equal(lp.newTaskGroup().count, 0);
});

test('done(), add() and count; done() past zero throws TaskGroupError and leaves the count alone', () => {
  const tg = newPool(1, 1).newTaskGroup(2);
  tg.done();
  tg.add(2);
  assert.equal(tg.count, 3);
  tg.add(-3);
  assert.equal(tg.count, 0);
  assert.throws(() => tg.done(), TaskGroupError);
  assert.throws(() => tg.add(-1), { name: 'TaskGroupError', message: /below zero/ });
  assert.throws(() => tg.add(0.5), { name: 'RangeError' });
  assert.throws(() => tg.add('1' as never), { name: 'TypeError' });
  assert.equal(tg.count, 0);
});

test('wait() resolves at once at zero, and when the last done() comes', async () => {
  const tg = newPool(1, 1).newTaskGroup(2);
  let resolved = false;
  const w = tg.wait().then(() => (resolved = true));
  tg.done();
  await flush();
  assert.equal(resolved, false);
  tg.done();
  await w;
  await newPool(1, 1).newTaskGroup(0).wait();
});

test('wait() also waits for the group\'s tasks to finish their callbacks, whoever called done()', async () => {
  const lp = newPool(2, 2);
  const tg = lp.newTaskGroup(1);
  const g = gate();
  let completeReturned = false;
  await lp.addTask(
    tg
      .newTaskOptions()
      .setTask(() => { tg.done(); })
      .setOnComplete(async () => { await g.promise; completeReturned = true; }),
  );
  let resolved = false;
  const w = tg.wait().then(() => (resolved = true));
  await flush();
  assert.equal(tg.count, 0);
  assert.equal(resolved, false, 'count is 0 but a callback is still running');
  g.open();
  await w;
  assert.equal(completeReturned, true);
});

test('wait({ timeout }) gives up with TaskGroupError; wait({ signal }) with AbortError', async () => {
  const tg = newPool(1, 1).newTaskGroup(1);
  const err = await rejection(tg.wait({ timeout: 5 }));
  assert.ok(err instanceof TaskGroupError);
  assert.match(err.message, /timed out after 5 ms with count 1/);
  const ac = new AbortController();
  const p = tg.wait({ signal: ac.signal });
  ac.abort('enough');
  const aborted = await rejection(p);
  assert.ok(aborted instanceof AbortError);
  assert.equal(aborted.cause, 'enough');
  assert.ok((await rejection(tg.wait({ signal: ac.signal }))) instanceof AbortError, 'already aborted');
  assert.throws(() => tg.wait({ timeout: -1 }), { name: 'RangeError', message: /wait\(options\)\.timeout/ });
  tg.done();
  await tg.wait({ timeout: 1000, signal: new AbortController().signal });
});

test('many tasks of one group: wait resolves after the last', async () => {
  const lp = newPool(4, 8);
  const n = 200;
  const tg = lp.newTaskGroup(n);
  let done = 0;
  for (let i = 0; i < n; i++) {
    await lp.addTask(tg.newTaskOptions().setTask(async () => { await flush(); done++; }).setAutoDone());
  }
  await tg.wait();
  assert.equal(done, n);
  assert.equal(tg.count, 0);
});
