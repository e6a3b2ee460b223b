/**
 * What runs thread tasks: a set of `worker_threads`, the least-loaded one first, each with a bounded number
 * of tasks in flight; crash isolation (a thread that fails takes only its own tasks with it and is replaced
 * on demand); stopping work by ending a thread; and load-based scaling.
 * @module
 */
import { Worker, type ResourceLimits, type TransferListItem } from 'node:worker_threads';
import type { Executor } from '../engine/executor.js';
import { Attempt, type Task } from '../engine/task.js';
import { AbortError } from '../errors.js';
import type { TaskContext } from '../task-context.js';
import { ThreadCrashError, ThreadTerminatedError, threadMessages } from './errors.js';
import { RUNNER_SOURCE } from './runner-source.js';
import { scaleDecision, type ResolvedScaling } from './scaling.js';
import { detachedAt, withoutBuffers, type TransferList } from './transfer.js';

/** One thread's figures. */
export interface ThreadUsage {
  /** The thread's `threadId`. */
  readonly threadId: number;
  /** Tasks in flight on it now. */
  readonly inFlight: number;
  /** Tasks it ran to an outcome. */
  readonly executed: number;
  /** Tasks that failed on it (thrown, rejected, or lost with the thread). */
  readonly failed: number;
  /** Time it had at least one task in flight, in ms. */
  readonly busyMs: number;
}

/** A clock the scaler and figures read; tests inject their own. */
export interface Clock {
  /** The time in milliseconds, from any fixed origin. */
  now(): number;
}

/** What the executor needs. @internal */
export interface ExecutorOptions {
  minThreads: number;
  maxThreads: number;
  tasksPerThread: number;
  idleTimeout: number;
  resourceLimits: ResourceLimits | undefined;
  preload: readonly string[];
  scaling: ResolvedScaling;
  clock: Clock;
}

/** How a task learns that it must stop: the engine's attempt, or a plain signal. */
type StopSource = Attempt | AbortSignal;

/** What a thread task is: a module, an exported function's name, its input and what to transfer. */
export interface ThreadTaskSpec {
  readonly module: string;
  readonly name: string;
  readonly input: unknown;
  readonly transfer: TransferList;
}

/**
 * Whether the task of `ctx` may run again after this attempt: a retry policy with retries, or a failure
 * handler (which may `errReload`). Such an attempt must not move its buffers, or the next one would find
 * them detached (issue #14).
 */
function mayRunAgain(ctx: TaskContext | undefined): boolean {
  if (!(ctx instanceof Attempt)) return false;
  const spec = ctx.task.spec;
  return (spec.retry !== undefined && spec.retry.retries > 0) || spec.onFailure !== undefined;
}

/** Where a thread task function made by `tp.task()` carries its spec, for the executor to read. */
export const THREAD_TASK: unique symbol = Symbol('litepool.threadTask');

/** A task function that also says which thread task it is. */
export type ThreadTaskFunction<R> = ((ctx: { readonly signal: AbortSignal }) => Promise<R>) & { readonly [THREAD_TASK]: ThreadTaskSpec };

interface Pending {
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
  stop: StopSource;
  onAbort: ((reason?: unknown) => void) | undefined;
  /** The attempt's context, which hears the task's progress reports. */
  ctx: TaskContext | undefined;
}

interface Reply {
  id: number;
  /** A progress report (`ctx.progress(value)` on the thread), not the outcome. */
  progress?: boolean;
  ok: boolean;
  value?: unknown;
  error?: unknown;
  name?: string;
}

class Thread {
  readonly worker: Worker;
  readonly threadId: number;
  readonly inFlight = new Map<number, Pending>();
  executed = 0;
  failed = 0;
  busyMs = 0;
  busySince = 0;
  idleSince: number;
  /** Set when the executor ends the thread on purpose. */
  ending = false;
  /** Beyond `maxThreads` after a resize: takes no new task, and ends once its tasks are done. */
  retiring = false;

  constructor(worker: Worker, now: number) {
    this.worker = worker;
    this.threadId = worker.threadId;
    this.idleSince = now;
  }
}

/** How many ended threads' figures `usage()` keeps. */
const MAX_RETIRED = 64;

/** Whether the parent runs under tsx, so that threads can import TypeScript task modules too. */
function underTsx(): boolean {
  return process.execArgv.some((arg) => /(^|[/\\@])tsx([/\\]|$)/.test(arg) || arg === 'tsx');
}

/**
 * @internal The executor of `ThreadPool`: a thread task (made by `tp.task()`) is posted to a thread, with the
 * engine's attempt as its stop source; any other task function runs on this event loop.
 */
export class ThreadExecutor implements Executor {
  private readonly o: ExecutorOptions;
  private threads: Thread[] = [];
  private readonly retired: ThreadUsage[] = [];
  private seq = 0;
  private lastGrowAt = Number.NEGATIVE_INFINITY;
  private timer: NodeJS.Timeout | undefined = undefined;
  private closed = false;
  private readonly tsx = underTsx();

  constructor(options: ExecutorOptions) {
    this.o = options;
  }

  /** Runs one attempt for the engine. */
  execute(task: Task, attempt: Attempt): unknown {
    const spec = (task.fn as Partial<ThreadTaskFunction<unknown>>)[THREAD_TASK];
    if (spec === undefined) return task.fn.call(task.spec.thisArg, attempt);
    return this.exec(spec, attempt, attempt);
  }

  /**
   * Runs a thread task on a thread; settles with its result or error. `ctx` is the attempt the task runs
   * in, when there is one: an attempt that may be followed by another sends copies of the buffers listed
   * in `transfer` instead of moving them, so that every attempt gets the data.
   */
  exec(spec: ThreadTaskSpec, stop: StopSource, ctx: TaskContext | undefined): Promise<unknown> {
    const { module, name, input } = spec;
    if (stop instanceof AbortSignal && stop.aborted) return Promise.reject(stop.reason);
    if (this.closed) return Promise.reject(new AbortError(undefined, 'the thread pool is closed'));
    let transfer: readonly TransferListItem[] = spec.transfer.items;
    if (transfer.length > 0) {
      // postMessage would send a detached buffer as an empty one: a wrong result, never an error (issue #14).
      const detached = detachedAt(spec.transfer);
      if (detached >= 0) return Promise.reject(new TypeError(threadMessages.detachedTransfer(detached, ctx?.attempt)));
      if (mayRunAgain(ctx)) transfer = withoutBuffers(spec.transfer);
    }
    const thread = this.pick();
    const id = ++this.seq;
    return new Promise((resolve, reject) => {
      const pending: Pending = { resolve, reject, stop, onAbort: undefined, ctx };
      if (thread.inFlight.size === 0) this.becameBusy(thread);
      thread.inFlight.set(id, pending);
      try {
        thread.worker.postMessage({ id, module, name, input, taskId: ctx?.taskId ?? '', attempt: ctx?.attempt ?? 1 }, transfer as TransferListItem[]);
      } catch (err) {
        this.settle(thread, id);
        reject(new TypeError(threadMessages.inputNotSent((err as Error).message), { cause: err }));
        return;
      }
      // A timeout or an abort stops the work: the thread is ended, and replaced when next needed.
      if (stop instanceof AbortSignal) {
        const onAbort = () => this.kill(thread, id, stop.reason);
        pending.onAbort = onAbort;
        stop.addEventListener('abort', onAbort, { once: true });
      } else {
        const onAbort = (reason?: unknown) => this.kill(thread, id, reason);
        pending.onAbort = onAbort;
        stop.onAbort(onAbort);
      }
    });
  }

  /**
   * Sets `maxThreads` (the caller keeps it ≥ `minThreads`): idle threads beyond it end now, busy ones take
   * no new task and end when their tasks are done.
   */
  resize(maxThreads: number): void {
    this.o.maxThreads = maxThreads;
    this.retireIdle(this.threads.length - maxThreads, () => true);
    let excess = this.threads.length - maxThreads;
    for (const t of this.threads) {
      t.retiring = excess > 0;
      if (t.retiring) excess--;
    }
  }

  /** Figures per thread, live ones first, then those that ended. */
  usage(): ThreadUsage[] {
    const now = this.o.clock.now();
    const live = this.threads.map((t) => ({
      threadId: t.threadId,
      inFlight: t.inFlight.size,
      executed: t.executed,
      failed: t.failed,
      busyMs: t.busyMs + (t.inFlight.size > 0 ? now - t.busySince : 0),
    }));
    return [...live, ...this.retired];
  }

  /** Threads alive now. */
  get size(): number {
    return this.threads.length;
  }

  /** One look of the scaler (every `scaling.interval` ms): grow, shrink, and end threads idle too long. */
  tick(): void {
    if (this.closed) return;
    const now = this.o.clock.now();
    const busySlots = this.threads.reduce((n, t) => n + t.inFlight.size, 0);
    const change = scaleDecision(
      {
        threads: this.threads.length,
        busySlots,
        slotsPerThread: this.o.tasksPerThread,
        minThreads: this.o.minThreads,
        maxThreads: this.o.maxThreads,
        lastGrowAt: this.lastGrowAt,
        now,
      },
      this.o.scaling,
    );
    if (change > 0) {
      for (let i = 0; i < change; i++) this.spawn();
      this.lastGrowAt = now;
    } else if (change < 0) {
      this.retireIdle(-change, () => true);
    }
    const idleBeyondMin = this.threads.length - this.o.minThreads;
    if (idleBeyondMin > 0) this.retireIdle(idleBeyondMin, (t) => now - t.idleSince >= this.o.idleTimeout);
    if (this.threads.length <= this.o.minThreads && busySlots === 0) this.stopTimer();
  }

  /** Ends every thread; tasks still in flight fail. */
  async close(): Promise<void> {
    this.closed = true;
    this.stopTimer();
    const threads = this.threads;
    this.threads = [];
    await Promise.all(
      threads.map((t) => {
        this.fail(t, new AbortError(undefined, 'the thread pool closed while the task was running'));
        return this.end(t);
      }),
    );
  }

  private pick(): Thread {
    let best: Thread | undefined;
    for (const t of this.threads) {
      if (!t.retiring && t.inFlight.size < this.o.tasksPerThread && (best === undefined || t.inFlight.size < best.inFlight.size)) best = t;
    }
    if (best !== undefined) return best;
    if (this.threads.filter((t) => !t.retiring).length < this.o.maxThreads) {
      const t = this.spawn();
      this.lastGrowAt = this.o.clock.now();
      return t;
    }
    // Every slot is taken: the engine admits no more than maxThreads × tasksPerThread thread tasks at once,
    // but a thread task called directly from inside another task is not counted by it.
    return this.threads.reduce((a, b) => (b.inFlight.size < a.inFlight.size ? b : a));
  }

  private spawn(): Thread {
    const worker = new Worker(RUNNER_SOURCE, {
      eval: true,
      workerData: { tsx: this.tsx, preload: this.o.preload },
      resourceLimits: this.o.resourceLimits,
    });
    const thread = new Thread(worker, this.o.clock.now());
    worker.unref();
    worker.on('message', (reply: Reply) => this.reply(thread, reply));
    worker.on('error', (err: Error & { code?: string }) => {
      const what = err.code === 'ERR_WORKER_OUT_OF_MEMORY' ? 'ran out of memory (resourceLimits)' : `crashed: ${err.message}`;
      this.lose(thread, new ThreadCrashError(`thread ${thread.threadId} ${what}`, thread.threadId, undefined, err));
    });
    worker.on('exit', (code: number) => {
      if (!thread.ending) this.lose(thread, new ThreadCrashError(`thread ${thread.threadId} exited with code ${code} while running its task`, thread.threadId, code));
    });
    this.threads.push(thread);
    this.startTimer();
    return thread;
  }

  private startTimer(): void {
    if (this.timer !== undefined || this.closed) return;
    this.timer = setInterval(() => this.tick(), this.o.scaling.interval);
    // The scaler never keeps the process alive by itself.
    this.timer.unref();
  }

  private reply(thread: Thread, reply: Reply): void {
    if (reply.progress === true) {
      thread.inFlight.get(reply.id)?.ctx?.progress(reply.value);
      return;
    }
    const pending = this.settle(thread, reply.id);
    if (pending === undefined) return;
    thread.executed++;
    if (reply.ok) {
      pending.resolve(reply.value);
      return;
    }
    thread.failed++;
    const error = reply.error;
    if (error instanceof Error && reply.name !== undefined && error.name !== reply.name) error.name = reply.name;
    pending.reject(error);
  }

  /** Takes task `id` off the thread; returns its pending record if it was still there. */
  private settle(thread: Thread, id: number): Pending | undefined {
    const pending = thread.inFlight.get(id);
    if (pending === undefined) return undefined;
    thread.inFlight.delete(id);
    if (pending.onAbort !== undefined) {
      const stop = pending.stop;
      if (stop instanceof AbortSignal) stop.removeEventListener('abort', pending.onAbort);
      else stop.onAbort(undefined);
    }
    if (thread.inFlight.size === 0) this.becameIdle(thread);
    return pending;
  }

  private becameBusy(thread: Thread): void {
    thread.busySince = this.o.clock.now();
    this.startTimer();
    // A busy thread keeps the process alive, as the work it does would; an idle one does not.
    thread.worker.ref();
  }

  private becameIdle(thread: Thread): void {
    const now = this.o.clock.now();
    thread.busyMs += now - thread.busySince;
    thread.idleSince = now;
    thread.worker.unref();
    if (thread.retiring) {
      this.remove(thread);
      void this.end(thread);
    }
  }

  /** Ends `thread` to stop task `id`: that task fails with `reason`, the others on it as terminated. */
  private kill(thread: Thread, id: number, reason: unknown): void {
    const pending = this.settle(thread, id);
    if (pending === undefined) return;
    thread.executed++;
    thread.failed++;
    pending.reject(reason);
    this.fail(thread, new ThreadTerminatedError(`thread ${thread.threadId} was ended to stop another task on it`, reason));
    this.remove(thread);
    void this.end(thread);
  }

  /** The thread died by itself: its tasks fail with `err`, and it is replaced when next needed. */
  private lose(thread: Thread, err: Error): void {
    if (thread.ending) return;
    thread.ending = true;
    this.fail(thread, err);
    this.remove(thread);
    void thread.worker.terminate();
    // Not replaced here: a thread that cannot even start would be respawned in a tight loop. The next task,
    // or the scaler's next look (once a second at most), starts a new one.
  }

  private fail(thread: Thread, err: Error): void {
    for (const id of [...thread.inFlight.keys()]) {
      const pending = this.settle(thread, id);
      if (pending === undefined) continue;
      thread.executed++;
      thread.failed++;
      pending.reject(err);
    }
  }

  private retireIdle(count: number, eligible: (t: Thread) => boolean): void {
    for (const t of [...this.threads]) {
      if (count === 0 || this.threads.length <= this.o.minThreads) return;
      if (t.inFlight.size > 0 || !eligible(t)) continue;
      this.remove(t);
      void this.end(t);
      count--;
    }
  }

  private remove(thread: Thread): void {
    const i = this.threads.indexOf(thread);
    if (i < 0) return;
    this.threads.splice(i, 1);
    this.retired.push({ threadId: thread.threadId, inFlight: 0, executed: thread.executed, failed: thread.failed, busyMs: thread.busyMs });
    // A long-lived pool that replaces threads often keeps the figures of the latest ended ones only.
    if (this.retired.length > MAX_RETIRED) this.retired.shift();
  }

  private async end(thread: Thread): Promise<void> {
    thread.ending = true;
    await thread.worker.terminate();
  }

  private stopTimer(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }
}
