/**
 * Sliding rate windows over attempt starts: the times of the latest starts, as many as the largest window's
 * limit, in a ring. A window `{ limit, interval }` has room at `now` when fewer than `limit` of the recorded
 * starts fall in `(now - interval, now]`: the `limit`-th latest start is at least `interval` old. That makes
 * the bound exact in every span of `interval` ms, across what a fixed window would call its edges, at one
 * array read per window and start.
 * @module
 */

/** At most `limit` attempt starts in any span of `interval` ms. */
export interface RateWindow {
  /** Starts allowed per `interval`: an integer ≥ 1. */
  readonly limit: number;
  /** The span, in ms: a number > 0. */
  readonly interval: number;
}

/** One window's room now, from `usage().rate`. */
export interface RateHeadroom extends RateWindow {
  /** Starts the window allows now. */
  readonly available: number;
}

/** The log of recent starts and the windows it is checked against. */
export class RateLog {
  windows: readonly RateWindow[];
  private times: Float64Array;
  /** Index of the oldest recorded start. */
  private head = 0;
  private size = 0;

  constructor(windows: readonly RateWindow[]) {
    this.windows = windows;
    this.times = new Float64Array(capacityOf(windows));
  }

  /** The latest start, or `-Infinity` when none was recorded. */
  get last(): number {
    return this.size === 0 ? Number.NEGATIVE_INFINITY : this.at(this.size - 1);
  }

  /**
   * How long until `1 + reserved` more starts fit every window (0: now); `reserved` counts starts already
   * promised (tasks let through that have not started yet). `Infinity` when they never fit (more reserved
   * than a window allows: only a start frees that up).
   */
  wait(now: number, reserved: number): number {
    let wait = 0;
    for (const w of this.windows) {
      const room = w.limit - reserved;
      if (room <= 0) return Number.POSITIVE_INFINITY;
      if (this.size < room) continue;
      const free = this.at(this.size - room) + w.interval - now;
      if (free > wait) wait = free;
    }
    return wait;
  }

  /** Records a start at `now` (times never go back: the clock is monotonic). */
  record(now: number): void {
    const times = this.times;
    if (times.length === 0) return;
    if (this.size < times.length) {
      times[(this.head + this.size) % times.length] = now;
      this.size++;
    } else {
      times[this.head] = now;
      this.head = (this.head + 1) % times.length;
    }
  }

  /**
   * Replaces the windows at run time. The recorded starts stay, so a window that is set counts the starts
   * already made, as far back as the log reaches (the latest starts, as many as the largest old limit).
   */
  set(windows: readonly RateWindow[]): void {
    this.windows = windows;
    const capacity = capacityOf(windows);
    if (capacity === this.times.length) return;
    const keep = Math.min(this.size, capacity);
    const times = new Float64Array(capacity);
    for (let i = 0; i < keep; i++) times[i] = this.at(this.size - keep + i);
    this.times = times;
    this.head = 0;
    this.size = keep;
  }

  /** Each window with the starts it allows now. */
  headroom(now: number): RateHeadroom[] {
    return this.windows.map((w) => {
      let used = 0;
      for (let i = this.size - 1; i >= 0 && now - this.at(i) < w.interval; i--) used++;
      return { limit: w.limit, interval: w.interval, available: Math.max(0, w.limit - used) };
    });
  }

  /** The `i`-th recorded start, oldest first. */
  private at(i: number): number {
    return this.times[(this.head + i) % this.times.length] as number;
  }
}

function capacityOf(windows: readonly RateWindow[]): number {
  let capacity = 0;
  for (const w of windows) if (w.limit > capacity) capacity = w.limit;
  return capacity;
}
