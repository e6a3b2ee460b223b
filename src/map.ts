/**
 * `map()` and `mapIterable()`: many items through the pool, input read lazily, fail-fast or settled.
 * @module
 */
import { AbortError, describe } from './errors.js';
import { Job, Rejection, emptySpec, type JobSpec } from './internal/job.js';
import { RingQueue } from './internal/ring-queue.js';
import { validateFunction } from './options.js';
import { resolveRunOptions, type ResolvedRunOptions, type RunOptions } from './run-options.js';
import type { LitePool } from './pool.js';
import type { TaskContext } from './task-context.js';

/** The function `map()` applies: item, its index in the input, and the attempt's context. */
export type MapFunction<T, R> = (item: T, index: number, ctx: TaskContext) => R | PromiseLike<R>;

/** Options of `map()`: per-item task options, plus `settle`. */
export interface MapOptions extends RunOptions {
  /**
   * Run every item and resolve with a `PromiseSettledResult` per item instead of failing fast.
   * @default false
   */
  settle?: boolean;
}

/** Options of `mapIterable()`: per-item task options, plus `ordered`. */
export interface MapIterableOptions extends RunOptions {
  /**
   * Yield results in input order (`true`) or as they complete (`false`).
   * @default true
   */
  ordered?: boolean;
}

const MAP_KEYS = new Set(['settle']);
const ITERABLE_KEYS = new Set(['ordered']);

type AnyIterator<T> = Iterator<T> | AsyncIterator<T>;

function iteratorOf<T>(where: string, input: Iterable<T> | AsyncIterable<T>): { it: AnyIterator<T>; isAsync: boolean } {
  if (input !== null && typeof input === 'object' || typeof input === 'string') {
    const asyncIt = (input as AsyncIterable<T>)[Symbol.asyncIterator];
    if (typeof asyncIt === 'function') return { it: asyncIt.call(input), isAsync: true };
    const syncIt = (input as Iterable<T>)[Symbol.iterator];
    if (typeof syncIt === 'function') return { it: syncIt.call(input), isAsync: false };
  }
  throw new TypeError(`${where} takes an iterable or async iterable, received ${describe(input)}`);
}

function validateBoolean(name: string, value: unknown): boolean | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean') throw new TypeError(`${name} must be a boolean, received ${describe(value)}`);
  return value;
}

/**
 * The spec every member of one batch shares. The members share one signal (the batch's), so that a failure
 * aborts the running ones and removes the waiting ones in one call.
 */
function batchSpec(o: ResolvedRunOptions, signal: AbortSignal | undefined): JobSpec {
  const spec = emptySpec();
  spec.timeout = o.timeout;
  spec.retry = o.retry;
  spec.priority = o.priority;
  spec.signal = signal;
  spec.shared = true;
  return spec;
}

function memberJob<T, R>(fn: MapFunction<T, R>, item: T, index: number, spec: JobSpec): Job {
  return new Job((ctx: TaskContext) => fn(item, index, ctx), spec);
}

/** Links the user's signal (if any) to the batch's controller; returns the unlink function. */
function link(user: AbortSignal | undefined, batch: AbortController): () => void {
  if (user === undefined) return () => {};
  if (user.aborted) {
    batch.abort(new AbortError(user.reason, 'map() was aborted'));
    return () => {};
  }
  const onAbort = () => batch.abort(new AbortError(user.reason, 'map() was aborted'));
  user.addEventListener('abort', onAbort, { once: true });
  return () => user.removeEventListener('abort', onAbort);
}

/** `lp.map()`: see {@link LitePool.map}. */
export async function mapArray<T, R>(
  pool: LitePool,
  input: Iterable<T> | AsyncIterable<T>,
  fn: MapFunction<T, R>,
  options: MapOptions | undefined,
): Promise<R[] | PromiseSettledResult<R>[]> {
  const { it, isAsync } = iteratorOf('map(input)', input);
  validateFunction('map(fn)', fn);
  const o = resolveRunOptions('map(options)', options, MAP_KEYS);
  const settle = validateBoolean('map(options).settle', options?.settle) === true;
  const batch = new AbortController();
  const unlink = link(o.signal, batch);
  const spec = batchSpec(o, settle ? o.signal : batch.signal);
  const results: (R | PromiseSettledResult<R>)[] = [];
  let outstanding = 0;
  let failure: { error: Error } | undefined;
  let exhausted = false;
  let wake: (() => void) | undefined;
  const settled = () => {
    outstanding--;
    if (outstanding === 0 && wake !== undefined) wake();
  };
  const fail = (err: Error) => {
    if (failure !== undefined) return;
    failure = { error: err };
    batch.abort(err);
    if (wake !== undefined) wake();
  };
  try {
    if (batch.signal.aborted) throw batch.signal.reason;
    let index = 0;
    while (failure === undefined) {
      let next: IteratorResult<T>;
      try {
        next = isAsync ? await (it as AsyncIterator<T>).next() : (it as Iterator<T>).next();
      } catch (err) {
        fail(err instanceof Error ? err : new AbortError(err, 'map(): the input iterator failed'));
        break;
      }
      if (next.done === true) {
        exhausted = true;
        break;
      }
      if (failure !== undefined) break;
      const i = index++;
      const job = memberJob(fn, next.value, i, spec);
      outstanding++;
      job.resolve = (value) => {
        if (value instanceof Rejection) {
          if (settle) results[i] = { status: 'rejected', reason: value.error };
          else fail(value.error);
        } else results[i] = settle ? { status: 'fulfilled', value: value as R } : (value as R);
        settled();
      };
      const admitted = pool.submit(job, 'map()');
      if (admitted !== undefined) await admitted;
    }
    if (failure === undefined && outstanding > 0) {
      await new Promise<void>((resolve) => (wake = resolve));
    }
    if (failure !== undefined) throw failure.error;
    return results as R[] | PromiseSettledResult<R>[];
  } finally {
    unlink();
    if (!exhausted) {
      try {
        await it.return?.();
      } catch {
        // The input's own cleanup failed while map() was already failing: the first error is the one reported.
      }
    }
  }
}

/** `lp.mapIterable()`: see {@link LitePool.mapIterable}. */
export async function* mapStream<T, R>(
  pool: LitePool,
  input: Iterable<T> | AsyncIterable<T>,
  fn: MapFunction<T, R>,
  options: MapIterableOptions | undefined,
): AsyncGenerator<R, void, undefined> {
  const { it, isAsync } = iteratorOf('mapIterable(input)', input);
  validateFunction('mapIterable(fn)', fn);
  const o = resolveRunOptions('mapIterable(options)', options, ITERABLE_KEYS);
  const ordered = validateBoolean('mapIterable(options).ordered', options?.ordered) !== false;
  const batch = new AbortController();
  const unlink = link(o.signal, batch);
  const spec = batchSpec(o, batch.signal);
  // Never more items in flight or waiting to be consumed than the pool can hold.
  const window = Number.isFinite(pool.queueSize) ? pool.workers * (1 + pool.queueSize) : pool.workers * 2;
  type Outcome = { ok: true; value: R } | { ok: false; error: Error };
  const inOrder = new RingQueue<{ outcome: Outcome | undefined }>();
  const done = new RingQueue<Outcome>();
  let inFlight = 0;
  let exhausted = false;
  let wake: (() => void) | undefined;
  const notify = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  try {
    if (batch.signal.aborted) throw batch.signal.reason;
    let index = 0;
    for (;;) {
      while (!exhausted && inFlight + done.length < window) {
        const next = isAsync ? await (it as AsyncIterator<T>).next() : (it as Iterator<T>).next();
        if (next.done === true) {
          exhausted = true;
          break;
        }
        const slot: { outcome: Outcome | undefined } = { outcome: undefined };
        if (ordered) inOrder.push(slot);
        const job = memberJob(fn, next.value, index++, spec);
        inFlight++;
        job.resolve = (value) => {
          const outcome: Outcome = value instanceof Rejection ? { ok: false, error: value.error } : { ok: true, value: value as R };
          inFlight--;
          if (ordered) slot.outcome = outcome;
          else done.push(outcome);
          notify();
        };
        const admitted = pool.submit(job, 'mapIterable()');
        if (admitted !== undefined) await admitted;
      }
      let outcome: Outcome | undefined;
      if (ordered) {
        const head = inOrder.peek();
        if (head === undefined) return;
        if (head.outcome === undefined) {
          await new Promise<void>((resolve) => (wake = resolve));
          continue;
        }
        inOrder.shift();
        outcome = head.outcome;
      } else {
        outcome = done.shift();
        if (outcome === undefined) {
          if (inFlight === 0 && exhausted) return;
          await new Promise<void>((resolve) => (wake = resolve));
          continue;
        }
      }
      if (!outcome.ok) throw outcome.error;
      yield outcome.value;
    }
  } finally {
    // Early exit (break, throw, failure): abort the members still in flight and close the input.
    if (inFlight > 0) batch.abort(new AbortError(undefined, 'mapIterable() was closed before every result was read'));
    unlink();
    if (!exhausted) await it.return?.();
  }
}
