import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrHandle, newPool, TaskGroup, type TaskContext } from '../src/index.js';
import { gate } from './helpers.js';

test('setters validate their argument and name it', () => {
  const lp = newPool(1, 1);
  const opt = lp.newTaskOptions();
  assert.throws(() => opt.setTask(42 as never), { name: 'TypeError', message: /setTask\(task\) must be an object with a method exec\(\), received 42/ });
  assert.throws(() => opt.setTaskWithInterface({} as never), { name: 'TypeError', message: /setTaskWithInterface\(obj\)/ });
  assert.throws(() => opt.setOnSuccess('x' as never), { name: 'TypeError', message: /setOnSuccess\(fn\) must be a function, received "x"/ });
  assert.throws(() => opt.setOnError(null as never), { name: 'TypeError', message: /setOnError\(fn\)/ });
  assert.throws(() => opt.setOnComplete(undefined as never), { name: 'TypeError', message: /setOnComplete\(fn\)/ });
  assert.throws(() => opt.setOnSuccessWithInterface({} as never), { name: 'TypeError', message: /method onSuccess\(\)/ });
  assert.throws(() => opt.setOnErrorWithInterface({} as never), { name: 'TypeError', message: /method onError\(\)/ });
  assert.throws(() => opt.setOnCompleteWithInterface({} as never), { name: 'TypeError', message: /method onComplete\(\)/ });
  assert.throws(() => opt.setAddTimeout(-1), { name: 'RangeError', message: /setAddTimeout\(ms\) .* -1/ });
  assert.throws(() => opt.setAddTimeout(Number.NaN), { name: 'RangeError', message: /NaN/ });
  assert.throws(() => opt.setOnAddTimeout(1 as never), { name: 'TypeError', message: /setOnAddTimeout/ });
  assert.throws(() => opt.setAutoDone('yes' as never), { name: 'TypeError', message: /setAutoDone/ });
  assert.throws(() => opt.setTimeout(-5), { name: 'RangeError', message: /setTimeout\(ms\)/ });
  assert.throws(() => opt.setSignal({} as never), { name: 'TypeError', message: /setSignal\(signal\) must be an AbortSignal/ });
  assert.throws(() => opt.setRetry(-1), { name: 'RangeError', message: /setRetry\(policy\)\.retries/ });
  assert.throws(() => opt.setPriority(Infinity), { name: 'RangeError', message: /setPriority/ });
  assert.equal(opt.setTask(() => 1).setAutoDone().setAddTimeout(5), opt, 'setters chain on the same object');
});

test('the task receives ctx; a function or an exec() object, called with the object as this', async () => {
  const lp = newPool(1, 5);
  const seen: unknown[] = [];
  const obj = {
    name: 'obj',
    exec(this: { name: string }, ctx: TaskContext) {
      seen.push(this.name, ctx.attempt, typeof ctx.signal.aborted);
      return 7;
    },
  };
  const results: number[] = [];
  await lp.addTask(lp.newTaskOptions().setTask(obj).setOnSuccess((v) => { results.push(v); }));
  await lp.addTask(lp.newTaskOptions().setTaskWithInterface(obj).setOnSuccess((v) => { results.push(v + 1); }));
  await lp.onIdle();
  assert.deepEqual(seen, ['obj', 1, 'boolean', 'obj', 1, 'boolean']);
  assert.deepEqual(results, [7, 8]);
});

test('interface forms call methods with the object as this', async () => {
  const lp = newPool(2, 5);
  const tg = lp.newTaskGroup(2);
  class Tracker {
    log: string[] = [];
    exec(): string {
      return 'v';
    }
    onSuccess(v: string): void {
      this.log.push(`success:${v}`);
    }
    onError(handle: ErrHandle, group: TaskGroup, err: Error): void {
      this.log.push(`error:${err.message}:${handle instanceof ErrHandle}:${group === tg}`);
      group.done();
    }
    onComplete(): void {
      this.log.push('complete');
    }
  }
  const t = new Tracker();
  await lp.addTask(tg.newTaskOptions().setTaskWithInterface(t).setOnSuccessWithInterface(t).setOnErrorWithInterface(t).setOnCompleteWithInterface(t).setAutoDone());
  const failing = { exec(): never { throw new Error('bad'); } };
  await lp.addTask(tg.newTaskOptions().setTaskWithInterface(failing).setOnErrorWithInterface(t).setOnCompleteWithInterface(t).setAutoDone());
  await tg.wait();
  assert.deepEqual(t.log.sort(), ['complete', 'complete', 'error:bad:true:true', 'success:v']);
});

test('order on success: task → onSuccess → onComplete → auto-done, each awaited', async () => {
  const lp = newPool(1, 1);
  const tg = lp.newTaskGroup(1);
  const order: string[] = [];
  await lp.addTask(
    tg
      .newTaskOptions()
      .setTask(async () => { order.push('task'); return 3; })
      .setOnSuccess(async (v) => { await new Promise((r) => setImmediate(r)); order.push(`onSuccess:${v}:count=${tg.count}`); })
      .setOnComplete(async () => { await new Promise((r) => setImmediate(r)); order.push(`onComplete:count=${tg.count}`); })
      .setAutoDone(),
  );
  await tg.wait();
  order.push(`wait:count=${tg.count}`);
  assert.deepEqual(order, ['task', 'onSuccess:3:count=1', 'onComplete:count=1', 'wait:count=0']);
});

test('order on failure: task → onError (and its retries, then after) → onComplete; the handler owns done()', async () => {
  const lp = newPool(1, 1);
  const tg = lp.newTaskGroup(1);
  const order: string[] = [];
  await lp.addTask(
    tg
      .newTaskOptions()
      .setTask((ctx) => { order.push(`task#${ctx.attempt}`); throw new Error(`fail#${ctx.attempt}`); })
      .setOnSuccess(() => { order.push('onSuccess'); })
      .setOnError((handle, group, err) => {
        order.push(`onError:${err.message}`);
        void handle.errReload(2, (last) => {
          order.push(`after:${last?.message}`);
          group.done();
        });
      })
      .setOnComplete(() => { order.push('onComplete'); })
      .setAutoDone(),
  );
  await tg.wait();
  assert.deepEqual(order, ['task#1', 'onError:fail#1', 'task#2', 'task#3', 'after:fail#3', 'onComplete']);
});

test('a thrown non-Error arrives wrapped in an Error whose cause is the value', async () => {
  const lp = newPool(1, 5);
  for (const value of ['str', undefined, null, 42, { a: 1 }, Symbol('s')]) {
    const got: Error[] = [];
    await lp.addTask(lp.newTaskOptions().setTask(() => { throw value; }).setOnError((_h, _g, err) => { got.push(err); }));
    await lp.onIdle();
    assert.ok(got[0] instanceof Error);
    assert.equal(got[0]?.cause, value);
    assert.equal(got[0]?.name, 'TaskFailedError');
  }
});

test('auto-done: on success, and on final failure without onError; not when onError owns the failure', async () => {
  const lp = newPool(2, 5);
  const tg = lp.newTaskGroup(3);
  await lp.addTask(tg.newTaskOptions().setTask(() => 1).setAutoDone());
  await lp.addTask(tg.newTaskOptions().setTask(() => { throw new Error('x'); }).setAutoDone());
  await lp.onIdle();
  assert.equal(tg.count, 1);
  await lp.addTask(tg.newTaskOptions().setTask(() => { throw new Error('y'); }).setOnError(() => {}).setAutoDone());
  await lp.onIdle();
  assert.equal(tg.count, 1, 'the onError handler did not call done()');
  tg.done();
  await tg.wait();
});

test('onError receives undefined as the group for options made by lp.newTaskOptions()', async () => {
  const lp = newPool(1, 1);
  let group: unknown = 'unset';
  await lp.addTask(lp.newTaskOptions().setTask(() => { throw new Error('x'); }).setOnError((_h, g) => { group = g; }));
  await lp.onIdle();
  assert.equal(group, undefined);
});

test('options are read at admission: changing them later affects only later adds', async () => {
  const lp = newPool(1, 5);
  const g = gate();
  const seen: string[] = [];
  await lp.addTask(lp.newTaskOptions().setTask(() => g.promise));
  const opt = lp.newTaskOptions().setTask(() => { seen.push('first'); });
  await lp.addTask(opt);
  opt.setTask(() => { seen.push('second'); });
  await lp.addTask(opt);
  g.open();
  await lp.onIdle();
  assert.deepEqual(seen, ['first', 'second']);
});
