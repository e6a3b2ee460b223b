// A wait beyond 2^31 − 1 ms (a monthly quota, a long pauseFor) made Node fire the timer after 1 ms, with a
// TimeoutOverflowWarning each time: a busy loop until the end of the wait.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { timerDelay } from '../../src/engine/timer-delay.js';
import { LitePool } from '../../src/index.js';
import { captureWarnings, turns } from '../helpers.js';

test('long-rate-interval-fired-every-millisecond: delays are capped, no overflow warning', async () => {
  assert.equal(timerDelay(3e9), 0x7fffffff);
  assert.equal(timerDelay(0.2), 1);
  const warnings = await captureWarnings(async () => {
    const lp = new LitePool({ workers: 1, rate: { limit: 1, interval: 30 * 24 * 3600 * 1000 } });
    await lp.run(() => 'first');
    const second = lp.run(() => 'never');
    lp.pauseFor(3e9);
    await turns(5);
    assert.equal(lp.size, 1);
    await lp.close({ force: true });
    await assert.rejects(second, { name: 'PoolClosedError' });
  });
  assert.deepEqual(warnings.map((w) => w.name), []);
});
