// Bad arguments everywhere: a TypeError or RangeError that names the option and the value, and the pool is
// unchanged and usable afterwards.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LitePool, limit, newPool } from '../../src/index.js';

async function stillUsable(lp: LitePool): Promise<void> {
  assert.equal(await lp.run(() => 'ok'), 'ok');
  assert.equal(lp.state, 'open');
  assert.equal(lp.size, 0);
  assert.equal(lp.running, 0);
}

const notNumbers: unknown[] = ['3', null, undefined, {}, [], true, Symbol('x'), 10n, () => 1];
const badCounts: unknown[] = [0, -1, 1.5, Number.NaN, Infinity, -Infinity];

test('pool options: every wrong kind and size of workers and queueSize', () => {
  for (const v of notNumbers.filter((x) => x !== undefined)) {
    assert.throws(() => new LitePool({ workers: v as number }), (e: Error) => e instanceof TypeError && e.message.includes('options.workers'));
    assert.throws(() => new LitePool({ queueSize: v as number }), (e: Error) => e instanceof TypeError && e.message.includes('options.queueSize'));
  }
  for (const v of badCounts) {
    assert.throws(() => new LitePool({ workers: v as number }), (e: Error) => e instanceof RangeError && e.message.includes('options.workers') && e.message.includes(String(v)));
  }
  for (const v of [-1, 0.5, Number.NaN, -Infinity]) {
    assert.throws(() => new LitePool({ queueSize: v }), (e: Error) => e instanceof RangeError && e.message.includes('options.queueSize'));
  }
  assert.throws(() => new LitePool({ onCallbackError: 'log' as never }), { name: 'TypeError', message: /options\.onCallbackError must be a function, received "log"/ });
  assert.throws(() => new LitePool('5' as never), { name: 'TypeError', message: /options must be an object, received "5"/ });
  assert.throws(() => limit(0), { name: 'RangeError', message: /concurrency/ });
  assert.throws(() => limit({ concurrency: 2, rejectOnClear: 'yes' } as never), { name: 'TypeError', message: /rejectOnClear/ });
});

test('addTask, addTaskGroup, run, map, tryRun: wrong arguments reject with a named error, pool unchanged', async () => {
  const lp = newPool(2, 2);
  for (const v of [undefined, null, 42, {}, () => 1]) {
    await assert.rejects(lp.addTask(v as never), { name: 'TypeError', message: /addTask\(opt\) takes TaskOptions/ });
    await assert.rejects(lp.addTaskGroup(v as never), { name: 'TypeError', message: /addTaskGroup\(\.\.\.opts\) takes TaskOptions/ });
  }
  for (const v of [undefined, null, 42, 'f', {}]) await assert.rejects(lp.run(v as never), { name: 'TypeError', message: /run\(fn\) must be a function/ });
  await assert.rejects(lp.run(() => 1, 5 as never), { name: 'TypeError', message: /run\(options\) must be an object, received 5/ });
  await assert.rejects(lp.run(() => 1, { timeout: 'soon' as never }), { name: 'TypeError', message: /run\(options\)\.timeout .* "soon"/ });
  await assert.rejects(lp.run(() => 1, { signal: {} as never }), { name: 'TypeError', message: /run\(options\)\.signal must be an AbortSignal/ });
  await assert.rejects(lp.run(() => 1, { retry: -2 }), { name: 'RangeError', message: /run\(options\)\.retry\.retries .* -2/ });
  await assert.rejects(lp.run(() => 1, { retry: { retries: 1, minDelay: -5 } }), { name: 'RangeError', message: /retry\.minDelay .* -5/ });
  await assert.rejects(lp.run(() => 1, { priority: Number.NaN }), { name: 'RangeError', message: /run\(options\)\.priority .* NaN/ });
  await assert.rejects(lp.map([1], (x) => x, { timeout: -1 }), { name: 'RangeError', message: /map\(options\)\.timeout/ });
  // mapIterable() checks its arguments when called, not when the first result is read (as p-map's pMapIterable).
  assert.throws(() => lp.mapIterable(42 as never, (x) => x), { name: 'TypeError', message: /mapIterable\(input\)/ });
  assert.throws(() => lp.mapIterable([1], 'f' as never), { name: 'TypeError', message: /mapIterable\(fn\)/ });
  assert.throws(() => lp.mapIterable([1], (x) => x, { ordered: 'yes' as never }), { name: 'TypeError', message: /mapIterable\(options\)\.ordered .* "yes"/ });
  await assert.rejects(lp.tryRun(() => 1, { timeout: -1 }) as Promise<unknown>, { name: 'RangeError', message: /run\(options\)\.timeout/ });
  assert.throws(() => lp.resize(Number.NaN), { name: 'RangeError', message: /resize\(workers\) .* NaN/ });
  assert.throws(() => lp.resize('3' as never), { name: 'TypeError', message: /resize\(workers\)/ });
  assert.equal(lp.workers, 2);
  await stillUsable(lp);
});

test('errReload counts, group sizes, timeouts and callbacks of the wrong type', async () => {
  const lp = newPool(1, 4);
  const errs: string[] = [];
  await lp.addTask(
    lp.newTaskOptions().setTask(() => { throw new Error('x'); }).setOnError((h) => {
      for (const v of [-2, 0.5, Number.NaN, '1', null]) {
        try {
          void h.errReload(v as number);
        } catch (e) {
          errs.push(`${(e as Error).name}:${/errReload\(retries\)/.test((e as Error).message)}`);
        }
      }
      try {
        void h.errReload(1, 'after' as never);
      } catch (e) {
        errs.push(`${(e as Error).name}:${/errReload\(retries, after\)/.test((e as Error).message)}`);
      }
    }),
  );
  await lp.onIdle();
  assert.deepEqual(errs, ['RangeError:true', 'RangeError:true', 'RangeError:true', 'TypeError:true', 'TypeError:true', 'TypeError:true']);
  for (const v of [-1, 2.5, Number.NaN]) assert.throws(() => lp.newTaskGroup(v), (e: Error) => e instanceof RangeError && e.message.includes('newTaskGroup(n)'));
  const tg = lp.newTaskGroup(1);
  assert.throws(() => tg.wait({ timeout: Number.NaN }), { name: 'RangeError', message: /wait\(options\)\.timeout/ });
  assert.throws(() => tg.wait({ signal: 'stop' as never }), { name: 'TypeError', message: /wait\(options\)\.signal/ });
  assert.throws(() => tg.wait(7 as never), { name: 'TypeError', message: /wait\(options\) must be an object/ });
  const opt = lp.newTaskOptions();
  assert.throws(() => opt.setTimeout(Number.NaN), { name: 'RangeError', message: /setTimeout\(ms\) .* NaN/ });
  assert.throws(() => opt.setAddTimeout('1s' as never), { name: 'TypeError', message: /setAddTimeout\(ms\) .* "1s"/ });
  assert.throws(() => opt.setRetry({ retries: 2, factor: 0 }), { name: 'RangeError', message: /setRetry\(policy\)\.factor/ });
  assert.throws(() => opt.setRetry({ retries: 2, onRetry: 3 } as never), { name: 'TypeError', message: /setRetry\(policy\)\.onRetry must be a function, received 3/ });
  await assert.rejects(lp.close({ timeout: 'later' } as never), { name: 'TypeError', message: /close\(options\)\.timeout/ });
  await stillUsable(lp);
});
