/**
 * Trace points on Node's `diagnostics_channel`, how APMs and OpenTelemetry see inside a pool without a
 * dependency in the core: a `TracingChannel` around every attempt, and channels for admission waits,
 * retries and settled tasks (a task's span ends there). Nothing is built or published while nobody subscribes (one property read per attempt).
 * @module
 */
import { channel, tracingChannel } from 'node:diagnostics_channel';

/**
 * The message of one attempt, shared by all of its events (`start`, `end`, and for an attempt that returned a
 * promise `asyncStart`/`asyncEnd`; `error` when it failed), as `TracingChannel.tracePromise` does.
 */
export interface AttemptTrace {
  /** The pool that published it (its `LitePool`, `ThreadPool` or `DistributedPool`): tells pools apart when names are shared. */
  readonly source: object;
  /** The task's id (`ctx.taskId`): the same for every attempt. */
  readonly taskId: string;
  /** The attempt, from 1. */
  readonly attempt: number;
  /** The pool's `name` option, if set. */
  readonly pool: string | undefined;
  /** The task's key, if it has one. */
  readonly key: string | undefined;
  /** The worker that runs it. */
  readonly workerId: number;
  /**
   * How long the task waited for this attempt, in ms: since it was admitted (first attempt) or came back
   * from its backoff (a retry); 0 for an `errReload` rerun, which keeps its worker.
   */
  readonly waitMs: number;
  /** The attempt's value, once it succeeded. */
  result?: unknown;
  /** The attempt's error, once it failed (a timeout: `TaskTimeoutError`). */
  error?: unknown;
}

/** Published on `litepool:admission` when a submitter that had to wait for room is admitted or refused. */
export interface AdmissionTrace {
  /** The pool that published it (its `LitePool`, `ThreadPool` or `DistributedPool`): tells pools apart when names are shared. */
  readonly source: object;
  /** The task's id. */
  readonly taskId: string;
  /** The pool's `name` option, if set. */
  readonly pool: string | undefined;
  /** The task's key, if it has one. */
  readonly key: string | undefined;
  /** How long it waited for room, in ms. */
  readonly waitedMs: number;
  /** Whether it was admitted; if not, `error` says why (add timeout, abort, close). */
  readonly admitted: boolean;
  /** Why it was refused, when it was. */
  readonly error?: Error;
}

/** Published on `litepool:retry` when a failed attempt is to be retried. */
export interface RetryTrace {
  /** The pool that published it (its `LitePool`, `ThreadPool` or `DistributedPool`): tells pools apart when names are shared. */
  readonly source: object;
  /** The task's id. */
  readonly taskId: string;
  /** The pool's `name` option, if set. */
  readonly pool: string | undefined;
  /** The task's key, if it has one. */
  readonly key: string | undefined;
  /** The attempt that failed. */
  readonly attempt: number;
  /** Its error. */
  readonly error: Error;
  /** The backoff before the next attempt, in ms (0 for an `errReload` rerun). */
  readonly delayMs: number;
}

/** Published on `litepool:settled` when a task settles: its outcome, after its last attempt and its callbacks. */
export interface SettledTrace {
  /** The pool that published it (its `LitePool`, `ThreadPool` or `DistributedPool`): tells pools apart when names are shared. */
  readonly source: object;
  /** The task's id. */
  readonly taskId: string;
  /** The pool's `name` option, if set. */
  readonly pool: string | undefined;
  /** The task's key, if it has one. */
  readonly key: string | undefined;
  /** Attempts started (0: it never started, e.g. cancelled while it waited). */
  readonly attempts: number;
  /** Whether it succeeded. */
  readonly ok: boolean;
  /** The task's error, when it failed. */
  readonly error?: Error;
}

/** `litepool:task`: `start`, `end`, `asyncStart`, `asyncEnd` and `error` around each attempt. */
export const taskChannel = tracingChannel<unknown, AttemptTrace>('litepool:task');
/** `litepool:admission`: an {@link AdmissionTrace} per submitter that waited for room. */
export const admissionChannel = channel('litepool:admission');
/** `litepool:retry`: a {@link RetryTrace} per retry. */
export const retryChannel = channel('litepool:retry');
/** `litepool:settled`: a {@link SettledTrace} per admitted task, when it settles. */
export const settledChannel = channel('litepool:settled');
