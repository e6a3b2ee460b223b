// Runs every test file under test/ with node:test and tsx, failing on any unhandled rejection and on any
// process warning a test did not expect (test/setup.ts). Node 20's --test does not expand globs or pick up
// .ts files by itself, hence this list. `--repeat N` runs the suite N times in a row (flake control).
//
// Output is compact: a dot per passing test, then the runner's closing summary (`# tests N`, `# pass N`,
// `# fail N`, …) as it printed it. Everything else the runner prints comes through in full: a failing test's
// whole TAP block (error, stack, location, subtests), and whatever a test file wrote to stdout or stderr
// (an unexpected warning, for one). `--verbose` passes the runner's own output through untouched (spec in a
// terminal, TAP otherwise). Process warnings are off (`--no-warnings`): the ones a test expects are collected
// by captureWarnings() in test/helpers.ts, and test/setup.ts prints and fails on every other one.
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

function find(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'fixtures' ? [] : find(p);
    return e.name.endsWith('.test.ts') ? [p] : [];
  });
}

const argv = process.argv.slice(2);
const at = argv.indexOf('--repeat');
const repeat = at >= 0 ? Number(argv.splice(at, 2)[1]) : 1;
const verboseAt = argv.indexOf('--verbose');
const verbose = verboseAt >= 0;
if (verbose) argv.splice(verboseAt, 1);
const files = argv.length > 0 ? argv : find('test').sort();
const args = ['--import', 'tsx', '--import', './test/setup.ts', '--unhandled-rejections=strict', '--no-warnings', '--test'];
if (!verbose) args.push('--test-reporter=tap');
args.push(...files);

/** Reads the runner's TAP and prints it compactly (see the top of this file); resolves with its exit code. */
function runCompact() {
  const child = spawn(process.execPath, args, { stdio: ['inherit', 'pipe', 'inherit'] });
  const out = process.stdout;
  let column = 0; // dots on the current line
  let mode = 'idle'; // 'pending': a top-level test started; 'passed'/'failed': its result line came
  let pending = []; // the lines of a top-level test before its result (its subtests)
  const endDots = () => {
    if (column > 0) out.write('\n');
    column = 0;
  };
  const print = (line) => {
    endDots();
    out.write(`${line}\n`);
  };
  const lines = createInterface({ input: child.stdout, crlfDelay: Infinity });
  lines.on('line', (line) => {
    if (line.startsWith(' ') || line === '') {
      // Inside a top-level test: its subtests, or the YAML block of its result.
      if (mode === 'pending') pending.push(line);
      else if (mode !== 'passed') print(line);
    } else if (line.startsWith('# Subtest: ')) {
      for (const l of pending) print(l); // a test that never reported a result: show what it had
      pending = [line];
      mode = 'pending';
    } else if (/^ok \d+/.test(line)) {
      pending = [];
      mode = 'passed';
      out.write('.');
      column += 1;
      if (column === 80) endDots();
    } else if (/^not ok \d+/.test(line)) {
      for (const l of pending) print(l);
      pending = [];
      print(line);
      mode = 'failed';
    } else if (line === 'TAP version 13' || /^1\.\.\d+$/.test(line)) {
      if (/^1\.\./.test(line)) mode = 'idle';
    } else {
      // Top level: the closing summary, or what a test file wrote to stdout/stderr (a diagnostic).
      print(line);
    }
  });
  return new Promise((resolve) => {
    child.on('close', (code, signal) => {
      for (const l of pending) print(l);
      endDots();
      resolve(code ?? (signal ? 1 : 0));
    });
  });
}

function runVerbose() {
  const child = spawn(process.execPath, args, { stdio: 'inherit' });
  return new Promise((resolve) => child.on('close', (code, signal) => resolve(code ?? (signal ? 1 : 0))));
}

for (let round = 1; round <= repeat; round++) {
  if (repeat > 1) console.log(`# round ${round} of ${repeat}`);
  const status = await (verbose ? runVerbose() : runCompact());
  if (status !== 0) process.exit(status);
}
