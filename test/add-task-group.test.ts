import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newPool, PoolClosedError } from '../src/index.js';
import { flush, gate, rejection } from './helpers.js';

test('addTaskGroup starts all tasks together, each on its own worker', async () => {
  const lp = newPool(3, 5);
  const g = gate();
  const workers: number[] = [];
  const opts = [0, 1, 2].map(() => lp.newTaskOptions().setTask(async (ctx) => { workers.push(ctx.workerId); await g.promise; }));
  await lp.addTaskGroup(...opts);
  assert.deepEqual(workers.sort(), [0, 1, 2]);
  assert.equal(lp.running, 3);
  g.open();
  await lp.onIdle();
});

test('a gang waits until enough workers are free at once, reserving them ahead of queued tasks', async () => {
  const lp = newPool(3, 5);
  const gates = [gate(), gate(), gate()];
  const order: string[] = [];
  for (const [i, g] of gates.entries()) void lp.run(async () => { await g.promise; order.push(`busy${i} done`); });
  await flush();
  let gangStarted = false;
  const gang = lp.addTaskGroup(
    lp.newTaskOptions().setTask(() => { order.push('gang a'); }),
    lp.newTaskOptions().setTask(() => { order.push('gang b'); }),
  ).then(() => (gangStarted = true));
  const later = lp.run(() => { order.push('queued task'); });
  gates[0]?.open();
  await flush();
  assert.equal(gangStarted, false, 'one free worker is not enough for a gang of two');
  assert.ok(!order.includes('queued task'), 'the free worker is reserved for the gang');
  gates[1]?.open();
  await gang;
  await later;
  gates[2]?.open();
  await lp.onIdle();
  assert.deepEqual(order.slice(0, 4), ['busy0 done', 'busy1 done', 'gang a', 'gang b']);
  assert.ok(order.indexOf('queued task') > order.indexOf('gang b'));
});

test('addTaskGroup with more tasks than workers is a RangeError, not a deadlock', async () => {
  const lp = newPool(2, 5);
  const opts = [1, 2, 3].map(() => lp.newTaskOptions().setTask(() => 1));
  const err = await rejection(lp.addTaskGroup(...opts));
  assert.equal(err.name, 'RangeError');
  assert.match(err.message, /3 tasks .* the pool has 2/);
  await lp.run(() => 'still usable');
});

test('addTaskGroup validates every option, resolves at once when empty, and is refused after close', async () => {
  const lp = newPool(2, 5);
  await lp.addTaskGroup();
  assert.equal((await rejection(lp.addTaskGroup(lp.newTaskOptions().setTask(() => 1), lp.newTaskOptions()))).name, 'TypeError');
  await lp.close();
  assert.ok((await rejection(lp.addTaskGroup(lp.newTaskOptions().setTask(() => 1)))) instanceof PoolClosedError);
});

test('a waiting gang is rejected on close and on a resize below its size', async () => {
  const lp = newPool(2, 5);
  const g = gate();
  void lp.run(() => g.promise);
  const gang = lp.addTaskGroup(lp.newTaskOptions().setTask(() => 1), lp.newTaskOptions().setTask(() => 2));
  lp.resize(1);
  const err = await rejection(gang);
  assert.equal(err.name, 'RangeError');
  lp.resize(2);
  const gang2 = lp.addTaskGroup(lp.newTaskOptions().setTask(() => 1), lp.newTaskOptions().setTask(() => 2));
  const closing = lp.close();
  assert.ok((await rejection(gang2)) instanceof PoolClosedError);
  g.open();
  await closing;
});

test('a signal aborted while its gang waits rejects the whole gang with AbortError; nothing of it runs, and queued tasks take the workers it reserved', async () => {
  const lp = newPool(2, 5);
  const g = gate();
  const blocker = lp.run(() => g.promise);
  const ran: string[] = [];
  const ac = new AbortController();
  const member = (name: string) => lp.newTaskOptions().setTask(() => ran.push(name)).setOnComplete(() => ran.push(`${name} complete`));
  const gang = lp.addTaskGroup(member('a').setSignal(ac.signal), member('b'));
  // Queued behind the gang, which reserves the free worker.
  const after = lp.run(() => ran.push('after'));
  await flush();
  assert.deepEqual(ran, []);
  ac.abort(new Error('user left'));
  const err = await rejection(gang);
  assert.equal(err.name, 'AbortError');
  assert.match(err.message, /addTaskGroup\(\.\.\.opts\)/);
  assert.equal((err.cause as Error).message, 'user left');
  await after;
  assert.deepEqual(ran, ['after'], 'the freed reservation went to the queued task; no gang member ran');
  g.open();
  await blocker;
  await lp.onIdle();
  assert.equal(lp.usage().rejected, 2);
  // Once a gang has started, its signals are the running tasks' ones.
  const ac2 = new AbortController();
  let seen: AbortSignal | undefined;
  await lp.addTaskGroup(lp.newTaskOptions().setSignal(ac2.signal).setTask((ctx) => { seen = ctx.signal; return new Promise((r) => ctx.signal.addEventListener('abort', r)); }));
  ac2.abort();
  await lp.onIdle();
  assert.equal(seen?.aborted, true);
});
