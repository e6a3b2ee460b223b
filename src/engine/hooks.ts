/**
 * Calling user code that is not the task: hooks run synchronously when they return a plain value (no promise
 * hop), are awaited when they return a thenable, and whatever they throw is reported, never propagated.
 * @module
 */
import { describe, toError } from '../errors.js';
import * as messages from '../messages.js';
import type { CallbackErrorInfo, CallbackName } from '../options.js';

const noop = (): void => {};

/** The `then` of a thenable, or `undefined` for any other value. */
export function thenOf(value: unknown): ((this: unknown, ok: (v: unknown) => void, fail: (e: unknown) => void) => unknown) | undefined {
  if (value === null || (typeof value !== 'object' && typeof value !== 'function')) return undefined;
  const then = (value as { then?: unknown }).then;
  return typeof then === 'function' ? (then as ReturnType<typeof thenOf>) : undefined;
}

/**
 * Formats an error's stack now. V8 keeps the frames of an unformatted stack, closures and receivers
 * included; a task that fails while the previous one's completion is on the stack (the next task starts
 * synchronously from it) would otherwise keep that task, whose error keeps the one before: a chain as long
 * as the engine's history (found by the soak check).
 */
export function releaseStack(value: unknown): void {
  if (value instanceof Error) {
    try {
      void value.stack;
    } catch {
      // A hostile `stack` getter: nothing to release.
    }
  }
}

function safeMessage(err: Error): string {
  try {
    return String(err.message);
  } catch {
    return describe(err);
  }
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

/** A process warning of the pool's own (`LitePoolWarning`, with `code`). */
export function poolWarning(code: string, message: string): void {
  process.emitWarning(`litepool: ${message}`, { type: 'LitePoolWarning', code });
}

/** Where a hook's failure goes when no `onCallbackError` is set: an `error` event, if anyone listens. */
export interface ErrorEvents {
  listenerCount(event: 'error'): number;
  emit(event: 'error', err: Error, info: CallbackErrorInfo): boolean;
}

/** Calls hooks and reports their failures: to `onCallbackError`, else an `error` event, else a process warning. */
export class Hooks {
  /** Failures reported so far. */
  errors = 0;
  private readonly onError: ((err: Error, info: CallbackErrorInfo) => void) | undefined;
  private readonly events: ErrorEvents;

  constructor(onError: ((err: Error, info: CallbackErrorInfo) => void) | undefined, events: ErrorEvents) {
    this.onError = onError;
    this.events = events;
  }

  /**
   * Calls `fn` with `argc` of the arguments `a`, `b`, `c`. Returns `undefined` when it returned
   * synchronously, else a promise that settles when its result does and never rejects.
   */
  call(name: CallbackName, fn: (...args: never[]) => unknown, thisArg: unknown, argc: number, a?: unknown, b?: unknown, c?: unknown): Promise<void> | undefined {
    let result: unknown;
    let then: ReturnType<typeof thenOf>;
    try {
      const f = fn as (...args: unknown[]) => unknown;
      result = argc === 0 ? f.call(thisArg) : argc === 1 ? f.call(thisArg, a) : argc === 2 ? f.call(thisArg, a, b) : f.call(thisArg, a, b, c);
      then = thenOf(result);
    } catch (err) {
      this.failed(err, name);
      return undefined;
    }
    if (then === undefined) return undefined;
    return new Promise((resolve, reject) => then.call(result, resolve, reject)).then(noop, (err: unknown) => this.failed(err, name));
  }

  /** Reports a hook's failure; never throws. */
  failed(value: unknown, name: CallbackName): void {
    this.errors++;
    releaseStack(value);
    const err = toError(value);
    const info: CallbackErrorInfo = { callback: name };
    try {
      if (this.onError !== undefined) this.onError(err, info);
      else if (this.events.listenerCount('error') > 0) this.events.emit('error', err, info);
      else warn(messages.callbackFailed(name, safeMessage(err)), err);
    } catch (reportErr) {
      warn(messages.reportFailed(name, safeMessage(toError(reportErr))), toError(reportErr));
    }
  }
}
