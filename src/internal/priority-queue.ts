import { RingQueue } from './ring-queue.js';

/** What the queue needs of an item. */
export interface Prioritized {
  readonly priority: number;
}

interface Level<T> {
  readonly priority: number;
  readonly queue: RingQueue<T>;
}

/**
 * Higher priority first, FIFO among equals. One ring per distinct priority, kept in descending order; with a
 * single priority in use (the common case) every operation touches one ring and nothing else.
 */
export class PriorityQueue<T extends Prioritized> {
  private levels: Level<T>[] = [{ priority: 0, queue: new RingQueue<T>() }];
  private count = 0;

  /** How many items are queued. */
  get length(): number {
    return this.count;
  }

  /** Adds an item behind the others of its priority. */
  push(item: T): void {
    this.level(item.priority).push(item);
    this.count++;
  }

  /** Adds an item ahead of the others of its priority (a retry coming back goes ahead of newer tasks). */
  unshift(item: T): void {
    this.level(item.priority).unshift(item);
    this.count++;
  }

  /** The first item of the highest priority, left in place, or `undefined` when empty. */
  peek(): T | undefined {
    if (this.count === 0) return undefined;
    for (const level of this.levels) if (level.queue.length > 0) return level.queue.peek();
    return undefined;
  }

  /** Removes and returns the first item of the highest priority, or `undefined` when empty. */
  shift(): T | undefined {
    if (this.count === 0) return undefined;
    const levels = this.levels;
    for (let i = 0; i < levels.length; i++) {
      const level = levels[i] as Level<T>;
      if (level.queue.length === 0) continue;
      const item = level.queue.shift() as T;
      this.count--;
      if (level.queue.length === 0 && level.priority !== 0) levels.splice(i, 1);
      return item;
    }
    return undefined;
  }

  /** Keeps only the items for which `keep` returns true. */
  filter(keep: (item: T) => boolean): void {
    let count = 0;
    for (const level of this.levels) {
      level.queue.filter(keep);
      count += level.queue.length;
    }
    this.levels = this.levels.filter((l) => l.priority === 0 || l.queue.length > 0);
    this.count = count;
  }

  /** Calls `fn` on every item, leaving the queue as it is. */
  forEach(fn: (item: T) => void): void {
    for (const level of this.levels) level.queue.forEach(fn);
  }

  private level(priority: number): RingQueue<T> {
    const levels = this.levels;
    const first = levels[0] as Level<T>;
    if (levels.length === 1 && first.priority === priority) return first.queue;
    let i = 0;
    while (i < levels.length && (levels[i] as Level<T>).priority > priority) i++;
    const at = levels[i];
    if (at !== undefined && at.priority === priority) return at.queue;
    const level = { priority, queue: new RingQueue<T>() };
    levels.splice(i, 0, level);
    return level.queue;
  }
}
