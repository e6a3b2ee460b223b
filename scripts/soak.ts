/**
 * Soak and leak check: `npm run soak` (full) or `npm run soak -- --short` (a tenth of the sizes, run in CI).
 * Pushes millions of tasks through both APIs, then failures and timers, and checks after each phase that the
 * counts are exact, the heap is back within 10 MB of its baseline after GC, and no timer or immediate is
 * left. Ends by checking that a child process which uses and closes a pool exits by itself.
 */
import { execFileSync } from 'node:child_process';
import { LitePool } from '../src/index.js';
import { ThreadPool } from '../src/threads/index.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with node --expose-gc');
const short = process.argv.includes('--short');
const scale = short ? 10 : 1;
const MB = 1024 * 1024;
const LIMIT_MB = 10;

async function settleHeap(): Promise<number> {
  for (let i = 0; i < 3; i++) {
    await new Promise((r) => setImmediate(r));
    (gc as () => void)();
  }
  return process.memoryUsage().heapUsed;
}

function leftovers(): string[] {
  return process.getActiveResourcesInfo().filter((r) => r === 'Timeout' || r === 'Immediate');
}

interface Row {
  phase: string;
  tasks: number;
  seconds: number;
  heapDeltaMB: number;
  handles: string;
  ok: boolean;
}

const rows: Row[] = [];
let failed = false;
// A phase shows "…" while it runs, then its verdict on the same line; a log (CI) gets the verdict line only.
const tty = process.stdout.isTTY === true;
const begin = (label: string) => {
  if (tty) process.stdout.write(`${label} …`);
};
const end = (label: string, verdict: string, after = '\n') => {
  process.stdout.write(`${tty ? '\r' : ''}${label} ${verdict}${after}`);
};
const baseline = await settleHeap();

async function phase(name: string, tasks: number, body: (lp: LitePool) => Promise<number>): Promise<void> {
  begin(name.padEnd(48));
  const lp = new LitePool({ workers: 8, queueSize: 64 });
  const t0 = performance.now();
  const counted = await body(lp);
  await lp.close();
  const seconds = (performance.now() - t0) / 1000;
  const heapDeltaMB = ((await settleHeap()) - baseline) / MB;
  const left = leftovers();
  const ok = counted === tasks && heapDeltaMB <= LIMIT_MB && left.length === 0 && lp.usage().running === 0;
  if (!ok) failed = true;
  rows.push({ phase: name, tasks, seconds, heapDeltaMB, handles: left.length === 0 ? 'none' : left.join(','), ok });
  end(name.padEnd(48), ok ? 'ok' : `FAILED (counted ${counted} of ${tasks})`);
}

const N = 1_000_000 / scale;
const F = 100_000 / scale;
const T = 10_000 / scale;

await phase(`${N.toLocaleString('en-US')} tasks through addTask() in groups`, N, async (lp) => {
  let done = 0;
  const groups = 100;
  const per = N / groups;
  for (let g = 0; g < groups; g++) {
    const tg = lp.newTaskGroup(per);
    for (let i = 0; i < per; i++) {
      await lp.addTask(tg.newTaskOptions().setTask(i % 2 === 0 ? () => { done++; } : async () => { done++; }).setAutoDone());
    }
    await tg.wait();
  }
  return done;
});

await phase(`${N.toLocaleString('en-US')} tasks through run()`, N, async (lp) => {
  let done = 0;
  const chunk = 10_000;
  for (let c = 0; c < N / chunk; c++) {
    const all: Promise<unknown>[] = [];
    for (let i = 0; i < chunk; i++) all.push(lp.run(async () => { done++; }));
    await Promise.all(all);
  }
  return done;
});

await phase(`${F.toLocaleString('en-US')} failing tasks with callbacks and errReload`, F, async (lp) => {
  let completes = 0;
  let afters = 0;
  const tg = lp.newTaskGroup(F);
  for (let i = 0; i < F; i++) {
    await lp.addTask(
      tg.newTaskOptions()
        .setTask(() => { throw new Error('fail'); })
        .setOnError((h, g) => h.errReload(1, () => { afters++; g.done(); }))
        .setOnComplete(() => { completes++; }),
    );
  }
  await tg.wait();
  return completes === afters ? completes : -1;
});

await phase(`${F.toLocaleString('en-US')} tasks with timeouts and add timeouts that never fire`, F, async (lp) => {
  let done = 0;
  const tg = lp.newTaskGroup(F);
  for (let i = 0; i < F; i++) {
    await lp.addTask(tg.newTaskOptions().setTask(async () => { done++; }).setTimeout(60_000).setAddTimeout(60_000).setAutoDone());
  }
  await tg.wait();
  const runs: Promise<unknown>[] = [];
  for (let i = 0; i < 1000; i++) runs.push(lp.run(async () => {}, { timeout: 60_000, retry: { retries: 3, minDelay: 60_000 } }));
  await Promise.all(runs);
  return done;
});

{
  const name = `${(T).toLocaleString('en-US')} thread tasks, with crashes and timeouts among them`;
  begin(name.padEnd(48));
  const tp = new ThreadPool({ maxThreads: 2, tasksPerThread: 4 });
  const t0 = performance.now();
  const tasks = new URL('../test/fixtures/thread-tasks.ts', import.meta.url);
  let ok = 0;
  let crashed = 0;
  let timedOut = 0;
  const count = (err: unknown) => {
    if ((err as Error).name === 'TaskTimeoutError') timedOut++;
    else crashed++;
  };
  // Runaway tasks stopped by their timeout run beside the map, not nested in it: a member that awaited a
  // nested task queued behind the whole input would hold its worker (the documented nested-submission case).
  const runaways = Array.from({ length: T / 500 }, () => tp.run(tp.task(tasks, 'forever'), { timeout: 20 }).then(() => ok++, count));
  await tp.map(
    Array.from({ length: T - T / 500 }, (_, i) => i),
    async (i, _index, ctx) => {
      try {
        await tp.task(tasks, i % 500 === 1 ? 'exits' : 'double', i % 500 === 1 ? 1 : i)(ctx);
        ok++;
      } catch (err) {
        count(err);
      }
    },
  );
  await Promise.all(runaways);
  await tp.close();
  const seconds = (performance.now() - t0) / 1000;
  const heapDeltaMB = ((await settleHeap()) - baseline) / MB;
  const left = leftovers();
  // A crash or a timeout also ends the other tasks in flight on that thread (a retryable
  // ThreadTerminatedError or the crash's error), so only the total is exact: every task settled once.
  const counted = ok + crashed + timedOut;
  const passed = counted === T && crashed >= T / 500 && tp.threads === 0 && heapDeltaMB <= LIMIT_MB && left.length === 0;
  if (!passed) failed = true;
  rows.push({ phase: name, tasks: T, seconds, heapDeltaMB, handles: left.length === 0 ? 'none' : left.join(','), ok: passed });
  end(name.padEnd(48), passed ? 'ok' : `FAILED (ok ${ok}, crashed ${crashed}, timed out ${timedOut}, threads ${tp.threads})`);
}

begin('a child process that uses and closes a pool exits by itself');
const childCode = [
  "import { LitePool } from './src/index.ts';",
  'const lp = new LitePool({ workers: 4, queueSize: 4 });',
  'await lp.map(Array.from({ length: 1000 }, (_, i) => i), async (i) => i, { timeout: 60_000 });',
  'await lp.close();',
].join('\n');
let childOk = true;
try {
  execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', childCode], { timeout: 20_000 });
} catch {
  childOk = false;
  failed = true;
}
end('a child process that uses and closes a pool exits by itself', childOk ? 'ok' : 'FAILED', '\n\n');

const head = ['phase', 'tasks', 'seconds', 'tasks/s', 'heap Δ MB', 'timers left', 'result'];
const table = rows.map((r) => [
  r.phase,
  r.tasks.toLocaleString('en-US'),
  r.seconds.toFixed(2),
  Math.round(r.tasks / r.seconds).toLocaleString('en-US'),
  r.heapDeltaMB.toFixed(1),
  r.handles,
  r.ok ? 'ok' : 'FAILED',
]);
const widths = head.map((h, i) => Math.max(h.length, ...table.map((r) => (r[i] as string).length)));
for (const line of [head, ...table]) console.log(line.map((c, i) => (i === 0 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join('  '));
console.log(`\nheap limit: +${LIMIT_MB} MB over the baseline after GC; ${failed ? 'FAILED' : 'all phases passed'}`);
process.exitCode = failed ? 1 : 0;
