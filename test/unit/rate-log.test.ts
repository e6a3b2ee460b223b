import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { RateLog } from '../../src/engine/rate-log.js';

test('RateLog: wait() is the time until the limit-th latest start leaves the window, for every window', () => {
  const log = new RateLog([
    { limit: 2, interval: 100 },
    { limit: 3, interval: 1000 },
  ]);
  assert.equal(log.wait(0, 0), 0);
  log.record(0);
  log.record(10);
  assert.equal(log.wait(50, 0), 50, 'the first window is full until 100');
  assert.equal(log.wait(100, 0), 0);
  log.record(100);
  assert.equal(log.wait(150, 0), 850, 'the second window is full until 1000');
  assert.equal(log.wait(150, 2), Number.POSITIVE_INFINITY, 'two promised starts fill the first window whatever the time');
  assert.deepEqual(log.headroom(150), [
    { limit: 2, interval: 100, available: 1 },
    { limit: 3, interval: 1000, available: 0 },
  ]);
});

test('RateLog: set() keeps the latest starts, as many as the new largest limit', () => {
  const log = new RateLog([{ limit: 3, interval: 100 }]);
  for (const t of [0, 1, 2, 3, 4]) log.record(t);
  log.set([{ limit: 2, interval: 100 }]);
  assert.equal(log.wait(50, 0), 53, 'the 2nd latest start (3) leaves at 103');
  log.set([{ limit: 5, interval: 100 }]);
  assert.equal(log.wait(50, 0), 0, 'only two starts are remembered: room for three more');
  assert.equal(log.last, 4);
});

test('RateLog: a start is allowed exactly when the sliding window holds fewer than limit starts (property)', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 50 }), fc.array(fc.integer({ min: 0, max: 30 }), { maxLength: 60 }), (limit, interval, gaps) => {
      const log = new RateLog([{ limit, interval }]);
      const starts: number[] = [];
      let now = 0;
      for (const gap of gaps) {
        now += gap;
        const inWindow = starts.filter((t) => now - t < interval).length;
        assert.equal(log.wait(now, 0) === 0, inWindow < limit);
        if (log.wait(now, 0) === 0) {
          log.record(now);
          starts.push(now);
        }
      }
    }),
  );
});
