/**
 * `limit(concurrency)`: a drop-in for p-limit's `pLimit`, built on the pool.
 * @module
 */
import { EventEmitter } from 'node:events';
import { Engine } from './engine/engine.js';
import { inlineExecutor } from './engine/executor.js';
import { DEFAULT_SPEC, Task, promiseOf, type TaskFn } from './engine/task.js';
import { AbortError } from './errors.js';
import * as messages from './messages.js';
import type { PoolEvents } from './events.js';
import { validateBoolean, validateIntegerOrInfinity } from './options.js';

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
  return validateIntegerOrInfinity('concurrency', value, 1);
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
    if (concurrency.rejectOnClear !== undefined) rejectOnClear = validateBoolean('rejectOnClear', concurrency.rejectOnClear);
    concurrency = concurrency.concurrency;
  }
  let current = validateConcurrency(concurrency);
  const slots = (n: number) => (n === Number.POSITIVE_INFINITY ? UNLIMITED : n);
  // The engine itself, without a pool's face: a limiter needs none of its vocabulary.
  const engine = new Engine(
    { workers: slots(current), queueSize: Number.POSITIVE_INFINITY, onCallbackError: undefined },
    inlineExecutor,
    new EventEmitter<PoolEvents>(),
  );

  const generator = <Args extends unknown[], R>(fn: (...args: Args) => PromiseLike<R> | R, ...args: Args): Promise<R> => {
    if (typeof fn !== 'function') return Promise.reject(new TypeError(messages.func('limit(fn)', fn)));
    const task = new Task((args.length === 0 ? fn : () => fn(...args)) as unknown as TaskFn, DEFAULT_SPEC);
    const promise = promiseOf<R>(task);
    engine.submit(task, 'limit()', false);
    return promise;
  };
  Object.defineProperties(generator, {
    activeCount: { get: () => engine.running },
    pendingCount: { get: () => engine.queue.size },
    concurrency: {
      get: () => current,
      set: (value: number) => {
        current = validateConcurrency(value);
        engine.resize(slots(current));
      },
    },
    clearQueue: {
      value: () => engine.clearQueue(rejectOnClear ? new AbortError(undefined, messages.queueCleared) : undefined),
    },
    map: {
      value: <T, R>(iterable: Iterable<T>, fn: (item: T, index: number) => PromiseLike<R> | R): Promise<R[]> =>
        Promise.all(Array.from(iterable, (item, index) => generator(fn, item, index))),
    },
  });
  return generator as LimitFunction;
}
