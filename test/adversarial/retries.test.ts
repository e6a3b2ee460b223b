// Retry storms and retries that must stop.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AbortError, newPool, PoolClosedError } from '../../src/index.js';
import { flush } from '../helpers.js';

test('a storm of 1,000 failing tasks × 5 retries at concurrency 4: exact execution count, concurrency never exceeded', async () => {
  const lp = newPool(4, Infinity);
  let executions = 0;
  let now = 0;
  let peak = 0;
  const all: Promise<unknown>[] = [];
  for (let i = 0; i < 1000; i++) {
    all.push(
      lp.run(async () => {
        executions++;
        now++;
        peak = Math.max(peak, now);
        await flush();
        now--;
        throw new Error('always');
      }, { retry: { retries: 5, minDelay: 0, maxDelay: 1 } }).catch(() => 'failed'),
    );
  }
  const results = await Promise.all(all);
  assert.equal(executions, 6000);
  assert.ok(peak <= 4, `peak ${peak}`);
  assert.ok(results.every((r) => r === 'failed'));
  const u = lp.usage();
  assert.equal(u.retried, 5000);
  assert.equal(u.failed, 1000);
  assert.equal(u.workers.reduce((s, w) => s + w.executed, 0), 6000);
});

test('the same storm through errReload(5): same counts', async () => {
  const lp = newPool(4, Infinity);
  let executions = 0;
  const tg = lp.newTaskGroup(300);
  for (let i = 0; i < 300; i++) {
    await lp.addTask(tg.newTaskOptions().setTask(() => { executions++; throw new Error('x'); }).setOnError((h, g) => h.errReload(5, () => g.done())));
  }
  await tg.wait();
  assert.equal(executions, 1800);
});

test('endless policy retries stop on close and on abort', async () => {
  const lp = newPool(2, 2);
  let n = 0;
  const endless = lp.run(() => { n++; throw new Error('x'); }, { retry: { retries: Infinity, minDelay: 1, maxDelay: 2 } });
  while (n < 5) await new Promise((r) => setTimeout(r, 2));
  const closing = lp.close();
  await assert.rejects(endless, PoolClosedError);
  await closing;
  const lp2 = newPool(2, 2);
  const ac = new AbortController();
  let m = 0;
  const p = lp2.run(() => { m++; throw new Error('x'); }, { signal: ac.signal, retry: { retries: Infinity, minDelay: 1, maxDelay: 2 } });
  while (m < 3) await new Promise((r) => setTimeout(r, 2));
  ac.abort('enough');
  const err = await p.catch((e: Error) => e);
  assert.ok(err instanceof AbortError);
  await lp2.onIdle();
});

test('a finite retry pending at a graceful close still runs; a forced close fails it', async () => {
  const lp = newPool(1, 1);
  let n = 0;
  const p = lp.run(() => { if (++n < 3) throw new Error('again'); return n; }, { retry: { retries: 5, minDelay: 20, jitter: 'none' } });
  await flush();
  assert.equal(lp.usage().backoff, 1);
  await lp.close();
  assert.equal(await p, 3);
  const lp2 = newPool(1, 1);
  const q = lp2.run(() => { throw new Error('again'); }, { retry: { retries: 5, minDelay: 60_000 } });
  await flush();
  await lp2.close({ force: true });
  await assert.rejects(q, PoolClosedError);
});
