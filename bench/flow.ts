/**
 * Flow control and observability benchmark (`npm run bench:flow`; options: --rounds N, --quick): what a rate
 * or keys cost when they never bind, what the latency figures and a trace subscriber cost, what a binding rate delivers (litepool's sliding window against p-queue's
 * `interval`/`intervalCap`), a keyed workload over 10,000 keys, and the memory a million distinct keys leave
 * behind. Every case runs in a fresh process (`--case`), rounds interleaved in a shuffled order; medians
 * with min–max. Uses the built package (dist/), so build first.
 */
import { execFileSync } from 'node:child_process';
import { tracingChannel } from 'node:diagnostics_channel';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import PQueue from 'p-queue';
import { LitePool } from '../dist/esm/index.js';
import { median, shuffle } from './stats.js';

const argv = process.argv.slice(2);
const option = (name: string, fallback: string): string => {
  const i = argv.indexOf(name);
  return i >= 0 && argv[i + 1] !== undefined ? (argv[i + 1] as string) : fallback;
};
const quick = argv.includes('--quick');
const N = quick ? 50_000 : 200_000;
const RATE_N = quick ? 2_000 : 5_000;
const KEYS = 10_000;
const DISTINCT = quick ? 100_000 : 1_000_000;
const noop = async (): Promise<void> => {};

/** Submits `n` no-op tasks at once; resolves with tasks per second. */
async function throughput(submit: () => Promise<unknown>, n: number): Promise<number> {
  const all = new Array<Promise<unknown>>(n);
  const t0 = performance.now();
  for (let i = 0; i < n; i++) all[i] = submit();
  await Promise.all(all);
  return (n / (performance.now() - t0)) * 1000;
}

/** The most of `starts` (sorted) inside any span of `interval` ms. */
function busiestWindow(starts: number[], interval: number): number {
  let most = 0;
  let j = 0;
  for (let i = 0; i < starts.length; i++) {
    while ((starts[i] as number) - (starts[j] as number) >= interval) j++;
    most = Math.max(most, i - j + 1);
  }
  return most;
}

/**
 * A binding rate's figures from its start times: the time from the first start to the last (a sliding window
 * of 1,000 per 100 ms needs at least (n / 1,000 - 1) × 100 ms) and the most starts seen in any 100 ms (the
 * limit: 1,000).
 */
function rateFigures(starts: number[]): Record<string, number> {
  const sorted = starts.sort((a, b) => a - b);
  return { spanMs: (sorted[sorted.length - 1] as number) - (sorted[0] as number), busiest: busiestWindow(sorted, 100) };
}

/** Each case prints one JSON object of figures. */
const cases: Record<string, () => Promise<Record<string, number>>> = {
  'litepool, no flow options': async () => {
    const lp = new LitePool({ workers: 16 });
    return { tps: await throughput(() => lp.run(noop), N) };
  },
  'litepool, rate never binding': async () => {
    const lp = new LitePool({ workers: 16, rate: { limit: 1_000_000, interval: 1_000 } });
    return { tps: await throughput(() => lp.run(noop), N) };
  },
  'litepool, keys never binding': async () => {
    const lp = new LitePool({ workers: 16, keys: { workers: 16 } });
    let i = 0;
    return { tps: await throughput(() => lp.run(noop, { key: `k${i++ & 15}` }), N) };
  },
  'litepool, latencyWindow 0': async () => {
    const lp = new LitePool({ workers: 16, latencyWindow: 0 });
    return { tps: await throughput(() => lp.run(noop), N) };
  },
  'litepool, a litepool:task subscriber': async () => {
    const lp = new LitePool({ workers: 16 });
    const ignore = (): void => {};
    tracingChannel('litepool:task').subscribe({ start: ignore, end: ignore, asyncStart: ignore, asyncEnd: ignore, error: ignore });
    return { tps: await throughput(() => lp.run(noop), N) };
  },
  'p-queue, no interval': async () => {
    const q = new PQueue({ concurrency: 16 });
    return { tps: await throughput(() => q.add(noop), N) };
  },
  'p-queue, interval never binding': async () => {
    const q = new PQueue({ concurrency: 16, interval: 1_000, intervalCap: 1_000_000 });
    return { tps: await throughput(() => q.add(noop), N) };
  },
  'litepool, rate 1,000 per 100 ms': async () => {
    const lp = new LitePool({ workers: 64, rate: { limit: 1_000, interval: 100 } });
    const starts: number[] = [];
    // The pool's own start times (what its windows count), as epoch ms; a time read inside the task comes a
    // few microseconds later, by a varying amount.
    const startOf = (id: string) => (lp.tasks().find((t) => t.id === id)?.startedAt as number) - performance.timeOrigin;
    await Promise.all(Array.from({ length: RATE_N }, () => lp.run(async (ctx) => void starts.push(startOf(ctx.taskId)))));
    return rateFigures(starts);
  },
  'p-queue, intervalCap 1,000 per 100 ms': async () => {
    const q = new PQueue({ concurrency: 64, interval: 100, intervalCap: 1_000 });
    const starts: number[] = [];
    await Promise.all(Array.from({ length: RATE_N }, () => q.add(async () => void starts.push(performance.now()))));
    return rateFigures(starts);
  },
  'litepool, 10,000 keys × 2 workers': async () => {
    const lp = new LitePool({ workers: 64, keys: { workers: 2 } });
    let i = 0;
    return { tps: await throughput(() => lp.run(noop, { key: `k${i++ % KEYS}` }), N) };
  },
  'litepool, same workload without keys': async () => {
    const lp = new LitePool({ workers: 64 });
    return { tps: await throughput(() => lp.run(noop), N) };
  },
  'litepool, a million distinct keys': async () => {
    const gc = (globalThis as { gc?: () => void }).gc as () => void;
    const lp = new LitePool({ workers: 64, queueSize: 16, keys: { workers: 1 } });
    await lp.run(noop, { key: 'warm-up' });
    gc();
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < DISTINCT; i += 10_000) {
      const batch = [];
      for (let j = i; j < i + 10_000; j++) batch.push(lp.run(noop, { key: `host-${j}` }));
      await Promise.all(batch);
    }
    gc();
    return { heapMB: (process.memoryUsage().heapUsed - before) / 2 ** 20, keys: lp.usage().keys?.length ?? -1 };
  },
};

const caseName = option('--case', '');
if (caseName !== '') {
  const fn = cases[caseName];
  if (fn === undefined) throw new Error(`unknown case ${caseName}`);
  process.stdout.write(JSON.stringify(await fn()));
  process.exit(0);
}

const rounds = Number(option('--rounds', quick ? '1' : '5'));
const self = fileURLToPath(import.meta.url);
const results = new Map<string, Record<string, number>[]>();
const order: string[] = [];
for (let r = 0; r < rounds; r++) order.push(...shuffle(Object.keys(cases)));
order.forEach((name, i) => {
  process.stderr.write(`\r${String(i + 1).padStart(3)}/${order.length} ${name.padEnd(44)}`);
  const out = execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', self, '--case', name, ...(quick ? ['--quick'] : [])], { encoding: 'utf8' });
  results.set(name, [...(results.get(name) ?? []), JSON.parse(out) as Record<string, number>]);
});
process.stderr.write('\n');

const fmt = (x: number, digits = 0) => x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const stat = (name: string, field: string, digits = 0) => {
  const xs = (results.get(name) ?? []).map((r) => r[field] as number);
  return { med: median(xs), range: `${fmt(Math.min(...xs), digits)}–${fmt(Math.max(...xs), digits)}` };
};
function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join(' | ')} |`;
  return [line(head), `|${widths.map((w, i) => (i === 0 ? ` ${'-'.repeat(w)} ` : ` ${'-'.repeat(w - 1)}: `)).join('|')}|`, ...rows.map(line)].join('\n');
}

const out: string[] = [`Node ${process.version}, ${rounds} rounds, medians with min–max.\n`];
const tpsRow = (name: string, base: string) => {
  const s = stat(name, 'tps');
  return [name, fmt(s.med), s.range, `${fmt(s.med / stat(base, 'tps').med, 2)}×`];
};
out.push(`### Overhead when the limits never bind (${fmt(N)} no-op tasks, concurrency 16)\n`);
out.push(
  table(
    ['subject', 'tasks/s', 'min–max', 'vs same without'],
    [
      tpsRow('litepool, no flow options', 'litepool, no flow options'),
      tpsRow('litepool, rate never binding', 'litepool, no flow options'),
      tpsRow('litepool, keys never binding', 'litepool, no flow options'),
      tpsRow('p-queue, no interval', 'p-queue, no interval'),
      tpsRow('p-queue, interval never binding', 'p-queue, no interval'),
    ],
  ),
);
out.push(`\n### Observability (${fmt(N)} no-op tasks, concurrency 16)\n`);
out.push(
  table(
    ['subject', 'tasks/s', 'min–max', 'vs default'],
    [
      tpsRow('litepool, no flow options', 'litepool, no flow options'),
      tpsRow('litepool, latencyWindow 0', 'litepool, no flow options'),
      tpsRow('litepool, a litepool:task subscriber', 'litepool, no flow options'),
    ],
  ),
);
out.push(`\n### A binding rate: ${fmt(RATE_N)} tasks at 1,000 per 100 ms, concurrency 64 (exact: at least ${fmt((RATE_N / 1000 - 1) * 100)} ms, at most 1,000 in any 100 ms)\n`);
out.push(
  table(
    ['subject', 'first to last start, ms', 'min–max', 'most starts in any 100 ms', 'min–max'],
    ['litepool, rate 1,000 per 100 ms', 'p-queue, intervalCap 1,000 per 100 ms'].map((name) => {
      const span = stat(name, 'spanMs');
      const busiest = stat(name, 'busiest');
      return [name, fmt(span.med), span.range, fmt(busiest.med), busiest.range];
    }),
  ),
);
out.push(`\n### Keys: ${fmt(N)} no-op tasks over ${fmt(KEYS)} keys, 2 per key, 64 workers\n`);
out.push(table(['subject', 'tasks/s', 'min–max', 'vs without keys'], [tpsRow('litepool, 10,000 keys × 2 workers', 'litepool, same workload without keys'), tpsRow('litepool, same workload without keys', 'litepool, same workload without keys')]));
const heap = stat('litepool, a million distinct keys', 'heapMB', 2);
const left = stat('litepool, a million distinct keys', 'keys');
out.push(`\n### ${fmt(DISTINCT)} distinct keys passing through (keys.workers 1)\n`);
out.push(table(['figure', 'median', 'min–max'], [['heap growth after GC, MB', fmt(heap.med, 2), heap.range], ['keys left in usage()', fmt(left.med), left.range]]));
console.log(out.join('\n'));
