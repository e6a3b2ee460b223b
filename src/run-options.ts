/**
 * Per-task options shared by `run()`, `map()` and the fluent `TaskOptions` setters: one type, one validator.
 * @module
 */
import { validateLimit, validateOptions, validatePriority, validateSignal } from './options.js';
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
}

/** Validated per-task options. */
export interface ResolvedRunOptions {
  timeout: number;
  signal: AbortSignal | undefined;
  retry: ResolvedRetry | undefined;
  priority: number;
}

const RUN_KEYS = new Set(['timeout', 'signal', 'retry', 'priority']);

/** Validates per-task options once; `name` prefixes the messages (`run(options)`, `map(options)`). */
export function resolveRunOptions(name: string, options: RunOptions | undefined, extraKeys?: ReadonlySet<string>): ResolvedRunOptions {
  const out: ResolvedRunOptions = { timeout: 0, signal: undefined, retry: undefined, priority: 0 };
  if (options === undefined) return out;
  validateOptions(name, options, RUN_KEYS, 'a task option', extraKeys);
  if (options.timeout !== undefined) out.timeout = validateLimit(`${name}.timeout`, options.timeout);
  if (options.signal !== undefined) out.signal = validateSignal(`${name}.signal`, options.signal);
  if (options.retry !== undefined) out.retry = resolveRetry(`${name}.retry`, options.retry);
  if (options.priority !== undefined) out.priority = validatePriority(`${name}.priority`, options.priority);
  return out;
}
