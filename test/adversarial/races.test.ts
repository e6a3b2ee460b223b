// Races between two events in the same tick: each task must end one way, exactly once.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newPool, PoolClosedError } from '../../src/index.js';
import { flush } from '../helpers.js';

test('add timeout vs a slot freed in the same tick, 1,000 trials: each task ran or was refused, never both, never neither', async () => {
  let ranAndRefused = 0;
  let neither = 0;
  let ran = 0;
  let refused = 0;
  for (let trial = 0; trial < 1000; trial++) {
    const lp = newPool(1, 0);
    let release!: () => void;
    const blocker = lp.run(() => new Promise<void>((r) => (release = r)));
    let didRun = false;
    let didRefuse = false;
    const add = lp.addTask(lp.newTaskOptions().setTask(() => { didRun = true; }).setAddTimeout(1)).then(
      () => {},
      () => { didRefuse = true; },
    );
    // Free the slot from a timer due at the same moment as the add timeout.
    setTimeout(() => release(), 1);
    await blocker;
    await add;
    await lp.onIdle();
    if (didRun && didRefuse) ranAndRefused++;
    if (!didRun && !didRefuse) neither++;
    if (didRun) ran++;
    if (didRefuse) refused++;
  }
  assert.equal(ranAndRefused, 0);
  assert.equal(neither, 0);
  assert.equal(ran + refused, 1000);
});

test('abort vs start in the same tick: the task either never runs (AbortError) or runs with an aborted signal', async () => {
  for (let trial = 0; trial < 200; trial++) {
    const lp = newPool(1, 1);
    let release!: () => void;
    const blocker = lp.run(() => new Promise<void>((r) => (release = r)));
    const ac = new AbortController();
    let sawAborted: boolean | undefined;
    const p = lp.run((ctx) => { sawAborted = ctx.signal.aborted; }, { signal: ac.signal }).then(() => 'ran', (e: Error) => e.name);
    release();
    ac.abort();
    const result = await p;
    await blocker;
    if (result === 'AbortError') assert.ok(sawAborted === undefined || sawAborted === true);
    else assert.equal(result, 'ran');
  }
});

test('close vs blocked adders: every blocked adder is refused with PoolClosedError, every admitted task runs', async () => {
  const lp = newPool(2, 1);
  let ran = 0;
  const results = await (async () => {
    const ps: Promise<string>[] = [];
    for (let i = 0; i < 20; i++) ps.push(lp.run(async () => { await flush(); ran++; }).then(() => 'ran', (e: Error) => e.name));
    const closing = lp.close();
    const r = await Promise.all(ps);
    await closing;
    return r;
  })();
  assert.equal(results.filter((r) => r === 'ran').length, 4, 'capacity 2 + 2 × 1 admitted');
  assert.equal(results.filter((r) => r === 'PoolClosedError').length, 16);
  assert.equal(ran, 4);
});

test('close called from inside a task: that task and the admitted ones finish; later adds are refused', async () => {
  const lp = newPool(1, 2);
  const done: number[] = [];
  const a = lp.run(async () => { await flush(); void lp.close(); await flush(); done.push(1); });
  const b = lp.run(() => { done.push(2); });
  await Promise.all([a, b]);
  await assert.rejects(lp.run(() => 3), PoolClosedError);
  assert.deepEqual(done, [1, 2]);
});
