/**
 * A double-ended queue on a growable power-of-two ring: O(1) push, unshift and shift, with each slot
 * cleared when it is taken so that the queue never retains what it gave away.
 */
export class RingQueue<T> {
  private buffer: (T | undefined)[];
  private head = 0;
  private count = 0;
  private mask: number;

  constructor() {
    this.buffer = new Array<T | undefined>(16);
    this.mask = 15;
  }

  /** How many items are queued. */
  get length(): number {
    return this.count;
  }

  /** Adds an item at the back. */
  push(item: T): void {
    if (this.count === this.buffer.length) this.grow();
    this.buffer[(this.head + this.count) & this.mask] = item;
    this.count++;
  }

  /** Adds an item at the front. */
  unshift(item: T): void {
    if (this.count === this.buffer.length) this.grow();
    this.head = (this.head - 1) & this.mask;
    this.buffer[this.head] = item;
    this.count++;
  }

  /** Removes and returns the front item, or `undefined` when empty. */
  shift(): T | undefined {
    if (this.count === 0) return undefined;
    const item = this.buffer[this.head];
    this.buffer[this.head] = undefined;
    this.head = (this.head + 1) & this.mask;
    this.count--;
    return item;
  }

  /** The front item, left in place. */
  peek(): T | undefined {
    return this.count === 0 ? undefined : this.buffer[this.head];
  }

  /** Keeps only the items for which `keep` returns true, in order. */
  filter(keep: (item: T) => boolean): void {
    const n = this.count;
    let kept = 0;
    for (let i = 0; i < n; i++) {
      const at = (this.head + i) & this.mask;
      const item = this.buffer[at] as T;
      this.buffer[at] = undefined;
      if (keep(item)) this.buffer[(this.head + kept++) & this.mask] = item;
    }
    this.count = kept;
  }

  /** Calls `fn` on every item, front first, leaving the queue as it is. */
  forEach(fn: (item: T) => void): void {
    for (let i = 0; i < this.count; i++) fn(this.buffer[(this.head + i) & this.mask] as T);
  }

  private grow(): void {
    const old = this.buffer;
    const size = old.length * 2;
    const next = new Array<T | undefined>(size);
    for (let i = 0; i < this.count; i++) next[i] = old[(this.head + i) & this.mask];
    this.buffer = next;
    this.head = 0;
    this.mask = size - 1;
  }
}
