// Every shape a task can take, with the exact outcome each must have.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newPool, TaskFailedError } from '../../src/index.js';

async function outcome(fn: () => unknown): Promise<{ ok: boolean; value: unknown }> {
  const lp = newPool(1, 1);
  try {
    return { ok: true, value: await lp.run(fn) };
  } catch (err) {
    return { ok: false, value: err };
  } finally {
    await lp.close();
  }
}

test('sync throw, rejection and plain values', async () => {
  const e = new Error('sync');
  assert.deepEqual(await outcome(() => { throw e; }), { ok: false, value: e });
  const r = new Error('async');
  assert.deepEqual(await outcome(() => Promise.reject(r)), { ok: false, value: r });
  for (const v of [0, '', null, undefined, false, { a: 1 }, [1, 2]]) assert.deepEqual(await outcome(() => v), { ok: true, value: v });
  assert.deepEqual(await outcome(async () => 'async value'), { ok: true, value: 'async value' });
});

test('thrown non-Errors arrive wrapped in a TaskFailedError with the value as cause', async () => {
  const sym = Symbol('s');
  const obj = { code: 42 };
  for (const v of ['str', undefined, null, sym, obj, 7, 10n]) {
    for (const how of ['throw', 'reject'] as const) {
      const r = await outcome(() => { if (how === 'throw') throw v; return Promise.reject(v); });
      assert.equal(r.ok, false);
      assert.ok(r.value instanceof TaskFailedError, `${String(typeof v)} ${how}`);
      assert.equal((r.value as Error).cause, v);
      assert.equal((r.value as TaskFailedError).code, 'ERR_TASK_FAILED');
    }
  }
});

test('hostile thenables: the first outcome wins, a throwing then fails the task', async () => {
  const resolveThenReject = { then(res: (v: unknown) => void, rej: (e: unknown) => void) { res('first'); rej(new Error('second')); } };
  assert.deepEqual(await outcome(() => resolveThenReject), { ok: true, value: 'first' });
  const resolveTwice = { then(res: (v: unknown) => void) { res(1); res(2); } };
  assert.deepEqual(await outcome(() => resolveTwice), { ok: true, value: 1 });
  const rejectThenResolve = { then(res: (v: unknown) => void, rej: (e: unknown) => void) { rej(new Error('no')); res('late'); } };
  const r = await outcome(() => rejectThenResolve);
  assert.equal(r.ok, false);
  assert.equal((r.value as Error).message, 'no');
  const thenThrows = { then() { throw new Error('then threw'); } };
  const t = await outcome(() => thenThrows);
  assert.equal((t.value as Error).message, 'then threw');
  const getterThrows = Object.defineProperty({}, 'then', { get() { throw new Error('getter threw'); } });
  const g = await outcome(() => getterThrows);
  assert.equal(g.ok, false);
  assert.equal((g.value as Error).message, 'getter threw');
  const never = { then() {} };
  const lp = newPool(1, 1);
  let settled = false;
  void lp.run(() => never, { timeout: 10 }).catch(() => { settled = true; });
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(settled, true, 'a thenable that never calls back is bounded by the timeout');
});

test('an Error whose message getter throws is still reported, and warnings do not crash', async () => {
  const hostile = new Error('placeholder');
  Object.defineProperty(hostile, 'message', { get() { throw new Error('message getter'); } });
  const r = await outcome(() => { throw hostile; });
  assert.equal(r.value, hostile);
  const seen: unknown[] = [];
  const lp = newPool(1, 1, { onCallbackError: (e) => seen.push(e) });
  await lp.addTask(lp.newTaskOptions().setTask(() => 1).setOnSuccess(() => { throw hostile; }));
  await lp.onIdle();
  assert.deepEqual(seen, [hostile]);
});
