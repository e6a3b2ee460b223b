/**
 * The handle an `onError` callback receives: it re-runs the failed task, as Go's `ErrHandle.ErrReload`.
 * @module
 */
import { validateFunction } from './options.js';
import { describe } from './errors.js';

/** Called after `errReload`'s retries with the last error, or `null` when a retry succeeded. */
export type ErrReloadAfter = (err: Error | null) => unknown;

/** The part of the pool a handle talks to (internal wiring; not exported from the package). */
export interface ReloadHost {
  reload(handle: ErrHandle, retries: number, after: ErrReloadAfter | undefined): Promise<Error | null>;
  lateReload(handle: ErrHandle): void;
}

/** Given to `onError`: the failed task's error and the means to retry it. */
export class ErrHandle {
  /** The error that ended the task (after any retry policy). */
  readonly error: Error;
  /** @internal */
  readonly job: unknown;
  /** @internal Set once `onError` has returned (and its promise settled): a later `errReload` is too late. */
  closed = false;
  /** @internal The retries in progress, started by the first `errReload` call. */
  running: Promise<Error | null> | undefined = undefined;
  private readonly host: ReloadHost;

  /** Made by the pool for each `onError` call; not meant to be constructed by users. */
  constructor(host: ReloadHost, job: unknown, error: Error) {
    this.host = host;
    this.job = job;
    this.error = error;
  }

  /**
   * Re-runs the task up to `retries` more times on the same worker, then calls `after(lastErr)` (`null` when
   * a retry succeeded; an auto-done task is then marked done). `-1` or `Infinity`: until it succeeds, the
   * pool closes or the task's signal aborts; `0`: no retry. The worker stays occupied until the retries end,
   * whether or not the promise is awaited. Resolves with the final error or `null`; never rejects. A second
   * call returns the first call's promise.
   */
  errReload(retries = -1, after?: ErrReloadAfter): Promise<Error | null> {
    if (typeof retries !== 'number') throw new TypeError(`errReload(retries) takes an integer ≥ -1 or Infinity, received ${describe(retries)}`);
    if (!((Number.isInteger(retries) && retries >= -1) || retries === Number.POSITIVE_INFINITY)) {
      throw new RangeError(`errReload(retries) takes an integer ≥ -1 or Infinity, received ${describe(retries)}`);
    }
    if (after !== undefined) validateFunction('errReload(retries, after)', after);
    if (this.running !== undefined) return this.running;
    if (this.closed) {
      this.host.lateReload(this);
      return Promise.resolve(this.error);
    }
    this.running = this.host.reload(this, retries === -1 ? Number.POSITIVE_INFINITY : retries, after);
    return this.running;
  }
}
