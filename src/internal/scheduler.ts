/**
 * The scheduling half of the pool: workers, the waiting room, blocked callers, gangs, the one dispatch step,
 * and the mechanics of idle and close. What happens to a task once it runs is in `lifecycle.ts`.
 * @module
 */
import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import { AbortError, AddTimeoutError, PoolClosedError } from '../errors.js';
import type { PoolEvents } from '../events.js';
import { resolvePoolOptions, type CallbackName, type PoolOptions, type ResolvedPoolOptions } from '../options.js';
import type { TaskGroup } from '../task-group.js';
import type { TaskOptions } from '../task-options.js';
import { Rejection, type Job, type JobExtra, type JobSpec, type TaskContextImpl } from './job.js';
import { PriorityQueue } from './priority-queue.js';
import { RingQueue } from './ring-queue.js';
import { Worker } from './worker.js';

/** The pool's lifecycle. */
export type PoolState = 'open' | 'closing' | 'closed';

/** A gang of tasks waiting to start together (`addTaskGroup`). */
export interface Gang {
  jobs: Job[];
  resolve: () => void;
  reject: (err: Error) => void;
  /** Removes the listeners on its tasks' signals (they reject the whole gang while it waits). */
  unlink: () => void;
}

const noop = (): void => {};

/** Workers made up front; a larger pool (as `limit(Infinity)`'s) makes the rest when first needed. */
const EAGER_WORKERS = 1024;

function addTimedOut(pool: Scheduler, job: Job): void {
  pool['addTimeoutPassed'](job);
}

/** Scheduling state and steps shared by the pool's layers; see `LitePool` for the public API. */
export abstract class Scheduler extends EventEmitter<PoolEvents> {
  protected readonly opts: ResolvedPoolOptions;
  protected lifecycle: PoolState = 'open';
  protected forced = false;
  protected paused = false;
  protected dispatching = false;
  /** Work arrived since the pool was last idle (the `idle` event fires on the transition only). */
  protected active = false;
  protected workerCount: number;
  protected readonly workerList: Worker[] = [];
  protected readonly idle = new RingQueue<Worker>();
  protected busy = 0;
  protected readonly queue = new PriorityQueue<Job>();
  protected queued = 0;
  protected queueTombstones = 0;
  protected readonly adders = new RingQueue<Job>();
  protected blocked = 0;
  protected readonly gangs = new RingQueue<Gang>();
  /** Admitted tasks not yet finished (queued, running, in backoff, or running callbacks). */
  protected pending = 0;
  /** Admitted tasks that currently hold a worker. */
  protected assigned = 0;
  protected readonly backoffJobs = new Set<Job>();
  protected idleWaiters: (() => void)[] = [];
  protected readonly groups = new Set<TaskGroup>();
  protected neverStarted: TaskOptions[] = [];
  protected closing: { promise: Promise<TaskOptions[]>; resolve: (v: TaskOptions[]) => void } | undefined = undefined;
  protected closeTimer: NodeJS.Timeout | undefined = undefined;
  protected completed = 0;
  protected failedTasks = 0;
  protected retried = 0;
  protected rejected = 0;
  protected callbackErrors = 0;
  /** The time of the last worker release, usable while `clockValid` (until the end of the dispatch pass). */
  private clockAt = 0;
  private clockValid = false;
  /** Where workers report their attempts' outcomes. */
  private readonly sink = (ctx: TaskContextImpl, ok: boolean, value: unknown): void => this.attemptReturned(ctx, ok, value);

  /** Creates a pool; throws a `TypeError`/`RangeError` naming any bad option. */
  protected constructor(options?: PoolOptions) {
    super();
    this.opts = resolvePoolOptions(options);
    this.workerCount = this.opts.workers;
    while (this.workerList.length < Math.min(this.workerCount, EAGER_WORKERS)) this.idle.push(this.newWorker());
  }

  protected newWorker(): Worker {
    const w = new Worker(this.workerList.length, this.sink);
    this.workerList.push(w);
    return w;
  }

  /**
   * How many tasks may start now: free workers, counting those not made yet (beyond the first EAGER_WORKERS,
   * workers are made on demand), but never more than `workerCount - busy`. After `resize()` down, removed
   * workers still finishing a task count as busy, so the kept ones wait for them: the bound is `workers` task
   * functions at once, whichever workers run them.
   */
  protected idleCount(): number {
    return Math.min(this.idle.length + Math.max(0, this.workerCount - this.workerList.length), this.workerCount - this.busy);
  }

  protected takeIdle(): Worker {
    return this.idle.shift() ?? this.newWorker();
  }

  protected gangTooLarge(n: number): RangeError {
    return new RangeError(`addTaskGroup(...opts): ${n} tasks must start together on ${n} workers, but the pool has ${this.workerCount}`);
  }

  /** Whether a new task may be admitted now; never ahead of callers already waiting for room. */
  protected hasRoom(): boolean {
    if (this.blocked > 0) return false;
    return this.queued < this.workerCount * this.opts.queueSize || this.canStartNow();
  }

  /** Whether a task admitted now starts at once: a free worker, nobody ahead of it, not paused. */
  private canStartNow(): boolean {
    return !this.paused && this.queued === 0 && this.gangs.length === 0 && this.idleCount() > 0;
  }

  /**
   * Admits `job`: starts it on a free worker, or queues it. `scoped`: the caller is not the adder (a blocked
   * caller admitted when room freed up), so a task started at once must enter the adder's async context.
   */
  protected admit(job: Job, scoped = false): void {
    this.active = true;
    this.pending++;
    const spec = job.spec;
    spec.group?.taskAdmitted();
    if (spec.signal !== undefined && !spec.managed && job.extra?.abortListener === undefined) this.listen(job);
    if (this.canStartNow()) {
      // Started at once from addTask()/run(), the task already runs in its adder's async context.
      this.start(this.takeIdle(), job, scoped);
    } else {
      this.enqueue(job, false);
    }
  }

  protected enqueue(job: Job, front: boolean): void {
    job.state = 'queued';
    if (front) this.queue.unshift(job);
    else this.queue.push(job);
    this.queued++;
  }

  protected block(job: Job): void {
    this.active = true;
    job.state = 'blocked';
    this.adders.push(job);
    this.blocked++;
    if (job.spec.addTimeout > 0) job.more().timer = setTimeout(addTimedOut, job.spec.addTimeout, this, job);
    if (job.spec.signal !== undefined && !job.spec.managed) this.listen(job);
  }

  protected listen(job: Job): void {
    const listener = () => {
      (job.extra as JobExtra).abortListener = undefined;
      this.cancelJob(job, (job.spec.signal as AbortSignal).reason);
    };
    job.more().abortListener = listener;
    (job.spec.signal as AbortSignal).addEventListener('abort', listener, { once: true });
  }

  protected unlisten(job: Job): void {
    const extra = job.extra;
    if (extra?.abortListener === undefined) return;
    (job.spec.signal as AbortSignal).removeEventListener('abort', extra.abortListener);
    extra.abortListener = undefined;
  }

  /** Refuses a task that was never admitted: its admission promise (or `run()` promise) rejects. */
  protected refuse(job: Job, err: Error): void {
    job.state = 'dropped';
    const extra = job.extra;
    if (extra?.timer !== undefined) {
      clearTimeout(extra.timer);
      extra.timer = undefined;
    }
    this.unlisten(job);
    this.rejected++;
    this.settleRefused(job, err);
  }

  /**
   * Settles the promises of a refused task: `addTask()`'s admission promise rejects; a `run()` promise
   * rejects; a `map()` member's result promise rejects and its admission waiter (which never rejects) wakes.
   */
  protected settleRefused(job: Job, err: Error): void {
    const resolve = job.resolve;
    job.resolve = undefined;
    const extra = job.extra;
    if (extra !== undefined) {
      const { admitResolve, admitReject } = extra;
      extra.admitResolve = extra.admitReject = undefined;
      if (admitReject !== undefined) admitReject(err);
      else admitResolve?.();
    }
    resolve?.(new Rejection(err), job);
  }

  protected addTimeoutPassed(job: Job): void {
    if (job.state !== 'blocked') return;
    (job.extra as JobExtra).timer = undefined;
    this.blocked--;
    this.compactAdders();
    job.state = 'dropped';
    this.unlisten(job);
    this.rejected++;
    const spec = job.spec;
    const finish = () => {
      if (spec.autoDone && spec.group !== undefined) this.groupDone(spec.group);
      this.settleRefused(job, new AddTimeoutError(spec.addTimeout));
      this.dispatch();
    };
    const pending = spec.onAddTimeout === undefined ? undefined : this.callback('onAddTimeout', spec.onAddTimeout, undefined, 0);
    if (pending === undefined) finish();
    else void pending.then(finish);
  }

  protected compactAdders(): void {
    const dead = this.adders.length - this.blocked;
    if (dead > 64 && dead > this.blocked) this.adders.filter((j) => j.state === 'blocked');
  }

  /**
   * A task's signal aborted. State changes happen at once; failures and dispatch wait for a microtask, so
   * that every task sharing the signal (a `map()` batch) is taken out of the queue before a freed worker
   * could start one of them, and no callback runs inside the caller's `abort()`.
   */
  protected cancelJob(job: Job, reason: unknown): void {
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
        job.ctx?.abort(error('the task was aborted while running'));
        return;
      default:
        return;
    }
  }

  /**
   * Cancels every job that uses `spec` (a `map()` batch's), wherever it is: blocked, queued, in backoff or
   * running. O(queue length), once per failed batch, instead of a signal listener per job.
   */
  protected cancelSpec(spec: JobSpec, reason: unknown): void {
    const found: Job[] = [];
    const pick = (job: Job) => {
      if (job.spec === spec && (job.state === 'queued' || job.state === 'blocked')) found.push(job);
    };
    this.queue.forEach(pick);
    this.adders.forEach(pick);
    for (const job of this.backoffJobs) if (job.spec === spec) found.push(job);
    for (const w of this.workerList) if (w.job?.spec === spec) found.push(w.job);
    for (const job of found) this.cancelJob(job, reason);
  }

  protected dispatch(): void {
    if (this.dispatching) return;
    this.dispatching = true;
    try {
      const capacity = this.workerCount * this.opts.queueSize;
      for (;;) {
        if (this.paused || this.forced || this.idleCount() <= 0) break;
        const gang = this.gangs.peek();
        if (gang !== undefined) {
          // A waiting gang reserves the workers that free up, ahead of queued tasks.
          if (this.idleCount() < gang.jobs.length) break;
          this.gangs.shift();
          this.startGang(gang);
          continue;
        }
        if (this.queued > 0) {
          this.start(this.takeIdle(), this.nextQueued(), true);
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
      this.clockValid = false;
    }
    if (this.isIdle()) this.becameIdle();
    else if (this.forced) this.maybeFinishForced();
  }

  protected nextQueued(): Job {
    for (;;) {
      const job = this.queue.shift() as Job;
      if (job.state === 'queued') {
        this.queued--;
        return job;
      }
      this.queueTombstones--;
    }
  }

  protected admitNextAdder(): void {
    let job = this.adders.shift() as Job;
    while (job.state !== 'blocked') job = this.adders.shift() as Job;
    this.blocked--;
    const extra = job.extra;
    let resolve: (() => void) | undefined;
    if (extra !== undefined) {
      if (extra.timer !== undefined) {
        clearTimeout(extra.timer);
        extra.timer = undefined;
      }
      resolve = extra.admitResolve;
      extra.admitResolve = extra.admitReject = undefined;
    }
    job.state = 'new';
    this.admit(job, true);
    resolve?.();
  }

  /**
   * Puts a gang in line. While it waits, a signal of any of its tasks that aborts rejects the whole gang with
   * an `AbortError` (all or nothing, as an already-aborted signal does at `addTaskGroup()`), and the workers
   * it was reserving go back to queued tasks.
   */
  protected enqueueGang(jobs: Job[], resolve: () => void, reject: (err: Error) => void): void {
    const gang: Gang = { jobs, resolve, reject, unlink: noop };
    const signals: AbortSignal[] = [];
    for (const job of jobs) if (job.spec.signal !== undefined) signals.push(job.spec.signal);
    if (signals.length > 0) {
      const onAbort = () => {
        const signal = signals.find((s) => s.aborted) as AbortSignal;
        this.gangs.filter((g) => g !== gang);
        this.dropGang(gang, new AbortError(signal.reason, "addTaskGroup(...opts): a task's signal was aborted while the gang waited to start"));
        this.dispatch();
      };
      for (const s of signals) s.addEventListener('abort', onAbort, { once: true });
      gang.unlink = () => {
        for (const s of signals) s.removeEventListener('abort', onAbort);
      };
    }
    this.active = true;
    this.gangs.push(gang);
    this.dispatch();
  }

  /** A waiting gang is refused: none of its tasks ran, and its promise rejects with `err`. */
  protected dropGang(gang: Gang, err: Error): void {
    gang.unlink();
    this.rejected += gang.jobs.length;
    gang.reject(err);
  }

  protected startGang(gang: Gang): void {
    gang.unlink();
    for (const job of gang.jobs) {
      this.pending++;
      job.spec.group?.taskAdmitted();
      if (job.spec.signal !== undefined) this.listen(job);
    }
    for (const job of gang.jobs) {
      if (job.state === 'new') this.start(this.takeIdle(), job, true);
    }
    gang.resolve();
  }

  /**
   * Puts `job` on `worker` and runs its first (or next) attempt. `scoped`: the task waited in the queue, so
   * it is started in the async context captured when it was made (the job is that `AsyncResource`).
   */
  protected start(worker: Worker, job: Job, scoped: boolean): void {
    worker.state = 'busy';
    // A worker freed in this dispatch pass lends its release time: one clock read per task, not two.
    worker.busySince = this.clockValid ? this.clockAt : performance.now();
    worker.job = job;
    this.busy++;
    this.assigned++;
    job.worker = worker;
    job.state = 'running';
    if (this.listenerCount('active') > 0) this.emit('active');
    if (scoped) job.runInAsyncScope(this.runAttempt, this, job, worker, undefined);
    else this.runAttempt(job, worker, undefined);
  }

  protected leaveBackoff(job: Job): void {
    const extra = job.extra as JobExtra;
    if (extra.timer !== undefined) clearTimeout(extra.timer);
    extra.timer = undefined;
    this.backoffJobs.delete(job);
    job.state = 'running';
  }

  protected leaveWorker(job: Job): void {
    const worker = job.worker as Worker;
    job.worker = undefined;
    worker.job = undefined;
    this.assigned--;
    if (worker.zombies === 0) this.releaseWorker(worker);
  }

  protected releaseWorker(worker: Worker): void {
    const now = performance.now();
    worker.busyMs += now - worker.busySince;
    this.clockAt = now;
    this.clockValid = true;
    this.busy--;
    if (worker.retiring) {
      worker.retiring = false;
      worker.state = 'retired';
    } else {
      worker.state = 'idle';
      this.idle.push(worker);
    }
  }

  protected isIdle(): boolean {
    return this.pending === 0 && this.blocked === 0 && this.gangs.length === 0;
  }

  protected becameIdle(): void {
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

  protected forceClose(): void {
    if (this.lifecycle === 'closed' || this.forced) return;
    this.forced = true;
    if (this.closeTimer !== undefined) clearTimeout(this.closeTimer);
    this.closeTimer = undefined;
    const reason = () => new PoolClosedError('the pool was closed with force');
    for (const w of this.workerList) w.job?.ctx?.abort(reason());
    const waiting = this.queue.drain();
    this.queued = 0;
    this.queueTombstones = 0;
    for (const job of waiting) {
      if (job.state !== 'queued') continue;
      job.state = 'running';
      if (job.ctx === undefined && job.spec.source !== undefined) this.neverStarted.push(job.spec.source as TaskOptions);
      this.finalFailure(job, new PoolClosedError('the pool was closed with force before the task started'));
    }
    for (const job of [...this.backoffJobs]) {
      this.leaveBackoff(job);
      this.finalFailure(job, new PoolClosedError('the pool was closed with force while the task waited to be retried'));
    }
    this.maybeFinishForced();
  }

  protected maybeFinishForced(): void {
    // Forced: running functions are not waited for (they may ignore their signal); the rest must settle.
    if (this.forced && this.lifecycle === 'closing' && this.pending === this.assigned) this.finishClose();
  }

  protected finishClose(): void {
    if (this.lifecycle !== 'closing' || this.closing === undefined) return;
    this.lifecycle = 'closed';
    if (this.closeTimer !== undefined) clearTimeout(this.closeTimer);
    this.closeTimer = undefined;
    for (const group of [...this.groups]) group.rejectWaits(new PoolClosedError('the pool closed while the group still had work outstanding'));
    const never = this.neverStarted;
    this.neverStarted = [];
    this.closing.resolve(never);
  }

  /** Changes the number of workers (see `LitePool.resize`). */
  protected setWorkerCount(n: number): void {
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
        this.dropGang(g, this.gangTooLarge(g.jobs.length));
        return false;
      });
    }
    this.dispatch();
  }

  /** An attempt's function returned or its promise settled (the execution layer). */
  protected abstract attemptReturned(ctx: TaskContextImpl, ok: boolean, value: unknown): void;

  /** Runs one attempt of `job` on `worker` (the execution layer). */
  protected abstract runAttempt(job: Job, worker: Worker, reload: ((ok: boolean, value: unknown) => void) | undefined): void;

  /** Ends `job` with a failure: its `onError`, `onComplete` and auto-done run, then it settles. */
  protected abstract finalFailure(job: Job, err: Error): void;

  /** Calls a user callback, reporting what it throws; a promise when it returned a thenable. */
  protected abstract callback(name: CallbackName, fn: (...args: never[]) => unknown, thisArg: unknown, argc: number, a?: unknown, b?: unknown, c?: unknown): Promise<void> | undefined;

  /** Marks a group done for a task, reporting a `done()` past zero. */
  protected abstract groupDone(group: TaskGroup): void;
}
