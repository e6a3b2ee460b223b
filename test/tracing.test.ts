// Trace points (API.md 6): a TracingChannel `litepool:task` around every attempt (one message object per
// attempt, with taskId, attempt, pool, key), `litepool:admission` for submitters that waited for room and
// `litepool:retry` for retries; the stores bound to the channel are active inside the task; on LitePool and
// ThreadPool (DistributedPool: test/bullmq/tracing.test.ts).
import assert from 'node:assert/strict';
import { AsyncLocalStorage } from 'node:async_hooks';
import { channel, tracingChannel } from 'node:diagnostics_channel';
import { test } from 'node:test';
import { LitePool, TaskTimeoutError, type AdmissionTrace, type AttemptTrace, type RetryTrace } from '../src/index.js';
import { ThreadPool } from '../src/threads/index.js';
import { flush, gate, rejection } from './helpers.js';

type Event = [kind: string, trace: AttemptTrace];

/** Records every event of `litepool:task` while `fn` runs; returns them in order. */
async function recordTasks(fn: () => Promise<void>): Promise<Event[]> {
  const events: Event[] = [];
  const on = (kind: string) => (m: unknown) => events.push([kind, m as AttemptTrace]);
  const handlers = { start: on('start'), end: on('end'), asyncStart: on('asyncStart'), asyncEnd: on('asyncEnd'), error: on('error') };
  const tc = tracingChannel('litepool:task');
  tc.subscribe(handlers);
  try {
    await fn();
  } finally {
    tc.unsubscribe(handlers);
  }
  return events;
}

test('litepool:task: start/end around a synchronous attempt, start/end/asyncStart/asyncEnd around an async one, one message each', async () => {
  const lp = new LitePool({ workers: 2, name: 'crawler', keys: {} });
  const events = await recordTasks(async () => {
    assert.equal(await lp.run(() => 1), 1);
    assert.equal(await lp.run(async () => 2, { key: 'example.org' }), 2);
  });
  assert.deepEqual(
    events.map(([kind, t]) => `${kind}:${t.taskId}`),
    ['start:1', 'end:1', 'start:2', 'end:2', 'asyncStart:2', 'asyncEnd:2'],
  );
  const [, first] = events[0] as Event;
  assert.equal(first, (events[1] as Event)[1], 'one message object per attempt');
  assert.equal(first.result, 1);
  assert.equal(first.pool, 'crawler');
  assert.equal(first.key, undefined);
  assert.equal(first.attempt, 1);
  assert.equal(first.workerId, 0);
  assert.ok(first.waitMs >= 0);
  const second = (events[2] as Event)[1];
  assert.equal(second.key, 'example.org');
  assert.equal(second.result, 2);
  assert.ok(events.slice(2).every(([, t]) => t === second));
  await lp.close();
});

test('litepool:task: failures publish error (a timeout too); retries are new attempts of the same task, announced on litepool:retry', async () => {
  const lp = new LitePool({ workers: 1 });
  const retries: RetryTrace[] = [];
  const onRetry = (m: unknown) => retries.push(m as RetryTrace);
  channel('litepool:retry').subscribe(onRetry);
  const slow = gate();
  const events = await recordTasks(async () => {
    const value = await lp.run(
      (ctx) => {
        if (ctx.attempt < 3) throw new Error(`failed ${ctx.attempt}`);
        return 'third time';
      },
      { retry: { retries: 2, minDelay: 1, maxDelay: 1, jitter: 'none' } },
    );
    assert.equal(value, 'third time');
    const err = await rejection(lp.run(() => slow.promise, { timeout: 10 }));
    assert.ok(err instanceof TaskTimeoutError);
  });
  channel('litepool:retry').unsubscribe(onRetry);
  slow.open();
  const retried = events.filter(([, t]) => t.taskId === '1');
  assert.deepEqual(
    retried.map(([kind, t]) => `${kind}:${t.attempt}`),
    ['start:1', 'error:1', 'end:1', 'start:2', 'error:2', 'end:2', 'start:3', 'end:3'],
  );
  assert.equal(((retried[1] as Event)[1].error as Error).message, 'failed 1');
  assert.deepEqual(
    retries.map((r) => [r.taskId, r.attempt, r.error.message, r.delayMs]),
    [
      ['1', 1, 'failed 1', 1],
      ['1', 2, 'failed 2', 1],
    ],
  );
  const timedOut = events.filter(([, t]) => t.taskId === '2').map(([kind]) => kind);
  assert.deepEqual(timedOut, ['start', 'end', 'error', 'asyncStart', 'asyncEnd']);
  assert.ok((events.find(([kind, t]) => kind === 'error' && t.taskId === '2') as Event)[1].error instanceof TaskTimeoutError);
  await lp.close();
});

test('litepool:task: an errReload rerun is an attempt with waitMs 0 and its own retry message', async () => {
  const lp = new LitePool({ workers: 1 });
  const retries: RetryTrace[] = [];
  const onRetry = (m: unknown) => retries.push(m as RetryTrace);
  channel('litepool:retry').subscribe(onRetry);
  let calls = 0;
  const events = await recordTasks(async () => {
    const tg = lp.newTaskGroup(1);
    await lp.addTask(
      tg
        .newTaskOptions()
        .setAutoDone()
        .setTask(() => {
          if (calls++ === 0) throw new Error('once');
        })
        .setOnError((handle) => void handle.errReload(1)),
    );
    await tg.wait();
  });
  channel('litepool:retry').unsubscribe(onRetry);
  const starts = events.filter(([kind]) => kind === 'start').map(([, t]) => t);
  assert.deepEqual(
    starts.map((t) => [t.taskId, t.attempt]),
    [
      ['1', 1],
      ['1', 2],
    ],
  );
  assert.equal(starts[1]?.waitMs, 0, 'the rerun kept its worker');
  assert.deepEqual(
    retries.map((r) => [r.attempt, r.delayMs]),
    [[1, 0]],
  );
  await lp.close();
});

test("litepool:task: a store bound to the start channel is the task's async context (how an APM makes a span current)", async () => {
  const lp = new LitePool({ workers: 1 });
  const store = new AsyncLocalStorage<string>();
  const tc = tracingChannel<string, AttemptTrace>('litepool:task');
  tc.start.bindStore(store, (trace) => `span of task ${trace.taskId}`);
  try {
    const seen = await lp.run(async () => {
      await flush();
      return store.getStore();
    });
    assert.equal(seen, 'span of task 1');
  } finally {
    tc.start.unbindStore(store);
  }
  await lp.close();
});

test('litepool:admission: a submitter that waited for room is published when admitted or refused', async () => {
  const lp = new LitePool({ workers: 1, queueSize: 0, name: 'tight' });
  const seen: AdmissionTrace[] = [];
  const onAdmission = (m: unknown) => seen.push(m as AdmissionTrace);
  channel('litepool:admission').subscribe(onAdmission);
  const g = gate();
  const first = lp.run(() => g.promise);
  const waited = lp.run(() => 'waited');
  const refused = lp.addTask(lp.newTaskOptions().setTask(() => 'never').setAddTimeout(5));
  assert.equal((await rejection(refused)).name, 'AddTimeoutError');
  g.open();
  await first;
  assert.equal(await waited, 'waited');
  channel('litepool:admission').unsubscribe(onAdmission);
  assert.deepEqual(
    seen.map((s) => [s.taskId, s.pool, s.admitted, s.error?.name]),
    [
      ['3', 'tight', false, 'AddTimeoutError'],
      ['2', 'tight', true, undefined],
    ],
  );
  assert.ok(seen.every((s) => s.waitedMs >= 0));
  assert.equal(lp.usage().completed, 2);
  await lp.close();
});

test('without subscribers nothing is published and a pool runs as before; a subscriber added later sees only later attempts', async () => {
  const lp = new LitePool({ workers: 2 });
  await lp.run(() => 'before');
  const events = await recordTasks(async () => {
    await lp.run(() => 'during');
  });
  await lp.run(() => 'after');
  assert.deepEqual(
    events.map(([kind, t]) => `${kind}:${t.taskId}`),
    ['start:2', 'end:2'],
  );
  await lp.close();
});

test('litepool:task on a ThreadPool: the attempts that run on threads are traced the same way', async () => {
  const tasks = new URL('./fixtures/thread-tasks.ts', import.meta.url);
  const tp = new ThreadPool({ maxThreads: 1, name: 'cpu' });
  try {
    const events = await recordTasks(async () => {
      assert.equal(await tp.run(tp.task<number>(tasks, 'double', 21)), 42);
      await assert.rejects(tp.run(tp.task(tasks, 'throwsError', 'on the thread')), /on the thread/);
    });
    assert.deepEqual(
      events.map(([kind, t]) => `${kind}:${t.taskId}:${t.pool}`),
      ['start:1:cpu', 'end:1:cpu', 'asyncStart:1:cpu', 'asyncEnd:1:cpu', 'start:2:cpu', 'end:2:cpu', 'error:2:cpu', 'asyncStart:2:cpu', 'asyncEnd:2:cpu'],
    );
    assert.equal((events[2] as Event)[1].result, 42);
  } finally {
    await tp.close();
  }
});

test('a subscriber of asyncEnd alone gets every async attempt (trace-subscriber-of-end-events-only-got-nothing)', async () => {
  const lp = new LitePool({ workers: 1 });
  const ended: AttemptTrace[] = [];
  const onEnd = (m: unknown) => ended.push(m as AttemptTrace);
  tracingChannel('litepool:task').asyncEnd.subscribe(onEnd);
  try {
    await lp.run(async () => 'a');
    await lp.run(async () => 'b');
  } finally {
    tracingChannel('litepool:task').asyncEnd.unsubscribe(onEnd);
  }
  assert.deepEqual(
    ended.map((t) => t.result),
    ['a', 'b'],
  );
  await lp.close();
});
