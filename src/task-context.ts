import type { PoolControl } from './engine/slot.js';

/** What a task function receives as its only argument. */
export interface TaskContext {
  /**
   * Aborts when this attempt should stop: its timeout passed (reason: `TaskTimeoutError`), the task's
   * signal aborted (reason: `AbortError`), or the pool was closed with force (reason: `PoolClosedError`).
   */
  readonly signal: AbortSignal;
  /** Which run of the function this is, counting from 1; every retry is a new attempt. */
  readonly attempt: number;
  /**
   * The task's id: unique in its pool, the same for every attempt (policy retries and `errReload` reruns),
   * so that a task can make its effects idempotent or tag its logs.
   */
  readonly taskId: string;
  /** The id of the worker running the attempt (0 to `workers - 1`). */
  readonly workerId: number;
  /**
   * The pool, as far as a task may steer it: `ctx.pool.pauseFor(ms)` starts no attempt for `ms` (an HTTP 429's
   * `Retry-After`), running ones go on.
   */
  readonly pool: PoolControl;
  /**
   * Reports progress (any value: a fraction, a count, an object) to the task's `onProgress`, in order and
   * before the task settles; a report after the attempt has ended is dropped.
   */
  progress(value: unknown): void;
}
