/**
 * The options of `close()`, shared by every pool: one type, one validator.
 * @module
 */
import { validateBoolean, validateDuration, validateOptions } from './options.js';

/** Options of a pool's `close()`. */
export interface CloseOptions {
  /** Abort running tasks' signals and fail waiting tasks with `PoolClosedError` instead of waiting for them. */
  force?: boolean;
  /** Graceful for this many ms, then forced. */
  timeout?: number;
}

/** Validated close options. */
export interface ResolvedCloseOptions {
  force: boolean;
  timeout: number | undefined;
}

const CLOSE_KEYS = new Set(['force', 'timeout']);

/** Validates close options once; throws a `TypeError`/`RangeError` naming the one at fault. */
export function resolveCloseOptions(options: CloseOptions | undefined): ResolvedCloseOptions {
  const out: ResolvedCloseOptions = { force: false, timeout: undefined };
  if (options === undefined) return out;
  validateOptions('close(options)', options, CLOSE_KEYS, 'a close option');
  if (options.force !== undefined) out.force = validateBoolean('close(options).force', options.force);
  if (options.timeout !== undefined) out.timeout = validateDuration('close(options).timeout', options.timeout, true);
  return out;
}
