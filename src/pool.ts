/**
 * The pool's public API. Scheduling lives in `internal/scheduler.ts`, execution in `internal/lifecycle.ts`.
 * @module
 */
import { performance } from 'node:perf_hooks';
import { AbortError, PoolClosedError, describe } from './errors.js';
import { DEFAULT_SPEC, Job, emptySpec, type JobSpec } from './internal/job.js';
import { TaskLifecycle } from './internal/lifecycle.js';
import { mapArray, mapStream, type MapFunction, type MapIterableOptions, type MapOptions } from './map.js';
import { validateDuration, validateFunction, validateInteger, type PoolOptions } from './options.js';
import { resolveRunOptions, type RunOptions } from './run-options.js';
import type { TaskContext } from './task-context.js';
import { TaskGroup } from './task-group.js';
import { TaskOptions } from './task-options.js';
import type { PoolState } from './internal/scheduler.js';
import { formatUsage, type PoolUsage } from './usage.js';

export type { PoolState };
export type { PoolEvents } from './events.js';

/** Options of {@link LitePool.close}. */
export interface CloseOptions {
  /** Abort running tasks' signals and fail waiting tasks with `PoolClosedError` instead of waiting for them. */
  force?: boolean;
  /** Graceful for this many ms, then forced. */
  timeout?: number;
}

const RESOLVED: Promise<void> = Promise.resolve();

// One executor for every run() promise instead of a closure per call: it hands out the resolve function.
let captured: (value: unknown) => void = () => {};
const capture = (resolve: (value: never) => void): void => {
  captured = resolve as (value: unknown) => void;
};

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
export class LitePool extends TaskLifecycle {
  /** Creates a pool; throws a `TypeError`/`RangeError` naming any bad option. */
  constructor(options?: PoolOptions) {
    super(options);
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
      const extra = job.more();
      extra.admitResolve = resolve;
      extra.admitReject = reject;
      this.block(job);
    });
  }

  /**
   * Gang admission: starts all the tasks together, each on its own worker, once that many workers are free
   * at once; all or nothing. A waiting gang reserves workers as they free up, ahead of queued tasks. Resolves
   * when they have started. More tasks than workers is a `RangeError`; a signal of one of the tasks that
   * aborts while the gang waits rejects it with an `AbortError` (none of its tasks runs).
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
    const jobs = opts.map((opt) => this.jobFromSpec(opt));
    return new Promise<void>((resolve, reject) => this.enqueueGang(jobs, resolve, reject));
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
    const promise = new Promise<T>(capture);
    job.resolve = captured;
    this.submit(job, 'run()', false);
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
   * aborts the items still in flight. Bad arguments throw here, at the call (a `TypeError`/`RangeError`
   * naming the one at fault); items run in the async context of this call, wherever the results are read.
   */
  mapIterable<T, R>(input: Iterable<T> | AsyncIterable<T>, fn: MapFunction<T, R>, options?: MapIterableOptions): AsyncIterable<R> {
    return mapStream(this, input, fn, options);
  }

  /**
   * @internal Admits a prepared job whose `resolve` is set; a refusal (closed pool, aborted signal) settles
   * the job with a rejection. When the pool is full the job waits for room; with `wait`, the returned promise
   * resolves (never rejects) once it is admitted or refused, else `undefined` is returned.
   */
  submit(job: Job, where: string, wait = true): Promise<void> | undefined {
    if (this.lifecycle !== 'open') {
      this.rejected++;
      this.settleRefused(job, new PoolClosedError(`${where}: the pool is closed`));
      return undefined;
    }
    const signal = job.spec.signal;
    if (signal?.aborted) {
      this.rejected++;
      this.settleRefused(job, new AbortError(signal.reason, `${where}: the signal was already aborted`));
      return undefined;
    }
    if (this.hasRoom()) {
      this.admit(job);
      return undefined;
    }
    if (!wait) {
      this.block(job);
      return undefined;
    }
    return new Promise<void>((resolve) => {
      job.more().admitResolve = resolve;
      this.block(job);
    });
  }

  /** @internal Cancels every job of a `map()` batch, as their signal's abort would. */
  cancelBatch(spec: JobSpec, reason: unknown): void {
    this.cancelSpec(spec, reason);
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
      job.spec.group?.taskFinished();
      job.resolve = undefined;
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

  /**
   * Stops starting tasks; running ones go on, and admission into the waiting room goes on. No effect once
   * `close()` was called: a graceful close runs what was admitted, so it un-pauses and stays un-paused.
   */
  pause(): void {
    if (this.lifecycle === 'open') this.paused = true;
  }

  /** Starts tasks again after `pause()`. */
  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.dispatch();
  }

  /**
   * Changes the number of workers, at once both ways: new workers start on waiting tasks; removed busy
   * workers finish their task first, and no task starts until fewer than `workers` are busy. Each worker
   * keeps its figures. A waiting gang larger than the new size is rejected with a `RangeError`.
   */
  resize(workers: number): void {
    this.setWorkerCount(validateInteger('resize(workers)', workers, 1));
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
    for (let gang = this.gangs.shift(); gang !== undefined; gang = this.gangs.shift()) this.dropGang(gang, closed());
    for (const job of [...this.backoffJobs]) {
      if ((job.spec.retry as NonNullable<JobSpec['retry']>).retries !== Number.POSITIVE_INFINITY) continue;
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
    const spec = opt.spec;
    // The job references the spec; the options copy it before their next change.
    spec.shared = true;
    return new Job(spec.task as (ctx: TaskContext) => unknown, spec);
  }

  private jobFromRun(fn: unknown, options: RunOptions | undefined): Job {
    validateFunction('run(fn)', fn);
    if (options === undefined) return new Job(fn as (ctx: TaskContext) => unknown, DEFAULT_SPEC);
    const o = resolveRunOptions('run(options)', options);
    const spec = emptySpec();
    spec.timeout = o.timeout;
    spec.signal = o.signal;
    spec.retry = o.retry;
    spec.priority = o.priority;
    spec.shared = true;
    return new Job(fn as (ctx: TaskContext) => unknown, spec);
  }

}

/** Go-style constructor: `newPool(workers, queueSize)` is `new LitePool({ workers, queueSize })`. */
export function newPool(workers: number, queueSize: number, options?: Omit<PoolOptions, 'workers' | 'queueSize'>): LitePool {
  return new LitePool({ ...options, workers, queueSize });
}
