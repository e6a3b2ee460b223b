/**
 * A task named rather than written: a handler name and its input, for pools whose workers live in other
 * processes. The core only carries it; `litepool/bullmq` sends it.
 * @module
 */
import type { TaskFn } from './engine/task.js';

/** Marks the function of a task set by name; its value is the call. */
export const REMOTE_CALL: unique symbol = Symbol('litepool.remoteCall');

/** A handler name and its input, as a task set by `setTask(name, input)` carries them. */
export interface RemoteCall {
  readonly handler: string;
  readonly input: unknown;
}

/** The task function of a call by name: it returns the call, which a remote executor sends. */
export function remoteTask(handler: string, input: unknown): TaskFn {
  const call: RemoteCall = { handler, input };
  const fn = (() => call) as TaskFn & { [REMOTE_CALL]?: RemoteCall };
  fn[REMOTE_CALL] = call;
  return fn;
}

/** The call of a task set by name, or `undefined` for a task function. */
export function remoteCallOf(fn: unknown): RemoteCall | undefined {
  return typeof fn === 'function' ? (fn as { [REMOTE_CALL]?: RemoteCall })[REMOTE_CALL] : undefined;
}
