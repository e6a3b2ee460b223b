/**
 * The in-process engine: admission and backpressure, the waiting room, gangs, the one place where a task
 * takes a slot (`dispatch`), attempts, timeouts, retries (policy and reruns), hooks in their order, trackers'
 * counts, figures and close. It hands each attempt to an {@link Executor} and speaks only its own language:
 * tasks, specs, trackers and failures; the vocabularies above it (Go-style options and groups, promises,
 * `map`, `limit`) translate into these.
 * @module
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import { AbortError, AddTimeoutError, PoolClosedError, TaskTimeoutError, toError } from '../errors.js';
import * as messages from '../messages.js';
import type { PoolEvents } from '../events.js';
import { validateDuration, type ResolvedPoolOptions } from '../options.js';
import type { PoolUsage, RunningTask } from '../usage.js';
import { backoffDelay, retryableByDefault } from '../retry.js';
import { AgeQueue } from '../internal/age-queue.js';
import { PriorityQueue } from '../internal/priority-queue.js';
import { RingQueue } from '../internal/ring-queue.js';
import { AdaptiveLimit, isOverload } from './adaptive.js';
import type { Executor } from './executor.js';
import { KeyTable } from './keys.js';
import { LatencyWindow } from './latency.js';
import { timerDelay } from './timer-delay.js';
import { RateLog, type RateWindow } from './rate-log.js';
import { admissionChannel, retryChannel, settledChannel, taskChannel, type AdmissionTrace, type AttemptTrace, type RetryTrace, type SettledTrace } from './tracing.js';
import { Hooks, poolWarning, releaseStack, thenOf } from './hooks.js';
import { Nesting } from './nesting.js';
import { Lane } from './lane.js';
import { Signals } from './signals.js';
import type { Slot, SlotOwner } from './slot.js';
import { Slots } from './slots.js';
import { Attempt, Failure, Rejection, keyOf, type AfterRerun, type RerunHost, type Task, type TaskExtra, type TaskSpec, type Tracker } from './task.js';

/**
 * The engine's lifecycle, one field: `open`; `closing` (no admission; admitted tasks finish); `forcing`
 * (closing with force: waiting tasks fail, running ones are aborted and not waited for); `closed`.
 */
export type EngineState = 'open' | 'closing' | 'forcing' | 'closed';

/** A gang of tasks waiting to start together, each on its own slot. */
interface Gang {
  tasks: Task[];
  resolve: () => void;
  reject: (err: Error) => void;
  /** Removes the listeners on its tasks' signals (they reject the whole gang while it waits). */
  unlink: () => void;
}

const noop = (): void => {};

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** Queue times are kept in 30 bits of 0.1 ms ticks. */
const TICK_MASK = 0x3fffffff;

/** The window of the wait and run figures when the pool's `latencyWindow` is not given, in ms. */
const DEFAULT_LATENCY_WINDOW = 60_000;

function addTimedOut(engine: Engine, task: Task): void {
  engine.addTimeoutPassed(task);
}

function attemptTimedOut(engine: Engine, attempt: Attempt): void {
  engine.timeoutAttempt(attempt);
}

function backoffOver(engine: Engine, task: Task): void {
  engine.backoffOver(task);
}

/**
 * Publishes an attempt's outcome on its trace: `error` when it failed, then `end` for a synchronous return,
 * or `asyncStart`/`asyncEnd` for a settled promise (as `TracingChannel.traceSync`/`tracePromise` do).
 */
function traceReturned(trace: AttemptTrace, ok: boolean, value: unknown, async: boolean): void {
  if (ok) trace.result = value;
  else {
    trace.error = value;
    taskChannel.error.publish(trace);
  }
  if (async) {
    taskChannel.asyncStart.publish(trace);
    taskChannel.asyncEnd.publish(trace);
  } else {
    taskChannel.end.publish(trace);
  }
}

/**
 * Whether `litepool:task` has a subscriber on any of its five channels (`TracingChannel#hasSubscribers` came
 * in Node 20.13; the package supports 20.0).
 */
function traced(): boolean {
  const c = taskChannel;
  return c.start.hasSubscribers || c.end.hasSubscribers || c.asyncStart.hasSubscribers || c.asyncEnd.hasSubscribers || c.error.hasSubscribers;
}

function gateOpened(engine: Engine): void {
  engine.gateOpened();
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function execute(executor: Executor, task: Task, attempt: Attempt): unknown {
  return executor.execute(task, attempt);
}

/** An AbortError for `reason`, passed on as is when it is one already (a batch abort). */
function abortError(reason: unknown, message: string): AbortError {
  return reason instanceof AbortError ? reason : new AbortError(reason, message);
}

/** See the module comment. */
export class Engine implements RerunHost, SlotOwner {
  state: EngineState = 'open';
  paused = false;
  readonly queueSize: number;
  readonly slots: Slots<Attempt>;
  /**
   * Admitted tasks waiting for a slot, by priority; with keys, only those whose key has room (the others wait
   * in {@link keys}), oldest first within a priority.
   */
  readonly queue: Lane<Task>;
  /** Per-key limits, when the pool has them. */
  readonly keys: KeyTable | undefined;
  /** The pool's name, in trace messages. */
  readonly name: string | undefined;
  /** Put before every task id (a distributed producer's id, so that ids are the same on every machine). */
  private readonly idPrefix: string;
  /** Submitters waiting for room, FIFO. */
  readonly adders = new Lane<Task>(new RingQueue<Task>(), 'blocked');
  /** Admitted tasks not yet finished (queued, running, in backoff, or running hooks). */
  private pending = 0;
  /** Admitted tasks that currently hold a slot. */
  private assigned = 0;
  private readonly gangs = new RingQueue<Gang>();
  private readonly backoff = new Set<Task>();
  private dispatching = false;
  /** Work arrived since the engine was last idle (the `idle` event fires on the transition only). */
  private active = false;
  private idleWaiters: (() => void)[] = [];
  private readonly trackers = new Set<Tracker>();
  private readonly roomWatchers = new Set<() => void>();
  private neverStarted: unknown[] = [];
  private closing: { promise: Promise<unknown[]>; resolve: (v: unknown[]) => void } | undefined = undefined;
  private closeTimer: NodeJS.Timeout | undefined = undefined;
  private lastId = 0;
  private completed = 0;
  private failedTasks = 0;
  private retried = 0;
  private rejected = 0;
  private readonly hooks: Hooks;
  /** One listener per signal, whatever the number of tasks that share it. */
  private readonly signals = new Signals<Task>((task, reason) => {
    (task.extra as TaskExtra).watched = false;
    this.cancel(task, reason);
  });
  /** Parent links of nested submissions, and the check for the deadlock they can make. */
  private readonly nesting: Nesting;
  /** The task whose function is being called right now (a child submitted now is its child). */
  private calling: Task | undefined = undefined;
  /** With `detectDeadlocks`: the task whose attempt the current async context descends from. */
  private readonly lineage: AsyncLocalStorage<Task> | undefined;
  private readonly executor: Executor;
  private readonly events: EventEmitter<PoolEvents>;
  private readonly onBlocked: (() => void) | undefined;
  /** Pool-wide rate windows over attempt starts, when set. */
  private rate: RateLog | undefined = undefined;
  /** `pauseFor`: no attempt starts before this time (`performance.now()` ms). */
  private holdUntil = 0;
  /** Starts pass the gate: a rate is set or a `pauseFor` was asked for. False costs nothing per task. */
  private gated = false;
  /** When the gate last let a start through: the start is recorded at that time. */
  private gateNow = 0;
  private gateTimer: NodeJS.Timeout | undefined = undefined;
  /** When the gate's timer fires. */
  private gateWake = 0;
  /** The origin of queue times, and the queue time of the current synchronous run of code (see {@link queueTicks}). */
  private readonly origin = performance.now();
  private stamp = 0;
  private stampValid = false;
  /** Sets the number of slots from the latency and overload of finished attempts, when adaptive. */
  private readonly adaptive: AdaptiveLimit | undefined;
  /** Wait and run times over the `latencyWindow`, unless it is 0. */
  private readonly latency: LatencyWindow | undefined;

  constructor(options: ResolvedPoolOptions, executor: Executor, events: EventEmitter<PoolEvents>) {
    this.queueSize = options.queueSize;
    this.executor = executor;
    this.events = events;
    this.hooks = new Hooks(options.onCallbackError, events);
    this.adaptive = options.adaptive === undefined ? undefined : new AdaptiveLimit(options.adaptive);
    const workers = this.adaptive === undefined ? options.workers : this.adaptive.limit;
    this.slots = new Slots<Attempt>(workers, (attempt, ok, value) => this.attemptReturned(attempt, ok, value), this);
    if (options.keys === undefined) {
      this.queue = new Lane<Task>(new PriorityQueue<Task>(), 'queued');
      this.keys = undefined;
    } else {
      this.queue = new Lane<Task>(new AgeQueue<Task>(), 'queued');
      this.keys = new KeyTable(options.keys, (task) => this.ready(task), () => this.dispatch());
    }
    if (options.rate !== undefined && options.rate.length > 0) {
      this.rate = new RateLog(options.rate);
      this.gated = true;
    }
    this.nesting = new Nesting(this.slots, (message) => poolWarning('LITEPOOL_NESTED_DEADLOCK', message));
    this.lineage = options.detectDeadlocks === true ? new AsyncLocalStorage<Task>() : undefined;
    this.onBlocked = options.onBlocked;
    this.name = options.name;
    this.idPrefix = options.taskIdPrefix ?? '';
    const window = options.latencyWindow ?? DEFAULT_LATENCY_WINDOW;
    this.latency = window > 0 ? new LatencyWindow(window) : undefined;
  }

  /** Links `task` to the task that submitted it, when the submitter is a running task of this engine. */
  private adopt(task: Task): void {
    const parent = this.calling ?? this.lineage?.getStore();
    if (parent !== undefined && parent.state === 'running') task.more().parent = parent;
  }

  /** Whether the number of slots follows an adaptive limit. */
  get isAdaptive(): boolean {
    return this.adaptive !== undefined;
  }

  /** Tasks that hold a slot or a timed-out function (busy slots). */
  get running(): number {
    return this.slots.busy;
  }

  // ── Admission ────────────────────────────────────────────────────────────────────────────────────────

  /** The refusal of a task entering now because the engine is not open (counted), if it is not. */
  closedError(where: string): Error | undefined {
    if (this.state === 'open') return undefined;
    this.rejected++;
    return new PoolClosedError(messages.closedAt(where));
  }

  /** The refusal of a task whose signal already aborted (counted), if it did. */
  abortedError(where: string, signal: AbortSignal | undefined): Error | undefined {
    if (signal === undefined || !signal.aborted) return undefined;
    this.rejected++;
    return new AbortError(signal.reason, messages.abortedAt(where));
  }

  /** Admitted tasks waiting for a slot: in the queue, or held back by their key's limits. */
  get waiting(): number {
    return this.keys === undefined ? this.queue.size : this.queue.size + this.keys.parked;
  }

  /** Whether a new task may be admitted now; never ahead of submitters already waiting for room. */
  get hasRoom(): boolean {
    return this.roomFor(undefined);
  }

  /**
   * Whether a new task of `key` may be admitted now: the waiting room has space, or it would start at once
   * (which, for a keyed task, its key must allow too).
   */
  roomFor(key: string | undefined): boolean {
    if (this.adders.size > 0) return false;
    if (this.waiting < this.slots.count * this.queueSize) return true;
    return this.canStartNow() && (key === undefined || this.keys === undefined || this.keys.canStart(key));
  }

  /** Whether a task admitted now starts at once: a free slot, nobody ahead of it, not paused, the rate has room. */
  private canStartNow(): boolean {
    return !this.paused && this.queue.size === 0 && this.gangs.length === 0 && this.slots.free > 0 && (!this.gated || this.gateOpen(1));
  }

  /**
   * Admits `task` when there is room (resolved at once), else waits for room: the promise resolves on
   * admission and rejects when the task is refused (add timeout, abort, close). For vocabularies whose
   * admission is the caller's promise.
   */
  add(task: Task, resolved: Promise<void>): Promise<void> {
    task.id = ++this.lastId;
    if (this.calling !== undefined || this.lineage !== undefined) this.adopt(task);
    if (this.roomFor(task.spec.key)) {
      this.admit(task, false);
      return resolved;
    }
    return new Promise<void>((resolve, reject) => {
      const extra = task.more();
      extra.admitResolve = resolve;
      extra.admitReject = reject;
      this.block(task);
    });
  }

  /**
   * Admits a task whose `resolve` is set; a refusal (closed, aborted) settles it with a rejection. When
   * there is no room it waits; with `wait`, the returned promise resolves (never rejects) once it is admitted
   * or refused, else `undefined` is returned.
   */
  submit(task: Task, where: string, wait: boolean): Promise<void> | undefined {
    if (this.state !== 'open' || task.spec.signal?.aborted === true) {
      this.settleRefused(task, (this.closedError(where) ?? this.abortedError(where, task.spec.signal)) as Error);
      return undefined;
    }
    task.id = ++this.lastId;
    if (this.calling !== undefined || this.lineage !== undefined) this.adopt(task);
    if (this.roomFor(task.spec.key)) {
      this.admit(task, false);
      return undefined;
    }
    if (!wait) {
      this.block(task);
      return undefined;
    }
    return new Promise<void>((resolve) => {
      task.more().admitResolve = resolve;
      this.block(task);
    });
  }

  /**
   * Admits `task`: it starts now through `dispatch` when it can, else it queues. `scoped`: the caller is not
   * the submitter (a blocked submitter admitted when room freed up), so it must start in the task's context.
   */
  private admit(task: Task, scoped: boolean): void {
    this.active = true;
    this.pending++;
    const spec = task.spec;
    spec.tracker?.taskAdmitted();
    if (spec.signal !== undefined && !spec.managed && task.extra?.watched !== true) this.listen(task);
    task.state = 'queued';
    if (this.keys !== undefined) {
      const key = keyOf(task);
      if (key !== undefined && !this.keys.enter(task, key)) {
        if (this.timesWaits) task.queuedAt = this.queueTicks();
        if (task.extra?.parent !== undefined) this.nesting.waits(task);
        return;
      }
    }
    if (!this.dispatching && this.canStartNow()) {
      this.dispatch(task, scoped);
      return;
    }
    if (this.timesWaits) task.queuedAt = this.queueTicks();
    this.queue.push(task);
    if (task.extra?.parent !== undefined) this.nesting.waits(task);
  }

  /** A keyed task whose key got room joins the queue at its place. */
  private ready(task: Task): void {
    task.state = 'queued';
    this.queue.push(task);
  }

  private block(task: Task): void {
    this.active = true;
    task.state = 'blocked';
    if (admissionChannel.hasSubscribers) task.more().blockedAt = performance.now();
    this.adders.push(task);
    if (task.extra?.parent !== undefined) this.nesting.waits(task);
    const spec = task.spec;
    if (spec.addTimeout > 0) task.more().timer = setTimeout(addTimedOut, spec.addTimeout, this, task);
    if (spec.signal !== undefined && !spec.managed) this.listen(task);
    this.onBlocked?.();
    // With keys, the room can be full of tasks waiting behind their keys while workers are free: a caller
    // whose key has room starts on one at once.
    if (this.keys !== undefined && this.slots.free > 0 && !this.dispatching) this.dispatch();
  }

  private listen(task: Task): void {
    task.more().watched = true;
    this.signals.add(task);
  }

  private unlisten(task: Task): void {
    const extra = task.extra;
    if (extra === undefined || !extra.watched) return;
    extra.watched = false;
    this.signals.delete(task);
  }

  /** A task that was never admitted leaves: no timer, no listener, counted as rejected. */
  private drop(task: Task): void {
    task.state = 'dropped';
    const extra = task.extra;
    if (extra?.timer !== undefined) {
      clearTimeout(extra.timer);
      extra.timer = undefined;
    }
    this.unlisten(task);
    this.rejected++;
  }

  /**
   * Settles the promises of a refused task: an admission promise rejects (or, for a waiter that never
   * rejects, resolves); the task's own promise rejects.
   */
  private settleRefused(task: Task, err: Error): void {
    if (task.extra?.waiting === true) this.nesting.leaves(task);
    if (task.extra !== undefined && task.extra.blockedAt !== 0) this.traceAdmission(task, err);
    const resolve = task.resolve;
    task.resolve = undefined;
    const extra = task.extra;
    if (extra !== undefined) {
      const { admitResolve, admitReject } = extra;
      extra.admitResolve = extra.admitReject = undefined;
      if (admitReject !== undefined) admitReject(err);
      else admitResolve?.();
    }
    resolve?.(new Rejection(err), task);
  }

  /** The add timeout of a blocked task passed: its hook runs, then it is refused. */
  addTimeoutPassed(task: Task): void {
    if (task.state !== 'blocked') return;
    (task.extra as TaskExtra).timer = undefined;
    this.adders.left();
    this.drop(task);
    const spec = task.spec;
    const refuse = () => {
      if (spec.markDone && spec.tracker !== undefined) this.trackerDone(spec.tracker);
      this.settleRefused(task, new AddTimeoutError(spec.addTimeout));
      this.dispatch();
    };
    const pending = spec.onAddTimeout === undefined ? undefined : this.hooks.call('onAddTimeout', spec.onAddTimeout, undefined, 0);
    if (pending === undefined) refuse();
    else void pending.then(refuse);
  }

  // ── Cancellation ─────────────────────────────────────────────────────────────────────────────────────

  /**
   * A task's signal aborted. State changes happen at once; failures and dispatch wait for a microtask, so
   * that every task sharing the signal (a `map()` batch) is out of the queue before a freed slot could start
   * one of them, and no hook runs inside the caller's `abort()`.
   */
  private cancel(task: Task, reason: unknown): void {
    switch (task.state) {
      case 'blocked':
        this.adders.left();
        this.drop(task);
        this.settleRefused(task, abortError(reason, messages.abortedBlocked));
        queueMicrotask(() => this.dispatch());
        return;
      case 'queued':
        task.state = 'failing';
        this.queue.left();
        this.unready(task);
        queueMicrotask(() => this.finalFailure(task, abortError(reason, messages.abortedQueued)));
        return;
      case 'parked':
        task.state = 'failing';
        (this.keys as KeyTable).unpark(keyOf(task) as string);
        queueMicrotask(() => this.finalFailure(task, abortError(reason, messages.abortedQueued)));
        return;
      case 'backoff':
        this.leaveBackoff(task);
        queueMicrotask(() => this.finalFailure(task, abortError(reason, messages.abortedBackoff)));
        return;
      case 'running':
        task.attempt?.abort(abortError(reason, messages.abortedRunning));
        return;
      default:
        return;
    }
  }

  /**
   * Cancels every task that uses `spec` (a `map()` batch's), wherever it is: blocked, queued, in backoff or
   * running. O(queue length), once per failed batch, instead of a signal listener per task.
   */
  cancelSpec(spec: TaskSpec, reason: unknown): void {
    const found: Task[] = [];
    const pick = (task: Task) => {
      if (task.spec === spec) found.push(task);
    };
    this.queue.forEach(pick);
    this.keys?.forEachParked(pick);
    this.adders.forEach(pick);
    this.backoff.forEach(pick);
    for (const slot of this.slots.list) if (slot.held) pick((slot.attempt as Attempt).task);
    for (const task of found) this.cancel(task, reason);
  }

  // ── Dispatch: the one place where a task takes a slot ────────────────────────────────────────────────

  /**
   * Starts what can start: `first` (a task just admitted that found a free slot and nobody ahead), then
   * gangs (they reserve slots as they free up, ahead of queued tasks), queued tasks by priority, and blocked
   * submitters as room frees up. Admission, completion, resume, resize, abort and backoff all end here. It
   * loops instead of recursing (a synchronous task that completes inside it calls it again: that call only
   * marks more work), so 20,000 synchronous tasks do not grow the stack.
   */
  dispatch(first?: Task, scoped = false): void {
    if (this.dispatching) return;
    this.dispatching = true;
    try {
      if (first !== undefined) this.start(first, scoped);
      const capacity = this.slots.count * this.queueSize;
      for (;;) {
        if (this.paused || this.state === 'forcing' || this.slots.free <= 0) break;
        const gang = this.gangs.peek();
        if (gang !== undefined) {
          if (this.slots.free < gang.tasks.length || (this.gated && !this.gateOpen(gang.tasks.length))) break;
          this.gangs.shift();
          this.startGang(gang);
          continue;
        }
        if (this.gated && this.queue.size > 0 && !this.gateOpen(1)) break;
        const next = this.queue.shift();
        if (next !== undefined) {
          this.start(next, true);
          continue;
        }
        if (this.adders.size === 0) break;
        if (this.keys === undefined) {
          this.admitNextAdder();
          continue;
        }
        // A free worker and nothing ready: with keys, the first blocked caller whose key has room goes in and
        // starts. One whose key is full would only wait behind its key while the worker idles, so it does not
        // hold back callers of other keys (no head-of-line blocking across keys).
        const keys = this.keys;
        const startable = this.adders.find((t) => {
          const key = keyOf(t);
          return key === undefined || keys.canStart(key);
        });
        if (startable === undefined) break;
        if (startable.first) this.adders.shift();
        else {
          // It leaves its place as a tombstone: its state changes first, so that a compaction drops it.
          startable.item.state = 'new';
          this.adders.left();
        }
        this.admitAdder(startable.item);
      }
      while (this.adders.size > 0 && this.waiting < capacity) this.admitNextAdder();
    } finally {
      this.dispatching = false;
      this.slots.endPass();
    }
    if (this.isIdle()) this.becameIdle();
    else if (this.state === 'forcing') this.maybeFinishForced();
  }

  private admitNextAdder(): void {
    this.admitAdder(this.adders.shift() as Task);
  }

  /** Admits a blocked caller already taken out of the line. */
  private admitAdder(task: Task): void {
    const extra = task.extra;
    let resolve: (() => void) | undefined;
    if (extra !== undefined) {
      if (extra.timer !== undefined) {
        clearTimeout(extra.timer);
        extra.timer = undefined;
      }
      resolve = extra.admitResolve;
      extra.admitResolve = extra.admitReject = undefined;
    }
    this.admit(task, true);
    if (extra !== undefined && extra.blockedAt !== 0) this.traceAdmission(task, undefined);
    resolve?.();
  }

  /** Publishes how a submitter that waited for room left the wait: admitted, or refused with `error`. */
  private traceAdmission(task: Task, error: Error | undefined): void {
    const extra = task.extra as TaskExtra;
    const waitedMs = performance.now() - extra.blockedAt;
    extra.blockedAt = 0;
    if (!admissionChannel.hasSubscribers) return;
    const trace: AdmissionTrace = { taskId: this.idOf(task), source: this.events, pool: this.name, key: keyOf(task), waitedMs, admitted: error === undefined, ...(error === undefined ? {} : { error }) };
    admissionChannel.publish(trace);
  }

  /**
   * Puts `task` on a slot and runs its first (or next) attempt. `scoped`: the task waited, so it starts in
   * the async context captured when it was made (the task is that `AsyncResource`).
   */
  private start(task: Task, scoped: boolean): void {
    const slot = this.slots.take();
    this.assigned++;
    if (task.extra?.waiting === true) this.nesting.leaves(task);
    task.state = 'running';
    let at = slot.busySince;
    if (this.gated) {
      at = this.gateNow;
      this.rate?.record(at);
    }
    if (this.keys !== undefined) {
      const key = keyOf(task);
      if (key !== undefined) {
        if (!this.gated && this.keys.limits.rate.length > 0) at = performance.now();
        this.keys.started(key, at);
      }
    }
    if (this.latency !== undefined) this.latency.recordWait(this.waitedMs(task, at), at);
    if (this.events.listenerCount('active') > 0) this.events.emit('active', this.idOf(task));
    if (scoped) task.runInAsyncScope(this.runAttempt, this, task, slot, undefined, at);
    else this.runAttempt(task, slot, undefined, at);
  }

  /** A keyed task left the queue without starting: its key's room is free again. */
  private unready(task: Task): void {
    if (this.keys === undefined) return;
    const key = keyOf(task);
    if (key !== undefined) this.keys.unready(key);
  }

  // ── Rate and pauses ──────────────────────────────────────────────────────────────────────────────────

  /**
   * Whether `n` attempts may start now: no `pauseFor` in force and every rate window has room. When not, a
   * timer dispatches again once they may (timers can fire early by the event loop's clock: it checks again).
   */
  private gateOpen(n: number): boolean {
    const now = performance.now();
    if (now < this.holdUntil) {
      this.wakeIn(this.holdUntil - now);
      return false;
    }
    if (this.rate === undefined) {
      this.gated = false;
    } else {
      const wait = this.rate.wait(now, n - 1);
      if (wait > 0) {
        this.wakeIn(wait);
        return false;
      }
    }
    this.gateNow = now;
    return true;
  }

  private wakeIn(ms: number): void {
    if (this.state === 'closed') return;
    const at = performance.now() + ms;
    // A timer set for later than this (a gang's wait, since aborted) gives way to the sooner one.
    if (this.gateTimer !== undefined) {
      if (this.gateWake <= at) return;
      clearTimeout(this.gateTimer);
    }
    this.gateWake = at;
    this.gateTimer = setTimeout(gateOpened, timerDelay(ms), this);
  }

  /** @internal The gate's timer fired. */
  gateOpened(): void {
    this.gateTimer = undefined;
    this.dispatch();
  }

  /** Sets the pool-wide rate windows (none: no rate), at once; the starts already made count. */
  setRate(windows: readonly RateWindow[]): void {
    if (windows.length === 0) this.rate = undefined;
    else if (this.rate === undefined) this.rate = new RateLog(windows);
    else this.rate.set(windows);
    this.gated = this.rate !== undefined || this.holdUntil > performance.now();
    const least = Math.min(...windows.map((w) => w.limit));
    this.gangs.filter((g) => {
      if (g.tasks.length <= least) return true;
      this.dropGang(g, new RangeError(messages.gangOverRate(g.tasks.length, least)));
      return false;
    });
    if (this.gateTimer !== undefined) clearTimeout(this.gateTimer);
    this.gateTimer = undefined;
    this.dispatch();
  }

  /** A task reported progress: its `onProgress` hears of it while the attempt has not settled. */
  progressed(attempt: unknown, value: unknown): void {
    const a = attempt as Attempt;
    const fn = a.task.spec.onProgress;
    if (fn === undefined || a.settled) return;
    void this.hooks.call('onProgress', fn, undefined, 1, value);
  }

  /** Starts no attempt for `ms` from now (a later end than one already in force wins). */
  pauseFor(ms: number): void {
    const until = performance.now() + validateDuration('pauseFor(ms)', ms);
    if (until <= this.holdUntil) return;
    this.holdUntil = until;
    this.gated = true;
    if (this.gateTimer !== undefined) clearTimeout(this.gateTimer);
    this.gateTimer = undefined;
    this.dispatch();
  }

  /** How long an `errReload` rerun of `task` must wait for the pool's and its key's rate (0: now). */
  private rerunWait(task: Task): number {
    const now = performance.now();
    let wait = 0;
    if (this.gated) wait = Math.max(this.holdUntil - now, this.rate === undefined ? 0 : this.rate.wait(now, 0));
    const key = this.keys === undefined ? undefined : keyOf(task);
    if (key !== undefined) wait = Math.max(wait, (this.keys as KeyTable).rerunWait(key, now));
    return wait;
  }

  /** Records a rerun's start where a start counts; returns its time. */
  private rerunStarted(task: Task): number {
    const now = performance.now();
    this.rate?.record(now);
    const key = this.keys === undefined ? undefined : keyOf(task);
    if (key !== undefined) (this.keys as KeyTable).rerunStarted(key, now);
    return now;
  }

  // ── Gangs ────────────────────────────────────────────────────────────────────────────────────────────

  /**
   * Puts a gang in line: all or nothing, each task on its own slot, when that many slots are free at once.
   * While it waits, a signal of any of its tasks that aborts rejects the whole gang with an `AbortError` and
   * the slots it was reserving go back to queued tasks.
   */
  addGang(tasks: Task[]): Promise<void> {
    if (tasks.length > this.slots.count) return Promise.reject(new RangeError(messages.gangTooLarge(tasks.length, this.slots.count)));
    const least = this.rate === undefined ? Number.POSITIVE_INFINITY : Math.min(...this.rate.windows.map((w) => w.limit));
    if (tasks.length > least) return Promise.reject(new RangeError(messages.gangOverRate(tasks.length, least)));
    if (this.keys !== undefined && tasks.some((t) => keyOf(t) !== undefined)) return Promise.reject(new TypeError(messages.gangWithKey));
    return new Promise<void>((resolve, reject) => {
      const gang: Gang = { tasks, resolve, reject, unlink: noop };
      const signals: AbortSignal[] = [];
      for (const task of tasks) {
        task.id = ++this.lastId;
        if (task.spec.signal !== undefined) signals.push(task.spec.signal);
      }
      if (signals.length > 0) {
        const onAbort = () => {
          const signal = signals.find((s) => s.aborted) as AbortSignal;
          this.gangs.filter((g) => g !== gang);
          this.dropGang(gang, new AbortError(signal.reason, messages.gangAborted));
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
    });
  }

  /** A waiting gang is refused: none of its tasks ran, and its promise rejects with `err`. */
  private dropGang(gang: Gang, err: Error): void {
    gang.unlink();
    this.rejected += gang.tasks.length;
    gang.reject(err);
  }

  private startGang(gang: Gang): void {
    gang.unlink();
    for (const task of gang.tasks) {
      this.pending++;
      task.spec.tracker?.taskAdmitted();
      if (task.spec.signal !== undefined) this.listen(task);
    }
    for (const task of gang.tasks) if (task.state === 'new') this.start(task, true);
    gang.resolve();
  }

  // ── Attempts ─────────────────────────────────────────────────────────────────────────────────────────

  /** Runs one attempt of `task` on `slot` through the executor: the one place where attempts run. */
  private runAttempt(task: Task, slot: Slot<Attempt>, rerun: ((ok: boolean, value: unknown) => void) | undefined, startedAt: number): void {
    const attempt = new Attempt(task, slot, task.attempts + 1, rerun);
    slot.startedAt = startedAt;
    task.attempt = attempt;
    slot.attempt = attempt;
    const timeout = task.spec.timeout;
    if (timeout > 0) attempt.timer = setTimeout(attemptTimedOut, timeout, this, attempt);
    const trace = traced() ? this.traceOf(task, attempt, rerun !== undefined) : undefined;
    task.queuedAt = 0;
    let result: unknown;
    let then: ReturnType<typeof thenOf>;
    const outer = this.calling;
    this.calling = task;
    try {
      if (trace !== undefined) result = taskChannel.start.runStores(trace, this.invoke, this, task, attempt);
      else result = this.lineage === undefined ? this.executor.execute(task, attempt) : this.lineage.run(task, execute, this.executor, task, attempt);
      then = thenOf(result);
    } catch (err) {
      this.calling = outer;
      if (trace !== undefined) traceReturned(trace, false, err, false);
      this.attemptReturned(attempt, false, err);
      return;
    }
    this.calling = outer;
    if (then === undefined) {
      if (trace !== undefined) traceReturned(trace, true, result, false);
      this.attemptReturned(attempt, true, result);
      return;
    }
    if (trace !== undefined) {
      attempt.trace = trace;
      taskChannel.end.publish(trace);
    }
    if (result instanceof Promise) {
      result.then(slot.onFulfilled, slot.onRejected);
    } else {
      // A foreign thenable may call back twice or throw: a native promise keeps the first outcome.
      new Promise((resolve, reject) => then.call(result, resolve, reject)).then(slot.onFulfilled, slot.onRejected);
    }
  }

  /** Calls the executor (in the task's lineage when deadlocks are tracked), inside the trace's stores. */
  private invoke(task: Task, attempt: Attempt): unknown {
    return this.lineage === undefined ? this.executor.execute(task, attempt) : this.lineage.run(task, execute, this.executor, task, attempt);
  }

  /** The trace message of an attempt about to start (only built with a subscriber). */
  private traceOf(task: Task, attempt: Attempt, rerun: boolean): AttemptTrace {
    const waitMs = rerun ? 0 : this.waitedMs(task, attempt.startedAt);
    return { taskId: this.idOf(task), source: this.events, attempt: attempt.attempt, pool: this.name, key: keyOf(task), workerId: attempt.slot.id, waitMs };
  }

  /** An attempt's function returned (or its promise settled). */
  private attemptReturned(attempt: Attempt, ok: boolean, value: unknown): void {
    if (attempt.settled) {
      // The attempt had timed out; its function has now returned and frees the slot.
      const slot = attempt.slot;
      slot.zombies--;
      if (slot.zombies === 0) {
        const drained = slot.onDrained;
        slot.onDrained = undefined;
        if (drained !== undefined) drained();
        else if (!slot.held) {
          this.released(slot);
          const key = slot.keyHeld;
          if (key !== undefined) {
            slot.keyHeld = undefined;
            this.keys?.left(key);
          }
          this.dispatch();
        }
      }
      return;
    }
    attempt.settled = true;
    if (attempt.timer !== undefined) clearTimeout(attempt.timer);
    this.attemptSettled(attempt, ok, value);
  }

  /** An attempt's timeout passed: it fails now; its function keeps the slot until it returns. */
  timeoutAttempt(attempt: Attempt): void {
    if (attempt.settled) return;
    attempt.settled = true;
    attempt.timer = undefined;
    attempt.slot.zombies++;
    const err = new TaskTimeoutError(attempt.task.spec.timeout);
    attempt.abort(err);
    this.attemptSettled(attempt, false, err);
  }

  private attemptSettled(attempt: Attempt, ok: boolean, value: unknown): void {
    const task = attempt.task;
    const slot = attempt.slot;
    if (attempt.trace !== undefined) {
      traceReturned(attempt.trace, ok, value, true);
      attempt.trace = undefined;
    }
    slot.executed++;
    if (!ok) {
      slot.failed++;
      releaseStack(value);
    }
    if (this.adaptive !== undefined) this.adapt(attempt, ok, value);
    if (attempt.rerun !== undefined) {
      attempt.rerun(ok, value);
      return;
    }
    if (ok) {
      this.succeeded(task, value);
      return;
    }
    const err = toError(value);
    if (task.spec.retry !== undefined && this.shouldRetry(task, err)) this.startBackoff(task, err);
    else this.finalFailure(task, err);
  }

  /** Feeds the adaptive limit one finished attempt and applies the limit it returns. */
  private adapt(attempt: Attempt, ok: boolean, value: unknown): void {
    const limiter = this.adaptive as AdaptiveLimit;
    const now = performance.now();
    const limit = limiter.sample(now - attempt.startedAt, this.slots.busy, !ok && isOverload(value), now);
    if (limit !== this.slots.count && this.state === 'open') this.resize(limit);
  }

  // ── Retries ──────────────────────────────────────────────────────────────────────────────────────────

  private shouldRetry(task: Task, err: Error): boolean {
    const policy = task.spec.retry as NonNullable<TaskSpec['retry']>;
    const done = task.extra === undefined ? 0 : task.extra.policyRetries;
    if (done >= policy.retries || this.stopReason(task, policy.retries === Number.POSITIVE_INFINITY) !== undefined) return false;
    if (policy.retryIf === undefined) return retryableByDefault(err);
    try {
      return policy.retryIf(err, task.attempts) === true;
    } catch (e) {
      this.hooks.failed(e, 'retryIf');
      return false;
    }
  }

  /** Why retries of `task` must stop now, if they must: its signal aborted, or the engine is closing. */
  private stopReason(task: Task, endless: boolean): Error | undefined {
    const signal = task.spec.signal;
    if (signal?.aborted) return abortError(signal.reason, messages.retriesAborted);
    // Only a forced close leaves tasks running once the engine is closed.
    if (this.state === 'forcing' || this.state === 'closed') return new PoolClosedError(messages.retriesForced);
    if (endless && this.state !== 'open') return new PoolClosedError(messages.endlessRetriesClosed);
    return undefined;
  }

  private startBackoff(task: Task, err: Error): void {
    const policy = task.spec.retry as NonNullable<TaskSpec['retry']>;
    const extra = task.more();
    extra.policyRetries++;
    this.retried++;
    if (policy.onRetry !== undefined) this.hooks.call('onRetry', policy.onRetry, undefined, 2, err, task.attempts);
    if (this.events.listenerCount('retry') > 0) this.events.emit('retry', err, task.attempts, this.idOf(task));
    this.leaveSlot(task);
    task.state = 'backoff';
    this.backoff.add(task);
    const delay = backoffDelay(policy, extra.policyRetries);
    if (retryChannel.hasSubscribers) this.traceRetry(task, task.attempts, err, delay);
    extra.timer = setTimeout(backoffOver, delay, this, task);
    this.dispatch();
  }

  /** A backoff delay passed: the task queues again, ahead of later tasks of its priority. */
  backoffOver(task: Task): void {
    (task.extra as TaskExtra).timer = undefined;
    this.backoff.delete(task);
    // Admitted already, so it needs no room.
    task.state = 'queued';
    if (this.timesWaits) task.queuedAt = this.queueTicks();
    const key = this.keys === undefined ? undefined : keyOf(task);
    if (key === undefined || (this.keys as KeyTable).enter(task, key)) this.queue.unshift(task);
    this.dispatch();
  }

  private leaveBackoff(task: Task): void {
    const extra = task.extra as TaskExtra;
    if (extra.timer !== undefined) clearTimeout(extra.timer);
    extra.timer = undefined;
    this.backoff.delete(task);
    task.state = 'failing';
  }

  private traceRetry(task: Task, attempt: number, error: Error, delayMs: number): void {
    retryChannel.publish({ taskId: this.idOf(task), source: this.events, pool: this.name, key: keyOf(task), attempt, error, delayMs } satisfies RetryTrace);
  }

  /** A retry that ran outside the engine (a remote queue's attempt): counted, its hook called, the event emitted. */
  reportRetry(task: Task, onRetry: ((err: Error, attempt: number) => void) | undefined, err: Error, attempt: number): void {
    this.retried++;
    if (retryChannel.hasSubscribers) this.traceRetry(task, attempt, err, 0);
    if (onRetry !== undefined) this.hooks.call('onRetry', onRetry, undefined, 2, err, attempt);
    if (this.events.listenerCount('retry') > 0) this.events.emit('retry', err, attempt, this.idOf(task));
  }

  /** A failure handler's rerun: attempts on the same slot, then `after(lastErr, result)`. */
  async rerun(failure: Failure, retries: number, after: AfterRerun | undefined): Promise<Error | null> {
    const task = failure.task;
    const endless = retries === Number.POSITIVE_INFINITY;
    let last: Error | null = failure.error;
    let result: unknown;
    for (let i = 0; i < retries; i++) {
      // Yield to the event loop between attempts so that endless reruns cannot starve it.
      await new Promise<void>((resolve) => setImmediate(resolve));
      const slot = task.state === 'running' ? (task.attempt as Attempt).slot : undefined;
      let stop = this.stopReason(task, endless);
      if (stop === undefined && slot === undefined) break;
      if (stop === undefined && (slot as Slot<Attempt>).zombies > 0) {
        // Never more than one task function per slot: wait for the timed-out one to return.
        await new Promise<void>((resolve) => ((slot as Slot<Attempt>).onDrained = resolve));
        stop = this.stopReason(task, endless);
      }
      // A rerun is a start like any other: it waits for the pool's and its key's rate.
      if (stop === undefined && (this.gated || this.keys !== undefined)) {
        for (let wait = this.rerunWait(task); wait > 0 && stop === undefined; wait = this.rerunWait(task)) {
          await sleep(timerDelay(wait));
          stop = this.stopReason(task, endless);
        }
      }
      if (stop !== undefined) {
        last = stop;
        break;
      }
      this.retried++;
      if (retryChannel.hasSubscribers) this.traceRetry(task, task.attempts, last as Error, 0);
      const at = this.gated || this.keys !== undefined ? this.rerunStarted(task) : performance.now();
      const [ok, value] = await new Promise<[boolean, unknown]>((resolve) => this.runAttempt(task, slot as Slot<Attempt>, (o, v) => resolve([o, v]), at));
      if (ok) {
        result = value;
        last = null;
        break;
      }
      last = toError(value);
    }
    task.result = last === null ? result : new Rejection(last);
    if (after !== undefined) await this.hooks.call('errReload.after', after, undefined, 2, last, result);
    return last;
  }

  /** A rerun asked for after the failure handler had returned: nothing can run any more. */
  rerunTooLate(): void {
    this.hooks.failed(new Error(messages.rerunTooLate), 'onError');
  }

  // ── Outcome: hooks in their order, then the task settles ─────────────────────────────────────────────

  private succeeded(task: Task, value: unknown): void {
    task.result = value;
    const spec = task.spec;
    const pending = spec.onSuccess === undefined ? undefined : this.hooks.call('onSuccess', spec.onSuccess, spec.onSuccessThis, 1, value);
    if (pending === undefined) this.complete(task);
    else void pending.then(() => this.complete(task));
  }

  private finalFailure(task: Task, err: Error): void {
    task.result = new Rejection(err);
    const onFailure = task.spec.onFailure;
    if (onFailure === undefined) {
      this.complete(task);
      return;
    }
    const failure = new Failure(this, task, err);
    const pending = this.hooks.call('onError', onFailure, undefined, 1, failure);
    if (pending === undefined) this.afterHandler(task, failure);
    else void pending.then(() => this.afterHandler(task, failure));
  }

  private afterHandler(task: Task, failure: Failure): void {
    failure.closed = true;
    if (failure.running === undefined) this.complete(task);
    else void failure.running.then(() => this.complete(task));
  }

  private complete(task: Task): void {
    const spec = task.spec;
    const pending = spec.onComplete === undefined ? undefined : this.hooks.call('onComplete', spec.onComplete, spec.onCompleteThis, 0);
    if (pending === undefined) this.finish(task);
    else void pending.then(() => this.finish(task));
  }

  private finish(task: Task): void {
    const held = task.state === 'running';
    task.state = 'done';
    if (task.extra?.waiting === true) this.nesting.leaves(task);
    const spec = task.spec;
    const result = task.result;
    const ok = !(result instanceof Rejection);
    // On success; on the final failure only when no failure handler owns that path.
    if (spec.markDone && spec.tracker !== undefined && (ok || spec.onFailure === undefined)) this.trackerDone(spec.tracker);
    if (task.extra?.watched === true) this.unlisten(task);
    if (held) this.leaveSlot(task);
    this.pending--;
    const resolve = task.resolve;
    task.resolve = undefined;
    task.result = undefined;
    if (ok) {
      this.completed++;
      if (this.events.listenerCount('completed') > 0) this.events.emit('completed', result, this.idOf(task));
    } else {
      this.failedTasks++;
      if (this.events.listenerCount('failed') > 0) this.events.emit('failed', result.error, this.idOf(task));
    }
    if (settledChannel.hasSubscribers) {
      const trace: SettledTrace = { taskId: this.idOf(task), source: this.events, pool: this.name, key: keyOf(task), attempts: task.attempts, ok, ...(ok ? {} : { error: result.error }) };
      settledChannel.publish(trace);
    }
    // A Rejection result rejects the promise it resolves.
    if (resolve !== undefined) resolve(result, task);
    spec.tracker?.taskFinished();
    this.dispatch();
  }

  /** The running task lets go of its slot (it ends, or waits out a backoff); its state changes next. */
  private leaveSlot(task: Task): void {
    const slot = (task.attempt as Attempt).slot;
    slot.held = false;
    this.assigned--;
    if (slot.zombies === 0) this.released(slot);
    if (this.keys !== undefined) {
      const key = keyOf(task);
      // A timed-out function still running holds its key's room too, until it returns.
      if (key !== undefined) {
        if (slot.zombies === 0) this.keys.left(key);
        else slot.keyHeld = key;
      }
    }
    this.nesting.progressed();
  }

  private trackerDone(tracker: Tracker): void {
    try {
      tracker.done();
    } catch (err) {
      this.hooks.failed(err, 'autoDone');
    }
  }

  // ── Control ──────────────────────────────────────────────────────────────────────────────────────────

  /** A tracker has waiters (they are rejected if the engine closes first), or has none any more. */
  watch(tracker: Tracker, waiting: boolean): void {
    if (waiting) this.trackers.add(tracker);
    else this.trackers.delete(tracker);
  }

  /** Stops starting tasks (not admitting them). No effect once closing: a graceful close runs what was admitted. */
  pause(): void {
    if (this.state === 'open') this.paused = true;
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.dispatch();
  }

  /** Sets the number of slots; a waiting gang larger than the new count is refused with a `RangeError`. */
  resize(n: number): void {
    const old = this.slots.count;
    this.slots.resize(n);
    if (n < old) {
      this.gangs.filter((g) => {
        if (g.tasks.length <= n) return true;
        this.dropGang(g, new RangeError(messages.gangTooLarge(g.tasks.length, n)));
        return false;
      });
    }
    this.dispatch();
    if (n > old && this.roomWatchers.size > 0) {
      const watchers = [...this.roomWatchers];
      this.roomWatchers.clear();
      for (const w of watchers) w();
    }
  }

  /**
   * Calls `fn` once when room appears that no settling task announces (a resize up): how a batch that waits
   * for one of its members to settle hears of it. `false` stops watching.
   */
  watchRoom(fn: () => void, on: boolean): void {
    if (on) this.roomWatchers.add(fn);
    else this.roomWatchers.delete(fn);
  }

  /**
   * Takes every task waiting for a slot out of the queue. With `err` each fails with it (its hooks run);
   * without, they are discarded unsettled (p-limit's `clearQueue()`).
   */
  clearQueue(err: Error | undefined): void {
    const parked = this.keys === undefined ? [] : this.keys.drain();
    for (const task of [...parked, ...this.queue.drain()]) {
      if (task.state === 'queued') this.unready(task);
      if (err !== undefined) {
        task.state = 'failing';
        this.finalFailure(task, err);
        continue;
      }
      task.state = 'dropped';
      this.unlisten(task);
      this.nesting.leaves(task);
      this.pending--;
      task.spec.tracker?.taskFinished();
      task.resolve = undefined;
    }
    this.dispatch();
  }

  private isIdle(): boolean {
    return this.pending === 0 && this.adders.size === 0 && this.gangs.length === 0;
  }

  /** Resolves when no task is admitted, blocked or waiting as a gang (at once if so already). */
  onIdle(resolved: Promise<void>): Promise<void> {
    if (this.isIdle()) return resolved;
    return new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  private becameIdle(): void {
    const wasActive = this.active;
    this.active = false;
    if (this.idleWaiters.length > 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
    if (this.state === 'closing' || this.state === 'forcing') this.finishClose();
    if (wasActive) this.events.emit('idle');
  }

  /** The engine's figures as plain data. */
  figures(): PoolUsage {
    const usage: Mutable<PoolUsage> = {
      workers: this.slots.figures(),
      limit: this.slots.count,
      running: this.slots.busy,
      waiting: this.waiting,
      blocked: this.adders.size,
      backoff: this.backoff.size,
      completed: this.completed,
      failed: this.failedTasks,
      retried: this.retried,
      rejected: this.rejected,
      callbackErrors: this.hooks.errors,
    };
    if (this.rate !== undefined) usage.rate = this.rate.headroom(performance.now());
    if (this.latency !== undefined) usage.latency = this.latency.figures(performance.now());
    if (this.keys !== undefined) usage.keys = this.keys.figures();
    return usage;
  }

  /** The id a task shows outside (`ctx.taskId`, traces, events, `tasks()`): the pool's prefix and its number. */
  idOf(task: unknown): string {
    return this.idPrefix + (task as Task).id;
  }

  /**
   * Frees a slot; its time held counts as a run time: the attempt and, after the last attempt, the task's
   * callbacks (the release's clock reading serves both, so the figures cost no clock read of their own).
   */
  private released(slot: Slot<Attempt>): void {
    const held = this.slots.release(slot);
    if (this.latency !== undefined) this.latency.recordRun(held, this.slots.releasedAt);
  }

  /**
   * The time a task joins the queue, in ticks of 0.1 ms since the engine was made, wrapped to 30 bits (1.24
   * days): a small integer, so that the task's field holds it in place, where a fractional number of ms
   * would cost a heap number per task. Never 0 (0: the task started at once).
   */
  private queueTicks(): number {
    // In a pass that released a slot (a task ended, and its batch submits the next), that reading serves.
    if (this.slots.clockFresh) return ((this.slots.releasedAt - this.origin) * 10) & TICK_MASK || 1;
    if (this.stampValid) return this.stamp;
    // One clock reading per synchronous run of code: a loop that submits 10,000 tasks reads it once (their
    // waits then count from the start of that loop).
    this.stamp = ((performance.now() - this.origin) * 10) & TICK_MASK || 1;
    this.stampValid = true;
    queueMicrotask(this.dropStamp);
    return this.stamp;
  }

  private readonly dropStamp = (): void => {
    this.stampValid = false;
  };

  /** How long `task` waited, in ms, for a start at `at` (`performance.now()` ms). */
  private waitedMs(task: Task, at: number): number {
    const queued = task.queuedAt;
    if (queued === 0) return 0;
    const ticks = (((at - this.origin) * 10) & TICK_MASK) - queued;
    // A start time taken a little before the queue time (the same pass): no wait. A wait beyond the wrap
    // (1.24 days) is counted modulo it.
    return ticks < 0 ? (ticks + TICK_MASK + 1 > TICK_MASK / 2 ? 0 : (ticks + TICK_MASK + 1) / 10) : ticks / 10;
  }

  /** Forgets the wait and run times recorded so far. */
  resetLatency(): void {
    this.latency?.reset();
  }

  /** Queue times are taken: for the wait figures, or for a trace subscriber's `waitMs`. */
  private get timesWaits(): boolean {
    return this.latency !== undefined || traced();
  }

  /** What runs now: one entry per task holding a slot, by slot. */
  tasks(): RunningTask[] {
    const out: RunningTask[] = [];
    for (const slot of this.slots.list) {
      if (!slot.held) continue;
      const attempt = slot.attempt as Attempt;
      const task = attempt.task;
      out.push({ id: this.idOf(task), key: keyOf(task), attempt: attempt.attempt, startedAt: performance.timeOrigin + attempt.startedAt, worker: slot.id });
    }
    return out;
  }

  // ── Close ────────────────────────────────────────────────────────────────────────────────────────────

  /**
   * Stops admitting; resolves once every admitted task has finished, with the `source` of the tasks a forced
   * close failed before they started. `force`: at once; `timeout` (ms): graceful until then, then forced.
   * Idempotent: a later call returns the same promise (and forces, if it asks to).
   */
  close(force: boolean, timeout: number | undefined): Promise<unknown[]> {
    if (this.closing !== undefined) {
      if (force) this.forceClose();
      return this.closing.promise;
    }
    let resolveClose!: (v: unknown[]) => void;
    const promise = new Promise<unknown[]>((resolve) => (resolveClose = resolve));
    this.closing = { promise, resolve: resolveClose };
    this.state = 'closing';
    this.paused = false;
    for (const task of this.adders.drain()) {
      this.drop(task);
      this.settleRefused(task, new PoolClosedError(messages.closedBeforeAdmission));
    }
    for (let gang = this.gangs.shift(); gang !== undefined; gang = this.gangs.shift()) this.dropGang(gang, new PoolClosedError(messages.closedBeforeAdmission));
    this.failBackoff((task) => (task.spec.retry as NonNullable<TaskSpec['retry']>).retries === Number.POSITIVE_INFINITY, messages.endlessRetriesClosed);
    if (force || timeout === 0) this.forceClose();
    else if (timeout !== undefined && timeout !== Number.POSITIVE_INFINITY) this.closeTimer = setTimeout(() => this.forceClose(), timeout);
    this.dispatch();
    return promise;
  }

  private failBackoff(which: (task: Task) => boolean, message: string): void {
    for (const task of [...this.backoff]) {
      if (!which(task)) continue;
      this.leaveBackoff(task);
      this.finalFailure(task, new PoolClosedError(message));
    }
  }

  private forceClose(): void {
    if (this.state !== 'closing') return;
    this.state = 'forcing';
    this.clearCloseTimer();
    for (const slot of this.slots.list) if (slot.held) (slot.attempt as Attempt).abort(new PoolClosedError(messages.closedWithForce));
    const parked = this.keys === undefined ? [] : this.keys.drain();
    for (const task of [...parked, ...this.queue.drain()]) {
      if (task.state === 'queued') this.unready(task);
      task.state = 'failing';
      if (task.attempt === undefined && task.spec.source !== undefined) this.neverStarted.push(task.spec.source);
      this.finalFailure(task, new PoolClosedError(messages.forcedBeforeStart));
    }
    this.failBackoff(() => true, messages.forcedInBackoff);
    this.maybeFinishForced();
  }

  private maybeFinishForced(): void {
    // Forced: running functions are not waited for (they may ignore their signal); the rest must settle.
    if (this.state === 'forcing' && this.pending === this.assigned) this.finishClose();
  }

  private finishClose(): void {
    if (this.closing === undefined || this.state === 'closed') return;
    this.state = 'closed';
    this.clearCloseTimer();
    this.nesting.stop();
    this.keys?.stop();
    if (this.gateTimer !== undefined) clearTimeout(this.gateTimer);
    this.gateTimer = undefined;
    const never = this.neverStarted;
    this.neverStarted = [];
    // Waits whose count cannot reach 0 any more are rejected a turn later: a submitter refused by this close
    // may still mark its group done in its rejection handler (`addTask(opt).catch(() => tg.done())`), and a
    // wait whose count reaches 0 that way resolves (#14.7).
    setImmediate(() => {
      for (const tracker of [...this.trackers]) tracker.rejectWaits(new PoolClosedError(messages.closedWithGroupWork));
    });
    this.closing.resolve(never);
  }

  private clearCloseTimer(): void {
    if (this.closeTimer !== undefined) clearTimeout(this.closeTimer);
    this.closeTimer = undefined;
  }
}
