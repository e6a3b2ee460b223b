/**
 * The pool's typed events.
 * @module
 */
import type { CallbackErrorInfo } from './options.js';

/** The pool's events and their arguments. */
export interface PoolEvents {
  /** A task started on a worker (its id, as `ctx.taskId`). */
  active: [taskId: string];
  /** A task finished successfully, with its result (and its id). */
  completed: [result: unknown, taskId: string];
  /** A task finished with a failure (and its id). */
  failed: [error: Error, taskId: string];
  /** A policy retry was scheduled after attempt `attempt` of task `taskId` failed. */
  retry: [error: Error, attempt: number, taskId: string];
  /** The pool has no admitted, blocked or gang task left. */
  idle: [];
  /** A callback threw or rejected (only emitted when someone listens and no `onCallbackError` is set). */
  error: [error: Error, info: CallbackErrorInfo];
}
