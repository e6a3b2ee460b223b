// The task module of examples/hash-files.ts: runs on a worker thread.
import { createHash } from 'node:crypto';

/**
 * SHA-256 of `data`, iterated `rounds` times so that each task is CPU-heavy. With a `label`, it reports its
 * progress (`{ label, done }`, a fraction) through `ctx.progress` ten times on the way.
 */
export function sha256(input: { data: ArrayBuffer; rounds: number; label?: string }, ctx?: { progress(value: unknown): void }): string {
  let digest = createHash('sha256').update(new Uint8Array(input.data)).digest();
  const every = Math.max(1, Math.floor(input.rounds / 10));
  for (let i = 1; i < input.rounds; i++) {
    digest = createHash('sha256').update(digest).update(new Uint8Array(input.data, 0, 4096)).digest();
    if (input.label !== undefined && i % every === 0) ctx?.progress({ label: input.label, done: i / input.rounds });
  }
  return digest.toString('hex');
}
