// The task module of examples/hash-files.ts: runs on a worker thread.
import { createHash } from 'node:crypto';

/** SHA-256 of `data`, iterated `rounds` times so that each task is CPU-heavy. */
export function sha256(input: { data: ArrayBuffer; rounds: number }): string {
  let digest = createHash('sha256').update(new Uint8Array(input.data)).digest();
  for (let i = 1; i < input.rounds; i++) digest = createHash('sha256').update(digest).update(new Uint8Array(input.data, 0, 4096)).digest();
  return digest.toString('hex');
}
