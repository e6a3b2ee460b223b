/**
 * The adaptive concurrency limit (`workers: { min, max, adaptive: true }`): finds how many tasks a downstream
 * can take at once from the latency and the overload failures of the attempts that finish.
 *
 * The samples are read in windows of about one round of the limit (`max(limit, 16)` samples). Each window's
 * mean latency is compared with a baseline, the latency the downstream shows without a queue of ours. A
 * window is congested when its mean exceeds the baseline by more than a tolerance (the queue every task
 * waits in), or when it holds more slow samples (beyond 1.6× the baseline) than the downstream's own tail
 * explains (the few tasks that wait behind a full server), or as soon as an attempt fails with an overload
 * error. Congestion cuts the limit by the gradient `baseline / mean`, clamped to [0.5, 0.9] (0.8 for an
 * overload), at most once per window: the window after a cut is not judged, because its tasks started under
 * the previous limit. A calm window whose limit was reached raises the limit: by √limit per window up to a
 * band around the limit of the last cut (its ceiling), then by a step that crosses the band in 48 windows, so
 * that the pool probes the point where queueing began rarely and keeps a queue out of the downstream most of
 * the time (in the spirit of Netflix's concurrency-limits, with TCP CUBIC's plateau at the last congestion).
 *
 * The baseline follows lower window means quickly and higher ones only slowly, over about a minute, so that
 * our own queue does not become the norm; when even the minimum limit looks congested, the downstream itself
 * got slower, and the baseline relearns from there at once. Everything is O(1) per sample with no allocation,
 * and deterministic given the samples and the clock passed in.
 * @module
 */
import { TaskTimeoutError } from '../errors.js';

/** Settings of an adaptive concurrency limit (validated by the caller). */
export interface AdaptiveSettings {
  /** The lowest limit, an integer ≥ 1; the limit starts there. */
  readonly min: number;
  /** The highest limit, an integer ≥ `min` (or `Infinity`). */
  readonly max: number;
}

/** Fewest samples in a window: enough for a mean that ±30 % jitter moves by less than the tolerance. */
const MIN_WINDOW = 16;
/** A window mean above the baseline by more than this factor is a queue. */
const TOLERANCE = 1.25;
/** A sample above the baseline by more than this factor waited behind others (a full server's queue). */
const SLOW = 1.6;
/** How fast the expected share of slow samples (the downstream's own tail) is learned, per window. */
const TAIL_ALPHA = 1 / 32;
/** Slow samples allowed beyond the expected tail, in standard deviations of their count. */
const TAIL_SPREAD = 3;
/** How fast the baseline follows a lower window mean, per window. */
const BASELINE_DOWN = 0.1;
/** Time constant of the baseline following higher window means (ms), and the most it moves per window. */
const BASELINE_UP_MS = 60_000;
const BASELINE_UP_MAX = 1 / 64;
/** How fast the baseline relearns when even the minimum limit looks congested, per window. */
const BASELINE_RELEARN = 0.5;
/** Below this (ms) latencies are not told apart: tasks that do not wait on anything have no downstream. */
const BASELINE_FLOOR_MS = 0.05;
/** Bounds of the cut factor for latency, and the cut for an overload error. */
const MIN_BACKOFF = 0.5;
const MAX_BACKOFF = 0.9;
const OVERLOAD_BACKOFF = 0.8;
/** Half-width of the band around the last cut's limit, relative to it (at least 1). */
const PLATEAU = 0.1;
/** Calm windows it takes to climb from the bottom of that band to the ceiling. */
const PLATEAU_WINDOWS = 48;

/** Finds the concurrency a downstream can take (AIMD/gradient in the spirit of Netflix's concurrency-limits). */
export class AdaptiveLimit {
  /** The limit in force: an integer in [min, max]. Starts at min. */
  limit: number;
  private readonly min: number;
  private readonly max: number;
  /** The limit before rounding down: growth in the plateau takes many windows per unit. */
  private estimate: number;
  /** The estimate at the last cut; `Infinity` when none is known (or it has been passed). */
  private ceiling = Number.POSITIVE_INFINITY;
  /** Latency without a queue of ours, ms; 0 until the first window. */
  private baseline = 0;
  /** The expected share of slow samples when nothing queues. */
  private tail = 0;

  // The window being read.
  private size: number;
  private count = 0;
  private timed = 0;
  private sum = 0;
  private slow = 0;
  private peak = 0;
  private startedAt = 0;
  /** The window follows a cut: its tasks started under the previous limit, so it is not judged. */
  private recovering = false;

  constructor(settings: AdaptiveSettings) {
    this.min = settings.min;
    this.max = settings.max;
    this.estimate = settings.min;
    this.limit = settings.min;
    this.size = Math.max(MIN_WINDOW, settings.min);
  }

  /**
   * One finished attempt: `rttMs` is how long it ran, `inflight` how many attempts were running when it
   * ended (itself included), `overload` whether it failed with an overload error (see {@link isOverload}),
   * `now` a monotonic ms clock (`performance.now()`). Returns the limit to apply now (the engine resizes when
   * it differs).
   */
  sample(rttMs: number, inflight: number, overload: boolean, now: number): number {
    if (this.count === 0) this.startedAt = now;
    this.count++;
    if (inflight > this.peak) this.peak = inflight;
    if (overload) {
      // An overload error is plain evidence: cut at once rather than at the window's end. Its latency is not
      // a sample (a refusal is fast, a timeout is the timeout).
      if (!this.recovering) {
        this.cut(OVERLOAD_BACKOFF);
        return this.limit;
      }
    } else if (rttMs >= 0 && rttMs < Number.POSITIVE_INFINITY) {
      // A duration that is not one (NaN, negative, infinite) would poison the means: it is not a sample.
      this.timed++;
      this.sum += rttMs;
      if (this.baseline > 0 && rttMs > this.baseline * SLOW) this.slow++;
    }
    if (this.count >= this.size) this.endWindow(now);
    return this.limit;
  }

  private endWindow(now: number): void {
    const judged = !this.recovering;
    const mean = this.sum / this.timed;
    if (this.timed > 0 && mean < Number.POSITIVE_INFINITY) {
      if (this.baseline === 0) this.baseline = Math.max(mean, BASELINE_FLOOR_MS);
      const baseline = this.baseline;
      const queued = mean > baseline * TOLERANCE;
      const expected = this.timed * this.tail;
      const congested = queued || this.slow > expected + TAIL_SPREAD * Math.sqrt(expected);
      this.learn(mean, congested, now);
      // The share of slow samples is learned from every judged window without a queue in its mean, those
      // with a few slow ones included: else a downstream with a long tail would never have it learned. A
      // probe that queues a few tasks now and then leaves little trace in it.
      if (judged && !queued) this.tail += (this.slow / this.timed - this.tail) * TAIL_ALPHA;
      if (judged && congested) {
        this.cut(Math.min(MAX_BACKOFF, Math.max(MIN_BACKOFF, baseline / mean)));
        return;
      }
      // The limit was reached (or nearly: the last slot may be between two tasks); else nobody uses it.
      if (judged && this.peak >= this.limit - Math.max(1, this.limit >> 3)) this.grow();
    }
    this.next(this.limit, false);
  }

  /** Updates the baseline from the mean latency of a window. */
  private learn(mean: number, congested: boolean, now: number): void {
    if (mean < this.baseline) {
      this.baseline = Math.max(BASELINE_FLOOR_MS, this.baseline + (mean - this.baseline) * BASELINE_DOWN);
    } else if (congested && this.estimate <= this.min) {
      // No queue of ours can explain it at the lowest limit: the downstream is slower now. What we knew of
      // its capacity is stale too.
      this.baseline += (mean - this.baseline) * BASELINE_RELEARN;
      this.ceiling = Number.POSITIVE_INFINITY;
    } else if (!congested) {
      const elapsed = now - this.startedAt;
      const rate = elapsed > 0 ? Math.min(BASELINE_UP_MAX, elapsed / BASELINE_UP_MS) : 0;
      this.baseline += (mean - this.baseline) * rate;
    }
  }

  /** Cuts the estimate by `factor` and starts a window that is not judged. */
  private cut(factor: number): void {
    const before = this.estimate;
    // At the minimum there is nothing left to learn about capacity (see learn()).
    if (before > this.min) this.ceiling = before;
    this.estimate = Math.max(this.min, before * factor);
    this.apply();
    // The next window lasts until the tasks started under the old limit have finished.
    this.next(Math.ceil(before), true);
  }

  private grow(): void {
    const e = this.estimate;
    const band = Math.max(1, this.ceiling * PLATEAU);
    if (e < this.ceiling - band) {
      this.estimate = Math.min(e + Math.max(1, Math.sqrt(e)), this.ceiling - band);
    } else if (e < this.ceiling + band) {
      this.estimate = e + band / PLATEAU_WINDOWS;
    } else {
      // Well past the last congestion without meeting any: the downstream can take more now.
      this.ceiling = Number.POSITIVE_INFINITY;
      this.estimate = e + Math.max(1, Math.sqrt(e));
    }
    if (this.estimate > this.max) this.estimate = this.max;
    this.apply();
  }

  private apply(): void {
    this.limit = Math.min(this.max, Math.max(this.min, Math.floor(this.estimate)));
  }

  private next(span: number, recovering: boolean): void {
    this.size = Math.max(MIN_WINDOW, span);
    this.recovering = recovering;
    this.count = 0;
    this.timed = 0;
    this.sum = 0;
    this.slow = 0;
    this.peak = 0;
  }
}

/** Error codes of a refused or dropped connection or a timeout: the downstream could not take the request. */
const OVERLOAD_CODES = new Set(['EOVERLOAD', 'ETIMEDOUT', 'ECONNRESET', 'ECONNREFUSED']);

/**
 * Whether an error means the downstream is overloaded: a `TaskTimeoutError`, an error whose `code` is
 * `'EOVERLOAD'`, `'ETIMEDOUT'`, `'ECONNRESET'` or `'ECONNREFUSED'`, or whose `status`/`statusCode` is 429 or
 * 503 (also on its `cause`, one level).
 */
export function isOverload(err: unknown): boolean {
  try {
    if (overloadItself(err)) return true;
    return typeof err === 'object' && err !== null && overloadItself((err as { cause?: unknown }).cause);
  } catch {
    // A getter that throws (a proxy, a hostile error) must not break the pool's completion path.
    return false;
  }
}

function overloadItself(err: unknown): boolean {
  if (err instanceof TaskTimeoutError) return true;
  if (typeof err !== 'object' || err === null) return false;
  const e = err as { code?: unknown; status?: unknown; statusCode?: unknown };
  if (typeof e.code === 'string' && OVERLOAD_CODES.has(e.code)) return true;
  return overloadStatus(e.status) || overloadStatus(e.statusCode);
}

function overloadStatus(status: unknown): boolean {
  return status === 429 || status === 503;
}
