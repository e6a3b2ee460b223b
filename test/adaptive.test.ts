// Adaptive concurrency (`workers: { min, max, adaptive: true }`): the limit's algorithm against simulated
// downstreams on a simulated clock (deterministic, no real time), isOverload, and a LitePool against a real
// local HTTP server of fixed capacity.
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { test } from 'node:test';
import fc from 'fast-check';
import { AdaptiveLimit, isOverload } from '../src/engine/adaptive.js';
import { LitePool, TaskTimeoutError } from '../src/index.js';
import { get, keepAliveAgent, OverloadServer } from './fixtures/overload-server.js';

/** Deterministic pseudo-random numbers in [0, 1): a 32-bit linear congruential generator. */
function lcg(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return x / 2 ** 32;
  };
}

/** A latency factor uniform in [1 - spread, 1 + spread], from a seeded generator. */
function jitter(spread: number, seed: number): () => number {
  const next = lcg(seed);
  return () => 1 - spread + 2 * spread * next();
}

const steady = () => 1;

/** A downstream: when a task that starts at `now`, with `inflight` tasks running (itself included), ends. */
interface Downstream {
  start(now: number, inflight: number): number;
}

/**
 * Every task is slowed by the crowd beyond `capacity`: latency = base × max(1, inflight / capacity), as a
 * server sharing its time among the requests it holds. `base` and `capacity` may change during a run.
 */
class Sharing implements Downstream {
  constructor(
    public capacity: number,
    public baseMs: number,
    private readonly noise: () => number = steady,
  ) {}

  start(now: number, inflight: number): number {
    return now + this.baseMs * Math.max(1, inflight / this.capacity) * this.noise();
  }
}

/** `capacity` servers each taking `baseMs` per task, the rest waiting in line FIFO: the fixture server. */
class Fifo implements Downstream {
  private readonly freeAt: number[];

  constructor(
    capacity: number,
    private readonly baseMs: number,
    private readonly noise: () => number = steady,
  ) {
    this.freeAt = new Array<number>(capacity).fill(0);
  }

  start(now: number): number {
    let first = 0;
    for (let i = 1; i < this.freeAt.length; i++) if ((this.freeAt[i] as number) < (this.freeAt[first] as number)) first = i;
    const end = Math.max(now, this.freeAt[first] as number) + this.baseMs * this.noise();
    this.freeAt[first] = end;
    return end;
  }
}

/** What a simulated run did: the limit, the time and the latency after each completion. */
interface Trace {
  limits: number[];
  times: number[];
  rtts: number[];
}

/**
 * Runs `limiter` against `downstream` with an endless backlog (a free slot takes the next task at once, as
 * the pool's dispatch does) for `completions` tasks on a simulated clock, from `trace.times`' last value.
 */
function simulate(limiter: AdaptiveLimit, downstream: Downstream, completions: number, trace: Trace = { limits: [], times: [], rtts: [] }): Trace {
  let now = trace.times.at(-1) ?? 0;
  const starts: number[] = [];
  const ends: number[] = [];
  const fill = () => {
    while (ends.length < limiter.limit) {
      starts.push(now);
      ends.push(downstream.start(now, ends.length + 1));
    }
  };
  fill();
  for (let n = 0; n < completions; n++) {
    let j = 0;
    for (let i = 1; i < ends.length; i++) if ((ends[i] as number) < (ends[j] as number)) j = i;
    now = ends[j] as number;
    const rtt = now - (starts[j] as number);
    const inflight = ends.length;
    ends[j] = ends[ends.length - 1] as number;
    starts[j] = starts[starts.length - 1] as number;
    ends.pop();
    starts.pop();
    const limit = limiter.sample(rtt, inflight, false, now);
    assert.equal(limit, limiter.limit, 'sample() returns the limit in force');
    trace.limits.push(limit);
    trace.times.push(now);
    trace.rtts.push(rtt);
    fill();
  }
  return trace;
}

/** The limits recorded after simulated time `from`. */
function limitsAfter(trace: Trace, from: number): number[] {
  return trace.limits.filter((_, i) => (trace.times[i] as number) >= from);
}

function assertWithin(limits: number[], low: number, high: number, what: string): void {
  assert.ok(limits.length > 0, `${what}: no samples`);
  const lo = Math.min(...limits);
  const hi = Math.max(...limits);
  assert.ok(lo >= low && hi <= high, `${what}: the limit ranged over [${lo}, ${hi}], expected within [${low}, ${high}]`);
}

/** Feeds `n` calm samples (latency `rttMs`, the limit fully used); returns the clock. */
function calm(limiter: AdaptiveLimit, n: number, rttMs: number, now: number): number {
  for (let i = 0; i < n; i++) {
    now += rttMs / limiter.limit;
    limiter.sample(rttMs, limiter.limit, false, now);
  }
  return now;
}

const BASE_MS = 20;
/** Simulated time after which a run counts as settled: about 150 rounds of the base latency. */
const SETTLED_AT = 150 * BASE_MS;

for (const capacity of [4, 16, 64]) {
  test(`converges into [0.7 K, 1.6 K] and stays there: latency grows with the crowd beyond K = ${capacity}`, () => {
    const limiter = new AdaptiveLimit({ min: 1, max: 256 });
    const trace = simulate(limiter, new Sharing(capacity, BASE_MS), 800 * Math.max(capacity, 16));
    assertWithin(limitsAfter(trace, SETTLED_AT), 0.7 * capacity, 1.6 * capacity, `K = ${capacity}`);
  });

  test(`converges into [0.7 K, 1.6 K] and stays there: K = ${capacity} servers with a FIFO line behind them`, () => {
    const limiter = new AdaptiveLimit({ min: 1, max: 256 });
    const trace = simulate(limiter, new Fifo(capacity, BASE_MS), 800 * Math.max(capacity, 16));
    const settled = limitsAfter(trace, SETTLED_AT);
    assertWithin(settled, 0.7 * capacity, 1.6 * capacity, `K = ${capacity}`);
    // A server that serves K at a time answers K per service time at most; the limit keeps it nearly full...
    const from = trace.times.findIndex((t) => t >= SETTLED_AT);
    const span = (trace.times.at(-1) as number) - (trace.times[from] as number);
    const throughput = (trace.times.length - from) / span;
    assert.ok(throughput >= (0.9 * capacity) / BASE_MS, `throughput ${(throughput * BASE_MS).toFixed(2)} per service time, K = ${capacity}`);
    // ...while few tasks wait in its line (a task that waited took about two service times): only those of
    // the rare rounds where the limit probes one above K, one task in K + 1 (most for a small K).
    const waited = trace.rtts.slice(from).filter((rtt) => rtt > 1.5 * BASE_MS).length;
    assert.ok(waited <= 0.03 * (trace.rtts.length - from), `${waited} of ${trace.rtts.length - from} tasks waited in line, K = ${capacity}`);
  });

  test(`±30 % jitter on every latency does not make the limit swing: K = ${capacity}`, () => {
    for (const seed of [1, 2, 3]) {
      for (const downstream of [new Sharing(capacity, BASE_MS, jitter(0.3, seed)), new Fifo(capacity, BASE_MS, jitter(0.3, seed))]) {
        const limiter = new AdaptiveLimit({ min: 1, max: 256 });
        const trace = simulate(limiter, downstream, 800 * Math.max(capacity, 16));
        const settled = limitsAfter(trace, SETTLED_AT);
        const what = `K = ${capacity}, ${downstream.constructor.name}, seed ${seed}`;
        assertWithin(settled, 0.7 * capacity, 1.6 * capacity, what);
        // The limit moves within a narrow band, and cuts are rare: at most one per ten windows on average.
        const spread = Math.max(...settled) - Math.min(...settled);
        assert.ok(spread <= Math.max(2, capacity / 2), `${what}: the limit moved over ${spread}`);
        let cuts = 0;
        for (let i = 1; i < settled.length; i++) if ((settled[i] as number) < (settled[i - 1] as number)) cuts++;
        const windows = settled.length / Math.max(16, capacity);
        assert.ok(cuts <= windows / 10, `${what}: ${cuts} cuts in about ${windows.toFixed(0)} windows`);
      }
    }
  });
}

test('follows a downstream that got slower, faster, or took more at once', () => {
  const limiter = new AdaptiveLimit({ min: 1, max: 256 });
  const downstream = new Sharing(16, BASE_MS);
  const trace = simulate(limiter, downstream, 16_000);
  assertWithin(limitsAfter(trace, SETTLED_AT), 0.7 * 16, 1.6 * 16, 'settled');

  // Three times slower, same capacity: every latency looks like a queue at first, until a cut that does not
  // lower it shows that the downstream itself is slower.
  downstream.baseMs = 3 * BASE_MS;
  let from = trace.times.at(-1) as number;
  simulate(limiter, downstream, 40_000, trace);
  assertWithin(limitsAfter(trace, from + 300 * 3 * BASE_MS), 0.7 * 16, 1.6 * 16, 'three times slower');

  downstream.baseMs = BASE_MS;
  from = trace.times.at(-1) as number;
  simulate(limiter, downstream, 16_000, trace);
  assertWithin(limitsAfter(trace, from + 100 * BASE_MS), 0.7 * 16, 1.6 * 16, 'fast again');

  downstream.capacity = 48;
  from = trace.times.at(-1) as number;
  simulate(limiter, downstream, 40_000, trace);
  assertWithin(limitsAfter(trace, from + 400 * BASE_MS), 0.7 * 48, 1.6 * 48, 'three times the capacity');

  downstream.capacity = 8;
  from = trace.times.at(-1) as number;
  simulate(limiter, downstream, 16_000, trace);
  assertWithin(limitsAfter(trace, from + 100 * BASE_MS), 0.7 * 8, 1.6 * 8, 'a sixth of that');
});

test('an overload error cuts the limit at once, a burst of them cuts it once, and a storm takes it to min', () => {
  const limiter = new AdaptiveLimit({ min: 2, max: 100 });
  let now = calm(limiter, 5_000, 10, 0);
  const before = limiter.limit;
  assert.equal(before, 100, 'no sign of a queue: the limit grew to max');

  now += 1;
  const first = limiter.sample(10, before, true, now);
  assert.ok(first < before && first >= Math.floor(0.5 * before), `one overload: ${before} → ${first}`);
  // The tasks that were running when it came fail too: the rest of the burst finds the limit cut already.
  for (let i = 0; i < before - 1; i++) assert.equal(limiter.sample(10, before, true, (now += 0.1)), first, 'one cut per burst');

  now = calm(limiter, 2 * before, 10, now);
  const second = limiter.sample(1, limiter.limit, true, (now += 5));
  assert.ok(second < first, `a later overload cuts again: ${first} → ${second}`);

  for (let i = 0; i < 5_000; i++) limiter.sample(10, limiter.limit, true, (now += 1));
  assert.equal(limiter.limit, 2, 'an endless storm: down to min, not below');
});

test('a latency climb cuts the limit by the gradient, at most once per window', () => {
  const limiter = new AdaptiveLimit({ min: 1, max: 32 });
  const downstream = new Sharing(1_000, BASE_MS);
  const trace = simulate(limiter, downstream, 3_000);
  assert.equal(limiter.limit, 32, 'a downstream that takes a thousand at once: the limit climbed to max');
  // It takes 16 at once now: at 32, every task takes twice as long. The first window mixes tasks started
  // before and after the change, so the first cut is milder than half, never milder than 0.9.
  downstream.capacity = 16;
  const from = trace.limits.length;
  simulate(limiter, downstream, 3_000, trace);
  const after = trace.limits.slice(from);
  const first = after.find((l) => l !== 32);
  assert.ok(first !== undefined && first >= 16 && first <= 28, `first cut: 32 → ${first}`);
  let lastCut = -Infinity;
  for (let i = 1; i < after.length; i++) {
    if ((after[i] as number) >= (after[i - 1] as number)) continue;
    assert.ok(i - lastCut >= 16, `two cuts ${i - lastCut} samples apart`);
    lastCut = i;
  }
  assertWithin(after.slice(-1_000), 0.7 * 16, 1.6 * 16, 'settled');
});

test('a cut that does not lower the latency is undone: the downstream got slower whatever the load', () => {
  const limiter = new AdaptiveLimit({ min: 1, max: 100 });
  let now = calm(limiter, 5_000, 10, 0);
  assert.equal(limiter.limit, 100);
  const seen: number[] = [];
  for (let i = 0; i < 3_000; i++) {
    now += 20 / limiter.limit;
    seen.push(limiter.sample(20, limiter.limit, false, now));
  }
  assert.ok(Math.min(...seen) < 100 && Math.min(...seen) >= 50, `it cut, by half at most (${Math.min(...seen)})`);
  assert.deepEqual(seen.slice(-1_000), new Array<number>(1_000).fill(100), 'it undid the cut and kept the limit');
});

test('stays within [min, max], and does not grow a limit nobody uses', () => {
  const bounded = new AdaptiveLimit({ min: 5, max: 8 });
  assert.equal(bounded.limit, 5, 'starts at min');
  calm(bounded, 2_000, 10, 0);
  assert.equal(bounded.limit, 8);
  const trace = simulate(bounded, new Sharing(1, BASE_MS), 5_000);
  assertWithin(trace.limits, 5, 8, 'a downstream that takes one at a time');
  assert.equal(Math.min(...trace.limits), 5, 'it went down to min');

  const idle = new AdaptiveLimit({ min: 1, max: 100 });
  let now = 0;
  for (let i = 0; i < 10_000; i++) idle.sample(10, 3, false, (now += 3));
  assert.ok(idle.limit <= 6, `three tasks at a time at most: the limit is ${idle.limit}`);
});

test('is deterministic: no Math.random, no Date.now, the same samples give the same limits', () => {
  const run = () => simulate(new AdaptiveLimit({ min: 1, max: 256 }), new Fifo(16, BASE_MS, jitter(0.3, 7)), 20_000).limits;
  const random = Math.random;
  const dateNow = Date.now;
  Math.random = () => assert.fail('Math.random was called');
  Date.now = () => assert.fail('Date.now was called');
  try {
    assert.deepEqual(run(), run());
  } finally {
    Math.random = random;
    Date.now = dateNow;
  }
});

test('property: whatever the samples, the limit is an integer in [min, max], and sample() returns it', () => {
  const sampleArb = fc.record({
    rtt: fc.oneof(fc.double(), fc.double({ min: 0, max: 100, noNaN: true })),
    inflight: fc.oneof(fc.integer({ min: 0, max: 300 }), fc.constant(Number.NaN)),
    overload: fc.boolean(),
    dt: fc.oneof(fc.double({ min: 0, max: 1_000, noNaN: true }), fc.constant(-5), fc.constant(Number.NaN)),
  });
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 0, max: 60 }), fc.boolean(), fc.array(sampleArb, { maxLength: 400 }), (min, extra, unbounded, samples) => {
      const max = unbounded ? Number.POSITIVE_INFINITY : min + extra;
      const limiter = new AdaptiveLimit({ min, max });
      let now = 0;
      for (const s of samples) {
        now += s.dt;
        const limit = limiter.sample(s.rtt, s.inflight, s.overload, now);
        assert.equal(limit, limiter.limit);
        assert.ok(Number.isInteger(limit) && limit >= min && limit <= max, `limit ${limit} outside [${min}, ${max}]`);
      }
    }),
    { numRuns: 300 },
  );
});

test('isOverload: timeouts, refused or dropped connections, 429 and 503, on the error or its cause', () => {
  const withCode = (code: unknown) => Object.assign(new Error('x'), { code });
  const withCause = (cause: unknown) => new Error('wrapped', { cause });
  const yes: unknown[] = [
    new TaskTimeoutError(100),
    withCode('EOVERLOAD'),
    withCode('ETIMEDOUT'),
    withCode('ECONNRESET'),
    withCode('ECONNREFUSED'),
    Object.assign(new Error('x'), { status: 429 }),
    Object.assign(new Error('x'), { status: 503 }),
    Object.assign(new Error('x'), { statusCode: 429 }),
    Object.assign(new Error('x'), { statusCode: 503 }),
    { status: 503 },
    withCause(new TaskTimeoutError(5)),
    withCause(withCode('ECONNRESET')),
    withCause({ statusCode: 429 }),
  ];
  const no: unknown[] = [
    undefined,
    null,
    'ETIMEDOUT',
    429,
    new Error('plain'),
    withCode('ENOTFOUND'),
    withCode(503),
    Object.assign(new Error('x'), { status: 500 }),
    Object.assign(new Error('x'), { status: '503' }),
    Object.assign(new Error('x'), { statusCode: 404 }),
    withCause(new Error('plain')),
    withCause(withCause(new TaskTimeoutError(5))),
    withCause('ECONNRESET'),
    {
      get code(): string {
        throw new Error('hostile getter');
      },
    },
  ];
  for (const err of yes) assert.equal(isOverload(err), true, `overload: ${String(err)} ${JSON.stringify(err)}`);
  for (const err of no) assert.equal(isOverload(err), false, `not overload: ${String(err)}`);
});

test('a LitePool with an adaptive limit finds the capacity of a real HTTP server and keeps it busy', async () => {
  const capacity = 8;
  const server = await OverloadServer.start({ capacity, serviceMs: 20 });
  const agent = keepAliveAgent();
  const lp = new LitePool({ workers: { min: 1, max: 64, adaptive: true } });
  const runMs = 4_000;
  const measureFrom = 2_000;
  const t0 = performance.now();
  let measuredFrom = Number.NaN;
  let peakBeforeMeasuring = 0;
  let failures = 0;
  let lastError: unknown;
  let highest = 0;
  // More clients than the pool's max: the pool always has a backlog, so the limit alone bounds concurrency.
  const client = async () => {
    while (performance.now() - t0 < runMs) {
      try {
        await lp.run(() => get(server.url, agent));
      } catch (err) {
        failures++;
        lastError = err;
      }
      const limit = lp.usage().limit;
      if (limit > highest) highest = limit;
      if (Number.isNaN(measuredFrom) && performance.now() - t0 >= measureFrom) {
        measuredFrom = performance.now();
        peakBeforeMeasuring = server.maxInFlight;
        server.resetCounters();
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: 96 }, client));
    const span = performance.now() - measuredFrom;
    const limit = lp.usage().limit;
    assert.equal(lp.workers, limit, 'lp.workers is the limit in force');
    assert.equal(failures, 0, `no request failed (${String(lastError)})`);
    assert.ok(Math.max(peakBeforeMeasuring, server.maxInFlight, highest) <= 64, 'never more than max in flight');
    assert.ok(limit >= capacity / 2 && limit <= 3 * capacity, `the limit settled at ${limit} for a server that serves ${capacity} at once`);
    // What the server could have answered in the span, at the service time its timers really took. The
    // bound is loose on purpose: on a loaded 2-core CI machine the clients themselves fall behind (0.56 of
    // the possible was seen there); a pool stuck at a limit of 1 or 2 would answer
    // an eighth or a quarter of it.
    const serviceMs = server.serviceTotalMs / server.completed;
    const possible = (capacity * span) / serviceMs;
    assert.ok(server.completed >= 0.35 * possible, `${server.completed} requests answered in ${span.toFixed(0)} ms, ${possible.toFixed(0)} possible`);
  } finally {
    await lp.close();
    agent.destroy();
    await server.close();
  }
});
