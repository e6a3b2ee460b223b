/**
 * The thread pool's scaling rule, as a pure function so that it can be tested without time passing. The
 * defaults are the Go design's: grow when load ≥ 0.7 by steps of 10 % of the maximum, shrink when load < 0.3
 * by steps of 10 %, never shrink within 10 s of growing, checked every second.
 * @module
 */

/** Tuning of the scaler. */
export interface ScalingOptions {
  /**
   * Grow when busy slots / all slots reaches this.
   * @default 0.7
   */
  growAt?: number;
  /**
   * Shrink when busy slots / all slots falls below this.
   * @default 0.3
   */
  shrinkBelow?: number;
  /**
   * Step, as a fraction of `maxThreads` (at least one thread).
   * @default 0.1
   */
  step?: number;
  /**
   * No shrinking within this many ms of growing.
   * @default 10000
   */
  cooldown?: number;
  /**
   * How often the scaler looks, in ms.
   * @default 1000
   */
  interval?: number;
}

/** Validated scaling options. */
export type ResolvedScaling = Required<ScalingOptions>;

/** What the scaler sees. */
export interface ScaleInput {
  /** Threads alive now. */
  threads: number;
  /** Tasks in flight over all threads. */
  busySlots: number;
  /** Tasks in flight a thread may hold (`tasksPerThread`). */
  slotsPerThread: number;
  /** The floor. */
  minThreads: number;
  /** The ceiling. */
  maxThreads: number;
  /** When the pool last grew (ms, same clock as `now`), or -Infinity. */
  lastGrowAt: number;
  /** The time now, in ms. */
  now: number;
}

/** How many threads to add (positive), retire (negative) or neither (0). */
export function scaleDecision(s: ScaleInput, o: ResolvedScaling): number {
  const slots = s.threads * s.slotsPerThread;
  const load = slots === 0 ? (s.busySlots > 0 ? 1 : 0) : s.busySlots / slots;
  const step = Math.max(1, Math.ceil(o.step * s.maxThreads));
  if (s.threads < s.minThreads) return s.minThreads - s.threads;
  if (load >= o.growAt && s.threads < s.maxThreads) return Math.min(step, s.maxThreads - s.threads);
  if (load < o.shrinkBelow && s.threads > s.minThreads && s.now - s.lastGrowAt >= o.cooldown) {
    return -Math.min(step, s.threads - s.minThreads);
  }
  return 0;
}
