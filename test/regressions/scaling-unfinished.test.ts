// Go flaw: automatic scaling was sketched but never finished, so the worker count could not change.
// In-process, scaling is resize(); the thread pool's load-based scaler is pinned by test/scaling.test.ts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newPool } from '../../src/index.js';
import { flush, gate } from '../helpers.js';

test('resize() grows and shrinks the pool at once', async () => {
  const lp = newPool(1, 10);
  const g = gate();
  const all = Array.from({ length: 6 }, () => lp.run(() => g.promise));
  await flush();
  assert.equal(lp.running, 1);
  lp.resize(4);
  assert.equal(lp.running, 4);
  lp.resize(2);
  g.open();
  await Promise.all(all);
  assert.equal(lp.workers, 2);
  assert.equal(lp.usage().workers.filter((w) => w.state !== 'retired').length, 2);
});
