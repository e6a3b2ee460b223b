// Callbacks that throw, reject, or call back into the pool.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LitePool, newPool, PoolClosedError, type CallbackName } from '../../src/index.js';
import { flush } from '../helpers.js';

function recording() {
  const seen: string[] = [];
  const lp = new LitePool({ workers: 2, queueSize: 4, onCallbackError: (e, i) => seen.push(`${i.callback}:${e.message}`) });
  return { lp, seen };
}

test('each of the four callbacks throwing or rejecting is reported once, and the task still settles once', async () => {
  for (const mode of ['throw', 'reject'] as const) {
    const { lp, seen } = recording();
    const fail = (name: string) => () => {
      if (mode === 'throw') throw new Error(name);
      return Promise.reject(new Error(name));
    };
    const tg = lp.newTaskGroup(2);
    let completes = 0;
    await lp.addTask(tg.newTaskOptions().setTask(() => 1).setOnSuccess(fail('onSuccess')).setOnComplete(() => { completes++; return fail('onComplete')(); }).setAutoDone());
    await lp.addTask(tg.newTaskOptions().setTask(() => { throw new Error('t'); }).setOnError(fail('onError')).setOnComplete(() => { completes++; }).setAutoDone());
    tg.done(); // the second task's onError owns its done(), and it failed
    await tg.wait();
    await lp.onIdle();
    assert.equal(completes, 2);
    assert.deepEqual(seen.sort(), ['onComplete:onComplete', 'onError:onError', 'onSuccess:onSuccess']);
    assert.equal(lp.usage().callbackErrors, 3);
    assert.equal(lp.usage().completed + lp.usage().failed, 2);
  }
});

test('onAddTimeout and a retry policy\'s onRetry / retryIf that throw are reported; the pool goes on', async () => {
  const { lp, seen } = recording();
  let release!: () => void;
  const blockers = [lp.run(() => new Promise<void>((r) => (release = r))), lp.run(() => new Promise<void>((r) => setTimeout(r, 30)))];
  for (let i = 0; i < 8; i++) void lp.run(() => new Promise<void>((r) => setTimeout(r, 1)));
  await assert.rejects(lp.addTask(lp.newTaskOptions().setTask(() => 1).setAddTimeout(5).setOnAddTimeout(async () => { throw new Error('late'); })), { name: 'AddTimeoutError' });
  release();
  await Promise.all(blockers);
  await lp.onIdle();
  let n = 0;
  await assert.rejects(lp.run(() => { n++; throw new Error('x'); }, { retry: { retries: 3, minDelay: 0, onRetry: () => { throw new Error('observer'); } } }), /x/);
  assert.equal(n, 4, 'a throwing onRetry does not stop the retries');
  await assert.rejects(lp.run(() => { throw new Error('y'); }, { retry: { retries: 3, minDelay: 0, retryIf: () => { throw new Error('judge'); } } }), /y/);
  const names = seen.map((s) => s.split(':')[0] as CallbackName);
  assert.deepEqual(names.sort(), ['onAddTimeout', 'onRetry', 'onRetry', 'onRetry', 'retryIf']);
});

test('callbacks that call close() or addTask() re-entrantly', async () => {
  const lp = newPool(1, 4);
  const order: string[] = [];
  let closing: Promise<unknown> | undefined;
  await lp.addTask(lp.newTaskOptions().setTask(() => 'a').setOnSuccess(() => {
    order.push('a success');
    void lp.addTask(lp.newTaskOptions().setTask(() => { order.push('b runs'); }));
  }).setOnComplete(() => {
    order.push('a complete');
    closing = lp.close();
  }));
  await lp.addTask(lp.newTaskOptions().setTask(() => { order.push('c runs'); })).catch((e: Error) => order.push(`c refused: ${e.name}`));
  await flush();
  await closing;
  assert.equal(lp.state, 'closed');
  assert.ok(order.includes('b runs'), 'admitted before close, so it ran');
  assert.deepEqual(order.slice(0, 2), ['a success', 'a complete']);
  await assert.rejects(lp.addTask(lp.newTaskOptions().setTask(() => 1)), PoolClosedError);
});
