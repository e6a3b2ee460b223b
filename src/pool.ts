/**
 * The pool: admission with backpressure, one dispatch step, task execution, close.
 * @module
 */
import { AsyncResource } from 'node:async_hooks';
import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import { ErrHandle, type ErrReloadAfter, type ReloadHost } from './err-handle.js';
import { AbortError, PoolClosedError, AddTimeoutError, TaskTimeoutError, describe, toError } from './errors.js';
import { Job, TaskContextImpl } from './internal/job.js';
import { PriorityQueue } from './internal/priority-queue.js';
import { RingQueue } from './internal/ring-queue.js';
import { Worker } from './internal/worker.js';
import {
  resolvePoolOptions,
  validateDuration,
  validateFunction,
  validateInteger,
  type CallbackErrorInfo,
  type CallbackName,
  type PoolOptions,
  type ResolvedPoolOptions,
} from './options.js';
import { backoffDelay, retryableByDefault } from './retry.js';
import { resolveRunOptions, type RunOptions } from './run-options.js';
import type { TaskContext } from './task-context.js';
import { TaskGroup, type GroupHost } from './task-group.js';
import { TaskOptions, type TaskSpec } from './task-options.js';
import { formatUsage, type PoolUsage } from './usage.js';
import { mapArray, mapStream, type MapFunction, type MapIterableOptions, type MapOptions } from './map.js';

/** The pool's events and their arguments. */
export interface PoolEvents {
  /** A task started on a worker. */
  active: [];
  /** A task finished successfully, with its result. */
  completed: [result: unknown];
  /** A task finished with a failure. */
  failed: [error: Error];
  /** A policy retry was scheduled after attempt `attempt` failed. */
  retry: [error: Error, attempt: number];
  /** The pool has no admitted, blocked or gang task left. */
  idle: [];
  /** A callback threw or rejected (only emitted when someone listens and no `onCallbackError` is set). */
  error: [error: Error, info: CallbackErrorInfo];
}

/** Options of {@link LitePool.close}. */
export interface CloseOptions {
  /** Abort running tasks' signals and fail waiting tasks with `PoolClosedError` instead of waiting for them. */
  force?: boolean;
  /** Graceful for this many ms, then forced. */
  timeout?: number;
}

/** The pool's lifecycle. */
export type PoolState = 'open' | 'closing' | 'closed';

interface Gang {
  jobs: Job[];
  resolve: () => void;
  reject: (err: Error) => void;
}

const RESOLVED: Promise<void> = Promise.resolve();
/** Workers made up front; a larger pool (as `limit(Infinity)`'s) makes the rest when first needed. */
const EAGER_WORKERS = 1024;
const noop = (): void => {};

function thenOf(value: unknown): ((this: unknown, ok: (v: unknown) => void, fail: (e: unknown) => void) => unknown) | undefined {
  if (value === null || (typeof value !== 'object' && typeof value !== 'function')) return undefined;
  const then = (value as { then?: unknown }).then;
  return typeof then === 'function' ? (then as ReturnType<typeof thenOf>) : undefined;
}

function safeMessage(err: Error): string {
  try {
    return String(err.message);
  } catch {
    return describe(err);
  }
}

function attemptTimedOut(pool: LitePool, ctx: TaskContextImpl): void {
  pool['timeoutAttempt'](ctx);
}

function addTimedOut(pool: LitePool, job: Job): void {
  pool['addTimeoutPassed'](job);
}

function backoffOver(pool: LitePool, job: Job): void {
  pool['requeue'](job);
}

/**
 * A pool of `workers` long-lived workers with a bounded waiting room of `workers × queueSize` tasks. Adding
 * to a full pool waits for room (backpressure). Tasks run in the async context of the code that added them.
 *
 * @example
 * ```ts
 * const lp = new LitePool({ workers: 5, queueSize: 10 });
 * const tg = lp.newTaskGroup(n);
 * for (let i = 0; i < n; i++) await lp.addTask(tg.newTaskOptions().setTask(() => work(i)).setAutoDone());
 * await tg.wait();
 * lp.printUsage();
 * await lp.close();
 * ```
 */
export class LitePool extends EventEmitter<PoolEvents> implements GroupHost, ReloadHost {
  private readonly opts: ResolvedPoolOptions;
  private lifecycle: PoolState = 'open';
  private forced = false;
  private paused = false;
  private dispatching = false;
  /** Work arrived since the pool was last idle (the `idle` event fires on the transition only). */
  private active = false;
  private workerCount: number;
  private readonly workerList: Worker[] = [];
  private readonly idle = new RingQueue<Worker>();
  private busy = 0;
  private readonly queue = new PriorityQueue<Job>();
  private queued = 0;
  private queueTombstones = 0;
  private readonly adders = new RingQueue<Job>();
  private blocked = 0;
  private readonly gangs = new RingQueue<Gang>();
  /** Admitted tasks not yet finished (queued, running, in backoff, or running callbacks). */
  private pending = 0;
  /** Admitted tasks that currently hold a worker. */
  private assigned = 0;
  private readonly backoffJobs = new Set<Job>();
  private idleWaiters: (() => void)[] = [];
  private readonly groups = new Set<TaskGroup>();
  private neverStarted: TaskOptions[] = [];
  private closing: { promise: Promise<TaskOptions[]>; resolve: (v: TaskOptions[]) => void } | undefined = undefined;
  private closeTimer: NodeJS.Timeout | undefined = undefined;
  private completed = 0;
  private failedTasks = 0;
  private retried = 0;
  private rejected = 0;
  private callbackErrors = 0;

  /** Creates a pool; throws a `TypeError`/`RangeError` naming any bad option. */
  constructor(options?: PoolOptions) {
    super();
    this.opts = resolvePoolOptions(options);
    this.workerCount = this.opts.workers;
    while (this.workerList.length < Math.min(this.workerCount, EAGER_WORKERS)) this.idle.push(this.newWorker());
  }

  /** How many workers the pool has now. */
  get workers(): number {
    return this.workerCount;
  }

  /** Waiting room per worker. */
  get queueSize(): number {
    return this.opts.queueSize;
  }

  /** Admitted tasks waiting for a worker (not blocked adders, not tasks in a backoff delay). */
  get size(): number {
    return this.queued;
  }

  /** Busy workers. */
  get running(): number {
    return this.busy;
  }

  /** Callers of `addTask()`/`run()` waiting for room. */
  get blockedAdders(): number {
    return this.blocked;
  }

  /** `open`, `closing` (after `close()`, while admitted tasks finish) or `closed`. */
  get state(): PoolState {
    return this.lifecycle;
  }

  /** Whether `pause()` is in effect. */
  get isPaused(): boolean {
    return this.paused;
  }

  /** A wait group preset to `n` (an integer ≥ 0). */
  newTaskGroup(n = 0): TaskGroup {
    return new TaskGroup(this, n);
  }

  /** Options for a task outside any group. */
  newTaskOptions(): TaskOptions<unknown, undefined> {
    return new TaskOptions(this, undefined);
  }

  /** @internal */
  newTaskOptionsFor(group: TaskGroup): TaskOptions<unknown, TaskGroup> {
    return new TaskOptions(this, group);
  }

  /** @internal */
  trackGroup(group: TaskGroup, waiting: boolean): void {
    if (waiting) this.groups.add(group);
    else this.groups.delete(group);
  }

  /**
   * Admits a task. Resolves once it is admitted (running or queued); while the pool is full it waits for
   * room, FIFO among waiting callers. Rejects with `PoolClosedError` after `close()`, `TypeError` when no task
   * was set, `AddTimeoutError` when the add timeout passes first, `AbortError` when its signal aborts first.
   */
  addTask(opt: TaskOptions<unknown, TaskGroup | undefined>): Promise<void> {
    const problem = this.checkOptions('addTask(opt)', opt);
    if (problem !== undefined) return Promise.reject(problem);
    const job = this.jobFromSpec(opt);
    if (this.hasRoom()) {
      this.admit(job);
      return RESOLVED;
    }
    return new Promise<void>((resolve, reject) => {
      job.admitResolve = resolve;
      job.admitReject = reject;
      this.block(job);
    });
  }

  /**
   * Gang admission: starts all the tasks together, each on its own worker, once that many workers are free
   * at once; all or nothing. A waiting gang reserves workers as they free up, ahead of queued tasks. Resolves
   * when they have started. More tasks than workers is a `RangeError`.
   */
  addTaskGroup(...opts: TaskOptions<unknown, TaskGroup | undefined>[]): Promise<void> {
    for (const opt of opts) {
      const problem = this.checkOptions('addTaskGroup(...opts)', opt);
      if (problem !== undefined) return Promise.reject(problem);
    }
    if (opts.length === 0) return RESOLVED;
    if (opts.length > this.workerCount) {
      return Promise.reject(this.gangTooLarge(opts.length));
    }
    const resource = new AsyncResource('litepool.gang');
    const jobs = opts.map((opt) => {
      const job = this.jobFromSpec(opt);
      job.resource = resource;
      return job;
    });
    this.active = true;
    return new Promise<void>((resolve, reject) => {
      this.gangs.push({ jobs, resolve, reject });
      this.dispatch();
    });
  }

  /**
   * Runs `fn(ctx)` on a worker and resolves with its result (after retries), or rejects with the final error.
   * Waits for room when the pool is full; rejects with `PoolClosedError` after `close()`.
   *
   * @example
   * ```ts
   * const body = await lp.run((ctx) => fetch(url, { signal: ctx.signal }).then((r) => r.text()), { timeout: 5000, retry: 3 });
   * ```
   */
  run<T>(fn: (ctx: TaskContext) => T | PromiseLike<T>, options?: RunOptions): Promise<T> {
    let job: Job;
    try {
      job = this.jobFromRun(fn, options);
    } catch (err) {
      return Promise.reject(err as Error);
    }
    if (this.lifecycle !== 'open') {
      this.rejected++;
      return Promise.reject(new PoolClosedError('run(): the pool is closed'));
    }
    if (job.signal?.aborted) {
      this.rejected++;
      return Promise.reject(new AbortError(job.signal.reason, 'run(): the signal was already aborted'));
    }
    const promise = new Promise<T>((resolve, reject) => {
      job.resolve = resolve as (v: unknown) => void;
      job.reject = reject;
    });
    if (this.hasRoom()) this.admit(job);
    else this.block(job);
    return promise;
  }

  /**
   * Applies `fn(item, index, ctx)` to every item of `input` (an iterable or async iterable, read lazily: never
   * more pulled than the pool can hold) and resolves with the results in input order. Fail-fast: on the first
   * failure it stops reading input, aborts its running items' signals, drops its waiting ones and rejects with
   * that error. With `{ settle: true }` every item runs and it resolves with a `PromiseSettledResult` per item.
   *
   * @example
   * ```ts
   * const pages = await lp.map(urls, (url, _i, ctx) => fetch(url, { signal: ctx.signal }).then((r) => r.text()), { retry: 2 });
   * ```
   */
  map<T, R>(input: Iterable<T> | AsyncIterable<T>, fn: MapFunction<T, R>, options: MapOptions & { settle: true }): Promise<PromiseSettledResult<R>[]>;
  map<T, R>(input: Iterable<T> | AsyncIterable<T>, fn: MapFunction<T, R>, options?: MapOptions & { settle?: false }): Promise<R[]>;
  map<T, R>(input: Iterable<T> | AsyncIterable<T>, fn: MapFunction<T, R>, options?: MapOptions): Promise<R[] | PromiseSettledResult<R>[]>;
  map<T, R>(input: Iterable<T> | AsyncIterable<T>, fn: MapFunction<T, R>, options?: MapOptions): Promise<R[] | PromiseSettledResult<R>[]> {
    return mapArray(this, input, fn, options);
  }

  /**
   * Streams `fn(item, index, ctx)` over `input` as an async iterable of results, in input order or, with
   * `{ ordered: false }`, as they complete. Reads input only as results are consumed (never more in flight
   * than the pool holds). A failure is thrown where its result would be yielded; leaving the loop early
   * aborts the items still in flight.
   */
  mapIterable<T, R>(input: Iterable<T> | AsyncIterable<T>, fn: MapFunction<T, R>, options?: MapIterableOptions): AsyncIterable<R> {
    return mapStream(this, input, fn, options);
  }

  /**
   * @internal Admits a prepared job whose `resolve`/`reject` are set. Returns `undefined` when it was
   * admitted (or refused) at once, else a promise that resolves, never rejects, once it is admitted or
   * refused; a refusal rejects the job's own promise.
   */
  submit(job: Job, where: string): Promise<void> | undefined {
    if (this.lifecycle !== 'open') {
      this.rejected++;
      this.settleRefused(job, new PoolClosedError(`${where}: the pool is closed`));
      return undefined;
    }
    if (job.signal?.aborted) {
      this.rejected++;
      this.settleRefused(job, new AbortError(job.signal.reason, `${where}: the signal was already aborted`));
      return undefined;
    }
    if (this.hasRoom()) {
      this.admit(job);
      return undefined;
    }
    return new Promise<void>((resolve) => {
      job.admitResolve = resolve;
      this.block(job);
    });
  }

  /** @internal Whether `submit()` would admit a job at once. */
  get hasRoomNow(): boolean {
    return this.lifecycle === 'open' && this.hasRoom();
  }

  /**
   * @internal Drops every task waiting for a worker (not running ones, not blocked adders). With `err` each
   * fails with it (callbacks run); without, they are discarded unsettled, as p-limit's `clearQueue()` does.
   */
  clearQueue(err: Error | undefined): void {
    const waiting = this.queue.drain();
    this.queued = 0;
    this.queueTombstones = 0;
    for (const job of waiting) {
      if (job.state !== 'queued') continue;
      if (err !== undefined) {
        job.state = 'running';
        this.finalFailure(job, err);
        continue;
      }
      job.state = 'dropped';
      this.unlisten(job);
      this.pending--;
      job.group?.taskFinished();
      job.resolve = job.reject = undefined;
    }
    this.dispatch();
  }

  /**
   * Runs `fn` only if the pool has room right now; returns `undefined` (and runs nothing) when it is full
   * or closed, else the promise `run()` would return.
   */
  tryRun<T>(fn: (ctx: TaskContext) => T | PromiseLike<T>, options?: RunOptions): Promise<T> | undefined {
    if (this.lifecycle !== 'open' || !this.hasRoom()) return undefined;
    return this.run(fn, options);
  }

  /** Resolves when no task is admitted, blocked or waiting as a gang (at once if so already). */
  onIdle(): Promise<void> {
    if (this.isIdle()) return RESOLVED;
    return new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops starting tasks; running ones go on, and admission into the waiting room goes on. */
  pause(): void {
    this.paused = true;
  }

  /** Starts tasks again after `pause()`. */
  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.dispatch();
  }

  /**
   * Changes the number of workers, at once both ways: new workers start on waiting tasks; removed busy
   * workers finish their task first. Each worker keeps its figures. A waiting gang larger than the new size
   * is rejected with a `RangeError`.
   */
  resize(workers: number): void {
    const n = validateInteger('resize(workers)', workers, 1);
    const old = this.workerCount;
    this.workerCount = n;
    for (let id = old; id < n; id++) {
      const w = this.workerList[id];
      if (w === undefined) {
        if (id >= EAGER_WORKERS) break;
        this.idle.push(this.newWorker());
      } else if (w.retiring) {
        w.retiring = false;
      } else if (w.state === 'retired') {
        w.state = 'idle';
        this.idle.push(w);
      }
    }
    if (n < old) {
      for (let id = n; id < Math.min(old, this.workerList.length); id++) {
        const w = this.workerList[id] as Worker;
        if (w.state === 'idle') w.state = 'retired';
        else w.retiring = true;
      }
      this.idle.filter((w) => w.state === 'idle');
      this.gangs.filter((g) => {
        if (g.jobs.length <= n) return true;
        g.reject(this.gangTooLarge(g.jobs.length));
        return false;
      });
    }
    this.dispatch();
  }

  /** A snapshot of the pool's figures as plain data. */
  usage(): PoolUsage {
    const now = performance.now();
    return {
      workers: this.workerList.map((w) => ({
        id: w.id,
        state: w.state,
        executed: w.executed,
        failed: w.failed,
        busyMs: w.busyMs + (w.state === 'busy' ? now - w.busySince : 0),
      })),
      running: this.busy,
      waiting: this.queued,
      blocked: this.blocked,
      backoff: this.backoffJobs.size,
      completed: this.completed,
      failed: this.failedTasks,
      retried: this.retried,
      rejected: this.rejected,
      callbackErrors: this.callbackErrors,
    };
  }

  /** Writes the usage as an aligned table, one `write` call per line: a row per worker, then a balance line. */
  printUsage(write: (line: string) => void = console.log): void {
    validateFunction('printUsage(write)', write);
    for (const line of formatUsage(this.usage())) write(line);
  }

  /**
   * Stops admitting and resolves when every admitted task has finished. With `force`, aborts running tasks'
   * signals, fails waiting tasks with `PoolClosedError` (their callbacks run) and resolves with the options of
   * the tasks that never started. With `timeout`, graceful until then, forced after. Idempotent. Callers
   * blocked in `addTask()`/`run()` are rejected with `PoolClosedError`; so are waits on groups that can no
   * longer finish.
   */
  close(options?: CloseOptions): Promise<TaskOptions[]> {
    let force = false;
    let timeout: number | undefined;
    if (options !== undefined) {
      if (options === null || typeof options !== 'object') return Promise.reject(new TypeError(`close(options) takes an object, received ${describe(options)}`));
      if (options.force !== undefined && typeof options.force !== 'boolean') {
        return Promise.reject(new TypeError(`close(options).force must be a boolean, received ${describe(options.force)}`));
      }
      force = options.force === true;
      try {
        if (options.timeout !== undefined) timeout = validateDuration('close(options).timeout', options.timeout, true);
      } catch (err) {
        return Promise.reject(err as Error);
      }
    }
    if (this.closing !== undefined) {
      if (force) this.forceClose();
      return this.closing.promise;
    }
    let resolveClose!: (v: TaskOptions[]) => void;
    const promise = new Promise<TaskOptions[]>((resolve) => (resolveClose = resolve));
    this.closing = { promise, resolve: resolveClose };
    this.lifecycle = 'closing';
    this.paused = false;
    const closed = () => new PoolClosedError('the pool was closed before the task was admitted');
    for (let job = this.adders.shift(); job !== undefined; job = this.adders.shift()) {
      if (job.state !== 'blocked') continue;
      this.blocked--;
      this.refuse(job, closed());
    }
    for (let gang = this.gangs.shift(); gang !== undefined; gang = this.gangs.shift()) {
      this.rejected += gang.jobs.length;
      gang.reject(closed());
    }
    for (const job of [...this.backoffJobs]) {
      if ((job.retry as NonNullable<Job['retry']>).retries !== Number.POSITIVE_INFINITY) continue;
      this.leaveBackoff(job);
      this.finalFailure(job, new PoolClosedError('the pool was closed; endless retries stopped'));
    }
    if (force || timeout === 0) this.forceClose();
    else if (timeout !== undefined && timeout !== Number.POSITIVE_INFINITY) {
      this.closeTimer = setTimeout(() => this.forceClose(), timeout);
    }
    this.dispatch();
    return promise;
  }

  /** Closes the pool gracefully, for `await using lp = new LitePool(...)`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private newWorker(): Worker {
    const w = new Worker(this.workerList.length);
    this.workerList.push(w);
    return w;
  }

  /** Free workers, counting those not made yet (beyond the first EAGER_WORKERS, workers are made on demand). */
  private idleCount(): number {
    return this.idle.length + Math.max(0, this.workerCount - this.workerList.length);
  }

  private takeIdle(): Worker {
    return this.idle.shift() ?? this.newWorker();
  }

  private gangTooLarge(n: number): RangeError {
    return new RangeError(`addTaskGroup(...opts): ${n} tasks must start together on ${n} workers, but the pool has ${this.workerCount}`);
  }

  // ---- admission ------------------------------------------------------------------------------------------

  private checkOptions(where: string, opt: unknown): Error | undefined {
    if (!(opt instanceof TaskOptions)) {
      return new TypeError(`${where} takes TaskOptions from lp.newTaskOptions() or group.newTaskOptions(), received ${describe(opt)}`);
    }
    if (opt.owner !== this) return new TypeError(`${where}: these TaskOptions belong to another pool`);
    if (this.lifecycle !== 'open') {
      this.rejected++;
      return new PoolClosedError(`${where}: the pool is closed`);
    }
    const spec = (opt as TaskOptions).spec;
    if (spec.task === undefined) return new TypeError(`${where}: no task was set; call setTask() first`);
    if (spec.signal?.aborted) {
      this.rejected++;
      return new AbortError(spec.signal.reason, `${where}: the signal was already aborted`);
    }
    return undefined;
  }

  private jobFromSpec(opt: TaskOptions<unknown, TaskGroup | undefined>): Job {
    const s: TaskSpec = opt.spec;
    const job = new Job(s.task as (ctx: TaskContext) => unknown);
    job.thisArg = s.taskThis;
    job.source = opt;
    job.group = opt.group;
    job.onSuccess = s.onSuccess;
    job.onSuccessThis = s.onSuccessThis;
    job.onError = s.onError;
    job.onErrorThis = s.onErrorThis;
    job.onComplete = s.onComplete;
    job.onCompleteThis = s.onCompleteThis;
    job.onAddTimeout = s.onAddTimeout;
    job.autoDone = s.autoDone;
    job.addTimeout = s.addTimeout;
    job.timeout = s.timeout;
    job.signal = s.signal;
    job.retry = s.retry;
    job.priority = s.priority;
    return job;
  }

  private jobFromRun(fn: unknown, options: RunOptions | undefined): Job {
    validateFunction('run(fn)', fn);
    const job = new Job(fn as (ctx: TaskContext) => unknown);
    if (options !== undefined) {
      const o = resolveRunOptions('run(options)', options);
      job.timeout = o.timeout;
      job.signal = o.signal;
      job.retry = o.retry;
      job.priority = o.priority;
    }
    return job;
  }

  /** Whether a new task may be admitted now; never ahead of callers already waiting for room. */
  private hasRoom(): boolean {
    if (this.blocked > 0) return false;
    if (this.queued < this.workerCount * this.opts.queueSize) return true;
    return !this.paused && this.queued === 0 && this.gangs.length === 0 && this.idleCount() > 0;
  }

  private admit(job: Job): void {
    this.active = true;
    this.pending++;
    job.group?.taskAdmitted();
    if (job.signal !== undefined && job.abortListener === undefined) this.listen(job);
    if (!this.paused && this.queued === 0 && this.gangs.length === 0 && this.idleCount() > 0) {
      this.start(this.takeIdle(), job);
    } else {
      this.enqueue(job, false);
    }
  }

  private enqueue(job: Job, front: boolean): void {
    // A queued task starts later from another call stack: capture the adder's async context now.
    if (job.resource === undefined) job.resource = new AsyncResource('litepool.task');
    job.state = 'queued';
    if (front) this.queue.unshift(job);
    else this.queue.push(job);
    this.queued++;
  }

  private block(job: Job): void {
    this.active = true;
    job.state = 'blocked';
    this.adders.push(job);
    this.blocked++;
    if (job.addTimeout > 0) job.timer = setTimeout(addTimedOut, job.addTimeout, this, job);
    if (job.signal !== undefined) this.listen(job);
  }

  private listen(job: Job): void {
    const listener = () => this.jobAborted(job);
    job.abortListener = listener;
    (job.signal as AbortSignal).addEventListener('abort', listener, { once: true });
  }

  private unlisten(job: Job): void {
    if (job.abortListener === undefined) return;
    (job.signal as AbortSignal).removeEventListener('abort', job.abortListener);
    job.abortListener = undefined;
  }

  /** Refuses a task that was never admitted: its admission promise (or `run()` promise) rejects. */
  private refuse(job: Job, err: Error): void {
    job.state = 'dropped';
    if (job.timer !== undefined) clearTimeout(job.timer);
    job.timer = undefined;
    this.unlisten(job);
    this.rejected++;
    this.settleRefused(job, err);
  }

  /**
   * Settles the promises of a refused task: `addTask()`'s admission promise rejects; a `run()` promise
   * rejects; a `map()` member's result promise rejects and its admission waiter (which never rejects) wakes.
   */
  private settleRefused(job: Job, err: Error): void {
    const { admitResolve, admitReject, reject } = job;
    job.admitResolve = job.admitReject = job.resolve = job.reject = undefined;
    if (admitReject !== undefined) admitReject(err);
    else admitResolve?.();
    reject?.(err);
  }

  private addTimeoutPassed(job: Job): void {
    if (job.state !== 'blocked') return;
    job.timer = undefined;
    this.blocked--;
    this.compactAdders();
    job.state = 'dropped';
    this.unlisten(job);
    this.rejected++;
    const finish = () => {
      if (job.autoDone && job.group !== undefined) this.groupDone(job.group);
      this.settleRefused(job, new AddTimeoutError(job.addTimeout));
      this.dispatch();
    };
    const pending = job.onAddTimeout === undefined ? undefined : this.callback('onAddTimeout', job.onAddTimeout, undefined);
    if (pending === undefined) finish();
    else void pending.then(finish);
  }

  private compactAdders(): void {
    const dead = this.adders.length - this.blocked;
    if (dead > 64 && dead > this.blocked) this.adders.filter((j) => j.state === 'blocked');
  }

  /**
   * A task's signal aborted. State changes happen at once; failures and dispatch wait for a microtask, so
   * that every task sharing the signal (a `map()` batch) is taken out of the queue before a freed worker
   * could start one of them, and no callback runs inside the caller's `abort()`.
   */
  private jobAborted(job: Job): void {
    job.abortListener = undefined;
    const reason: unknown = (job.signal as AbortSignal).reason;
    const error = (message: string) => (reason instanceof AbortError ? reason : new AbortError(reason, message));
    switch (job.state) {
      case 'blocked':
        this.blocked--;
        this.compactAdders();
        this.refuse(job, error('the task was aborted while waiting for room in the pool'));
        queueMicrotask(() => this.dispatch());
        return;
      case 'queued':
        job.state = 'running';
        this.queued--;
        this.queueTombstones++;
        if (this.queueTombstones > 64 && this.queueTombstones > this.queued) {
          this.queue.filter((j) => j.state === 'queued');
          this.queueTombstones = 0;
        }
        queueMicrotask(() => this.finalFailure(job, error('the task was aborted while waiting for a worker')));
        return;
      case 'backoff':
        this.leaveBackoff(job);
        queueMicrotask(() => this.finalFailure(job, error('the task was aborted while waiting to be retried')));
        return;
      case 'running':
        job.current?.abort(error('the task was aborted while running'));
        return;
      default:
        return;
    }
  }

  // ---- dispatch: the one place where tasks start -----------------------------------------------------------

  private dispatch(): void {
    if (this.dispatching) return;
    this.dispatching = true;
    try {
      const capacity = this.workerCount * this.opts.queueSize;
      for (;;) {
        if (this.paused || this.forced || this.idleCount() === 0) break;
        const gang = this.gangs.peek();
        if (gang !== undefined) {
          // A waiting gang reserves the workers that free up, ahead of queued tasks.
          if (this.idleCount() < gang.jobs.length) break;
          this.gangs.shift();
          this.startGang(gang);
          continue;
        }
        if (this.queued > 0) {
          this.start(this.takeIdle(), this.nextQueued());
          continue;
        }
        if (this.blocked > 0) {
          this.admitNextAdder();
          continue;
        }
        break;
      }
      while (this.blocked > 0 && this.queued < capacity) this.admitNextAdder();
    } finally {
      this.dispatching = false;
    }
    if (this.isIdle()) this.becameIdle();
    else if (this.forced) this.maybeFinishForced();
  }

  private nextQueued(): Job {
    for (;;) {
      const job = this.queue.shift() as Job;
      if (job.state === 'queued') {
        this.queued--;
        return job;
      }
      this.queueTombstones--;
    }
  }

  private admitNextAdder(): void {
    let job = this.adders.shift() as Job;
    while (job.state !== 'blocked') job = this.adders.shift() as Job;
    this.blocked--;
    if (job.timer !== undefined) {
      clearTimeout(job.timer);
      job.timer = undefined;
    }
    const resolve = job.admitResolve;
    job.admitResolve = job.admitReject = undefined;
    job.state = 'new';
    this.admit(job);
    resolve?.();
  }

  private startGang(gang: Gang): void {
    for (const job of gang.jobs) {
      this.pending++;
      job.group?.taskAdmitted();
      if (job.signal !== undefined) this.listen(job);
    }
    for (const job of gang.jobs) {
      if (job.state === 'new') this.start(this.takeIdle(), job);
    }
    gang.resolve();
  }

  private start(worker: Worker, job: Job): void {
    worker.state = 'busy';
    worker.busySince = performance.now();
    worker.job = job;
    this.busy++;
    this.assigned++;
    job.worker = worker;
    job.state = 'running';
    job.started = true;
    this.emit('active');
    if (job.resource !== undefined) job.resource.runInAsyncScope(this.runAttempt, this, job, worker, undefined);
    else this.runAttempt(job, worker, undefined);
  }

  // ---- execution -----------------------------------------------------------------------------------------

  private runAttempt(job: Job, worker: Worker, reload: ((ok: boolean, value: unknown) => void) | undefined): void {
    job.attempts++;
    const ctx = new TaskContextImpl(job, worker, reload);
    job.current = ctx;
    if (job.timeout > 0) ctx.timer = setTimeout(attemptTimedOut, job.timeout, this, ctx);
    let result: unknown;
    let then: ReturnType<typeof thenOf>;
    try {
      result = job.fn.call(job.thisArg, ctx);
      then = thenOf(result);
    } catch (err) {
      this.attemptReturned(ctx, false, err);
      return;
    }
    if (then === undefined) {
      this.attemptReturned(ctx, true, result);
    } else if (result instanceof Promise) {
      result.then(
        (v: unknown) => this.attemptReturned(ctx, true, v),
        (e: unknown) => this.attemptReturned(ctx, false, e),
      );
    } else {
      // A foreign thenable may call back twice or throw: a native promise keeps the first outcome.
      new Promise((resolve, reject) => then.call(result, resolve, reject)).then(
        (v: unknown) => this.attemptReturned(ctx, true, v),
        (e: unknown) => this.attemptReturned(ctx, false, e),
      );
    }
  }

  private attemptReturned(ctx: TaskContextImpl, ok: boolean, value: unknown): void {
    ctx.returned = true;
    if (ctx.settled) {
      // The attempt had timed out; its function has now returned and frees the worker.
      const worker = ctx.worker;
      worker.zombies--;
      if (worker.zombies === 0) {
        const drained = worker.onDrained;
        worker.onDrained = undefined;
        if (drained !== undefined) drained();
        else if (worker.job === undefined) {
          this.releaseWorker(worker);
          this.dispatch();
        }
      }
      return;
    }
    ctx.settled = true;
    if (ctx.timer !== undefined) clearTimeout(ctx.timer);
    this.attemptSettled(ctx, ok, value);
  }

  private timeoutAttempt(ctx: TaskContextImpl): void {
    if (ctx.settled) return;
    ctx.settled = true;
    ctx.timer = undefined;
    ctx.worker.zombies++;
    const err = new TaskTimeoutError(ctx.job.timeout);
    ctx.abort(err);
    this.attemptSettled(ctx, false, err);
  }

  private attemptSettled(ctx: TaskContextImpl, ok: boolean, value: unknown): void {
    const job = ctx.job;
    const worker = ctx.worker;
    worker.executed++;
    if (!ok) worker.failed++;
    if (job.current === ctx) job.current = undefined;
    if (ctx.reload !== undefined) {
      ctx.reload(ok, value);
      return;
    }
    if (ok) {
      this.succeeded(job, value);
      return;
    }
    const err = toError(value);
    if (job.retry !== undefined && this.shouldRetry(job, err)) this.backoff(job, err);
    else this.finalFailure(job, err);
  }

  private shouldRetry(job: Job, err: Error): boolean {
    const policy = job.retry as NonNullable<Job['retry']>;
    if (job.policyRetries >= policy.retries || this.stopReason(job, policy.retries === Number.POSITIVE_INFINITY) !== undefined) {
      return false;
    }
    if (policy.retryIf === undefined) return retryableByDefault(err);
    try {
      return policy.retryIf(err, job.attempts) === true;
    } catch (e) {
      this.callbackFailed(e, 'retryIf');
      return false;
    }
  }

  /** Why retries of `job` must stop now, if they must: its signal aborted, or the pool closed. */
  private stopReason(job: Job, endless: boolean): Error | undefined {
    if (job.signal?.aborted) return new AbortError(job.signal.reason, 'the task was aborted; retries stopped');
    if (this.forced) return new PoolClosedError('the pool was closed with force; retries stopped');
    if (endless && this.lifecycle !== 'open') return new PoolClosedError('the pool was closed; endless retries stopped');
    return undefined;
  }

  private backoff(job: Job, err: Error): void {
    const policy = job.retry as NonNullable<Job['retry']>;
    job.policyRetries++;
    this.retried++;
    if (policy.onRetry !== undefined) this.callback('onRetry', policy.onRetry, undefined, err, job.attempts);
    this.emit('retry', err, job.attempts);
    this.leaveWorker(job);
    job.state = 'backoff';
    this.backoffJobs.add(job);
    job.timer = setTimeout(backoffOver, backoffDelay(policy, job.policyRetries), this, job);
    this.dispatch();
  }

  private requeue(job: Job): void {
    job.timer = undefined;
    this.backoffJobs.delete(job);
    // Admitted already, so it needs no room; it goes ahead of the tasks of its priority that came later.
    this.enqueue(job, true);
    this.dispatch();
  }

  private leaveBackoff(job: Job): void {
    if (job.timer !== undefined) clearTimeout(job.timer);
    job.timer = undefined;
    this.backoffJobs.delete(job);
    job.state = 'running';
  }

  private succeeded(job: Job, value: unknown): void {
    job.ok = true;
    job.value = value;
    const pending = job.onSuccess === undefined ? undefined : this.callback('onSuccess', job.onSuccess, job.onSuccessThis, value);
    if (pending === undefined) this.completeJob(job);
    else void pending.then(() => this.completeJob(job));
  }

  private finalFailure(job: Job, err: Error): void {
    job.ok = false;
    job.error = err;
    if (job.onError === undefined) {
      this.completeJob(job);
      return;
    }
    const handle = new ErrHandle(this, job, err);
    job.handle = handle;
    const pending = this.callback('onError', job.onError, job.onErrorThis, handle, job.group, err);
    if (pending === undefined) this.afterHandler(job, handle);
    else void pending.then(() => this.afterHandler(job, handle));
  }

  private afterHandler(job: Job, handle: ErrHandle): void {
    handle.closed = true;
    if (handle.running === undefined) this.completeJob(job);
    else void handle.running.then(() => this.completeJob(job));
  }

  /** @internal `handle.errReload()`: retries on the same worker, then `after(lastErr)`. */
  async reload(handle: ErrHandle, retries: number, after: ErrReloadAfter | undefined): Promise<Error | null> {
    const job = handle.job as Job;
    let last: Error | null = handle.error;
    for (let i = 0; i < retries; i++) {
      // Yield to the event loop between attempts so that endless retries cannot starve it.
      await new Promise<void>((resolve) => setImmediate(resolve));
      const worker = job.worker;
      let stop = this.stopReason(job, retries === Number.POSITIVE_INFINITY);
      if (stop === undefined && worker === undefined) break;
      if (stop === undefined && (worker as Worker).zombies > 0) {
        // Never more than one task function per worker: wait for the timed-out one to return.
        await new Promise<void>((resolve) => ((worker as Worker).onDrained = resolve));
        stop = this.stopReason(job, retries === Number.POSITIVE_INFINITY);
      }
      if (stop !== undefined) {
        last = stop;
        break;
      }
      this.retried++;
      const [ok, value] = await new Promise<[boolean, unknown]>((resolve) =>
        this.runAttempt(job, worker as Worker, (o, v) => resolve([o, v])),
      );
      if (ok) {
        job.ok = true;
        job.value = value;
        job.error = undefined;
        last = null;
        break;
      }
      last = toError(value);
    }
    if (last !== null) job.error = last;
    if (after !== undefined) await this.callback('errReload.after', after, undefined, last);
    return last;
  }

  /** @internal `errReload()` called after `onError` had returned: nothing can run any more. */
  lateReload(_handle: ErrHandle): void {
    this.callbackFailed(
      new Error('errReload() was called after onError had returned (and its promise settled); call it inside onError, or await it there'),
      'onError',
    );
  }

  private completeJob(job: Job): void {
    const pending = job.onComplete === undefined ? undefined : this.callback('onComplete', job.onComplete, job.onCompleteThis);
    if (pending === undefined) this.finish(job);
    else void pending.then(() => this.finish(job));
  }

  private finish(job: Job): void {
    job.state = 'done';
    // Auto-done: on success; on the final failure only when no onError owns that path.
    if (job.autoDone && job.group !== undefined && (job.ok || job.onError === undefined)) this.groupDone(job.group);
    if (job.abortListener !== undefined) this.unlisten(job);
    if (job.worker !== undefined) this.leaveWorker(job);
    this.pending--;
    if (job.ok) {
      this.completed++;
      this.emit('completed', job.value);
      job.resolve?.(job.value);
    } else {
      this.failedTasks++;
      this.emit('failed', job.error as Error);
      job.reject?.(job.error as Error);
    }
    job.group?.taskFinished();
    job.resolve = job.reject = undefined;
    job.value = undefined;
    this.dispatch();
  }

  private leaveWorker(job: Job): void {
    const worker = job.worker as Worker;
    job.worker = undefined;
    worker.job = undefined;
    this.assigned--;
    if (worker.zombies === 0) this.releaseWorker(worker);
  }

  private releaseWorker(worker: Worker): void {
    worker.busyMs += performance.now() - worker.busySince;
    this.busy--;
    if (worker.retiring) {
      worker.retiring = false;
      worker.state = 'retired';
    } else {
      worker.state = 'idle';
      this.idle.push(worker);
    }
  }

  private groupDone(group: TaskGroup): void {
    try {
      group.done();
    } catch (err) {
      this.callbackFailed(err, 'autoDone');
    }
  }

  // ---- callbacks and their failures -------------------------------------------------------------------------

  /**
   * Calls a user callback. Returns `undefined` when it returned synchronously, else a promise that settles
   * when its result does and never rejects. Whatever it throws goes to `callbackFailed`.
   */
  private callback(name: CallbackName, fn: (...args: never[]) => unknown, thisArg: unknown, ...args: unknown[]): Promise<void> | undefined {
    let result: unknown;
    let then: ReturnType<typeof thenOf>;
    try {
      result = (fn as (...a: unknown[]) => unknown).apply(thisArg, args);
      then = thenOf(result);
    } catch (err) {
      this.callbackFailed(err, name);
      return undefined;
    }
    if (then === undefined) return undefined;
    return new Promise((resolve, reject) => then.call(result, resolve, reject)).then(noop, (err: unknown) => this.callbackFailed(err, name));
  }

  private callbackFailed(value: unknown, name: CallbackName): void {
    this.callbackErrors++;
    const err = toError(value);
    const info: CallbackErrorInfo = { callback: name };
    try {
      if (this.opts.onCallbackError !== undefined) this.opts.onCallbackError(err, info);
      else if (this.listenerCount('error') > 0) this.emit('error', err, info);
      else warn(`a ${name} callback failed: ${safeMessage(err)}`, err);
    } catch (reportErr) {
      warn(`reporting a failed ${name} callback failed too: ${safeMessage(toError(reportErr))}`, toError(reportErr));
    }
  }

  // ---- idle and close --------------------------------------------------------------------------------------

  private isIdle(): boolean {
    return this.pending === 0 && this.blocked === 0 && this.gangs.length === 0;
  }

  private becameIdle(): void {
    const wasActive = this.active;
    this.active = false;
    if (this.idleWaiters.length > 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
    if (this.lifecycle === 'closing') this.finishClose();
    if (wasActive) this.emit('idle');
  }

  private forceClose(): void {
    if (this.lifecycle === 'closed' || this.forced) return;
    this.forced = true;
    if (this.closeTimer !== undefined) clearTimeout(this.closeTimer);
    this.closeTimer = undefined;
    const reason = () => new PoolClosedError('the pool was closed with force');
    for (const w of this.workerList) w.job?.current?.abort(reason());
    const waiting = this.queue.drain();
    this.queued = 0;
    this.queueTombstones = 0;
    for (const job of waiting) {
      if (job.state !== 'queued') continue;
      job.state = 'running';
      if (!job.started && job.source !== undefined) this.neverStarted.push(job.source as TaskOptions);
      this.finalFailure(job, new PoolClosedError('the pool was closed with force before the task started'));
    }
    for (const job of [...this.backoffJobs]) {
      this.leaveBackoff(job);
      this.finalFailure(job, new PoolClosedError('the pool was closed with force while the task waited to be retried'));
    }
    this.maybeFinishForced();
  }

  private maybeFinishForced(): void {
    // Forced: running functions are not waited for (they may ignore their signal); the rest must settle.
    if (this.forced && this.lifecycle === 'closing' && this.pending === this.assigned) this.finishClose();
  }

  private finishClose(): void {
    if (this.lifecycle !== 'closing' || this.closing === undefined) return;
    this.lifecycle = 'closed';
    if (this.closeTimer !== undefined) clearTimeout(this.closeTimer);
    this.closeTimer = undefined;
    for (const group of [...this.groups]) group.rejectWaits(new PoolClosedError('the pool closed while the group still had work outstanding'));
    const never = this.neverStarted;
    this.neverStarted = [];
    this.closing.resolve(never);
  }
}

function warn(message: string, err: Error): void {
  let detail: string | undefined;
  try {
    detail = err.stack;
  } catch {
    detail = undefined;
  }
  process.emitWarning(`litepool: ${message}`, { type: 'LitePoolWarning', code: 'LITEPOOL_CALLBACK_ERROR', detail });
}

/** Go-style constructor: `newPool(workers, queueSize)` is `new LitePool({ workers, queueSize })`. */
export function newPool(workers: number, queueSize: number, options?: Omit<PoolOptions, 'workers' | 'queueSize'>): LitePool {
  return new LitePool({ ...options, workers, queueSize });
}
