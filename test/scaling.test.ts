import assert from 'node:assert/strict';
import { test } from 'node:test';
import { scaleDecision, ThreadPool, type ResolvedScaling } from '../src/threads/index.js';
import { flush } from './helpers.js';

const go: ResolvedScaling = { growAt: 0.7, shrinkBelow: 0.3, step: 0.1, cooldown: 10_000, interval: 1_000 };
const base = { slotsPerThread: 1, minThreads: 1, maxThreads: 20, lastGrowAt: Number.NEGATIVE_INFINITY, now: 100_000 };

test('scaleDecision follows the Go design: grow at load ≥ 0.7 by 10 % steps, shrink below 0.3, not within 10 s of growing', () => {
  assert.equal(scaleDecision({ ...base, threads: 10, busySlots: 7 }, go), 2, '0.7 → grow by 10 % of 20');
  assert.equal(scaleDecision({ ...base, threads: 10, busySlots: 6 }, go), 0, '0.6 → hold');
  assert.equal(scaleDecision({ ...base, threads: 19, busySlots: 19 }, go), 1, 'never past maxThreads');
  assert.equal(scaleDecision({ ...base, threads: 20, busySlots: 20 }, go), 0);
  assert.equal(scaleDecision({ ...base, threads: 10, busySlots: 2 }, go), -2, '0.2 → shrink by 10 % of 20');
  assert.equal(scaleDecision({ ...base, threads: 10, busySlots: 3 }, go), 0, '0.3 → hold');
  assert.equal(scaleDecision({ ...base, threads: 10, busySlots: 0, lastGrowAt: 95_000 }, go), 0, 'within 10 s of growing: no shrink');
  assert.equal(scaleDecision({ ...base, threads: 10, busySlots: 0, lastGrowAt: 90_000 }, go), -2, '10 s after growing: shrink');
  assert.equal(scaleDecision({ ...base, threads: 2, busySlots: 0 }, go), -1, 'never below minThreads');
  assert.equal(scaleDecision({ ...base, threads: 1, busySlots: 0 }, go), 0);
  assert.equal(scaleDecision({ ...base, threads: 0, busySlots: 0 }, go), 1, 'up to minThreads');
  assert.equal(scaleDecision({ ...base, maxThreads: 4, threads: 2, busySlots: 2 }, go), 1, 'a step is at least one thread');
  assert.equal(scaleDecision({ ...base, threads: 5, slotsPerThread: 4, busySlots: 14 }, go), 2, 'load counts slots: 14 / 20 = 0.7');
});

test('the pool scales on its clock: grows under load, shrinks after the cooldown, ends idle threads after idleTimeout', async () => {
  let now = 0;
  const tp = new ThreadPool({ minThreads: 1, maxThreads: 4, idleTimeout: 30_000, clock: { now: () => now }, scaling: { interval: 3_600_000 } });
  const tasks = new URL('./fixtures/thread-tasks.ts', import.meta.url);
  const gate = new Int32Array(new SharedArrayBuffer(4));
  try {
    const running = [tp.runTask(tasks, 'waitGate', gate), tp.runTask(tasks, 'waitGate', gate)];
    await flush();
    assert.equal(tp.threads, 2, 'threads start on demand');
    now = 1_000;
    tp.scaleNow();
    assert.equal(tp.threads, 3, 'load 2/2 ≥ 0.7: one more thread (10 % of 4, at least 1)');
    Atomics.store(gate, 0, 1);
    Atomics.notify(gate, 0);
    await Promise.all(running);
    now = 5_000;
    tp.scaleNow();
    assert.equal(tp.threads, 3, 'idle, but within 10 s of growing');
    now = 11_000;
    tp.scaleNow();
    assert.equal(tp.threads, 2, 'load 0 < 0.3 after the cooldown: one fewer');
    now = 12_000;
    tp.scaleNow();
    assert.equal(tp.threads, 1);
    now = 100_000;
    tp.scaleNow();
    assert.equal(tp.threads, 1, 'never below minThreads');
  } finally {
    await tp.close();
  }
});
