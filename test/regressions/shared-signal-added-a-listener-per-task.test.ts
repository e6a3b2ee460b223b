// Issue #14.3: 100 run() calls with the same AbortSignal printed MaxListenersExceededWarning, and registering
// 100,000 was slow, because each task added its own listener. Now: one listener per signal per pool.
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { test } from 'node:test';
import { AbortError, LitePool } from '../../src/index.js';
import { captureWarnings, gate, rejection } from '../helpers.js';

test('many tasks sharing one signal: one listener, no MaxListenersExceededWarning, all cancelled by one abort', async () => {
  const warnings = await captureWarnings(async () => {
    const lp = new LitePool({ workers: 2 });
    const ac = new AbortController();
    const g = gate();
    const running = [lp.run(() => g.promise, { signal: ac.signal }), lp.run(() => g.promise, { signal: ac.signal })];
    const waiting = Array.from({ length: 100_000 }, (_, i) => lp.run(() => i, { signal: ac.signal }));
    assert.equal(getEventListeners(ac.signal, 'abort').length, 1);
    const other = new AbortController();
    const own = lp.run(() => 'own', { signal: other.signal });
    assert.equal(getEventListeners(other.signal, 'abort').length, 1);
    ac.abort(new Error('enough'));
    const errors = await Promise.all(waiting.map((p) => rejection(p)));
    assert.ok(errors.every((e) => e instanceof AbortError));
    g.open();
    assert.deepEqual(await Promise.all(running), [undefined, undefined], 'running tasks that ignore their signal finish');
    assert.equal(await own, 'own');
    assert.equal(getEventListeners(ac.signal, 'abort').length, 0);
    assert.equal(getEventListeners(other.signal, 'abort').length, 0, 'the listener goes with the last task');
    await lp.close();
  });
  assert.deepEqual(warnings.map((w) => w.name), []);
});
