// Parity with p-limit: documented behaviour, then a differential check that plays the same scenario on
// p-limit and on limit() and compares what each lets a caller observe, microtask by microtask.
import assert from 'node:assert/strict';
import { AsyncLocalStorage } from 'node:async_hooks';
import { test } from 'node:test';
import fc from 'fast-check';
import pLimit, { limitFunction as pLimitFunction } from 'p-limit';
import { AbortError, limit } from '../src/index.js';
import { limitFunction, type LimitFunction, type LimitOptions } from '../src/limit.js';
import { flush, gate } from './helpers.js';

test('runs at most `concurrency` functions at once, FIFO', async () => {
  const l = limit(2);
  let now = 0;
  let peak = 0;
  const order: number[] = [];
  const all = Array.from({ length: 10 }, (_, i) => l(async () => { now++; peak = Math.max(peak, now); order.push(i); await flush(); now--; return i; }));
  assert.deepEqual(await Promise.all(all), Array.from({ length: 10 }, (_, i) => i));
  assert.equal(peak, 2);
  assert.deepEqual(order, Array.from({ length: 10 }, (_, i) => i));
});

test('passes extra arguments to fn, and propagates rejections and sync throws', async () => {
  const l = limit(1);
  assert.equal(await l((a: number, b: string) => `${a}${b}`, 1, 'x'), '1x');
  await assert.rejects(l(async () => { throw new Error('async'); }), /async/);
  await assert.rejects(l(() => { throw new Error('sync'); }), /sync/);
  await assert.rejects(l('nope' as never), TypeError);
});

test('activeCount and pendingCount', async () => {
  const l = limit(2);
  const g = gate();
  assert.equal(l.activeCount, 0);
  assert.equal(l.pendingCount, 0);
  const all = [1, 2, 3, 4, 5].map(() => l(() => g.promise));
  await flush();
  assert.equal(l.activeCount, 2);
  assert.equal(l.pendingCount, 3);
  g.open();
  await Promise.all(all);
  assert.equal(l.activeCount, 0);
  assert.equal(l.pendingCount, 0);
});

test('concurrency get/set: raising it starts waiting functions a microtask later (as p-limit); invalid values throw', async () => {
  const l = limit(1);
  assert.equal(l.concurrency, 1);
  const g = gate();
  const all = [1, 2, 3].map(() => l(() => g.promise));
  await flush();
  assert.equal(l.activeCount, 1);
  l.concurrency = 3;
  assert.equal(l.concurrency, 3);
  assert.equal(l.activeCount, 1, 'not yet: p-limit starts them in a microtask');
  await Promise.resolve();
  assert.equal(l.activeCount, 3);
  g.open();
  await Promise.all(all);
  for (const bad of [0, -1, 1.5, Number.NaN]) assert.throws(() => { l.concurrency = bad; }, RangeError);
  assert.throws(() => limit(0), { name: 'RangeError', message: /concurrency .* 0/ });
  assert.throws(() => limit('2' as never), TypeError);
  const inf = limit(Infinity);
  assert.equal(inf.concurrency, Infinity);
  const open = gate();
  const many = Array.from({ length: 3000 }, () => inf(() => open.promise));
  await flush();
  assert.equal(inf.activeCount, 3000, 'Infinity: everything runs at once');
  assert.equal(inf.pendingCount, 0);
  open.open();
  await Promise.all(many);
});

test('clearQueue discards waiting functions (left pending, as p-limit does by default)', async () => {
  const l = limit(1);
  const g = gate();
  let ran = 0;
  const first = l(() => g.promise);
  let settled = false;
  void l(() => { ran++; }).then(() => (settled = true), () => (settled = true));
  await flush();
  assert.equal(l.pendingCount, 1);
  l.clearQueue();
  assert.equal(l.pendingCount, 0);
  g.open();
  await first;
  await flush();
  assert.equal(ran, 0);
  assert.equal(settled, false);
});

test('clearQueue with rejectOnClear rejects waiting functions with an AbortError', async () => {
  const l = limit({ concurrency: 1, rejectOnClear: true });
  const g = gate();
  const first = l(() => g.promise);
  const second = l(() => 'never');
  await flush();
  l.clearQueue();
  await assert.rejects(second, AbortError);
  g.open();
  await first;
});

test('map(iterable, fn) passes (item, index) and keeps order', async () => {
  const l = limit(2);
  assert.deepEqual(await l.map([3, 1, 2], async (x, i) => { await new Promise((r) => setTimeout(r, x)); return `${i}:${x}`; }), ['0:3', '1:1', '2:2']);
});

test('propagates AsyncLocalStorage context to queued functions', async () => {
  const als = new AsyncLocalStorage<number>();
  const l = limit(1);
  const results = await Promise.all([1, 2, 3].map((n) => als.run(n, () => l(async () => { await flush(); return als.getStore(); }))));
  assert.deepEqual(results, [1, 2, 3]);
});

// ── The differential check ────────────────────────────────────────────────────────────────────────────

type Make = (options: number | LimitOptions) => LimitFunction;
const implementations: readonly (readonly [string, Make])[] = [
  ['p-limit', pLimit as unknown as Make],
  ['litepool', limit],
];

/** A wait: that many microtasks, or one turn of the event loop (an immediate). */
type Delay = number | 'turn';

/** What a limited function does once called. */
type Body =
  | { kind: 'value' | 'throw' | 'throwString' | 'promise' | 'rejected' | 'thenable' | 'notFunction' }
  | { kind: 'async'; delays: Delay[]; fail: boolean }
  /** After the delays, the function itself calls the limiter, changes its concurrency or clears its queue. */
  | { kind: 'reenter'; delays: Delay[]; action: Action };

/** What a step or a re-entering function does to the limiter, synchronously. */
type Action = { k: 'call'; body: Body; args: number } | { k: 'map'; body: Body; items: number } | { k: 'concurrency'; value: number } | { k: 'clear' };

type Step = Action | { k: 'wait'; delay: Delay };

interface Scenario {
  concurrency: number;
  rejectOnClear: boolean;
  steps: Step[];
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

async function wait(delay: Delay): Promise<void> {
  if (delay === 'turn') await turn();
  else for (let i = 0; i < delay; i++) await null;
}

/**
 * Plays `s` on a limiter made by `make` and returns what a caller can observe, in order: each call of a
 * limited function (its arguments, `this`, the async context), the counters then and after every step,
 * every settlement (value or error, and the context of the handler), and the thenables' `then` calls. Time
 * moves only by microtasks and immediates, so two implementations with the same timing give the same trace.
 */
async function play(make: Make, s: Scenario): Promise<string[]> {
  const trace: string[] = [];
  const als = new AsyncLocalStorage<string>();
  const l = make(s.rejectOnClear ? { concurrency: s.concurrency, rejectOnClear: true } : s.concurrency);
  const log = (...parts: unknown[]): void => {
    trace.push(`${parts.map(String).join(' ')} | active ${l.activeCount} pending ${l.pendingCount}`);
  };
  // An error is told by its message when a scenario made it, else by its name (the two libraries word
  // their own errors differently; see the documented differences).
  const describe = (e: unknown): string => {
    if (typeof e === 'string') return `string ${e}`;
    const { name, message } = e as Error;
    return /^[cm]\d+/.test(message) ? message : `${name}`;
  };
  const observe = (id: string, p: Promise<unknown>): void => {
    p.then(
      (v) => log(id, 'fulfilled', JSON.stringify(v), 'in', als.getStore()),
      (e: unknown) => log(id, 'rejected', describe(e), 'in', als.getStore()),
    );
  };
  let n = 0;
  function act(action: Action): void {
    switch (action.k) {
      case 'call': {
        const id = `c${n++}`;
        const args = Array.from({ length: action.args }, (_, j) => `${id}.${j}`);
        als.run(id, () => observe(id, l(fnFor(id, action.body) as (...a: string[]) => unknown, ...args)));
        return;
      }
      case 'map': {
        const id = `m${n++}`;
        const items = Array.from({ length: action.items }, (_, j) => `${id}.${j}`);
        als.run(id, () => observe(id, l.map(items, fnFor(id, action.body) as () => unknown)));
        return;
      }
      case 'concurrency':
        l.concurrency = action.value;
        return;
      case 'clear':
        l.clearQueue();
        return;
    }
  }
  function fnFor(id: string, body: Body): unknown {
    if (body.kind === 'notFunction') return 42;
    if (body.kind === 'async' || body.kind === 'reenter') {
      return async function (this: unknown, ...args: unknown[]) {
        log(id, 'called', JSON.stringify(args), typeof this, 'in', als.getStore());
        for (const d of body.delays) {
          await wait(d);
          log(id, 'resumed');
        }
        if (body.kind === 'reenter') {
          act(body.action);
          log(id, 'acted', body.action.k);
          return `${id} acted`;
        }
        if (body.fail) throw new Error(`${id} failed`);
        return `${id} done`;
      };
    }
    return function (this: unknown, ...args: unknown[]) {
      log(id, 'called', JSON.stringify(args), typeof this, 'in', als.getStore());
      switch (body.kind) {
        case 'value':
          return `${id} value`;
        case 'throw':
          throw new Error(`${id} thrown`);
        case 'throwString':
          throw `${id} string`;
        case 'promise':
          return Promise.resolve(`${id} promise`);
        case 'rejected':
          return Promise.reject(new Error(`${id} rejected`));
        case 'thenable':
          return {
            then(resolve: (v: unknown) => void) {
              log(id, 'then called');
              resolve(`${id} thenable`);
            },
          };
      }
    };
  }
  for (const [i, step] of s.steps.entries()) {
    if (step.k === 'wait') await wait(step.delay);
    else act(step);
    log('step', i, step.k);
  }
  for (let i = 0; i < 10_000 && (l.activeCount > 0 || l.pendingCount > 0); i++) await turn();
  await turn();
  log('end');
  return trace;
}

/** The traces of `s` played on p-limit (expected) and on limit() (actual). */
async function traces(s: Scenario): Promise<[string[], string[]]> {
  return [await play(pLimit as unknown as Make, s), await play(limit, s)];
}

async function assertSameAsPLimit(s: Scenario): Promise<string[]> {
  const [expected, actual] = await traces(s);
  assert.deepEqual(actual, expected);
  return actual;
}

const asyncBody = (delays: Delay[], fail = false): Body => ({ kind: 'async', delays, fail });
const call = (body: Body, args = 0): Step => ({ k: 'call', body, args });

test('differential: a call takes its slot at once and its function is called a microtask later, with only the extra arguments', async () => {
  const trace = await assertSameAsPLimit({
    concurrency: 2,
    rejectOnClear: false,
    steps: [call({ kind: 'value' }), call({ kind: 'value' }, 2), call({ kind: 'value' }, 1), { k: 'wait', delay: 0 }, { k: 'wait', delay: 1 }, { k: 'wait', delay: 'turn' }],
  });
  // Spelled out once, to show what "the same" means.
  assert.deepEqual(trace.slice(0, 6), [
    'step 0 call | active 1 pending 0',
    'step 1 call | active 2 pending 0',
    'step 2 call | active 2 pending 1',
    'c0 called [] undefined in c0 | active 2 pending 1',
    'c1 called ["c1.0","c1.1"] undefined in c1 | active 2 pending 1',
    'step 3 wait | active 2 pending 1',
  ]);
});

test('differential: order of calls and counters around completions, sync and async, values, throws and rejections', async () => {
  const bodies: Body[] = [
    { kind: 'value' },
    { kind: 'throw' },
    { kind: 'throwString' },
    { kind: 'promise' },
    { kind: 'rejected' },
    { kind: 'thenable' },
    asyncBody([]),
    asyncBody([1, 'turn'], true),
    asyncBody([3]),
    asyncBody(['turn', 0, 2]),
  ];
  for (const concurrency of [1, 2, 3, Number.POSITIVE_INFINITY]) {
    await assertSameAsPLimit({ concurrency, rejectOnClear: false, steps: [...bodies.map((b) => call(b, 1)), { k: 'wait', delay: 2 }, ...bodies.map((b) => call(b))] });
  }
});

test('differential: a function that is not a function is counted and rejects as p-limit does (TypeError)', async () => {
  await assertSameAsPLimit({ concurrency: 1, rejectOnClear: false, steps: [call({ kind: 'notFunction' }), call({ kind: 'value' }), { k: 'map', body: { kind: 'notFunction' }, items: 2 }] });
});

test('differential: raising concurrency starts waiting functions a microtask later; calls and completions in between start one', async () => {
  const slow = asyncBody([2, 'turn', 1]);
  await assertSameAsPLimit({ concurrency: 1, rejectOnClear: false, steps: [call(slow), call(slow), call(slow), call(slow), { k: 'concurrency', value: 3 }, call(slow), call(slow)] });
  await assertSameAsPLimit({
    concurrency: 3,
    rejectOnClear: false,
    steps: [call(slow), call(slow), call(slow), call(slow), call(slow), { k: 'concurrency', value: 1 }, { k: 'wait', delay: 'turn' }, { k: 'concurrency', value: 4 }, call(slow), { k: 'wait', delay: 1 }, call(slow), { k: 'concurrency', value: 2 }],
  });
  // A completion between the raise and its microtask (the function ends in the same microtask).
  await assertSameAsPLimit({
    concurrency: 1,
    rejectOnClear: false,
    steps: [call(asyncBody([1])), call(slow), call(slow), { k: 'wait', delay: 2 }, { k: 'concurrency', value: 2 }, { k: 'concurrency', value: Number.POSITIVE_INFINITY }, call(slow)],
  });
});

test('differential: clearQueue, with and without rejectOnClear', async () => {
  const slow = asyncBody(['turn']);
  for (const rejectOnClear of [false, true]) {
    await assertSameAsPLimit({
      concurrency: 2,
      rejectOnClear,
      steps: [call(slow), call(slow), call(slow), call(slow), { k: 'clear' }, call(slow), { k: 'wait', delay: 1 }, call(slow), call(slow), { k: 'clear' }, { k: 'concurrency', value: 5 }, { k: 'clear' }, call(slow)],
    });
  }
});

test('differential: map() (its own promise settles as p-limit’s does), in the caller’s async context', async () => {
  await assertSameAsPLimit({
    concurrency: 2,
    rejectOnClear: false,
    steps: [{ k: 'map', body: asyncBody([1]), items: 4 }, call({ kind: 'value' }), { k: 'map', body: { kind: 'throw' }, items: 2 }, { k: 'map', body: { kind: 'value' }, items: 0 }],
  });
});

test('map(): an iterable that throws rejects with its error; the calls already made run (as p-limit)', async () => {
  for (const [, make] of implementations) {
    const l = make(1);
    const ran: number[] = [];
    const iterable = {
      *[Symbol.iterator]() {
        yield 1;
        yield 2;
        throw new Error('iterable broke');
      },
    };
    await assert.rejects(l.map(iterable, (x) => ran.push(x)), /iterable broke/);
    await flush();
    assert.deepEqual(ran, [1, 2]);
    await assert.rejects(l.map(null as never, () => 1), TypeError);
  }
});

test('the limiter has p-limit’s properties: names, kinds, attributes, function names and lengths', () => {
  const shape = (l: LimitFunction) =>
    Object.entries(Object.getOwnPropertyDescriptors(l)).map(([key, d]) => ({
      key,
      enumerable: d.enumerable,
      configurable: d.configurable,
      writable: d.writable,
      value: typeof d.value === 'function' ? `function ${(d.value as () => void).name}/${(d.value as () => void).length}` : typeof d.value,
      get: d.get?.name,
      set: d.set?.name,
    }));
  assert.deepEqual(shape(limit(1)), shape(pLimit(1) as unknown as LimitFunction));
  const f = () => Promise.resolve(1);
  const lf = limitFunction(f, { concurrency: 1 });
  const pf = pLimitFunction(f, { concurrency: 1 });
  assert.deepEqual([lf.name, lf.length, Object.keys(Object.getOwnPropertyDescriptors(lf))], [pf.name, pf.length, Object.keys(Object.getOwnPropertyDescriptors(pf))]);
});

test('limitFunction(fn, options): at most `concurrency` calls at once, arguments passed, clearQueue shared with its limiter', async () => {
  for (const [make, name] of [[limitFunction, 'litepool'], [pLimitFunction, 'p-limit']] as const) {
    let now = 0;
    let peak = 0;
    const g = gate();
    const seen: unknown[][] = [];
    const f = (make as typeof limitFunction)(async (...args: unknown[]) => {
      seen.push(args);
      now++;
      peak = Math.max(peak, now);
      await g.promise;
      now--;
      return args.length;
    }, { concurrency: 3, rejectOnClear: true });
    const all = [f(), f(1), f(1, 2)];
    const cleared = f('dropped');
    await flush();
    f.clearQueue();
    await assert.rejects(cleared, { name: 'AbortError' }, name);
    g.open();
    assert.deepEqual(await Promise.all(all), [0, 1, 2], name);
    assert.equal(peak, 3, name);
    assert.deepEqual(seen, [[], [1], [1, 2]], name);
  }
});

test('options: read and validated in p-limit’s order; the kinds of error that remain different', () => {
  const reads: string[] = [];
  const options = {
    get concurrency() {
      reads.push('concurrency');
      return 0;
    },
    get rejectOnClear() {
      reads.push('rejectOnClear');
      return 'yes' as never;
    },
  };
  assert.throws(() => limit(options), { name: 'RangeError', message: /concurrency must be an integer ≥ 1 or Infinity, received 0/ });
  assert.deepEqual(reads, ['concurrency', 'rejectOnClear']);
  assert.throws(() => pLimit(options), TypeError);
  // The documented difference: a wrong size is a RangeError here (p-limit: TypeError); a wrong kind is a TypeError in both.
  for (const bad of [0, -1, 1.5, Number.NaN, -Infinity]) {
    assert.throws(() => limit(bad), RangeError);
    assert.throws(() => pLimit(bad), TypeError);
  }
  for (const bad of ['2', null, undefined, true]) {
    assert.throws(() => limit(bad as never), TypeError);
    assert.throws(() => pLimit(bad as never), TypeError);
  }
  assert.throws(() => limit({ concurrency: 1, rejectOnClear: 1 as never }), { name: 'TypeError', message: /rejectOnClear/ });
  assert.throws(() => pLimit({ concurrency: 1, rejectOnClear: 1 as never }), TypeError);
  const l = limit({ concurrency: 2 });
  assert.throws(() => { l.concurrency = 0; }, RangeError);
  assert.equal(l.concurrency, 2, 'a refused value changes nothing');
});

test('rejectOnClear rejects at once with one AbortError (name AbortError in both; litepool’s class here, a DOMException in p-limit)', async () => {
  const errors: Record<string, unknown[]> = {};
  for (const [name, make] of implementations) {
    const l = make({ concurrency: 1, rejectOnClear: true });
    const seen: unknown[] = (errors[name] = []);
    const g = gate();
    const first = l(() => g.promise);
    const waiting = [l(() => 1), l(() => 2)];
    const order: string[] = [];
    for (const p of waiting) p.catch((e: unknown) => (seen.push(e), order.push('rejected')));
    l.clearQueue();
    void Promise.resolve().then(() => order.push('microtask queued after clearQueue'));
    await flush();
    assert.deepEqual(order, ['rejected', 'rejected', 'microtask queued after clearQueue'], name);
    assert.equal(seen[0], seen[1], `${name}: one error for every discarded call`);
    assert.equal((seen[0] as Error).name, 'AbortError');
    g.open();
    await first;
  }
  assert.ok(errors['litepool']?.[0] instanceof AbortError);
  assert.ok(errors['p-limit']?.[0] instanceof DOMException);
});

// ── Random scenarios ──────────────────────────────────────────────────────────────────────────────────

const delayArb: fc.Arbitrary<Delay> = fc.oneof({ weight: 3, arbitrary: fc.integer({ min: 0, max: 4 }) }, { weight: 1, arbitrary: fc.constant('turn' as const) });
const concurrencyArb = fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 1, max: 4 }) }, { weight: 1, arbitrary: fc.constant(Number.POSITIVE_INFINITY) });
const { body: bodyArb } = fc.letrec<{ body: Body; action: Action }>((tie) => ({
  body: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    { weight: 6, arbitrary: fc.record({ kind: fc.constant('async' as const), delays: fc.array(delayArb, { maxLength: 3 }), fail: fc.boolean() }) },
    { weight: 4, arbitrary: fc.record({ kind: fc.constantFrom('value' as const, 'throw' as const, 'throwString' as const, 'promise' as const, 'rejected' as const, 'thenable' as const) }) },
    { weight: 1, arbitrary: fc.constant({ kind: 'notFunction' as const }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('reenter' as const), delays: fc.array(delayArb, { maxLength: 2 }), action: tie('action') as fc.Arbitrary<Action> }) },
  ),
  action: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    { weight: 10, arbitrary: fc.record({ k: fc.constant('call' as const), body: tie('body') as fc.Arbitrary<Body>, args: fc.integer({ min: 0, max: 2 }) }) },
    { weight: 1, arbitrary: fc.record({ k: fc.constant('map' as const), body: tie('body') as fc.Arbitrary<Body>, items: fc.integer({ min: 0, max: 3 }) }) },
    { weight: 2, arbitrary: fc.record({ k: fc.constant('concurrency' as const), value: concurrencyArb }) },
    { weight: 1, arbitrary: fc.constant({ k: 'clear' as const }) },
  ),
}));
const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 14, arbitrary: fc.record({ k: fc.constant('call' as const), body: bodyArb, args: fc.integer({ min: 0, max: 2 }) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('map' as const), body: bodyArb, items: fc.integer({ min: 0, max: 3 }) }) },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('concurrency' as const), value: concurrencyArb }) },
  { weight: 1, arbitrary: fc.constant({ k: 'clear' as const }) },
  { weight: 7, arbitrary: fc.record({ k: fc.constant('wait' as const), delay: delayArb }) },
);

test('differential property: any scenario of calls, waits, concurrency changes and clears gives p-limit’s trace', async () => {
  await fc.assert(
    fc.asyncProperty(concurrencyArb, fc.boolean(), fc.array(stepArb, { minLength: 1, maxLength: 25 }), async (concurrency, rejectOnClear, steps) => {
      const [expected, actual] = await traces({ concurrency, rejectOnClear, steps });
      assert.deepEqual(actual, expected);
    }),
    { numRuns: Number(process.env.PROP_RUNS ?? 300), includeErrorInReport: true },
  );
});
