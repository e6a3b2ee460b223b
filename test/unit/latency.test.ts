import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { LatencyWindow } from '../../src/engine/latency.js';

test('LatencyWindow: percentiles within 7 % of the exact ones, max exact (property)', () => {
  fc.assert(
    fc.property(fc.array(fc.double({ min: 0.001, max: 100_000, noNaN: true }), { minLength: 1, maxLength: 400 }), (xs) => {
      const w = new LatencyWindow(60_000);
      for (const x of xs) w.recordRun(x, 1_000);
      const f = w.figures(1_000).run;
      const sorted = [...xs].sort((a, b) => a - b);
      const exact = (q: number) => sorted[Math.ceil(q * sorted.length) - 1] as number;
      assert.equal(f.count, xs.length);
      assert.equal(f.max, sorted[sorted.length - 1]);
      for (const [q, got] of [
        [0.5, f.p50],
        [0.9, f.p90],
        [0.99, f.p99],
      ] as const) {
        const want = exact(q);
        assert.ok(Math.abs(got - want) <= Math.max(0.07 * want, 0.001), `p${q * 100}: ${got} for ${want}`);
      }
    }),
  );
});

test('LatencyWindow: what is older than the window is forgotten, slice by slice; reset forgets everything', () => {
  const w = new LatencyWindow(600);
  w.recordWait(5, 0);
  w.recordWait(7, 150);
  assert.equal(w.figures(150).wait.count, 2);
  assert.equal(w.figures(599).wait.count, 2, 'within the window');
  assert.equal(w.figures(650).wait.count, 1, 'the first slice (0–100 ms) has left');
  assert.equal(w.figures(5_000).wait.count, 0);
  w.recordRun(3, 5_000);
  w.reset();
  assert.deepEqual(w.figures(5_001).run, { p50: 0, p90: 0, p99: 0, max: 0, count: 0 });
});
