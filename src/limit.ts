/**
 * `limit(concurrency)`: a drop-in for p-limit's `pLimit`, built on the pool.
 * @module
 */
import { AbortError, describe } from './errors.js';
import { LitePool } from './pool.js';

/** A p-limit compatible limiter. */
export interface LimitFunction {
  /** Runs `fn(...args)` when a slot is free; resolves or rejects as it does. */
  <Args extends unknown[], R>(fn: (...args: Args) => PromiseLike<R> | R, ...args: Args): Promise<R>;
  /** Functions running now. */
  readonly activeCount: number;
  /** Functions waiting to run (not called yet). */
  readonly pendingCount: number;
  /** The limit; setting it takes effect at once (a larger one starts waiting functions). */
  concurrency: number;
  /**
   * Discards the functions waiting to run (running ones go on). Their promises stay pending, as in p-limit,
   * unless the limiter was made with `rejectOnClear: true`: then they reject with an `AbortError`.
   */
  clearQueue(): void;
  /** `Promise.all(Array.from(iterable, (item, index) => limit(fn, item, index)))`. */
  map<T, R>(iterable: Iterable<T>, fn: (item: T, index: number) => PromiseLike<R> | R): Promise<R[]>;
}

/** Options of {@link limit}, as p-limit's. */
export interface LimitOptions {
  /** An integer ≥ 1, or `Infinity`. */
  concurrency: number;
  /**
   * Reject the promises of functions discarded by `clearQueue()` with an `AbortError`.
   * @default false
   */
  rejectOnClear?: boolean;
}

// Enough workers for "no limit": workers are made only as they are needed beyond the first few.
const UNLIMITED = Number.MAX_SAFE_INTEGER;

function validateConcurrency(value: unknown): number {
  if (typeof value !== 'number') throw new TypeError(`concurrency must be an integer ≥ 1 or Infinity, received ${describe(value)}`);
  if (!((Number.isInteger(value) && value >= 1) || value === Number.POSITIVE_INFINITY)) {
    throw new RangeError(`concurrency must be an integer ≥ 1 or Infinity, received ${describe(value)}`);
  }
  return value;
}

/**
 * Creates a limiter that runs at most `concurrency` functions at once, FIFO, in the async context of each
 * caller. Same call shape as p-limit's default export.
 *
 * @example
 * ```ts
 * const l = limit(10);
 * const pages = await Promise.all(urls.map((url) => l(fetchPage, url)));
 * ```
 */
export function limit(concurrency: number | LimitOptions): LimitFunction {
  let rejectOnClear = false;
  if (typeof concurrency === 'object' && concurrency !== null) {
    if (concurrency.rejectOnClear !== undefined && typeof concurrency.rejectOnClear !== 'boolean') {
      throw new TypeError(`rejectOnClear must be a boolean, received ${describe(concurrency.rejectOnClear)}`);
    }
    rejectOnClear = concurrency.rejectOnClear === true;
    concurrency = concurrency.concurrency;
  }
  let current = validateConcurrency(concurrency);
  const pool = new LitePool({ workers: current === Number.POSITIVE_INFINITY ? UNLIMITED : current });

  const generator = <Args extends unknown[], R>(fn: (...args: Args) => PromiseLike<R> | R, ...args: Args): Promise<R> => {
    if (typeof fn !== 'function') return Promise.reject(new TypeError(`limit(fn) takes a function, received ${describe(fn)}`));
    return pool.run(args.length === 0 ? (fn as () => R) : () => fn(...args));
  };
  Object.defineProperties(generator, {
    activeCount: { get: () => pool.running },
    pendingCount: { get: () => pool.size },
    concurrency: {
      get: () => current,
      set: (value: number) => {
        current = validateConcurrency(value);
        pool.resize(current === Number.POSITIVE_INFINITY ? UNLIMITED : current);
      },
    },
    clearQueue: {
      value: () => pool.clearQueue(rejectOnClear ? new AbortError(undefined, 'the limiter queue was cleared') : undefined),
    },
    map: {
      value: <T, R>(iterable: Iterable<T>, fn: (item: T, index: number) => PromiseLike<R> | R): Promise<R[]> =>
        Promise.all(Array.from(iterable, (item, index) => generator(fn, item, index))),
    },
  });
  return generator as LimitFunction;
}
