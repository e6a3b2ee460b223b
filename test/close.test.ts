import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newPool, PoolClosedError, type TaskOptions } from '../src/index.js';
import { flush, gate, rejection, runChild } from './helpers.js';

test('graceful close lets admitted tasks finish, refuses new ones, and is idempotent', async () => {
  const lp = newPool(1, 5);
  const g = gate();
  const done: number[] = [];
  for (let i = 0; i < 3; i++) await lp.addTask(lp.newTaskOptions().setTask(async () => { await g.promise; done.push(i); }));
  const c1 = lp.close();
  const c2 = lp.close();
  assert.equal(c1, c2);
  assert.equal(lp.state, 'closing');
  assert.ok((await rejection(lp.run(() => 1))) instanceof PoolClosedError);
  g.open();
  assert.deepEqual(await c1, []);
  assert.deepEqual(done, [0, 1, 2]);
  assert.equal(lp.state, 'closed');
  assert.deepEqual(await lp.close(), []);
});

test('close rejects blocked adders with PoolClosedError', async () => {
  const lp = newPool(1, 0);
  const g = gate();
  await lp.addTask(lp.newTaskOptions().setTask(() => g.promise));
  const blocked = lp.addTask(lp.newTaskOptions().setTask(() => 1));
  const blockedRun = lp.run(() => 2);
  const closing = lp.close();
  assert.ok((await rejection(blocked)) instanceof PoolClosedError);
  assert.ok((await rejection(blockedRun)) instanceof PoolClosedError);
  g.open();
  await closing;
  assert.equal(lp.usage().rejected, 2);
});

test('close({ force: true }): aborts running, fails waiting with callbacks, returns the never-started options', async () => {
  const lp = newPool(1, 5);
  const log: string[] = [];
  let signalReason: unknown;
  const running = lp.newTaskOptions().setTask(
    (ctx) =>
      new Promise<void>((_resolve, reject) => {
        ctx.signal.addEventListener('abort', () => { signalReason = ctx.signal.reason; reject(ctx.signal.reason); });
      }),
  );
  await lp.addTask(running.setOnComplete(() => { log.push('running complete'); }));
  const waiting: TaskOptions[] = [];
  for (let i = 0; i < 2; i++) {
    const opt = lp.newTaskOptions().setTask(() => { log.push('never'); })
      .setOnError((_h, _g, err) => { log.push(`waiting${i} onError ${err.name}`); })
      .setOnComplete(() => { log.push(`waiting${i} complete`); });
    waiting.push(opt as TaskOptions);
    await lp.addTask(opt);
  }
  const never = await lp.close({ force: true });
  assert.deepEqual(never, waiting);
  assert.ok(signalReason instanceof PoolClosedError);
  await flush();
  assert.deepEqual(log, [
    'waiting0 onError PoolClosedError', 'waiting0 complete',
    'waiting1 onError PoolClosedError', 'waiting1 complete',
    'running complete',
  ]);
  assert.equal(lp.state, 'closed');
});

test('force close does not wait for a task that ignores its signal', async () => {
  const lp = newPool(1, 1);
  const g = gate();
  let settled = false;
  const p = lp.run(() => g.promise).then(() => (settled = true));
  await flush();
  await lp.close({ force: true });
  assert.equal(settled, false);
  g.open();
  await p;
  assert.equal(settled, true, 'its result is still delivered');
});

test('close({ timeout }) is graceful until the timeout, then forced', async () => {
  const lp = newPool(1, 1);
  const quick = lp.run(() => 'quick');
  const stuck = lp.run((ctx) => new Promise((_r, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason))));
  const never = await lp.close({ timeout: 20 });
  assert.equal(await quick, 'quick');
  assert.ok((await rejection(stuck)) instanceof PoolClosedError);
  assert.deepEqual(never, []);
});

test('close validates its options', async () => {
  const lp = newPool(1, 1);
  assert.equal((await rejection(lp.close({ timeout: -1 }))).name, 'RangeError');
  assert.equal((await rejection(lp.close({ force: 'yes' as never }))).name, 'TypeError');
  assert.equal(lp.state, 'open');
});

test('close from inside a task resolves once that task finished', async () => {
  const lp = newPool(2, 2);
  let closed: Promise<unknown> | undefined;
  const other = lp.run(async () => { await flush(); return 'other'; });
  await lp.run(() => { closed = lp.close(); return 'closer'; });
  await closed;
  assert.equal(await other, 'other');
  assert.equal(lp.state, 'closed');
});

test('a closed pool keeps nothing alive: a child process exits by itself after force close', async () => {
  const out = await runChild([
    "import { newPool } from './src/index.ts';",
    'const lp = newPool(2, 2);',
    'void lp.run(() => new Promise(() => {})).catch(() => {});',
    'void lp.run((ctx) => new Promise((_r, rej) => ctx.signal.addEventListener("abort", () => rej(ctx.signal.reason)))).catch(() => {});',
    'void lp.run(() => 3, { retry: { retries: 5, minDelay: 60_000 } }).catch(() => {});',
    'await lp.close({ force: true });',
    "console.log('closed');",
  ]);
  assert.equal(out, 'closed');
});

test('await using / Symbol.asyncDispose closes the pool', async () => {
  const lp = newPool(1, 1);
  const r = lp.run(() => 5);
  await lp[Symbol.asyncDispose]();
  assert.equal(lp.state, 'closed');
  assert.equal(await r, 5);
});

test('pause() after close() has no effect: a graceful close still runs what was admitted', async () => {
  const lp = newPool(1, 5);
  const g = gate();
  const ran: number[] = [];
  const first = lp.run(async () => {
    await g.promise;
    ran.push(1);
  });
  const second = lp.run(() => ran.push(2));
  const closed = lp.close();
  lp.pause();
  assert.equal(lp.isPaused, false);
  g.open();
  await Promise.all([first, second]);
  assert.deepEqual(ran, [1, 2]);
  await closed;
  assert.equal(lp.state, 'closed');
});
