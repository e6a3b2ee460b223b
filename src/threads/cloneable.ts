/**
 * A cheap check, at task creation, that an input can be posted to a thread: structured cloning refuses
 * functions, symbols, promises and weak collections. Catching them here gives an error that names the path
 * instead of a `DataCloneError` when the task starts.
 * @module
 */
import { describe } from '../errors.js';

function refuse(path: string, value: unknown): never {
  throw new TypeError(`${path} cannot be sent to a thread (not structured-clonable): ${describe(value)}`);
}

/** Throws a `TypeError` naming the first part of `value` that structured cloning would refuse. */
export function assertCloneable(value: unknown, path = 'input', seen = new Set<object>()): void {
  if (typeof value === 'function' || typeof value === 'symbol') refuse(path, value);
  if (value === null || typeof value !== 'object') return;
  if (seen.has(value)) return;
  seen.add(value);
  if (value instanceof Promise || value instanceof WeakMap || value instanceof WeakSet || value instanceof WeakRef) refuse(path, value);
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer || value instanceof Date || value instanceof RegExp) return;
  if (value instanceof Map) {
    for (const [k, v] of value) {
      assertCloneable(k, `${path} (a Map key)`, seen);
      assertCloneable(v, `${path}.get(${describe(k)})`, seen);
    }
    return;
  }
  if (value instanceof Set) {
    for (const v of value) assertCloneable(v, `${path} (a Set member)`, seen);
    return;
  }
  for (const key of Object.keys(value)) {
    const at = Array.isArray(value) ? `${path}[${key}]` : `${path}.${key}`;
    let member: unknown;
    try {
      member = (value as Record<string, unknown>)[key];
    } catch (err) {
      throw new TypeError(`${at} cannot be sent to a thread: reading it threw`, { cause: err });
    }
    assertCloneable(member, at, seen);
  }
}
