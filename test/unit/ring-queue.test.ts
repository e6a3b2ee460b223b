import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RingQueue } from '../../src/internal/ring-queue.js';
import { PriorityQueue } from '../../src/internal/priority-queue.js';

/** Takes every item, front first (what the engine's lanes do with `shift()`). */
function drain<T>(q: { shift(): T | undefined }): T[] {
  const out: T[] = [];
  for (let item = q.shift(); item !== undefined; item = q.shift()) out.push(item);
  return out;
}

test('RingQueue keeps FIFO order across growth, with unshift at the front', () => {
  const q = new RingQueue<number>();
  for (let i = 0; i < 100; i++) q.push(i);
  q.unshift(-1);
  assert.equal(q.length, 101);
  assert.equal(q.peek(), -1);
  const out = drain(q);
  assert.deepEqual(out, [-1, ...Array.from({ length: 100 }, (_, i) => i)]);
  assert.equal(q.shift(), undefined);
  assert.equal(q.length, 0);
});

test('RingQueue wraps around without losing items', () => {
  const q = new RingQueue<number>();
  const model: number[] = [];
  for (let i = 0; i < 1000; i++) {
    if (i % 3 === 2) assert.equal(q.shift(), model.shift());
    else if (i % 7 === 0) {
      q.unshift(i);
      model.unshift(i);
    } else {
      q.push(i);
      model.push(i);
    }
    assert.equal(q.length, model.length);
  }
  assert.deepEqual(drain(q), model);
});

test('RingQueue.filter keeps order and clears what it drops', () => {
  const q = new RingQueue<number>();
  for (let i = 0; i < 40; i++) q.push(i);
  for (let i = 0; i < 10; i++) q.shift();
  q.filter((n) => n % 2 === 0);
  assert.deepEqual(drain(q), Array.from({ length: 15 }, (_, i) => 10 + 2 * i));
});

test('RingQueue does not retain items it gave away', () => {
  const q = new RingQueue<object>();
  q.push({});
  q.shift();
  // The slot is cleared: nothing but undefined is left in the buffer.
  const buffer = (q as unknown as { buffer: unknown[] }).buffer;
  assert.ok(buffer.every((x) => x === undefined));
});

test('PriorityQueue: higher first, FIFO among equals, unshift ahead of its equals', () => {
  const q = new PriorityQueue<{ priority: number; id: string }>();
  q.push({ priority: 0, id: 'a' });
  q.push({ priority: 5, id: 'b' });
  q.push({ priority: 0, id: 'c' });
  q.push({ priority: 5, id: 'd' });
  q.push({ priority: -1, id: 'e' });
  q.unshift({ priority: 0, id: 'r' });
  assert.equal(q.length, 6);
  assert.deepEqual(
    drain(q).map((x) => x.id),
    ['b', 'd', 'r', 'a', 'c', 'e'],
  );
  assert.equal(q.length, 0);
  assert.equal(q.shift(), undefined);
});

test('PriorityQueue.filter drops items and keeps the count', () => {
  const q = new PriorityQueue<{ priority: number; id: number }>();
  for (let i = 0; i < 20; i++) q.push({ priority: i % 3, id: i });
  q.filter((x) => x.id % 2 === 0);
  assert.equal(q.length, 10);
  const ids = drain(q).map((x) => x.id);
  assert.deepEqual(ids, [2, 8, 14, 4, 10, 16, 0, 6, 12, 18]);
});
