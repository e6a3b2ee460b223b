/**
 * Admission across producers. The pool admits at most `workers × (1 + queueSize)` tasks across all its
 * producers; a producer holds leases on that capacity, granted atomically by a script in Redis, and its
 * engine has exactly as many slots as it holds leases. A task takes a slot (a lease) when admitted and frees
 * it when it has finished on its worker, so the next task of the same producer reuses it without a round
 * trip. A producer asks for more when a submitter waits for room or every lease is busy (doubling, up to the
 * capacity), and gives back leases idle for `linger` ms, so that other producers get them; when none are
 * free it waits for a release (published by the release script) or polls.
 * @module
 */
import type { ProducerLink } from './producer-link.js';

/** What the leases ask of the producer's engine. */
export interface LeaseHolder {
  /** The engine now has `n` slots. */
  resize(n: number): void;
  /** Submitters waiting for room. */
  readonly blocked: number;
  /** Slots free now. */
  readonly free: number;
}

/** How long a lease may stay idle before it is given back, ms. */
const LINGER = 50;
/** How long to wait for a release message before asking again anyway (one may be missed), ms. */
const POLL = 200;

/** See the module comment. */
export class Leases {
  /** Leases held (the engine's slot count). */
  held = 0;
  private asking = false;
  private reserving = 0;
  private closed = false;
  private trimTimer: NodeJS.Timeout | undefined = undefined;
  private wake: (() => void) | undefined = undefined;
  private readonly link: ProducerLink;
  private readonly capacity: number;
  private readonly holder: LeaseHolder;

  constructor(link: ProducerLink, capacity: number, holder: LeaseHolder) {
    this.link = link;
    this.capacity = capacity;
    this.holder = holder;
    link.sub.on('message', (channel: string) => {
      if (channel === link.keys.room) this.wakeAll();
    });
    // After a reconnect, Redis may have lost the hash (restarted without persistence): the leases this
    // producer holds are written back, so other producers do not take them again.
    link.cmd.on('ready', () => {
      if (this.held > 0 && !this.closed) link.cmd.hset(link.keys.leases, link.id, this.held).catch(() => {});
    });
  }

  /** Starts listening for released leases. */
  async start(): Promise<void> {
    await this.link.sub.subscribe(this.link.keys.room);
  }

  /** More room is wanted (a submitter waits, or every lease is busy): ask Redis, once at a time. */
  want(): void {
    if (this.asking || this.closed || this.held >= this.capacity) return;
    if (this.holder.blocked === 0 && this.holder.free > 0) return;
    this.asking = true;
    void this.ask();
  }

  private async ask(): Promise<void> {
    try {
      while (!this.closed && this.held < this.capacity && (this.holder.blocked > 0 || this.holder.free === 0)) {
        if ((await this.grant(Math.min(this.capacity - this.held, Math.max(1, this.holder.blocked, this.held)))) > 0) continue;
        // Only a submitter that waits makes it worth waiting for room; a busy producer asks again later.
        if (this.closed || this.holder.blocked === 0) break;
        await this.room();
      }
    } finally {
      this.asking = false;
    }
    this.settled();
  }

  /**
   * Asks Redis for up to `want` leases and takes what it grants (the engine grows at once); gives them back
   * when the producer closed meanwhile. Resolves with how many it took; 0 when Redis is away.
   */
  private async grant(want: number): Promise<number> {
    const { cmd, keys, id } = this.link;
    const granted = await cmd.lpAcquire(keys.leases, id, want, this.capacity).catch(() => 0);
    if (granted === 0) return 0;
    if (this.closed) {
      await cmd.lpRelease(keys.leases, id, granted, keys.room).catch(() => {});
      return 0;
    }
    this.held += granted;
    this.holder.resize(this.held);
    return granted;
  }

  /** Resolves when another producer releases leases, or after `POLL` ms (a release message can be missed). */
  private room(): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, POLL);
      const previous = this.wake;
      this.wake = () => {
        clearTimeout(timer);
        previous?.();
        resolve();
      };
    });
  }

  /** Wakes every waiter for room (once: the next ones wait for the next release). */
  private wakeAll(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  /**
   * Holds at least `n` leases (for a gang that must be admitted together), waiting for room as long as it
   * takes; `false` when the producer closed first.
   */
  async reserve(n: number): Promise<boolean> {
    this.reserving++;
    try {
      while (this.held < n) {
        if (this.closed) return false;
        if ((await this.grant(n - this.held)) === 0 && !this.closed) await this.room();
      }
      return true;
    } finally {
      this.reserving--;
    }
  }

  /** Asks for one lease now (for `tryRun`): whether one was granted. */
  async tryOne(): Promise<boolean> {
    if (this.closed || this.held >= this.capacity) return false;
    if ((await this.grant(1)) === 0) return false;
    this.settled();
    return true;
  }

  /** A task settled: leases idle for `LINGER` ms go back. */
  settled(): void {
    if (this.trimTimer !== undefined || this.closed) return;
    this.trimTimer = setTimeout(() => {
      this.trimTimer = undefined;
      this.trim();
    }, LINGER);
  }

  private trim(): void {
    // Leases gathered for a gang are not idle: they wait for the rest.
    const spare = this.holder.blocked > 0 || this.reserving > 0 ? 0 : this.holder.free;
    if (spare <= 0 || this.closed) return;
    this.held -= spare;
    this.holder.resize(this.held);
    const { cmd, keys, id } = this.link;
    cmd.lpRelease(keys.leases, id, spare, keys.room).catch(() => {});
  }

  /** Gives every lease back (the producer has closed). */
  async close(): Promise<void> {
    this.closed = true;
    if (this.trimTimer !== undefined) clearTimeout(this.trimTimer);
    this.wakeAll();
    const held = this.held;
    this.held = 0;
    const { cmd, keys, id } = this.link;
    if (held > 0) await cmd.lpRelease(keys.leases, id, held, keys.room).catch(() => {});
  }
}
