/**
 * The adaptive concurrency limit (`workers: { min, max, adaptive: true }`): finds how many tasks a downstream
 * can take at once from the latency and the overload failures of the attempts that finish.
 *
 * Attempts are read in windows of `max(limit, 16)` samples, counting only those that started under the limit
 * in force (an attempt started before the last change tells nothing about it). A window is congested when its
 * mean latency exceeds the baseline (the latency without a queue of ours) by more than a tolerance that
 * follows the downstream's noise (1.1 to 1.25: every task waits a little), or when it holds more slow samples
 * (beyond 1.6× the baseline) than the downstream's own tail explains (a few tasks wait behind a full server),
 * or as soon as an attempt fails with an overload error. Congestion cuts the limit by the gradient
 * `baseline / mean`, clamped to [0.5, 0.9] (0.8 for an overload), at most once per window. A calm window
 * whose limit was reached raises it: by √limit up to a band around the limit of the last cut, then across
 * that band in 48 rounds of the limit, so that the pool seldom visits the point where queueing began and
 * keeps a queue out of the downstream most of the time (Netflix's concurrency-limits for the gradient, TCP
 * CUBIC for the plateau at the last congestion).
 *
 * The baseline is an average of the window means that sit at most one standard deviation above it, so that a
 * queue of ours never becomes the norm. It is measured again every 10 s with the limit a tenth lower for a
 * window (TCP BBR's ProbeRTT). When a cut for latency does not lower the latency, no queue of ours made it:
 * the downstream is slower (or the machine busier) whatever we send, so the cut is undone and the baseline
 * starts again from there. Everything is O(1) per sample with no allocation, and deterministic given the
 * samples and the clock passed in.
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
/**
 * A window mean above the baseline by more than the tolerance is a queue. The tolerance follows the noise of
 * the latencies: `1 + NOISE_MARGIN × spread / √n` (spread: the relative standard deviation of one latency
 * without a queue; n: the window's samples), within these bounds. Steady latencies let one task waiting show;
 * noisy ones need more evidence.
 */
const MIN_TOLERANCE = 1.1;
const MAX_TOLERANCE = 1.25;
/** In standard deviations of a window mean: half of one for the baseline under the means, the rest margin. */
const NOISE_MARGIN = 4;

/** A sample above the baseline by more than this factor waited behind others (a full server's queue). */
const SLOW = 1.6;
/** How fast the downstream's noise (spread, share of slow samples) is learned, per window that teaches it. */
const NOISE_ALPHA = 1 / 4;
/** Slow samples allowed beyond the expected tail, in standard deviations of their count. */
const TAIL_SPREAD = 3;
/** A window mean under the baseline by more than this factor: the downstream got faster. */
const FASTER = 0.9;
/**
 * How fast the baseline follows a window mean, per window, when that mean is at most one standard deviation
 * (of a window mean, from the spread) above it. Means further up may hold a queue of ours: they never move it.
 */
const BASELINE_ALPHA = 1 / 8;
/** Below this (ms) latencies are not told apart: tasks that do not wait on anything have no downstream. */
const BASELINE_FLOOR_MS = 0.05;
/** Bounds of the cut factor for latency, and the cut for an overload error. */
const MIN_BACKOFF = 0.5;
const MAX_BACKOFF = 0.9;
const OVERLOAD_BACKOFF = 0.8;
/** Half-width of the band around the last cut's limit, relative to it (at least 1). */
const PLATEAU = 0.1;
/** Rounds (as many attempts as the limit) to climb from the bottom of that band to the last cut's limit. */
const PLATEAU_ROUNDS = 48;
/** The baseline is measured at a lower limit this often (ms, and windows) while the limit is in use. */
const PROBE_MS = 10_000;
const PROBE_WINDOWS = 64;
/** The limit during a probe, relative to the limit in force: under the knee, if the limit sits past it. */
const PROBE_FACTOR = 0.9;
/** A window after a cut whose mean is still this close to the one that made the cut: the cut did not help. */
const HELPED = 0.97;
/** How far a probe's mean, when lower, moves the baseline. */
const PROBE_ALPHA = 0.5;
/** An attempt started this close after a change of the limit may have started before it (clock rounding). */
const START_SLACK_MS = 0.001;

/**
 * What a window is for: `reference` follows a cut (judged, and where the downstream's own noise is learned:
 * the load is at its lowest), `probe` measures the baseline at a lower limit, `judged` is any other.
 */
type WindowKind = 'judged' | 'reference' | 'probe';

/** Finds the concurrency a downstream can take (AIMD/gradient in the spirit of Netflix's concurrency-limits). */
export class AdaptiveLimit {
  /** The limit in force: an integer in [min, max]. Starts at min. */
  limit: number;
  private readonly min: number;
  private readonly max: number;
  /** The limit before rounding down (growth in the plateau takes many windows per unit); a probe leaves it. */
  private estimate: number;
  /** The estimate at the last cut; `Infinity` when none is known (or it has been passed). */
  private ceiling = Number.POSITIVE_INFINITY;
  /** Latency without a queue of ours, ms; 0 until the first window. */
  private baseline = 0;
  /** The relative standard deviation of one latency when nothing queues. */
  private spread = 0;
  /** The expected share of slow samples when nothing queues. */
  private tail = 0;
  /** The window mean that made the last cut (0 for an overload), and the estimate and ceiling before it. */
  private cutMean = 0;
  private uncut = 0;
  private uncutCeiling = Number.POSITIVE_INFINITY;
  /** When the limit last changed: attempts that started before ran under another limit and are skipped. */
  private changedAt = Number.NEGATIVE_INFINITY;
  /** When the baseline was last probed (or first measured), and windows since. */
  private probedAt = 0;
  private windowsSinceProbe = 0;

  // The window being read: its attempts all started under the limit in force.
  private kind: WindowKind = 'judged';
  private size: number;
  private count = 0;
  private timed = 0;
  private sum = 0;
  private squares = 0;
  private slow = 0;
  private peak = 0;
  private overloaded = false;
  /** The last judged window was just past the tolerance. */
  private suspect = false;

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
    // An attempt that started before the last change says nothing about the limit in force: after a cut,
    // the failures of a whole burst would cut again and again; after a raise, the old latencies would let
    // the limit climb on before the new one has been tried. (Not a duration, or no clock: not a sample.)
    if (!(now - rttMs > this.changedAt + START_SLACK_MS)) return this.limit;
    this.count++;
    if (inflight > this.peak) this.peak = inflight;
    if (overload) {
      // An overload error is plain evidence: in a plain window the cut comes at once. Its latency is not a
      // sample (a refusal is fast, a timeout is the timeout).
      this.overloaded = true;
      if (this.kind === 'judged') {
        this.cut(OVERLOAD_BACKOFF, now);
        return this.limit;
      }
    } else if (rttMs >= 0 && rttMs < Number.POSITIVE_INFINITY) {
      // A duration that is not one (NaN, negative, infinite) would poison the means: it is not a sample.
      this.timed++;
      this.sum += rttMs;
      this.squares += rttMs * rttMs;
      if (this.baseline > 0 && rttMs > this.baseline * SLOW) this.slow++;
    }
    if (this.count >= this.size) this.endWindow(now);
    return this.limit;
  }

  private endWindow(now: number): void {
    const kind = this.kind;
    const mean = this.sum / this.timed;
    this.windowsSinceProbe++;
    if (!(this.timed > 0 && mean < Number.POSITIVE_INFINITY)) {
      // No latency to read (every attempt overloaded, or no duration was one).
      if (kind === 'probe') this.endProbe(mean, now);
      else if (this.overloaded) this.cut(OVERLOAD_BACKOFF, now);
      else this.next('judged');
      return;
    }
    const spread = Math.sqrt(Math.max(0, this.squares / this.timed - mean * mean)) / Math.max(mean, BASELINE_FLOOR_MS);
    if (this.baseline === 0) {
      this.baseline = Math.max(mean, BASELINE_FLOOR_MS);
      this.spread = spread;
      this.probedAt = now;
    }
    // The downstream's own noise (spread and tail) is learned where the load is lowest: right after a cut and
    // in probes (before they are judged, so that a noisy downstream is not cut again for its own noise), and
    // in calm windows while the limit climbs before any congestion was met. Learned anywhere, the tasks that a
    // limit past the capacity queues would become the norm; learned only where nothing looks congested, a
    // noisy downstream would never have it learned and would see its limit cut and cut again.
    const calibrating = kind === 'judged' && this.ceiling === Number.POSITIVE_INFINITY;
    if (kind !== 'judged' && mean <= this.baseline * MAX_TOLERANCE) this.learnNoise(spread);
    if (kind === 'probe') {
      this.endProbe(mean, now);
      return;
    }
    const baseline = this.baseline;
    const tolerance = Math.min(MAX_TOLERANCE, Math.max(MIN_TOLERANCE, 1 + (NOISE_MARGIN * this.spread) / Math.sqrt(this.timed)));
    const expected = this.timed * this.tail;
    // A mean just past the tolerance counts when the window before was past it too: a noisy downstream
    // shows such a window now and then, a queue shows it window after window. Far past it, it counts at once.
    const over = mean > baseline * tolerance;
    const congested =
      mean > baseline * (2 * tolerance - 1) || (over && this.suspect) || this.slow > expected + TAIL_SPREAD * Math.sqrt(expected);
    this.suspect = over && !congested;
    if (calibrating && !over && !congested) this.learnNoise(spread);
    if (kind === 'reference' && congested && !this.overloaded && this.cutMean > 0 && mean >= this.cutMean * HELPED) {
      this.undoCut(mean, now);
      return;
    }
    this.learn(mean, congested);
    if (this.overloaded) {
      this.cut(OVERLOAD_BACKOFF, now);
      this.cutMean = 0;
    } else if (congested) {
      this.cut(Math.min(MAX_BACKOFF, Math.max(MIN_BACKOFF, baseline / mean)), now);
      this.cutMean = mean;
    } else if (this.peak >= this.limit - Math.max(1, this.limit >> 3) && mean >= baseline * FASTER) {
      // The limit was reached (or nearly: the last slot may be between two tasks; else nobody uses it), and
      // the baseline holds: a window well under it means the downstream got faster, and growing before the
      // baseline has come down would take a queue for the norm.
      if (this.limit > this.min && this.windowsSinceProbe >= PROBE_WINDOWS && now - this.probedAt >= PROBE_MS) this.startProbe(now);
      else this.grow(now);
    } else {
      this.next('judged');
    }
  }

  /** Moves the downstream's noise towards the window's: the spread of its latencies, its share of slow ones. */
  private learnNoise(spread: number): void {
    this.spread += (spread - this.spread) * NOISE_ALPHA;
    this.tail += (this.slow / this.timed - this.tail) * NOISE_ALPHA;
  }

  /** Updates the baseline from the mean latency of the window. */
  private learn(mean: number, congested: boolean): void {
    if (mean <= this.baseline * (1 + this.spread / Math.sqrt(this.timed))) {
      // The mean of the means that fall under this bound sits about half a standard deviation under their
      // true mean: a window without a queue exceeds the baseline by about that, far from the tolerance.
      this.baseline = Math.max(BASELINE_FLOOR_MS, this.baseline + (mean - this.baseline) * BASELINE_ALPHA);
    } else if (congested && this.estimate <= this.min) {
      // No queue of ours can explain it at the lowest limit: the downstream is slower now. What we knew of
      // its capacity is stale too.
      this.baseline = mean;
      this.ceiling = Number.POSITIVE_INFINITY;
    }
  }

  /**
   * A cut for latency left it where it was: no queue of ours made it, the downstream is slower (or the
   * machine busier) whatever we send. The cut is undone and the baseline starts again from there, instead of
   * cutting on down to the minimum for a latency that the limit cannot change.
   */
  private undoCut(mean: number, now: number): void {
    this.baseline = Math.max(this.baseline, Math.min(mean, this.cutMean));
    this.estimate = this.uncut;
    this.ceiling = this.uncutCeiling;
    this.cutMean = 0;
    this.suspect = false;
    this.apply(now);
    this.next('judged');
  }

  /** Cuts the estimate by `factor`; the next window is a reference. */
  private cut(factor: number, now: number): void {
    const before = this.estimate;
    this.uncut = before;
    this.uncutCeiling = this.ceiling;
    // At the minimum there is nothing left to learn about capacity (see learn()).
    if (before > this.min) this.ceiling = before;
    this.estimate = Math.max(this.min, before * factor);
    this.apply(now);
    this.next('reference');
  }

  /** Raises the estimate after a calm window: fast far under the last cut, slowly around it. */
  private grow(now: number): void {
    const e = this.estimate;
    const step = Math.max(1, Math.sqrt(e));
    const band = Math.max(1, this.ceiling * PLATEAU);
    if (this.ceiling === Number.POSITIVE_INFINITY) {
      this.estimate = e + step;
    } else if (e < this.ceiling - band) {
      this.estimate = Math.min(e + step, this.ceiling - band);
    } else if (e < this.ceiling + band) {
      // Counted in rounds of the limit, not in windows: under 16 a window lasts several rounds, and a limit
      // of 1 or 2 would take seconds to climb by one.
      this.estimate = e + (band * this.size) / (this.limit * PLATEAU_ROUNDS);
    } else {
      // Well past the last congestion without meeting any: the downstream can take more now.
      this.ceiling = Number.POSITIVE_INFINITY;
      this.estimate = e + step;
    }
    if (this.estimate > this.max) this.estimate = this.max;
    this.apply(now);
    this.next('judged');
  }

  /**
   * Lowers the limit for a window to measure the baseline again. Windows at the limit cannot tell a
   * downstream that got faster (or a baseline learned with a queue in it) from one that takes that many at
   * once: only fewer tasks in flight show the latency without a queue (as TCP BBR's ProbeRTT).
   */
  private startProbe(now: number): void {
    this.limit = Math.max(this.min, Math.ceil(this.limit * PROBE_FACTOR));
    this.changedAt = now;
    this.next('probe');
  }

  /** Ends a probe: a lower mean than the baseline's is the latency without a queue; the limit comes back. */
  private endProbe(mean: number, now: number): void {
    if (mean < this.baseline) this.baseline = Math.max(BASELINE_FLOOR_MS, this.baseline + (mean - this.baseline) * PROBE_ALPHA);
    this.probedAt = now;
    this.windowsSinceProbe = 0;
    if (this.overloaded) {
      this.cut(OVERLOAD_BACKOFF, now);
      return;
    }
    this.apply(now);
    this.next('judged');
  }

  /** Sets the limit from the estimate; a change starts a new epoch of attempts. */
  private apply(now: number): void {
    const limit = Math.min(this.max, Math.max(this.min, Math.floor(this.estimate)));
    if (limit !== this.limit) {
      this.limit = limit;
      this.changedAt = now;
    }
  }

  /** Starts a window of `max(limit, 16)` samples. */
  private next(kind: WindowKind): void {
    this.kind = kind;
    this.size = Math.max(MIN_WINDOW, this.limit);
    this.count = 0;
    this.timed = 0;
    this.sum = 0;
    this.squares = 0;
    this.slow = 0;
    this.peak = 0;
    this.overloaded = false;
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
