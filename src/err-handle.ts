/**
 * The handle an `onError` callback receives: it re-runs the failed task, as Go's `ErrHandle.ErrReload`.
 * A Go-style face over the engine's `Failure`.
 * @module
 */
import type { Failure } from './engine/task.js';
import { validateFunction, validateIntegerOrInfinity } from './options.js';

/**
 * Called after `errReload`'s retries with the last error, or with `null` and the result when a retry
 * succeeded (the result goes here, not to `onSuccess`: the handler owns the path).
 */
export type ErrReloadAfter = (err: Error | null, result?: unknown) => unknown;

/** Given to `onError`: the failed task's error and the means to retry it. */
export class ErrHandle {
  /** The error that ended the task (after any retry policy). */
  readonly error: Error;
  private readonly failure: Failure;

  /** Made by the pool for each `onError` call; not meant to be constructed by users. */
  constructor(failure: Failure) {
    this.failure = failure;
    this.error = failure.error;
  }

  /**
   * Re-runs the task up to `retries` more times on the same worker, then calls `after(lastErr, result)`
   * (`null` and the result when a retry succeeded; an auto-done task is then marked done). `-1` or
   * `Infinity`: until it succeeds, the pool closes or the task's signal aborts; `0`: no retry. The worker
   * stays occupied until the retries end, whether or not the promise is awaited. Resolves with the final
   * error or `null`; never rejects. A second call returns the first call's promise.
   */
  errReload(retries = -1, after?: ErrReloadAfter): Promise<Error | null> {
    validateIntegerOrInfinity('errReload(retries)', retries, -1);
    if (after !== undefined) validateFunction('errReload(retries, after)', after);
    return this.failure.rerun(retries === -1 ? Number.POSITIVE_INFINITY : retries, after);
  }
}
