/**
 * A/B benchmark of the built package: a base commit (A) against the working tree (B), as the project's rule
 * for hot-path changes asks ("alternating runs, at least 6 each; no median worse by more than 5 %, memory per
 * waiting task not higher").
 *
 *   npm run bench:ab -- --base <rev> [--rounds 6] [--quick] [--out FILE] [--no-build] [--current DIR]
 *
 * The base is checked out as a detached git worktree in the temp dir (`litepool-ab-<sha>`, kept and reused;
 * remove it with `git worktree remove <path>`), with this repository's node_modules linked into it, and built
 * there. The working tree is built with `npm run build` (skipped with --no-build) and its dist/ and bench/
 * are copied to a temp snapshot for the length of the run, so that a rebuild of dist/ during the run does
 * not change or break what is measured. Every measurement is a fresh process running that tree's own
 * bench/measure.ts or bench/threads-measure.mjs (a file the base lacks is copied from the working tree and
 * named in the report). Each round runs the cases in a shuffled order, A then B in even rounds and B then A
 * in odd ones (A B, B A, A B, …). A failing measurement is tried up to three times.
 *
 * Prints a markdown table (and writes it to --out): medians with min–max, the change of the medians, and a
 * verdict: throughput may not be more than 5 % lower, memory per waiting task not higher (by more than 1 byte,
 * the noise being about 0.3 byte).
 * Exit code 1 if any verdict fails or a case has no successful measurement.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, shuffle } from './stats.js';

const argv = process.argv.slice(2);
const flag = (name: string) => argv.includes(name);
const option = (name: string, fallback?: string): string | undefined => {
  const i = argv.indexOf(name);
  return i >= 0 && argv[i + 1] !== undefined ? (argv[i + 1] as string) : fallback;
};

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const baseRev = option('--base');
if (baseRev === undefined) {
  console.error('usage: node --import tsx bench/ab.ts --base <rev> [--rounds 6] [--quick] [--out FILE] [--no-build] [--current DIR]');
  process.exit(2);
}
const quick = flag('--quick');
const rounds = Number(option('--rounds', '6'));
if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`--rounds must be a positive integer, got ${option('--rounds')}`);
const outFile = option('--out');
const build = !flag('--no-build');
const currentDir = resolve(option('--current', root) as string);

const N = quick ? 50_000 : 200_000;
const MEM_N = quick ? 100_000 : 1_000_000;
const STREAM_N = quick ? 100_000 : 1_000_000;
const THREADS_N = quick ? 5_000 : 20_000;
const THREADS = 2;
/** Throughput may drop by at most this fraction of the base median. */
const TOLERANCE = 0.05;
/**
 * Memory per waiting task "not higher", give or take this many bytes: at full size the measurement varies by
 * about 0.3 byte between runs of the same build, and a real change is at least one 4-byte field per task.
 */
const MEMORY_SLACK = 1;

/** The files a measurement needs besides dist/; copied from the working tree when the base lacks them. */
const benchFiles = ['bench/measure.ts', 'bench/subjects.ts', 'bench/threads-measure.mjs', 'bench/workers/tasks.mjs', 'bench/workers/poolifier-worker.mjs'];

const git = (...args: string[]) => execFileSync('git', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
const log = (line: string) => process.stderr.write(`${line}\n`);

/** Runs a build command with its output on stderr (stdout carries the report only). */
function runBuild(cwd: string, file: string, args: string[]): void {
  log(`building ${cwd}: ${[file, ...args].join(' ')}`);
  execFileSync(file, args, { cwd, stdio: ['ignore', 2, 2] });
}

function linkNodeModules(dir: string): void {
  const link = join(dir, 'node_modules');
  if (!existsSync(link)) symlinkSync(join(root, 'node_modules'), link, 'dir');
}

// ---- A: the base commit in a detached worktree ----
const baseSha = git('rev-parse', '--verify', `${baseRev}^{commit}`);
const baseShort = baseSha.slice(0, 12);
const baseSubject = git('log', '-1', '--format=%s', baseSha);
const baseDir = join(tmpdir(), `litepool-ab-${baseShort}`);
if (existsSync(baseDir)) {
  let head = '';
  try {
    head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: baseDir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    // not a worktree: reported below
  }
  if (head !== baseSha) throw new Error(`${baseDir} exists but is not a worktree of ${baseShort} (HEAD ${head || 'unknown'}); remove it and run again`);
  log(`reusing worktree ${baseDir}`);
} else {
  git('worktree', 'prune');
  git('worktree', 'add', '--detach', baseDir, baseSha);
  log(`created worktree ${baseDir}`);
}
linkNodeModules(baseDir);
const copiedIntoBase: string[] = [];
for (const f of benchFiles) {
  if (!existsSync(join(baseDir, f)) && existsSync(join(currentDir, f))) {
    mkdirSync(dirname(join(baseDir, f)), { recursive: true });
    copyFileSync(join(currentDir, f), join(baseDir, f));
    copiedIntoBase.push(f);
  }
}
// The worktree is detached at a fixed commit: a marker saves rebuilding it on the next A/B against it.
const builtMarker = join(baseDir, 'dist', '.ab-built');
if (!existsSync(builtMarker)) {
  if (existsSync(join(baseDir, 'scripts/build.mjs'))) runBuild(baseDir, process.execPath, ['scripts/build.mjs']);
  else runBuild(baseDir, 'npm', ['run', 'build']);
  writeFileSync(builtMarker, `${baseSha}\n`);
} else log(`base ${baseShort} already built`);

// ---- B: the working tree, built, then snapshotted ----
if (build) {
  try {
    runBuild(currentDir, 'npm', ['run', 'build']);
  } catch {
    console.error(`the build of ${currentDir} failed: fix it, or pass --no-build to measure its dist/ as it is`);
    process.exit(2);
  }
}
if (!existsSync(join(currentDir, 'dist/esm/index.js'))) throw new Error(`${currentDir}/dist is not built`);
let currentHead = '';
let currentDirty = false;
try {
  currentHead = execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], { cwd: currentDir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  currentDirty = execFileSync('git', ['status', '--porcelain', '--', 'src'], { cwd: currentDir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() !== '';
} catch {
  // not a git checkout: described by its path only
}
const snapDir = mkdtempSync(join(tmpdir(), 'litepool-ab-current-'));
// Removed on a normal exit; a run killed by a signal leaves it behind in the temp dir.
process.on('exit', () => rmSync(snapDir, { recursive: true, force: true }));
for (const entry of ['dist', 'bench', 'package.json', 'tsconfig.json']) {
  if (existsSync(join(currentDir, entry))) cpSync(join(currentDir, entry), join(snapDir, entry), { recursive: true });
}
linkNodeModules(snapDir);
for (const f of benchFiles) if (!existsSync(join(snapDir, f))) throw new Error(`the working tree lacks ${f}`);

// ---- the measurements ----
type Sample = Record<string, number>;
type Side = 'A' | 'B';
interface Case {
  key: string;
  args: string[];
  metric: 'tasksPerSec' | 'bytesPerTask';
}

const cases: Case[] = [
  ...[16, 1024].map((c) => ({ key: `throughput run() noop c=${c}`, args: ['throughput', 'litepool run()', 'noop', String(c), String(N)], metric: 'tasksPerSec' as const })),
  { key: 'throughput addTask() noop c=16', args: ['throughput', 'litepool addTask()', 'noop', '16', String(N)], metric: 'tasksPerSec' },
  { key: 'throughput limit() noop c=16', args: ['throughput', 'litepool limit()', 'noop', '16', String(N)], metric: 'tasksPerSec' },
  { key: 'stream map()', args: ['stream', 'litepool map()', String(STREAM_N)], metric: 'tasksPerSec' },
  { key: 'stream mapIterable()', args: ['stream', 'litepool mapIterable()', String(STREAM_N)], metric: 'tasksPerSec' },
  { key: 'memory run() bytes/waiting task', args: ['memory', 'litepool run()', String(MEM_N)], metric: 'bytesPerTask' },
  { key: 'threads tiny, 64 in flight', args: ['threads', 'litepool', 'tiny-window', String(THREADS_N), String(THREADS)], metric: 'tasksPerSec' },
  { key: 'threads tiny, all at once', args: ['threads', 'litepool', 'tiny-all', String(THREADS_N), String(THREADS)], metric: 'tasksPerSec' },
];

const failures: string[] = [];
let measureMs = 0;

/** One measurement in a fresh process with cwd = the tree measured, tried up to three times. */
function measure(side: Side, args: string[]): Sample | undefined {
  const cwd = side === 'A' ? baseDir : snapDir;
  // Thread measurements run in plain Node: tsx would be inherited by the pool's threads.
  const nodeArgs = args[0] === 'threads' ? ['bench/threads-measure.mjs', ...args.slice(1)] : ['--expose-gc', '--import', 'tsx', 'bench/measure.ts', ...args];
  let error = '';
  for (let attempt = 0; attempt < 3; attempt++) {
    const t0 = performance.now();
    try {
      const out = execFileSync(process.execPath, nodeArgs, { cwd, encoding: 'utf8', maxBuffer: 1 << 20, stdio: ['ignore', 'pipe', 'pipe'] });
      return JSON.parse(out.trim().split('\n').pop() as string) as Sample;
    } catch (err) {
      const e = err as { status?: number | null; signal?: string | null; stderr?: string; message: string };
      // Interrupted from the terminal (the child got the SIGINT too): stop instead of retrying.
      if (e.signal === 'SIGINT' || e.signal === 'SIGTERM') process.exit(130);
      error = typeof e.status !== 'number' ? e.message : `exit code ${e.status}${e.stderr ? `: ${e.stderr.trim().split('\n').pop()}` : ''}`;
    } finally {
      measureMs += performance.now() - t0;
    }
  }
  failures.push(`${side === 'A' ? 'base' : 'current'}: ${args.join(' ')}: ${error}`);
  return undefined;
}



/** A progress line that updates in place on a terminal; a log (CI) gets the final count only. */
function progressLine(done: number, total: number): void {
  if (process.stderr.isTTY) process.stderr.write(`\rA/B: ${done}/${total} measurements${done === total ? '\n' : ''}`);
  else if (done === total) process.stderr.write(`A/B: ${total} measurements\n`);
}

const results = new Map<string, Record<Side, number[]>>(cases.map((c) => [c.key, { A: [], B: [] }]));
const started = performance.now();
let done = 0;
const total = cases.length * rounds * 2;
for (let r = 0; r < rounds; r++) {
  const order: Side[] = r % 2 === 0 ? ['A', 'B'] : ['B', 'A'];
  for (const c of shuffle(cases)) {
    for (const side of order) {
      const sample = measure(side, c.args);
      const value = sample?.[c.metric];
      if (typeof value === 'number' && Number.isFinite(value)) (results.get(c.key) as Record<Side, number[]>)[side].push(value);
      else if (sample !== undefined) failures.push(`${side === 'A' ? 'base' : 'current'}: ${c.args.join(' ')}: no ${c.metric} in ${JSON.stringify(sample)}`);
      progressLine(++done, total);
    }
  }
}
const wallS = (performance.now() - started) / 1000;

// ---- the report ----
const fmt = (x: number, digits = 0) => (Number.isFinite(x) ? x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : 'failed');
const spread = (xs: number[], digits: number) => (xs.length === 0 ? 'failed' : `${fmt(median(xs), digits)} (${fmt(Math.min(...xs), digits)}–${fmt(Math.max(...xs), digits)})`);

function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => (i === 0 || i === cells.length - 1 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join(' | ')} |`;
  const rule = widths.map((w, i) => (i === 0 || i === widths.length - 1 ? ` ${'-'.repeat(w)} ` : ` ${'-'.repeat(w - 1)}: `));
  return [line(head), `|${rule.join('|')}|`, ...rows.map(line)].join('\n');
}

let failing = 0;
const rows = cases.map((c) => {
  const { A, B } = results.get(c.key) as Record<Side, number[]>;
  const a = median(A);
  const b = median(B);
  const change = (b - a) / a;
  let verdict: string;
  if (!Number.isFinite(change)) verdict = 'no data';
  else if (c.metric === 'bytesPerTask') verdict = b <= a + MEMORY_SLACK ? 'ok' : 'HIGHER';
  else verdict = change >= -TOLERANCE ? 'ok' : `WORSE (> ${TOLERANCE * 100} %)`;
  if (verdict !== 'ok') failing++;
  const unit = c.metric === 'bytesPerTask' ? 'bytes/task' : 'tasks/s';
  const digits = c.metric === 'bytesPerTask' ? 1 : 0;
  const pct = `${change >= 0 ? '+' : '−'}${Math.abs(change * 100).toFixed(1)} %`;
  const bytes = `${b - a >= 0 ? '+' : '−'}${Math.abs(b - a).toFixed(1)} B`;
  return [`${c.key} (${unit})`, spread(A, digits), spread(B, digits), !Number.isFinite(change) ? '—' : c.metric === 'bytesPerTask' ? `${bytes}, ${pct}` : pct, verdict];
});

const currentName = currentDir === root ? 'working tree' : currentDir;
const header =
  `# A/B: ${baseShort} against the ${currentName}\n\n` +
  `- A (base): ${baseShort} "${baseSubject}" (${baseDir})\n` +
  `- B (current): ${currentName}${currentHead ? ` at ${currentHead}${currentDirty ? ' with uncommitted changes in src/' : ', src/ unchanged'}` : ''}` +
  `${build ? '' : ' (dist/ as found: --no-build)'}\n` +
  `- ${rounds} round${rounds === 1 ? '' : 's'} per side, alternating (A B, B A, …), cases shuffled per round; ${quick ? '--quick sizes' : 'full sizes'}: ` +
  `throughput ${fmt(N)} tasks, stream ${fmt(STREAM_N)}, memory ${fmt(MEM_N)} waiting, threads ${fmt(THREADS_N)} tiny tasks on ${THREADS} threads\n` +
  `- Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, ${fmt(totalmem() / 2 ** 30)} GiB; Node ${process.version}; ${new Date().toISOString().slice(0, 10)}; ` +
  `measuring took ${fmt(wallS)} s (${fmt(measureMs / 1000 / Math.max(done, 1), 1)} s per measurement)\n` +
  (copiedIntoBase.length > 0 ? `- The base lacked ${copiedIntoBase.join(', ')}: the working tree's copy was used\n` : '') +
  `- Verdict: throughput (tasks/s, higher is better) ok if the current median is at most ${TOLERANCE * 100} % below the base's; ` +
  `memory (bytes per waiting task) ok if not higher by more than ${MEMORY_SLACK} byte (run-to-run noise at full size is about 0.3 byte)\n` +
  (rounds < 6 || quick ? `- **Not a valid A/B for the rule** (${rounds < 6 ? `${rounds} rounds, the rule asks for at least 6` : ''}${rounds < 6 && quick ? '; ' : ''}${quick ? '--quick sizes' : ''}): a smoke test only\n` : '');
const verdict = failing === 0 ? `**All ${cases.length} cases ok.**` : `**${failing} of ${cases.length} cases fail the rule.**`;
const failed = failures.length === 0 ? '' : `\n## Failed measurements (three tries each; left out of the medians)\n\n${failures.map((f) => `- ${f}`).join('\n')}\n`;
const report = `${header}\n${table(['case', 'base median (min–max)', 'current median (min–max)', 'change', 'verdict'], rows)}\n\n${verdict}\n${failed}`;
console.log(report);
if (outFile !== undefined) writeFileSync(outFile, report);
if (failing > 0) process.exitCode = 1;
