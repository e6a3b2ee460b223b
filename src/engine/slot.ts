/**
 * One long-lived worker slot of the engine and its figures. It knows the attempt it runs only as `A`, so that
 * the records above it (task, attempt) can refer to it without a cycle.
 * @module
 */

/** What a task may ask of its pool (`ctx.pool`). */
export interface PoolControl {
  /**
   * Starts no attempt for `ms` from now (running ones go on): how a task honours a `Retry-After`. A later
   * end than one already in force wins.
   */
  pauseFor(ms: number): void;
}

/** What a slot's attempts report to their engine besides their outcome. */
export interface SlotOwner extends PoolControl {
  /** A task reported progress (`ctx.progress(value)`) from the attempt running on `slot`. */
  progressed(attempt: unknown, value: unknown): void;
  /** The id a task shows outside (`ctx.taskId`). */
  idOf(task: unknown): string;
}

/** What a slot is doing; `retired` slots were removed by a resize and keep their figures. */
export type SlotState = 'idle' | 'busy' | 'retired';

/** Receives the outcome of the attempt a slot is running. */
export type AttemptSink<A> = (attempt: A, ok: boolean, value: unknown) => void;

/** One worker slot: at most one task function runs on it at a time. */
export class Slot<A> {
  readonly id: number;
  state: SlotState = 'idle';
  /** Set while the slot is removed by a resize but still busy: it retires when it frees up. */
  retiring = false;
  /** Whether a task holds the slot (its attempts, callbacks and reruns). */
  held = false;
  /** The attempt whose function runs (or last ran) here. */
  attempt: A | undefined = undefined;
  /** Task functions that timed out but have not returned yet: they still occupy the slot. */
  zombies = 0;
  /** The key whose room a timed-out function on this slot still holds (it is given back when it returns). */
  keyHeld: string | undefined = undefined;
  executed = 0;
  failed = 0;
  busyMs = 0;
  busySince = 0;
  /** When the attempt running here started (`performance.now()` ms). */
  startedAt = 0;
  /** Resolves a rerun waiting for this slot's timed-out function to return. */
  onDrained: (() => void) | undefined = undefined;
  /**
   * Handlers for the promise of the attempt running here, made once per slot rather than per task: a slot
   * runs one task function at a time (a timed-out one keeps it until it returns), so `attempt` is the one
   * the promise belongs to.
   */
  readonly onFulfilled: (value: unknown) => void;
  readonly onRejected: (reason: unknown) => void;

  /** The engine the slot belongs to (a task sees it as `ctx.pool`, a {@link PoolControl}). */
  readonly owner: SlotOwner;

  constructor(id: number, sink: AttemptSink<A>, owner: SlotOwner) {
    this.id = id;
    this.owner = owner;
    this.onFulfilled = (value) => sink(this.attempt as A, true, value);
    this.onRejected = (reason) => sink(this.attempt as A, false, reason);
  }
}
