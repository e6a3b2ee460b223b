/**
 * Adaptive concurrency against fixed settings: `node --import tsx bench/adaptive.ts [--rounds N] [--seconds S]
 * [--quick] [--no-write]`.
 *
 * The downstream is test/fixtures/overload-server.ts in a child process: it serves K = 16 requests at once,
 * 20 ms each, and queues the rest first come, first served, so 800 requests/s is its capacity and any
 * concurrency beyond 16 only adds waiting. A `LitePool` sends it GET requests over a keep-alive agent from 128
 * clients in a closed loop (more than any setting's limit, so the pool always has a backlog and its limit alone
 * decides the concurrency), with fixed `workers` 1 (the unloaded latency), 4, 8, 16, 32 and 64, and with
 * `workers: { min: 1, max: 64, adaptive: true }`. Each run is a fresh pool: 1 s of warm-up (the adaptive
 * pool starts at 1 and climbs in it), then S seconds (default 5) measured: requests answered per second, and
 * p50/p99 of the request latency (measured inside the task: the downstream's latency, not the pool's queue).
 * Rounds run the settings in a shuffled order; the table shows medians with min–max over rounds.
 *
 * The adaptive pool's `usage().limit` is sampled every 50 ms; the first round's trace, from the start, is drawn
 * to bench/adaptive-limit.svg (unless --no-write).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { LitePool } from '../src/index.js';
import { get, keepAliveAgent, OverloadServer } from '../test/fixtures/overload-server.js';
import { median, shuffle } from './stats.js';

const CAPACITY = 16;
const SERVICE_MS = 20;
const MAX = 64;
const CLIENTS = 128;
const WARMUP_MS = 1_000;
const SAMPLE_EVERY_MS = 50;
const FIXED = [1, 4, 8, 16, 32, 64] as const;

type Setting = (typeof FIXED)[number] | 'adaptive';

interface Run {
  /** Requests answered per second in the measured span. */
  rps: number;
  /** The same over the whole run, warm-up included. */
  wholeRps: number;
  p50: number;
  p99: number;
  failures: number;
  /** `usage().limit` every 50 ms from the start: [ms since the start, limit]. */
  limits: Array<[number, number]>;
}

const argv = process.argv.slice(2);
const option = (name: string, fallback: string) => {
  const i = argv.indexOf(name);
  return i >= 0 && argv[i + 1] !== undefined ? (argv[i + 1] as string) : fallback;
};

function startServer(): Promise<{ child: ChildProcess; url: string }> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), ['--serve']);
    child.once('message', (url) => resolve({ child, url: String(url) }));
    child.once('exit', (code) => reject(new Error(`the server process exited with ${code}`)));
  });
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

async function measure(url: string, setting: Setting, seconds: number): Promise<Run> {
  const agent = keepAliveAgent();
  const lp = new LitePool({ workers: setting === 'adaptive' ? { min: 1, max: MAX, adaptive: true } : setting });
  // Preallocated, so that recording costs no garbage collection during the run.
  const room = Math.ceil(((MAX + 1) * (WARMUP_MS + seconds * 1000)) / SERVICE_MS) + 10_000;
  const ends = new Float64Array(room);
  const latencies = new Float64Array(room);
  let n = 0;
  const task = async () => {
    const start = performance.now();
    await get(url, agent);
    const end = performance.now();
    if (n < room) {
      ends[n] = end;
      latencies[n] = end - start;
      n++;
    }
  };
  const t0 = performance.now();
  const from = t0 + WARMUP_MS;
  const stopAt = from + seconds * 1000;
  const limits: Array<[number, number]> = [[0, lp.usage().limit]];
  const sampler = setInterval(() => limits.push([performance.now() - t0, lp.usage().limit]), SAMPLE_EVERY_MS);
  let failures = 0;
  const client = async () => {
    while (performance.now() < stopAt) {
      try {
        await lp.run(task);
      } catch {
        failures++;
      }
    }
  };
  await Promise.all(Array.from({ length: CLIENTS }, client));
  clearInterval(sampler);
  await lp.close();
  agent.destroy();

  const measured: number[] = [];
  let whole = 0;
  for (let i = 0; i < n; i++) {
    const end = ends[i] as number;
    if (end > stopAt) continue;
    whole++;
    if (end >= from) measured.push(latencies[i] as number);
  }
  const sorted = Float64Array.from(measured).sort();
  return {
    rps: measured.length / seconds,
    wholeRps: whole / ((stopAt - t0) / 1000),
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    failures,
    limits,
  };
}

const fmt = (x: number, digits = 0) => x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const range = (xs: number[], digits = 0) => `${fmt(median(xs), digits)} (${fmt(Math.min(...xs), digits)}–${fmt(Math.max(...xs), digits)})`;
const label = (s: Setting) => (s === 'adaptive' ? `adaptive 1–${MAX}` : s === 1 ? '1 (unloaded)' : String(s));

/** The limits sampled in the measured span of a run. */
function measuredLimits(run: Run): number[] {
  return run.limits.filter(([t]) => t >= WARMUP_MS).map(([, l]) => l);
}

/** When the limit first reached 3/4 of the capacity, in ms from the start (NaN if never). */
function reached(run: Run): number {
  return run.limits.find(([, l]) => l >= 0.75 * CAPACITY)?.[0] ?? Number.NaN;
}

/** A line plot of the limit over time, with the capacity dashed: plain SVG, no dependencies. */
function plot(limits: Array<[number, number]>, totalMs: number): string {
  const width = 640;
  const height = 300;
  const left = 56;
  const right = 16;
  const top = 32;
  const bottom = 48;
  const highest = Math.max(CAPACITY * 2, ...limits.map(([, l]) => l));
  const yMax = Math.ceil(highest / 8) * 8;
  const seconds = Math.ceil(totalMs / 1000);
  const x = (ms: number) => left + ((width - left - right) * ms) / (seconds * 1000);
  const y = (limit: number) => top + (height - top - bottom) * (1 - limit / yMax);
  const r = (v: number) => v.toFixed(1);
  // A step line: the limit holds until the sample that saw it change.
  const points: string[] = [];
  let previous: number | undefined;
  for (const [t, l] of limits) {
    if (l === previous) continue;
    if (previous !== undefined) points.push(`${r(x(t))},${r(y(previous))}`);
    points.push(`${r(x(t))},${r(y(l))}`);
    previous = l;
  }
  const end = limits.at(-1);
  if (end !== undefined) points.push(`${r(x(end[0]))},${r(y(end[1]))}`);
  const lines: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${width / 2}" y="18" text-anchor="middle" font-size="13">LitePool adaptive limit against a server that serves K = ${CAPACITY} at once (${SERVICE_MS} ms each)</text>`,
  ];
  for (let v = 0; v <= yMax; v += yMax / 4) {
    lines.push(`<line x1="${left}" y1="${r(y(v))}" x2="${width - right}" y2="${r(y(v))}" stroke="#e5e5e5"/>`);
    lines.push(`<text x="${left - 6}" y="${r(y(v) + 4)}" text-anchor="end">${v}</text>`);
  }
  for (let s = 0; s <= seconds; s++) lines.push(`<text x="${r(x(s * 1000))}" y="${height - bottom + 16}" text-anchor="middle">${s}</text>`);
  lines.push(
    `<line x1="${left}" y1="${top}" x2="${left}" y2="${height - bottom}" stroke="black"/>`,
    `<line x1="${left}" y1="${height - bottom}" x2="${width - right}" y2="${height - bottom}" stroke="black"/>`,
    `<line x1="${left}" y1="${r(y(CAPACITY))}" x2="${width - right}" y2="${r(y(CAPACITY))}" stroke="#d62728" stroke-dasharray="6 4"/>`,
    `<text x="${width - right - 4}" y="${r(y(CAPACITY) - 6)}" text-anchor="end" fill="#d62728">K = ${CAPACITY} (server capacity)</text>`,
    `<polyline points="${points.join(' ')}" fill="none" stroke="#1f77b4" stroke-width="1.5"/>`,
    `<text x="${(left + width - right) / 2}" y="${height - 10}" text-anchor="middle">time since the pool was created (s)</text>`,
    `<text transform="translate(16 ${(top + height - bottom) / 2}) rotate(-90)" text-anchor="middle">usage().limit</text>`,
    '</svg>',
  );
  return `${lines.join('\n')}\n`;
}

async function main(): Promise<void> {
  const quick = argv.includes('--quick');
  const rounds = Number(option('--rounds', quick ? '1' : '3'));
  const seconds = Number(option('--seconds', quick ? '2' : '5'));
  const settings: Setting[] = [...FIXED, 'adaptive'];
  const { child, url } = await startServer();
  console.log(
    `# adaptive concurrency — server capacity K = ${CAPACITY}, ${SERVICE_MS} ms per request; ${CLIENTS} clients; ` +
      `${rounds} round(s) of ${seconds} s after ${WARMUP_MS / 1000} s of warm-up; Node ${process.version}, ${cpus().length} cores\n`,
  );
  const results = new Map<Setting, Run[]>(settings.map((s) => [s, []]));
  const total = rounds * settings.length;
  let step = 0;
  for (let round = 0; round < rounds; round++) {
    for (const setting of shuffle(settings)) {
      process.stderr.write(`\r  ${++step}/${total}: round ${round + 1}, ${label(setting)}        `);
      (results.get(setting) as Run[]).push(await measure(url, setting, seconds));
    }
  }
  process.stderr.write(`\r${' '.repeat(60)}\r`);
  child.disconnect();

  const pick = (s: Setting, f: 'rps' | 'p50' | 'p99' | 'wholeRps') => (results.get(s) as Run[]).map((r) => r[f]);
  const head = ['workers', 'req/s', 'p50 ms', 'p99 ms', 'limit'];
  const rows = settings.map((s) => {
    const runs = results.get(s) as Run[];
    const limits = s === 'adaptive' ? runs.flatMap(measuredLimits) : [s];
    return [label(s), range(pick(s, 'rps')), range(pick(s, 'p50'), 1), range(pick(s, 'p99'), 1), s === 'adaptive' ? range(limits) : String(s)];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join(' | ')} |`;
  console.log(line(head));
  console.log(`|${widths.map((w, i) => (i === 0 ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`);
  for (const r of rows) console.log(line(r));

  const best = FIXED.reduce((a, b) => (median(pick(b, 'rps')) > median(pick(a, 'rps')) ? b : a));
  const adaptiveRuns = results.get('adaptive') as Run[];
  const failures = [...results.values()].flat().reduce((sum, r) => sum + r.failures, 0);
  const ratio = median(pick('adaptive', 'rps')) / median(pick(best, 'rps'));
  const p99Ratio = median(pick('adaptive', 'p99')) / median(pick(1, 'p99'));
  console.log(`\nbest fixed setting: ${best} workers, ${fmt(median(pick(best, 'rps')))} req/s`);
  console.log(`adaptive / best fixed throughput: ${ratio.toFixed(2)}× (target ≥ 0.90)`);
  console.log(`adaptive p99 / unloaded p99: ${p99Ratio.toFixed(2)}× (target ≤ 1.5)`);
  console.log(`adaptive limit first at ≥ ${0.75 * CAPACITY} after: ${range(adaptiveRuns.map(reached))} ms`);
  console.log(`adaptive throughput over the whole run, warm-up included: ${range(pick('adaptive', 'wholeRps'))} req/s`);
  if (failures > 0) console.log(`failed requests: ${failures}`);
  if (!argv.includes('--no-write')) {
    const file = new URL('./adaptive-limit.svg', import.meta.url);
    writeFileSync(file, plot(adaptiveRuns[0]?.limits ?? [], WARMUP_MS + seconds * 1000));
    console.log(`\nwrote ${fileURLToPath(file)}`);
  }
}

if (argv.includes('--serve')) {
  // The child: the server, in a process of its own so that the client's work does not delay its timers.
  const server = await OverloadServer.start({ capacity: CAPACITY, serviceMs: SERVICE_MS });
  process.on('disconnect', () => void server.close().then(() => process.exit(0)));
  process.send?.(server.url);
} else {
  await main();
}
