// Usage across machines (API.md 2.6, 4.2): usage() has a row per worker slot of every live worker process,
// with its figures; BullMQ's counts for the pool; a process that stops heartbeating is 'gone', one that
// closes leaves the list; printUsage writes the aligned table.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type RemoteWorkerUsage } from '../../src/bullmq/index.js';
import { distributedSuite, redisAvailable, waitFor, withPool, WorkerProcess } from '../fixtures/redis-server.js';

const available = redisAvailable();

const POOLS = { rows: 'usage-rows', busy: 'usage-busy' } as const;

const sum = (rows: readonly RemoteWorkerUsage[], field: 'executed' | 'failed') => rows.reduce((s, r) => s + r[field], 0);

describe('usage across machines', { skip: !available }, () => {
  const env = distributedSuite({ pools: Object.values(POOLS), workerOptions: { concurrency: 2, heartbeat: 100 } });

  test('a row per worker slot of each process, executed and failed summing to the attempts run; printUsage aligns them', async () => {
    await withPool({ pool: POOLS.rows, connection: env.redis.url, workers: 4, queueSize: 2 }, async (dp) => {
      const runs = [
        ...Array.from({ length: 10 }, (_, i) => dp.run('add', { a: i, b: 1 })),
        ...Array.from({ length: 2 }, (_, i) => dp.run('check', { value: i, fail: true }).catch(() => 'failed')),
      ];
      assert.equal((await Promise.all(runs)).filter((r) => r === 'failed').length, 2);
      const usage = await waitFor(
        async () => {
          const u = await dp.usage();
          // BullMQ moves a job out of `active` just after its outcome reaches the producer, so `running`
          // may count finished jobs for a moment (usage-running-counts-finished-jobs).
          const settled = u.running === 0 && u.waiting === 0 && u.backoff === 0;
          return settled && sum(u.workers, 'executed') === 12 && sum(u.workers, 'failed') === 2 && u.workers.every((w) => w.state === 'idle') ? u : undefined;
        },
        10_000,
        'the heartbeats to carry 12 attempts, 2 failed, every slot idle, and BullMQ to count no job running',
      );
      assert.deepEqual(
        usage.workers.map((w) => w.id),
        ['w1:0', 'w1:1', 'w2:0', 'w2:1'],
      );
      for (const w of usage.workers) {
        assert.ok(Number.isInteger(w.executed) && w.executed >= 0);
        assert.ok(w.failed <= w.executed);
        assert.ok(w.busyMs >= 0);
      }
      assert.equal(usage.completed, 10);
      assert.equal(usage.failed, 2);
      assert.equal(usage.running, 0);
      assert.equal(usage.waiting, 0);
      assert.equal(usage.backoff, 0);

      const lines: string[] = [];
      await dp.printUsage((line) => lines.push(line));
      assert.equal(lines.length, 1 + 4 + 1 + 3, 'a header, a row per slot, a balance line, the wait and run times');
      const [head, ...rest] = lines;
      const rows = rest.slice(0, 4);
      const balance = rest[4] as string;
      assert.match(head as string, /^worker\s+state\s+executed\s+failed\s+busy ms\s+share$/);
      assert.deepEqual(
        rows.map((r) => r.trim().split(/\s+/)[0]),
        ['w1:0', 'w1:1', 'w2:0', 'w2:1'],
      );
      for (const row of rows) assert.equal(row.length, (head as string).length, `aligned: ${JSON.stringify(row)}`);
      // Each column ends where its header ends (numbers are right-aligned).
      const end = (head as string).indexOf('executed') + 'executed'.length;
      for (const row of rows) assert.match(row.slice(0, end), /\d$/);
      assert.equal(rows.reduce((s, r) => s + Number(r.slice(end - 8, end)), 0), 12);
      assert.match(balance, /^balance: busy max\/mean (\d+\.\d{3}|-) \(max \d+ ms, mean \d+ ms\); tasks completed 10, failed 2, retried 0, rejected 0$/);
    });
  });

  test("busy slots, and BullMQ's running and waiting counts for the whole pool", async () => {
    const pool = POOLS.busy;
    const key = `test:${pool}`;
    await withPool({ pool, connection: env.redis.url, workers: 2, queueSize: 2 }, async (dp) => {
      const runs = Array.from({ length: 5 }, () => dp.run('hold', { key }));
      const usage = await waitFor(
        async () => {
          const u = await dp.usage();
          return u.running === 2 && u.waiting === 3 && u.workers.filter((w) => w.state === 'busy').length === 2 ? u : undefined;
        },
        10_000,
        'two busy slots and three waiting jobs',
      );
      assert.equal(usage.workers.length, 4);
      await env.client.set(`${key}:open`, '1');
      await Promise.all(runs);
    });
  });

  test("a killed process's rows turn 'gone', then leave; a process closed gracefully leaves the list at once", async () => {
    const [w1, w2] = env.workers as [WorkerProcess, WorkerProcess];
    await withPool({ pool: POOLS.rows, connection: env.redis.url, workers: 4 }, async (dp) => {
      const states = async () => Object.fromEntries((await dp.usage()).workers.map((w) => [w.id, w.state]));
      assert.deepEqual(Object.keys(await states()), ['w1:0', 'w1:1', 'w2:0', 'w2:1']);
      await w2.kill();
      const gone = await waitFor(
        async () => {
          const s = await states();
          return s['w2:0'] === 'gone' && s['w2:1'] === 'gone' ? s : undefined;
        },
        10_000,
        "w2's rows to turn gone",
        10,
      );
      assert.equal(gone['w1:0'], 'idle');
      assert.equal(gone['w1:1'], 'idle');
      await waitFor(async () => !('w2:0' in (await states())), 10_000, "w2's rows to leave once its heartbeat expired");
      assert.equal(await w1.close(), 0);
      assert.deepEqual(await states(), {}, 'w1 left the list as it closed');
    });
  });
});
