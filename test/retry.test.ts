import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backoffDelay, resolveRetry } from '../src/retry.js';

test('resolveRetry: defaults, a plain number, and named errors', () => {
  const p = resolveRetry('retry', 3);
  assert.deepEqual({ ...p, retryIf: undefined, onRetry: undefined }, {
    retries: 3, minDelay: 100, maxDelay: 30_000, factor: 2, jitter: 'full', retryIf: undefined, onRetry: undefined,
  });
  assert.equal(resolveRetry('retry', { retries: Infinity }).retries, Infinity);
  assert.throws(() => resolveRetry('retry', { retries: -1 }), { name: 'RangeError', message: /retry\.retries .* -1/ });
  assert.throws(() => resolveRetry('retry', {} as never), { name: 'TypeError', message: /retry\.retries .* undefined/ });
  assert.throws(() => resolveRetry('retry', { retries: 1, factor: 0.5 }), { name: 'RangeError', message: /retry\.factor/ });
  assert.throws(() => resolveRetry('retry', { retries: 1, minDelay: 10, maxDelay: 5 }), { name: 'RangeError', message: /maxDelay/ });
  assert.throws(() => resolveRetry('retry', { retries: 1, jitter: 'some' as never }), { name: 'TypeError', message: /jitter/ });
  assert.throws(() => resolveRetry('retry', { retries: 1, retryIf: 1 as never }), { name: 'TypeError', message: /retry\.retryIf/ });
  assert.throws(() => resolveRetry('retry', { retries: 1, delay: 1 } as never), { name: 'TypeError', message: /retry\.delay is not a retry option/ });
});

test('backoffDelay: exponential, capped, with full, equal or no jitter (injected random)', () => {
  const none = resolveRetry('r', { retries: 10, minDelay: 100, factor: 2, maxDelay: 1000, jitter: 'none' });
  assert.deepEqual([1, 2, 3, 4, 5, 6].map((k) => backoffDelay(none, k)), [100, 200, 400, 800, 1000, 1000]);
  const full = resolveRetry('r', { retries: 10, minDelay: 100, factor: 3 });
  assert.equal(backoffDelay(full, 2, () => 0.5), 150);
  assert.equal(backoffDelay(full, 2, () => 0), 0);
  const equal = resolveRetry('r', { retries: 10, minDelay: 100, jitter: 'equal' });
  assert.equal(backoffDelay(equal, 1, () => 0), 50);
  assert.equal(backoffDelay(equal, 1, () => 0.5), 75);
});

test('backoffDelay never exceeds maxDelay, even for huge retry numbers', () => {
  const p = resolveRetry('r', { retries: Infinity, minDelay: 1, maxDelay: 500, jitter: 'none' });
  assert.equal(backoffDelay(p, 10_000), 500);
});
