/**
 * Errors of the thread pool. They live apart from the core's so that in-process users do not load them.
 * @module
 */
import { LitePoolError, describe } from '../errors.js';

/** The thread pool's own messages (see `messages` in the core's errors). */
export const threadMessages = {
  fraction: (name: string, value: unknown) => `${name} must be a number from 0 to 1, received ${describe(value)}`,
  atMost: (name: string, other: string, value: number, bound: number) => `${name} (${value}) must be ≤ ${other} (${bound})`,
  preload: (value: unknown) => `options.preload must be an array of module specifiers, received ${describe(value)}`,
  transferList: (value: unknown) => `options.transfer must be an array, received ${describe(value)}`,
  transferItem: (index: number, value: unknown) =>
    `options.transfer[${index}] must be a transferable object (an ArrayBuffer, a typed array or DataView, a MessagePort …), received ${describe(value)}`,
  detachedTransfer: (index: number, attempt: number | undefined) =>
    `options.transfer[${index}] is a detached ArrayBuffer${attempt !== undefined && attempt > 1 ? ` at attempt ${attempt}` : ''}: it was already moved to a thread ` +
    '(by an earlier attempt of this task, or by another task), and sending it again would give the task an empty buffer. ' +
    'A buffer can be transferred once: give each task its own buffer, or leave it out of transfer so that it is copied',
  inputNotSent: (reason: string) => `the task input could not be sent to a thread: ${reason}`,
  moduleUrl: (value: unknown, relative: boolean) =>
    `module must be a file URL or an absolute path${relative ? " (use new URL('./file.js', import.meta.url))" : ''}, received ${describe(value)}`,
  exportName: (value: unknown) => `name must be the name of an exported function, received ${describe(value)}`,
};

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
