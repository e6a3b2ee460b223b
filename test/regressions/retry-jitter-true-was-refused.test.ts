// Issue #14.5: users coming from p-retry write `jitter: true` / `false`; it was refused with a TypeError.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LitePool } from '../../src/index.js';
import { resolveRetry } from '../../src/retry.js';

test('retry.jitter: true means full jitter, false means none; other values are still refused', async () => {
  assert.equal(resolveRetry('retry', { retries: 1, jitter: true }).jitter, 'full');
  assert.equal(resolveRetry('retry', { retries: 1, jitter: false }).jitter, 'none');
  assert.throws(() => resolveRetry('retry', { retries: 1, jitter: 1 as never }), { name: 'TypeError', message: /retry\.jitter must be 'full', 'equal' or 'none' \(or true \/ false\), received 1/ });
  const lp = new LitePool();
  let n = 0;
  assert.equal(await lp.run(() => (++n < 2 ? Promise.reject(new Error('again')) : n), { retry: { retries: 2, minDelay: 1, jitter: true } }), 2);
  await lp.close();
});
