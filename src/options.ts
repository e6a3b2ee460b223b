/**
 * The pool's options, their defaults, and one validator per option. Every setter that takes the same kind
 * of value (the constructor, `resize()`, `setAddTimeout()`, …) goes through the same validator, so the
 * messages read the same everywhere: they name the option, the value and its type.
 * @module
 */
import * as messages from './messages.js';

/** Where a callback error came from. */
export type CallbackName = 'onSuccess' | 'onError' | 'onComplete' | 'onAddTimeout' | 'errReload.after' | 'onRetry' | 'retryIf' | 'autoDone';

/** What the pool knows about a callback that threw or rejected. */
export interface CallbackErrorInfo {
  /** Which callback failed. */
  readonly callback: CallbackName;
}

/** Options of a {@link LitePool}. */
export interface PoolOptions {
  /**
   * How many tasks run at once: the number of long-lived workers. An integer ≥ 1.
   * @default 1
   */
  workers?: number;
  /**
   * Waiting room per worker: the pool admits up to `workers × queueSize` tasks waiting for a worker, beyond
   * which `addTask()` and `run()` wait for room (backpressure). An integer ≥ 0, or `Infinity`.
   * @default Infinity
   */
  queueSize?: number;
  /**
   * Receives every error thrown or rejected by a task's callbacks (`onSuccess`, `onError`, `onComplete`,
   * `onAddTimeout`, `errReload`'s `after`, a retry policy's `onRetry`). Without it such errors go to the
   * pool's `error` event when it has a listener, else to a process warning. They never break the pool.
   */
  onCallbackError?: (err: Error, info: CallbackErrorInfo) => void;
  /**
   * Track, through `AsyncLocalStorage`, which task submitted which, so that a nested-submission deadlock is
   * reported wherever the child is submitted (after any `await`): a `LitePoolWarning` with code
   * `LITEPOOL_NESTED_DEADLOCK` once every worker has been held for a second by tasks whose children wait
   * behind them. Without it, only children submitted before their parent's first `await` are tracked. It
   * costs an `AsyncLocalStorage` scope per attempt (and, on Node 20, async hooks for the whole process):
   * meant for development and for pools that nest.
   * @default false
   */
  detectDeadlocks?: boolean;
}

/** Options after validation, with defaults applied. */
export interface ResolvedPoolOptions {
  workers: number;
  queueSize: number;
  onCallbackError: ((err: Error, info: CallbackErrorInfo) => void) | undefined;
  detectDeadlocks?: boolean;
  /**
   * Called when a submitter starts to wait for room: a face whose room comes from elsewhere (leases of a
   * shared Redis admission) fetches more.
   */
  onBlocked?: () => void;
}

/** Throws unless `value` is an integer ≥ `min`. */
export function validateInteger(name: string, value: unknown, min: number): number {
  if (typeof value !== 'number') throw new TypeError(messages.integer(name, min, value));
  if (!(Number.isInteger(value) && value >= min)) throw new RangeError(messages.integer(name, min, value));
  return value;
}

/** Throws unless `value` is an integer ≥ `min` or `Infinity`. */
export function validateIntegerOrInfinity(name: string, value: unknown, min: number): number {
  if (typeof value !== 'number') throw new TypeError(messages.integerOrInfinity(name, min, value));
  if (!((Number.isInteger(value) && value >= min) || value === Number.POSITIVE_INFINITY)) {
    throw new RangeError(messages.integerOrInfinity(name, min, value));
  }
  return value;
}

/** Throws unless `value` is a finite number of milliseconds ≥ 0 (`Infinity` allowed when `allowInfinity`). */
export function validateDuration(name: string, value: unknown, allowInfinity = false): number {
  if (typeof value !== 'number') throw new TypeError(messages.duration(name, allowInfinity, value));
  if (!((Number.isFinite(value) || (allowInfinity && value === Number.POSITIVE_INFINITY)) && value >= 0)) {
    throw new RangeError(messages.duration(name, allowInfinity, value));
  }
  return value;
}

/** A duration where `0` and `Infinity` both mean "none": returns 0 for either. */
export function validateLimit(name: string, value: unknown): number {
  const ms = validateDuration(name, value, true);
  return ms === Number.POSITIVE_INFINITY ? 0 : ms;
}

/** Throws unless `value` is a function. */
export function validateFunction<F>(name: string, value: F): F {
  if (typeof value !== 'function') throw new TypeError(messages.func(name, value));
  return value;
}

/** Throws unless `value` is an object with a method `method`. */
export function validateInterface(name: string, value: unknown, method: string): void {
  if (value === null || typeof value !== 'object' || typeof (value as Record<string, unknown>)[method] !== 'function') {
    throw new TypeError(messages.method(name, method, value));
  }
}

/** Throws unless `value` is an `AbortSignal`. */
export function validateSignal(name: string, value: unknown): AbortSignal {
  if (!(value instanceof AbortSignal)) throw new TypeError(messages.signal(name, value));
  return value;
}

/** Throws unless `value` is a finite number (a priority). */
export function validatePriority(name: string, value: unknown): number {
  if (typeof value !== 'number') throw new TypeError(messages.finite(name, value));
  if (!Number.isFinite(value)) throw new RangeError(messages.finite(name, value));
  return value;
}

/** Throws unless `value` is a boolean. */
export function validateBoolean(name: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw new TypeError(messages.boolean(name, value));
  return value;
}

/**
 * Throws unless `value` is an object whose own keys are all in `known` (`what` names the kind of option in
 * the message: "a task option", "a litepool option").
 */
export function validateOptions<T extends object>(name: string, value: T, known: ReadonlySet<string>, what: string, extra?: ReadonlySet<string>): T {
  if (value === null || typeof value !== 'object') throw new TypeError(messages.object(name, value));
  for (const key of Object.keys(value)) {
    if (!known.has(key) && !extra?.has(key)) throw new TypeError(messages.unknownKey(name, key, what, [...known, ...(extra ?? [])]));
  }
  return value;
}

const POOL_OPTION_NAMES = new Set(['workers', 'queueSize', 'onCallbackError', 'detectDeadlocks']);

/** Validates the pool's options once, at construction. */
export function resolvePoolOptions(options: PoolOptions | undefined): ResolvedPoolOptions {
  const o = validateOptions('options', options === undefined ? {} : options, POOL_OPTION_NAMES, 'a litepool option');
  return {
    workers: o.workers === undefined ? 1 : validateInteger('options.workers', o.workers, 1),
    queueSize: o.queueSize === undefined ? Number.POSITIVE_INFINITY : validateIntegerOrInfinity('options.queueSize', o.queueSize, 0),
    onCallbackError: o.onCallbackError === undefined ? undefined : validateFunction('options.onCallbackError', o.onCallbackError),
    detectDeadlocks: o.detectDeadlocks === undefined ? false : validateBoolean('options.detectDeadlocks', o.detectDeadlocks),
  };
}
