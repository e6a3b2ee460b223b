import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AbortError, TaskFailedError, TaskTimeoutError } from '../src/index.js';
import { ThreadCrashError, ThreadPool } from '../src/threads/index.js';
import { flush, runChild } from './helpers.js';

const tasks = new URL('./fixtures/thread-tasks.ts', import.meta.url);
const broken = new URL('./fixtures/broken-module.ts', import.meta.url);

function gate(): Int32Array {
  return new Int32Array(new SharedArrayBuffer(4));
}
function open(g: Int32Array): void {
  Atomics.store(g, 0, 1);
  Atomics.notify(g, 0);
}

test('runs an exported function of a TypeScript module on a thread, from run(), map() and setTask()', async () => {
  const tp = new ThreadPool({ maxThreads: 2 });
  try {
    assert.equal(await tp.runTask(tasks, 'double', 21), 42);
    assert.notEqual(await tp.runTask(tasks, 'threadId'), 0, 'not the main thread');
    assert.deepEqual(await tp.map([1, 2, 3], (x, _i, ctx) => tp.task<number>(tasks, 'double', x)(ctx)), [2, 4, 6]);
    const tg = tp.newTaskGroup(1);
    const seen: number[] = [];
    await tp.addTask(tg.newTaskOptions().setTask(tp.task<number>(tasks.href, 'double', 5)).setOnSuccess((v) => { seen.push(v); }).setAutoDone());
    await tg.wait();
    assert.deepEqual(seen, [10]);
  } finally {
    await tp.close();
  }
});

test('bad input is refused at task creation with a TypeError naming the part, and the pool is unaffected', async () => {
  const tp = new ThreadPool({ maxThreads: 1 });
  try {
    assert.throws(() => tp.task(tasks, 'double', { a: [1, { f: () => 1 }] }), { name: 'TypeError', message: /input\.a\[1\]\.f cannot be sent to a thread .* a function/ });
    assert.throws(() => tp.task(tasks, 'double', Promise.resolve(1)), { name: 'TypeError', message: /input cannot be sent/ });
    assert.throws(() => tp.task('relative/path.js', 'double', 1), { name: 'TypeError', message: /absolute path/ });
    assert.throws(() => tp.task(tasks, '', 1), { name: 'TypeError', message: /name must be/ });
    await assert.rejects(tp.runTask(tasks, 'double', Symbol('s')), { name: 'TypeError' });
    assert.throws(() => new ThreadPool({ maxThreads: 0 }), { name: 'RangeError', message: /options\.maxThreads/ });
    assert.throws(() => new ThreadPool({ minThreads: 3, maxThreads: 2 }), { name: 'RangeError', message: /minThreads/ });
    assert.throws(() => new ThreadPool({ scaling: { growAt: 2 } }), { name: 'RangeError', message: /scaling\.growAt/ });
    assert.throws(() => new ThreadPool({ threads: 2 } as never), { name: 'TypeError', message: /options\.threads is not a ThreadPool option/ });
    assert.equal(await tp.runTask(tasks, 'double', 2), 4);
    await assert.rejects(tp.runTask(tasks, 'returnsFunction'), { name: 'DataCloneError', message: /could not be sent back/ });
  } finally {
    await tp.close();
  }
});

test('a transfer list moves an ArrayBuffer instead of copying it', async () => {
  const tp = new ThreadPool({ maxThreads: 1 });
  try {
    const buf = new ArrayBuffer(1024);
    assert.equal(await tp.runTask(tasks, 'byteLength', buf, { transfer: [buf] }), 1024);
    assert.equal(buf.byteLength, 0, 'detached in the parent');
  } finally {
    await tp.close();
  }
});

test('failures: a thrown Error keeps its class and message; a thrown non-Error arrives wrapped', async () => {
  const tp = new ThreadPool({ maxThreads: 1 });
  try {
    await assert.rejects(tp.runTask(tasks, 'throwsError', 'too big'), { name: 'RangeError', message: 'too big' });
    const err = await tp.runTask(tasks, 'throwsString').catch((e: unknown) => e);
    assert.ok(err instanceof TaskFailedError);
    assert.equal(err.cause, 'a plain string');
    await assert.rejects(tp.runTask(tasks, 'nope'), { message: /has no exported function "nope"/ });
  } finally {
    await tp.close();
  }
});

test('a module that fails at import fails its tasks with an error naming the file, without a respawn storm', async () => {
  const tp = new ThreadPool({ maxThreads: 2 });
  try {
    for (let i = 0; i < 5; i++) {
      await assert.rejects(tp.runTask(broken, 'anything'), (e: Error) => e.name === 'TaskModuleError' && e.message.includes('broken-module.ts'));
    }
    assert.ok(tp.threads <= 2);
    assert.equal(tp.threadUsage().length, tp.threads, 'no thread died');
    assert.equal(await tp.runTask(tasks, 'double', 1), 2);
  } finally {
    await tp.close();
  }
});

test('a preload module that cannot be loaded fails the tasks with an error naming it, without a respawn loop', async () => {
  const tp = new ThreadPool({ maxThreads: 1, preload: ['/nonexistent/loader.mjs'] });
  try {
    for (let i = 0; i < 3; i++) {
      await assert.rejects(tp.runTask(tasks, 'double', 1), (e: Error) => e.name === 'ThreadSetupError' && e.message.includes('/nonexistent/loader.mjs'));
    }
    assert.equal(tp.threadUsage().length, 1, 'one thread, never replaced');
  } finally {
    await tp.close();
  }
});

test('crash isolation: process.exit (even 0), an unhandled rejection: only that task fails, the thread is replaced', async () => {
  const tp = new ThreadPool({ maxThreads: 2 });
  try {
    for (const code of [3, 0]) {
      const g = gate();
      const other = tp.runTask(tasks, 'waitGate', g);
      const err = await tp.runTask(tasks, 'exits', code).catch((e: unknown) => e);
      assert.ok(err instanceof ThreadCrashError, String(err));
      assert.equal(err.exitCode, code);
      assert.match(err.message, new RegExp(`exited with code ${code}`));
      open(g);
      assert.equal(await other, 'released', 'the task on the other thread is unaffected');
    }
    const rejection = await tp.runTask(tasks, 'unhandledRejection').catch((e: unknown) => e);
    assert.ok(rejection instanceof ThreadCrashError, String(rejection));
    assert.match(rejection.message, /crashed: nobody handles this/);
    assert.equal(await tp.runTask(tasks, 'double', 4), 8, 'replaced threads take new tasks');
  } finally {
    await tp.close();
  }
});

test('out of memory under resourceLimits fails the task with a ThreadCrashError that says so', async () => {
  const tp = new ThreadPool({ maxThreads: 1, resourceLimits: { maxOldGenerationSizeMb: 32, maxYoungGenerationSizeMb: 8 } });
  try {
    const err = await tp.runTask(tasks, 'allocate').catch((e: unknown) => e);
    assert.ok(err instanceof ThreadCrashError, String(err));
    assert.match(err.message, /out of memory/);
    assert.equal(await tp.runTask(tasks, 'double', 3), 6);
  } finally {
    await tp.close();
  }
});

test('retries apply to thread crashes', async () => {
  const tp = new ThreadPool({ maxThreads: 1 });
  try {
    const counter = new Int32Array(new SharedArrayBuffer(4));
    const seen: number[] = [];
    const value = await tp.run(
      async (ctx) => {
        seen.push(ctx.attempt);
        if (Atomics.add(counter, 0, 1) === 0) return tp.task(tasks, 'exits', 1)(ctx);
        return tp.task<number>(tasks, 'double', 10)(ctx);
      },
      { retry: { retries: 2, minDelay: 0 } },
    );
    assert.equal(value, 20);
    assert.deepEqual(seen, [1, 2]);
  } finally {
    await tp.close();
  }
});

test('a timeout stops a runaway CPU-bound task by ending its thread; the worker is free at once', async () => {
  const tp = new ThreadPool({ maxThreads: 1 });
  try {
    const err = await tp.runTask(tasks, 'forever', undefined, { timeout: 100 }).catch((e: unknown) => e);
    assert.ok(err instanceof TaskTimeoutError);
    await tp.onIdle();
    assert.equal(tp.running, 0);
    assert.equal(await tp.runTask(tasks, 'double', 7), 14, 'a new thread replaced the ended one');
    const ac = new AbortController();
    const p = tp.runTask(tasks, 'forever', undefined, { signal: ac.signal });
    await flush();
    ac.abort('stop');
    const aborted = await p.catch((e: unknown) => e);
    assert.ok(aborted instanceof AbortError);
  } finally {
    await tp.close();
  }
});

test('dispatch: least-loaded thread first; tasksPerThread puts several tasks on one thread', async () => {
  const tp = new ThreadPool({ maxThreads: 2 });
  try {
    const g = gate();
    const a = tp.runTask(tasks, 'waitGate', g);
    const b = tp.runTask(tasks, 'waitGate', g);
    await flush();
    assert.equal(tp.threads, 2);
    assert.deepEqual(tp.threadUsage().map((t) => t.inFlight), [1, 1]);
    open(g);
    await Promise.all([a, b]);
  } finally {
    await tp.close();
  }
  const tp2 = new ThreadPool({ maxThreads: 2, tasksPerThread: 2 });
  try {
    const all = [1, 2, 3, 4].map((x) => tp2.runTask(tasks, 'slowDouble', { x, ms: 50 }));
    await flush();
    assert.deepEqual(tp2.threadUsage().map((t) => t.inFlight), [2, 2]);
    assert.deepEqual(await Promise.all(all), [2, 4, 6, 8]);
    const u = tp2.threadUsage();
    assert.equal(u.reduce((s, t) => s + t.executed, 0), 4);
    assert.ok(u.every((t) => t.busyMs > 0));
    const lines: string[] = [];
    tp2.printUsage((l) => lines.push(l));
    assert.match(lines.at(-3) as string, /^thread\s+in flight\s+executed\s+failed\s+busy ms$/);
    assert.equal(lines.slice(-2).length, 2, 'one row per thread');
  } finally {
    await tp2.close();
  }
});

test('close ends every thread, graceful or forced; the process exits by itself', async () => {
  const tp = new ThreadPool({ maxThreads: 2 });
  await tp.runTask(tasks, 'double', 1);
  assert.ok(tp.threads >= 1);
  await tp.close();
  assert.equal(tp.threads, 0);
  const tp2 = new ThreadPool({ maxThreads: 2 });
  const runaway = tp2.runTask(tasks, 'forever').catch((e: unknown) => e);
  await flush();
  await tp2.close({ force: true });
  assert.equal(tp2.threads, 0);
  assert.equal((await runaway as Error).name, 'PoolClosedError');
  const out = await runChild([
    "import { ThreadPool } from './src/threads/index.ts';",
    'const tp = new ThreadPool({ maxThreads: 2, minThreads: 1 });',
    `console.log(await tp.runTask(new URL(${JSON.stringify(tasks.href)}), 'double', 2));`,
  ]);
  assert.equal(out, '4', 'an open pool with idle threads does not keep the process alive');
});

test('resize(threads) counts threads: workers = threads × tasksPerThread; idle threads beyond it end, busy ones when done; never below minThreads', async () => {
  const tp = new ThreadPool({ maxThreads: 2, tasksPerThread: 2, minThreads: 1 });
  try {
    assert.equal(tp.workers, 4);
    assert.throws(() => tp.resize(0), { name: 'RangeError', message: /resize\(threads\) must be an integer ≥ 1/ });
    assert.throws(() => tp.resize(1.5), { name: 'RangeError' });
    const g = gate();
    const busy = [1, 2, 3, 4].map(() => tp.runTask(tasks, 'waitGate', g));
    await flush();
    assert.equal(tp.threads, 2);
    tp.resize(1);
    assert.equal(tp.workers, 2, 'one thread of two slots');
    const later = [5, 6].map((x) => tp.runTask<number>(tasks, 'double', x));
    await flush();
    assert.equal(tp.running, 4, 'no task starts until fewer than the new number of workers are busy');
    open(g);
    await Promise.all(busy);
    assert.deepEqual(await Promise.all(later), [10, 12]);
    await tp.onIdle();
    assert.equal(tp.threads, 1, 'the thread beyond the new maximum ended once its tasks were done');
    tp.resize(3);
    assert.equal(tp.workers, 6);
    const many = [1, 2, 3, 4, 5, 6].map((x) => tp.runTask(tasks, 'slowDouble', { x, ms: 30 }));
    await flush();
    assert.equal(tp.threads, 3, 'grows again up to the new maximum');
    await Promise.all(many);
  } finally {
    await tp.close();
  }
  const floor = new ThreadPool({ maxThreads: 3, minThreads: 2 });
  try {
    assert.throws(() => floor.resize(1), { name: 'RangeError', message: /resize\(threads\) \(1\) must be ≥ options\.minThreads \(2\)/ });
    assert.equal(floor.workers, 3);
  } finally {
    await floor.close();
  }
});
