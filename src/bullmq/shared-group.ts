/**
 * A task group shared across processes: its count lives in Redis, so producers anywhere can `add`, `done`
 * and `wait` on it by id (`dp.taskGroup(id)`). Its tasks' callbacks and auto-done still run on the producer
 * that added them. `wait()` resolves when the count in Redis is zero and none of this producer's tasks of the
 * group is still queued, running or in its callbacks (as an in-process group's wait).
 * @module
 */
import type { Tracker } from '../engine/task.js';
import { AbortError, TaskGroupError } from '../errors.js';
import { validateDuration, validateInteger, validateOptions, validateSignal } from '../options.js';
import type { GroupHost, WaitOptions } from '../task-group.js';
import { GROUP_TTL } from './keys.js';
import * as messages from './messages.js';
import type { ProducerLink } from './producer-link.js';
import { RemoteTaskOptions } from './remote-task-options.js';

const WAIT_KEYS = new Set(['signal', 'timeout']);
/** How often waiters read the count besides being told (a pub/sub message can be missed), ms. */
const POLL = 250;

interface Waiter {
  resolve: () => void;
  reject: (err: Error) => void;
  cleanup: () => void;
}

/** See the module comment. Made by `dp.taskGroup(id)`. */
export class SharedTaskGroup {
  /** The group's id, the same in every process that shares it. */
  readonly id: string;
  /** @internal What the engine counts this producer's tasks of the group with. */
  readonly tracker: Tracker;
  private active = 0;
  private waiters: Waiter[] = [];
  private poll: NodeJS.Timeout | undefined = undefined;
  private checking = false;
  private readonly key: string;
  private readonly link: ProducerLink;
  private readonly host: GroupHost;
  private readonly owner: object;

  /** @internal `report`: where a refused auto-done goes (it has no caller to reject). */
  constructor(link: ProducerLink, host: GroupHost, owner: object, id: string, report: (err: Error) => void) {
    this.link = link;
    this.host = host;
    this.owner = owner;
    this.id = id;
    this.key = link.keys.group(id);
    this.tracker = {
      taskAdmitted: () => {
        this.active++;
      },
      taskFinished: () => {
        this.active--;
        this.check();
      },
      done: () => {
        this.add(-1, 'done()').catch(report);
      },
      rejectWaits: (err) => this.rejectWaits(err),
    };
    link.sub.on('message', (channel: string) => {
      if (channel === this.key) this.check();
    });
  }

  /** Options for a task of this group: its auto-done marks the shared count done once. */
  newTaskOptions(): RemoteTaskOptions<unknown, SharedTaskGroup> {
    const opts = new RemoteTaskOptions<unknown, SharedTaskGroup>(this.owner, this);
    opts.spec.tracker = this.tracker;
    return opts;
  }

  /** The count in Redis now. */
  async count(): Promise<number> {
    return Number((await this.link.cmd.get(this.key)) ?? '0');
  }

  /**
   * Adds `delta` (an integer, may be negative) to the count, atomically for every process; resolves with the
   * new count. Rejects with a `TaskGroupError` (and changes nothing) when the count would go below zero.
   */
  add(delta: number, where = 'add(delta)'): Promise<number> {
    try {
      validateInteger(`SharedTaskGroup.${where}`, delta, Number.NEGATIVE_INFINITY);
    } catch (err) {
      return Promise.reject(err as Error);
    }
    const { cmd } = this.link;
    return cmd.lpGroupAdd(this.key, delta, this.key, GROUP_TTL).then(([ok, count]) => {
      if (ok === 0) throw new TaskGroupError(messages.sharedBelowZero(this.id, delta, count));
      return count;
    });
  }

  /** Marks one unit done; resolves with the new count; rejects with a `TaskGroupError` when it is already zero. */
  done(): Promise<number> {
    return this.add(-1, 'done()');
  }

  /**
   * Resolves when the count in Redis is zero and none of this producer's tasks of the group is active. Rejects
   * with an `AbortError` when `signal` aborts, a `TaskGroupError` after `timeout` ms, or a `PoolClosedError`
   * when this producer closes first.
   */
  wait(options?: WaitOptions): Promise<void> {
    let signal: AbortSignal | undefined;
    let timeout: number | undefined;
    try {
      if (options !== undefined) {
        validateOptions('wait(options)', options, WAIT_KEYS, 'a wait option');
        if (options.signal !== undefined) signal = validateSignal('wait(options).signal', options.signal);
        if (options.timeout !== undefined) timeout = validateDuration('wait(options).timeout', options.timeout, true);
      }
    } catch (err) {
      return Promise.reject(err as Error);
    }
    if (signal?.aborted) return Promise.reject(new AbortError(signal.reason, messages.sharedWaitAborted(this.id)));
    return new Promise<void>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      let onAbort: (() => void) | undefined;
      const waiter: Waiter = {
        resolve,
        reject,
        cleanup: () => {
          if (timer !== undefined) clearTimeout(timer);
          if (onAbort !== undefined) signal?.removeEventListener('abort', onAbort);
        },
      };
      if (timeout !== undefined && timeout !== Number.POSITIVE_INFINITY) {
        const ms = timeout;
        timer = setTimeout(() => this.drop(waiter, new TaskGroupError(messages.sharedWaitTimedOut(this.id, ms))), ms);
      }
      if (signal !== undefined) {
        const s = signal;
        onAbort = () => this.drop(waiter, new AbortError(s.reason, messages.sharedWaitAborted(this.id)));
        s.addEventListener('abort', onAbort, { once: true });
      }
      this.waiters.push(waiter);
      if (this.waiters.length === 1) this.listen();
      this.check();
    });
  }

  private listen(): void {
    this.host.watch(this.tracker, true);
    void this.link.sub.subscribe(this.key).catch(() => {});
    this.poll = setInterval(() => this.check(), POLL);
  }

  private unlisten(): void {
    this.host.watch(this.tracker, false);
    void this.link.sub.unsubscribe(this.key).catch(() => {});
    if (this.poll !== undefined) clearInterval(this.poll);
    this.poll = undefined;
  }

  /** Reads the count when someone waits and nothing of this producer's is active; resolves the waits at zero. */
  private check(): void {
    if (this.waiters.length === 0 || this.active > 0 || this.checking) return;
    this.checking = true;
    this.count().then(
      (count) => {
        this.checking = false;
        if (count !== 0 || this.active > 0 || this.waiters.length === 0) return;
        const waiters = this.waiters;
        this.waiters = [];
        this.unlisten();
        for (const w of waiters) {
          w.cleanup();
          w.resolve();
        }
      },
      () => {
        this.checking = false;
      },
    );
  }

  private drop(waiter: Waiter, err: Error): void {
    const i = this.waiters.indexOf(waiter);
    if (i < 0) return;
    this.waiters.splice(i, 1);
    waiter.cleanup();
    if (this.waiters.length === 0) this.unlisten();
    waiter.reject(err);
  }

  private rejectWaits(err: Error): void {
    for (const w of [...this.waiters]) this.drop(w, err);
  }
}
