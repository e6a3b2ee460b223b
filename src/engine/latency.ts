/**
 * Wait and run times over a sliding window, in bounded memory: log-linear histograms (16 buckets per power
 * of two of microseconds, so a percentile is within about 6 %) kept per sixth of the window, in a ring. A
 * figure reads the six slices, so it covers between five sixths of the window and all of it; old slices are
 * cleared as time moves on, so nothing is remembered longer than the window (unlike lifetime histograms).
 * Recording is an index computation and an increment.
 * @module
 */

/** Percentiles of one kind of duration, in ms (0 when nothing was recorded). */
export interface LatencyFigures {
  /** The median. */
  readonly p50: number;
  /** The 90th percentile. */
  readonly p90: number;
  /** The 99th percentile. */
  readonly p99: number;
  /** The longest (exact). */
  readonly max: number;
  /** How many durations the figures are made of. */
  readonly count: number;
}

/** How long tasks waited to start (admission, or the end of a backoff, to the start) and how long attempts held a worker. */
export interface Latency {
  /** From admission (or the end of a retry's backoff) to the start of an attempt. */
  readonly wait: LatencyFigures;
  /** How long an attempt held its worker (the last one with the task's callbacks). */
  readonly run: LatencyFigures;
  /** The window the figures cover, in ms. */
  readonly window: number;
}

const SLICES = 6;
/** Below 16 µs one bucket per µs; above, 16 per power of two. Up to 2^31 µs (about 36 minutes). */
const BUCKETS = 16 + 27 * 16;

function bucketOf(ms: number): number {
  const us = ms <= 0 ? 0 : Math.min(0x7fffffff, Math.floor(ms * 1000));
  if (us < 16) return us;
  const e = 31 - Math.clz32(us);
  return 16 + (e - 4) * 16 + ((us >>> (e - 4)) & 15);
}

/** The middle of bucket `i`, in ms. */
function valueOf(i: number): number {
  if (i < 16) return i / 1000;
  const e = ((i - 16) >> 4) + 4;
  const m = (i - 16) & 15;
  const low = (16 + m) * 2 ** (e - 4);
  return (low + 2 ** (e - 5)) / 1000;
}

/** One kind of duration over the window: counts per slice and bucket in one array, the longest per slice. */
class Histogram {
  readonly counts = new Uint32Array(SLICES * BUCKETS);
  readonly maxes = new Float64Array(SLICES);

  clear(slice: number): void {
    this.counts.fill(0, slice * BUCKETS, (slice + 1) * BUCKETS);
    this.maxes[slice] = 0;
  }

  figures(): LatencyFigures {
    const merged = new Float64Array(BUCKETS);
    let count = 0;
    for (let s = 0; s < SLICES; s++) {
      const base = s * BUCKETS;
      for (let i = 0; i < BUCKETS; i++) {
        const n = this.counts[base + i] as number;
        merged[i] = (merged[i] as number) + n;
        count += n;
      }
    }
    if (count === 0) return { p50: 0, p90: 0, p99: 0, max: 0, count: 0 };
    let max = 0;
    for (let s = 0; s < SLICES; s++) if ((this.maxes[s] as number) > max) max = this.maxes[s] as number;
    const at = (q: number): number => {
      const rank = Math.ceil(q * count);
      let seen = 0;
      for (let i = 0; i < BUCKETS; i++) {
        seen += merged[i] as number;
        if (seen >= rank) return Math.min(valueOf(i), max);
      }
      return max;
    };
    return { p50: at(0.5), p90: at(0.9), p99: at(0.99), max, count };
  }
}

/** Wait and run times of one pool over its window. */
export class LatencyWindow {
  readonly window: number;
  private readonly sliceMs: number;
  private readonly wait = new Histogram();
  private readonly run = new Histogram();
  /** The place of the current slice in the ring, and when it ends (`performance.now()` ms). */
  private slice = 0;
  private sliceEnd = Number.NEGATIVE_INFINITY;

  constructor(window: number) {
    this.window = window;
    this.sliceMs = window / SLICES;
  }

  /** A task waited `ms` before an attempt started at `now`. */
  recordWait(ms: number, now: number): void {
    if (now >= this.sliceEnd) this.advance(now);
    record(this.wait, this.slice, ms);
  }

  /** An attempt held its worker `ms`, until `now`. */
  recordRun(ms: number, now: number): void {
    if (now >= this.sliceEnd) this.advance(now);
    record(this.run, this.slice, ms);
  }

  figures(now: number): Latency {
    if (now >= this.sliceEnd) this.advance(now);
    return { wait: this.wait.figures(), run: this.run.figures(), window: this.window };
  }

  /** Forgets everything recorded. */
  reset(): void {
    for (let s = 0; s < SLICES; s++) {
      this.wait.clear(s);
      this.run.clear(s);
    }
  }

  /**
   * Moves to the slice of `now`, clearing the slices it passes. A time a little in the past (a start time
   * taken earlier in the same pass) never gets here: it counts in the current slice.
   */
  private advance(now: number): void {
    const first = this.sliceEnd === Number.NEGATIVE_INFINITY;
    const passed = first ? SLICES : Math.min(SLICES, Math.floor((now - this.sliceEnd) / this.sliceMs) + 1);
    for (let k = 1; k <= passed; k++) {
      const s = (this.slice + k) % SLICES;
      this.wait.clear(s);
      this.run.clear(s);
    }
    this.slice = (this.slice + passed) % SLICES;
    this.sliceEnd = (Math.floor(now / this.sliceMs) + 1) * this.sliceMs;
  }
}

function record(h: Histogram, slice: number, ms: number): void {
  const i = slice * BUCKETS + bucketOf(ms);
  h.counts[i] = (h.counts[i] as number) + 1;
  if (ms > (h.maxes[slice] as number)) h.maxes[slice] = ms;
}
