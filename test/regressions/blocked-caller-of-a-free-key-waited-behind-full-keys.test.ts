// With keys, the waiting room could fill with tasks waiting behind their key; callers of other keys were then
// blocked behind them (FIFO admission) while workers sat idle.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LitePool } from '../../src/index.js';
import { flush, gate } from '../helpers.js';

test('blocked-caller-of-a-free-key-waited-behind-full-keys: a caller whose key has room starts on a free worker', async () => {
  const lp = new LitePool({ workers: 4, queueSize: 1, keys: { workers: 1 } });
  const g = gate();
  const a = Array.from({ length: 6 }, () => lp.run(() => g.promise, { key: 'a' }));
  await flush();
  assert.equal(lp.running, 1);
  assert.equal(lp.size, 4, 'a2–a5 fill the room of 4 × 1');
  assert.equal(lp.blockedAdders, 1, 'a6 waits for room');
  const b = lp.run(() => 'b ran', { key: 'b' });
  assert.equal(await b, 'b ran', 'b started on a free worker although a6 was ahead of it');
  assert.equal(lp.blockedAdders, 1, 'a6 still waits: its key is full');
  g.open();
  await Promise.all(a);
  await lp.close();
});
