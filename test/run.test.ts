import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AbortError, newPool, PoolClosedError, TaskTimeoutError } from '../src/index.js';
import { flush, gate, rejection } from './helpers.js';

test('run resolves with the result and rejects with the error', async () => {
  const lp = newPool(2, 2);
  assert.equal(await lp.run(async () => 'v'), 'v');
  const err = await rejection(lp.run(async () => { throw new Error('bad'); }));
  assert.equal(err.message, 'bad');
  assert.equal((await rejection(lp.run(42 as never))).name, 'TypeError');
  assert.match((await rejection(lp.run(() => 1, { timeout: -1 }))).message, /run\(options\)\.timeout/);
  assert.match((await rejection(lp.run(() => 1, { nope: 1 } as never))).message, /run\(options\)\.nope is not a task option/);
});

test('timeout: the attempt fails with TaskTimeoutError, ctx.signal aborts, the worker stays busy until it returns', async () => {
  const lp = newPool(1, 5);
  const g = gate();
  let aborted: unknown;
  const first = lp.run(
    async (ctx) => {
      ctx.signal.addEventListener('abort', () => (aborted = ctx.signal.reason));
      await g.promise;
      return 'late';
    },
    { timeout: 10 },
  );
  let secondStarted = false;
  const second = lp.run(() => { secondStarted = true; });
  const err = await rejection(first);
  assert.ok(err instanceof TaskTimeoutError);
  assert.equal(err.timeout, 10);
  assert.equal(aborted, err);
  await flush();
  assert.equal(secondStarted, false, 'the timed-out function still occupies the worker');
  assert.equal(lp.running, 1);
  g.open();
  await second;
  assert.equal(secondStarted, true);
  assert.equal(lp.usage().failed, 1, 'the late result is ignored, never reported twice');
});

test('timeout with a retry policy: each attempt is bounded and retried', async () => {
  const lp = newPool(2, 5);
  const result = await lp.run(
    (ctx) => (ctx.attempt < 3 ? new Promise((_r, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason))) : 'third'),
    { timeout: 5, retry: { retries: 5, minDelay: 0 } },
  );
  assert.equal(result, 'third');
});

test('signal: aborted before admission rejects at once and never runs', async () => {
  const lp = newPool(1, 1);
  let ran = false;
  const ac = new AbortController();
  ac.abort('why');
  const err = await rejection(lp.run(() => { ran = true; }, { signal: ac.signal }));
  assert.ok(err instanceof AbortError);
  assert.equal(err.cause, 'why');
  assert.equal(ran, false);
});

test('signal: aborted while waiting, removed from the queue with AbortError; while running, ctx.signal aborts', async () => {
  const lp = newPool(1, 5);
  const ac = new AbortController();
  let ran = 0;
  let runningAbort: unknown;
  const running = lp.run(
    (ctx) => new Promise((_r, reject) => ctx.signal.addEventListener('abort', () => { runningAbort = ctx.signal.reason; reject(ctx.signal.reason); })),
    { signal: ac.signal },
  );
  const waiting = lp.run(() => { ran++; }, { signal: ac.signal });
  const other = lp.run(() => 'other');
  await flush();
  assert.equal(lp.size, 2);
  ac.abort('stop');
  assert.equal(lp.size, 1);
  const e1 = await rejection(waiting);
  assert.ok(e1 instanceof AbortError);
  assert.equal(e1.cause, 'stop');
  const e2 = await rejection(running);
  assert.ok(e2 instanceof AbortError);
  assert.equal(runningAbort, e2);
  assert.equal(await other, 'other');
  assert.equal(ran, 0);
});

test('many tasks sharing one signal leave no listeners behind', async () => {
  const lp = newPool(4, Infinity);
  const ac = new AbortController();
  const { EventEmitter } = await import('node:events');
  await Promise.all(Array.from({ length: 500 }, (_, i) => lp.run(() => i, { signal: ac.signal })));
  assert.equal(EventEmitter.getEventListeners(ac.signal, 'abort').length, 0);
});

test('retry policy: retries with backoff, onRetry observes, ctx.attempt counts from 1', async () => {
  const lp = newPool(1, 5);
  const seen: string[] = [];
  const result = await lp.run(
    (ctx) => { if (ctx.attempt < 3) throw new Error(`#${ctx.attempt}`); return ctx.attempt; },
    { retry: { retries: 5, minDelay: 1, maxDelay: 2, onRetry: (err, attempt) => seen.push(`${err.message}@${attempt}`) } },
  );
  assert.equal(result, 3);
  assert.deepEqual(seen, ['#1@1', '#2@2']);
  assert.equal(lp.usage().retried, 2);
});

test('retry policy: gives up after `retries`, rejecting with the last error; retryIf decides', async () => {
  const lp = newPool(1, 5);
  let n = 0;
  const err = await rejection(lp.run(() => { throw new Error(`#${++n}`); }, { retry: { retries: 2, minDelay: 0 } }));
  assert.equal(err.message, '#3');
  let m = 0;
  const err2 = await rejection(lp.run(() => { throw new Error(`fatal${++m}`); }, { retry: { retries: 5, minDelay: 0, retryIf: (e) => !e.message.startsWith('fatal') } }));
  assert.equal(err2.message, 'fatal1');
});

test('a task in backoff holds no worker, and comes back ahead of newer tasks', async () => {
  const lp = newPool(1, 10);
  const order: string[] = [];
  const g = gate();
  const retried = lp.run(
    async (ctx) => { order.push(`r#${ctx.attempt}`); if (ctx.attempt === 1) throw new Error('again'); },
    { retry: { retries: 1, minDelay: 20, jitter: 'none' } },
  );
  await flush();
  const blocker = lp.run(async () => { order.push('blocker'); await g.promise; });
  await flush();
  assert.deepEqual(order, ['r#1', 'blocker'], 'the worker was free during the backoff');
  const newer = lp.run(() => { order.push('newer'); });
  await new Promise((r) => setTimeout(r, 40));
  g.open();
  await Promise.all([retried, blocker, newer]);
  assert.deepEqual(order, ['r#1', 'blocker', 'r#2', 'newer']);
});

test('AbortError and PoolClosedError are not retried by default', async () => {
  const lp = newPool(1, 5);
  let n = 0;
  const ac = new AbortController();
  const p = lp.run((ctx) => { n++; return new Promise((_r, rej) => ctx.signal.addEventListener('abort', () => rej(ctx.signal.reason))); }, { signal: ac.signal, retry: 5 });
  await flush();
  ac.abort();
  assert.ok((await rejection(p)) instanceof AbortError);
  assert.equal(n, 1);
});

test('priority: higher first, FIFO among equals', async () => {
  const lp = newPool(1, 10);
  const g = gate();
  const order: string[] = [];
  const all = [lp.run(() => g.promise)];
  for (const [name, priority] of [['low', -1], ['a', 0], ['hi1', 5], ['b', 0], ['hi2', 5]] as const) {
    all.push(lp.run(() => { order.push(name); }, { priority }));
  }
  g.open();
  await Promise.all(all);
  assert.deepEqual(order, ['hi1', 'hi2', 'a', 'b', 'low']);
});

test('tryRun runs nothing and returns undefined when the pool is full', async () => {
  const lp = newPool(1, 1);
  const g = gate();
  const a = lp.tryRun(() => g.promise);
  const b = lp.tryRun(() => 'b');
  let ran = false;
  const c = lp.tryRun(() => { ran = true; });
  assert.ok(a instanceof Promise);
  assert.ok(b instanceof Promise);
  assert.equal(c, undefined);
  g.open();
  await a;
  assert.equal(await b, 'b');
  assert.equal(ran, false);
  await lp.close();
  assert.equal(lp.tryRun(() => 1), undefined);
});

test('pause stops starting tasks; resume starts them again', async () => {
  const lp = newPool(2, 10);
  lp.pause();
  assert.equal(lp.isPaused, true);
  let ran = 0;
  const all = [1, 2, 3].map(() => lp.run(() => { ran++; }));
  await flush();
  assert.equal(ran, 0);
  assert.equal(lp.size, 3);
  lp.resume();
  await Promise.all(all);
  assert.equal(ran, 3);
});

test('resize takes effect at once both ways and keeps each worker\'s figures', async () => {
  const lp = newPool(1, 10);
  const gates = Array.from({ length: 4 }, () => gate());
  let peak = 0;
  let now = 0;
  const all = gates.map((g) => lp.run(async () => { now++; peak = Math.max(peak, now); await g.promise; now--; }));
  await flush();
  assert.equal(lp.running, 1);
  lp.resize(3);
  await flush();
  assert.equal(lp.running, 3);
  lp.resize(1);
  assert.equal(lp.workers, 1);
  for (const g of gates.slice(0, 3)) g.open();
  await flush();
  await flush();
  assert.equal(lp.running, 1, 'removed workers retire when they free up');
  gates[3]?.open();
  await Promise.all(all);
  assert.equal(peak, 3);
  const u = lp.usage();
  assert.equal(u.workers.length, 3);
  assert.deepEqual(u.workers.map((w) => w.state), ['idle', 'retired', 'retired']);
  assert.equal(u.workers.reduce((s, w) => s + w.executed, 0), 4);
  assert.throws(() => lp.resize(0), { name: 'RangeError', message: /resize\(workers\)/ });
  lp.resize(2);
  assert.deepEqual(lp.usage().workers.map((w) => w.state), ['idle', 'idle', 'retired']);
});

test('run after close rejects with PoolClosedError', async () => {
  const lp = newPool(1, 1);
  await lp.close();
  assert.ok((await rejection(lp.run(() => 1))) instanceof PoolClosedError);
});
