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
  | 'ERR_THREAD_TERMINATED';

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

/**
 * Every message the library builds, in one place: validators and the engine call these rather than build
 * strings where they throw, so that the wording stays the same wherever the same thing goes wrong.
 */
export const messages = {
  // Validation: each names the option, what would be right, and the value received.
  integer: (name: string, min: number, value: unknown) =>
    `${name} must be an integer${min === Number.NEGATIVE_INFINITY ? '' : ` ≥ ${min}`}, received ${describe(value)}`,
  integerOrInfinity: (name: string, min: number, value: unknown) => `${name} must be an integer ≥ ${min} or Infinity, received ${describe(value)}`,
  duration: (name: string, allowInfinity: boolean, value: unknown) =>
    `${name} must be a number of milliseconds ≥ 0${allowInfinity ? ' or Infinity' : ''}, received ${describe(value)}`,
  function: (name: string, value: unknown) => `${name} must be a function, received ${describe(value)}`,
  method: (name: string, method: string, value: unknown) => `${name} must be an object with a method ${method}(), received ${describe(value)}`,
  signal: (name: string, value: unknown) => `${name} must be an AbortSignal, received ${describe(value)}`,
  finite: (name: string, value: unknown) => `${name} must be a finite number, received ${describe(value)}`,
  boolean: (name: string, value: unknown) => `${name} must be a boolean, received ${describe(value)}`,
  object: (name: string, value: unknown) => `${name} must be an object, received ${describe(value)}`,
  unknownKey: (name: string, key: string, what: string, known: Iterable<string>) => `${name}.${key} is not ${what} (known: ${[...known].join(', ')})`,
  atLeast: (name: string, other: string, value: number, bound: number) => `${name} (${value}) must be ≥ ${other} (${bound})`,
  atMost: (name: string, other: string, value: number, bound: number) => `${name} (${value}) must be ≤ ${other} (${bound})`,
  fraction: (name: string, value: unknown) => `${name} must be a number from 0 to 1, received ${describe(value)}`,
  factor: (name: string, value: unknown) => `${name} must be a number ≥ 1, received ${describe(value)}`,
  jitter: (name: string, value: unknown) => `${name} must be 'full', 'equal' or 'none' (or true / false), received ${describe(value)}`,
  retryPolicy: (name: string, value: unknown) => `${name} must be a number of retries or a retry policy object, received ${describe(value)}`,
  iterable: (name: string, value: unknown) => `${name} takes an iterable or async iterable, received ${describe(value)}`,
  notTaskOptions: (where: string, value: unknown) => `${where} takes TaskOptions from lp.newTaskOptions() or group.newTaskOptions(), received ${describe(value)}`,
  otherPool: (where: string) => `${where}: these TaskOptions belong to another pool`,
  noTask: (where: string) => `${where}: no task was set; call setTask() first`,
  preload: (value: unknown) => `options.preload must be an array of module specifiers, received ${describe(value)}`,
  transferList: (value: unknown) => `options.transfer must be an array, received ${describe(value)}`,
  moduleUrl: (value: unknown, relative: boolean) =>
    `module must be a file URL or an absolute path${relative ? " (use new URL('./file.js', import.meta.url))" : ''}, received ${describe(value)}`,
  exportName: (value: unknown) => `name must be the name of an exported function, received ${describe(value)}`,
  // Admission and close.
  closedAt: (where: string) => `${where}: the pool is closed`,
  abortedAt: (where: string) => `${where}: the signal was already aborted`,
  closedBeforeAdmission: 'the pool was closed before the task was admitted',
  closedWithForce: 'the pool was closed with force',
  forcedBeforeStart: 'the pool was closed with force before the task started',
  forcedInBackoff: 'the pool was closed with force while the task waited to be retried',
  closedWithGroupWork: 'the pool closed while the group still had work outstanding',
  gangTooLarge: (n: number, workers: number) => `addTaskGroup(...opts): ${n} tasks must start together on ${n} workers, but the pool has ${workers}`,
  gangAborted: "addTaskGroup(...opts): a task's signal was aborted while the gang waited to start",
  // Cancellation and retries.
  abortedBlocked: 'the task was aborted while waiting for room in the pool',
  abortedQueued: 'the task was aborted while waiting for a worker',
  abortedBackoff: 'the task was aborted while waiting to be retried',
  abortedRunning: 'the task was aborted while running',
  retriesAborted: 'the task was aborted; retries stopped',
  retriesForced: 'the pool was closed with force; retries stopped',
  endlessRetriesClosed: 'the pool was closed; endless retries stopped',
  rerunTooLate: 'errReload() was called after onError had returned (and its promise settled); call it inside onError, or await it there',
  // Groups.
  doneBelowZero: 'TaskGroup.done() was called more times than the group counts: the count is already 0',
  addBelowZero: (delta: number, count: number) => `TaskGroup.add(${delta}) would take the count below zero (it is ${count})`,
  waitTimedOut: (timeout: number, count: number, active: number) => `TaskGroup.wait() timed out after ${timeout} ms with count ${count} and ${active} tasks active`,
  waitAborted: 'TaskGroup.wait() was aborted',
  // Promise API and limit().
  mapAborted: (where: string) => `${where} was aborted`,
  iterableClosed: 'mapIterable() was closed before every result was read',
  queueCleared: 'the limiter queue was cleared',
  // Hooks.
  callbackFailed: (name: string, message: string) => `a ${name} callback failed: ${message}`,
  reportFailed: (name: string, message: string) => `reporting a failed ${name} callback failed too: ${message}`,
};

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
