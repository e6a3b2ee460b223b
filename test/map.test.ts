import assert from 'node:assert/strict';
import { AsyncLocalStorage } from 'node:async_hooks';
import { test } from 'node:test';
import { AbortError, newPool, PoolClosedError } from '../src/index.js';
import { flush, gate, rejection } from './helpers.js';

test('map: results in input order, over arrays, generators and async iterables', async () => {
  const lp = newPool(3, 2);
  const delays = [5, 1, 3, 0, 2, 4];
  const out = await lp.map(delays, async (d, i) => { await new Promise((r) => setTimeout(r, d)); return `${i}:${d}`; });
  assert.deepEqual(out, delays.map((d, i) => `${i}:${d}`));
  function* gen() { yield 1; yield 2; yield 3; }
  assert.deepEqual(await lp.map(gen(), (x) => x * 2), [2, 4, 6]);
  async function* agen() { yield 'a'; await flush(); yield 'b'; }
  assert.deepEqual(await lp.map(agen(), (x, i, ctx) => `${x}${i}${ctx.attempt}`), ['a01', 'b11']);
  assert.deepEqual(await lp.map([], () => 1), []);
});

test('map reads input lazily: never more pulled than the pool can hold', async () => {
  const lp = newPool(2, 1); // holds 2 running + 2 waiting
  const g = gate();
  let pulled = 0;
  function* source() { for (let i = 0; i < 10; i++) { pulled++; yield i; } }
  const p = lp.map(source(), async (x) => { await g.promise; return x; });
  await flush();
  assert.ok(pulled <= 5, `pulled ${pulled}`); // 4 admitted + the one waiting for room
  g.open();
  assert.deepEqual(await p, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
});

test('map fails fast: stops pulling, aborts running members, drops waiting ones, rejects with the first error', async () => {
  const lp = newPool(2, 2);
  let pulled = 0;
  let started = 0;
  const aborted: unknown[] = [];
  function* source() { for (let i = 0; i < 100; i++) { pulled++; yield i; } }
  const err = await rejection(
    lp.map(source(), (x, _i, ctx) => {
      started++;
      if (x === 1) return Promise.reject(new Error('item 1 failed'));
      return new Promise((_r, reject) => ctx.signal.addEventListener('abort', () => { aborted.push(x); reject(ctx.signal.reason); }));
    }),
  );
  assert.equal(err.message, 'item 1 failed');
  await lp.onIdle();
  assert.deepEqual(aborted, [0]);
  assert.equal(started, 2, 'the waiting members never started');
  assert.ok(pulled < 10, `pulled ${pulled}`);
  assert.equal(await lp.run(() => 'usable'), 'usable');
});

test('map with settle: every item runs; a PromiseSettledResult per item in input order', async () => {
  const lp = newPool(2, 2);
  const out = await lp.map([1, 2, 3, 4], (x) => { if (x % 2 === 0) throw new Error(`even ${x}`); return x; }, { settle: true });
  assert.deepEqual(out.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled', 'rejected']);
  assert.equal((out[1] as PromiseRejectedResult).reason.message, 'even 2');
  assert.equal((out[2] as PromiseFulfilledResult<number>).value, 3);
});

test('map passes options through to each item (retry) and honours its signal', async () => {
  const lp = newPool(2, 2);
  const tries = new Map<number, number>();
  const out = await lp.map([1, 2], (x, _i, ctx) => { tries.set(x, ctx.attempt); if (ctx.attempt < 2) throw new Error('again'); return x; }, { retry: { retries: 2, minDelay: 0 } });
  assert.deepEqual(out, [1, 2]);
  assert.deepEqual([...tries.values()], [2, 2]);
  const ac = new AbortController();
  const p = lp.map([1, 2, 3], (_x, _i, ctx) => new Promise((_r, rej) => ctx.signal.addEventListener('abort', () => rej(ctx.signal.reason))), { signal: ac.signal });
  await flush();
  ac.abort('user');
  const err = await rejection(p);
  assert.ok(err instanceof AbortError);
  assert.equal(err.cause, 'user');
});

test('map validates its arguments and rejects on a closed pool', async () => {
  const lp = newPool(1, 1);
  assert.equal((await rejection(lp.map(42 as never, (x) => x))).name, 'TypeError');
  assert.equal((await rejection(lp.map([1], 'f' as never))).name, 'TypeError');
  assert.equal((await rejection(lp.map([1], (x) => x, { settle: 'yes' as never }))).name, 'TypeError');
  await lp.close();
  assert.ok((await rejection(lp.map([1], (x) => x))) instanceof PoolClosedError);
});

test('map: an input iterator that throws fails the map with its error', async () => {
  const lp = newPool(2, 2);
  function* bad() { yield 1; throw new Error('source broke'); }
  assert.equal((await rejection(lp.map(bad(), (x) => x))).message, 'source broke');
});

test('mapIterable: ordered results as an async iterable, read lazily', async () => {
  const lp = newPool(2, 1);
  let pulled = 0;
  function* source() { for (let i = 0; i < 20; i++) { pulled++; yield i; } }
  const out: number[] = [];
  for await (const v of lp.mapIterable(source(), async (x) => { await new Promise((r) => setTimeout(r, (x * 7) % 3)); return x * 10; })) {
    out.push(v);
    assert.ok(pulled - out.length <= 4 + 1, `pulled ${pulled} with ${out.length} consumed`);
  }
  assert.deepEqual(out, Array.from({ length: 20 }, (_, i) => i * 10));
});

test('mapIterable({ ordered: false }) yields as results complete', async () => {
  const lp = newPool(3, 0);
  const gates = [gate(), gate(), gate()];
  const it = lp.mapIterable([0, 1, 2], async (i) => { await gates[i]?.promise; return i; }, { ordered: false })[Symbol.asyncIterator]();
  const first = it.next();
  await flush();
  gates[2]?.open();
  assert.deepEqual(await first, { value: 2, done: false });
  gates[0]?.open();
  gates[1]?.open();
  const rest = [(await it.next()).value, (await it.next()).value].sort();
  assert.deepEqual(rest, [0, 1]);
  assert.equal((await it.next()).done, true);
});

test('mapIterable: a failure is thrown where it would be yielded; breaking early aborts the rest', async () => {
  const lp = newPool(2, 2);
  const seen: number[] = [];
  await assert.rejects(async () => {
    for await (const v of lp.mapIterable([1, 2, 3], (x) => { if (x === 2) throw new Error('two'); return x; })) seen.push(v);
  }, /two/);
  assert.deepEqual(seen, [1]);
  const aborted: number[] = [];
  const ran: number[] = [];
  for await (const v of lp.mapIterable([1, 2, 3, 4, 5, 6, 7], (x, _i, ctx) =>
    (ran.push(x), x === 1) ? x : new Promise<number>((_r, rej) => ctx.signal.addEventListener('abort', () => { aborted.push(x); rej(ctx.signal.reason); })),
  )) {
    assert.equal(v, 1);
    break;
  }
  await lp.onIdle();
  // Item 1 freed its worker for item 3; the items still waiting (4 and 5, the window being 4) never ran.
  assert.deepEqual(ran, [1, 2, 3]);
  assert.deepEqual(aborted.sort(), [2, 3]);
});

test('map fails fast even when the async input is busy in a slow next()', async () => {
  const lp = newPool(2, 2);
  let release!: () => void;
  const slow = new Promise<void>((r) => (release = r));
  async function* input() {
    yield 1;
    yield 2;
    await slow; // the input is stuck here when map() fails
    yield 3;
  }
  // Item 2 fails a little later, while map() is waiting on the input's next() for item 3.
  const err = await rejection(lp.map(input(), async (x) => {
    if (x === 2) {
      await new Promise((r) => setTimeout(r, 10));
      throw new Error('two');
    }
    return x;
  }));
  assert.equal(err.message, 'two');
  release();
  await lp.onIdle();
});

test('map() and mapIterable() run their items in the async context of the call, even when read elsewhere', async () => {
  const als = new AsyncLocalStorage<string>();
  const lp = newPool(1, 1);
  const seen: (string | undefined)[] = [];
  const record = async (x: number) => {
    await null;
    seen.push(`${x}:${als.getStore()}`);
    return x;
  };
  await als.run('map', () => lp.map([1, 2, 3], record));
  // Made in one context, read in another: the items belong to the code that called mapIterable().
  const stream = als.run('iter', () => lp.mapIterable([4, 5, 6], record));
  const results: number[] = [];
  await als.run('reader', async () => {
    for await (const r of stream) results.push(r);
  });
  assert.deepEqual(results, [4, 5, 6]);
  assert.deepEqual(seen, ['1:map', '2:map', '3:map', '4:iter', '5:iter', '6:iter']);
});
