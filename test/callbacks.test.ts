import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LitePool, newPool, type CallbackErrorInfo } from '../src/index.js';
import { captureWarnings, flush } from './helpers.js';

function failingCallbacks(lp: LitePool) {
  const tg = lp.newTaskGroup(2);
  return [
    lp.addTask(tg.newTaskOptions().setTask(() => 1).setOnSuccess(() => { throw new Error('s'); }).setOnComplete(async () => { throw new Error('c'); }).setAutoDone()),
    lp.addTask(tg.newTaskOptions().setTask(() => { throw new Error('t'); }).setOnError(() => Promise.reject(new Error('e'))).setOnComplete(() => { throw 'not an error'; })),
    tg,
  ] as const;
}

test('a throwing callback goes to onCallbackError, is counted, and never breaks the worker', async () => {
  const seen: string[] = [];
  const lp = new LitePool({ workers: 1, queueSize: 10, onCallbackError: (err: Error, info: CallbackErrorInfo) => seen.push(`${info.callback}:${err.message}`) });
  const [a, b, tg] = failingCallbacks(lp);
  await a;
  await b;
  await lp.onIdle();
  assert.deepEqual(seen.sort(), ['onComplete:c', 'onComplete:the task failed with a non-Error value: "not an error"', 'onError:e', 'onSuccess:s']);
  assert.equal(lp.usage().callbackErrors, 4);
  assert.equal(tg.count, 1, 'auto-done still ran after the failing callbacks');
  assert.equal(await lp.run(() => 'worker still works'), 'worker still works');
});

test('without onCallbackError, an error event when someone listens', async () => {
  const lp = newPool(1, 10);
  const seen: string[] = [];
  lp.on('error', (err, info) => seen.push(`${info.callback}:${err.message}`));
  const warnings = await captureWarnings(async () => {
    const [a, b] = failingCallbacks(lp);
    await a;
    await b;
    await lp.onIdle();
  });
  assert.equal(seen.length, 4);
  assert.deepEqual(warnings, []);
});

test('with nobody listening, a process warning (never an unhandled rejection)', async () => {
  const lp = newPool(1, 10);
  const warnings = await captureWarnings(async () => {
    const [a, b] = failingCallbacks(lp);
    await a;
    await b;
    await lp.onIdle();
  });
  assert.equal(warnings.length, 4);
  for (const w of warnings) {
    assert.equal(w.name, 'LitePoolWarning');
    assert.match(w.message, /^litepool: a on(Success|Error|Complete) callback failed/);
  }
});

test('an onCallbackError that throws becomes a warning, not a crash', async () => {
  const lp = new LitePool({ workers: 1, onCallbackError: () => { throw new Error('reporter broke'); } });
  const warnings = await captureWarnings(async () => {
    await lp.addTask(lp.newTaskOptions().setTask(() => 1).setOnSuccess(() => { throw new Error('s'); }));
    await lp.onIdle();
  });
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]?.message ?? '', /reporting a failed onSuccess callback failed too: reporter broke/);
});

test('onAddTimeout that throws is reported, and the add still rejects with AddTimeoutError', async () => {
  const seen: string[] = [];
  const lp = new LitePool({ workers: 1, queueSize: 0, onCallbackError: (e, i) => seen.push(`${i.callback}:${e.message}`) });
  let release!: () => void;
  void lp.run(() => new Promise<void>((r) => (release = r)));
  await flush();
  const err = await lp.addTask(lp.newTaskOptions().setTask(() => 1).setAddTimeout(5).setOnAddTimeout(() => { throw new Error('oops'); })).catch((e: Error) => e);
  assert.equal((err as Error).name, 'AddTimeoutError');
  assert.deepEqual(seen, ['onAddTimeout:oops']);
  release();
  await lp.onIdle();
});

test('callbacks may add tasks to the pool re-entrantly', async () => {
  const lp = newPool(1, 10);
  const order: string[] = [];
  await lp.addTask(
    lp.newTaskOptions().setTask(() => 'a').setOnSuccess(() => {
      order.push('a ok');
      void lp.addTask(lp.newTaskOptions().setTask(() => { order.push('b runs'); }));
    }),
  );
  await lp.onIdle();
  assert.deepEqual(order, ['a ok', 'b runs']);
});
