/**
 * The benchmark suite: `npm run bench` (options: --rounds N, --only throughput|memory|stream|seed|threads, --quick).
 * Every measurement runs in a fresh process (bench/measure.ts) against the built package (dist/), peers
 * measured in the same run, rounds interleaved in a shuffled order. Prints tables of medians with min–max
 * and ratios, and writes bench/RESULTS.md.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { peers, shapes, subjects } from './subjects.js';
import { median, shuffle } from './stats.js';

const argv = process.argv.slice(2);
const flag = (name: string) => argv.includes(name);
const option = (name: string, fallback: string) => {
  const i = argv.indexOf(name);
  return i >= 0 && argv[i + 1] !== undefined ? (argv[i + 1] as string) : fallback;
};
const quick = flag('--quick');
const rounds = Number(option('--rounds', quick ? '1' : '5'));
const only = option('--only', 'all');
const N = quick ? 50_000 : 200_000;
const MEM_N = quick ? 100_000 : 1_000_000;
const STREAM_N = quick ? 100_000 : 1_000_000;

type Sample = Record<string, number>;

/** Measurements that failed three times in a row (a peer that hangs now and then), for the report. */
const failures: string[] = [];

/**
 * One measurement in a fresh process, tried up to three times: poolifier, for one, now and then leaves a
 * task unsettled and its process exits with code 13. A measurement that never succeeds is left out of the
 * medians and named in the report, instead of ending a 20-minute run.
 */
function measure(args: string[]): Sample | undefined {
  // Thread measurements run in plain Node: tsx in the parent would be inherited by every subject's threads.
  const argv = args[0] === 'threads' ? ['bench/threads-measure.mjs', ...args.slice(1)] : ['--expose-gc', '--import', 'tsx', 'bench/measure.ts', ...args];
  let error = '';
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const out = execFileSync(process.execPath, argv, { encoding: 'utf8', maxBuffer: 1 << 20, stdio: ['ignore', 'pipe', 'pipe'] });
      return JSON.parse(out.trim().split('\n').pop() as string) as Sample;
    } catch (err) {
      const e = err as { status?: number; stderr?: string; message: string };
      error = e.status === undefined ? e.message : `exit code ${e.status}${e.stderr ? `: ${e.stderr.trim().split('\n').pop()}` : ''}`;
    }
  }
  failures.push(`${args.join(' ')}: ${error}`);
  return undefined;
}



/** A progress line that updates in place on a terminal; a log (CI) gets the final count only. */
function progressLine(label: string, done: number, total: number): void {
  if (process.stderr.isTTY) process.stderr.write(`\r${label}: ${done}/${total} measurements${done === total ? '\n' : ''}`);
  else if (done === total) process.stderr.write(`${label}: ${total} measurements\n`);
}

/** Runs every case `rounds` times, interleaved: round 1 of every case, then round 2, … */
function collect(cases: { key: string; args: string[] }[], progress: string): Map<string, Sample[]> {
  const results = new Map<string, Sample[]>(cases.map((c) => [c.key, []]));
  let done = 0;
  const total = cases.length * rounds;
  for (let r = 0; r < rounds; r++) {
    for (const c of shuffle(cases)) {
      const sample = measure(c.args);
      if (sample !== undefined) (results.get(c.key) as Sample[]).push(sample);
      progressLine(progress, ++done, total);
    }
  }
  return results;
}

// A subject whose every measurement failed has no median: shown as "failed".
const fmt = (x: number, digits = 0) => (Number.isFinite(x) ? x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : 'failed');

function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join(' | ')} |`;
  return [line(head), `|${widths.map((w, i) => (i === 0 ? ` ${'-'.repeat(w)} ` : ` ${'-'.repeat(w - 1)}: `)).join('|')}|`, ...rows.map(line)].join('\n');
}

const sections: string[] = [];
const summary: string[] = [];

if (only === 'all' || only === 'throughput') {
  const cases = [];
  for (const shape of Object.keys(shapes)) {
    for (const c of [1, 16, 1024]) {
      for (const s of Object.keys(subjects)) cases.push({ key: `${shape}|${c}|${s}`, args: ['throughput', s, shape, String(c), String(N)] });
    }
  }
  const res = collect(cases, 'throughput');
  let md = `### Throughput: ${fmt(N)} tasks submitted at once (tasks/s, median of ${rounds}, min–max)\n`;
  for (const shape of Object.keys(shapes)) {
    for (const c of [1, 16, 1024]) {
      const med = new Map<string, number>();
      const rows: string[][] = [];
      for (const s of Object.keys(subjects)) {
        const xs = (res.get(`${shape}|${c}|${s}`) as Sample[]).map((x) => x.tasksPerSec as number);
        med.set(s, median(xs));
      }
      const best = Math.max(...peers.map((p) => med.get(p) as number));
      const fastestPeer = peers.find((p) => med.get(p) === best) as string;
      for (const s of Object.keys(subjects)) {
        const xs = (res.get(`${shape}|${c}|${s}`) as Sample[]).map((x) => x.tasksPerSec as number);
        const m = med.get(s) as number;
        rows.push([s, fmt(m), `${fmt(Math.min(...xs))}–${fmt(Math.max(...xs))}`, `${(m / best).toFixed(2)}×`, `${(m / (med.get('async.queue') as number)).toFixed(2)}×`]);
      }
      md += `\n**${shape === 'noop' ? '`async () => {}`' : 'two awaits'}, concurrency ${c}** (fastest peer: ${fastestPeer})\n\n`;
      md += `${table(['subject', 'tasks/s', 'min–max', 'vs fastest peer', 'vs async.queue'], rows)}\n`;
      const r = (a: string, b: string) => (med.get(a) as number) / (med.get(b) as number);
      summary.push(
        `${shape} c=${c}: run() ${r('litepool run()', 'async.queue').toFixed(2)}× async.queue, limit() ${r('litepool limit()', 'p-limit').toFixed(2)}× p-limit, addTask() ${r('litepool addTask()', 'async.queue').toFixed(2)}× async.queue`,
      );
    }
  }
  sections.push(md);
}

if (only === 'all' || only === 'memory') {
  const names = Object.keys(subjects).filter((s) => s !== 'Promise.all (no limit)');
  const res = collect(names.map((s) => ({ key: s, args: ['memory', s, String(MEM_N)] })), 'memory');
  const med = new Map(names.map((s) => [s, median((res.get(s) as Sample[]).map((x) => x.bytesPerTask as number))]));
  const aq = med.get('async.queue') as number;
  const rows = names.map((s) => {
    const xs = (res.get(s) as Sample[]).map((x) => x.bytesPerTask as number);
    return [s, fmt(med.get(s) as number), `${fmt(Math.min(...xs))}–${fmt(Math.max(...xs))}`, `${((med.get(s) as number) / aq).toFixed(2)}×`];
  });
  sections.push(`### Memory: bytes retained per waiting task (${fmt(MEM_N)} queued behind a blocked one, after forced GC)\n\n${table(['subject', 'bytes/task', 'min–max', 'vs async.queue'], rows)}\n`);
  summary.push(`memory: run() ${((med.get('litepool run()') as number) / aq).toFixed(2)}× async.queue's bytes per waiting task`);
}

if (only === 'all' || only === 'stream') {
  const names = ['litepool map()', 'litepool mapIterable()', 'fastq (callback)'];
  const res = collect(names.map((s) => ({ key: s, args: ['stream', s, String(STREAM_N)] })), 'stream');
  const med = new Map(names.map((s) => [s, median((res.get(s) as Sample[]).map((x) => x.tasksPerSec as number))]));
  const fq = med.get('fastq (callback)') as number;
  const rows = names.map((s) => {
    const xs = res.get(s) as Sample[];
    return [s, fmt(med.get(s) as number), `${fmt(Math.min(...xs.map((x) => x.tasksPerSec as number)))}–${fmt(Math.max(...xs.map((x) => x.tasksPerSec as number)))}`, `${((med.get(s) as number) / fq).toFixed(2)}×`, fmt(median(xs.map((x) => x.peakHeapMB as number)), 1)];
  });
  sections.push(`### Streaming: ${fmt(STREAM_N)} tasks from a lazy source, concurrency 16, waiting room 256\n\n${table(['subject', 'tasks/s', 'min–max', 'vs fastq', 'peak heap MB'], rows)}\n`);
  summary.push(`stream: map() ${((med.get('litepool map()') as number) / fq).toFixed(2)}× fastq, mapIterable() ${((med.get('litepool mapIterable()') as number) / fq).toFixed(2)}× fastq`);
}

if (only === 'all' || only === 'seed') {
  const names = ['litepool addTask()', 'litepool run()', 'fastq (promise)', 'p-limit'];
  const seedRounds = Math.min(rounds, 3);
  const res = new Map<string, Sample[]>(names.map((s) => [s, []]));
  let done = 0;
  for (let r = 0; r < seedRounds; r++) {
    for (const s of shuffle(names)) {
      const sample = measure(['seed', s, String(r + 1)]);
      if (sample !== undefined) (res.get(s) as Sample[]).push(sample);
      progressLine('seed scenario', ++done, seedRounds * names.length);
    }
  }
  const rows = names.map((s) => {
    const xs = res.get(s) as Sample[];
    const m = (k: string) => median(xs.map((x) => x[k] as number));
    const bal = xs.every((x) => x.balance !== undefined) ? m('balance').toFixed(3) : '—';
    return [s, fmt(m('makespan')), fmt(m('fifo')), fmt(m('lowerBound')), fmt(m('overheadMs'), 1), bal];
  });
  sections.push(
    `### Seed scenario: 1,000 tasks sleeping 5–50 ms, 5 workers (ms, median of ${seedRounds})\n\n` +
      `Overhead = makespan − the zero-overhead FIFO schedule of the durations each task actually took.\n\n` +
      `${table(['subject', 'makespan', 'FIFO schedule', 'lower bound', 'overhead', 'busy max/mean'], rows)}\n`,
  );
}

if (only === 'all' || only === 'threads') {
  const names = ['litepool', 'piscina', 'tinypool', 'poolifier'];
  const threads = 2;
  const sizes: Record<string, number> = { 'tiny-window': quick ? 5_000 : 20_000, 'tiny-all': quick ? 5_000 : 20_000, cpu: quick ? 100 : 400 };
  const cases = [];
  for (const w of Object.keys(sizes)) for (const s of names) cases.push({ key: `${w}|${s}`, args: ['threads', s, w, String(sizes[w]), String(threads)] });
  const res = collect(cases, 'threads');
  const med = (w: string, s: string, k: string) => median((res.get(`${w}|${s}`) as Sample[]).map((x) => x[k] as number));
  const rows = names.map((s) => {
    const bestTiny = Math.max(...names.filter((x) => x !== 'litepool').map((x) => med('tiny-window', x, 'tasksPerSec')));
    return [
      s,
      fmt(med('tiny-window', s, 'tasksPerSec')),
      `${(med('tiny-window', s, 'tasksPerSec') / bestTiny).toFixed(2)}×`,
      fmt(med('tiny-all', s, 'tasksPerSec')),
      `${(100 * med('cpu', s, 'efficiency')).toFixed(1)} %`,
    ];
  });
  sections.push(
    `### Threads: ${threads} threads (tiny tasks: ${fmt(sizes['tiny-window'] as number)}; CPU: ${sizes.cpu} tasks of 5 ms)\n\n` +
      `litepool runs 16 tiny tasks in flight per thread (\`tasksPerThread\`) and 1 CPU task; peers use their defaults.\n\n` +
      `${table(['subject', 'tiny, 64 in flight (tasks/s)', 'vs fastest peer', 'tiny, all at once (tasks/s)', 'CPU parallel efficiency'], rows)}\n`,
  );
  const lpTiny = med('tiny-window', 'litepool', 'tasksPerSec');
  const pfTiny = med('tiny-window', 'poolifier', 'tasksPerSec');
  summary.push(`threads: tiny tasks ${(lpTiny / pfTiny).toFixed(2)}× poolifier's tasks/s; ${(100 * med('cpu', 'litepool', 'efficiency')).toFixed(1)} % parallel efficiency on 5 ms tasks`);
}

const pkg = (name: string) => (JSON.parse(readFileSync(`node_modules/${name}/package.json`, 'utf8')) as { version: string }).version;
const header =
  `# Benchmark results\n\nMachine: ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, ${fmt(totalmem() / 2 ** 30, 0)} GiB; Node ${process.version}; ` +
  `${new Date().toISOString().slice(0, 10)}.\nPeers: p-limit ${pkg('p-limit')}, p-queue ${pkg('p-queue')}, fastq ${pkg('fastq')}, async ${pkg('async')}; ` +
  `piscina ${pkg('piscina')}, tinypool ${pkg('tinypool')}, poolifier ${pkg('poolifier')}. ` +
  `Reproduce with \`npm run bench\` (${rounds} rounds${quick ? ', --quick sizes' : ''}).\n`;
const failed = failures.length === 0 ? '' : `\n## Failed measurements (three tries each; left out of the medians)\n\n${failures.map((f) => `- ${f}`).join('\n')}\n`;
const report = `${header}\n## Summary\n\n${summary.map((l) => `- ${l}`).join('\n')}\n\n${sections.join('\n')}${failed}`;
console.log(report);
if (!flag('--no-write') && only === 'all') writeFileSync('bench/RESULTS.md', report);
