import type { Job } from './job.js';

/** What a worker is doing; `retired` workers were removed by `resize()` and keep their figures. */
export type WorkerState = 'idle' | 'busy' | 'retired';

/** One long-lived worker slot and its figures. */
export class Worker {
  readonly id: number;
  state: WorkerState = 'idle';
  /** Set while the worker is removed by `resize()` but still busy: it retires when it frees up. */
  retiring = false;
  /** The task occupying the worker (its attempts, callbacks and `errReload` retries). */
  job: Job | undefined = undefined;
  /** Task functions that timed out but have not returned yet: they still occupy the worker. */
  zombies = 0;
  executed = 0;
  failed = 0;
  busyMs = 0;
  busySince = 0;
  /** Resolves the `errReload` loop waiting for this worker's timed-out functions to return. */
  onDrained: (() => void) | undefined = undefined;

  constructor(id: number) {
    this.id = id;
  }
}
