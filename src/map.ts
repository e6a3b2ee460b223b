/**
 * `map()` and `mapIterable()`: many items through the pool, input read lazily, fail-fast or settled.
 * @module
 */
import { AsyncResource } from 'node:async_hooks';
import type { Engine } from './engine/engine.js';
import { Rejection, Task, emptySpec, type Attempt, type TaskFn, type TaskSpec } from './engine/task.js';
import { AbortError, toError } from './errors.js';
import * as messages from './messages.js';
import { RingQueue } from './internal/ring-queue.js';
import { validateBoolean, validateFunction } from './options.js';
import { resolveRunOptions, type ResolvedRunOptions, type RunOptions } from './run-options.js';
import type { TaskContext } from './task-context.js';

/** The function `map()` applies: item, its index in the input, and the attempt's context. */
export type MapFunction<T, R> = (item: T, index: number, ctx: TaskContext) => R | PromiseLike<R>;

/** Options of `map()`: per-item task options, plus `settle` and `waitForRunning`. */
export interface MapOptions extends RunOptions {
  /**
   * Run every item and resolve with a `PromiseSettledResult` per item instead of failing fast.
   * @default false
   */
  settle?: boolean;
  /**
   * Fail-fast, but reject only once the items already running have finished (their results discarded;
   * waiting items are still dropped and running ones' signals aborted): when `map()` rejects, none of its
   * functions is still running, so the caller can clean up safely.
   * @default false
   */
  waitForRunning?: boolean;
}

/** Options of `mapIterable()`: per-item task options, plus `ordered`. */
export interface MapIterableOptions extends RunOptions {
  /**
   * Yield results in input order (`true`) or as they complete (`false`).
   * @default true
   */
  ordered?: boolean;
}

/** A member of a batch: the batch's shared task function reads its item and index from here. */
class MemberTask extends Task {
  readonly item: unknown;
  readonly index: number;

  constructor(fn: TaskFn, spec: TaskSpec, item: unknown, index: number) {
    super(fn, spec);
    this.item = item;
    this.index = index;
  }
}

const MAP_KEYS = new Set(['settle', 'waitForRunning']);
const ITERABLE_KEYS = new Set(['ordered']);

type AnyIterator<T> = Iterator<T> | AsyncIterator<T>;

function iteratorOf<T>(where: string, input: Iterable<T> | AsyncIterable<T>): { it: AnyIterator<T>; isAsync: boolean } {
  if ((input !== null && typeof input === 'object') || typeof input === 'string') {
    const asyncIt = (input as AsyncIterable<T>)[Symbol.asyncIterator];
    if (typeof asyncIt === 'function') return { it: asyncIt.call(input), isAsync: true };
    const syncIt = (input as Iterable<T>)[Symbol.iterator];
    if (typeof syncIt === 'function') return { it: syncIt.call(input), isAsync: false };
  }
  throw new TypeError(messages.iterable(where, input));
}

function optionalBoolean(name: string, value: unknown): boolean | undefined {
  return value === undefined ? undefined : validateBoolean(name, value);
}

function runMember(this: Batch<unknown, unknown>, ctx: Attempt): unknown {
  return this.call(ctx);
}

/**
 * Pulls items from the input and submits one job per item, only while the pool has room (never more pulled
 * than the pool can hold), and again each time one of its jobs settles. It cancels its own jobs on failure
 * (they share a spec marked `managed`, so the pool does not listen to a signal per job), and runs in the
 * async context of the `map()` call whichever completion drives it.
 */
abstract class Batch<T, R> {
  /** Members submitted and not settled yet. */
  protected inFlight = 0;
  protected exhausted = false;
  protected failure: Error | undefined = undefined;
  private index = 0;
  private pulling = false;
  private waiting = false;
  private pumping = false;
  private again = false;
  /** The batch ended (settled, failed or closed by its consumer): nothing more is admitted. */
  private released = false;
  private readonly controller = new AbortController();
  private readonly spec: TaskSpec;
  private readonly unlink: () => void;

  /** `resource`: the async context of the `map()`/`mapIterable()` call, which members are made and run in. */
  constructor(
    private readonly engine: Engine,
    private readonly where: string,
    private readonly it: AnyIterator<T>,
    private readonly isAsync: boolean,
    private readonly fn: MapFunction<T, R>,
    o: ResolvedRunOptions,
    private readonly resource: AsyncResource,
  ) {
    const spec = emptySpec();
    spec.timeout = o.timeout;
    spec.retry = o.retry;
    spec.priority = o.priority;
    spec.key = o.key;
    spec.onProgress = o.onProgress;
    // The batch's own signal: retries of a cancelled member stop, and a late submit is refused.
    spec.signal = this.controller.signal;
    spec.managed = true;
    spec.shared = true;
    // Members share one task function; it finds the batch as `this` and the item on the task.
    spec.thisArg = this;
    this.spec = spec;
    const user = o.signal;
    if (user === undefined) this.unlink = () => {};
    else if (user.aborted) {
      this.unlink = () => {};
      this.fail(new AbortError(user.reason, messages.mapAborted(where)));
    } else {
      const onAbort = () => this.fail(new AbortError(user.reason, messages.mapAborted(where)));
      user.addEventListener('abort', onAbort, { once: true });
      this.unlink = () => user.removeEventListener('abort', onAbort);
    }
  }

  /** Whether the consumer has room for more results now. */
  protected abstract wants(): boolean;
  /** Receives the outcome of item `index` (a value, or a `Rejection`). */
  protected abstract settled(index: number, value: unknown): void;
  /** Something changed that the consumer may be waiting for. */
  protected abstract changed(): void;
  /** Item `index` was pulled and is about to be submitted. */
  protected accepted(_index: number): void {}

  /** The input is read to its end and every member has settled. */
  protected get drained(): boolean {
    return this.exhausted && this.inFlight === 0 && !this.pulling && !this.waiting;
  }

  /** Pulls and submits while there is room. Re-entrant calls (a member settling synchronously) loop instead. */
  pump(): void {
    if (this.pumping) {
      this.again = true;
      return;
    }
    this.pumping = true;
    try {
      this.resource.runInAsyncScope(this.pumpLoop, this);
    } finally {
      this.pumping = false;
    }
    this.changed();
  }

  private pumpLoop(): void {
    do {
      this.again = false;
      while (!this.exhausted && !this.pulling && !this.waiting && this.failure === undefined && this.wants()) {
        // With members of ours in the pool, wait for one to settle (or for the pool to grow); with none, take
        // a place in line.
        if (!(this.engine.state === 'open' && this.engine.roomFor(this.spec.key)) && this.inFlight > 0) {
          this.engine.watchRoom(this.onRoom, true);
          break;
        }
        if (this.isAsync) {
          this.pullAsync();
          break;
        }
        let next: IteratorResult<T>;
        try {
          next = (this.it as Iterator<T>).next();
        } catch (err) {
          this.fail(toError(err));
          break;
        }
        this.accept(next);
      }
    } while (this.again);
  }

  private pullAsync(): void {
    this.pulling = true;
    let pending: Promise<IteratorResult<T>>;
    try {
      pending = Promise.resolve((this.it as AsyncIterator<T>).next());
    } catch (err) {
      this.pulling = false;
      this.fail(toError(err));
      return;
    }
    pending.then(
      (next) => {
        this.pulling = false;
        // Not after the batch ended: a consumer that left the loop while this item was asked for (#14).
        if (this.failure === undefined && !this.released) this.resource.runInAsyncScope(this.accept, this, next);
        this.pump();
      },
      (err: unknown) => {
        this.pulling = false;
        this.fail(toError(err));
        this.changed();
      },
    );
  }

  private accept(next: IteratorResult<T>): void {
    if (next.done === true) {
      this.exhausted = true;
      return;
    }
    const i = this.index++;
    const task = new MemberTask(runMember as TaskFn, this.spec, next.value, i);
    task.resolve = this.onSettled;
    this.inFlight++;
    this.accepted(i);
    const admitted = this.engine.submit(task, this.where, true);
    if (admitted !== undefined) {
      this.waiting = true;
      void admitted.then(() => {
        this.waiting = false;
        this.pump();
      });
    }
  }

  /** Stops the batch: no more input; waiting members dropped, running members' signals aborted. */
  protected fail(err: Error): void {
    if (this.failure !== undefined) return;
    this.failure = err;
    this.cancelAll(err);
  }

  protected cancelAll(reason: unknown): void {
    if (!this.controller.signal.aborted) this.controller.abort(reason);
    this.engine.cancelSpec(this.spec, reason);
  }

  /** Calls the user's function for a member (the members' shared task function, with the batch as `this`). */
  call(ctx: Attempt): unknown {
    const task = ctx.task as MemberTask;
    return this.fn(task.item as T, task.index, ctx);
  }

  private readonly onSettled = (value: unknown, task: Task): void => {
    this.inFlight--;
    this.settled((task as MemberTask).index, value);
    this.pump();
  };

  private readonly onRoom = (): void => this.pump();

  /** Lets go of the user's signal and closes the input if it was not read to its end. */
  protected release(): void {
    this.released = true;
    this.engine.watchRoom(this.onRoom, false);
    this.unlink();
    if (this.exhausted) return;
    this.exhausted = true;
    // Not awaited: an async input busy in a slow next() would make its return() wait, and the batch must
    // still end at once. A failure of the input's own cleanup is not reported: the batch's outcome is.
    try {
      const closing = this.it.return?.();
      if (closing instanceof Promise) closing.catch(() => {});
    } catch {
      // As above: the input's cleanup threw while the batch was already ending.
    }
  }
}

class ArrayBatch<T, R> extends Batch<T, R> {
  readonly results: (R | PromiseSettledResult<R>)[] = [];
  private resolve: ((results: R[] | PromiseSettledResult<R>[]) => void) | undefined;
  private reject: ((err: Error) => void) | undefined;
  readonly promise: Promise<R[] | PromiseSettledResult<R>[]>;

  constructor(
    engine: Engine,
    it: AnyIterator<T>,
    isAsync: boolean,
    fn: MapFunction<T, R>,
    o: ResolvedRunOptions,
    private readonly settle: boolean,
    private readonly waitForRunning: boolean,
  ) {
    super(engine, 'map()', it, isAsync, fn, o, new AsyncResource('litepool.map'));
    this.promise = new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }

  protected wants(): boolean {
    return true;
  }

  protected settled(index: number, value: unknown): void {
    if (value instanceof Rejection) {
      if (this.settle) this.results[index] = { status: 'rejected', reason: value.error };
      else this.fail(value.error);
    } else this.results[index] = this.settle ? { status: 'fulfilled', value: value as R } : (value as R);
  }

  protected changed(): void {
    if (this.resolve === undefined) return;
    if (this.failure !== undefined) {
      this.release();
      if (this.waitForRunning && this.inFlight > 0) return;
      const reject = this.reject as (err: Error) => void;
      this.resolve = this.reject = undefined;
      reject(this.failure as Error);
    } else if (this.drained) {
      const resolve = this.resolve;
      this.resolve = this.reject = undefined;
      this.release();
      resolve(this.results as R[] | PromiseSettledResult<R>[]);
    }
  }
}

type Outcome<R> = { ok: true; value: R } | { ok: false; error: Error };

class StreamBatch<T, R> extends Batch<T, R> {
  private readonly window: number;
  private readonly slots = new RingQueue<{ outcome: Outcome<R> | undefined }>();
  private readonly bySlot = new Map<number, { outcome: Outcome<R> | undefined }>();
  private readonly done = new RingQueue<Outcome<R>>();
  private wake: (() => void) | undefined = undefined;

  constructor(
    engine: Engine,
    it: AnyIterator<T>,
    isAsync: boolean,
    fn: MapFunction<T, R>,
    o: ResolvedRunOptions,
    private readonly ordered: boolean,
    resource: AsyncResource,
    window: number | undefined,
  ) {
    super(engine, 'mapIterable()', it, isAsync, fn, o, resource);
    // Never more items in flight or waiting to be read than the pool can hold.
    const workers = engine.slots.count;
    this.window = window ?? (Number.isFinite(engine.queueSize) ? workers * (1 + engine.queueSize) : workers * 2);
  }

  protected wants(): boolean {
    return this.inFlight + this.slots.length + this.done.length < this.window;
  }

  protected settled(index: number, value: unknown): void {
    const outcome: Outcome<R> = value instanceof Rejection ? { ok: false, error: value.error } : { ok: true, value: value as R };
    if (!this.ordered) {
      this.done.push(outcome);
      return;
    }
    const slot = this.bySlot.get(index);
    if (slot !== undefined) {
      slot.outcome = outcome;
      this.bySlot.delete(index);
    }
  }

  protected changed(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  /** Reserves the item's slot, in input order, before it is submitted. */
  protected override accepted(index: number): void {
    if (!this.ordered) return;
    const slot = { outcome: undefined };
    this.slots.push(slot);
    this.bySlot.set(index, slot);
  }

  /** The next outcome to hand out, if one is ready. */
  take(): Outcome<R> | undefined {
    if (!this.ordered) return this.done.shift();
    const head = this.slots.peek();
    if (head === undefined || head.outcome === undefined) return undefined;
    this.slots.shift();
    return head.outcome;
  }

  get finished(): boolean {
    return this.drained && this.slots.length === 0 && this.done.length === 0;
  }

  get error(): Error | undefined {
    return this.failure;
  }

  next(): Promise<void> {
    return new Promise((resolve) => (this.wake = resolve));
  }

  close(): void {
    if (this.inFlight > 0) this.cancelAll(new AbortError(undefined, messages.iterableClosed));
    this.release();
  }
}

/** `lp.map()`: see `LitePool.map`. */
export function mapArray<T, R>(
  engine: Engine,
  input: Iterable<T> | AsyncIterable<T>,
  fn: MapFunction<T, R>,
  options: MapOptions | undefined,
): Promise<R[] | PromiseSettledResult<R>[]> {
  try {
    const { it, isAsync } = iteratorOf('map(input)', input);
    validateFunction('map(fn)', fn);
    const o = resolveRunOptions('map(options)', options, MAP_KEYS);
    const settle = optionalBoolean('map(options).settle', options?.settle) === true;
    const waitForRunning = optionalBoolean('map(options).waitForRunning', options?.waitForRunning) === true;
    const batch = new ArrayBatch(engine, it, isAsync, fn, o, settle, waitForRunning);
    batch.pump();
    return batch.promise;
  } catch (err) {
    return Promise.reject(toError(err));
  }
}

/**
 * `lp.mapIterable()`: see `LitePool.mapIterable`. Arguments are checked and the caller's async context is
 * captured now; the batch starts when the first result is read (so an iterable never read holds nothing).
 */
export function mapStream<T, R>(
  engine: Engine,
  input: Iterable<T> | AsyncIterable<T>,
  fn: MapFunction<T, R>,
  options: MapIterableOptions | undefined,
  window?: number,
): AsyncGenerator<R, void, undefined> {
  const { it, isAsync } = iteratorOf('mapIterable(input)', input);
  validateFunction('mapIterable(fn)', fn);
  const o = resolveRunOptions('mapIterable(options)', options, ITERABLE_KEYS);
  const ordered = optionalBoolean('mapIterable(options).ordered', options?.ordered) !== false;
  return stream(engine, it, isAsync, fn, o, ordered, new AsyncResource('litepool.map'), window);
}

async function* stream<T, R>(
  engine: Engine,
  it: AnyIterator<T>,
  isAsync: boolean,
  fn: MapFunction<T, R>,
  o: ResolvedRunOptions,
  ordered: boolean,
  resource: AsyncResource,
  window: number | undefined,
): AsyncGenerator<R, void, undefined> {
  const batch = new StreamBatch(engine, it, isAsync, fn, o, ordered, resource, window);
  try {
    for (;;) {
      batch.pump();
      const outcome = batch.take();
      if (outcome !== undefined) {
        if (!outcome.ok) throw outcome.error;
        yield outcome.value;
        continue;
      }
      if (batch.error !== undefined) throw batch.error;
      if (batch.finished) return;
      await batch.next();
    }
  } finally {
    batch.close();
  }
}
