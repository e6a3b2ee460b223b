// Parity with p-limit's documented behaviour, plus what limit() adds by being built on the pool.
import assert from 'node:assert/strict';
import { AsyncLocalStorage } from 'node:async_hooks';
import { test } from 'node:test';
import { AbortError, limit } from '../src/index.js';
import { flush, gate } from './helpers.js';

test('runs at most `concurrency` functions at once, FIFO', async () => {
  const l = limit(2);
  let now = 0;
  let peak = 0;
  const order: number[] = [];
  const all = Array.from({ length: 10 }, (_, i) => l(async () => { now++; peak = Math.max(peak, now); order.push(i); await flush(); now--; return i; }));
  assert.deepEqual(await Promise.all(all), Array.from({ length: 10 }, (_, i) => i));
  assert.equal(peak, 2);
  assert.deepEqual(order, Array.from({ length: 10 }, (_, i) => i));
});

test('passes extra arguments to fn, and propagates rejections and sync throws', async () => {
  const l = limit(1);
  assert.equal(await l((a: number, b: string) => `${a}${b}`, 1, 'x'), '1x');
  await assert.rejects(l(async () => { throw new Error('async'); }), /async/);
  await assert.rejects(l(() => { throw new Error('sync'); }), /sync/);
  await assert.rejects(l('nope' as never), TypeError);
});

test('activeCount and pendingCount', async () => {
  const l = limit(2);
  const g = gate();
  assert.equal(l.activeCount, 0);
  assert.equal(l.pendingCount, 0);
  const all = [1, 2, 3, 4, 5].map(() => l(() => g.promise));
  await flush();
  assert.equal(l.activeCount, 2);
  assert.equal(l.pendingCount, 3);
  g.open();
  await Promise.all(all);
  assert.equal(l.activeCount, 0);
  assert.equal(l.pendingCount, 0);
});

test('concurrency get/set: raising it starts waiting functions at once; invalid values throw', async () => {
  const l = limit(1);
  assert.equal(l.concurrency, 1);
  const g = gate();
  const all = [1, 2, 3].map(() => l(() => g.promise));
  await flush();
  assert.equal(l.activeCount, 1);
  l.concurrency = 3;
  assert.equal(l.concurrency, 3);
  assert.equal(l.activeCount, 3);
  g.open();
  await Promise.all(all);
  for (const bad of [0, -1, 1.5, Number.NaN]) assert.throws(() => { l.concurrency = bad; }, RangeError);
  assert.throws(() => limit(0), { name: 'RangeError', message: /concurrency .* 0/ });
  assert.throws(() => limit('2' as never), TypeError);
  const inf = limit(Infinity);
  assert.equal(inf.concurrency, Infinity);
  const open = gate();
  const many = Array.from({ length: 3000 }, () => inf(() => open.promise));
  await flush();
  assert.equal(inf.activeCount, 3000, 'Infinity: everything runs at once');
  assert.equal(inf.pendingCount, 0);
  open.open();
  await Promise.all(many);
});

test('clearQueue discards waiting functions (left pending, as p-limit does by default)', async () => {
  const l = limit(1);
  const g = gate();
  let ran = 0;
  const first = l(() => g.promise);
  let settled = false;
  void l(() => { ran++; }).then(() => (settled = true), () => (settled = true));
  await flush();
  assert.equal(l.pendingCount, 1);
  l.clearQueue();
  assert.equal(l.pendingCount, 0);
  g.open();
  await first;
  await flush();
  assert.equal(ran, 0);
  assert.equal(settled, false);
});

test('clearQueue with rejectOnClear rejects waiting functions with an AbortError', async () => {
  const l = limit({ concurrency: 1, rejectOnClear: true });
  const g = gate();
  const first = l(() => g.promise);
  const second = l(() => 'never');
  await flush();
  l.clearQueue();
  await assert.rejects(second, AbortError);
  g.open();
  await first;
});

test('map(iterable, fn) passes (item, index) and keeps order', async () => {
  const l = limit(2);
  assert.deepEqual(await l.map([3, 1, 2], async (x, i) => { await new Promise((r) => setTimeout(r, x)); return `${i}:${x}`; }), ['0:3', '1:1', '2:2']);
});

test('propagates AsyncLocalStorage context to queued functions', async () => {
  const als = new AsyncLocalStorage<number>();
  const l = limit(1);
  const results = await Promise.all([1, 2, 3].map((n) => als.run(n, () => l(async () => { await flush(); return als.getStore(); }))));
  assert.deepEqual(results, [1, 2, 3]);
});
