/**
 * The Go-style fluent builder: `tg.newTaskOptions().setTask(...).setOnError(...).setAutoDone()`.
 * @module
 */
import type { ErrHandle } from './err-handle.js';
import { validateFunction, validateInterface, validatePriority, validateSignal, validateDuration } from './options.js';
import { resolveRetry, type ResolvedRetry, type RetryPolicy } from './retry.js';
import { resolveTimeout } from './run-options.js';
import type { TaskContext } from './task-context.js';
import type { TaskGroup } from './task-group.js';

/** A task as a function: sync or async; throwing or rejecting is a failure; the value is the result. */
export type TaskFunction<T = unknown> = (ctx: TaskContext) => T | PromiseLike<T>;
/** Called with the result after a successful attempt. */
export type OnSuccessCallback<T = unknown> = (result: T) => unknown;
/**
 * Called with the final error; the handler owns the failure path (`handle.errReload`, `group.done()`).
 * `group` is the task's group, or `undefined` for options made by `lp.newTaskOptions()`.
 */
export type OnErrorCallback<G extends TaskGroup | undefined = TaskGroup | undefined> = (handle: ErrHandle, group: G, err: Error) => unknown;
/** Called once per task, after `onSuccess` or `onError` (and its retries), before auto-done. */
export type OnCompleteCallback = () => unknown;
/** Called when the task found no room within its add timeout. */
export type OnAddTimeoutCallback = () => unknown;

/** The Go `TaskExec` interface: an object whose `exec(ctx)` is the task. Called with the object as `this`. */
export interface TaskExec<T = unknown> {
  exec(ctx: TaskContext): T | PromiseLike<T>;
}
/** The Go `TaskOnSuccess` interface. */
export interface TaskOnSuccess<T = unknown> {
  onSuccess(result: T): unknown;
}
/** The Go `TaskOnError` interface. */
export interface TaskOnError<G extends TaskGroup | undefined = TaskGroup | undefined> {
  onError(handle: ErrHandle, group: G, err: Error): unknown;
}
/** The Go `TaskOnComplete` interface. */
export interface TaskOnComplete {
  onComplete(): unknown;
}

/** What a `TaskOptions` holds; read by the pool at admission. @internal */
export interface TaskSpec {
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
}

/**
 * Options of one task, filled by chained setters and passed to `lp.addTask()`. Every setter validates its
 * argument at once and returns the same object. `T` is the task's result type; `G` the group type passed to
 * `onError` (`TaskGroup` when made by `tg.newTaskOptions()`, `undefined` when made by `lp.newTaskOptions()`).
 *
 * @example
 * ```ts
 * const opt = tg.newTaskOptions()
 *   .setTask(async (ctx) => fetchJson(url, { signal: ctx.signal }))
 *   .setOnError((handle, group, err) => { handle.errReload(3, (last) => { if (last) group.done(); }); })
 *   .setAutoDone();
 * await lp.addTask(opt);
 * ```
 */
export class TaskOptions<T = unknown, G extends TaskGroup | undefined = TaskGroup | undefined> {
  /** The group the task belongs to, if any. */
  readonly group: G;
  /** @internal */
  readonly spec: TaskSpec = {
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
  };
  /** @internal The pool that made these options. */
  readonly owner: object;

  /** @internal Made by `lp.newTaskOptions()` or `tg.newTaskOptions()`. */
  constructor(owner: object, group: G) {
    this.owner = owner;
    this.group = group;
  }

  /** Sets the task: a function `(ctx) => result`, or an object with an `exec(ctx)` method. */
  setTask<R>(task: TaskFunction<R> | TaskExec<R>): TaskOptions<R, G> {
    if (typeof task === 'function') {
      this.spec.task = task;
      this.spec.taskThis = undefined;
    } else {
      validateInterface('setTask(task)', task, 'exec');
      this.spec.task = task.exec;
      this.spec.taskThis = task;
    }
    return this as unknown as TaskOptions<R, G>;
  }

  /** Sets the task to `obj.exec(ctx)`, called with `obj` as `this` (the Go interface form). */
  setTaskWithInterface<R>(obj: TaskExec<R>): TaskOptions<R, G> {
    validateInterface('setTaskWithInterface(obj)', obj, 'exec');
    this.spec.task = obj.exec;
    this.spec.taskThis = obj;
    return this as unknown as TaskOptions<R, G>;
  }

  /** Called with the result when an attempt succeeds (not when an `errReload` retry does: see `errReload`). */
  setOnSuccess(fn: OnSuccessCallback<T>): this {
    this.spec.onSuccess = validateFunction('setOnSuccess(fn)', fn) as (value: unknown) => unknown;
    this.spec.onSuccessThis = undefined;
    return this;
  }

  /** `obj.onSuccess(result)`, with `obj` as `this`. */
  setOnSuccessWithInterface(obj: TaskOnSuccess<T>): this {
    validateInterface('setOnSuccessWithInterface(obj)', obj, 'onSuccess');
    this.spec.onSuccess = obj.onSuccess as (value: unknown) => unknown;
    this.spec.onSuccessThis = obj;
    return this;
  }

  /** Called with an {@link ErrHandle}, the group and the final error; it owns the failure path. */
  setOnError(fn: OnErrorCallback<G>): this {
    this.spec.onError = validateFunction('setOnError(fn)', fn) as TaskSpec['onError'];
    this.spec.onErrorThis = undefined;
    return this;
  }

  /** `obj.onError(handle, group, err)`, with `obj` as `this`. */
  setOnErrorWithInterface(obj: TaskOnError<G>): this {
    validateInterface('setOnErrorWithInterface(obj)', obj, 'onError');
    this.spec.onError = obj.onError as TaskSpec['onError'];
    this.spec.onErrorThis = obj;
    return this;
  }

  /** Called exactly once per admitted task, after `onSuccess` or `onError`, whatever happened. */
  setOnComplete(fn: OnCompleteCallback): this {
    this.spec.onComplete = validateFunction('setOnComplete(fn)', fn);
    this.spec.onCompleteThis = undefined;
    return this;
  }

  /** `obj.onComplete()`, with `obj` as `this`. */
  setOnCompleteWithInterface(obj: TaskOnComplete): this {
    validateInterface('setOnCompleteWithInterface(obj)', obj, 'onComplete');
    this.spec.onComplete = obj.onComplete;
    this.spec.onCompleteThis = obj;
    return this;
  }

  /**
   * Marks the group done once for this task: on success (first try or retry), on the final failure when no
   * `onError` is set, and on an add timeout. Without a group it has no effect.
   */
  setAutoDone(on = true): this {
    if (typeof on !== 'boolean') throw new TypeError(`setAutoDone(on) takes a boolean, received ${typeof on}`);
    this.spec.autoDone = on;
    return this;
  }

  /** How long `addTask()` may wait for room, in ms, before it gives up with `AddTimeoutError`; 0: no limit. */
  setAddTimeout(ms: number): this {
    const v = validateDuration('setAddTimeout(ms)', ms, true);
    this.spec.addTimeout = v === Number.POSITIVE_INFINITY ? 0 : v;
    return this;
  }

  /** Called when the add timeout passes, before `addTask()` rejects. */
  setOnAddTimeout(fn: OnAddTimeoutCallback): this {
    this.spec.onAddTimeout = validateFunction('setOnAddTimeout(fn)', fn);
    return this;
  }

  /** Bounds each attempt, in ms (see `RunOptions.timeout`); 0: no timeout. */
  setTimeout(ms: number): this {
    this.spec.timeout = resolveTimeout('setTimeout(ms)', ms);
    return this;
  }

  /** Cancels the task when `signal` aborts (see `RunOptions.signal`). */
  setSignal(signal: AbortSignal): this {
    this.spec.signal = validateSignal('setSignal(signal)', signal);
    return this;
  }

  /** A declarative retry policy, or a number of retries; `onError` then sees only the final error. */
  setRetry(policy: RetryPolicy | number): this {
    this.spec.retry = resolveRetry('setRetry(policy)', policy);
    return this;
  }

  /** Higher runs first; FIFO among equal priorities. */
  setPriority(priority: number): this {
    this.spec.priority = validatePriority('setPriority(priority)', priority);
    return this;
  }
}
