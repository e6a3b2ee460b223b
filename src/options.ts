/**
 * The pool's options, their defaults, and one validator per option. Every setter that takes the same kind
 * of value (the constructor, `resize()`, `setAddTimeout()`, …) goes through the same validator, so the
 * messages read the same everywhere: they name the option, the value and its type.
 * @module
 */
import { describe } from './errors.js';

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
}

/** Options after validation, with defaults applied. */
export interface ResolvedPoolOptions {
  workers: number;
  queueSize: number;
  onCallbackError: ((err: Error, info: CallbackErrorInfo) => void) | undefined;
}

function kind(value: unknown): string {
  return describe(value);
}

/** Throws unless `value` is an integer ≥ `min`. */
export function validateInteger(name: string, value: unknown, min: number): number {
  if (typeof value !== 'number') throw new TypeError(`${name} must be an integer ≥ ${min}, received ${kind(value)}`);
  if (!(Number.isInteger(value) && value >= min)) {
    throw new RangeError(`${name} must be an integer ≥ ${min}, received ${kind(value)}`);
  }
  return value;
}

/** Throws unless `value` is an integer ≥ `min` or `Infinity`. */
export function validateIntegerOrInfinity(name: string, value: unknown, min: number): number {
  if (typeof value !== 'number') throw new TypeError(`${name} must be an integer ≥ ${min} or Infinity, received ${kind(value)}`);
  if (!((Number.isInteger(value) && value >= min) || value === Number.POSITIVE_INFINITY)) {
    throw new RangeError(`${name} must be an integer ≥ ${min} or Infinity, received ${kind(value)}`);
  }
  return value;
}

/** Throws unless `value` is a finite number of milliseconds ≥ 0 (`Infinity` allowed when `allowInfinity`). */
export function validateDuration(name: string, value: unknown, allowInfinity = false): number {
  const what = `${name} must be a number of milliseconds ≥ 0${allowInfinity ? ' or Infinity' : ''}`;
  if (typeof value !== 'number') throw new TypeError(`${what}, received ${kind(value)}`);
  if (!((Number.isFinite(value) || (allowInfinity && value === Number.POSITIVE_INFINITY)) && value >= 0)) {
    throw new RangeError(`${what}, received ${kind(value)}`);
  }
  return value;
}

/** Throws unless `value` is a function. */
export function validateFunction<F>(name: string, value: F): F {
  if (typeof value !== 'function') throw new TypeError(`${name} must be a function, received ${kind(value)}`);
  return value;
}

/** Throws unless `value` is an object with a method `method`. */
export function validateInterface(name: string, value: unknown, method: string): void {
  if (value === null || typeof value !== 'object' || typeof (value as Record<string, unknown>)[method] !== 'function') {
    throw new TypeError(`${name} must be an object with a method ${method}(), received ${kind(value)}`);
  }
}

/** Throws unless `value` is an `AbortSignal`. */
export function validateSignal(name: string, value: unknown): AbortSignal {
  if (!(value instanceof AbortSignal)) throw new TypeError(`${name} must be an AbortSignal, received ${kind(value)}`);
  return value;
}

/** Throws unless `value` is a finite number (a priority). */
export function validatePriority(name: string, value: unknown): number {
  if (typeof value !== 'number') throw new TypeError(`${name} must be a finite number, received ${kind(value)}`);
  if (!Number.isFinite(value)) throw new RangeError(`${name} must be a finite number, received ${kind(value)}`);
  return value;
}

const POOL_OPTION_NAMES = new Set(['workers', 'queueSize', 'onCallbackError']);

/** Validates the pool's options once, at construction. */
export function resolvePoolOptions(options: PoolOptions | undefined): ResolvedPoolOptions {
  if (options === undefined) options = {};
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`options must be an object, received ${kind(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (!POOL_OPTION_NAMES.has(key)) {
      throw new TypeError(`options.${key} is not a litepool option (known: ${[...POOL_OPTION_NAMES].join(', ')})`);
    }
  }
  const workers = options.workers === undefined ? 1 : validateInteger('options.workers', options.workers, 1);
  const queueSize =
    options.queueSize === undefined ? Number.POSITIVE_INFINITY : validateIntegerOrInfinity('options.queueSize', options.queueSize, 0);
  const onCallbackError =
    options.onCallbackError === undefined ? undefined : validateFunction('options.onCallbackError', options.onCallbackError);
  return { workers, queueSize, onCallbackError };
}
