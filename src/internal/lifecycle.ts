/**
 * The execution half of the pool: attempts, timeouts, retries, callbacks in their order, and settling.
 * Every task shape runs through these steps once it has a worker.
 * @module
 */
import { ErrHandle, type ErrReloadAfter } from '../err-handle.js';
import { AbortError, PoolClosedError, TaskTimeoutError, describe, toError } from '../errors.js';
import type { CallbackErrorInfo, CallbackName } from '../options.js';
import { backoffDelay, retryableByDefault } from '../retry.js';
import type { TaskGroup } from '../task-group.js';
import { Rejection, type Job, TaskContextImpl } from './job.js';
import { Scheduler } from './scheduler.js';
import type { Worker } from './worker.js';

const noop = (): void => {};

function thenOf(value: unknown): ((this: unknown, ok: (v: unknown) => void, fail: (e: unknown) => void) => unknown) | undefined {
  if (value === null || (typeof value !== 'object' && typeof value !== 'function')) return undefined;
  const then = (value as { then?: unknown }).then;
  return typeof then === 'function' ? (then as ReturnType<typeof thenOf>) : undefined;
}

function safeMessage(err: Error): string {
  try {
    return String(err.message);
  } catch {
    return describe(err);
  }
}

/**
 * Formats an error's stack now. V8 keeps the frames of an unformatted stack, closures and receivers
 * included; a task that fails while the previous one's completion is on the stack (the next task starts
 * synchronously from it) would otherwise keep that task, whose error keeps the one before: a chain as long
 * as the pool's history (found by the soak check).
 */
function releaseStack(value: unknown): void {
  if (value instanceof Error) {
    try {
      void value.stack;
    } catch {
      // A hostile `stack` getter: nothing to release.
    }
  }
}

function attemptTimedOut(pool: TaskLifecycle, ctx: TaskContextImpl): void {
  pool['timeoutAttempt'](ctx);
}

function backoffOver(pool: TaskLifecycle, job: Job): void {
  pool['requeue'](job);
}

function warn(message: string, err: Error): void {
  let detail: string | undefined;
  try {
    detail = err.stack;
  } catch {
    detail = undefined;
  }
  process.emitWarning(`litepool: ${message}`, { type: 'LitePoolWarning', code: 'LITEPOOL_CALLBACK_ERROR', detail });
}

/** What happens to a task from its first attempt until it settles. */
export abstract class TaskLifecycle extends Scheduler {
  protected runAttempt(job: Job, worker: Worker, reload: ((ok: boolean, value: unknown) => void) | undefined): void {
    const ctx = new TaskContextImpl(job, worker, job.attempts + 1, reload);
    job.ctx = ctx;
    worker.ctx = ctx;
    const spec = job.spec;
    if (spec.timeout > 0) ctx.timer = setTimeout(attemptTimedOut, spec.timeout, this, ctx);
    let result: unknown;
    let then: ReturnType<typeof thenOf>;
    try {
      result = job.fn.call(spec.taskThis, ctx);
      then = thenOf(result);
    } catch (err) {
      this.attemptReturned(ctx, false, err);
      return;
    }
    if (then === undefined) {
      this.attemptReturned(ctx, true, result);
    } else if (result instanceof Promise) {
      result.then(worker.onFulfilled, worker.onRejected);
    } else {
      // A foreign thenable may call back twice or throw: a native promise keeps the first outcome.
      new Promise((resolve, reject) => then.call(result, resolve, reject)).then(worker.onFulfilled, worker.onRejected);
    }
  }

  /** The attempt's function returned (or its promise settled). */
  protected attemptReturned(ctx: TaskContextImpl, ok: boolean, value: unknown): void {
    if (ctx.settled) {
      // The attempt had timed out; its function has now returned and frees the worker.
      const worker = ctx.worker;
      worker.zombies--;
      if (worker.zombies === 0) {
        const drained = worker.onDrained;
        worker.onDrained = undefined;
        if (drained !== undefined) drained();
        else if (worker.job === undefined) {
          this.releaseWorker(worker);
          this.dispatch();
        }
      }
      return;
    }
    ctx.settled = true;
    if (ctx.timer !== undefined) clearTimeout(ctx.timer);
    this.attemptSettled(ctx, ok, value);
  }

  protected timeoutAttempt(ctx: TaskContextImpl): void {
    if (ctx.settled) return;
    ctx.settled = true;
    ctx.timer = undefined;
    ctx.worker.zombies++;
    const err = new TaskTimeoutError(ctx.job.spec.timeout);
    ctx.abort(err);
    this.attemptSettled(ctx, false, err);
  }

  protected attemptSettled(ctx: TaskContextImpl, ok: boolean, value: unknown): void {
    const job = ctx.job;
    const worker = ctx.worker;
    worker.executed++;
    if (!ok) {
      worker.failed++;
      releaseStack(value);
    }
    if (ctx.reload !== undefined) {
      ctx.reload(ok, value);
      return;
    }
    if (ok) {
      this.succeeded(job, value);
      return;
    }
    const err = toError(value);
    if (job.spec.retry !== undefined && this.shouldRetry(job, err)) this.backoff(job, err);
    else this.finalFailure(job, err);
  }

  protected shouldRetry(job: Job, err: Error): boolean {
    const policy = job.spec.retry as NonNullable<Job['spec']['retry']>;
    const done = job.extra === undefined ? 0 : job.extra.policyRetries;
    if (done >= policy.retries || this.stopReason(job, policy.retries === Number.POSITIVE_INFINITY) !== undefined) {
      return false;
    }
    if (policy.retryIf === undefined) return retryableByDefault(err);
    try {
      return policy.retryIf(err, job.attempts) === true;
    } catch (e) {
      this.callbackFailed(e, 'retryIf');
      return false;
    }
  }

  /** Why retries of `job` must stop now, if they must: its signal aborted, or the pool closed. */
  protected stopReason(job: Job, endless: boolean): Error | undefined {
    const signal = job.spec.signal;
    if (signal?.aborted) return signal.reason instanceof AbortError ? signal.reason : new AbortError(signal.reason, 'the task was aborted; retries stopped');
    if (this.forced) return new PoolClosedError('the pool was closed with force; retries stopped');
    if (endless && this.lifecycle !== 'open') return new PoolClosedError('the pool was closed; endless retries stopped');
    return undefined;
  }

  protected backoff(job: Job, err: Error): void {
    const policy = job.spec.retry as NonNullable<Job['spec']['retry']>;
    const extra = job.more();
    extra.policyRetries++;
    this.retried++;
    if (policy.onRetry !== undefined) this.callback('onRetry', policy.onRetry, undefined, 2, err, job.attempts);
    if (this.listenerCount('retry') > 0) this.emit('retry', err, job.attempts);
    this.leaveWorker(job);
    job.state = 'backoff';
    this.backoffJobs.add(job);
    extra.timer = setTimeout(backoffOver, backoffDelay(policy, extra.policyRetries), this, job);
    this.dispatch();
  }

  protected requeue(job: Job): void {
    (job.extra as NonNullable<Job['extra']>).timer = undefined;
    this.backoffJobs.delete(job);
    // Admitted already, so it needs no room; it goes ahead of the tasks of its priority that came later.
    this.enqueue(job, true);
    this.dispatch();
  }

  protected succeeded(job: Job, value: unknown): void {
    job.result = value;
    const spec = job.spec;
    const pending = spec.onSuccess === undefined ? undefined : this.callback('onSuccess', spec.onSuccess, spec.onSuccessThis, 1, value);
    if (pending === undefined) this.completeJob(job);
    else void pending.then(() => this.completeJob(job));
  }

  protected finalFailure(job: Job, err: Error): void {
    job.result = new Rejection(err);
    const spec = job.spec;
    if (spec.onError === undefined) {
      this.completeJob(job);
      return;
    }
    const handle = new ErrHandle(this, job, err);
    job.more().handle = handle;
    const pending = this.callback('onError', spec.onError, spec.onErrorThis, 3, handle, spec.group, err);
    if (pending === undefined) this.afterHandler(job, handle);
    else void pending.then(() => this.afterHandler(job, handle));
  }

  protected afterHandler(job: Job, handle: ErrHandle): void {
    handle.closed = true;
    if (handle.running === undefined) this.completeJob(job);
    else void handle.running.then(() => this.completeJob(job));
  }

  /** @internal `handle.errReload()`: retries on the same worker, then `after(lastErr)`. */
  async reload(handle: ErrHandle, retries: number, after: ErrReloadAfter | undefined): Promise<Error | null> {
    const job = handle.job as Job;
    let last: Error | null = handle.error;
    for (let i = 0; i < retries; i++) {
      // Yield to the event loop between attempts so that endless retries cannot starve it.
      await new Promise<void>((resolve) => setImmediate(resolve));
      const worker = job.worker;
      let stop = this.stopReason(job, retries === Number.POSITIVE_INFINITY);
      if (stop === undefined && worker === undefined) break;
      if (stop === undefined && (worker as Worker).zombies > 0) {
        // Never more than one task function per worker: wait for the timed-out one to return.
        await new Promise<void>((resolve) => ((worker as Worker).onDrained = resolve));
        stop = this.stopReason(job, retries === Number.POSITIVE_INFINITY);
      }
      if (stop !== undefined) {
        last = stop;
        break;
      }
      this.retried++;
      const [ok, value] = await new Promise<[boolean, unknown]>((resolve) =>
        this.runAttempt(job, worker as Worker, (o, v) => resolve([o, v])),
      );
      if (ok) {
        job.result = value;
        last = null;
        break;
      }
      last = toError(value);
    }
    if (last !== null) job.result = new Rejection(last);
    if (after !== undefined) await this.callback('errReload.after', after, undefined, 1, last);
    return last;
  }

  /** @internal `errReload()` called after `onError` had returned: nothing can run any more. */
  lateReload(_handle: ErrHandle): void {
    this.callbackFailed(
      new Error('errReload() was called after onError had returned (and its promise settled); call it inside onError, or await it there'),
      'onError',
    );
  }

  protected completeJob(job: Job): void {
    const spec = job.spec;
    const pending = spec.onComplete === undefined ? undefined : this.callback('onComplete', spec.onComplete, spec.onCompleteThis, 0);
    if (pending === undefined) this.finish(job);
    else void pending.then(() => this.finish(job));
  }

  protected finish(job: Job): void {
    job.state = 'done';
    const spec = job.spec;
    // Auto-done: on success; on the final failure only when no onError owns that path.
    const result = job.result;
    const ok = !(result instanceof Rejection);
    if (spec.autoDone && spec.group !== undefined && (ok || spec.onError === undefined)) this.groupDone(spec.group);
    if (job.extra?.abortListener !== undefined) this.unlisten(job);
    if (job.worker !== undefined) this.leaveWorker(job);
    this.pending--;
    const resolve = job.resolve;
    job.resolve = undefined;
    job.result = undefined;
    if (ok) {
      this.completed++;
      if (this.listenerCount('completed') > 0) this.emit('completed', result);
    } else {
      this.failedTasks++;
      if (this.listenerCount('failed') > 0) this.emit('failed', result.error);
    }
    // A Rejection result rejects the promise it resolves.
    if (resolve !== undefined) resolve(result, job);
    spec.group?.taskFinished();
    this.dispatch();
  }

  protected groupDone(group: TaskGroup): void {
    try {
      group.done();
    } catch (err) {
      this.callbackFailed(err, 'autoDone');
    }
  }

  /**
   * Calls a user callback with `argc` of the arguments `a`, `b`, `c`. Returns `undefined` when it returned
   * synchronously, else a promise that settles when its result does and never rejects. Whatever it throws
   * goes to `callbackFailed`.
   */
  protected callback(name: CallbackName, fn: (...args: never[]) => unknown, thisArg: unknown, argc: number, a?: unknown, b?: unknown, c?: unknown): Promise<void> | undefined {
    let result: unknown;
    let then: ReturnType<typeof thenOf>;
    try {
      const f = fn as (...args: unknown[]) => unknown;
      result = argc === 0 ? f.call(thisArg) : argc === 1 ? f.call(thisArg, a) : argc === 2 ? f.call(thisArg, a, b) : f.call(thisArg, a, b, c);
      then = thenOf(result);
    } catch (err) {
      this.callbackFailed(err, name);
      return undefined;
    }
    if (then === undefined) return undefined;
    return new Promise((resolve, reject) => then.call(result, resolve, reject)).then(noop, (err: unknown) => this.callbackFailed(err, name));
  }

  protected callbackFailed(value: unknown, name: CallbackName): void {
    this.callbackErrors++;
    releaseStack(value);
    const err = toError(value);
    const info: CallbackErrorInfo = { callback: name };
    try {
      if (this.opts.onCallbackError !== undefined) this.opts.onCallbackError(err, info);
      else if (this.listenerCount('error') > 0) this.emit('error', err, info);
      else warn(`a ${name} callback failed: ${safeMessage(err)}`, err);
    } catch (reportErr) {
      warn(`reporting a failed ${name} callback failed too: ${safeMessage(toError(reportErr))}`, toError(reportErr));
    }
  }
}
