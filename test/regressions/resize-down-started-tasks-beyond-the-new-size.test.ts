// Found by the interleaving property (test/properties.test.ts): after resize() down, a lower-numbered worker
// that freed up took the next task while the removed workers were still busy, so more task functions ran
// than `workers` (2 with workers = 1). A task now starts only while fewer than `workers` workers are busy,
// as p-limit and p-queue do when their concurrency is lowered.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { limit, newPool } from '../../src/index.js';
import { flush, gate } from '../helpers.js';

test('after resize() down, no task starts until fewer than `workers` are busy', async () => {
  const lp = newPool(3, 10);
  const gates = Array.from({ length: 6 }, () => gate());
  let executing = 0;
  let peakAfterResize = 0;
  let resized = false;
  const all = gates.map((g) =>
    lp.run(async () => {
      executing++;
      if (resized) peakAfterResize = Math.max(peakAfterResize, executing);
      await g.promise;
      executing--;
    }),
  );
  await flush();
  assert.equal(lp.running, 3);
  lp.resize(1);
  resized = true;
  // Worker 0 frees up while workers 1 and 2, removed, are still busy: nothing new may start.
  gates[0]?.open();
  await flush();
  await flush();
  assert.equal(lp.running, 2);
  assert.equal(executing, 2);
  assert.equal(lp.size, 3);
  gates[1]?.open();
  await flush();
  await flush();
  assert.equal(executing, 1, 'still one busy: the one remaining worker slot is taken');
  gates[2]?.open();
  await flush();
  await flush();
  assert.equal(executing, 1, 'the next task started on the one worker left');
  for (const g of gates.slice(3)) g.open();
  await Promise.all(all);
  assert.equal(peakAfterResize, 1, 'every task started after the size went down ran alone');
  assert.equal(lp.usage().workers.filter((w) => w.state !== 'retired').length, 1);
});

test('limit(): lowering concurrency holds new calls until activeCount is below it (as p-limit)', async () => {
  const l = limit(2);
  const gates = Array.from({ length: 4 }, () => gate());
  const all = gates.map((g) => l(() => g.promise));
  await flush();
  assert.equal(l.activeCount, 2);
  l.concurrency = 1;
  gates[0]?.open();
  await flush();
  await flush();
  assert.equal(l.activeCount, 1);
  assert.equal(l.pendingCount, 2);
  for (const g of gates.slice(1)) g.open();
  await Promise.all(all);
});
