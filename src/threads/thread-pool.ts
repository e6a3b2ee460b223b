/**
 * `ThreadPool`: the same pool — groups, callbacks, retries, timeouts, usage, close — with tasks that run on
 * `worker_threads`: the pool's face and engine composed with the thread executor.
 * @module
 */
import { availableParallelism } from 'node:os';
import { pathToFileURL } from 'node:url';
import type { ResourceLimits } from 'node:worker_threads';
import * as messages from '../messages.js';
import { threadMessages } from './errors.js';
import { validateDuration, validateFunction, validateInteger, validateIntegerOrInfinity, validateOptions, type CallbackErrorInfo, type KeyOptions } from '../options.js';
import type { RateWindow } from '../engine/rate-log.js';
import type { RunOptions } from '../run-options.js';
import type { TaskContext } from '../task-context.js';
import { TaskPool } from '../task-pool.js';
import { formatTable } from '../usage.js';
import { assertCloneable } from './cloneable.js';
import type { ResolvedScaling, ScalingOptions } from './scaling.js';
import { THREAD_TASK, ThreadExecutor, type Clock, type ThreadTaskSpec, type ThreadUsage } from './thread-executor.js';
import { transferList, type TransferItem } from './transfer.js';

/** Options of a {@link ThreadPool}. */
export interface ThreadPoolOptions {
  /**
   * Threads kept even when idle (they do not keep the process alive while idle).
   * @default 1
   */
  minThreads?: number;
  /**
   * Threads at most.
   * @default os.availableParallelism()
   */
  maxThreads?: number;
  /**
   * Tasks in flight per thread; more than 1 hides messaging latency for tiny tasks, but a timeout that ends a
   * thread then also ends the other tasks on it (they fail with a retryable `ThreadTerminatedError`).
   * @default 1
   */
  tasksPerThread?: number;
  /**
   * A thread beyond `minThreads` idle this long, in ms, is ended.
   * @default 10000
   */
  idleTimeout?: number;
  /**
   * Waiting room per concurrency slot (`maxThreads × tasksPerThread` slots), as `LitePool`'s `queueSize`.
   * @default Infinity
   */
  queueSize?: number;
  /** Memory limits of each thread; a thread over them fails its tasks with a `ThreadCrashError` and is replaced. */
  resourceLimits?: ResourceLimits;
  /** Modules each thread imports before its first task (loaders, polyfills). tsx is registered by itself when the parent runs under tsx. */
  preload?: string[];
  /** Tuning of the load-based scaler. */
  scaling?: ScalingOptions;
  /** As `LitePool`'s `onCallbackError`. */
  onCallbackError?: (err: Error, info: CallbackErrorInfo) => void;
  /** As `LitePool`'s `rate`: at most `limit` task starts per `interval` ms, sliding. */
  rate?: RateWindow | readonly RateWindow[];
  /** As `LitePool`'s `keys`: per-key limits for tasks with a `key`. */
  keys?: KeyOptions;
  /** As `LitePool`'s `name`: carried by trace messages. */
  name?: string;
  /** As `LitePool`'s `latencyWindow`: the window of `usage().latency` in ms (0: off). */
  latencyWindow?: number;
  /** The clock the scaler reads (tests inject one). */
  clock?: Clock;
}

/**
 * The second argument of a task function on a thread: `(input, ctx)`. Work on a thread is stopped by ending
 * the thread (a timeout, an abort, a forced close), so `signal` never aborts there.
 */
export interface ThreadTaskContext {
  /** The task's id, as `ctx.taskId` in the pool. */
  readonly taskId: string;
  /** Which attempt this is, from 1. */
  readonly attempt: number;
  /** Never aborts on a thread (see above); there for code shared with in-process tasks. */
  readonly signal: AbortSignal;
  /** Reports progress to the task's `onProgress` in the pool (a structured-clonable value), in order. */
  progress(value: unknown): void;
}

/** Options of one thread task. */
export interface ThreadTaskOptions {
  /**
   * What to move to the thread instead of copying: `ArrayBuffer`s, typed arrays and `DataView`s (their whole
   * `buffer` moves, other views of it included), `MessagePort`s and Node's other transferables. A moved
   * buffer is detached here: it is empty, and cannot be sent again. Shared memory is never copied, so views
   * of a `SharedArrayBuffer` are left out.
   *
   * Retries stay correct: when the task may run again — a retry policy with retries (`retry`, `setRetry`)
   * or an `onError` handler, which may `errReload` — its buffers are copied to each attempt instead of moved
   * (the caller's buffers then stay usable). An attempt that finds a listed buffer already detached (the same
   * task function run twice, a buffer another task moved) fails with a `TypeError` saying so, rather than
   * sending an empty buffer.
   */
  transfer?: readonly TransferItem[];
}

const OPTION_NAMES = new Set(['minThreads', 'maxThreads', 'tasksPerThread', 'idleTimeout', 'queueSize', 'resourceLimits', 'preload', 'scaling', 'onCallbackError', 'clock', 'rate', 'keys', 'name', 'latencyWindow']);

function resolveScaling(s: ScalingOptions | undefined): ResolvedScaling {
  const o = s ?? {};
  const fraction = (name: string, v: number | undefined, d: number) => {
    if (v === undefined) return d;
    if (typeof v !== 'number' || !(v >= 0 && v <= 1)) throw new RangeError(threadMessages.fraction(`options.scaling.${name}`, v));
    return v;
  };
  return {
    growAt: fraction('growAt', o.growAt, 0.7),
    shrinkBelow: fraction('shrinkBelow', o.shrinkBelow, 0.3),
    step: fraction('step', o.step, 0.1),
    cooldown: o.cooldown === undefined ? 10_000 : validateDuration('options.scaling.cooldown', o.cooldown),
    interval: o.interval === undefined ? 1_000 : validateInteger('options.scaling.interval', o.interval, 1),
  };
}

function moduleUrl(module: string | URL): string {
  if (module instanceof URL) return module.href;
  if (typeof module !== 'string' || module.length === 0) throw new TypeError(threadMessages.moduleUrl(module, false));
  if (module.startsWith('file:')) return module;
  if (!module.startsWith('/') && !/^[A-Za-z]:[\\/]/.test(module)) throw new TypeError(threadMessages.moduleUrl(module, true));
  return pathToFileURL(module).href;
}

/**
 * A pool whose tasks run on worker threads, for CPU-bound work: tasks name a module and an exported function,
 * with a structured-clonable input. Everything else is `LitePool`'s: `run`, `map`, the Go-style options,
 * groups, callbacks, retries, timeouts (which end the thread running a runaway task), usage and close.
 *
 * @example
 * ```ts
 * const tp = new ThreadPool({ maxThreads: 4 });
 * const digest = await tp.run(tp.task(new URL('./hash.js', import.meta.url), 'sha256', buffer), { timeout: 5000 });
 * await tp.close();
 * ```
 */
export class ThreadPool extends TaskPool {
  private readonly threadExecutor: ThreadExecutor;
  private readonly minThreads: number;
  private readonly tasksPerThread: number;

  /** Creates a thread pool; threads start on demand. */
  constructor(options: ThreadPoolOptions = {}) {
    validateOptions('options', options, OPTION_NAMES, 'a ThreadPool option');
    const maxThreads = options.maxThreads === undefined ? availableParallelism() : validateInteger('options.maxThreads', options.maxThreads, 1);
    const minThreads = options.minThreads === undefined ? Math.min(1, maxThreads) : validateInteger('options.minThreads', options.minThreads, 0);
    if (minThreads > maxThreads) throw new RangeError(threadMessages.atMost('options.minThreads', 'options.maxThreads', minThreads, maxThreads));
    const tasksPerThread = options.tasksPerThread === undefined ? 1 : validateInteger('options.tasksPerThread', options.tasksPerThread, 1);
    const idleTimeout = options.idleTimeout === undefined ? 10_000 : validateDuration('options.idleTimeout', options.idleTimeout);
    const preload = options.preload ?? [];
    if (!Array.isArray(preload) || preload.some((p) => typeof p !== 'string')) throw new TypeError(threadMessages.preload(preload));
    if (options.clock !== undefined) validateFunction('options.clock.now', options.clock.now);
    const executor = new ThreadExecutor({
      minThreads,
      maxThreads,
      tasksPerThread,
      idleTimeout,
      resourceLimits: options.resourceLimits,
      preload,
      scaling: resolveScaling(options.scaling),
      clock: options.clock ?? { now: () => performance.now() },
    });
    super(
      {
        workers: maxThreads * tasksPerThread,
        queueSize: options.queueSize === undefined ? Number.POSITIVE_INFINITY : validateIntegerOrInfinity('options.queueSize', options.queueSize, 0),
        ...(options.onCallbackError === undefined ? {} : { onCallbackError: options.onCallbackError }),
        ...(options.rate === undefined ? {} : { rate: options.rate }),
        ...(options.keys === undefined ? {} : { keys: options.keys }),
        ...(options.name === undefined ? {} : { name: options.name }),
        ...(options.latencyWindow === undefined ? {} : { latencyWindow: options.latencyWindow }),
      },
      executor,
    );
    this.threadExecutor = executor;
    this.minThreads = minThreads;
    this.tasksPerThread = tasksPerThread;
  }

  /**
   * Sets the most threads (`maxThreads`, at least `minThreads`); the pool's workers become `threads ×
   * tasksPerThread`. Idle threads beyond it end now, busy ones once their tasks are done; no task starts
   * until fewer than the new number of workers are busy.
   */
  resize(threads: number): void {
    validateInteger('resize(threads)', threads, 1);
    if (threads < this.minThreads) throw new RangeError(messages.atLeast('resize(threads)', 'options.minThreads', threads, this.minThreads));
    this.engine.resize(threads * this.tasksPerThread);
    this.threadExecutor.resize(threads);
  }

  /**
   * A task function that runs the function `name` exported by `module` (a file URL or an absolute path) on a
   * thread, with `input`. Use it with `run()`, `map()`'s function, or `setTask()`. The input is checked for
   * structured cloning here, so a bad input fails at once with a `TypeError` naming the part that cannot go,
   * and so is `transfer` (an item that cannot be transferred, a buffer already detached).
   */
  task<R = unknown>(module: string | URL, name: string, input?: unknown, options?: ThreadTaskOptions): (ctx: TaskContext) => Promise<R> {
    const url = moduleUrl(module);
    if (typeof name !== 'string' || name.length === 0) throw new TypeError(threadMessages.exportName(name));
    assertCloneable(input);
    const spec: ThreadTaskSpec = { module: url, name, input, transfer: transferList(options?.transfer ?? []) };
    const executor = this.threadExecutor;
    // Run by the pool, the executor reads `spec` and stops the thread through the attempt's abort hook, with
    // no AbortSignal per task; called directly (from inside another task), it listens to `ctx.signal`.
    const fn = (ctx: TaskContext) => executor.exec(spec, ctx.signal, ctx) as Promise<R>;
    return Object.assign(fn, { [THREAD_TASK]: spec });
  }

  /**
   * `run(task(module, name, input, { transfer }), options)`. With `transfer` and a `retry` policy, the buffers
   * are copied to each attempt instead of moved (see {@link ThreadTaskOptions.transfer}).
   */
  runTask<R = unknown>(module: string | URL, name: string, input?: unknown, options?: RunOptions & ThreadTaskOptions): Promise<R> {
    let fn: (ctx: TaskContext) => Promise<R>;
    try {
      fn = this.task<R>(module, name, input, options?.transfer === undefined ? undefined : { transfer: options.transfer });
    } catch (err) {
      return Promise.reject(err as Error);
    }
    if (options === undefined) return this.run(fn);
    const { transfer: _transfer, ...runOptions } = options;
    return this.run(fn, runOptions);
  }

  /** Figures per thread (live threads, then ended ones). */
  threadUsage(): ThreadUsage[] {
    return this.threadExecutor.usage();
  }

  /**
   * Writes the pool's usage table (its concurrency slots), then one row per thread, one `write` call per line.
   */
  override printUsage(write: (line: string) => void = console.log): void {
    super.printUsage(write);
    const rows = this.threadUsage().map((t) => [String(t.threadId), String(t.inFlight), String(t.executed), String(t.failed), String(Math.round(t.busyMs))]);
    for (const line of formatTable(['thread', 'in flight', 'executed', 'failed', 'busy ms'], rows)) write(line);
  }

  /** Threads alive now. */
  get threads(): number {
    return this.threadExecutor.size;
  }

  /** @internal One look of the scaler, for tests with an injected clock. */
  scaleNow(): void {
    this.threadExecutor.tick();
  }

}
