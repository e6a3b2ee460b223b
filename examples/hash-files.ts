/**
 * Hashing on all cores with litepool's ThreadPool: files named on the command line, or generated buffers.
 * Each task moves its buffer to a thread (transfer list, no copy), reports its progress from the thread
 * (`ctx.progress`: a bar per file in flight on a terminal), with a live progress line, a timeout per task,
 * and the per-thread usage at the end.
 *
 * Without files it then measures when threads pay off: the same batches on the main thread and on a
 * ThreadPool (tasksPerThread 1 and 4; "cold": a new pool's first batch, "warm": its later ones), as a table.
 *
 *   npx tsx examples/hash-files.ts                 # 48 generated buffers of 2 MiB, then the table
 *   npx tsx examples/hash-files.ts file1 file2 …   # real files
 *
 * Under tsx every thread also loads tsx and compiles the task module when it starts, which makes a cold
 * start several times slower. To measure in plain node, bundle the example and its task module first:
 *
 *   npx esbuild examples/hash-files.ts examples/hash-task.ts --bundle --platform=node --format=esm \
 *     --outdir=/tmp/hash-example --out-extension:.js=.mjs && node /tmp/hash-example/hash-files.mjs
 */
import { randomFillSync } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ThreadPool } from '../src/threads/index.js';
import { sha256 } from './hash-task.js';
import { FileBars, Progress } from './progress.js';

// The task module next to this file, with this file's extension (.ts under tsx, .mjs once bundled).
const hashTask = new URL(`./hash-task${extname(fileURLToPath(import.meta.url))}`, import.meta.url);
const files = process.argv.slice(2);
const rounds = 2_000;
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
// Threads start on demand: start them (and load the task module) before timing, one small task each. What
// a cold start costs is in the table at the end.
const starting = performance.now();
await Promise.all(Array.from({ length: threads }, () => tp.runTask(hashTask, 'sha256', { data: new ArrayBuffer(16), rounds: 1 })));
const startupMs = performance.now() - starting;
const progress = new Progress(inputs.length);
const bars = new FileBars();
progress.extra = () => bars.text();
let done = 0;
let failed = 0;
const started = performance.now();
const digests = await tp.map(
  inputs,
  async (input, _i, ctx) => {
    const data = await input.load();
    try {
      const digest = await tp.task<string>(hashTask, 'sha256', { data, rounds, label: input.name }, { transfer: [data] })(ctx);
      bars.remove(input.name);
      done++;
      return `${digest.slice(0, 16)}…  ${input.name}`;
    } catch (err) {
      failed++;
      throw err;
    } finally {
      progress.update(done, failed, 0);
    }
  },
  // Each thread reports how far its file is: a bar per file in flight (on a terminal).
  {
    timeout: 60_000,
    onProgress: (p) => {
      const { label, done } = p as { label: string; done: number };
      bars.set(label, done);
      progress.redraw();
    },
  },
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
  `\n${(elapsed / 1000).toFixed(2)} s on ${threads} threads, after ${startupMs.toFixed(0)} ms to start them; about ` +
    `${(serialEstimate / 1000).toFixed(2)} s on the main thread alone (speed-up ${(serialEstimate / elapsed).toFixed(2)}×; ` +
    `threads busy ${((100 * busy) / (threads * (elapsed + startupMs))).toFixed(0)} % of the time)`,
);
await tp.close();

if (files.length === 0) await whenThreadsPayOff();

/** One batch of tasks: `count` inputs of `sha256`, made fresh for each run (a transferred buffer is gone). */
interface Workload {
  label: string;
  count: number;
  make: () => { data: ArrayBuffer; rounds: number }[];
  /** Move the buffers to the threads (the hashing batches) or copy the small shared input (the CPU loops). */
  transfer: boolean;
}

/** Runs each workload on the main thread and on thread pools, and prints the table. */
async function whenThreadsPayOff(): Promise<void> {
  const random = (bytes: number) => randomFillSync(new Uint8Array(bytes)).buffer;
  const hashing = (label: string, bytes: number, count: number): Workload => {
    const template = random(bytes);
    return { label, count, transfer: true, make: () => Array.from({ length: count }, () => ({ data: template.slice(0), rounds: 1 })) };
  };
  // A CPU loop: sha256 rounds over 4 KiB, as many as take `ms` on this machine's main thread (the best of
  // a few short runs, since other processes may slow any one down).
  const block = random(4096);
  let bestMs = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 10; i++) {
    const t0 = performance.now();
    sha256({ data: block, rounds: 500 });
    bestMs = Math.min(bestMs, performance.now() - t0);
  }
  const roundsPerMs = 500 / bestMs;
  const cpu = (ms: number, count: number): Workload => {
    const input = { data: block, rounds: Math.max(1, Math.round(ms * roundsPerMs)) };
    return { label: `CPU ${ms} ms`, count, transfer: false, make: () => Array.from({ length: count }, () => input) };
  };
  const workloads = [
    hashing('hash 1 KB', 1024, 1_000),
    hashing('hash 64 KB', 64 * 1024, 500),
    hashing('hash 1 MB', 1024 * 1024, 100),
    cpu(0.1, 500),
    cpu(1, 100),
    cpu(10, 20),
  ];

  const onMain = (w: Workload): number => {
    const batch = w.make();
    const start = performance.now();
    for (const input of batch) sha256(input);
    return performance.now() - start;
  };
  // runTask() is the shortest path to a thread; a map() function calling tp.task(...)(ctx) makes an
  // AbortSignal per task, which shows on tiny tasks only.
  const onThreads = async (pool: ThreadPool, w: Workload): Promise<number> => {
    const batch = w.make();
    const start = performance.now();
    await Promise.all(batch.map((input) => pool.runTask<string>(hashTask, 'sha256', input, w.transfer ? { transfer: [input.data] } : undefined)));
    return performance.now() - start;
  };

  console.log(`\nWhen do threads pay off? ${threads} threads; each cell: ms for the batch (speed-up over the main thread)`);
  const head = ['task', 'tasks', 'main', '1/thread cold', '1/thread warm', '4/thread cold', '4/thread warm'];
  const rows: string[][] = [];
  for (const w of workloads) {
    onMain({ ...w, count: Math.min(w.count, 20) }); // warm-up
    const main = Math.min(onMain(w), onMain(w)); // the better of two: other processes may slow a run down
    const cells = [w.label, String(w.count), `${fmt(main)}`];
    for (const tasksPerThread of [1, 4]) {
      const pool = new ThreadPool({ minThreads: threads, maxThreads: threads, tasksPerThread });
      try {
        const cold = await onThreads(pool, w);
        // New threads also compile their side of the messaging as they go: the best of the next three batches.
        const warm = Math.min(await onThreads(pool, w), await onThreads(pool, w), await onThreads(pool, w));
        cells.push(`${fmt(cold)} (${(main / cold).toFixed(2)}×)`, `${fmt(warm)} (${(main / warm).toFixed(2)}×)`);
      } finally {
        await pool.close();
      }
    }
    rows.push(cells);
  }
  for (const line of align(head, rows)) console.log(line);
  console.log(
    `cold: the first batch on a new pool, whose threads start and load the task module (${startupMs.toFixed(0)} ms above` +
      `${process.execArgv.some((a) => a.includes('tsx')) ? ', tsx included' : ''}); warm: the best of its next three. n/thread: tasksPerThread.`,
  );
}

function fmt(ms: number): string {
  return ms >= 100 ? ms.toFixed(0) : ms.toFixed(1);
}

/** Right-aligns every column but the first. */
function align(head: string[], rows: string[][]): string[] {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  return [head, ...rows].map((cells) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join('  '));
}
