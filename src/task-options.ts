/**
 * The Go-style fluent builder: `tg.newTaskOptions().setTask(...).setOnError(...).setAutoDone()`.
 * @module
 */
import type { ErrHandle } from './err-handle.js';
import { validateFunction, validateInterface, validatePriority, validateSignal, validateDuration } from './options.js';
import { resolveRetry, type RetryPolicy } from './retry.js';
import { resolveTimeout } from './run-options.js';
import type { TaskContext } from './task-context.js';
import type { TaskGroup } from './task-group.js';
import { emptySpec, type JobSpec } from './internal/job.js';

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
  /** Runs the task; throwing or rejecting is a failure, the value is the result. */
  exec(ctx: TaskContext): T | PromiseLike<T>;
}
/** The Go `TaskOnSuccess` interface. */
export interface TaskOnSuccess<T = unknown> {
  /** Called with the result after a successful attempt. */
  onSuccess(result: T): unknown;
}
/** The Go `TaskOnError` interface. */
export interface TaskOnError<G extends TaskGroup | undefined = TaskGroup | undefined> {
  /** Called with the handle, the group and the final error; it owns the failure path. */
  onError(handle: ErrHandle, group: G, err: Error): unknown;
}
/** The Go `TaskOnComplete` interface. */
export interface TaskOnComplete {
  /** Called once per task, after `onSuccess` or `onError`. */
  onComplete(): unknown;
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
  /**
   * @internal What the pool reads at admission. Jobs reference it rather than copy it; once one does
   * (`shared`), the next setter call copies it first, so a task already added never sees a later change.
   */
  spec: JobSpec;
  /** @internal The pool that made these options. */
  readonly owner: object;

  /** Made by `lp.newTaskOptions()` or `tg.newTaskOptions()`; not meant to be constructed by users. */
  constructor(owner: object, group: G) {
    this.owner = owner;
    this.group = group;
    this.spec = emptySpec();
    this.spec.group = group;
    this.spec.source = this;
  }

  private writable(): JobSpec {
    if (this.spec.shared) this.spec = { ...this.spec, shared: false };
    return this.spec;
  }

  /** Sets the task: a function `(ctx) => result`, or an object with an `exec(ctx)` method. */
  setTask<R>(task: TaskFunction<R> | TaskExec<R>): TaskOptions<R, G> {
    if (typeof task === 'function') {
      this.writable().task = task;
      this.writable().taskThis = undefined;
    } else {
      validateInterface('setTask(task)', task, 'exec');
      this.writable().task = task.exec;
      this.writable().taskThis = task;
    }
    return this as unknown as TaskOptions<R, G>;
  }

  /** Sets the task to `obj.exec(ctx)`, called with `obj` as `this` (the Go interface form). */
  setTaskWithInterface<R>(obj: TaskExec<R>): TaskOptions<R, G> {
    validateInterface('setTaskWithInterface(obj)', obj, 'exec');
    this.writable().task = obj.exec;
    this.writable().taskThis = obj;
    return this as unknown as TaskOptions<R, G>;
  }

  /** Called with the result when an attempt succeeds (not when an `errReload` retry does: see `errReload`). */
  setOnSuccess(fn: OnSuccessCallback<T>): this {
    this.writable().onSuccess = validateFunction('setOnSuccess(fn)', fn) as (value: unknown) => unknown;
    this.writable().onSuccessThis = undefined;
    return this;
  }

  /** `obj.onSuccess(result)`, with `obj` as `this`. */
  setOnSuccessWithInterface(obj: TaskOnSuccess<T>): this {
    validateInterface('setOnSuccessWithInterface(obj)', obj, 'onSuccess');
    this.writable().onSuccess = obj.onSuccess as (value: unknown) => unknown;
    this.writable().onSuccessThis = obj;
    return this;
  }

  /** Called with an {@link ErrHandle}, the group and the final error; it owns the failure path. */
  setOnError(fn: OnErrorCallback<G>): this {
    this.writable().onError = validateFunction('setOnError(fn)', fn) as JobSpec['onError'];
    this.writable().onErrorThis = undefined;
    return this;
  }

  /** `obj.onError(handle, group, err)`, with `obj` as `this`. */
  setOnErrorWithInterface(obj: TaskOnError<G>): this {
    validateInterface('setOnErrorWithInterface(obj)', obj, 'onError');
    this.writable().onError = obj.onError as JobSpec['onError'];
    this.writable().onErrorThis = obj;
    return this;
  }

  /** Called exactly once per admitted task, after `onSuccess` or `onError`, whatever happened. */
  setOnComplete(fn: OnCompleteCallback): this {
    this.writable().onComplete = validateFunction('setOnComplete(fn)', fn);
    this.writable().onCompleteThis = undefined;
    return this;
  }

  /** `obj.onComplete()`, with `obj` as `this`. */
  setOnCompleteWithInterface(obj: TaskOnComplete): this {
    validateInterface('setOnCompleteWithInterface(obj)', obj, 'onComplete');
    this.writable().onComplete = obj.onComplete;
    this.writable().onCompleteThis = obj;
    return this;
  }

  /**
   * Marks the group done once for this task: on success (first try or retry), on the final failure when no
   * `onError` is set, and on an add timeout. Without a group it has no effect.
   */
  setAutoDone(on = true): this {
    if (typeof on !== 'boolean') throw new TypeError(`setAutoDone(on) takes a boolean, received ${typeof on}`);
    this.writable().autoDone = on;
    return this;
  }

  /** How long `addTask()` may wait for room, in ms, before it gives up with `AddTimeoutError`; 0: no limit. */
  setAddTimeout(ms: number): this {
    const v = validateDuration('setAddTimeout(ms)', ms, true);
    this.writable().addTimeout = v === Number.POSITIVE_INFINITY ? 0 : v;
    return this;
  }

  /** Called when the add timeout passes, before `addTask()` rejects. */
  setOnAddTimeout(fn: OnAddTimeoutCallback): this {
    this.writable().onAddTimeout = validateFunction('setOnAddTimeout(fn)', fn);
    return this;
  }

  /** Bounds each attempt, in ms (see `RunOptions.timeout`); 0: no timeout. */
  setTimeout(ms: number): this {
    this.writable().timeout = resolveTimeout('setTimeout(ms)', ms);
    return this;
  }

  /** Cancels the task when `signal` aborts (see `RunOptions.signal`). */
  setSignal(signal: AbortSignal): this {
    this.writable().signal = validateSignal('setSignal(signal)', signal);
    return this;
  }

  /** A declarative retry policy, or a number of retries; `onError` then sees only the final error. */
  setRetry(policy: RetryPolicy | number): this {
    this.writable().retry = resolveRetry('setRetry(policy)', policy);
    return this;
  }

  /** Higher runs first; FIFO among equal priorities. */
  setPriority(priority: number): this {
    this.writable().priority = validatePriority('setPriority(priority)', priority);
    return this;
  }
}
