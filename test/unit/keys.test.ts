import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KeyTable } from '../../src/engine/keys.js';
import { emptySpec, Task } from '../../src/engine/task.js';

const task = (key: string) => {
  const spec = emptySpec();
  spec.key = key;
  return new Task(() => {}, spec);
};

test('KeyTable: a stream of distinct keys leaves nothing behind (idle keys without a rate are dropped at once)', () => {
  const queued: Task[] = [];
  const table = new KeyTable({ workers: 1, rate: [] }, (t) => queued.push(t), () => {});
  for (let i = 0; i < 100_000; i++) {
    const name = `k${i}`;
    assert.equal(table.enter(task(name), name), true);
    table.started(name, 0);
    table.left(name);
  }
  assert.equal(table.size, 0);
  assert.equal(queued.length, 0);
});

test('KeyTable: a parked task becomes ready when its key frees up; a key is kept while it has tasks', () => {
  const queued: Task[] = [];
  const table = new KeyTable({ workers: 1, rate: [] }, (t) => queued.push(t), () => {});
  const a1 = task('a');
  const a2 = task('a');
  assert.equal(table.enter(a1, 'a'), true);
  assert.equal(table.enter(a2, 'a'), false);
  assert.equal(a2.state, 'parked');
  assert.equal(table.parked, 1);
  assert.equal(table.canStart('a'), false);
  assert.equal(table.canStart('b'), true);
  table.started('a', 0);
  assert.deepEqual(table.figures(), [{ key: 'a', running: 1, waiting: 1 }]);
  table.left('a');
  assert.deepEqual(queued, [a2]);
  assert.equal(table.parked, 0);
  table.started('a', 0);
  table.left('a');
  assert.equal(table.size, 0);
});

test('KeyTable: with a rate, an idle key is remembered until its latest start leaves the window, then swept', async () => {
  const table = new KeyTable({ workers: Number.POSITIVE_INFINITY, rate: [{ limit: 1, interval: 30 }] }, () => {}, () => {});
  table.enter(task('r'), 'r');
  table.started('r', performance.now());
  table.left('r');
  assert.equal(table.size, 1, 'its start still counts');
  assert.equal(table.canStart('r'), false);
  await new Promise((resolve) => setTimeout(resolve, 80));
  table.sweep();
  assert.equal(table.size, 0);
  table.stop();
});
