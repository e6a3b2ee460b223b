/**
 * The transfer list of a thread task: what moves to the thread instead of being copied. A typed array or a
 * `DataView` stands for its whole `ArrayBuffer` (`postMessage` itself refuses views: issue #14, "Found invalid
 * object in transferList"); shared memory needs no moving; a buffer is listed once. A moved buffer is detached
 * in this thread and `postMessage` sends a detached one as an empty buffer without complaint, so a detached
 * buffer is refused here instead (issue #14: a retry "succeeded" on 0 bytes).
 * @module
 */
import type { TransferListItem } from 'node:worker_threads';
import { threadMessages } from './errors.js';

/** What `transfer` accepts: Node's transferables, and views (typed arrays, `DataView`s) standing for their buffer. */
export type TransferItem = TransferListItem | ArrayBufferView;

/** A normalised transfer list: the items to post, and where each came from in the caller's list (for messages). */
export interface TransferList {
  readonly items: readonly TransferListItem[];
  /** `at[i]`: the index in the caller's `transfer` of `items[i]`. */
  readonly at: readonly number[];
}

/** The transfer list of a task that transfers nothing. */
export const NO_TRANSFER: TransferList = Object.freeze({ items: Object.freeze([]), at: Object.freeze([]) });

/**
 * Whether `buffer` is detached (moved to another thread). Node 20 has no `ArrayBuffer.prototype.detached`;
 * only a detached buffer of length 0 refuses to be viewed.
 */
export function isDetached(buffer: ArrayBuffer): boolean {
  if (buffer.byteLength !== 0) return false;
  const detached = (buffer as { detached?: unknown }).detached;
  if (typeof detached === 'boolean') return detached;
  try {
    new Uint8Array(buffer);
    return false;
  } catch {
    return true;
  }
}

/**
 * Normalises the `transfer` option: views become their buffer, views of shared memory and
 * `SharedArrayBuffer`s are left out (shared, never copied), repeated buffers are listed once. Throws a
 * `TypeError` naming the item for a value that is not an object or for a buffer that is already detached.
 */
export function transferList(transfer: unknown): TransferList {
  if (!Array.isArray(transfer)) throw new TypeError(threadMessages.transferList(transfer));
  if (transfer.length === 0) return NO_TRANSFER;
  const items: TransferListItem[] = [];
  const at: number[] = [];
  for (let i = 0; i < transfer.length; i++) {
    const given: unknown = transfer[i];
    const item: unknown = ArrayBuffer.isView(given) ? given.buffer : given;
    if (item === null || typeof item !== 'object') throw new TypeError(threadMessages.transferItem(i, given));
    if (item instanceof SharedArrayBuffer) continue;
    if (item instanceof ArrayBuffer && isDetached(item)) throw new TypeError(threadMessages.detachedTransfer(i, undefined));
    if (items.includes(item as TransferListItem)) continue;
    items.push(item as TransferListItem);
    at.push(i);
  }
  return items.length === 0 ? NO_TRANSFER : { items, at };
}

/** The index (in the caller's list) of the first detached buffer of `list`, or -1. */
export function detachedAt(list: TransferList): number {
  for (let i = 0; i < list.items.length; i++) {
    const item = list.items[i];
    if (item instanceof ArrayBuffer && isDetached(item)) return list.at[i] as number;
  }
  return -1;
}

/** `list` without its `ArrayBuffer`s: what an attempt that may be followed by another moves (the buffers are copied). */
export function withoutBuffers(list: TransferList): TransferListItem[] {
  return list.items.filter((item) => !(item instanceof ArrayBuffer));
}
