/**
 * Errors across a process boundary: what a worker sends (name, message, code, cause chain, stack) and the
 * error a producer makes of it. litepool's own error classes come back as themselves; any other error comes
 * back as an `Error` with the same name, message, code, cause chain and the remote stack.
 * @module
 */
import { AbortError, AddTimeoutError, LitePoolError, PoolClosedError, TaskFailedError, TaskGroupError, TaskTimeoutError } from '../errors.js';
import { TaskLostError, UnknownHandlerError, WorkerLostError } from './errors.js';

/** An error as JSON. */
export interface WireError {
  name: string;
  message: string;
  code?: string | number;
  stack?: string;
  /** The cause: an error as JSON, or any JSON value a non-Error cause could be turned into. */
  cause?: WireError | { value: unknown };
  /**
   * The error's other own fields whose values are plain data (`timeout`, `handler`, `statusCode`, `errno`,
   * `syscall`, …): strings, finite numbers, booleans and null.
   */
  fields?: Record<string, string | number | boolean | null>;
}

const SKIPPED = new Set(['name', 'message', 'stack', 'code', 'cause']);

const OWN = new Map<string, object>(
  [LitePoolError, PoolClosedError, AddTimeoutError, TaskTimeoutError, AbortError, TaskGroupError, TaskFailedError, TaskLostError, UnknownHandlerError, WorkerLostError].map((c) => [
    c.name,
    c.prototype as object,
  ]),
);

/** How deep a cause chain is followed (a cycle of causes ends there too). */
const MAX_CAUSES = 8;

function jsonValue(value: unknown): unknown {
  try {
    const text = JSON.stringify(value);
    return text === undefined ? String(value) : (JSON.parse(text) as unknown);
  } catch {
    return String(value);
  }
}

/** `err` as JSON; a thrown non-Error arrives as a `TaskFailedError` whose cause is the value, as in-process. */
export function toWire(err: unknown, depth = 0): WireError {
  if (!(err instanceof Error)) err = new TaskFailedError(err);
  const e = err as Error & { code?: unknown };
  const wire: WireError = { name: String(e.name), message: String(e.message) };
  if (typeof e.stack === 'string') wire.stack = e.stack;
  if (typeof e.code === 'string' || typeof e.code === 'number') wire.code = e.code;
  for (const key of Object.keys(e)) {
    if (SKIPPED.has(key)) continue;
    const value = (e as unknown as Record<string, unknown>)[key];
    if (value === null || typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value))) {
      (wire.fields ??= {})[key] = value;
    }
  }
  if (e.cause !== undefined && depth < MAX_CAUSES) wire.cause = e.cause instanceof Error ? toWire(e.cause, depth + 1) : { value: jsonValue(e.cause) };
  return wire;
}

/** The error a producer makes of a wire error. */
export function fromWire(wire: WireError): Error {
  let cause: unknown;
  if (wire.cause !== undefined) cause = 'name' in wire.cause ? fromWire(wire.cause) : wire.cause.value;
  const err = new Error(wire.message, wire.cause === undefined ? undefined : { cause });
  const own = OWN.get(wire.name);
  if (own !== undefined) Object.setPrototypeOf(err, own);
  const target = err as unknown as Record<string, unknown>;
  err.name = wire.name;
  if (wire.stack !== undefined) err.stack = wire.stack;
  if (wire.code !== undefined) target.code = wire.code;
  if (wire.fields !== undefined) for (const [key, value] of Object.entries(wire.fields)) if (!SKIPPED.has(key)) target[key] = value;
  return err;
}
