import type { Job, TaskContextImpl } from './job.js';

/** What a worker is doing; `retired` workers were removed by `resize()` and keep their figures. */
export type WorkerState = 'idle' | 'busy' | 'retired';

/** Receives the outcome of the attempt a worker is running. */
export type AttemptSink = (ctx: TaskContextImpl, ok: boolean, value: unknown) => void;

/** One long-lived worker slot and its figures. */
export class Worker {
  readonly id: number;
  state: WorkerState = 'idle';
  /** Set while the worker is removed by `resize()` but still busy: it retires when it frees up. */
  retiring = false;
  /** The task occupying the worker (its attempts, callbacks and `errReload` retries). */
  job: Job | undefined = undefined;
  /** The attempt whose function runs (or last ran) here. */
  ctx: TaskContextImpl | undefined = undefined;
  /** Task functions that timed out but have not returned yet: they still occupy the worker. */
  zombies = 0;
  executed = 0;
  failed = 0;
  busyMs = 0;
  busySince = 0;
  /** Resolves the `errReload` loop waiting for this worker's timed-out function to return. */
  onDrained: (() => void) | undefined = undefined;
  /**
   * Handlers for the promise of the attempt running here, made once per worker rather than per task: a
   * worker runs one task function at a time (a timed-out one keeps it until it returns), so `ctx` is the
   * attempt the promise belongs to.
   */
  readonly onFulfilled: (value: unknown) => void;
  readonly onRejected: (reason: unknown) => void;

  constructor(id: number, sink: AttemptSink) {
    this.id = id;
    this.onFulfilled = (value) => sink(this.ctx as TaskContextImpl, true, value);
    this.onRejected = (reason) => sink(this.ctx as TaskContextImpl, false, reason);
  }
}
