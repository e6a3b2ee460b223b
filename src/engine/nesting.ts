/**
 * Nested submissions and the deadlock they can make: a task that submits to its own pool and awaits the
 * result needs a free slot for the child; when every slot is held by a task waiting for a child queued behind
 * it, nothing can move again (p-limit #91; every peer hangs silently). The engine knows a child's parent when
 * the child is submitted while the parent's function is being called — before the parent's first `await`, as
 * in `run(async () => await lp.run(child))` — and, with the pool option `detectDeadlocks`, wherever it is
 * submitted (an `AsyncLocalStorage` scope around each attempt). When every slot has
 * been held by such a parent with a child waiting for one second with no slot freed, it warns once,
 * naming the cycle (a warning, not an error: a parent that does not await its child is not stuck).
 * @module
 */
import * as messages from '../messages.js';
import type { Slots } from './slots.js';
import type { Attempt, Task } from './task.js';

/** How long every slot must stay held by waiting parents, with no slot freed, before the warning. */
const STALL_MS = 1_000;

/** The parent links of one engine and the stall check. */
export class Nesting {
  private timer: NodeJS.Timeout | undefined = undefined;
  private warned = false;
  private readonly slots: Slots<Attempt>;
  private readonly warn: (message: string) => void;

  constructor(slots: Slots<Attempt>, warn: (message: string) => void) {
    this.slots = slots;
    this.warn = warn;
  }

  /** A child has to wait for a slot (queued or blocked): its parent counts it, and the stall check arms. */
  waits(task: Task): void {
    const extra = task.more();
    const parent = extra.parent as Task;
    extra.waiting = true;
    parent.more().waitingChildren++;
    // Referenced: a deadlocked pool holds nothing else that keeps the process alive, and would otherwise
    // let it exit silently with its promises pending. Any slot freed disarms it (`progressed`).
    if (!this.warned && this.timer === undefined && this.stalled()) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        if (this.stalled()) this.report();
      }, STALL_MS);
    }
  }

  /** A slot was freed: whatever waited may move now. */
  progressed(): void {
    if (this.timer !== undefined) this.stop();
  }

  /** A waiting child started, or left without starting. */
  leaves(task: Task): void {
    const extra = task.extra;
    if (extra === undefined || !extra.waiting) return;
    extra.waiting = false;
    ((extra.parent as Task).extra as NonNullable<Task['extra']>).waitingChildren--;
  }

  /** Stops the stall check (progress, or the engine closed). */
  stop(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Every slot is held, each by a task with a child waiting for a slot. */
  private stalled(): boolean {
    if (this.slots.free > 0) return false;
    for (const slot of this.slots.list) {
      if (slot.state !== 'busy') continue;
      if (!slot.held || ((slot.attempt as Attempt).task.extra?.waitingChildren ?? 0) === 0) return false;
    }
    return true;
  }

  private report(): void {
    this.warned = true;
    const links = this.slots.list
      .filter((s) => s.held)
      .map((s) => messages.nestedLink((s.attempt as Attempt).task.id, s.id))
      .join('; ');
    this.warn(messages.nestedDeadlock(links));
  }
}
