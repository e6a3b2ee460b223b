// The thread pool under hostile inputs and crash storms: every task settles exactly once, the pool stays
// bounded and usable, and nothing outlives close().
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PoolClosedError } from '../../src/index.js';
import { ThreadPool } from '../../src/threads/index.js';

const tasks = new URL('../fixtures/thread-tasks.ts', import.meta.url);

test('hostile inputs are refused at task creation with a TypeError naming the path', () => {
  const tp = new ThreadPool({ maxThreads: 1 });
  const getter = Object.defineProperty({}, 'x', { enumerable: true, get() { throw new Error('no'); } });
  assert.throws(() => tp.task(tasks, 'double', getter), { name: 'TypeError', message: /input\.x cannot be sent to a thread: reading it threw/ });
  assert.throws(() => tp.task(tasks, 'double', new Map([['k', () => 1]])), { name: 'TypeError', message: /input\.get\("k"\)/ });
  assert.throws(() => tp.task(tasks, 'double', new Set([Symbol('s')])), { name: 'TypeError', message: /a Set member/ });
  const cyclic: Record<string, unknown> = { a: 1 };
  cyclic.self = cyclic;
  assert.doesNotThrow(() => tp.task(tasks, 'double', cyclic), 'cycles are clonable');
  assert.throws(() => tp.task(tasks, 'double', 1, { transfer: 'buf' as never }), { name: 'TypeError', message: /options\.transfer must be an array/ });
});

test('a storm of crashes: 200 tasks, every 10th exits its thread; each task settles once, threads stay bounded', async () => {
  const tp = new ThreadPool({ maxThreads: 2, tasksPerThread: 2 });
  try {
    const outcomes = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        (i % 10 === 0 ? tp.runTask(tasks, 'exits', 2) : tp.runTask<number>(tasks, 'double', i)).then(
          (v) => (v === i * 2 ? 'ok' : `wrong ${String(v)}`),
          (e: Error) => e.name,
        ),
      ),
    );
    assert.equal(outcomes.length, 200);
    assert.ok(outcomes.every((o) => o === 'ok' || o === 'ThreadCrashError'), outcomes.filter((o) => o !== 'ok' && o !== 'ThreadCrashError').join());
    assert.ok(outcomes.filter((o) => o === 'ThreadCrashError').length >= 20, 'every exiting task failed');
    assert.ok(tp.threads <= 2);
    assert.equal(tp.running, 0);
    assert.equal(await tp.runTask(tasks, 'double', 21), 42);
  } finally {
    await tp.close();
  }
  assert.equal(tp.threads, 0);
});

test('retries ride out a crash storm: with a retry policy every task ends with its result', async () => {
  const tp = new ThreadPool({ maxThreads: 2, tasksPerThread: 2 });
  const counter = new Int32Array(new SharedArrayBuffer(4));
  try {
    const results = await tp.map(
      Array.from({ length: 60 }, (_, i) => i),
      (i, _index, ctx) =>
        // The first attempts of every 6th task kill their thread (and their neighbours on it); retries succeed.
        i % 6 === 0 && Atomics.add(counter, 0, 1) < 10 ? tp.task<number>(tasks, 'exits', 1)(ctx) : tp.task<number>(tasks, 'double', i)(ctx),
      { retry: { retries: 10, minDelay: 0, maxDelay: 1 } },
    );
    assert.deepEqual(results, Array.from({ length: 60 }, (_, i) => i * 2));
  } finally {
    await tp.close();
  }
});

test('transferred buffers ride out a crash storm with retries: every task ends with the sum of its own whole buffer', async () => {
  const tp = new ThreadPool({ maxThreads: 2, tasksPerThread: 2 });
  const counter = new Int32Array(new SharedArrayBuffer(4));
  try {
    const buffers = Array.from({ length: 40 }, (_, i) => new Uint8Array(1000).fill(i));
    const results = await tp.map(
      buffers,
      // Attempts that crash their thread also end their neighbours' attempts (ThreadTerminatedError): every
      // retry must still see the whole buffer, never the empty one a moved buffer leaves behind.
      (data, i, ctx) =>
        i % 5 === 0 && Atomics.add(counter, 0, 1) < 8
          ? tp.task<{ bytes: number; sum: number }>(tasks, 'exits', 1)(ctx)
          : tp.task<{ bytes: number; sum: number }>(tasks, 'sumBytes', data, { transfer: [data] })(ctx),
      { retry: { retries: 10, minDelay: 0, maxDelay: 1 } },
    );
    assert.deepEqual(results, buffers.map((_, i) => ({ bytes: 1000, sum: 1000 * i })));
    assert.ok(buffers.every((b) => b.byteLength === 1000), 'a task that may be retried copies its buffers');
  } finally {
    await tp.close();
  }
});

test('close while tasks are queued and running: running ones finish, later adds are refused, no thread is left', async () => {
  const tp = new ThreadPool({ maxThreads: 1, queueSize: 4 });
  const all = Array.from({ length: 4 }, (_, i) => tp.runTask(tasks, 'slowDouble', { x: i, ms: 20 }));
  const closing = tp.close();
  await assert.rejects(tp.runTask(tasks, 'double', 1), PoolClosedError);
  assert.deepEqual(await Promise.all(all), [0, 2, 4, 6]);
  await closing;
  assert.equal(tp.threads, 0);
});
