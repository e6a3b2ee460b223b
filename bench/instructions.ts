/**
 * Instruction counts of the hot paths, for A/B decisions that wall-clock medians on a shared machine cannot
 * make (they move ±10 % from run to run): `node --import tsx bench/instructions.ts [--base REV] [--cases a,b]
 * [--repeat N]`. Each case (bench/instructions-case.mjs: 100,000 `run()`/`addTask()`/`limit()` no-op tasks,
 * 200,000 `map()`/`mapIterable()` items) runs under `valgrind --tool=callgrind` with `node --predictable
 * --predictable-gc-schedule` (V8 on one thread, fixed seeds, a fixed heap-growing schedule) and, where
 * `setarch` exists, without address randomisation. Even so a count is not exact: identical runs differ by up
 * to 2 % (up to 10 % with address randomisation on, and by the directory the build lies in), so each side is copied
 * to the same directory, sides alternate, and the median of `--repeat` runs (3) is taken; read ±3 % as noise.
 * With `--base`, the base commit is built in a worktree (`node_modules/.cache/instructions/<rev>`; remove it
 * with `git worktree remove`). The current side is the working tree's `dist/`: `npm run bench:instructions`
 * builds it first. Needs valgrind (`apt-get install valgrind`). One run at a time (they share the stage).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median } from './stats.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const allCases = ['run-16', 'run-1024', 'addTask-16', 'limit-16', 'map', 'mapIterable'];
const cases = option('--cases')?.split(',') ?? allCases;
const base = option('--base');
const repeat = Number(option('--repeat') ?? 3);
if (!Number.isInteger(repeat) || repeat < 1) {
  console.error(`--repeat must be an integer ≥ 1, not ${option('--repeat')}`);
  process.exit(1);
}
/** Where each side's dist/ is copied before it is counted: the path alone moves a count. */
const stage = join(root, 'node_modules', '.cache', 'instructions', 'stage', 'dist');
const noAslr = spawnSync('setarch', ['-R', 'true']).status === 0;

if (spawnSync('valgrind', ['--version']).status !== 0) {
  console.error('bench/instructions.ts needs valgrind on the PATH (apt-get install valgrind)');
  process.exit(1);
}

/** A built dist/ of `rev`, in a worktree of its own. */
function buildBase(rev: string): string {
  const sha = execFileSync('git', ['rev-parse', '--short', rev], { cwd: root, encoding: 'utf8' }).trim();
  const dir = join(root, 'node_modules', '.cache', 'instructions', sha);
  if (!existsSync(join(dir, 'dist', 'esm', 'index.js'))) {
    mkdirSync(dirname(dir), { recursive: true });
    if (!existsSync(dir)) execFileSync('git', ['worktree', 'add', '--detach', '-f', dir, sha], { cwd: root, stdio: 'ignore' });
    execFileSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] });
    execFileSync('npm', ['run', 'build'], { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] });
  }
  return join(dir, 'dist');
}

/** Millions of instructions the case takes (the whole process: start-up is the same on both sides). */
function count(dist: string, name: string): number {
  rmSync(stage, { recursive: true, force: true });
  cpSync(dist, stage, { recursive: true });
  const args = ['--tool=callgrind', '--callgrind-out-file=/dev/null', process.execPath, '--predictable', '--predictable-gc-schedule', join(root, 'bench', 'instructions-case.mjs'), stage, name];
  const r = noAslr ? spawnSync('setarch', ['-R', 'valgrind', ...args], { encoding: 'utf8' }) : spawnSync('valgrind', args, { encoding: 'utf8' });
  if (r.error !== undefined) throw r.error;
  const m = /Collected\s*:\s*(\d+)/.exec(r.stderr);
  if (r.status !== 0 || m === null) throw new Error(`callgrind of ${name} failed (status ${r.status}):\n${r.stderr.slice(-2000)}`);
  return Number(m[1]) / 1e6;
}

const sides: [string, string][] = [];
if (base !== undefined) sides.push([`base ${base}`, buildBase(base)]);
sides.push(['current', join(root, 'dist')]);
console.log(
  `# instruction counts, median of ${repeat} run(s) per side; address randomisation ${noAslr ? 'off (setarch -R)' : 'ON (setarch is missing: expect up to ±10 %)'}\n`,
);
const fmt = (x: number) => x.toLocaleString('en-US', { maximumFractionDigits: 1, minimumFractionDigits: 1 });
const rows: string[][] = [];
for (const name of cases) {
  const runs: number[][] = sides.map(() => []);
  for (let k = 0; k < repeat; k++) {
    sides.forEach(([label, dist], i) => {
      process.stderr.write(`\r  ${name}: ${label} ${k + 1}/${repeat}…                    `);
      (runs[i] as number[]).push(count(dist, name));
    });
  }
  const counts = runs.map((xs) => median(xs));
  const row = [name, ...counts.map(fmt)];
  if (counts.length === 2) row.push(`${(((counts[1] as number) / (counts[0] as number) - 1) * 100).toFixed(1)} %`);
  rows.push(row);
}
process.stderr.write('\r' + ' '.repeat(60) + '\r');
const head = ['case', ...sides.map(([label]) => `${label} (M instr.)`), ...(sides.length === 2 ? ['change'] : [])];
const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
const line = (cells: string[]) => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join(' | ')} |`;
console.log(line(head));
console.log(`|${widths.map((w, i) => (i === 0 ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`);
for (const r of rows) console.log(line(r));
