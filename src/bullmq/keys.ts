/**
 * The Redis keys a pool uses beside BullMQ's own (`<prefix>:<pool>:*`, BullMQ's layout): all under
 * `<prefix>:<pool>:lp:`, so that one `SCAN` finds them.
 * @module
 */

/** How long a producer's outcome stream outlives the producer's last heartbeat, should the producer die. */
export const STREAM_TTL = 60_000;

/** How long a shared group's count lives after its last change (a group abandoned half-way ends some time). */
export const GROUP_TTL = 7 * 24 * 3600 * 1000;

/** The keys and channels of one pool. */
export class Keys {
  /** Admission: producer id → leases held (at most `workers × (1 + queueSize)` across producers). */
  readonly leases: string;
  /** Live producers: id → time of the last heartbeat (ms). */
  readonly producers: string;
  /** Live worker processes (ids); each has a `worker(id)` key with its figures. */
  readonly workers: string;
  /** Published when leases are released: waiting producers try again. */
  readonly room: string;
  /** Published by a producer to stop a task on whichever worker holds it. */
  readonly cancel: string;
  /** The pool-wide rate windows (`limit:interval,…`), absent without a rate. */
  readonly rate: string;
  /** The log of attempt starts the rate counts (start time → a unique member). */
  readonly starts: string;
  /** Present while the pool holds its starts (`pauseFor`); its time to live is what is left. */
  readonly hold: string;
  /** Published when the rate or a hold changes: workers read them again. */
  readonly flow: string;
  private readonly base: string;

  constructor(prefix: string, pool: string) {
    this.base = `${prefix}:${pool}:lp`;
    this.leases = `${this.base}:leases`;
    this.producers = `${this.base}:producers`;
    this.workers = `${this.base}:workers`;
    this.room = `${this.base}:room`;
    this.cancel = `${this.base}:cancel`;
    this.rate = `${this.base}:rate`;
    this.starts = `${this.base}:starts`;
    this.hold = `${this.base}:hold`;
    this.flow = `${this.base}:flow`;
  }

  /** The stream a producer reads its tasks' outcomes from. */
  done(producer: string): string {
    return `${this.base}:done:${producer}`;
  }

  /** A shared group's count (absent: zero); also the channel that hears when it reaches zero. */
  group(id: string): string {
    return `${this.base}:group:${id}`;
  }

  /** A worker process's figures, refreshed by its heartbeat. */
  worker(id: string): string {
    return `${this.base}:w:${id}`;
  }
}
