/**
 * Hashing on all cores with litepool's ThreadPool: files named on the command line, or generated buffers.
 * Each task moves its buffer to a thread (transfer list, no copy), with a live progress line, a timeout per
 * task, and the per-thread usage at the end.
 *
 *   npx tsx examples/hash-files.ts                 # 48 generated buffers of 2 MiB
 *   npx tsx examples/hash-files.ts file1 file2 …   # real files
 */
import { randomFillSync } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { ThreadPool } from '../src/threads/index.js';
import { sha256 } from './hash-task.js';
import { Progress } from './progress.js';

const files = process.argv.slice(2);
const rounds = 20_000;
const inputs: { name: string; load: () => Promise<ArrayBuffer> }[] =
  files.length > 0
    ? files.map((f) => ({ name: f, load: async () => { const b = await readFile(f); return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer; } }))
    : Array.from({ length: 48 }, (_, i) => {
        // Made up front, so that the timing below measures hashing, not the main thread filling buffers.
        const data = randomFillSync(new Uint8Array(2 * 1024 * 1024)).buffer;
        return { name: `buffer-${i}`, load: async () => data };
      });

const threads = availableParallelism();
console.log(`hashing ${inputs.length} inputs (${rounds} rounds each) on ${threads} threads`);

// One on the main thread first (after a warm-up), for the speed-up figure.
const first = (await (inputs[0] as (typeof inputs)[number]).load()).slice(0);
sha256({ data: first, rounds: 10 });
const t1 = performance.now();
sha256({ data: first, rounds });
const oneMs = performance.now() - t1;

const tp = new ThreadPool({ minThreads: threads, maxThreads: threads });
const progress = new Progress(inputs.length);
let done = 0;
let failed = 0;
const started = performance.now();
const digests = await tp.map(
  inputs,
  async (input, _i, ctx) => {
    const data = await input.load();
    try {
      const digest = await tp.task<string>(new URL('./hash-task.ts', import.meta.url), 'sha256', { data, rounds }, { transfer: [data] })(ctx);
      done++;
      return `${digest.slice(0, 16)}…  ${input.name}`;
    } catch (err) {
      failed++;
      throw err;
    } finally {
      progress.update(done, failed, 0);
    }
  },
  { timeout: 60_000 },
);
const elapsed = performance.now() - started;
progress.finish(done, failed, 0);
for (const line of digests.slice(0, 5)) console.log(line);
if (digests.length > 5) console.log(`… and ${digests.length - 5} more`);
console.log('');
tp.printUsage();
const serialEstimate = oneMs * inputs.length;
const busy = tp.threadUsage().reduce((s, t) => s + t.busyMs, 0);
console.log(
  `\n${(elapsed / 1000).toFixed(2)} s on ${threads} threads; about ${(serialEstimate / 1000).toFixed(2)} s on the main thread alone ` +
    `(speed-up ${(serialEstimate / elapsed).toFixed(2)}×; threads busy ${((100 * busy) / (threads * elapsed)).toFixed(0)} % of the time)`,
);
await tp.close();
