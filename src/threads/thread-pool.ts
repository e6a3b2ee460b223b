/**
 * `ThreadPool`: the same pool — groups, callbacks, retries, timeouts, usage, close — with tasks that run on
 * `worker_threads`. It is a `LitePool` whose task functions hand their work to a {@link ThreadExecutor}.
 * @module
 */
import { availableParallelism } from 'node:os';
import { pathToFileURL } from 'node:url';
import type { ResourceLimits, TransferListItem } from 'node:worker_threads';
import { describe } from '../errors.js';
import { validateDuration, validateFunction, validateInteger, validateIntegerOrInfinity, type CallbackErrorInfo } from '../options.js';
import { LitePool, type CloseOptions } from '../pool.js';
import type { RunOptions } from '../run-options.js';
import type { TaskContext } from '../task-context.js';
import { TaskContextImpl } from '../internal/job.js';
import type { TaskOptions } from '../task-options.js';
import { formatTable } from '../usage.js';
import { assertCloneable } from './cloneable.js';
import type { ResolvedScaling, ScalingOptions } from './scaling.js';
import { ThreadExecutor, type Clock, type ThreadUsage } from './thread-executor.js';

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
  /** The clock the scaler reads (tests inject one). */
  clock?: Clock;
}

/** Options of one thread task. */
export interface ThreadTaskOptions {
  /** `ArrayBuffer`s and other transferables to move to the thread instead of copying. A transferred buffer is detached, so do not combine `transfer` with retries. */
  transfer?: readonly TransferListItem[];
}

const OPTION_NAMES = new Set(['minThreads', 'maxThreads', 'tasksPerThread', 'idleTimeout', 'queueSize', 'resourceLimits', 'preload', 'scaling', 'onCallbackError', 'clock']);

function resolveScaling(s: ScalingOptions | undefined): ResolvedScaling {
  const o = s ?? {};
  const fraction = (name: string, v: number | undefined, d: number) => {
    if (v === undefined) return d;
    if (typeof v !== 'number' || !(v >= 0 && v <= 1)) throw new RangeError(`options.scaling.${name} must be a number from 0 to 1, received ${describe(v)}`);
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
  if (typeof module !== 'string' || module.length === 0) throw new TypeError(`module must be a file URL or an absolute path, received ${describe(module)}`);
  if (module.startsWith('file:')) return module;
  if (!module.startsWith('/') && !/^[A-Za-z]:[\\/]/.test(module)) {
    throw new TypeError(`module must be a file URL or an absolute path (use new URL('./file.js', import.meta.url)), received ${describe(module)}`);
  }
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
export class ThreadPool extends LitePool {
  private readonly executor: ThreadExecutor;

  /** Creates a thread pool; threads start on demand. */
  constructor(options: ThreadPoolOptions = {}) {
    if (options === null || typeof options !== 'object') throw new TypeError(`options must be an object, received ${describe(options)}`);
    for (const key of Object.keys(options)) {
      if (!OPTION_NAMES.has(key)) throw new TypeError(`options.${key} is not a ThreadPool option (known: ${[...OPTION_NAMES].join(', ')})`);
    }
    const maxThreads = options.maxThreads === undefined ? availableParallelism() : validateInteger('options.maxThreads', options.maxThreads, 1);
    const minThreads = options.minThreads === undefined ? Math.min(1, maxThreads) : validateInteger('options.minThreads', options.minThreads, 0);
    if (minThreads > maxThreads) throw new RangeError(`options.minThreads (${minThreads}) must be ≤ options.maxThreads (${maxThreads})`);
    const tasksPerThread = options.tasksPerThread === undefined ? 1 : validateInteger('options.tasksPerThread', options.tasksPerThread, 1);
    const idleTimeout = options.idleTimeout === undefined ? 10_000 : validateDuration('options.idleTimeout', options.idleTimeout);
    const preload = options.preload ?? [];
    if (!Array.isArray(preload) || preload.some((p) => typeof p !== 'string')) throw new TypeError(`options.preload must be an array of module specifiers, received ${describe(preload)}`);
    if (options.clock !== undefined) validateFunction('options.clock.now', options.clock.now);
    super({
      workers: maxThreads * tasksPerThread,
      queueSize: options.queueSize === undefined ? Number.POSITIVE_INFINITY : validateIntegerOrInfinity('options.queueSize', options.queueSize, 0),
      ...(options.onCallbackError === undefined ? {} : { onCallbackError: options.onCallbackError }),
    });
    this.executor = new ThreadExecutor({
      minThreads,
      maxThreads,
      tasksPerThread,
      idleTimeout,
      resourceLimits: options.resourceLimits,
      preload,
      scaling: resolveScaling(options.scaling),
      clock: options.clock ?? { now: () => performance.now() },
    });
  }

  /**
   * A task function that runs the function `name` exported by `module` (a file URL or an absolute path) on a
   * thread, with `input`. Use it with `run()`, `map()`'s function, or `setTask()`. The input is checked for
   * structured cloning here, so a bad input fails at once with a `TypeError` naming the part that cannot go.
   */
  task<R = unknown>(module: string | URL, name: string, input?: unknown, options?: ThreadTaskOptions): (ctx: TaskContext) => Promise<R> {
    const url = moduleUrl(module);
    if (typeof name !== 'string' || name.length === 0) throw new TypeError(`name must be the name of an exported function, received ${describe(name)}`);
    assertCloneable(input);
    const transfer = options?.transfer ?? [];
    if (!Array.isArray(transfer)) throw new TypeError(`options.transfer must be an array, received ${describe(transfer)}`);
    const executor = this.executor;
    // The pool's own attempt context takes an abort hook without making an AbortSignal per task.
    return (ctx: TaskContext) => executor.exec(url, name, input, transfer, ctx instanceof TaskContextImpl ? ctx : ctx.signal) as Promise<R>;
  }

  /** `run(task(module, name, input, { transfer }), options)`. */
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
    return this.executor.usage();
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
    return this.executor.size;
  }

  /** @internal One look of the scaler, for tests with an injected clock. */
  scaleNow(): void {
    this.executor.tick();
  }

  /** Closes the pool as `LitePool.close` does, then ends every thread; no thread outlives it. */
  override async close(options?: CloseOptions): Promise<TaskOptions[]> {
    const never = await super.close(options);
    await this.executor.close();
    return never;
  }
}
