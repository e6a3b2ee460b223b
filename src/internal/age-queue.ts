/**
 * A binary heap: higher priority first, then the lower `id` (the older item). A pool with keys queues its
 * ready tasks here, because a task whose key gets room again goes back to its place by age rather than
 * behind every task that became ready while it waited; `push` and `unshift` are the same insertion.
 */
export class AgeQueue<T extends { readonly priority: number; readonly id: number }> {
  private items: T[] = [];

  /** How many items are queued. */
  get length(): number {
    return this.items.length;
  }

  /** Adds an item at its place. */
  push(item: T): void {
    const items = this.items;
    let i = items.length;
    items.push(item);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = items[parent] as T;
      if (!before(item, p)) break;
      items[i] = p;
      i = parent;
    }
    items[i] = item;
  }

  /** Adds an item at its place (an item coming back is older than the ones admitted after it). */
  unshift(item: T): void {
    this.push(item);
  }

  /** Removes and returns the first item, or `undefined` when empty. */
  shift(): T | undefined {
    const items = this.items;
    const first = items[0];
    const last = items.pop();
    if (first === undefined || last === undefined || items.length === 0) return first;
    const n = items.length;
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      const right = child + 1;
      if (right < n && before(items[right] as T, items[child] as T)) child = right;
      const c = items[child] as T;
      if (!before(c, last)) break;
      items[i] = c;
      i = child;
    }
    items[i] = last;
    return first;
  }

  /** Keeps only the items for which `keep` returns true. */
  filter(keep: (item: T) => boolean): void {
    const kept = this.items.filter(keep);
    this.items = [];
    for (const item of kept) this.push(item);
  }

  /** Calls `fn` on every item, in no particular order. */
  forEach(fn: (item: T) => void): void {
    for (const item of this.items) fn(item);
  }
}

function before(a: { readonly priority: number; readonly id: number }, b: { readonly priority: number; readonly id: number }): boolean {
  return a.priority > b.priority || (a.priority === b.priority && a.id < b.id);
}
