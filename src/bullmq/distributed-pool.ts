/**
 * The producer side of a pool whose workers are other processes: the same face as in-process (both
 * vocabularies, callbacks in their order, groups, close), over the same engine; what runs an attempt is a
 * job in BullMQ, and admission is leased from Redis so that it is bounded across all producers.
 * @module
 */
import { EventEmitter } from 'node:events';
import { resolveCloseOptions, type CloseOptions } from '../close-options.js';
import { Engine } from '../engine/engine.js';
import { Hooks } from '../engine/hooks.js';
import { Task, emptySpec, promiseOf, type TaskFn, type TaskSpec } from '../engine/task.js';
import { PoolClosedError } from '../errors.js';
import type { PoolEvents } from '../events.js';
import { mapArray, mapStream, type MapFunction } from '../map.js';
import type { RateWindow } from '../engine/rate-log.js';
import { validateDuration, validateFunction, validateRate } from '../options.js';
import { formatUsage } from '../usage.js';
import { connectionWarnings } from './connection-warnings.js';
import { checkJson } from './json-input.js';
import { STREAM_TTL } from './keys.js';
import { Leases } from './leases.js';
import * as messages from './messages.js';
import { jobOptions, resolveDistributedOptions, resolveRemoteRun, validateHandler, type DistributedPoolOptions, type RemoteRunOptions } from './options.js';
import { ProducerLink } from './producer-link.js';
import { RemoteExecutor } from './remote-executor.js';
import { jobOfThis, RemoteJob, type JobOptions } from './remote-job.js';
import { RemoteTaskGroup, RemoteTaskOptions } from './remote-task-options.js';
import { SharedTaskGroup } from './shared-group.js';
import { readWorkers, type DistributedUsage } from './remote-usage.js';

/** Options of {@link DistributedPool.map}: per-task options, plus `settle` and `waitForRunning` as in-process. */
export interface RemoteMapOptions extends RemoteRunOptions {
  /** Run every item; resolve with a `PromiseSettledResult` per item instead of failing fast. */
  settle?: boolean;
  /** Fail-fast, but reject only once the items already running have finished. */
  waitForRunning?: boolean;
}

/** Options of {@link DistributedPool.mapIterable}: per-task options, plus `ordered`. */
export interface RemoteMapIterableOptions extends RemoteRunOptions {
  /** Yield results in input order (`true`) or as they complete. */
  ordered?: boolean;
}

const RESOLVED: Promise<void> = Promise.resolve();
const MAP_KEYS = new Set(['settle', 'waitForRunning']);
const ITERABLE_KEYS = new Set(['ordered']);
/** How often a producer tells Redis it is alive, ms. */
const HEARTBEAT = 1000;
/** A producer silent for this long is dead: its leases go back as its jobs end, ms. */
const PRODUCER_DEAD_AFTER = 10_000;
/** Heartbeats between two looks for dead producers. */
const RECLAIM_EVERY = 5;

/**
 * A pool whose tasks run on worker processes started with {@link serve}, on any machine that reaches the same
 * Redis. A task is a handler name and JSON input; callbacks run here, where they were written.
 *
 * @example
 * ```ts
 * const dp = new DistributedPool({ pool: 'crawl', connection: 'redis://127.0.0.1:6379', workers: 32, queueSize: 10 });
 * const html = await dp.run<string>('fetchPage', { url }, { timeout: 5_000, retry: 3 });
 * await dp.close();
 * ```
 */
export class DistributedPool extends EventEmitter<PoolEvents> {
  /** The pool's name (its BullMQ queue). */
  readonly pool: string;
  /** Task functions running at once across all worker processes. */
  readonly workers: number;
  /** Waiting room per worker. */
  readonly queueSize: number;
  /** Tasks admitted and not finished, at most, across all producers: `workers × (1 + queueSize)`. */
  readonly capacity: number;
  /** This producer's id, the prefix of its task ids. */
  readonly id: string;
  private readonly engine: Engine;
  private readonly executor: RemoteExecutor;
  private readonly link: ProducerLink;
  private readonly leases: Leases;
  private readonly started: Promise<void>;
  private readonly heartbeat: NodeJS.Timeout;
  private closed: Promise<void> | undefined = undefined;
  private readonly shared = new Map<string, SharedTaskGroup>();
  private beats = 0;
  private readonly hooks: Hooks;

  /** Connects to Redis (in the background; tasks wait for it); throws a `TypeError`/`RangeError` naming a bad option. */
  constructor(options: DistributedPoolOptions) {
    super();
    const o = resolveDistributedOptions(options);
    this.pool = o.pool;
    this.workers = o.workers;
    this.queueSize = o.queueSize;
    this.capacity = o.workers * (1 + o.queueSize);
    this.link = new ProducerLink(o.pool, o.connection, o.prefix, connectionWarnings(`producer of pool ${o.pool}`));
    this.id = this.link.id;
    this.executor = new RemoteExecutor(this.link);
    const engine = new Engine(
      { workers: 0, queueSize: 0, onCallbackError: o.onCallbackError, onBlocked: () => this.leases.want(), name: o.pool, taskIdPrefix: `${this.link.id}-`, ...(o.keys === undefined ? {} : { keys: o.keys }) },
      this.executor,
      this,
    );
    this.engine = engine;
    this.leases = new Leases(this.link, this.capacity, {
      resize: (n) => engine.resize(n),
      get blocked() {
        return engine.adders.size;
      },
      get free() {
        return engine.slots.free;
      },
    });
    this.executor.onStart = () => this.leases.want();
    this.executor.onSettled = () => this.leases.settled();
    this.executor.onRetry = (task, job, err, attempt) => engine.reportRetry(task, job.options.onRetry, err, attempt);
    this.hooks = new Hooks(o.onCallbackError, this);
    this.heartbeat = setInterval(() => this.beat(), HEARTBEAT).unref();
    // After a reconnect Redis may have lost the registration (restarted without persistence): register again
    // before anything else goes down the connection, or workers would drop the outcomes of new jobs.
    this.link.cmd.on('ready', () => void this.beat());
    this.started = this.start(o.rate);
  }

  private async start(rate: RateWindow[] | undefined): Promise<void> {
    try {
      await Promise.all([this.leases.start(), this.link.queue.setGlobalConcurrency(this.workers), this.beat(), rate === undefined ? undefined : this.writeRate(rate)]);
    } catch {
      // Reported as connection warnings; tasks wait for Redis.
    }
  }

  private async beat(): Promise<void> {
    const { cmd, keys, queue } = this.link;
    await cmd.multi().zadd(keys.producers, Date.now(), this.id).pexpire(keys.done(this.id), STREAM_TTL).exec().catch(() => {});
    // Now and then, the leases of producers that died go back, as their jobs end.
    if (this.beats++ % RECLAIM_EVERY === 0) await cmd.lpReclaim(keys.producers, keys.leases, Date.now(), PRODUCER_DEAD_AFTER, queue.toKey(''), keys.room).catch(() => {});
  }

  /**
   * Sets the pool-wide rate in Redis: one `{ limit, interval }`, several, or `[]` for none. Workers hear of it
   * at once and count the starts already made; it stays in Redis for every producer until changed.
   */
  async setRate(rate: RateWindow | readonly RateWindow[]): Promise<void> {
    await this.writeRate(validateRate('setRate(rate)', rate));
  }

  /**
   * Holds every start of the pool, on every worker, for `ms` from now (running tasks go on; a later end
   * than one in force wins). From a handler: `ctx.pool.pauseFor(ms)`.
   */
  async pauseFor(ms: number): Promise<void> {
    const wait = Math.ceil(validateDuration('pauseFor(ms)', ms));
    if (wait > 0) await this.link.cmd.lpHold(this.link.keys.hold, wait, this.link.keys.flow);
  }

  private async writeRate(rate: readonly RateWindow[]): Promise<void> {
    const { cmd, keys } = this.link;
    const write = rate.length === 0 ? cmd.multi().del(keys.rate) : cmd.multi().set(keys.rate, rate.map((w) => `${w.limit}:${w.interval}`).join(','));
    await write.publish(keys.flow, 'rate').exec();
  }

  /** Resolves once the producer is connected and registered (tasks do not need to wait for it). */
  ready(): Promise<void> {
    return this.started;
  }

  /** `open`, `closing` (after `close()`, while admitted tasks finish) or `closed`. */
  get state(): 'open' | 'closing' | 'closed' {
    const state = this.engine.state;
    return state === 'forcing' ? 'closing' : state;
  }

  /** This producer's tasks running on workers (admitted, sent, not finished). */
  get running(): number {
    return this.engine.running;
  }

  /** Callers of `addTask()`/`run()` waiting for room. */
  get blockedAdders(): number {
    return this.engine.adders.size;
  }

  /** A wait group preset to `n`; its tasks' callbacks run on this producer. */
  newTaskGroup(n = 0): RemoteTaskGroup {
    return new RemoteTaskGroup(this.engine, this, n);
  }

  /**
   * The group `id` shared across processes: its count lives in Redis, so any producer of the pool can
   * `add`, `done` and `wait` on it (all asynchronous). Tasks made from it (`group.newTaskOptions()`) run their
   * callbacks and auto-done here, as any task of this producer.
   */
  taskGroup(id: string): SharedTaskGroup {
    if (typeof id !== 'string' || id === '') throw new TypeError(messages.groupId('taskGroup(id)', id));
    let group = this.shared.get(id);
    if (group === undefined) {
      group = new SharedTaskGroup(this.link, this.engine, this, id, (err) => this.hooks.failed(err, 'autoDone'));
      this.shared.set(id, group);
    }
    return group;
  }

  /** Options for a task outside any group: `setTask('handler', input)` and the callbacks. */
  newTaskOptions(): RemoteTaskOptions<unknown, undefined> {
    return new RemoteTaskOptions(this, undefined);
  }

  /**
   * Admits a task set by name (`setTask('handler', input)`). Resolves once it is admitted; while the pool
   * is full (across all producers) it waits for room, FIFO here. With an add timeout it rejects with
   * `AddTimeoutError` and the task is certainly not added. Input that is not JSON is refused here.
   */
  addTask(opt: RemoteTaskOptions<unknown, RemoteTaskGroup | SharedTaskGroup | undefined>): Promise<void> {
    let task: Task;
    try {
      task = this.taskOfOptions('addTask(opt)', opt);
    } catch (err) {
      return Promise.reject(err as Error);
    }
    return this.engine.add(task, RESOLVED);
  }

  /**
   * Admits tasks together: all or none, once that many leases are free at once. Workers start them as they
   * pick them up: across processes there is no start together.
   */
  addTaskGroup(...opts: RemoteTaskOptions<unknown, RemoteTaskGroup | SharedTaskGroup | undefined>[]): Promise<void> {
    let tasks: Task[];
    try {
      tasks = opts.map((opt) => this.taskOfOptions('addTaskGroup(...opts)', opt));
    } catch (err) {
      return Promise.reject(err as Error);
    }
    if (tasks.length === 0) return RESOLVED;
    if (tasks.length > this.capacity) return Promise.reject(new RangeError(messages.gangTooLarge(tasks.length, this.capacity)));
    // The engine admits a gang on slots it has: hold enough leases first.
    return this.leases.reserve(tasks.length).then((held) => {
      if (!held) throw new PoolClosedError(messages.closedBeforeGang);
      return this.engine.addGang(tasks);
    });
  }

  /**
   * Runs handler `handler` with `input` on a worker and resolves with its result (after retries), or rejects
   * with the final error (its name, message, code, cause and remote stack kept). Waits for room when the
   * pool is full.
   */
  run<T = unknown>(handler: string, input?: unknown, options?: RemoteRunOptions): Promise<T> {
    let task: Task;
    try {
      task = this.taskOfRun('run()', handler, input, options);
    } catch (err) {
      return Promise.reject(err as Error);
    }
    const promise = promiseOf<T>(task);
    this.engine.submit(task, 'run()', false);
    return promise;
  }

  /**
   * Runs the task only if the pool has room now: resolves with `undefined` (and nothing runs) when it is
   * full across producers or closed, else as `run()`. One round trip to Redis when this producer holds no
   * free lease.
   */
  async tryRun<T = unknown>(handler: string, input?: unknown, options?: RemoteRunOptions): Promise<T | undefined> {
    const task = this.taskOfRun('tryRun()', handler, input, options);
    if (this.engine.state !== 'open') return undefined;
    if (!this.engine.hasRoom && !(await this.leases.tryOne())) return undefined;
    if (this.engine.state !== 'open' || !this.engine.hasRoom) return undefined;
    const promise = promiseOf<T>(task);
    this.engine.submit(task, 'tryRun()', false);
    return promise;
  }

  /**
   * Runs handler `handler` on every item of `input` (read lazily, never more pulled than the pool can hold)
   * and resolves with the results in input order; fail-fast, or `{ settle: true }`. An item that is not JSON
   * fails as that item's error.
   */
  map<R = unknown>(input: Iterable<unknown> | AsyncIterable<unknown>, handler: string, options: RemoteMapOptions & { settle: true }): Promise<PromiseSettledResult<R>[]>;
  map<R = unknown>(input: Iterable<unknown> | AsyncIterable<unknown>, handler: string, options?: RemoteMapOptions & { settle?: false }): Promise<R[]>;
  map<R = unknown>(input: Iterable<unknown> | AsyncIterable<unknown>, handler: string, options?: RemoteMapOptions): Promise<R[] | PromiseSettledResult<R>[]>;
  map<R = unknown>(input: Iterable<unknown> | AsyncIterable<unknown>, handler: string, options?: RemoteMapOptions): Promise<R[] | PromiseSettledResult<R>[]> {
    let fn: MapFunction<unknown, R>;
    let signal: AbortSignal | undefined;
    try {
      ({ fn, signal } = this.mapper<R>('map()', handler, options, MAP_KEYS));
    } catch (err) {
      return Promise.reject(err as Error);
    }
    return mapArray(this.engine, input, fn, { signal, key: options?.key, onProgress: options?.onProgress, settle: options?.settle, waitForRunning: options?.waitForRunning });
  }

  /** Streams the results of handler `handler` over `input`, in input order or as they complete. */
  mapIterable<R = unknown>(input: Iterable<unknown> | AsyncIterable<unknown>, handler: string, options?: RemoteMapIterableOptions): AsyncIterable<R> {
    const { fn, signal } = this.mapper<R>('mapIterable()', handler, options, ITERABLE_KEYS);
    return mapStream(this.engine, input, fn, { signal, key: options?.key, onProgress: options?.onProgress, ordered: options?.ordered }, this.capacity);
  }

  /** Resolves when this producer has no task admitted or waiting for room. */
  onIdle(): Promise<void> {
    return this.engine.onIdle(RESOLVED);
  }

  /**
   * The pool's figures: a row per worker slot of every worker process (`host:pid:slot`, `gone` for a process
   * that stopped heartbeating); `running`, `waiting` and `backoff` for the whole pool as BullMQ counts them;
   * `blocked` and the task counts as this producer saw them.
   */
  async usage(): Promise<DistributedUsage> {
    const [workers, counts] = await Promise.all([
      readWorkers(this.link.cmd, this.link.keys),
      this.link.queue.getJobCounts('active', 'waiting', 'prioritized', 'delayed'),
    ]);
    const local = this.engine.figures();
    return {
      ...local,
      workers,
      limit: this.workers,
      running: counts.active ?? 0,
      waiting: (counts.waiting ?? 0) + (counts.prioritized ?? 0),
      backoff: counts.delayed ?? 0,
    };
  }

  /** Writes the usage as the in-process table: a row per worker slot across machines, then a balance line. */
  async printUsage(write: (line: string) => void = console.log): Promise<void> {
    validateFunction('printUsage(write)', write);
    for (const line of formatUsage(await this.usage())) write(line);
  }

  /**
   * Stops admitting and resolves when every admitted task has finished. With `force`, waiting tasks fail
   * with `PoolClosedError` and running ones have `ctx.signal` aborted on their workers; tasks still running
   * when the close ends fail with `PoolClosedError` here. With `timeout`, graceful until then. Idempotent.
   * Leases, the outcome stream and the connections the pool made are released.
   */
  close(options?: CloseOptions): Promise<void> {
    let o;
    try {
      o = resolveCloseOptions(options);
    } catch (err) {
      return Promise.reject(err as Error);
    }
    const engineClosed = this.engine.close(o.force, o.timeout);
    this.closed ??= engineClosed.then(async () => {
      clearInterval(this.heartbeat);
      this.executor.abandon(new PoolClosedError(messages.producerClosed));
      await this.started;
      // Unregistered first: from then on workers send no outcome, so the stream deleted next stays deleted.
      await this.link.cmd.zrem(this.link.keys.producers, this.id).catch(() => {});
      await Promise.all([this.leases.close(), this.executor.close()]);
      await this.link.close();
    });
    return this.closed;
  }

  /** Closes the pool gracefully, for `await using dp = new DistributedPool(...)`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private taskOfRun(where: string, handler: unknown, input: unknown, options: RemoteRunOptions | undefined): Task {
    validateHandler(`${where} handler`, handler);
    checkJson(where, input);
    const { job, signal, key, onProgress } = resolveRemoteRun(`${where} options`, options);
    const spec = emptySpec();
    spec.signal = signal;
    spec.key = key;
    spec.onProgress = onProgress;
    spec.thisArg = new RemoteJob(handler as string, input, job);
    spec.shared = true;
    return new Task(jobOfThis as TaskFn, spec);
  }

  private taskOfOptions(where: string, opt: unknown): Task {
    if (!(opt instanceof RemoteTaskOptions)) throw new TypeError(messages.notTaskOptions(where, opt));
    const options = opt as RemoteTaskOptions;
    if (options.owner !== this) throw new TypeError(messages.notThisPool(where));
    const closed = this.engine.closedError(where);
    if (closed !== undefined) throw closed;
    if (options.handler === undefined) throw new TypeError(options.task === undefined ? messages.noTask(where) : messages.notByName(where));
    checkJson(where, options.input);
    const source = options.spec;
    const job: JobOptions = jobOptions(source.timeout, options.remoteRetry, source.priority);
    // The attempt's timeout and retries run on the workers; the engine here sees one attempt per job.
    const spec: TaskSpec = { ...source, timeout: 0, retry: undefined, shared: true, thisArg: new RemoteJob(options.handler, options.input, job) };
    const aborted = this.engine.abortedError(where, spec.signal);
    if (aborted !== undefined) throw aborted;
    return new Task(jobOfThis as TaskFn, spec);
  }

  private mapper<R>(where: string, handler: unknown, options: RemoteRunOptions | undefined, extra: ReadonlySet<string>): { fn: MapFunction<unknown, R>; signal: AbortSignal | undefined } {
    const name = validateHandler(`${where} handler`, handler);
    const { job, signal } = resolveRemoteRun(`${where} options`, options, extra);
    const fn = (item: unknown, index: number): R => {
      checkJson(where, item, `input[${index}]`);
      return new RemoteJob(name, item, job) as unknown as R;
    };
    return { fn, signal };
  }
}
