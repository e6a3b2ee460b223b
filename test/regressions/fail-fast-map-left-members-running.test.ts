// Issue #14.6 (p-map #49, pond #68): a fail-fast map() rejected while members it had started were still
// running, with no way to wait for them. With { waitForRunning: true } it rejects only once they finished.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LitePool } from '../../src/index.js';
import { deferred, flush, rejection } from '../helpers.js';

test('map(..., { waitForRunning: true }) rejects with the first error only after the running members finished', async () => {
  const lp = new LitePool({ workers: 2 });
  const slow = deferred<void>();
  const events: string[] = [];
  let settled = false;
  const mapped = lp
    .map(
      [0, 1, 2, 3, 4],
      async (i, _index, ctx) => {
        events.push(`start ${i}`);
        if (i === 0) {
          await slow.promise; // ignores its signal, as cleanup-sensitive work may
          events.push(`end ${i} (aborted: ${ctx.signal.aborted})`);
        }
        await null;
        if (i === 1) throw new Error('item 1 failed');
        return i;
      },
      { waitForRunning: true },
    )
    .finally(() => (settled = true));
  await flush();
  await flush();
  assert.equal(settled, false, 'item 0 is still running');
  slow.resolve();
  const err = await rejection(mapped);
  assert.equal(err.message, 'item 1 failed');
  assert.deepEqual(events, ['start 0', 'start 1', 'end 0 (aborted: true)'], 'waiting items were dropped; the running one finished first');
  assert.equal(lp.running, 0);
  await assert.rejects(lp.map([1], (x) => x, { waitForRunning: 'yes' as never }), { name: 'TypeError', message: /map\(options\)\.waitForRunning must be a boolean/ });
  await lp.close();
});

test('without the option, fail-fast map() still rejects at once', async () => {
  const lp = new LitePool({ workers: 2 });
  const slow = deferred<void>();
  const err = await rejection(lp.map([0, 1], async (i) => (i === 0 ? slow.promise : Promise.reject(new Error('fast')))));
  assert.equal(err.message, 'fast');
  assert.equal(lp.running, 1, 'item 0 is still running');
  slow.resolve();
  await lp.close();
});
