// Progress (API.md 6): ctx.progress(value) reaches onProgress (run options, setOnProgress, map options) in
// order and before the task settles; a report after the attempt ended is dropped; a throwing onProgress is a
// callback error; on a ThreadPool the task reports from its thread. (DistributedPool:
// test/bullmq/progress.test.ts.)
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LitePool, type TaskContext } from '../src/index.js';
import { ThreadPool } from '../src/threads/index.js';
import { flush, gate } from './helpers.js';

test('run(fn, { onProgress }): every value in order, all before the promise settles', async () => {
  const lp = new LitePool({ workers: 2 });
  const seen: unknown[] = [];
  const result = await lp
    .run(
      async (ctx) => {
        ctx.progress(0.25);
        await flush();
        ctx.progress(0.5);
        ctx.progress({ done: 1 });
        return 'ok';
      },
      { onProgress: (v) => seen.push(v) },
    )
    .then((v) => {
      seen.push(`settled:${v}`);
      return v;
    });
  assert.equal(result, 'ok');
  assert.deepEqual(seen, [0.25, 0.5, { done: 1 }, 'settled:ok']);
  await lp.close();
});

test('setOnProgress (Go style) and map({ onProgress }); reports without a listener are ignored', async () => {
  const lp = new LitePool({ workers: 2 });
  const seen: string[] = [];
  const tg = lp.newTaskGroup(1);
  await lp.addTask(
    tg
      .newTaskOptions()
      .setAutoDone()
      .setOnProgress((v) => seen.push(`go:${String(v)}`))
      .setTask((ctx: TaskContext) => {
        ctx.progress('half');
      }),
  );
  await tg.wait();
  const mapped = await lp.map(
    [1, 2],
    (n, _i, ctx) => {
      ctx.progress(n * 10);
      return n;
    },
    { onProgress: (v) => seen.push(`map:${String(v)}`) },
  );
  assert.deepEqual(mapped, [1, 2]);
  assert.equal(await lp.run((ctx) => (ctx.progress('nobody listens'), 'fine')), 'fine');
  assert.deepEqual(seen.sort(), ['go:half', 'map:10', 'map:20']);
  await lp.close();
});

test('a report after the attempt ended (a timed-out function still running) is dropped; a throwing onProgress is a callback error', async () => {
  const errors: [string, string][] = [];
  const lp = new LitePool({ workers: 1, onCallbackError: (err, info) => errors.push([info.callback, err.message]) });
  const seen: unknown[] = [];
  const late = gate();
  let report: ((v: unknown) => void) | undefined;
  const timedOut = lp.run(
    async (ctx) => {
      report = (v) => ctx.progress(v);
      ctx.progress('in time');
      await late.promise;
    },
    { timeout: 10, onProgress: (v) => seen.push(v) },
  );
  await assert.rejects(timedOut, { name: 'TaskTimeoutError' });
  report?.('too late');
  late.open();
  assert.deepEqual(seen, ['in time']);
  await lp.run((ctx) => ctx.progress(1), {
    onProgress: () => {
      throw new Error('listener broke');
    },
  });
  assert.deepEqual(errors, [['onProgress', 'listener broke']]);
  await lp.close();
});

test('ThreadPool: a task reports from its thread through ctx.progress, in order, before its result', async () => {
  const tasks = new URL('./fixtures/thread-tasks.ts', import.meta.url);
  const tp = new ThreadPool({ maxThreads: 1 });
  try {
    const seen: unknown[] = [];
    const result = await tp.run(tp.task<{ steps: number; taskId: string; attempt: number }>(tasks, 'countSteps', 3), { onProgress: (v) => seen.push(v) });
    seen.push('result');
    assert.deepEqual(seen, [{ step: 1, of: 3 }, { step: 2, of: 3 }, { step: 3, of: 3 }, 'result']);
    assert.deepEqual(result, { steps: 3, taskId: '1', attempt: 1 });
  } finally {
    await tp.close();
  }
});

test('ThreadPool: a progress value that cannot be cloned throws in the task, on its thread (thread-progress-of-an-unclonable-value-failed-the-task-from-outside)', async () => {
  const tasks = new URL('./fixtures/thread-tasks.ts', import.meta.url);
  const tp = new ThreadPool({ maxThreads: 1 });
  try {
    assert.equal(await tp.run(tp.task<string>(tasks, 'reportUnclonable', null)), 'DataCloneError caught in the task');
  } finally {
    await tp.close();
  }
});
