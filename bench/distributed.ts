/**
 * litepool/bullmq against raw BullMQ on the same Redis: `npm run bench:distributed [-- --rounds N --quick]`.
 *
 * Raw BullMQ is what a user writes without litepool: `Queue.add` with a job id, a `Worker` per process, and
 * the producer hearing of each completion through `QueueEvents` (the result included). litepool is
 * `DistributedPool.run()` and `serve()`. Both run two worker processes with the same total concurrency
 * (1, 16, 64; split between the two, global concurrency 1 for c = 1), for a no-op task and a 1 ms task.
 *
 * Two measurements per case:
 * - throughput: N tasks submitted at once, time until the last result is back at the producer (litepool
 *   admits at most `workers × (1 + queueSize)` at a time, queueSize 10: its backpressure is part of the cost);
 *   raw BullMQ is measured twice, unbounded (everything added at once) and with the same bound (at most as
 *   many jobs in flight as litepool admits), which tells the cost of the bound from litepool's own;
 * - latency: c clients in a closed loop (each waits for its result before the next add): add→result p50/p99.
 *
 * litepool runs from `dist/` (built by the npm script), as users run it: under tsx its sources would pay for
 * the loader's transforms (`__name` wrappers per closure) that a build does not have.
 *
 * Rounds alternate the order of raw BullMQ and litepool (raw first in even rounds; the bounded raw run always
 * between them); medians with min–max, and litepool/raw ratios.
 * Redis: a private redis-server (or REDIS_URL), which both share; everything runs on this machine.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { cpus } from 'node:os';
import { Queue, QueueEvents } from 'bullmq';
import { DistributedPool } from '../dist/esm/bullmq/index.js';
import { redisForExample } from '../examples/private-redis.js';
import { median } from './stats.js';

const argv = process.argv.slice(2);
const option = (name: string, fallback: string) => {
  const i = argv.indexOf(name);
  return i >= 0 && argv[i + 1] !== undefined ? (argv[i + 1] as string) : fallback;
};
const quick = argv.includes('--quick');
const rounds = Number(option('--rounds', quick ? '1' : '3'));
const concurrencies = quick ? [1, 16] : [1, 16, 64];
const kinds = [
  { name: 'no-op', ms: 0, n: quick ? 1000 : 5000 },
  { name: '1 ms', ms: 1, n: quick ? 1000 : 4000 },
];

type Subject = 'raw' | 'bounded' | 'litepool';
const QUEUE_SIZE = 10;
interface Sample {
  tps: number;
  latTps: number;
  p50: number;
  p99: number;
}

const redis = await redisForExample();
let serial = 0;

function startWorkers(mode: 'raw' | 'litepool', queue: string, c: number, ms: number): Promise<ChildProcess[]> {
  const split = c === 1 ? [1, 1] : [Math.ceil(c / 2), Math.floor(c / 2)];
  return Promise.all(
    split.map(
      (conc) =>
        new Promise<ChildProcess>((resolve, reject) => {
          const child = fork(new URL('./workers/distributed-worker.ts', import.meta.url).pathname, [], {
            execArgv: ['--import', 'tsx'],
            env: { ...process.env, REDIS_URL: redis.url, MODE: mode, QUEUE: queue, CONC: String(conc), TASK_MS: String(ms) },
          });
          child.once('message', () => resolve(child));
          child.once('exit', (code) => reject(new Error(`a ${mode} worker exited with ${code}`)));
        }),
    ),
  );
}

async function stopWorkers(children: ChildProcess[]): Promise<void> {
  await Promise.all(children.map((c) => new Promise((resolve) => (c.once('exit', resolve), c.send('close')))));
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

/** At most `bound` calls of `submit` in flight at once; the others wait in order (raw BullMQ with litepool's bound). */
function bounded(submit: (x: number) => Promise<unknown>, bound: number): (x: number) => Promise<unknown> {
  let inFlight = 0;
  const waiting: (() => void)[] = [];
  let head = 0;
  return async (x) => {
    // A slot freed while callers wait passes straight to the first of them: no newcomer can take it between.
    if (inFlight < bound) inFlight++;
    else await new Promise<void>((resolve) => waiting.push(resolve));
    try {
      return await submit(x);
    } finally {
      if (head < waiting.length) (waiting[head++] as () => void)();
      else inFlight--;
    }
  };
}

/**
 * Measures throughput (N at once) then closed-loop latency (c clients) with `submit`; with `throughputOnly`,
 * the latency figures are NaN.
 */
async function measure(submit: (x: number) => Promise<unknown>, c: number, n: number, throughputOnly = false): Promise<Sample> {
  for (let i = 0; i < 50; i++) await submit(i); // warm-up: connections, scripts, JIT
  let t = performance.now();
  await Promise.all(Array.from({ length: n }, (_, i) => submit(i)));
  const tps = n / ((performance.now() - t) / 1000);
  if (throughputOnly) return { tps, latTps: Number.NaN, p50: Number.NaN, p99: Number.NaN };
  const lat: number[] = [];
  const perClient = Math.max(20, Math.floor(n / 2 / c));
  t = performance.now();
  await Promise.all(
    Array.from({ length: c }, async () => {
      for (let i = 0; i < perClient; i++) {
        const s = performance.now();
        await submit(i);
        lat.push(performance.now() - s);
      }
    }),
  );
  const latTps = lat.length / ((performance.now() - t) / 1000);
  lat.sort((a, b) => a - b);
  return { tps, latTps, p50: percentile(lat, 50), p99: percentile(lat, 99) };
}

async function runRaw(c: number, ms: number, n: number, bound: number | undefined): Promise<Sample> {
  const name = `raw-${process.pid}-${serial++}`;
  const connection = { host: new URL(redis.url).hostname, port: Number(new URL(redis.url).port), maxRetriesPerRequest: null };
  // BullMQ trims its events stream to 10,000 entries by default: with thousands of jobs at once a completion
  // can be trimmed before QueueEvents reads it (the raw producer would wait forever); keep them all here.
  const queue = new Queue(name, { connection, streams: { events: { maxLen: 1_000_000 } } });
  if (c === 1) await queue.setGlobalConcurrency(1);
  const events = new QueueEvents(name, { connection });
  await events.waitUntilReady();
  const waiting = new Map<string, (v: unknown) => void>();
  events.on('completed', ({ jobId, returnvalue }) => {
    const done = waiting.get(jobId);
    waiting.delete(jobId);
    done?.(returnvalue);
  });
  const workers = await startWorkers('raw', name, c, ms);
  let id = 0;
  const submit = (x: number) =>
    new Promise<unknown>((resolve, reject) => {
      const jobId = `j${id++}`;
      waiting.set(jobId, resolve);
      queue.add('task', { x }, { jobId, removeOnComplete: true, removeOnFail: true }).catch(reject);
    });
  try {
    return bound === undefined ? await measure(submit, c, n) : await measure(bounded(submit, bound), c, n, true);
  } finally {
    await stopWorkers(workers);
    await events.close();
    await queue.obliterate({ force: true });
    await queue.close();
  }
}

async function runLitepool(c: number, ms: number, n: number): Promise<Sample> {
  const name = `lp-${process.pid}-${serial++}`;
  const workers = await startWorkers('litepool', name, c, ms);
  const dp = new DistributedPool({ pool: name, connection: redis.url, workers: c, queueSize: QUEUE_SIZE });
  try {
    return await measure((x) => dp.run('task', { x }), c, n);
  } finally {
    await dp.close();
    await stopWorkers(workers);
    const queue = new Queue(name, { connection: { host: new URL(redis.url).hostname, port: Number(new URL(redis.url).port) } });
    await queue.obliterate({ force: true });
    await queue.close();
  }
}

const fmt = (x: number, digits = 0) => x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const range = (xs: number[], digits = 0) => `${fmt(median(xs), digits)} (${fmt(Math.min(...xs), digits)}–${fmt(Math.max(...xs), digits)})`;

console.log(`# litepool/bullmq vs raw BullMQ — ${rounds} round(s), Node ${process.version}, ${cpus().length} cores, Redis: ${redis.origin}\n`);
const rows: string[][] = [];
const total = concurrencies.length * kinds.length * rounds * 3;
let step = 0;
for (const c of concurrencies) {
  for (const kind of kinds) {
    const results: Record<Subject, Sample[]> = { raw: [], bounded: [], litepool: [] };
    for (let r = 0; r < rounds; r++) {
      const order: Subject[] = r % 2 === 0 ? ['raw', 'bounded', 'litepool'] : ['litepool', 'bounded', 'raw'];
      for (const subject of order) {
        process.stderr.write(`\r  ${++step}/${total}: c=${c} ${kind.name} ${subject}      `);
        const run =
          subject === 'litepool' ? runLitepool(c, kind.ms, kind.n) : runRaw(c, kind.ms, kind.n, subject === 'bounded' ? c * (1 + QUEUE_SIZE) : undefined);
        results[subject].push(await run);
      }
    }
    const pick = (s: Subject, f: keyof Sample) => results[s].map((x) => x[f]);
    rows.push([
      String(c),
      kind.name,
      range(pick('raw', 'tps')),
      range(pick('bounded', 'tps')),
      range(pick('litepool', 'tps')),
      `${(median(pick('litepool', 'tps')) / median(pick('raw', 'tps'))).toFixed(2)}×`,
      `${(median(pick('litepool', 'tps')) / median(pick('bounded', 'tps'))).toFixed(2)}×`,
      `${fmt(median(pick('raw', 'p50')), 2)} / ${fmt(median(pick('raw', 'p99')), 2)}`,
      `${fmt(median(pick('litepool', 'p50')), 2)} / ${fmt(median(pick('litepool', 'p99')), 2)}`,
      `${median(pick('litepool', 'p50')) - median(pick('raw', 'p50')) >= 0 ? '+' : ''}${fmt(median(pick('litepool', 'p50')) - median(pick('raw', 'p50')), 2)}`,
    ]);
  }
}
process.stderr.write('\r' + ' '.repeat(60) + '\r');
const head = ['c', 'task', 'raw BullMQ tasks/s', 'raw, same bound', 'litepool tasks/s', 'ratio', 'ratio, same bound', 'raw p50 / p99 ms', 'litepool p50 / p99 ms', 'Δ p50 ms'];
const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
const line = (cells: string[]) => `| ${cells.map((c, i) => (i < 2 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join(' | ')} |`;
console.log(line(head));
console.log(`|${widths.map((w, i) => (i < 2 ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`);
for (const r of rows) console.log(line(r));
console.log(
  `\nthroughput: N tasks submitted at once (raw, same bound: at most workers × ${1 + QUEUE_SIZE} jobs in flight, as litepool admits); latency: c clients in a closed loop (add→result at the producer).`,
);
await redis.stop();
