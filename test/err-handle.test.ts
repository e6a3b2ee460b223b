import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AbortError, ErrHandle, newPool, PoolClosedError, TaskTimeoutError } from '../src/index.js';
import { flush, gate } from './helpers.js';

test('errReload(n): up to n retries on the same worker, then after(lastErr)', async () => {
  const lp = newPool(3, 5);
  const workers = new Set<number>();
  let attempts = 0;
  let final: Error | null | undefined;
  await lp.addTask(
    lp
      .newTaskOptions()
      .setTask((ctx) => { attempts++; workers.add(ctx.workerId); throw new Error(`#${ctx.attempt}`); })
      .setOnError((handle) => handle.errReload(3, (err) => { final = err; })),
  );
  await lp.onIdle();
  assert.equal(attempts, 4);
  assert.equal(workers.size, 1);
  assert.equal(final?.message, '#4');
  const u = lp.usage();
  assert.equal(u.retried, 3);
  assert.equal(u.workers.reduce((s, w) => s + w.executed, 0), 4, 'executed counts attempts, retries included');
  assert.equal(u.failed, 1);
});

test('errReload: a retry that succeeds goes to after(null) and auto-done, not to onSuccess', async () => {
  const lp = newPool(1, 1);
  const tg = lp.newTaskGroup(1);
  const log: string[] = [];
  await lp.addTask(
    tg
      .newTaskOptions()
      .setTask((ctx) => { if (ctx.attempt < 3) throw new Error('not yet'); return 'ok'; })
      .setOnSuccess(() => { log.push('onSuccess'); })
      .setOnError((handle) => { void handle.errReload(5, (err) => { log.push(`after:${String(err)}`); }); })
      .setOnComplete(() => { log.push('onComplete'); })
      .setAutoDone(),
  );
  await tg.wait();
  assert.deepEqual(log, ['after:null', 'onComplete']);
  assert.equal(tg.count, 0);
  assert.equal(lp.usage().completed, 1);
});

test('errReload(0) retries nothing; errReload(-1) and Infinity retry until success', async () => {
  const lp = newPool(1, 5);
  let attempts = 0;
  let result: Error | null | undefined;
  await lp.addTask(lp.newTaskOptions().setTask(() => { attempts++; throw new Error('x'); }).setOnError(async (h) => { result = await h.errReload(0); }));
  await lp.onIdle();
  assert.equal(attempts, 1);
  assert.equal(result?.message, 'x');
  for (const n of [-1, Infinity]) {
    let tries = 0;
    let last: Error | null | undefined = new Error('unset');
    await lp.addTask(lp.newTaskOptions().setTask(() => { if (++tries < 50) throw new Error('x'); }).setOnError(async (h) => { last = await h.errReload(n); }));
    await lp.onIdle();
    assert.equal(tries, 50);
    assert.equal(last, null);
  }
});

test('errReload holds the worker until the retries end even when not awaited', async () => {
  const lp = newPool(1, 5);
  const order: string[] = [];
  await lp.addTask(
    lp
      .newTaskOptions()
      .setTask((ctx) => { order.push(`a#${ctx.attempt}`); if (ctx.attempt < 3) throw new Error('x'); })
      .setOnError((h) => { void h.errReload(5); }),
  );
  await lp.addTask(lp.newTaskOptions().setTask(() => { order.push('b'); }));
  await lp.onIdle();
  assert.deepEqual(order, ['a#1', 'a#2', 'a#3', 'b']);
});

test('errReload validates its count, returns the same promise on a second call, and never rejects', async () => {
  const lp = newPool(1, 5);
  const errors: string[] = [];
  let same = false;
  await lp.addTask(
    lp
      .newTaskOptions()
      .setTask(() => { throw new Error('x'); })
      .setOnError((h) => {
        for (const bad of [-2, 1.5, Number.NaN, '3']) {
          try {
            void h.errReload(bad as number);
          } catch (e) {
            errors.push((e as Error).name);
          }
        }
        const p1 = h.errReload(1, () => { throw new Error('after throws'); });
        same = p1 === h.errReload(4);
        return p1;
      }),
  );
  const callbackErrors: string[] = [];
  lp.on('error', (e, info) => callbackErrors.push(`${info.callback}:${e.message}`));
  await lp.onIdle();
  assert.deepEqual(errors, ['RangeError', 'RangeError', 'RangeError', 'TypeError']);
  assert.equal(same, true);
  assert.deepEqual(callbackErrors, ['errReload.after:after throws']);
});

test('endless errReload stops with PoolClosedError on close', async () => {
  const lp = newPool(1, 5);
  let attempts = 0;
  const final = new Promise<Error | null>((resolve) => {
    void lp.addTask(lp.newTaskOptions().setTask(() => { attempts++; throw new Error('never'); }).setOnError((h) => h.errReload(-1, resolve)));
  });
  while (attempts < 20) await flush();
  await lp.close();
  const err = await final;
  assert.ok(err instanceof PoolClosedError, String(err));
  const before = attempts;
  await flush();
  assert.equal(attempts, before, 'no attempt after close');
});

test('endless errReload stops with AbortError when the task signal aborts', async () => {
  const lp = newPool(1, 5);
  const ac = new AbortController();
  let attempts = 0;
  const final = new Promise<Error | null>((resolve) => {
    void lp.addTask(
      lp.newTaskOptions().setSignal(ac.signal).setTask(() => { attempts++; throw new Error('never'); }).setOnError((h) => h.errReload(Infinity, resolve)),
    );
  });
  while (attempts < 5) await flush();
  ac.abort('stop');
  const err = await final;
  assert.ok(err instanceof AbortError);
  assert.equal(err.cause, 'stop');
  await lp.onIdle();
});

test('errReload after a timed-out attempt waits for its function to return: one function per worker', async () => {
  const lp = newPool(1, 5);
  const g = gate();
  let executing = 0;
  let peak = 0;
  let final: Error | null | undefined;
  await lp.addTask(
    lp
      .newTaskOptions()
      .setTimeout(10)
      .setTask(async (ctx) => {
        executing++;
        peak = Math.max(peak, executing);
        if (ctx.attempt === 1) await g.promise;
        executing--;
        return ctx.attempt;
      })
      .setOnError((h, _g, err) => {
        assert.ok(err instanceof TaskTimeoutError);
        setTimeout(() => g.open(), 30);
        return h.errReload(1, (e) => { final = e; });
      }),
  );
  await lp.onIdle();
  assert.equal(final, null);
  assert.equal(peak, 1);
});

test('a late errReload (after onError returned) runs nothing and is reported', async () => {
  const lp = newPool(1, 5);
  let handle: ErrHandle | undefined;
  let attempts = 0;
  await lp.addTask(lp.newTaskOptions().setTask(() => { attempts++; throw new Error('x'); }).setOnError((h) => { handle = h; }));
  await lp.onIdle();
  const reported: string[] = [];
  lp.on('error', (e) => reported.push(e.message));
  const result = await (handle as ErrHandle).errReload(3);
  assert.equal(result?.message, 'x');
  assert.equal(attempts, 1);
  assert.match(reported[0] as string, /errReload\(\) was called after onError had returned/);
});
