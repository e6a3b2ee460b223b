// The latency window assumed times never go back; a start time taken earlier in the same pass (a gang's
// shared time, a slot's release time) made it index a slice at -1 and throw inside dispatch.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LatencyWindow } from '../../src/engine/latency.js';

test('latency-window-broke-on-an-earlier-time: a slightly earlier time counts in the current slice', () => {
  const w = new LatencyWindow(600);
  w.recordRun(1, 250);
  w.recordWait(2, 99);
  w.recordRun(3, 199);
  const f = w.figures(250);
  assert.equal(f.run.count, 2);
  assert.equal(f.wait.count, 1);
});
