/**
 * The public face every pool shares: options, validation, events and the public methods of both
 * vocabularies. It composes one {@link Engine} (admission, scheduling, attempts, close) with one executor
 * (what runs an attempt) and translates each call into the engine's records; it holds no scheduling logic.
 * @module
 */
import { EventEmitter } from 'node:events';
import { resolveCloseOptions, type CloseOptions, type ResolvedCloseOptions } from './close-options.js';
import { Engine } from './engine/engine.js';
import type { Executor } from './engine/executor.js';
import { DEFAULT_SPEC, Task, emptySpec, promiseOf, type TaskFn } from './engine/task.js';
import * as messages from './messages.js';
import type { PoolEvents } from './events.js';
import { mapArray, mapStream, type MapFunction, type MapIterableOptions, type MapOptions } from './map.js';
import type { RateWindow } from './engine/rate-log.js';
import { resolvePoolOptions, validateFunction, validateRate, type PoolOptions } from './options.js';
import { resolveRunOptions, type RunOptions } from './run-options.js';
import type { TaskContext } from './task-context.js';
import { TaskGroup } from './task-group.js';
import { TaskOptions } from './task-options.js';
import { formatUsage, type PoolUsage, type RunningTask } from './usage.js';

export type { PoolEvents } from './events.js';
export type { CloseOptions } from './close-options.js';

/** The pool's lifecycle: `open`, `closing` (after `close()`, while admitted tasks finish), `closed`. */
export type PoolState = 'open' | 'closing' | 'closed';

const RESOLVED: Promise<void> = Promise.resolve();

/**
 * What `LitePool` and `ThreadPool` have in common: a bounded pool of workers with a waiting room, both
 * vocabularies (promises and Go-style options and groups), usage figures and close. Made through one of
 * them; they differ in what runs a task and in what `resize()` counts. Events: {@link PoolEvents}.
 */
export class TaskPool extends EventEmitter<PoolEvents> {
  /** @internal */
  protected readonly engine: Engine;
  private readonly executor: Executor;
  private closed: Promise<TaskOptions[]> | undefined = undefined;

  /**
   * @internal Composes the engine with `executor`; throws a `TypeError`/`RangeError` naming any bad option.
   * `adaptive`: `workers` may ask for an adaptive limit.
   */
  constructor(options: PoolOptions | undefined, executor: Executor, adaptive = false) {
    super();
    this.executor = executor;
    this.engine = new Engine(resolvePoolOptions(options, adaptive), executor, this);
  }

  /** How many workers the pool has now (concurrency slots). */
  get workers(): number {
    return this.engine.slots.count;
  }

  /** Waiting room per worker. */
  get queueSize(): number {
    return this.engine.queueSize;
  }

  /** Admitted tasks waiting for a worker (not blocked adders, not tasks in a backoff delay). */
  get size(): number {
    return this.engine.waiting;
  }

  /** Busy workers. */
  get running(): number {
    return this.engine.running;
  }

  /** Callers of `addTask()`/`run()` waiting for room. */
  get blockedAdders(): number {
    return this.engine.adders.size;
  }

  /** `open`, `closing` (after `close()`, while admitted tasks finish) or `closed`. */
  get state(): PoolState {
    const state = this.engine.state;
    return state === 'forcing' ? 'closing' : state;
  }

  /** Whether `pause()` is in effect. */
  get isPaused(): boolean {
    return this.engine.paused;
  }

  /** A wait group preset to `n` (an integer ≥ 0). */
  newTaskGroup(n = 0): TaskGroup {
    return new TaskGroup(this.engine, this, n);
  }

  /** Options for a task outside any group. */
  newTaskOptions(): TaskOptions<unknown, undefined> {
    return new TaskOptions(this, undefined);
  }

  /**
   * Admits a task. Resolves once it is admitted (running or queued); while the pool is full it waits for
   * room, FIFO among waiting callers. Rejects with `PoolClosedError` after `close()`, `TypeError` when no task
   * was set, `AddTimeoutError` when the add timeout passes first, `AbortError` when its signal aborts first.
   */
  addTask(opt: TaskOptions<unknown, TaskGroup | undefined>): Promise<void> {
    const problem = this.checkOptions('addTask(opt)', opt);
    if (problem !== undefined) return Promise.reject(problem);
    return this.engine.add(taskOf(opt), RESOLVED);
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
    return this.engine.addGang(opts.map(taskOf));
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
    let task: Task;
    try {
      task = taskOfRun(fn, options);
    } catch (err) {
      return Promise.reject(err as Error);
    }
    const promise = promiseOf<T>(task);
    this.engine.submit(task, 'run()', false);
    return promise;
  }

  /**
   * Runs `fn` only if the pool has room right now; returns `undefined` (and runs nothing) when it is full
   * or closed, else the promise `run()` would return.
   */
  tryRun<T>(fn: (ctx: TaskContext) => T | PromiseLike<T>, options?: RunOptions): Promise<T> | undefined {
    const key = typeof options?.key === 'string' ? options.key : undefined;
    if (this.engine.state !== 'open' || !this.engine.roomFor(key)) return undefined;
    return this.run(fn, options);
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
    return mapArray(this.engine, input, fn, options);
  }

  /**
   * Streams `fn(item, index, ctx)` over `input` as an async iterable of results, in input order or, with
   * `{ ordered: false }`, as they complete. Reads input only as results are consumed (never more in flight
   * than the pool holds). A failure is thrown where its result would be yielded; leaving the loop early
   * aborts the items still in flight. Bad arguments throw here, at the call (a `TypeError`/`RangeError`
   * naming the one at fault); items run in the async context of this call, wherever the results are read.
   */
  mapIterable<T, R>(input: Iterable<T> | AsyncIterable<T>, fn: MapFunction<T, R>, options?: MapIterableOptions): AsyncIterable<R> {
    return mapStream(this.engine, input, fn, options);
  }

  /** Resolves when no task is admitted, blocked or waiting as a gang (at once if so already). */
  onIdle(): Promise<void> {
    return this.engine.onIdle(RESOLVED);
  }

  /**
   * Stops starting tasks; running ones go on, and admission into the waiting room goes on. No effect once
   * `close()` was called: a graceful close runs what was admitted, so it un-pauses and stays un-paused.
   */
  pause(): void {
    this.engine.pause();
  }

  /** Starts tasks again after `pause()`. */
  resume(): void {
    this.engine.resume();
  }

  /** A snapshot of the pool's figures as plain data. */
  usage(): PoolUsage {
    return this.engine.figures();
  }

  /**
   * Sets the pool-wide rate at run time: one `{ limit, interval }`, several, or `[]` for none. It takes effect
   * at once, and the starts already made count in the new windows.
   */
  setRate(rate: RateWindow | readonly RateWindow[]): void {
    this.engine.setRate(validateRate('setRate(rate)', rate));
  }

  /**
   * Starts no task for `ms` from now; running ones go on and tasks keep being admitted. For an HTTP 429's
   * `Retry-After` (from a task: `ctx.pool.pauseFor(ms)`). A later end than one in force wins.
   */
  pauseFor(ms: number): void {
    this.engine.pauseFor(ms);
  }

  /** Forgets the wait and run times behind `usage().latency` (a fresh window from now). */
  resetLatency(): void {
    this.engine.resetLatency();
  }

  /** What runs now: one entry per task holding a worker (id, key, attempt, start time, worker). */
  tasks(): RunningTask[] {
    return this.engine.tasks();
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
   * longer finish. What runs the tasks (threads) is ended after that.
   */
  close(options?: CloseOptions): Promise<TaskOptions[]> {
    let o: ResolvedCloseOptions;
    try {
      o = resolveCloseOptions(options);
    } catch (err) {
      return Promise.reject(err as Error);
    }
    const engineClosed = this.engine.close(o.force, o.timeout);
    this.closed ??= engineClosed.then(async (never) => {
      await this.executor.close?.();
      return never as TaskOptions[];
    });
    return this.closed;
  }

  /** Closes the pool gracefully, for `await using lp = new LitePool(...)`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private checkOptions(where: string, opt: unknown): Error | undefined {
    if (!(opt instanceof TaskOptions)) return new TypeError(messages.notTaskOptions(where, opt));
    if (opt.owner !== this) return new TypeError(messages.otherPool(where));
    const closed = this.engine.closedError(where);
    if (closed !== undefined) return closed;
    if ((opt as TaskOptions).task === undefined) return new TypeError(messages.noTask(where));
    return this.engine.abortedError(where, (opt as TaskOptions).spec.signal);
  }
}

/** The task of Go-style options: it references their spec, which they copy before their next change. */
function taskOf(opt: TaskOptions<unknown, unknown>): Task {
  const spec = opt.spec;
  spec.shared = true;
  return new Task(opt.task as TaskFn, spec);
}

function taskOfRun(fn: unknown, options: RunOptions | undefined): Task {
  validateFunction('run(fn)', fn);
  if (options === undefined) return new Task(fn as TaskFn, DEFAULT_SPEC);
  const o = resolveRunOptions('run(options)', options);
  const spec = emptySpec();
  spec.timeout = o.timeout;
  spec.signal = o.signal;
  spec.retry = o.retry;
  spec.priority = o.priority;
  spec.key = o.key;
  spec.onProgress = o.onProgress;
  spec.shared = true;
  return new Task(fn as TaskFn, spec);
}
