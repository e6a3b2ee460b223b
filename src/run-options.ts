/**
 * Per-task options shared by `run()`, `map()` and the fluent `TaskOptions` setters: one type, one validator.
 * @module
 */
import { validateFunction, validateKey, validateLimit, validateOptions, validatePriority, validateSignal } from './options.js';
import { resolveRetry, type ResolvedRetry, type RetryPolicy } from './retry.js';

/** Options of one task. */
export interface RunOptions {
  /**
   * Bounds each attempt, in ms: at the deadline the attempt fails with `TaskTimeoutError` and its
   * `ctx.signal` aborts. `0` or `Infinity`: no timeout.
   * @default Infinity
   */
  timeout?: number;
  /** Cancels the task: removed if still waiting, `ctx.signal` aborted if running. */
  signal?: AbortSignal;
  /** A retry policy, or a plain number of retries with the default backoff. */
  retry?: RetryPolicy | number;
  /**
   * Higher runs first; FIFO among equal priorities.
   * @default 0
   */
  priority?: number;
  /**
   * The task's key: the pool's per-key limits (`keys` option) apply to it, on top of the pool's. Without
   * `keys` it limits nothing (it still shows in traces and `tasks()`).
   */
  key?: string;
  /** Receives what the task reports with `ctx.progress(value)`, in order, before it settles. */
  onProgress?: (value: unknown) => void;
}

/** Validated per-task options. */
export interface ResolvedRunOptions {
  timeout: number;
  signal: AbortSignal | undefined;
  retry: ResolvedRetry | undefined;
  priority: number;
  key: string | undefined;
  onProgress: ((value: unknown) => void) | undefined;
}

const RUN_KEYS = new Set(['timeout', 'signal', 'retry', 'priority', 'key', 'onProgress']);


/** Validates per-task options once; `name` prefixes the messages (`run(options)`, `map(options)`). */
export function resolveRunOptions(name: string, options: RunOptions | undefined, extraKeys?: ReadonlySet<string>): ResolvedRunOptions {
  const out: ResolvedRunOptions = { timeout: 0, signal: undefined, retry: undefined, priority: 0, key: undefined, onProgress: undefined };
  if (options === undefined) return out;
  validateOptions(name, options, RUN_KEYS, 'a task option', extraKeys);
  if (options.timeout !== undefined) out.timeout = validateLimit(`${name}.timeout`, options.timeout);
  if (options.signal !== undefined) out.signal = validateSignal(`${name}.signal`, options.signal);
  if (options.retry !== undefined) out.retry = resolveRetry(`${name}.retry`, options.retry);
  if (options.priority !== undefined) out.priority = validatePriority(`${name}.priority`, options.priority);
  if (options.key !== undefined) out.key = validateKey(`${name}.key`, options.key);
  if (options.onProgress !== undefined) out.onProgress = validateFunction(`${name}.onProgress`, options.onProgress);
  return out;
}
