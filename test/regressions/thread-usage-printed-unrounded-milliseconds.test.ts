// Issue #14.10: per-thread busy time printed with every digit of performance.now() (`console.table(
// tp.threadUsage())` in the README showed 1234.5678901 ms). What the library prints is whole milliseconds;
// threadUsage() stays plain data, like usage().
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ThreadPool } from '../../src/threads/index.js';

const tasks = new URL('../fixtures/thread-tasks.ts', import.meta.url);

test('printUsage() prints busy ms of the pool and of each thread as whole numbers', async () => {
  let t = 0;
  // Each reading moves 0.37 ms: a busy time the executor adds up from a few readings has a fraction.
  const tp = new ThreadPool({ maxThreads: 2, clock: { now: () => (t += 0.37) } });
  try {
    await Promise.all([1, 2, 3, 4].map((x) => tp.runTask(tasks, 'double', x)));
    const busy = tp.threadUsage().map((u) => u.busyMs);
    assert.ok(busy.some((ms) => !Number.isInteger(ms)), `fractional figures underneath: ${busy.join(', ')}`);
    const lines: string[] = [];
    tp.printUsage((line) => lines.push(line));
    const threadHead = lines.findIndex((l) => /^thread\s+in flight\s+executed\s+failed\s+busy ms$/.test(l));
    assert.ok(threadHead > 0, lines.join('\n'));
    const rows = lines.slice(threadHead + 1);
    assert.equal(rows.length, tp.threadUsage().length, 'one row per thread');
    for (const row of rows) assert.match(row, /^\s*\d+(\s+\d+){4}$/, `whole numbers only: ${row}`);
    const workerRows = lines.slice(1, lines.findIndex((l) => l.startsWith('balance:')));
    for (const row of workerRows) assert.match(row, /^\s*\d+\s+\w+\s+\d+\s+\d+\s+\d+\s+(\d+\.\d%|-)$/, `busy ms whole: ${row}`);
  } finally {
    await tp.close();
  }
});
