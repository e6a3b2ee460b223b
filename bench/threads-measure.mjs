/**
 * One thread-pool measurement in a fresh process (spawned by bench/threads.mjs); prints one JSON line.
 *   node bench/threads-measure.mjs <subject> tiny-window|tiny-all|cpu <n> <threads>
 */
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { FixedThreadPool } from 'poolifier';
import Tinypool from 'tinypool';
import { ThreadPool } from '../dist/esm/threads/index.js';

const [subject, workload, nArg, threadsArg] = process.argv.slice(2);
const n = Number(nArg);
const threads = Number(threadsArg);
const tasksUrl = new URL('./workers/tasks.mjs', import.meta.url);
const tasksFile = fileURLToPath(tasksUrl);

function make() {
  switch (subject) {
    case 'litepool': {
      // Several tasks in flight per thread hide the messaging latency of tiny tasks, as poolifier does by default.
      const tp = new ThreadPool({ minThreads: threads, maxThreads: threads, tasksPerThread: workload === 'cpu' ? 1 : 16 });
      return { run: (op, arg) => tp.runTask(tasksUrl, op, arg), close: () => tp.close() };
    }
    case 'piscina': {
      const p = new Piscina({ filename: tasksFile, minThreads: threads, maxThreads: threads });
      return { run: (op, arg) => p.run({ op, arg }), close: () => p.destroy() };
    }
    case 'tinypool': {
      const p = new Tinypool({ filename: tasksFile, minThreads: threads, maxThreads: threads });
      return { run: (op, arg) => p.run({ op, arg }), close: () => p.destroy() };
    }
    case 'poolifier': {
      const p = new FixedThreadPool(threads, fileURLToPath(new URL('./workers/poolifier-worker.mjs', import.meta.url)));
      return { run: (op, arg) => p.execute({ op, arg }), close: () => p.destroy() };
    }
    default:
      throw new Error(`unknown subject ${subject}`);
  }
}

async function window(pool, op, arg, count, inFlight) {
  let next = 0;
  const lane = async () => {
    while (next < count) {
      next++;
      await pool.run(op, arg);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, lane));
}

const pool = make();
// Warm up: threads started, modules loaded, JIT warm.
await window(pool, 'noop', 1, 2000, 32);
await Promise.all(Array.from({ length: threads * 2 }, () => pool.run('spin', 5)));
const t0 = performance.now();
if (workload === 'tiny-window') await window(pool, 'noop', 1, n, 64);
else if (workload === 'tiny-all') await Promise.all(Array.from({ length: n }, () => pool.run('noop', 1)));
else if (workload === 'cpu') await Promise.all(Array.from({ length: n }, () => pool.run('spin', 5)));
else throw new Error(`unknown workload ${workload}`);
const ms = performance.now() - t0;
await pool.close();
const ideal = workload === 'cpu' ? (n * 5) / threads : undefined;
console.log(JSON.stringify({ tasksPerSec: (n / ms) * 1000, ms, efficiency: ideal === undefined ? undefined : ideal / ms }));
