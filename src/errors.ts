/**
 * Every error the pool creates. Each class has a stable `code` and keeps what caused it in `cause`.
 * @module
 */

/** Stable codes carried by litepool's errors, for `switch (err.code)`. */
export type LitePoolErrorCode =
  | 'ERR_LITEPOOL'
  | 'ERR_POOL_CLOSED'
  | 'ERR_ADD_TIMEOUT'
  | 'ERR_TASK_TIMEOUT'
  | 'ERR_ABORTED'
  | 'ERR_TASK_GROUP'
  | 'ERR_TASK_FAILED'
  | 'ERR_THREAD_CRASHED'
  | 'ERR_THREAD_TERMINATED'
  | 'ERR_TASK_LOST'
  | 'ERR_UNKNOWN_HANDLER'
  | 'ERR_WORKER_LOST';

/** Base class of every error litepool creates. */
export class LitePoolError extends Error {
  /** A stable identifier of the kind of error. */
  readonly code: LitePoolErrorCode;

  constructor(message: string, options?: { cause?: unknown }, code: LitePoolErrorCode = 'ERR_LITEPOOL') {
    super(message, options);
    this.name = 'LitePoolError';
    this.code = code;
  }
}

/** The pool is closing or closed: the task was not admitted, or was dropped before it could finish. */
export class PoolClosedError extends LitePoolError {
  constructor(message = 'the pool is closed', options?: { cause?: unknown }) {
    super(message, options, 'ERR_POOL_CLOSED');
    this.name = 'PoolClosedError';
  }
}

/** The task found no room in the pool within its add timeout (`setAddTimeout`). */
export class AddTimeoutError extends LitePoolError {
  /** The add timeout that passed, in milliseconds. */
  readonly timeout: number;

  constructor(timeout: number) {
    super(`the task was not admitted within its add timeout of ${timeout} ms: the pool stayed full`, undefined, 'ERR_ADD_TIMEOUT');
    this.name = 'AddTimeoutError';
    this.timeout = timeout;
  }
}

/** One attempt of a task ran past its timeout (`setTimeout` / `{ timeout }`). */
export class TaskTimeoutError extends LitePoolError {
  /** The timeout that passed, in milliseconds. */
  readonly timeout: number;

  constructor(timeout: number, message = `the task attempt timed out after ${timeout} ms`) {
    super(message, undefined, 'ERR_TASK_TIMEOUT');
    this.name = 'TaskTimeoutError';
    this.timeout = timeout;
  }
}

/** The task was cancelled through its `AbortSignal`; the signal's reason is the `cause`. */
export class AbortError extends LitePoolError {
  constructor(reason?: unknown, message = 'the task was aborted') {
    super(message, { cause: reason }, 'ERR_ABORTED');
    this.name = 'AbortError';
  }
}

/** A task group was misused (`done()` past zero, a bad `add()`), or `wait()` gave up. */
export class TaskGroupError extends LitePoolError {
  constructor(message: string) {
    super(message, undefined, 'ERR_TASK_GROUP');
    this.name = 'TaskGroupError';
  }
}

/**
 * Wraps a value that was thrown or rejected but is not an `Error` (a string, `undefined`, …), so that
 * every failure the pool reports is an `Error`. The original value is the `cause`.
 */
export class TaskFailedError extends LitePoolError {
  constructor(value: unknown) {
    super(`the task failed with a non-Error value: ${describe(value)}`, { cause: value }, 'ERR_TASK_FAILED');
    this.name = 'TaskFailedError';
  }
}

/** Returns `value` if it is an `Error`, else wraps it in a {@link TaskFailedError}. */
export function toError(value: unknown): Error {
  return value instanceof Error ? value : new TaskFailedError(value);
}

/** A short, never-throwing description of any value, for error messages. */
export function describe(value: unknown): string {
  try {
    if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
    if (typeof value === 'symbol' || typeof value === 'bigint') return `${value.toString()} (${typeof value})`;
    if (typeof value === 'function') return `a function${value.name ? ` ${value.name}` : ''}`;
    if (value === null || typeof value !== 'object') return `${String(value)} (${value === null ? 'null' : typeof value})`;
    if (Array.isArray(value)) return `an array of length ${value.length}`;
    const name = (Object.getPrototypeOf(value) as { constructor?: { name?: string } } | null)?.constructor?.name;
    return `an object${name && name !== 'Object' ? ` (${name})` : ''}`;
  } catch {
    return 'an unprintable value';
  }
}
