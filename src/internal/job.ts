import type { AsyncResource } from 'node:async_hooks';
import type { ErrHandle } from '../err-handle.js';
import type { ResolvedRetry } from '../retry.js';
import type { TaskContext } from '../task-context.js';
import type { TaskGroup } from '../task-group.js';
import type { Worker } from './worker.js';

/**
 * Where a task is: `blocked` (waiting for room, not admitted), `queued` (admitted, waiting for a worker),
 * `running` (on a worker), `backoff` (between policy retries, holding no worker), `done` (settled), `dropped`
 * (taken out of a queue; its slot there is a tombstone).
 */
export type JobState = 'new' | 'blocked' | 'queued' | 'running' | 'backoff' | 'done' | 'dropped';

/** A callable plus the `this` it is called with (the object of the interface forms). */
export type Bound = ((...args: never[]) => unknown) | undefined;

/**
 * The one internal record every task shape is normalised into at admission: a Go-style `TaskOptions`, a
 * `run()` call and a member of `map()` all become a Job, and one code path runs them.
 */
export class Job {
  fn: (this: unknown, ctx: TaskContext) => unknown;
  thisArg: unknown = undefined;
  /** The Go-style options this job came from, returned by a forced close when it never started. */
  source: unknown = undefined;
  group: TaskGroup | undefined = undefined;
  onSuccess: ((this: unknown, value: unknown) => unknown) | undefined = undefined;
  onSuccessThis: unknown = undefined;
  onError: ((this: unknown, handle: ErrHandle, group: TaskGroup | undefined, err: Error) => unknown) | undefined = undefined;
  onErrorThis: unknown = undefined;
  onComplete: ((this: unknown) => unknown) | undefined = undefined;
  onCompleteThis: unknown = undefined;
  autoDone = false;
  addTimeout = 0;
  onAddTimeout: (() => unknown) | undefined = undefined;
  timeout = 0;
  signal: AbortSignal | undefined = undefined;
  retry: ResolvedRetry | undefined = undefined;
  priority = 0;

  /** Settles a `run()` promise. */
  resolve: ((value: unknown) => void) | undefined = undefined;
  reject: ((err: Error) => void) | undefined = undefined;
  /** Settles an `addTask()` promise that had to wait for room. */
  admitResolve: (() => void) | undefined = undefined;
  admitReject: ((err: Error) => void) | undefined = undefined;

  state: JobState = 'new';
  started = false;
  attempts = 0;
  policyRetries = 0;
  resource: AsyncResource | undefined = undefined;
  worker: Worker | undefined = undefined;
  current: TaskContextImpl | undefined = undefined;
  timer: NodeJS.Timeout | undefined = undefined;
  ok = false;
  value: unknown = undefined;
  error: Error | undefined = undefined;
  handle: ErrHandle | undefined = undefined;
  abortListener: (() => void) | undefined = undefined;

  constructor(fn: (this: unknown, ctx: TaskContext) => unknown) {
    this.fn = fn;
  }
}

/**
 * One attempt of a job; it is also the `ctx` the task function receives. Its `AbortSignal` is made only
 * when the task reads `ctx.signal`, since most tasks never do.
 */
export class TaskContextImpl implements TaskContext {
  readonly attempt: number;
  readonly workerId: number;
  readonly job: Job;
  readonly worker: Worker;
  /** The attempt's outcome was taken (it returned, or its timeout passed). */
  settled = false;
  /** The task function returned (or its promise settled). */
  returned = false;
  timer: NodeJS.Timeout | undefined = undefined;
  /** Set for an `errReload` attempt: receives the outcome instead of the main path. */
  reload: ((ok: boolean, value: unknown) => void) | undefined;
  private controller: AbortController | undefined = undefined;
  private aborted = false;
  private reason: unknown = undefined;

  constructor(job: Job, worker: Worker, reload: ((ok: boolean, value: unknown) => void) | undefined) {
    this.job = job;
    this.worker = worker;
    this.attempt = job.attempts;
    this.workerId = worker.id;
    this.reload = reload;
  }

  get signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = new AbortController();
      if (this.aborted) this.controller.abort(this.reason);
    }
    return this.controller.signal;
  }

  /** Aborts this attempt's signal (once). */
  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.controller?.abort(reason);
  }
}
