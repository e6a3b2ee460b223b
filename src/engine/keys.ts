/**
 * Per-key limits: at most `workers` tasks of one key running and at most its rate of starts, on top of the
 * pool's limits, without head-of-line blocking. A keyed task is either ready (in the engine's queue: its key
 * had room for it, and that room is held for it) or parked behind its key until the key has room again, so a
 * free worker always finds a task it may start at the front of the queue. A key lives while it has tasks or,
 * with a rate, while its latest start is inside a window; a sweep drops it after that, so a stream of
 * distinct keys leaves nothing behind.
 * @module
 */
import { performance } from 'node:perf_hooks';
import { RingQueue } from '../internal/ring-queue.js';
import { Lane } from './lane.js';
import { RateLog, type RateWindow } from './rate-log.js';
import type { Task } from './task.js';
import { timerDelay } from './timer-delay.js';

/** The per-key limits, validated. */
export interface KeyLimits {
  /** Tasks of one key running at once (`Infinity`: no bound). */
  readonly workers: number;
  /** Rate windows per key (empty: no rate). */
  readonly rate: readonly RateWindow[];
}

/** One key's figures, from `usage().keys`. */
export interface KeyUsage {
  /** The key. */
  readonly key: string;
  /** Its tasks holding a worker. */
  readonly running: number;
  /** Its tasks admitted and waiting, ready or held back by the key's limits. */
  readonly waiting: number;
}

/** One key's state. */
class Key {
  readonly name: string;
  running = 0;
  /** Its tasks in the engine's queue: they hold the key's room. */
  ready = 0;
  parked: Lane<Task> | undefined = undefined;
  log: RateLog | undefined = undefined;
  timer: NodeJS.Timeout | undefined = undefined;

  constructor(name: string) {
    this.name = name;
  }

  get idle(): boolean {
    return this.running === 0 && this.ready === 0 && (this.parked === undefined || this.parked.size === 0);
  }
}

function rateOpened(table: KeyTable, key: Key): void {
  key.timer = undefined;
  table.promote(key);
  table.onReady();
}

/** Every key in use; see the module comment. */
export class KeyTable {
  readonly limits: KeyLimits;
  /** Tasks held back by their key's limits. */
  parked = 0;
  /** Called when parked tasks became ready: the engine dispatches. */
  readonly onReady: () => void;
  private readonly keys = new Map<string, Key>();
  private readonly enqueue: (task: Task) => void;
  private readonly longest: number;
  private sweeper: NodeJS.Timeout | undefined = undefined;

  constructor(limits: KeyLimits, enqueue: (task: Task) => void, onReady: () => void) {
    this.limits = limits;
    this.enqueue = enqueue;
    this.onReady = onReady;
    let longest = 0;
    for (const w of limits.rate) if (w.interval > longest) longest = w.interval;
    this.longest = longest;
  }

  /** How many keys are held (in use, or remembered for their rate). */
  get size(): number {
    return this.keys.size;
  }

  /**
   * A task of key `name` is admitted or comes back from a backoff: it goes into the engine's queue when its
   * key has room (returns true), else it waits behind its key.
   */
  enter(task: Task, name: string): boolean {
    let key = this.keys.get(name);
    if (key === undefined) {
      key = new Key(name);
      // The log exists from the key's first task, so that tasks let through before any of them starts
      // reserve the key's rate (key-rate-ignored-until-the-first-start).
      if (this.limits.rate.length > 0) key.log = new RateLog(this.limits.rate);
      this.keys.set(name, key);
    }
    if ((key.parked === undefined || key.parked.size === 0) && this.hasRoom(key)) {
      key.ready++;
      return true;
    }
    task.state = 'parked';
    if (key.parked === undefined) key.parked = new Lane<Task>(new RingQueue<Task>(), 'parked');
    key.parked.push(task);
    this.parked++;
    this.schedule(key);
    return false;
  }

  /** Whether a task of key `name` admitted now would be ready (a new key always is). */
  canStart(name: string): boolean {
    const key = this.keys.get(name);
    return key === undefined || ((key.parked === undefined || key.parked.size === 0) && this.hasRoom(key));
  }

  /** A ready task of key `name` leaves the queue to start at `now` (read only when the key has a rate). */
  started(name: string, now: number): void {
    const key = this.keys.get(name) as Key;
    key.ready--;
    key.running++;
    if (key.log !== undefined) {
      key.log.record(now);
      // A start may free no room now, but it fixes when the next one fits: a task parked because the ready
      // ones held the whole rate waits for that moment, not for a task to end (key-parked-task-waited-for-an-end).
      this.schedule(key);
    }
  }

  /** How long an `errReload` rerun of a task of key `name` (it holds its worker) must wait for the key's rate. */
  rerunWait(name: string, now: number): number {
    const key = this.keys.get(name) as Key;
    if (key.log === undefined) return 0;
    const wait = key.log.wait(now, key.ready);
    // Infinity: the key's ready tasks hold its room until they start; look again shortly.
    return wait === Number.POSITIVE_INFINITY ? 10 : wait;
  }

  /** An `errReload` rerun of a task of key `name` starts at `now`. */
  rerunStarted(name: string, now: number): void {
    this.keys.get(name)?.log?.record(now);
  }

  /** A ready task of key `name` left the queue without starting (cancelled, closed, cleared). */
  unready(name: string): void {
    const key = this.keys.get(name) as Key;
    key.ready--;
    this.roomFreed(key);
  }

  /** A parked task left its key's line without starting (cancelled): it becomes a tombstone there. */
  unpark(name: string): void {
    const key = this.keys.get(name) as Key;
    (key.parked as Lane<Task>).left();
    this.parked--;
    this.forget(key);
  }

  /** A running task of key `name` let go of its worker. */
  left(name: string): void {
    const key = this.keys.get(name) as Key;
    key.running--;
    this.roomFreed(key);
  }

  /** A task of `key` gave its room back: its parked tasks may become ready, or the key may go. */
  private roomFreed(key: Key): void {
    this.promote(key);
    this.forget(key);
  }

  /** Moves the key's parked tasks into the engine's queue while the key has room. */
  promote(key: Key): void {
    const parked = key.parked;
    if (parked === undefined || parked.size === 0) return;
    while (parked.size > 0 && this.hasRoom(key)) {
      const task = parked.shift() as Task;
      this.parked--;
      key.ready++;
      this.enqueue(task);
    }
    this.schedule(key);
  }

  /** Takes every parked task out (a forced close, `clearQueue`); their keys stay until idle. */
  drain(): Task[] {
    const out: Task[] = [];
    for (const key of this.keys.values()) {
      if (key.parked === undefined) continue;
      if (key.timer !== undefined) clearTimeout(key.timer);
      key.timer = undefined;
      for (const task of key.parked.drain()) out.push(task);
    }
    this.parked = 0;
    for (const key of [...this.keys.values()]) this.forget(key);
    return out;
  }

  /** Calls `fn` on every parked task. */
  forEachParked(fn: (task: Task) => void): void {
    for (const key of this.keys.values()) key.parked?.forEach(fn);
  }

  /** Keys with tasks running or waiting, by name. */
  figures(): KeyUsage[] {
    const out: KeyUsage[] = [];
    for (const key of this.keys.values()) {
      if (key.idle) continue;
      out.push({ key: key.name, running: key.running, waiting: key.ready + (key.parked === undefined ? 0 : key.parked.size) });
    }
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  /** Stops the timers (the engine closed). */
  stop(): void {
    for (const key of this.keys.values()) {
      if (key.timer !== undefined) clearTimeout(key.timer);
      key.timer = undefined;
    }
    if (this.sweeper !== undefined) clearTimeout(this.sweeper);
    this.sweeper = undefined;
  }

  /** Whether one more task of `key` may become ready now (the clock is read only for a key with a rate). */
  private hasRoom(key: Key): boolean {
    if (key.running + key.ready >= this.limits.workers) return false;
    return key.log === undefined || key.log.wait(performance.now(), key.ready) === 0;
  }

  /** With tasks parked only for the key's rate, wakes up when it has room. */
  private schedule(key: Key): void {
    if (key.timer !== undefined || key.parked === undefined || key.parked.size === 0 || key.log === undefined) return;
    if (key.running + key.ready >= this.limits.workers) return;
    const wait = key.log.wait(performance.now(), key.ready);
    // Infinity: the key's ready tasks hold all of its room; their starts free it up.
    if (wait === Number.POSITIVE_INFINITY) return;
    key.timer = setTimeout(rateOpened, timerDelay(wait), this, key);
  }

  /** Drops an idle key, at once without a rate, else once its latest start has left every window. */
  private forget(key: Key): void {
    if (!key.idle) return;
    if (key.log === undefined || performance.now() - key.log.last >= this.longest) {
      this.keys.delete(key.name);
      return;
    }
    if (this.sweeper === undefined) {
      this.sweeper = setTimeout(sweep, timerDelay(this.longest), this);
      this.sweeper.unref();
    }
  }

  /** @internal Drops every idle key whose rate no longer remembers a start; again later while some remain. */
  sweep(): void {
    this.sweeper = undefined;
    const now = performance.now();
    let waiting = false;
    for (const key of this.keys.values()) {
      if (!key.idle) continue;
      if (key.log === undefined || now - key.log.last >= this.longest) this.keys.delete(key.name);
      else waiting = true;
    }
    if (waiting) {
      this.sweeper = setTimeout(sweep, timerDelay(this.longest), this);
      this.sweeper.unref();
    }
  }
}

function sweep(table: KeyTable): void {
  table.sweep();
}
