/**
 * Every message the library builds, in one place: validators, the engine and the faces import this module as
 * `messages` and call these rather than build strings where they throw, so that the wording stays the same
 * wherever the same thing goes wrong. (Separate exports rather than one object, so that a bundler can
 * shorten their names.)
 * @module
 */
import { describe } from './errors.js';

// Validation: each names the option, what would be right, and the value received.
export const integer = (name: string, min: number, value: unknown) =>
  `${name} must be an integer${min === Number.NEGATIVE_INFINITY ? '' : ` ≥ ${min}`}, received ${describe(value)}`;
export const integerOrInfinity = (name: string, min: number, value: unknown) => `${name} must be an integer ≥ ${min} or Infinity, received ${describe(value)}`;
export const duration = (name: string, allowInfinity: boolean, value: unknown) =>
  `${name} must be a number of milliseconds ≥ 0${allowInfinity ? ' or Infinity' : ''}, received ${describe(value)}`;
export const func = (name: string, value: unknown) => `${name} must be a function, received ${describe(value)}`;
export const method = (name: string, method: string, value: unknown) => `${name} must be an object with a method ${method}(), received ${describe(value)}`;
export const signal = (name: string, value: unknown) => `${name} must be an AbortSignal, received ${describe(value)}`;
export const finite = (name: string, value: unknown) => `${name} must be a finite number, received ${describe(value)}`;
export const boolean = (name: string, value: unknown) => `${name} must be a boolean, received ${describe(value)}`;
export const object = (name: string, value: unknown) => `${name} must be an object, received ${describe(value)}`;
export const unknownKey = (name: string, key: string, what: string, known: Iterable<string>) => `${name}.${key} is not ${what} (known: ${[...known].join(', ')})`;
export const atLeast = (name: string, other: string, value: number, bound: number) => `${name} (${value}) must be ≥ ${other} (${bound})`;
export const factor = (name: string, value: unknown) => `${name} must be a number ≥ 1, received ${describe(value)}`;
export const jitter = (name: string, value: unknown) => `${name} must be 'full', 'equal' or 'none' (or true / false), received ${describe(value)}`;
export const retryPolicy = (name: string, value: unknown) => `${name} must be a number of retries or a retry policy object, received ${describe(value)}`;
export const iterable = (name: string, value: unknown) => `${name} takes an iterable or async iterable, received ${describe(value)}`;
export const notTaskOptions = (where: string, value: unknown) => `${where} takes TaskOptions from lp.newTaskOptions() or group.newTaskOptions(), received ${describe(value)}`;
export const otherPool = (where: string) => `${where}: these TaskOptions belong to another pool`;
export const noTask = (where: string) => `${where}: no task was set; call setTask() first`;
export const rateWindow = (name: string, value: unknown) => `${name} must be a rate window { limit, interval }, received ${describe(value)}`;
export const rateLimitTooLarge = (name: string, max: number, value: number) => `${name} must be at most ${max} (a window keeps one time per start), received ${value}`;
export const positiveDuration = (name: string, value: number) => `${name} must be a number of milliseconds > 0, received ${value}`;
export const adaptiveFlag = (name: string, value: unknown) => `${name} must be true (or pass workers as a number), received ${describe(value)}`;
export const key = (name: string, value: unknown) => `${name} must be a string, received ${describe(value)}`;
export const adaptiveResize = 'resize(workers): this pool finds its own concurrency (workers: { adaptive: true }); make a pool with a fixed number of workers to set it';

// Admission and close.
export const closedAt = (where: string) => `${where}: the pool is closed`;
export const abortedAt = (where: string) => `${where}: the signal was already aborted`;
export const closedBeforeAdmission = 'the pool was closed before the task was admitted';
export const closedWithForce = 'the pool was closed with force';
export const forcedBeforeStart = 'the pool was closed with force before the task started';
export const forcedInBackoff = 'the pool was closed with force while the task waited to be retried';
export const closedWithGroupWork = 'the pool closed while the group still had work outstanding';
export const gangTooLarge = (n: number, workers: number) => `addTaskGroup(...opts): ${n} tasks must start together on ${n} workers, but the pool has ${workers}`;
export const gangOverRate = (n: number, limit: number) => `addTaskGroup(...opts): ${n} tasks must start together, but the pool's rate allows ${limit} starts per window`;
export const gangWithKey = 'addTaskGroup(...opts): tasks that start together cannot have a key (per-key limits would split them)';
export const gangAborted = "addTaskGroup(...opts): a task's signal was aborted while the gang waited to start";

// Cancellation and retries.
export const abortedBlocked = 'the task was aborted while waiting for room in the pool';
export const abortedQueued = 'the task was aborted while waiting for a worker';
export const abortedBackoff = 'the task was aborted while waiting to be retried';
export const abortedRunning = 'the task was aborted while running';
export const retriesAborted = 'the task was aborted; retries stopped';
export const retriesForced = 'the pool was closed with force; retries stopped';
export const endlessRetriesClosed = 'the pool was closed; endless retries stopped';
export const rerunTooLate = 'errReload() was called after onError had returned (and its promise settled); call it inside onError, or await it there';

// Groups.
export const doneBelowZero = 'TaskGroup.done() was called more times than the group counts: the count is already 0';
export const addBelowZero = (delta: number, count: number) => `TaskGroup.add(${delta}) would take the count below zero (it is ${count})`;
export const waitTimedOut = (timeout: number, count: number, active: number) => `TaskGroup.wait() timed out after ${timeout} ms with count ${count} and ${active} tasks active`;
export const waitAborted = 'TaskGroup.wait() was aborted';

// Promise API and limit().
export const mapAborted = (where: string) => `${where} was aborted`;
export const iterableClosed = 'mapIterable() was closed before every result was read';
export const queueCleared = 'the limiter queue was cleared';

// Hooks.
export const callbackFailed = (name: string, message: string) => `a ${name} callback failed: ${message}`;
export const reportFailed = (name: string, message: string) => `reporting a failed ${name} callback failed too: ${message}`;

// Nesting.
export const nestedLink = (task: number, worker: number) => `task ${task} on worker ${worker} waits for a task it submitted`;
export const nestedDeadlock = (links: string) =>
  `the pool may be deadlocked: every worker holds a task whose child, submitted to the same pool, waits for a worker behind it (${links}). ` +
  'A task that awaits run() on its own pool needs a free worker for the child: give children their own pool, or more workers than nesting levels';
