/**
 * The engine's worker slots: how many there are, which are idle (used in turn, FIFO), how many are busy, and
 * their figures. A resize takes effect at once both ways.
 * @module
 */
import { performance } from 'node:perf_hooks';
import { RingQueue } from '../internal/ring-queue.js';
import type { WorkerUsage } from '../usage.js';
import { Slot, type AttemptSink, type SlotOwner } from './slot.js';

/** Slots made up front; a larger count (as `limit(Infinity)`'s) makes the rest when first needed. */
const EAGER_SLOTS = 1024;

/** The set of slots of one engine. */
export class Slots<A> {
  /** How many slots the engine has now (retired ones not counted). */
  count: number;
  /** Slots holding a task or a timed-out function, retiring ones included. */
  busy = 0;
  readonly list: Slot<A>[] = [];
  private readonly idle = new RingQueue<Slot<A>>();
  private readonly sink: AttemptSink<A>;
  private readonly owner: SlotOwner;
  /** The time of the last release, usable until the end of the engine's dispatch pass (`endPass`). */
  private clockAt = 0;
  private clockValid = false;

  constructor(count: number, sink: AttemptSink<A>, owner: SlotOwner) {
    this.count = count;
    this.sink = sink;
    this.owner = owner;
    while (this.list.length < Math.min(count, EAGER_SLOTS)) this.idle.push(this.make());
  }

  /**
   * How many tasks may start now: idle slots, counting those not made yet, but never more than
   * `count - busy`. After a resize down, removed slots still finishing count as busy, so the kept ones wait
   * for them: the bound is `count` task functions at once, whichever slots run them.
   */
  get free(): number {
    return Math.min(this.idle.length + Math.max(0, this.count - this.list.length), this.count - this.busy);
  }

  /** Takes the slot that became idle first and marks it busy. */
  take(): Slot<A> {
    const slot = this.idle.shift() ?? this.make();
    slot.state = 'busy';
    slot.held = true;
    // A slot freed in this dispatch pass lends its release time: one clock read per task, not two.
    slot.busySince = this.clockValid ? this.clockAt : performance.now();
    this.busy++;
    return slot;
  }

  /**
   * The slot is free again (its task left and no timed-out function runs on it); returns how long it was
   * held (ending at {@link releasedAt}).
   */
  release(slot: Slot<A>): number {
    const now = performance.now();
    const held = now - slot.busySince;
    slot.busyMs += held;
    this.clockAt = now;
    this.clockValid = true;
    this.busy--;
    if (slot.retiring) {
      slot.retiring = false;
      slot.state = 'retired';
    } else {
      slot.state = 'idle';
      this.idle.push(slot);
    }
    return held;
  }

  /** The time of the last release. */
  get releasedAt(): number {
    return this.clockAt;
  }

  /** Whether {@link releasedAt} is from this dispatch pass (a fresh enough clock reading to reuse). */
  get clockFresh(): boolean {
    return this.clockValid;
  }

  /** The dispatch pass is over: the next start reads the clock again. */
  endPass(): void {
    this.clockValid = false;
  }

  /** Sets the number of slots; removed busy slots retire when they free up, retired ones come back first. */
  resize(n: number): void {
    const old = this.count;
    this.count = n;
    for (let id = old; id < n; id++) {
      const slot = this.list[id];
      if (slot === undefined) {
        if (id >= EAGER_SLOTS) break;
        this.idle.push(this.make());
      } else if (slot.retiring) {
        slot.retiring = false;
      } else if (slot.state === 'retired') {
        slot.state = 'idle';
        this.idle.push(slot);
      }
    }
    if (n >= old) return;
    for (let id = n; id < Math.min(old, this.list.length); id++) {
      const slot = this.list[id] as Slot<A>;
      if (slot.state === 'idle') slot.state = 'retired';
      else slot.retiring = true;
    }
    this.idle.filter((s) => s.state === 'idle');
  }

  /** Every slot's figures, busy time counted up to now. */
  figures(): WorkerUsage[] {
    const now = performance.now();
    return this.list.map((s) => ({
      id: s.id,
      state: s.state,
      executed: s.executed,
      failed: s.failed,
      busyMs: s.busyMs + (s.state === 'busy' ? now - s.busySince : 0),
    }));
  }

  private make(): Slot<A> {
    const slot = new Slot<A>(this.list.length, this.sink, this.owner);
    this.list.push(slot);
    return slot;
  }
}
