/**
 * One abort listener per signal per engine, however many tasks share the signal: a `map()` over 100,000
 * items with one `AbortSignal`, or 100 `run()` calls with the same one, add one listener, not one each (which
 * made Node print `MaxListenersExceededWarning` past 10 and made registering 100,000 slow). Adding and removing
 * a task is O(1).
 * @module
 */

/** The tasks waiting on one signal, and the one listener that cancels them. */
interface Watch<T> {
  readonly tasks: Set<T>;
  readonly listener: () => void;
}

/** Watches the signals of an engine's tasks. */
export class Signals<T extends { spec: { signal: AbortSignal | undefined } }> {
  private readonly watches = new Map<AbortSignal, Watch<T>>();
  private readonly cancel: (task: T, reason: unknown) => void;

  /** `cancel` is called for every watched task of a signal that aborts, in the order they were added. */
  constructor(cancel: (task: T, reason: unknown) => void) {
    this.cancel = cancel;
  }

  /** Starts watching `task`'s signal for it. */
  add(task: T): void {
    const signal = task.spec.signal as AbortSignal;
    let watch = this.watches.get(signal);
    if (watch === undefined) {
      const tasks = new Set<T>();
      const listener = () => {
        this.watches.delete(signal);
        for (const t of tasks) this.cancel(t, signal.reason);
      };
      watch = { tasks, listener };
      this.watches.set(signal, watch);
      signal.addEventListener('abort', listener, { once: true });
    }
    watch.tasks.add(task);
  }

  /** Stops watching for `task`; the listener goes when its last task does. */
  delete(task: T): void {
    const signal = task.spec.signal as AbortSignal;
    const watch = this.watches.get(signal);
    if (watch === undefined || !watch.tasks.delete(task) || watch.tasks.size > 0) return;
    this.watches.delete(signal);
    signal.removeEventListener('abort', watch.listener);
  }
}
