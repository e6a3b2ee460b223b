/**
 * A FIFO (or priority) line of tasks that may leave from anywhere: a task that leaves in the middle (aborted,
 * timed out) keeps its place as a tombstone, skipped when it reaches the front, and the line is compacted
 * when tombstones outnumber live tasks. Live means: the item's `state` is the line's state.
 * @module
 */

/** The store under a lane: a ring or a priority queue. */
export interface LaneStore<T> {
  readonly length: number;
  push(item: T): void;
  unshift(item: T): void;
  shift(): T | undefined;
  filter(keep: (item: T) => boolean): void;
  forEach(fn: (item: T) => void): void;
}

/** Tombstones tolerated before a compaction is considered. */
const COMPACT_AFTER = 64;

/** A line of items whose `state` says whether they still stand in it. */
export class Lane<T extends { state: string }> {
  /** Live items. */
  size = 0;
  private dead = 0;
  private readonly store: LaneStore<T>;
  private readonly live: string;
  private readonly isLive = (item: T): boolean => item.state === this.live;

  constructor(store: LaneStore<T>, live: string) {
    this.store = store;
    this.live = live;
  }

  /** Adds `item` at the back; the caller has set its state to the lane's. */
  push(item: T): void {
    this.store.push(item);
    this.size++;
  }

  /** Adds `item` at the front (of its priority level). */
  unshift(item: T): void {
    this.store.unshift(item);
    this.size++;
  }

  /** Removes and returns the first live item; the caller then changes its state. */
  shift(): T | undefined {
    for (;;) {
      const item = this.store.shift();
      if (item === undefined || item.state === this.live) {
        if (item !== undefined) this.size--;
        return item;
      }
      this.dead--;
    }
  }

  /** A live item left the line where it stood (the caller changed its state): it becomes a tombstone. */
  left(): void {
    this.size--;
    this.dead++;
    if (this.dead > COMPACT_AFTER && this.dead > this.size) {
      this.store.filter(this.isLive);
      this.dead = 0;
    }
  }

  /**
   * The first live item for which `pred` holds, and whether it is the first live item of the line; O(length).
   */
  find(pred: (item: T) => boolean): { item: T; first: boolean } | undefined {
    let found: { item: T; first: boolean } | undefined;
    let seenLive = false;
    this.store.forEach((item) => {
      if (found !== undefined || item.state !== this.live) return;
      if (pred(item)) found = { item, first: !seenLive };
      seenLive = true;
    });
    return found;
  }

  /** Calls `fn` on every live item, front first. */
  forEach(fn: (item: T) => void): void {
    this.store.forEach((item) => {
      if (item.state === this.live) fn(item);
    });
  }

  /** Removes every item and returns the live ones, front first. */
  drain(): T[] {
    const out: T[] = [];
    for (let item = this.shift(); item !== undefined; item = this.shift()) out.push(item);
    this.dead = 0;
    return out;
  }
}
