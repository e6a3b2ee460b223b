// The engine's contract, run through two executors: the inline one (task functions on this event loop) and a
// JSON-boundary one (test/fixtures/json-executor.ts: a handler name and JSON input, results and errors back
// as JSON, as a remote worker would run them). Everything here needs no closure to cross the boundary: the
// handlers keep their state on the "worker" side, keyed by their input.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { inlineExecutor } from '../src/engine/executor.js';
import type { TaskFn } from '../src/engine/task.js';
import { AbortError, AddTimeoutError, PoolClosedError, TaskPool, TaskTimeoutError, type PoolOptions, type TaskContext } from '../src/index.js';
import { JsonExecutor, remote, type Handler } from './fixtures/json-executor.js';
import { deferred, rejection, type Deferred } from './helpers.js';

// Worker-side state, reached by key: what a handler saw, and gates a test opens.
const seen = new Map<string, unknown[]>();
const gates = new Map<string, Deferred<void>>();
const note = (key: string, value: unknown) => {
  const list = seen.get(key) ?? [];
  list.push(value);
  seen.set(key, list);
};
const gateFor = (key: string) => {
  const d = deferred<void>();
  gates.set(key, d);
  return d;
};

const handlers: Record<string, Handler> = {
  double: (x) => (x as number) * 2,
  ids: (key, ctx) => {
    note(key as string, ctx.taskId);
    return ctx.taskId;
  },
  fail: (input) => {
    const { name, message, code } = input as { name: string; message: string; code: string };
    const err = new Error(message, { cause: new Error('the root cause') }) as Error & { code?: string };
    err.name = name;
    err.code = code;
    throw err;
  },
  failUntil: (input, ctx) => {
    const { key, n } = input as { key: string; n: number };
    note(key, { attempt: ctx.attempt, taskId: ctx.taskId });
    if (ctx.attempt < n) throw new Error(`attempt ${ctx.attempt} fails`);
    return `ok on attempt ${ctx.attempt}`;
  },
  untilAborted: (key, ctx) =>
    new Promise((_resolve, reject) => {
      ctx.signal.addEventListener('abort', () => {
        note(key as string, (ctx.signal.reason as Error).name);
        reject(ctx.signal.reason);
      });
    }),
  gated: async (key) => {
    note(key as string, 'start');
    await gates.get(key as string)?.promise;
    return key;
  },
  record: (input) => {
    const { key, value } = input as { key: string; value: unknown };
    note(key, value);
    return value;
  },
};

interface Subject {
  name: string;
  pool(options: PoolOptions): TaskPool;
  task(handler: string, input?: unknown): TaskFn;
}

const subjects: Subject[] = [
  {
    name: 'inline',
    pool: (options) => new TaskPool(options, inlineExecutor),
    task: (handler, input) => (ctx: TaskContext) => (handlers[handler] as Handler)(input, ctx),
  },
  {
    name: 'JSON boundary',
    pool: (options) => new TaskPool(options, new JsonExecutor(handlers)),
    task: remote,
  },
];

for (const s of subjects) {
  test(`[${s.name}] results in order, errors keep name, message, code and cause`, async () => {
    const lp = s.pool({ workers: 2 });
    assert.equal(await lp.run(s.task('double', 21)), 42);
    // map() takes a function (a closure, which cannot cross the boundary): its items go through run() here.
    assert.deepEqual(await Promise.all([1, 2, 3].map((x) => lp.run(s.task('double', x)))), [2, 4, 6]);
    const err = await rejection(lp.run(s.task('fail', { name: 'QuotaError', message: 'over quota', code: 'E_QUOTA' })));
    assert.equal(err.name, 'QuotaError');
    assert.equal(err.message, 'over quota');
    assert.equal((err as Error & { code?: string }).code, 'E_QUOTA');
    assert.equal((err.cause as Error).message, 'the root cause');
    const u = lp.usage();
    assert.equal(u.completed, 4);
    assert.equal(u.failed, 1);
    await lp.close();
  });

  test(`[${s.name}] task ids are unique in the pool and stable across policy retries`, async () => {
    const lp = s.pool({ workers: 3 });
    const key = `${s.name}:ids`;
    const ids = await Promise.all(Array.from({ length: 6 }, () => lp.run(s.task('ids', key))));
    assert.equal(new Set(ids).size, 6);
    const retried = `${s.name}:retried`;
    assert.equal(await lp.run(s.task('failUntil', { key: retried, n: 3 }), { retry: { retries: 3, minDelay: 1 } }), 'ok on attempt 3');
    const attempts = seen.get(retried) as { attempt: number; taskId: string }[];
    assert.deepEqual(attempts.map((a) => a.attempt), [1, 2, 3]);
    assert.equal(new Set(attempts.map((a) => a.taskId)).size, 1, 'one id for every attempt');
    assert.ok(!ids.includes(attempts[0]?.taskId as string));
    assert.equal(lp.usage().retried, 2);
    await lp.close();
  });

  test(`[${s.name}] errReload reruns with the same id; after() gets the result; callbacks in order; the group counts once`, async () => {
    const lp = s.pool({ workers: 1 });
    const key = `${s.name}:reload`;
    const tg = lp.newTaskGroup(1);
    const order: string[] = [];
    await lp.addTask(
      tg
        .newTaskOptions()
        .setTask(s.task('failUntil', { key, n: 3 }))
        .setOnSuccess(() => order.push('onSuccess'))
        .setOnError((handle, _group, err) => {
          order.push(`onError: ${err.message}`);
          return handle.errReload(5, (last, result) => order.push(`after: ${String(last)} ${String(result)}`));
        })
        .setOnComplete(() => order.push('onComplete'))
        .setAutoDone(),
    );
    await tg.wait();
    assert.deepEqual(order, ['onError: attempt 1 fails', 'after: null ok on attempt 3', 'onComplete']);
    assert.equal(tg.count, 0);
    const attempts = seen.get(key) as { attempt: number; taskId: string }[];
    assert.deepEqual(attempts.map((a) => a.attempt), [1, 2, 3]);
    assert.equal(new Set(attempts.map((a) => a.taskId)).size, 1);
    await lp.close();
  });

  test(`[${s.name}] a timeout fails the attempt with TaskTimeoutError and aborts the handler's signal`, async () => {
    const lp = s.pool({ workers: 1 });
    const key = `${s.name}:timeout`;
    const err = await rejection(lp.run(s.task('untilAborted', key), { timeout: 20 }));
    assert.ok(err instanceof TaskTimeoutError);
    await lp.onIdle();
    assert.deepEqual(seen.get(key), ['TaskTimeoutError']);
    await lp.close();
  });

  test(`[${s.name}] cancellation: aborted while waiting (removed) and while running (signal reaches the handler)`, async () => {
    const lp = s.pool({ workers: 1 });
    const key = `${s.name}:cancel`;
    const running = new AbortController();
    const waiting = new AbortController();
    const first = lp.run(s.task('untilAborted', key), { signal: running.signal });
    const second = lp.run(s.task('record', { key, value: 'second ran' }), { signal: waiting.signal });
    waiting.abort(new Error('not needed'));
    assert.ok((await rejection(second)) instanceof AbortError);
    running.abort(new Error('stop'));
    const err = await rejection(first);
    assert.equal(err.name, 'AbortError');
    await lp.onIdle();
    assert.deepEqual(seen.get(key), ['AbortError'], 'the waiting task never ran');
    await lp.close();
  });

  test(`[${s.name}] backpressure: tryRun refuses when full; an add timeout refuses and calls onAddTimeout`, async () => {
    const lp = s.pool({ workers: 1, queueSize: 1 });
    const key = `${s.name}:full`;
    const g = gateFor(key);
    const a = lp.run(s.task('gated', key));
    const b = lp.run(s.task('double', 1));
    assert.equal(lp.tryRun(s.task('double', 2)), undefined);
    let timedOut = 0;
    const err = await rejection(lp.addTask(lp.newTaskOptions().setTask(s.task('double', 3)).setAddTimeout(10).setOnAddTimeout(() => timedOut++)));
    assert.ok(err instanceof AddTimeoutError);
    assert.equal(timedOut, 1);
    g.resolve();
    assert.deepEqual(await Promise.all([a, b]), [key, 2]);
    assert.equal(lp.usage().rejected, 1);
    await lp.close();
  });

  test(`[${s.name}] priorities: higher first, FIFO among equals`, async () => {
    const lp = s.pool({ workers: 1 });
    const key = `${s.name}:prio`;
    const g = gateFor(`${key}:gate`);
    const blocker = lp.run(s.task('gated', `${key}:gate`));
    const runs = [
      lp.run(s.task('record', { key, value: 'low' }), { priority: -1 }),
      lp.run(s.task('record', { key, value: 'a' })),
      lp.run(s.task('record', { key, value: 'high' }), { priority: 5 }),
      lp.run(s.task('record', { key, value: 'b' })),
    ];
    g.resolve();
    await Promise.all([blocker, ...runs]);
    assert.deepEqual(seen.get(key), ['high', 'a', 'b', 'low']);
    await lp.close();
  });

  test(`[${s.name}] close: forced close aborts the running task and hands back the options that never started`, async () => {
    const lp = s.pool({ workers: 1 });
    const key = `${s.name}:close`;
    const running = lp.run(s.task('untilAborted', key));
    const opt = lp.newTaskOptions().setTask(s.task('record', { key, value: 'never' }));
    await lp.addTask(opt);
    const never = await lp.close({ force: true });
    assert.deepEqual(never, [opt]);
    assert.ok((await rejection(running)) instanceof PoolClosedError);
    assert.deepEqual(seen.get(key), ['PoolClosedError']);
    assert.equal(lp.state, 'closed');
    assert.ok((await rejection(lp.run(s.task('double', 1)))) instanceof PoolClosedError);
  });
}
