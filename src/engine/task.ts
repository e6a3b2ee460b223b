/**
 * The engine's records: a task, its spec, its attempts, and the failure a handler receives. Every task
 * shape of every vocabulary (a `run()` call, a Go-style `TaskOptions`, a `map()` member, a `limit()` call)
 * becomes one `Task` before it enters the engine, and one code path runs them.
 * @module
 */
import { AsyncResource } from 'node:async_hooks';
import type { ResolvedRetry } from '../retry.js';
import type { TaskContext } from '../task-context.js';
import type { PoolControl, Slot } from './slot.js';
import type { AttemptTrace } from './tracing.js';

export type { PoolControl } from './slot.js';

/**
 * Where a task is: `new` (made, not admitted), `blocked` (waiting for room), `queued` (admitted, waiting for
 * a slot), `parked` (admitted, held back by its key's limits), `running` (holding a slot: its latest attempt's), `backoff` (between policy retries, holding no
 * slot), `failing` (ending without a slot: cancelled or closed while it waited), `done` (settled), `dropped`
 * (refused, or discarded by `clearQueue`).
 */
export type TaskState = 'new' | 'blocked' | 'queued' | 'parked' | 'running' | 'backoff' | 'failing' | 'done' | 'dropped';

/** A task function as the engine calls it: the attempt is its context. */
export type TaskFn = (ctx: TaskContext) => unknown;

/**
 * Something that counts tasks from admission to their end and can be waited on (a group). The engine tells
 * it when a task enters and leaves, marks one unit done for a task whose spec asks it, and rejects its waits
 * when the engine closes with work outstanding.
 */
export interface Tracker {
  taskAdmitted(): void;
  taskFinished(): void;
  /** One unit of work done; throws when the count is already zero. */
  done(): void;
  rejectWaits(err: Error): void;
}

/**
 * A task's options and hooks. A vocabulary fills one; tasks keep a reference, not a copy: the owner copies a
 * spec before writing to one that a task already uses (`shared`).
 */
export interface TaskSpec {
  /** `this` of the task function. */
  thisArg: unknown;
  onSuccess: ((value: unknown) => unknown) | undefined;
  onSuccessThis: unknown;
  /** The failure handler: it owns the failure path (it may rerun the task on its slot). */
  onFailure: ((failure: Failure) => unknown) | undefined;
  onComplete: (() => unknown) | undefined;
  onCompleteThis: unknown;
  onAddTimeout: (() => unknown) | undefined;
  /** Receives what the task reports with `ctx.progress(value)`. */
  onProgress: ((value: unknown) => unknown) | undefined;
  /** Mark the tracker done once for this task: on success, or on a final failure no handler owns. */
  markDone: boolean;
  addTimeout: number;
  timeout: number;
  signal: AbortSignal | undefined;
  retry: ResolvedRetry | undefined;
  priority: number;
  /** The key whose per-key limits apply. */
  key: string | undefined;
  tracker: Tracker | undefined;
  /** What a forced close hands back for a task that never started (the vocabulary's options object). */
  source: unknown;
  /** A task references this spec: the owner must copy it before writing. */
  shared: boolean;
  /**
   * The owner (a `map()` batch) cancels its tasks itself: the engine does not add a listener to `signal` per
   * task, which would cost an `addEventListener`/`removeEventListener` pair per item.
   */
  managed: boolean;
}

/** A spec with nothing set. */
export function emptySpec(): TaskSpec {
  return {
    thisArg: undefined,
    onSuccess: undefined,
    onSuccessThis: undefined,
    onFailure: undefined,
    onComplete: undefined,
    onCompleteThis: undefined,
    onAddTimeout: undefined,
    onProgress: undefined,
    markDone: false,
    addTimeout: 0,
    timeout: 0,
    signal: undefined,
    retry: undefined,
    priority: 0,
    key: undefined,
    tracker: undefined,
    source: undefined,
    shared: false,
    managed: false,
  };
}

/** The spec of a task without options. */
export const DEFAULT_SPEC: Readonly<TaskSpec> = Object.freeze({ ...emptySpec(), shared: true });

/**
 * A failure handed to a task's `resolve`: resolving a promise with this thenable rejects it with `error`.
 * It lets a task keep one settle function (a promise's `resolve`) instead of two.
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

// One executor for every task promise instead of a closure per call: it hands out the resolve function.
let captured: (value: unknown) => void = () => {};
const capture = (resolve: (value: never) => void): void => {
  captured = resolve as (value: unknown) => void;
};

/** A promise that settles with `task`'s outcome (its `resolve` becomes the promise's). */
export function promiseOf<T>(task: Task): Promise<T> {
  const promise = new Promise<T>(capture);
  task.resolve = captured;
  return promise;
}

/** State a task needs only on its slower paths (blocked, listening to a signal, retried). */
export class TaskExtra {
  /** Settle an admission promise that had to wait for room (`admitReject` undefined: a waiter that never rejects). */
  admitResolve: (() => void) | undefined = undefined;
  admitReject: ((err: Error) => void) | undefined = undefined;
  /** The add-timeout timer while blocked, or the backoff timer while waiting to be retried. */
  timer: NodeJS.Timeout | undefined = undefined;
  /** The task's signal is watched for it (see `Signals`). */
  watched = false;
  /** The task whose function submitted this one while it was being called (see `Nesting`). */
  parent: Task | undefined = undefined;
  /** This child is counted by its parent as waiting for a slot. */
  waiting = false;
  /** Children of this task waiting for a slot. */
  waitingChildren = 0;
  policyRetries = 0;
  /** With an admission subscriber: when it started to wait for room (0: it is not waiting). */
  blockedAt = 0;
}

/** The key whose limits apply to `task`, if any. */
export function keyOf(task: Task): string | undefined {
  return task.spec.key;
}


/**
 * One task. Kept small because an engine may hold a million of them waiting; it is itself the
 * `AsyncResource` that carries the submitter's async context to where the task starts.
 */
export class Task extends AsyncResource {
  /** Unique per engine, given when the task enters it; the same for every attempt. */
  id = 0;
  fn: TaskFn;
  spec: TaskSpec;
  /**
   * Settles the task's consumer: called with the result, or with a {@link Rejection}, and the task (a
   * promise's resolve function ignores the second argument; a `map()` batch uses it).
   */
  resolve: ((value: unknown, task: Task) => void) | undefined = undefined;
  state: TaskState = 'new';
  /** The latest attempt (`undefined` until the task first starts). */
  attempt: Attempt | undefined = undefined;
  /** The outcome: the value on success, a {@link Rejection} carrying the error on failure. */
  result: unknown = undefined;
  extra: TaskExtra | undefined = undefined;
  /**
   * When the task last joined the queue (admitted, or back from a backoff), in the engine's ticks, while the
   * pool measures waits; 0 for a task that started at once.
   */
  queuedAt = 0;

  constructor(fn: TaskFn, spec: TaskSpec) {
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
    return this.attempt === undefined ? 0 : this.attempt.attempt;
  }

  /** The slow-path state, made on first use. */
  more(): TaskExtra {
    if (this.extra === undefined) this.extra = new TaskExtra();
    return this.extra;
  }
}

/** Receives the outcome of a rerun attempt instead of the main path. */
export type RerunSink = (ok: boolean, value: unknown) => void;

/**
 * One attempt of a task; it is also the `ctx` the task function receives. Its `AbortSignal` is made only
 * when the task reads `ctx.signal`, since most tasks never do. Executors stop work through `onAbort`.
 */
export class Attempt implements TaskContext {
  readonly attempt: number;
  readonly task: Task;
  readonly slot: Slot<Attempt>;
  /** The attempt's outcome was taken (it returned, or its timeout passed). */
  settled = false;
  timer: NodeJS.Timeout | undefined = undefined;
  /** Set for a rerun attempt: receives the outcome instead of the main path. */
  rerun: RerunSink | undefined;
  /** The trace message of an attempt whose promise is pending, while `litepool:task` has subscribers. */
  trace: AttemptTrace | undefined = undefined;
  private controller: AbortController | undefined = undefined;
  private reason: Error | undefined = undefined;
  private hook: ((reason: Error) => void) | undefined = undefined;

  constructor(task: Task, slot: Slot<Attempt>, attempt: number, rerun: RerunSink | undefined) {
    this.task = task;
    this.slot = slot;
    this.attempt = attempt;
    this.rerun = rerun;
  }

  /**
   * When the attempt started (`performance.now()` ms): the time rate windows count. Kept on the slot, whose
   * field is updated in place, where a fractional number on each attempt would cost a heap number each.
   */
  get startedAt(): number {
    return this.slot.startedAt;
  }

  get pool(): PoolControl {
    return this.slot.owner;
  }

  /** Reports progress to the task's `onProgress` (in order, and only until the attempt has settled). */
  progress(value: unknown): void {
    this.slot.owner.progressed(this, value);
  }

  get taskId(): string {
    return this.slot.owner.idOf(this.task);
  }

  get workerId(): number {
    return this.slot.id;
  }

  get signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = new AbortController();
      if (this.reason !== undefined) this.controller.abort(this.reason);
    }
    return this.controller.signal;
  }

  /** Aborts this attempt (once); `reason` is always an Error. */
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
   * `undefined`: how an executor stops work without making an `AbortSignal`.
   */
  onAbort(hook: ((reason: Error) => void) | undefined): void {
    if (hook !== undefined && this.reason !== undefined) {
      hook(this.reason);
      return;
    }
    this.hook = hook;
  }
}

/** What a {@link Failure} asks of the engine. */
export interface RerunHost {
  rerun(failure: Failure, retries: number, after: AfterRerun | undefined): Promise<Error | null>;
  rerunTooLate(): void;
}

/** Called after reruns with the last error (or `null` and the result when a rerun succeeded). */
export type AfterRerun = (err: Error | null, result?: unknown) => unknown;

/** A task's final failure, given to its failure handler: the error, and the means to rerun the task on its slot. */
export class Failure {
  readonly error: Error;
  readonly task: Task;
  /** Set once the handler has returned (and its promise settled): a later rerun is too late. */
  closed = false;
  /** The reruns in progress, started by the first `rerun` call. */
  running: Promise<Error | null> | undefined = undefined;
  private readonly host: RerunHost;

  constructor(host: RerunHost, task: Task, error: Error) {
    this.host = host;
    this.task = task;
    this.error = error;
  }

  /** Reruns the task up to `retries` times (`Infinity`: until it succeeds); a second call returns the first's promise. */
  rerun(retries: number, after: AfterRerun | undefined): Promise<Error | null> {
    if (this.running !== undefined) return this.running;
    if (this.closed) {
      this.host.rerunTooLate();
      return Promise.resolve(this.error);
    }
    this.running = this.host.rerun(this, retries, after);
    return this.running;
  }
}
