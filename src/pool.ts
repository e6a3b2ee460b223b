/**
 * `LitePool`: the pool whose tasks are functions run on this event loop.
 * @module
 */
import { inlineExecutor } from './engine/executor.js';
import * as messages from './messages.js';
import { validateInteger, type PoolOptions } from './options.js';
import { TaskPool } from './task-pool.js';

/**
 * A pool of `workers` long-lived workers with a bounded waiting room of `workers × queueSize` tasks. Adding
 * to a full pool waits for room (backpressure). Tasks run in the async context of the code that added them.
 * Its events are typed: {@link PoolEvents} (`active`, `completed`, `failed`, `retry`, `idle`, `error`).
 *
 * @example
 * ```ts
 * const lp = new LitePool({ workers: 5, queueSize: 10 });
 * const tg = lp.newTaskGroup(n);
 * for (let i = 0; i < n; i++) await lp.addTask(tg.newTaskOptions().setTask(() => work(i)).setAutoDone());
 * await tg.wait();
 * lp.printUsage();
 * await lp.close();
 * ```
 */
export class LitePool extends TaskPool {
  /** Creates a pool; throws a `TypeError`/`RangeError` naming any bad option. */
  constructor(options?: PoolOptions) {
    super(options, inlineExecutor, true);
  }

  /**
   * Changes the number of workers, at once both ways: new workers start on waiting tasks; removed busy
   * workers finish their task first, and no task starts until fewer than `workers` are busy. Each worker
   * keeps its figures. A waiting gang larger than the new size is rejected with a `RangeError`.
   */
  resize(workers: number): void {
    const n = validateInteger('resize(workers)', workers, 1);
    if (this.engine.isAdaptive) throw new TypeError(messages.adaptiveResize);
    this.engine.resize(n);
  }
}

/** Go-style constructor: `newPool(workers, queueSize)` is `new LitePool({ workers, queueSize })`. */
export function newPool(workers: number, queueSize: number, options?: Omit<PoolOptions, 'workers' | 'queueSize'>): LitePool {
  return new LitePool({ ...options, workers, queueSize });
}
