/**
 * One measurement in a fresh process (spawned by bench/run.ts): prints one JSON line.
 *   throughput <subject> <shape> <concurrency> <n>
 *   memory <subject> <n>
 *   stream <subject> <n>
 *   seed <subject> <seed>
 */
import fastq from 'fastq';
import pLimit from 'p-limit';
import { setImmediate as yieldTurn } from 'node:timers/promises';
import { LitePool, newPool } from '../dist/esm/index.js';
import { shapes, subjects, type Task } from './subjects.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with --expose-gc');

function fullGc(): void {
  for (let i = 0; i < 4; i++) (gc as () => void)();
}

const [workload, subject, ...args] = process.argv.slice(2);
const out = (o: object) => console.log(JSON.stringify(o));

async function throughput(name: string, shape: string, c: number, n: number): Promise<void> {
  const submit = subjects[name];
  const task = shapes[shape];
  if (submit === undefined || task === undefined) throw new Error(`unknown subject or shape: ${name} / ${shape}`);
  // Warm up the JIT on the same code path, then measure a fresh instance.
  await submit(task, Math.min(n, 20_000), c).done();
  fullGc();
  const t0 = performance.now();
  await submit(task, n, c).done();
  const ms = performance.now() - t0;
  out({ tasksPerSec: (n / ms) * 1000, ms });
}

async function memory(name: string, n: number): Promise<void> {
  const submit = subjects[name];
  if (submit === undefined) throw new Error(`unknown subject: ${name}`);
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  // Warm-up so that code and hidden classes are in place before the baseline.
  await submit(async () => {}, 10_000, 1).done();
  let first = true;
  const task: Task = () => {
    if (first) {
      first = false;
      return gate;
    }
    return Promise.resolve();
  };
  fullGc();
  const before = process.memoryUsage().heapUsed;
  const run = submit(task, n, 1);
  await yieldTurn();
  fullGc();
  const after = process.memoryUsage().heapUsed;
  release();
  await run.done();
  out({ bytesPerTask: (after - before) / n });
}

async function stream(name: string, n: number): Promise<void> {
  let peak = 0;
  let count = 0;
  const task = async () => {
    if (++count % 10_000 === 0) peak = Math.max(peak, process.memoryUsage().heapUsed);
  };
  function* source() {
    for (let i = 0; i < n; i++) yield i;
  }
  fullGc();
  const base = process.memoryUsage().heapUsed;
  const t0 = performance.now();
  if (name === 'litepool map()') {
    const lp = new LitePool({ workers: 16, queueSize: 16 });
    await lp.map(source(), task);
  } else if (name === 'litepool mapIterable()') {
    const lp = new LitePool({ workers: 16, queueSize: 16 });
    for await (const _ of lp.mapIterable(source(), task, { ordered: false })) void _;
  } else if (name === 'fastq (callback)') {
    const q = fastq((_x: number, cb: (err: Error | null) => void) => {
      task().then(() => cb(null), cb);
    }, 16);
    for (const i of source()) {
      q.push(i);
      // fastq's own backpressure hook: wait for the queue to empty once it holds 256 (16 × 16) waiting.
      if (q.length() >= 256) await new Promise<void>((r) => (q.empty = r));
    }
    await new Promise<void>((r) => (q.idle() ? r() : (q.drain = r)));
  } else throw new Error(`unknown stream subject: ${name}`);
  const ms = performance.now() - t0;
  out({ tasksPerSec: (n / ms) * 1000, peakHeapMB: (Math.max(peak, process.memoryUsage().heapUsed) - base) / 1048576 });
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The seed scenario: 1,000 tasks sleeping 5–50 ms on 5 workers; makespan against ideal schedules. */
async function seed(name: string, seedValue: number): Promise<void> {
  const rand = mulberry32(seedValue);
  const n = 1000;
  const workers = 5;
  const delays = Array.from({ length: n }, () => 5 + Math.floor(rand() * 46));
  const spans = new Array<[number, number]>(n);
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const body = (i: number) => async () => {
    const s = performance.now();
    await sleep(delays[i] as number);
    spans[i] = [s, performance.now()];
  };
  const t0 = performance.now();
  let balance: number | undefined;
  if (name === 'litepool addTask()') {
    const lp = newPool(workers, 5);
    const tg = lp.newTaskGroup(n);
    for (let i = 0; i < n; i++) await lp.addTask(tg.newTaskOptions().setTask(body(i)).setAutoDone());
    await tg.wait();
    const busy = lp.usage().workers.map((w) => w.busyMs);
    balance = Math.max(...busy) / (busy.reduce((a, b) => a + b, 0) / busy.length);
  } else if (name === 'litepool run()') {
    const lp = newPool(workers, 5);
    const all: Promise<unknown>[] = [];
    for (let i = 0; i < n; i++) all.push(lp.run(body(i)));
    await Promise.all(all);
    const busy = lp.usage().workers.map((w) => w.busyMs);
    balance = Math.max(...busy) / (busy.reduce((a, b) => a + b, 0) / busy.length);
  } else if (name === 'fastq (promise)') {
    const q = fastq.promise((i: number) => body(i)(), workers);
    await Promise.all(Array.from({ length: n }, (_, i) => q.push(i)));
  } else if (name === 'p-limit') {
    const l = pLimit(workers);
    await Promise.all(Array.from({ length: n }, (_, i) => l(body(i))));
  } else throw new Error(`unknown seed subject: ${name}`);
  const makespan = performance.now() - t0;
  const durations = spans.map(([s, e]) => e - s);
  const total = durations.reduce((a, b) => a + b, 0);
  const lowerBound = Math.max(total / workers, Math.max(...durations));
  // Zero-overhead FIFO list schedule of the measured durations: each task, in order, on the earliest-free worker.
  const free = new Array<number>(workers).fill(0);
  for (const d of durations) {
    let k = 0;
    for (let j = 1; j < workers; j++) if ((free[j] as number) < (free[k] as number)) k = j;
    free[k] = (free[k] as number) + d;
  }
  const fifo = Math.max(...free);
  out({ makespan, lowerBound, fifo, overheadMs: makespan - fifo, balance });
}

switch (workload) {
  case 'throughput':
    await throughput(subject as string, args[0] as string, Number(args[1]), Number(args[2]));
    break;
  case 'memory':
    await memory(subject as string, Number(args[0]));
    break;
  case 'stream':
    await stream(subject as string, Number(args[0]));
    break;
  case 'seed':
    await seed(subject as string, Number(args[0]));
    break;
  default:
    throw new Error(`unknown workload ${workload}`);
}
