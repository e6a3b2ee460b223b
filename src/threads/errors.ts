/**
 * Errors of the thread pool. They live apart from the core's so that in-process users do not load them.
 * @module
 */
import { LitePoolError } from '../errors.js';

/** The thread running the task crashed (uncaught error, unhandled rejection, out of memory) or exited. */
export class ThreadCrashError extends LitePoolError {
  /** The thread's id (`worker.threadId`). */
  readonly threadId: number;
  /** The exit code, when the thread exited. */
  readonly exitCode: number | undefined;

  constructor(message: string, threadId: number, exitCode: number | undefined, cause?: unknown) {
    super(message, { cause }, 'ERR_THREAD_CRASHED');
    this.name = 'ThreadCrashError';
    this.threadId = threadId;
    this.exitCode = exitCode;
  }
}

/** The task's thread was ended to stop another task on it (a timeout or an abort); the task may be retried. */
export class ThreadTerminatedError extends LitePoolError {
  constructor(message: string, cause?: unknown) {
    super(message, { cause }, 'ERR_THREAD_TERMINATED');
    this.name = 'ThreadTerminatedError';
  }
}
