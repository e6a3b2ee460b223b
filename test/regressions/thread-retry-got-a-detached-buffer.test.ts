// Issue #14.9: with `{ transfer: [buffer], retry: 2 }` the first attempt moved the buffer to its thread; when
// that attempt failed, the retry was posted the detached, empty buffer and "succeeded" on 0 bytes. Now an
// attempt that may be followed by another copies its buffers, and an attempt that would post a detached
// buffer fails with a TypeError saying so: never a result computed on an empty buffer.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ThreadPool } from '../../src/threads/index.js';

const tasks = new URL('../fixtures/thread-tasks.ts', import.meta.url);
const fast = { retries: 2, minDelay: 0, maxDelay: 0 };

function input(failures: number, crash = false) {
  const data = Uint8Array.from({ length: 4096 }, (_, i) => i % 251);
  const sum = data.reduce((s, b) => s + b, 0);
  return { data, expected: { bytes: 4096, sum }, counter: new Int32Array(new SharedArrayBuffer(4)), failures, crash };
}

test('runTask with transfer and retry (the README snippet): the retry after a thrown error or a crash gets the whole buffer', async () => {
  const tp = new ThreadPool({ maxThreads: 1 });
  try {
    for (const crash of [false, true]) {
      const i = input(1, crash);
      const result = await tp.runTask(tasks, 'sumBytesAfterFailures', i, { transfer: [i.data], retry: fast });
      assert.deepEqual(result, i.expected, crash ? 'after a crash' : 'after a throw');
      assert.equal(Atomics.load(i.counter, 0), 2, 'two attempts');
      assert.equal(i.data.byteLength, 4096, 'copied to each attempt: the caller keeps its buffer');
    }
    // With retries: 0 nothing can follow, so the buffer moves.
    const once = input(0);
    assert.deepEqual(await tp.runTask(tasks, 'sumBytesAfterFailures', once, { transfer: [once.data], retry: 0 }), once.expected);
    assert.equal(once.data.byteLength, 0, 'moved');
  } finally {
    await tp.close();
  }
});

test('run(tp.task(…, { transfer }), { retry }) and a task function built inside map() with retry: every attempt gets the data', async () => {
  const tp = new ThreadPool({ maxThreads: 1 });
  try {
    const a = input(2);
    assert.deepEqual(await tp.run(tp.task(tasks, 'sumBytesAfterFailures', a, { transfer: [a.data] }), { retry: fast }), a.expected);
    assert.equal(Atomics.load(a.counter, 0), 3);

    const b = input(1);
    const results = await tp.map([b], (item, _i, ctx) => tp.task(tasks, 'sumBytesAfterFailures', item, { transfer: [item.data] })(ctx), { retry: fast });
    assert.deepEqual(results, [b.expected]);
    assert.equal(Atomics.load(b.counter, 0), 2);
  } finally {
    await tp.close();
  }
});

test('Go style: setTask(tp.task(…, { transfer })) with setRetry, and with errReload in onError: the retries get the data', async () => {
  const tp = new ThreadPool({ maxThreads: 1 });
  try {
    const tg = tp.newTaskGroup(2);
    const seen = new Map<string, unknown[]>();
    const a = input(1);
    await tp.addTask(
      tg.newTaskOptions()
        .setTask(tp.task(tasks, 'sumBytesAfterFailures', a, { transfer: [a.data] }))
        .setRetry(fast)
        .setOnSuccess((r) => { seen.set('setRetry', [r]); })
        .setAutoDone(),
    );
    const b = input(2);
    await tp.addTask(
      tg.newTaskOptions()
        .setTask(tp.task(tasks, 'sumBytesAfterFailures', b, { transfer: [b.data] }))
        .setOnError((h, group) => h.errReload(3, (err, result) => { seen.set('errReload', [err, result]); if (err) group.done(); }))
        .setAutoDone(),
    );
    await tg.wait();
    assert.deepEqual(seen.get('setRetry'), [a.expected]);
    assert.deepEqual(seen.get('errReload'), [null, b.expected]);
    assert.equal(Atomics.load(b.counter, 0), 3, 'the first attempt, then two reruns');
  } finally {
    await tp.close();
  }
});

test('an attempt whose transfer list holds a detached buffer fails with a TypeError naming it, and posts nothing', async () => {
  const tp = new ThreadPool({ maxThreads: 1 });
  try {
    const i = input(0);
    const fn = tp.task(tasks, 'sumBytesAfterFailures', i, { transfer: [new Uint8Array(new SharedArrayBuffer(4)), i.data] });
    assert.deepEqual(await tp.run(fn), i.expected);
    assert.equal(i.data.byteLength, 0, 'moved by the first run');
    await assert.rejects(tp.run(fn), {
      name: 'TypeError',
      message: /^options\.transfer\[1\] is a detached ArrayBuffer: .*sending it again would give the task an empty buffer/,
    });
    // Called directly with a context the pool did not make, it cannot know about retries: the same check holds.
    const j = input(0);
    const direct = tp.task(tasks, 'sumBytesAfterFailures', j, { transfer: [j.data] });
    const ctx = { signal: new AbortController().signal, attempt: 2, workerId: 0, taskId: 'x', pool: { pauseFor: () => {} }, progress: () => {} };
    assert.deepEqual(await direct(ctx), j.expected);
    await assert.rejects(direct(ctx), { name: 'TypeError', message: /^options\.transfer\[0\] is a detached ArrayBuffer at attempt 2:/ });
    assert.equal(Atomics.load(i.counter, 0) + Atomics.load(j.counter, 0), 2, 'the refused attempts never reached a thread');
  } finally {
    await tp.close();
  }
});
