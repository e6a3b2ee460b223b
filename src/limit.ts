/**
 * `limit(concurrency)` and `limitFunction(fn, options)`: drop-ins for p-limit's `pLimit` and `limitFunction`,
 * built on the engine, and observably the same down to the microtask: a call takes its slot at once
 * (`activeCount` counts it) and its function is called a microtask later, with exactly the extra arguments.
 * @module
 */
import { EventEmitter } from 'node:events';
import { Engine } from './engine/engine.js';
import type { Executor } from './engine/executor.js';
import { DEFAULT_SPEC, Task, type TaskFn } from './engine/task.js';
import { AbortError } from './errors.js';
import * as messages from './messages.js';
import type { PoolEvents } from './events.js';
import { resolvePoolOptions, validateBoolean, validateIntegerOrInfinity } from './options.js';

/** A p-limit compatible limiter. */
export interface LimitFunction {
  /**
   * Runs `fn(...args)` when a slot is free; resolves or rejects as it does. The call takes its slot at once
   * (or waits, FIFO) and `fn` is called a microtask later, in the caller's async context, as p-limit does.
   */
  <Args extends unknown[], R>(fn: (...args: Args) => PromiseLike<R> | R, ...args: Args): Promise<R>;
  /** Calls holding a slot: their function is running, or will be called within a microtask. */
  readonly activeCount: number;
  /** Calls waiting for a slot (their function was not called yet). */
  readonly pendingCount: number;
  /**
   * The limit. Setting it takes effect at once for calls and completions; functions already waiting start
   * a microtask later, as in p-limit.
   */
  concurrency: number;
  /**
   * Discards the calls waiting for a slot (running ones go on). Their promises stay pending, as in p-limit,
   * unless the limiter was made with `rejectOnClear: true`: then they reject at once with an `AbortError`.
   */
  clearQueue(): void;
  /**
   * `Promise.all(Array.from(iterable, (item, index) => limit(fn, item, index)))`. If the iterable throws, the
   * promise rejects with that error; the calls already made still run, their results discarded.
   */
  map<T, R>(iterable: Iterable<T>, fn: (item: T, index: number) => PromiseLike<R> | R): Promise<R[]>;
}

/** Options of {@link limit} and {@link limitFunction}, as p-limit's. */
export interface LimitOptions {
  /** An integer ≥ 1, or `Infinity`. */
  readonly concurrency: number;
  /**
   * Reject the promises of calls discarded by `clearQueue()` with an `AbortError`.
   * @default false
   */
  readonly rejectOnClear?: boolean;
}

// Enough slots for "no limit": slots are made only as they are needed beyond the first few.
const UNLIMITED = Number.MAX_SAFE_INTEGER;

const slotsFor = (concurrency: number): number => (concurrency === Number.POSITIVE_INFINITY ? UNLIMITED : concurrency);

function validateConcurrency(value: unknown): number {
  return validateIntegerOrInfinity('concurrency', value, 1);
}

/**
 * What a waiting call of a limiter with `rejectOnClear` keeps: its extra arguments and the reject function of
 * its promise (`clearQueue()` rejects synchronously, as p-limit's does).
 */
class Rejectable {
  readonly args: unknown[] | undefined;
  readonly reject: (reason: unknown) => void;

  constructor(args: unknown[] | undefined, reject: (reason: unknown) => void) {
    this.args = args;
    this.reject = reject;
  }
}

// One executor for every call's promise instead of a closure per call: it hands out resolve and reject.
let capturedResolve: (value: unknown) => void = () => {};
let capturedReject: (reason: unknown) => void = () => {};
const capture = (resolve: (value: never) => void, reject: (reason: unknown) => void): void => {
  capturedResolve = resolve as (value: unknown) => void;
  capturedReject = reject;
};

const resolved = Promise.resolve();

/**
 * The executor of limiters. A call is a plain engine `Task`: `fn` is the caller's function, `resolve` its
 * promise's; until the call starts, its outcome field (`result`, which the engine writes only once the
 * attempt has settled) holds its extra arguments, or a {@link Rejectable}. No field is added per call.
 *
 * The engine starts a call (and counts its slot) synchronously; the function is called a microtask later,
 * as p-limit calls it. The promise returned to the engine settles as p-limit's `(async () => fn(...args))()`
 * does: at once on a plain value or a throw, by adopting a thenable. The engine frees the slot a microtask
 * after that, as p-limit's `await result` does, and the call's promise adopts it, as p-limit's
 * `resolve(result)` does: no promise hop more or less than p-limit's.
 */
const deferredExecutor: Executor = {
  execute(task: Task): Promise<unknown> {
    const waited = task.result as unknown[] | Rejectable | undefined;
    task.result = undefined;
    const args = waited instanceof Rejectable ? waited.args : waited;
    const started: Promise<unknown> = resolved.then(() => callNow(task, args, started));
    return started;
  },
};

function callNow(call: Task, args: unknown[] | undefined, started: Promise<unknown>): unknown {
  const settle = call.resolve as (value: unknown) => void;
  call.resolve = undefined;
  const fn = call.fn as unknown as (...args: unknown[]) => unknown;
  try {
    if (typeof fn !== 'function') throw new TypeError(messages.func('limit(fn)', fn));
    // Exactly the extra arguments, as p-limit passes them (not the engine's task context).
    return args === undefined ? fn() : fn(...args);
  } finally {
    // After the function returned or threw, as p-limit resolves its promise with `result`.
    settle(started);
  }
}

/**
 * Creates a limiter that runs at most `concurrency` functions at once, FIFO, each in the async context of its
 * caller. Same call shape and timing as p-limit's default export.
 *
 * @example
 * ```ts
 * const l = limit(10);
 * const pages = await Promise.all(urls.map((url) => l(fetchPage, url)));
 * ```
 */
export function limit(concurrency: number | LimitOptions): LimitFunction {
  let rejectOnClear: unknown = false;
  // Read in p-limit's order (concurrency, then rejectOnClear) and validated in it.
  if (typeof concurrency === 'object' && concurrency !== null) ({ concurrency, rejectOnClear = false } = concurrency);
  let current = validateConcurrency(concurrency);
  const rejecting = validateBoolean('rejectOnClear', rejectOnClear);
  // The engine itself, without a pool's face: a limiter needs none of its vocabulary.
  // No latency figures: a limit function has no usage() to show them, so its calls take no clock reads.
  const engine = new Engine(resolvePoolOptions({ workers: slotsFor(current), latencyWindow: 0 }), deferredExecutor, new EventEmitter<PoolEvents>());
  // Between a raise of `concurrency` and the microtask that starts the waiting calls (p-limit's), the engine
  // keeps no more slots than calls running, and a call or a completion starts one waiting call, the first.
  let growing = false;
  const grow = (): void => {
    growing = false;
    const n = slotsFor(current);
    if (n > engine.slots.count) engine.resize(n);
  };

  const generator = <Args extends unknown[], R>(fn: (...args: Args) => PromiseLike<R> | R, ...args: Args): Promise<R> => {
    const promise = new Promise<R>(capture);
    const call = new Task(fn as unknown as TaskFn, DEFAULT_SPEC);
    call.resolve = capturedResolve;
    if (rejecting) call.result = new Rejectable(args.length === 0 ? undefined : args, capturedReject);
    else if (args.length > 0) call.result = args;
    engine.submit(call, 'limit()', false);
    // p-limit starts the first waiting call when a call finds the limit not reached.
    if (growing && engine.queue.size > 0 && engine.running < slotsFor(current)) engine.resize(engine.running + 1);
    return promise;
  };
  // The properties as p-limit defines them (same names, kinds and attributes).
  Object.defineProperties(generator, {
    activeCount: {
      get: () => engine.running,
    },
    pendingCount: {
      get: () => engine.queue.size,
    },
    clearQueue: {
      value() {
        if (!rejecting) {
          engine.clearQueue(undefined);
          return;
        }
        const waiting: Task[] = [];
        engine.queue.forEach((task) => waiting.push(task));
        engine.clearQueue(undefined);
        // One error for all, rejected at once, front first (p-limit's).
        const err = new AbortError(undefined, messages.queueCleared);
        for (const call of waiting) (call.result as Rejectable).reject(err);
      },
    },
    concurrency: {
      get: () => current,
      set(value: number) {
        current = validateConcurrency(value);
        const n = slotsFor(current);
        if (n <= engine.slots.count || engine.queue.size === 0) {
          // Lower (nothing starts), or nothing waits: at once.
          engine.resize(n);
        } else {
          // Higher with calls waiting: they start in the microtask below.
          engine.resize(Math.min(n, engine.running));
          growing = true;
        }
        // As p-limit, every set queues a start of the waiting calls up to the limit of the moment it runs:
        // an earlier set's microtask may start calls that a later raise allows.
        queueMicrotask(grow);
      },
    },
    map: {
      async value<T, R>(iterable: Iterable<T>, fn: (item: T, index: number) => PromiseLike<R> | R): Promise<R[]> {
        const promises: Promise<R>[] = [];
        try {
          Array.from(iterable, (item, index) => {
            const promise = generator(fn, item, index);
            promises.push(promise);
            return promise;
          });
        } catch (err) {
          // Promise.all will not observe the calls already made: observe their rejections here.
          for (const promise of promises) promise.catch(noop);
          throw err;
        }
        return Promise.all(promises);
      },
    },
  });
  return generator as LimitFunction;
}

const noop = (): void => {};

/**
 * Returns `fn` limited to `options.concurrency` calls at once (a limiter of its own); p-limit's
 * `limitFunction`. The function has the limiter's `clearQueue()`.
 *
 * @example
 * ```ts
 * const fetchPage = limitFunction(async (url: string) => (await fetch(url)).text(), { concurrency: 4 });
 * const pages = await Promise.all(urls.map(fetchPage));
 * ```
 */
export function limitFunction<Arguments extends unknown[], ReturnType>(
  fn: (...args: Arguments) => PromiseLike<ReturnType>,
  options: LimitOptions,
): ((...args: Arguments) => Promise<ReturnType>) & Pick<LimitFunction, 'clearQueue'> {
  const limiter = limit(options);
  const limitedFunction = (...args: Arguments): Promise<ReturnType> => limiter(fn, ...args);
  Object.defineProperty(limitedFunction, 'clearQueue', { value: limiter.clearQueue });
  return limitedFunction as ((...args: Arguments) => Promise<ReturnType>) & Pick<LimitFunction, 'clearQueue'>;
}
