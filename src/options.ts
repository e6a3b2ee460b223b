/**
 * The pool's options, their defaults, and one validator per option. Every setter that takes the same kind
 * of value (the constructor, `resize()`, `setAddTimeout()`, …) goes through the same validator, so the
 * messages read the same everywhere: they name the option, the value and its type.
 * @module
 */
import type { AdaptiveSettings } from './engine/adaptive.js';
import type { KeyLimits } from './engine/keys.js';
import type { RateWindow } from './engine/rate-log.js';
import * as messages from './messages.js';

/** Where a callback error came from. */
export type CallbackName = 'onSuccess' | 'onError' | 'onComplete' | 'onAddTimeout' | 'errReload.after' | 'onRetry' | 'retryIf' | 'autoDone' | 'onProgress';

/** What the pool knows about a callback that threw or rejected. */
export interface CallbackErrorInfo {
  /** Which callback failed. */
  readonly callback: CallbackName;
}

/** A concurrency the pool finds itself, between `min` and `max` (`workers: { min, max, adaptive: true }`). */
export interface AdaptiveWorkers {
  /** The fewest workers: an integer ≥ 1. */
  min: number;
  /** The most workers: an integer ≥ `min`. */
  max: number;
  /**
   * Raise the limit while latency holds, cut it when latency climbs or attempts fail with overload (a
   * `TaskTimeoutError`, HTTP 429/503 as `status`/`statusCode`, or `code` `EOVERLOAD`, `ETIMEDOUT`,
   * `ECONNRESET`, `ECONNREFUSED`). `usage().limit` shows the limit in force.
   */
  adaptive: true;
}

/** Per-key limits (`keys` option): they apply to tasks with a `key`, on top of the pool's. */
export interface KeyOptions {
  /**
   * Tasks of one key running at once: an integer ≥ 1, or `Infinity`.
   * @default Infinity
   */
  workers?: number;
  /** At most `limit` starts per key in any span of `interval` ms; several windows all apply. */
  rate?: RateWindow | readonly RateWindow[];
}

/** Options of a {@link LitePool}. */
export interface PoolOptions {
  /**
   * How many tasks run at once: the number of long-lived workers. An integer ≥ 1, or `{ min, max, adaptive:
   * true }` for a limit the pool finds itself from latency and overload (LitePool only).
   * @default 1
   */
  workers?: number | AdaptiveWorkers;
  /**
   * At most `limit` attempt starts (retries included) in any span of `interval` ms: a sliding window, exact
   * across what a fixed window would call its edges. Several windows all apply. `setRate()` changes it.
   */
  rate?: RateWindow | readonly RateWindow[];
  /** Per-key limits for tasks with a `key` (`run(fn, { key })`, `setKey()`), on top of the pool's. */
  keys?: KeyOptions;
  /** The pool's name, carried by its trace messages (`litepool:task`, …) to tell pools apart. */
  name?: string;
  /**
   * The window of `usage().latency` (wait and run percentiles), in ms: what happened longer ago is
   * forgotten. `0` turns the figures off (no clock read per queued task).
   * @default 60000
   */
  latencyWindow?: number;
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
  /** Pool-wide rate windows (none when empty or absent). */
  rate?: readonly RateWindow[];
  /** The pool's name, in trace messages. */
  name?: string;
  /** The latency window in ms (0: off; absent: the default). */
  latencyWindow?: number;
  /** Put before every task id (a distributed producer's id). */
  taskIdPrefix?: string;
  /** Per-key limits, when the pool has keys. */
  keys?: KeyLimits;
  /** The bounds of an adaptive limit (then `workers` is ignored). */
  adaptive?: AdaptiveSettings;
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

/** Throws unless `value` is a string (a task's key). */
export function validateKey(name: string, value: unknown): string {
  if (typeof value !== 'string') throw new TypeError(messages.key(name, value));
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

/** The most starts a rate window may allow: its log keeps one time per allowed start. */
const MAX_RATE_LIMIT = 1_000_000;
const RATE_KEYS = new Set(['limit', 'interval']);

/**
 * Validates rate windows: one `{ limit, interval }` or an array of them (empty: no rate). `limit` is an
 * integer from 1 to 1,000,000, `interval` a finite number of ms > 0.
 */
export function validateRate(name: string, value: unknown): RateWindow[] {
  const list = Array.isArray(value) ? (value as unknown[]) : [value];
  return list.map((w, i) => {
    const at = Array.isArray(value) ? `${name}[${i}]` : name;
    const o = validateOptions(at, w as RateWindow, RATE_KEYS, 'a rate window option');
    if (o.limit === undefined || o.interval === undefined) throw new TypeError(messages.rateWindow(at, w));
    const limit = validateInteger(`${at}.limit`, o.limit, 1);
    if (limit > MAX_RATE_LIMIT) throw new RangeError(messages.rateLimitTooLarge(`${at}.limit`, MAX_RATE_LIMIT, limit));
    const interval = validateDuration(`${at}.interval`, o.interval);
    if (interval === 0) throw new RangeError(messages.positiveDuration(`${at}.interval`, interval));
    return { limit, interval };
  });
}

const KEY_OPTION_NAMES = new Set(['workers', 'rate']);

/** Validates the `keys` option. */
export function resolveKeys(name: string, value: KeyOptions): KeyLimits {
  const o = validateOptions(name, value, KEY_OPTION_NAMES, 'a keys option');
  return {
    workers: o.workers === undefined ? Number.POSITIVE_INFINITY : validateIntegerOrInfinity(`${name}.workers`, o.workers, 1),
    rate: o.rate === undefined ? [] : validateRate(`${name}.rate`, o.rate),
  };
}

const ADAPTIVE_KEYS = new Set(['min', 'max', 'adaptive']);

/** Validates `workers`: an integer ≥ 1, or `{ min, max, adaptive: true }` where `allowAdaptive`. */
function resolveWorkers(name: string, value: unknown, allowAdaptive: boolean): { workers: number; adaptive?: AdaptiveSettings } {
  if (typeof value === 'number' || !allowAdaptive || value === null || typeof value !== 'object') return { workers: validateInteger(name, value, 1) };
  const o = validateOptions(name, value as AdaptiveWorkers, ADAPTIVE_KEYS, 'an adaptive workers option');
  if (o.adaptive !== true) throw new TypeError(messages.adaptiveFlag(`${name}.adaptive`, o.adaptive));
  const min = validateInteger(`${name}.min`, o.min, 1);
  const max = validateInteger(`${name}.max`, o.max, 1);
  if (max < min) throw new RangeError(messages.atLeast(`${name}.max`, `${name}.min`, max, min));
  return { workers: min, adaptive: { min, max } };
}

const POOL_OPTION_NAMES = new Set(['workers', 'queueSize', 'onCallbackError', 'detectDeadlocks', 'rate', 'keys', 'name', 'latencyWindow']);

/** Validates the pool's options once, at construction; `allowAdaptive`: `workers` may be adaptive (LitePool). */
export function resolvePoolOptions(options: PoolOptions | undefined, allowAdaptive = false): ResolvedPoolOptions {
  const o = validateOptions('options', options === undefined ? {} : options, POOL_OPTION_NAMES, 'a litepool option');
  const workers = o.workers === undefined ? { workers: 1 } : resolveWorkers('options.workers', o.workers, allowAdaptive);
  const resolved: ResolvedPoolOptions = {
    workers: workers.workers,
    queueSize: o.queueSize === undefined ? Number.POSITIVE_INFINITY : validateIntegerOrInfinity('options.queueSize', o.queueSize, 0),
    onCallbackError: o.onCallbackError === undefined ? undefined : validateFunction('options.onCallbackError', o.onCallbackError),
    detectDeadlocks: o.detectDeadlocks === undefined ? false : validateBoolean('options.detectDeadlocks', o.detectDeadlocks),
  };
  if (workers.adaptive !== undefined) resolved.adaptive = workers.adaptive;
  if (o.rate !== undefined) resolved.rate = validateRate('options.rate', o.rate);
  if (o.keys !== undefined) resolved.keys = resolveKeys('options.keys', o.keys);
  if (o.name !== undefined) resolved.name = validateKey('options.name', o.name);
  if (o.latencyWindow !== undefined) resolved.latencyWindow = validateDuration('options.latencyWindow', o.latencyWindow);
  return resolved;
}
