/**
 * A wait group for a batch of tasks, as Go's `sync.WaitGroup` with litepool's `NewTaskGroup(n)`.
 * @module
 */
import type { Tracker } from './engine/task.js';
import { AbortError, TaskGroupError } from './errors.js';
import * as messages from './messages.js';
import { validateDuration, validateInteger, validateOptions, validateSignal } from './options.js';
import { TaskOptions } from './task-options.js';

/** Options of {@link TaskGroup.wait}. */
export interface WaitOptions {
  /** Gives up when this signal aborts: `wait()` rejects with an `AbortError`. */
  signal?: AbortSignal;
  /** Gives up after this many milliseconds: `wait()` rejects with a `TaskGroupError`. */
  timeout?: number;
}

/** The part of the pool a group talks to (internal wiring; not exported from the package). */
export interface GroupHost {
  /** The group has waiters (they are rejected if the pool closes first), or has none any more. */
  watch(group: Tracker, waiting: boolean): void;
}

const WAIT_KEYS = new Set(['signal', 'timeout']);

interface Waiter {
  resolve: () => void;
  reject: (err: Error) => void;
  cleanup: (() => void) | undefined;
}

/**
 * A counter of outstanding work plus a way to wait for it. `wait()` resolves when the count is zero **and**
 * no task made from the group is still queued or running its callbacks, so that when it resolves every
 * callback of the group's tasks has returned, whoever called `done()`.
 *
 * @example
 * ```ts
 * const tg = lp.newTaskGroup(urls.length);
 * for (const url of urls) await lp.addTask(tg.newTaskOptions().setTask(() => fetch(url)).setAutoDone());
 * await tg.wait();
 * ```
 */
export class TaskGroup {
  private remaining: number;
  private active = 0;
  private waiters: Waiter[] = [];
  private readonly host: GroupHost;
  private readonly owner: object;

  /** Made by `lp.newTaskGroup()`; not meant to be constructed by users. */
  constructor(host: GroupHost, owner: object, n: number) {
    this.host = host;
    this.owner = owner;
    this.remaining = validateInteger('newTaskGroup(n)', n, 0);
  }

  /** How many `done()` calls are still expected. */
  get count(): number {
    return this.remaining;
  }

  /** Options for a task of this group, to fill with the fluent setters and pass to `addTask()`. */
  newTaskOptions(): TaskOptions<unknown, TaskGroup> {
    return new TaskOptions(this.owner, this);
  }

  /** Marks one unit of work done. Throws a `TaskGroupError` when the count is already zero. */
  done(): void {
    if (this.remaining === 0) {
      throw new TaskGroupError(messages.doneBelowZero);
    }
    this.remaining--;
    this.settleIfIdle();
  }

  /** Adds `delta` (an integer, may be negative) to the count; the count may not go below zero. */
  add(delta: number): void {
    validateInteger('TaskGroup.add(delta)', delta, Number.NEGATIVE_INFINITY);
    if (this.remaining + delta < 0) throw new TaskGroupError(messages.addBelowZero(delta, this.remaining));
    this.remaining += delta;
    this.settleIfIdle();
  }

  /**
   * Resolves when the count is zero and none of the group's tasks is queued or running. Rejects with an
   * `AbortError` when `signal` aborts, a `TaskGroupError` after `timeout` ms, or a `PoolClosedError` when
   * the pool closes while the count is above zero. A task's callback must not await its own group's wait().
   */
  wait(options?: WaitOptions): Promise<void> {
    let signal: AbortSignal | undefined;
    let timeout: number | undefined;
    if (options !== undefined) {
      validateOptions('wait(options)', options, WAIT_KEYS, 'a wait option');
      if (options.signal !== undefined) signal = validateSignal('wait(options).signal', options.signal);
      if (options.timeout !== undefined) timeout = validateDuration('wait(options).timeout', options.timeout, true);
    }
    if (this.isIdle()) return Promise.resolve();
    if (signal?.aborted) return Promise.reject(new AbortError(signal.reason, messages.waitAborted));
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { resolve, reject, cleanup: undefined };
      let timer: NodeJS.Timeout | undefined;
      let onAbort: (() => void) | undefined;
      if (timeout !== undefined && timeout !== Number.POSITIVE_INFINITY) {
        timer = setTimeout(() => {
          this.removeWaiter(waiter);
          reject(new TaskGroupError(messages.waitTimedOut(timeout, this.remaining, this.active)));
        }, timeout);
      }
      if (signal !== undefined) {
        const s = signal;
        onAbort = () => {
          this.removeWaiter(waiter);
          reject(new AbortError(s.reason, messages.waitAborted));
        };
        s.addEventListener('abort', onAbort, { once: true });
      }
      if (timer !== undefined || onAbort !== undefined) {
        waiter.cleanup = () => {
          if (timer !== undefined) clearTimeout(timer);
          if (onAbort !== undefined) signal?.removeEventListener('abort', onAbort);
        };
      }
      this.waiters.push(waiter);
      if (this.waiters.length === 1) this.host.watch(this, true);
    });
  }

  /** @internal A task made from this group was admitted. */
  taskAdmitted(): void {
    this.active++;
  }

  /** @internal A task made from this group finished, callbacks and all. */
  taskFinished(): void {
    this.active--;
    this.settleIfIdle();
  }

  /** @internal The pool closed: waits that can no longer be satisfied by the pool are rejected. */
  rejectWaits(err: Error): void {
    if (this.isIdle()) return;
    const waiters = this.waiters;
    this.waiters = [];
    this.host.watch(this, false);
    for (const w of waiters) {
      w.cleanup?.();
      w.reject(err);
    }
  }

  private isIdle(): boolean {
    return this.remaining === 0 && this.active === 0;
  }

  private settleIfIdle(): void {
    if (this.waiters.length === 0 || !this.isIdle()) return;
    const waiters = this.waiters;
    this.waiters = [];
    this.host.watch(this, false);
    for (const w of waiters) {
      w.cleanup?.();
      w.resolve();
    }
  }

  private removeWaiter(waiter: Waiter): void {
    const i = this.waiters.indexOf(waiter);
    if (i >= 0) this.waiters.splice(i, 1);
    waiter.cleanup?.();
    if (this.waiters.length === 0) this.host.watch(this, false);
  }
}
