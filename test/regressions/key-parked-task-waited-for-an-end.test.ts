// A task parked behind its key because the key's ready tasks held all of its rate waited for one of them to
// end, not for the rate: with long tasks it waited far longer than the rate asks.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LitePool } from '../../src/index.js';
import { gate } from '../helpers.js';

test('key-parked-task-waited-for-an-end: the third task of a key at 2 per 100 ms starts once the window allows, while the first two still run', async () => {
  const lp = new LitePool({ workers: 4, keys: { rate: { limit: 2, interval: 100 } } });
  const g = gate();
  const started: number[] = [];
  const runs = [1, 2, 3].map((n) =>
    lp.run(
      async () => {
        started.push(n);
        if (n < 3) await g.promise;
      },
      { key: 'k' },
    ),
  );
  await runs[2];
  assert.deepEqual(started, [1, 2, 3], 'the third ran while the first two were still running');
  g.open();
  await Promise.all(runs);
  await lp.close();
});
