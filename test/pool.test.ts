import assert from 'node:assert/strict';
import { AsyncLocalStorage } from 'node:async_hooks';
import { test } from 'node:test';
import { AddTimeoutError, LitePool, newPool, PoolClosedError } from '../src/index.js';
import { captureWarnings, flush, gate, rejection, turns, runChild } from './helpers.js';

test('options are validated once, with the option, the value and its type in the message', () => {
  assert.throws(() => new LitePool({ workers: 0 }), { name: 'RangeError', message: /options\.workers .* received 0 \(number\)/ });
  assert.throws(() => new LitePool({ workers: 1.5 }), { name: 'RangeError', message: /options\.workers/ });
  assert.throws(() => new LitePool({ workers: Number.NaN }), { name: 'RangeError', message: /NaN/ });
  assert.throws(() => new LitePool({ workers: '4' as unknown as number }), { name: 'TypeError', message: /options\.workers .* "4"/ });
  assert.throws(() => new LitePool({ queueSize: -1 }), { name: 'RangeError', message: /options\.queueSize .* -1/ });
  assert.throws(() => new LitePool({ queueSize: 2.5 }), { name: 'RangeError', message: /options\.queueSize/ });
  assert.throws(() => new LitePool({ wrokers: 3 } as never), { name: 'TypeError', message: /options\.wrokers is not a litepool option/ });
  assert.throws(() => new LitePool(null as never), { name: 'TypeError', message: /options must be an object/ });
  assert.throws(() => newPool(5, -3), { name: 'RangeError', message: /queueSize/ });
  const lp = new LitePool({ queueSize: Infinity, workers: 3 });
  assert.equal(lp.workers, 3);
  assert.equal(lp.queueSize, Infinity);
  assert.equal(newPool(5, 10).queueSize, 10);
});

test('no more than `workers` tasks run at once, and no worker idles while a task waits', async () => {
  const lp = newPool(3, 10);
  const gates = Array.from({ length: 8 }, () => gate());
  let runningNow = 0;
  let peak = 0;
  const started: number[] = [];
  const all = gates.map((g, i) =>
    lp.run(async () => {
      started.push(i);
      runningNow++;
      peak = Math.max(peak, runningNow);
      await g.promise;
      runningNow--;
      return i;
    }),
  );
  await flush();
  assert.deepEqual(started, [0, 1, 2]);
  assert.equal(lp.running, 3);
  assert.equal(lp.size, 5);
  gates[1]?.open();
  await flush();
  assert.deepEqual(started, [0, 1, 2, 3], 'the freed worker takes the next task at once');
  assert.equal(lp.running, 3);
  for (const g of gates) g.open();
  assert.deepEqual(await Promise.all(all), [0, 1, 2, 3, 4, 5, 6, 7]);
  assert.equal(peak, 3);
  assert.equal(lp.running, 0);
  assert.equal(lp.size, 0);
});

test('capacity is workers + workers × queueSize; blocked adders are admitted FIFO', async () => {
  const lp = newPool(2, 1); // 2 running + 2 waiting
  const g = gate();
  const admitted: number[] = [];
  const adds = Array.from({ length: 7 }, (_, i) =>
    lp.addTask(lp.newTaskOptions().setTask(() => g.promise)).then(() => admitted.push(i)),
  );
  await flush();
  assert.deepEqual(admitted, [0, 1, 2, 3]);
  assert.equal(lp.running, 2);
  assert.equal(lp.size, 2);
  assert.equal(lp.blockedAdders, 3);
  g.open();
  await Promise.all(adds);
  assert.deepEqual(admitted, [0, 1, 2, 3, 4, 5, 6]);
  await lp.onIdle();
});

test('queueSize 0: a task is admitted only when a worker is free', async () => {
  const lp = newPool(1, 0);
  const g = gate();
  let secondAdmitted = false;
  await lp.addTask(lp.newTaskOptions().setTask(() => g.promise));
  const second = lp.addTask(lp.newTaskOptions().setTask(() => 'x')).then(() => (secondAdmitted = true));
  await flush();
  assert.equal(secondAdmitted, false);
  assert.equal(lp.size, 0);
  g.open();
  await second;
  assert.equal(secondAdmitted, true);
  await lp.onIdle();
});

test('addTask resolves on admission, before the task finishes', async () => {
  const lp = newPool(1, 1);
  const g = gate();
  let finished = false;
  await lp.addTask(lp.newTaskOptions().setTask(async () => { await g.promise; finished = true; }));
  await lp.addTask(lp.newTaskOptions().setTask(() => undefined));
  assert.equal(finished, false);
  g.open();
  await lp.onIdle();
  assert.equal(finished, true);
});

test('addTask is refused without a task, with foreign options, and after close', async () => {
  const lp = newPool(1, 1);
  const other = newPool(1, 1);
  assert.match((await rejection(lp.addTask(lp.newTaskOptions()))).message, /no task was set/);
  assert.match((await rejection(lp.addTask(other.newTaskOptions().setTask(() => 1)))).message, /another pool/);
  assert.match((await rejection(lp.addTask({} as never))).message, /takes TaskOptions/);
  await lp.close();
  assert.ok((await rejection(lp.addTask(lp.newTaskOptions().setTask(() => 1)))) instanceof PoolClosedError);
});

test('setAddTimeout: gives up, calls onAddTimeout, auto-done, then rejects with AddTimeoutError', async () => {
  const lp = newPool(1, 0);
  const g = gate();
  await lp.addTask(lp.newTaskOptions().setTask(() => g.promise));
  const tg = lp.newTaskGroup(1);
  const order: string[] = [];
  let ran = false;
  const err = await rejection(
    lp.addTask(
      tg
        .newTaskOptions()
        .setTask(() => { ran = true; })
        .setAddTimeout(20)
        .setOnAddTimeout(() => { order.push(`onAddTimeout count=${tg.count}`); })
        .setAutoDone(),
    ),
  );
  order.push(`rejected count=${tg.count}`);
  assert.ok(err instanceof AddTimeoutError);
  assert.equal(err.code, 'ERR_ADD_TIMEOUT');
  assert.deepEqual(order, ['onAddTimeout count=1', 'rejected count=0']);
  await tg.wait();
  g.open();
  await lp.onIdle();
  assert.equal(ran, false, 'a timed-out task never runs');
  assert.equal(lp.usage().rejected, 1);
});

test('a task runs in the async context of the code that added it, queued or not', async () => {
  const als = new AsyncLocalStorage<string>();
  const lp = newPool(1, 10);
  const g = gate();
  const seen: (string | undefined)[] = [];
  const tasks: Promise<unknown>[] = [];
  for (const name of ['a', 'b', 'c']) {
    als.run(name, () => {
      tasks.push(lp.run(async () => { if (name === 'a') await g.promise; seen.push(als.getStore()); }));
    });
  }
  als.run('d', () => {
    void lp.addTask(lp.newTaskOptions().setTask(() => { seen.push(als.getStore()); }).setOnComplete(() => { seen.push(`complete:${als.getStore()}`); }));
  });
  g.open();
  await Promise.all(tasks);
  await lp.onIdle();
  assert.deepEqual(seen, ['a', 'b', 'c', 'd', 'complete:d']);
});

test('a task may return a plain value, synchronously', async () => {
  const lp = newPool(2, 2);
  assert.equal(await lp.run(() => 42), 42);
  const results: unknown[] = [];
  await lp.addTask(lp.newTaskOptions().setTask(() => 'sync').setOnSuccess((v) => { results.push(v); }));
  await lp.onIdle();
  assert.deepEqual(results, ['sync']);
});

test('many synchronous tasks do not grow the stack', async () => {
  const lp = newPool(1, Infinity);
  const g = gate();
  void lp.run(() => g.promise);
  let n = 0;
  const all: Promise<void>[] = [];
  for (let i = 0; i < 20_000; i++) all.push(lp.run(() => { n++; }));
  g.open();
  await Promise.all(all);
  assert.equal(n, 20_000);
});

test('ctx carries the attempt number and the worker id', async () => {
  const lp = newPool(2, 0);
  const g = gate();
  const ids: number[] = [];
  const a = lp.run(async (ctx) => { ids.push(ctx.workerId); await g.promise; return ctx.attempt; });
  const b = lp.run(async (ctx) => { ids.push(ctx.workerId); await g.promise; return ctx.attempt; });
  await flush();
  assert.deepEqual(ids.sort(), [0, 1]);
  g.open();
  assert.deepEqual(await Promise.all([a, b]), [1, 1]);
});

test('usage(): per-worker figures and pool totals, recorded before the promise settles', async () => {
  const lp = newPool(2, 5);
  await lp.run(() => 1);
  const u1 = lp.usage();
  assert.equal(u1.workers.reduce((s, w) => s + w.executed, 0), 1);
  assert.equal(u1.completed, 1);
  await rejection(lp.run(() => { throw new Error('x'); }));
  const u2 = lp.usage();
  assert.equal(u2.workers.reduce((s, w) => s + w.failed, 0), 1);
  assert.equal(u2.failed, 1);
  assert.equal(u2.workers.length, 2);
  assert.deepEqual(Object.keys(u2.workers[0] as object).sort(), ['busyMs', 'executed', 'failed', 'id', 'state']);
  for (const w of u2.workers) assert.equal(w.state, 'idle');
});

test('printUsage writes one aligned row per worker, then a balance line, then the wait and run times', async () => {
  const lp = newPool(3, 5);
  await Promise.all(Array.from({ length: 30 }, () => lp.run(() => new Promise((r) => setImmediate(r)))));
  const lines: string[] = [];
  lp.printUsage((l) => lines.push(l));
  assert.equal(lines.length, 1 + 3 + 1 + 3);
  assert.match(lines[6] as string, /^wait\s.*\s30$/);
  assert.match(lines[7] as string, /^run\s.*\s30$/);
  assert.match(lines[0] as string, /^worker\s+state\s+executed\s+failed\s+busy ms\s+share$/);
  const widths = new Set(lines.slice(0, 4).map((l) => l.length));
  assert.equal(widths.size, 1, 'rows are aligned to the same width');
  assert.match(lines[4] as string, /^balance: busy max\/mean \d+\.\d{3} .*completed 30, failed 0/);
  assert.throws(() => lp.printUsage(42 as never), { name: 'TypeError', message: /printUsage\(write\)/ });
});

test('onIdle resolves at once when idle, and after the last task otherwise', async () => {
  const lp = newPool(1, 1);
  let resolved = false;
  await lp.onIdle();
  const g = gate();
  void lp.run(() => g.promise);
  const idle = lp.onIdle().then(() => (resolved = true));
  await flush();
  assert.equal(resolved, false);
  g.open();
  await idle;
  assert.equal(resolved, true);
});

test('an open pool with no work keeps no handles: a child process exits by itself', async () => {
  const out = await runChild([
    "import { newPool } from './src/index.ts';",
    'const lp = newPool(2, 2);',
    'await lp.run(() => 1);',
    'const tg = lp.newTaskGroup(1);',
    'await lp.addTask(tg.newTaskOptions().setTask(() => 2).setAutoDone().setAddTimeout(60_000).setTimeout(60_000));',
    'await tg.wait();',
    "console.log('done', process.getActiveResourcesInfo().filter((r) => r === 'Timeout' || r === 'Immediate').join(','));",
  ]);
  assert.equal(out, 'done');
});

test('events: active, completed, failed and idle', async () => {
  const lp = newPool(1, 5);
  const events: string[] = [];
  lp.on('active', () => events.push('active'));
  lp.on('completed', (v) => events.push(`completed:${String(v)}`));
  lp.on('failed', (e) => events.push(`failed:${e.message}`));
  lp.on('idle', () => events.push('idle'));
  await lp.run(() => 1);
  await rejection(lp.run(() => { throw new Error('boom'); }));
  await lp.onIdle();
  assert.deepEqual(events, ['active', 'completed:1', 'idle', 'active', 'failed:boom', 'idle']);
});

test('no warning is emitted on the ordinary paths', async () => {
  const warnings = await captureWarnings(async () => {
    const lp = newPool(2, 2);
    await lp.run(() => 1);
    await rejection(lp.run(() => Promise.reject(new Error('x'))));
    await lp.close();
  });
  assert.deepEqual(warnings, []);
  await turns(1);
});

test('events carry the task id: active, completed, failed, retry', async () => {
  const lp = newPool(1, 5);
  const seen: string[] = [];
  lp.on('active', (id) => seen.push(`active:${id}`));
  lp.on('completed', (result, id) => seen.push(`completed:${id}:${String(result)}`));
  lp.on('failed', (err, id) => seen.push(`failed:${id}:${err.message}`));
  lp.on('retry', (err, attempt, id) => seen.push(`retry:${id}:${attempt}`));
  await lp.run(() => 'a');
  await lp.run((ctx) => {
    if (ctx.attempt === 1) throw new Error('again');
    return 'b';
  }, { retry: { retries: 1, minDelay: 0, maxDelay: 0 } });
  await lp.run(() => { throw new Error('no'); }).catch(() => {});
  assert.deepEqual(seen, ['active:1', 'completed:1:a', 'active:2', 'retry:2:1', 'active:2', 'completed:2:b', 'active:3', 'failed:3:no']);
  await lp.close();
});
