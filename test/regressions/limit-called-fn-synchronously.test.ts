// Issue #14, item 1: limit() called the function synchronously when a slot was free, where p-limit calls it a
// microtask later (while counting it in activeCount at once). So code that changed state right after the
// call was seen by p-limit's function and not by ours: `let value = 1; const a = l(() => value); value = 2;`
// resolves to 2 with p-limit and resolved to 1 here.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import pLimit from 'p-limit';
import { limit } from '../../src/index.js';

test('limit(): the function is called a microtask after the call, as p-limit calls it', async () => {
  for (const make of [pLimit, limit]) {
    const l = make(1);
    let value = 1;
    let called = false;
    const a = l(() => {
      called = true;
      return value;
    });
    value = 2;
    assert.equal(called, false, 'not called synchronously');
    assert.equal(l.activeCount, 1, 'but its slot is taken at once');
    assert.equal(l.pendingCount, 0);
    await Promise.resolve();
    assert.equal(called, true, 'called within a microtask');
    assert.equal(await a, 2);
  }
});
