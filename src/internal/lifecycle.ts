/**
 * The execution half of the pool: attempts, timeouts, retries, callbacks in their order, and settling.
 * Every task shape runs through these steps once it has a worker.
 * @module
 */
import { ErrHandle, type ErrReloadAfter, type ReloadHost } from '../err-handle.js';
import { AbortError, PoolClosedError, TaskTimeoutError, describe, toError } from '../errors.js';
import type { CallbackErrorInfo, CallbackName } from '../options.js';
import { backoffDelay, retryableByDefault } from '../retry.js';
import type { TaskGroup } from '../task-group.js';
import { Job, TaskContextImpl } from './job.js';
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
export abstract class TaskLifecycle extends Scheduler implements ReloadHost {
  protected runAttempt(job: Job, worker: Worker, reload: ((ok: boolean, value: unknown) => void) | undefined): void {
    job.attempts++;
    const ctx = new TaskContextImpl(job, worker, reload);
    job.current = ctx;
    if (job.timeout > 0) ctx.timer = setTimeout(attemptTimedOut, job.timeout, this, ctx);
    let result: unknown;
    let then: ReturnType<typeof thenOf>;
    try {
      result = job.fn.call(job.thisArg, ctx);
      then = thenOf(result);
    } catch (err) {
      this.attemptReturned(ctx, false, err);
      return;
    }
    if (then === undefined) {
      this.attemptReturned(ctx, true, result);
    } else if (result instanceof Promise) {
      result.then(
        (v: unknown) => this.attemptReturned(ctx, true, v),
        (e: unknown) => this.attemptReturned(ctx, false, e),
      );
    } else {
      // A foreign thenable may call back twice or throw: a native promise keeps the first outcome.
      new Promise((resolve, reject) => then.call(result, resolve, reject)).then(
        (v: unknown) => this.attemptReturned(ctx, true, v),
        (e: unknown) => this.attemptReturned(ctx, false, e),
      );
    }
  }

  protected attemptReturned(ctx: TaskContextImpl, ok: boolean, value: unknown): void {
    ctx.returned = true;
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
    const err = new TaskTimeoutError(ctx.job.timeout);
    ctx.abort(err);
    this.attemptSettled(ctx, false, err);
  }

  protected attemptSettled(ctx: TaskContextImpl, ok: boolean, value: unknown): void {
    const job = ctx.job;
    const worker = ctx.worker;
    worker.executed++;
    if (!ok) worker.failed++;
    if (job.current === ctx) job.current = undefined;
    if (ctx.reload !== undefined) {
      ctx.reload(ok, value);
      return;
    }
    if (ok) {
      this.succeeded(job, value);
      return;
    }
    const err = toError(value);
    if (job.retry !== undefined && this.shouldRetry(job, err)) this.backoff(job, err);
    else this.finalFailure(job, err);
  }

  protected shouldRetry(job: Job, err: Error): boolean {
    const policy = job.retry as NonNullable<Job['retry']>;
    if (job.policyRetries >= policy.retries || this.stopReason(job, policy.retries === Number.POSITIVE_INFINITY) !== undefined) {
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
    if (job.signal?.aborted) return new AbortError(job.signal.reason, 'the task was aborted; retries stopped');
    if (this.forced) return new PoolClosedError('the pool was closed with force; retries stopped');
    if (endless && this.lifecycle !== 'open') return new PoolClosedError('the pool was closed; endless retries stopped');
    return undefined;
  }

  protected backoff(job: Job, err: Error): void {
    const policy = job.retry as NonNullable<Job['retry']>;
    job.policyRetries++;
    this.retried++;
    if (policy.onRetry !== undefined) this.callback('onRetry', policy.onRetry, undefined, err, job.attempts);
    this.emit('retry', err, job.attempts);
    this.leaveWorker(job);
    job.state = 'backoff';
    this.backoffJobs.add(job);
    job.timer = setTimeout(backoffOver, backoffDelay(policy, job.policyRetries), this, job);
    this.dispatch();
  }

  protected requeue(job: Job): void {
    job.timer = undefined;
    this.backoffJobs.delete(job);
    // Admitted already, so it needs no room; it goes ahead of the tasks of its priority that came later.
    this.enqueue(job, true);
    this.dispatch();
  }

  protected succeeded(job: Job, value: unknown): void {
    job.ok = true;
    job.value = value;
    const pending = job.onSuccess === undefined ? undefined : this.callback('onSuccess', job.onSuccess, job.onSuccessThis, value);
    if (pending === undefined) this.completeJob(job);
    else void pending.then(() => this.completeJob(job));
  }

  protected finalFailure(job: Job, err: Error): void {
    job.ok = false;
    job.error = err;
    if (job.onError === undefined) {
      this.completeJob(job);
      return;
    }
    const handle = new ErrHandle(this, job, err);
    job.handle = handle;
    const pending = this.callback('onError', job.onError, job.onErrorThis, handle, job.group, err);
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
        job.ok = true;
        job.value = value;
        job.error = undefined;
        last = null;
        break;
      }
      last = toError(value);
    }
    if (last !== null) job.error = last;
    if (after !== undefined) await this.callback('errReload.after', after, undefined, last);
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
    const pending = job.onComplete === undefined ? undefined : this.callback('onComplete', job.onComplete, job.onCompleteThis);
    if (pending === undefined) this.finish(job);
    else void pending.then(() => this.finish(job));
  }

  protected finish(job: Job): void {
    job.state = 'done';
    // Auto-done: on success; on the final failure only when no onError owns that path.
    if (job.autoDone && job.group !== undefined && (job.ok || job.onError === undefined)) this.groupDone(job.group);
    if (job.abortListener !== undefined) this.unlisten(job);
    if (job.worker !== undefined) this.leaveWorker(job);
    this.pending--;
    if (job.ok) {
      this.completed++;
      this.emit('completed', job.value);
      job.resolve?.(job.value);
    } else {
      this.failedTasks++;
      this.emit('failed', job.error as Error);
      job.reject?.(job.error as Error);
    }
    job.group?.taskFinished();
    job.resolve = job.reject = undefined;
    job.value = undefined;
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
   * Calls a user callback. Returns `undefined` when it returned synchronously, else a promise that settles
   * when its result does and never rejects. Whatever it throws goes to `callbackFailed`.
   */
  protected callback(name: CallbackName, fn: (...args: never[]) => unknown, thisArg: unknown, ...args: unknown[]): Promise<void> | undefined {
    let result: unknown;
    let then: ReturnType<typeof thenOf>;
    try {
      result = (fn as (...a: unknown[]) => unknown).apply(thisArg, args);
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
