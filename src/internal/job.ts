import { AsyncResource } from 'node:async_hooks';
import type { ErrHandle } from '../err-handle.js';
import type { ResolvedRetry } from '../retry.js';
import type { TaskContext } from '../task-context.js';
import type { TaskGroup } from '../task-group.js';
import type { Worker } from './worker.js';

/**
 * Where a task is: `new` (made, not admitted), `blocked` (waiting for room), `queued` (admitted, waiting for
 * a worker), `running` (holding a worker, or failing without one), `backoff` (between policy retries, holding
 * no worker), `done` (settled), `dropped` (refused, or discarded by `clearQueue`).
 */
export type JobState = 'new' | 'blocked' | 'queued' | 'running' | 'backoff' | 'done' | 'dropped';

/**
 * A task's options and callbacks. `TaskOptions` fills one; `run()` shares one frozen default or makes one
 * from its options. A job keeps a reference, not a copy: `TaskOptions` copies its spec before writing to
 * one that a job already uses (`shared`).
 */
export interface JobSpec {
  task: ((ctx: TaskContext) => unknown) | undefined;
  taskThis: unknown;
  onSuccess: ((value: unknown) => unknown) | undefined;
  onSuccessThis: unknown;
  onError: ((handle: ErrHandle, group: TaskGroup | undefined, err: Error) => unknown) | undefined;
  onErrorThis: unknown;
  onComplete: (() => unknown) | undefined;
  onCompleteThis: unknown;
  onAddTimeout: (() => unknown) | undefined;
  autoDone: boolean;
  addTimeout: number;
  timeout: number;
  signal: AbortSignal | undefined;
  retry: ResolvedRetry | undefined;
  priority: number;
  group: TaskGroup | undefined;
  /** The `TaskOptions` this spec belongs to (returned by a forced close when its task never started). */
  source: unknown;
  /** A job references this spec: the owner must copy it before writing. */
  shared: boolean;
  /**
   * The owner (a `map()` batch) cancels its jobs itself: the pool does not add a listener to `signal` per
   * job, which would cost an `addEventListener`/`removeEventListener` pair per item.
   */
  managed: boolean;
}

/** A spec with nothing set. */
export function emptySpec(): JobSpec {
  return {
    task: undefined,
    taskThis: undefined,
    onSuccess: undefined,
    onSuccessThis: undefined,
    onError: undefined,
    onErrorThis: undefined,
    onComplete: undefined,
    onCompleteThis: undefined,
    onAddTimeout: undefined,
    autoDone: false,
    addTimeout: 0,
    timeout: 0,
    signal: undefined,
    retry: undefined,
    priority: 0,
    group: undefined,
    source: undefined,
    shared: false,
    managed: false,
  };
}

/** The spec of a `run()` call without options. */
export const DEFAULT_SPEC: Readonly<JobSpec> = Object.freeze({ ...emptySpec(), shared: true });

/**
 * A failure handed to a job's `resolve`: resolving a promise with this thenable rejects it with `error`.
 * It lets a job keep one settle function (a promise's `resolve`) instead of two.
 */
export class Rejection {
  readonly error: Error;

  constructor(error: Error) {
    this.error = error;
  }

  then(_resolve: unknown, reject: (err: Error) => void): void {
    reject(this.error);
  }
}

/** State a job needs only on its slower paths (blocked, listening to a signal, retried, handled). */
export class JobExtra {
  /** Settle an `addTask()` promise that had to wait for room (`admitReject` undefined: a waiter that never rejects). */
  admitResolve: (() => void) | undefined = undefined;
  admitReject: ((err: Error) => void) | undefined = undefined;
  /** The add-timeout timer while blocked, or the backoff timer while waiting to be retried. */
  timer: NodeJS.Timeout | undefined = undefined;
  abortListener: (() => void) | undefined = undefined;
  policyRetries = 0;
  handle: ErrHandle | undefined = undefined;
}

/**
 * The one internal record every task shape is normalised into at admission: a Go-style `TaskOptions`, a
 * `run()` call, a `map()` member and a `limit()` call all become a Job, and one code path runs them. It is
 * kept small because a pool may hold a million of them waiting; it is itself the `AsyncResource` that
 * carries the adder's async context to where the task starts.
 */
export class Job extends AsyncResource {
  fn: (ctx: TaskContext) => unknown;
  spec: JobSpec;
  /**
   * Settles the job's consumer: called with the result, or with a {@link Rejection}, and the job (a
   * promise's resolve function ignores the second argument; a `map()` batch uses it).
   */
  resolve: ((value: unknown, job: Job) => void) | undefined = undefined;
  state: JobState = 'new';
  /** The latest attempt (`undefined` until the task first starts). */
  ctx: TaskContextImpl | undefined = undefined;
  /** The worker the job holds, if any. */
  worker: Worker | undefined = undefined;
  /** The outcome: the value on success, a {@link Rejection} carrying the error on failure. */
  result: unknown = undefined;
  extra: JobExtra | undefined = undefined;

  constructor(fn: (ctx: TaskContext) => unknown, spec: JobSpec) {
    super('litepool.task');
    this.fn = fn;
    this.spec = spec;
  }

  /** The queue reads the priority from here. */
  get priority(): number {
    return this.spec.priority;
  }

  /** How many attempts have started. */
  get attempts(): number {
    return this.ctx === undefined ? 0 : this.ctx.attempt;
  }

  /** The slow-path state, made on first use. */
  more(): JobExtra {
    if (this.extra === undefined) this.extra = new JobExtra();
    return this.extra;
  }
}

/** A member of a `map()` batch: the batch's shared task function reads its item and index from here. */
export class MemberJob extends Job {
  readonly item: unknown;
  readonly index: number;

  constructor(fn: (ctx: TaskContext) => unknown, spec: JobSpec, item: unknown, index: number) {
    super(fn, spec);
    this.item = item;
    this.index = index;
  }
}

/**
 * One attempt of a job; it is also the `ctx` the task function receives. Its `AbortSignal` is made only
 * when the task reads `ctx.signal`, since most tasks never do.
 */
export class TaskContextImpl implements TaskContext {
  readonly attempt: number;
  readonly job: Job;
  readonly worker: Worker;
  /** The attempt's outcome was taken (it returned, or its timeout passed). */
  settled = false;
  timer: NodeJS.Timeout | undefined = undefined;
  /** Set for an `errReload` attempt: receives the outcome instead of the main path. */
  reload: ((ok: boolean, value: unknown) => void) | undefined;
  private controller: AbortController | undefined = undefined;
  private reason: unknown = undefined;
  /** Called on abort without making an `AbortSignal` (the thread executor's way to end a thread). */
  private hook: ((reason: Error) => void) | undefined = undefined;

  constructor(job: Job, worker: Worker, attempt: number, reload: ((ok: boolean, value: unknown) => void) | undefined) {
    this.job = job;
    this.worker = worker;
    this.attempt = attempt;
    this.reload = reload;
  }

  get workerId(): number {
    return this.worker.id;
  }

  get signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = new AbortController();
      if (this.reason !== undefined) this.controller.abort(this.reason);
    }
    return this.controller.signal;
  }

  /** Aborts this attempt's signal (once); `reason` is always an Error. */
  abort(reason: Error): void {
    if (this.reason !== undefined) return;
    this.reason = reason;
    this.controller?.abort(reason);
    const hook = this.hook;
    this.hook = undefined;
    hook?.(reason);
  }

  /**
   * Registers `hook` to run when the attempt is aborted (at once if it already was), or clears it with
   * `undefined`. Cheaper than a listener on `signal`, which would have to be made first.
   */
  onAbort(hook: ((reason: Error) => void) | undefined): void {
    if (hook !== undefined && this.reason !== undefined) {
      hook(this.reason as Error);
      return;
    }
    this.hook = hook;
  }
}
