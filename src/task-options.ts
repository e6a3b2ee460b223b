/**
 * The Go-style fluent builder: `tg.newTaskOptions().setTask(...).setOnError(...).setAutoDone()`.
 * @module
 */
import { emptySpec, type Failure, type TaskFn, type TaskSpec, type Tracker } from './engine/task.js';
import { ErrHandle } from './err-handle.js';
import { validateBoolean, validateFunction, validateInterface, validateKey, validateLimit, validatePriority, validateSignal } from './options.js';
import { resolveRetry, type RetryPolicy } from './retry.js';
import type { TaskContext } from './task-context.js';

/** A task as a function: sync or async; throwing or rejecting is a failure; the value is the result. */
export type TaskFunction<T = unknown> = (ctx: TaskContext) => T | PromiseLike<T>;
/** Called with the result after a successful attempt. */
export type OnSuccessCallback<T = unknown> = (result: T) => unknown;
/**
 * Called with the final error; the handler owns the failure path (`handle.errReload`, `group.done()`).
 * `group` is the task's group, or `undefined` for options made by `lp.newTaskOptions()`.
 */
export type OnErrorCallback<G = unknown> = (handle: ErrHandle, group: G, err: Error) => unknown;
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
export interface TaskOnError<G = unknown> {
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
export class TaskOptions<T = unknown, G = unknown> {
  /** The group the task belongs to (a `TaskGroup`), or `undefined`. */
  readonly group: G;
  /**
   * @internal What the engine reads at admission. Tasks reference it rather than copy it; once one does
   * (`shared`), the next setter call copies it first, so a task already added never sees a later change.
   */
  spec: TaskSpec;
  /** @internal The task function, read when the options are added. */
  task: TaskFn | undefined = undefined;
  /** @internal The pool that made these options. */
  readonly owner: object;

  /** Made by `lp.newTaskOptions()` or `tg.newTaskOptions()`; not meant to be constructed by users. */
  constructor(owner: object, group: G) {
    this.owner = owner;
    this.group = group;
    this.spec = emptySpec();
    this.spec.tracker = group as Tracker | undefined;
    this.spec.source = this;
  }

  private writable(): TaskSpec {
    if (this.spec.shared) this.spec = { ...this.spec, shared: false };
    return this.spec;
  }

  /** Writes one field of the spec (a copy, if tasks share it) and returns these options. */
  private set<K extends keyof TaskSpec>(key: K, value: TaskSpec[K]): this {
    this.writable()[key] = value;
    return this;
  }

  /** Sets the task: a function `(ctx) => result`, or an object with an `exec(ctx)` method. */
  setTask<R>(task: TaskFunction<R> | TaskExec<R>): TaskOptions<R, G> {
    if (typeof task !== 'function') return this.exec('setTask(task)', task);
    this.task = task as TaskFn;
    this.writable().thisArg = undefined;
    return this as unknown as TaskOptions<R, G>;
  }

  /** Sets the task to `obj.exec(ctx)`, called with `obj` as `this` (the Go interface form). */
  setTaskWithInterface<R>(obj: TaskExec<R>): TaskOptions<R, G> {
    return this.exec('setTaskWithInterface(obj)', obj);
  }

  private exec<R>(where: string, obj: TaskExec<R>): TaskOptions<R, G> {
    validateInterface(where, obj, 'exec');
    this.task = obj.exec as TaskFn;
    this.writable().thisArg = obj;
    return this as unknown as TaskOptions<R, G>;
  }

  /** Called with the result when an attempt succeeds (not when an `errReload` retry does: see `errReload`). */
  setOnSuccess(fn: OnSuccessCallback<T>): this {
    this.writable().onSuccess = validateFunction('setOnSuccess(fn)', fn) as (value: unknown) => unknown;
    return this.set('onSuccessThis', undefined);
  }

  /** `obj.onSuccess(result)`, with `obj` as `this`. */
  setOnSuccessWithInterface(obj: TaskOnSuccess<T>): this {
    validateInterface('setOnSuccessWithInterface(obj)', obj, 'onSuccess');
    this.writable().onSuccess = obj.onSuccess as (value: unknown) => unknown;
    return this.set('onSuccessThis', obj);
  }

  /** Called with an {@link ErrHandle}, the group and the final error; it owns the failure path. */
  setOnError(fn: OnErrorCallback<G>): this {
    return this.onError(validateFunction('setOnError(fn)', fn), undefined);
  }

  /** `obj.onError(handle, group, err)`, with `obj` as `this`. */
  setOnErrorWithInterface(obj: TaskOnError<G>): this {
    validateInterface('setOnErrorWithInterface(obj)', obj, 'onError');
    return this.onError(obj.onError, obj);
  }

  /** The engine's failure handler, in Go's shape: `(handle, group, err)`. */
  private onError(fn: OnErrorCallback<G>, thisArg: unknown): this {
    const group = this.group;
    return this.set('onFailure', (failure: Failure) => fn.call(thisArg, new ErrHandle(failure), group, failure.error));
  }

  /** Called exactly once per admitted task, after `onSuccess` or `onError`, whatever happened. */
  setOnComplete(fn: OnCompleteCallback): this {
    this.writable().onComplete = validateFunction('setOnComplete(fn)', fn);
    return this.set('onCompleteThis', undefined);
  }

  /** `obj.onComplete()`, with `obj` as `this`. */
  setOnCompleteWithInterface(obj: TaskOnComplete): this {
    validateInterface('setOnCompleteWithInterface(obj)', obj, 'onComplete');
    this.writable().onComplete = obj.onComplete;
    return this.set('onCompleteThis', obj);
  }

  /**
   * Marks the group done once for this task: on success (first try or retry), on the final failure when no
   * `onError` is set, and on an add timeout. Without a group it has no effect.
   */
  setAutoDone(on = true): this {
    return this.set('markDone', validateBoolean('setAutoDone(on)', on));
  }

  /** How long `addTask()` may wait for room, in ms, before it gives up with `AddTimeoutError`; 0: no limit. */
  setAddTimeout(ms: number): this {
    return this.set('addTimeout', validateLimit('setAddTimeout(ms)', ms));
  }

  /** Called when the add timeout passes, before `addTask()` rejects. */
  setOnAddTimeout(fn: OnAddTimeoutCallback): this {
    return this.set('onAddTimeout', validateFunction('setOnAddTimeout(fn)', fn));
  }

  /** Bounds each attempt, in ms (see `RunOptions.timeout`); 0: no timeout. */
  setTimeout(ms: number): this {
    return this.set('timeout', validateLimit('setTimeout(ms)', ms));
  }

  /** Cancels the task when `signal` aborts (see `RunOptions.signal`). */
  setSignal(signal: AbortSignal): this {
    return this.set('signal', validateSignal('setSignal(signal)', signal));
  }

  /** A declarative retry policy, or a number of retries; `onError` then sees only the final error. */
  setRetry(policy: RetryPolicy | number): this {
    return this.set('retry', resolveRetry('setRetry(policy)', policy));
  }

  /** Higher runs first; FIFO among equal priorities. */
  setPriority(priority: number): this {
    return this.set('priority', validatePriority('setPriority(priority)', priority));
  }

  /** Receives what the task reports with `ctx.progress(value)`, in order, before it settles. */
  setOnProgress(fn: (value: unknown) => void): this {
    return this.set('onProgress', validateFunction('setOnProgress(fn)', fn));
  }

  /** The task's key: the pool's per-key limits (`keys` option) apply to it (see `RunOptions.key`). */
  setKey(key: string): this {
    return this.set('key', validateKey('setKey(key)', key));
  }
}
