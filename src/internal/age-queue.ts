import { PriorityQueue } from './priority-queue.js';

interface Aged {
  readonly priority: number;
  readonly id: number;
}

/**
 * Higher priority first, then the lower `id` (the older item). A pool with keys queues its ready tasks here,
 * because a task whose key gets room again goes back to its place by age rather than behind every task that
 * became ready while it waited. Items come mostly in id order (admission gives ids in order): those go to a
 * ring per priority at O(1); an item older than the last one pushed (a parked task let through, a retry back
 * from its backoff) goes to a binary heap, and `shift` takes the first of the two.
 */
export class AgeQueue<T extends Aged> {
  private readonly inOrder = new PriorityQueue<T>();
  private late: T[] = [];
  private lastId = 0;

  /** How many items are queued. */
  get length(): number {
    return this.inOrder.length + this.late.length;
  }

  /** Adds an item at its place. */
  push(item: T): void {
    if (item.id > this.lastId) {
      this.lastId = item.id;
      this.inOrder.push(item);
      return;
    }
    const late = this.late;
    let i = late.length;
    late.push(item);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = late[parent] as T;
      if (!before(item, p)) break;
      late[i] = p;
      i = parent;
    }
    late[i] = item;
  }

  /** Adds an item at its place (an item coming back is older than the ones admitted after it). */
  unshift(item: T): void {
    this.push(item);
  }

  /** Removes and returns the first item, or `undefined` when empty. */
  shift(): T | undefined {
    const head = this.inOrder.peek();
    const top = this.late[0];
    if (top === undefined || (head !== undefined && before(head, top))) return this.inOrder.shift();
    return this.shiftLate();
  }

  /** Keeps only the items for which `keep` returns true. */
  filter(keep: (item: T) => boolean): void {
    this.inOrder.filter(keep);
    const kept = this.late.filter(keep);
    this.late = [];
    const lastId = this.lastId;
    // Re-inserted as late items (their ids are at most the last one pushed).
    this.lastId = Number.POSITIVE_INFINITY;
    for (const item of kept) this.push(item);
    this.lastId = lastId;
  }

  /** Calls `fn` on every item, in no particular order. */
  forEach(fn: (item: T) => void): void {
    this.inOrder.forEach(fn);
    for (const item of this.late) fn(item);
  }

  private shiftLate(): T | undefined {
    const late = this.late;
    const first = late[0];
    const last = late.pop();
    if (first === undefined || last === undefined || late.length === 0) return first;
    const n = late.length;
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      const right = child + 1;
      if (right < n && before(late[right] as T, late[child] as T)) child = right;
      const c = late[child] as T;
      if (!before(c, last)) break;
      late[i] = c;
      i = child;
    }
    late[i] = last;
    return first;
  }
}

function before(a: Aged, b: Aged): boolean {
  return a.priority > b.priority || (a.priority === b.priority && a.id < b.id);
}
