/**
 * The pool's typed events.
 * @module
 */
import type { CallbackErrorInfo } from './options.js';

/** The pool's events and their arguments. */
export interface PoolEvents {
  /** A task started on a worker. */
  active: [];
  /** A task finished successfully, with its result. */
  completed: [result: unknown];
  /** A task finished with a failure. */
  failed: [error: Error];
  /** A policy retry was scheduled after attempt `attempt` failed. */
  retry: [error: Error, attempt: number];
  /** The pool has no admitted, blocked or gang task left. */
  idle: [];
  /** A callback threw or rejected (only emitted when someone listens and no `onCallbackError` is set). */
  error: [error: Error, info: CallbackErrorInfo];
}
