/**
 * Measures litepool/bullmq's recovery times against a private redis-server and real worker processes, with
 * the defaults (`node --import tsx scripts/measure-faults.ts [--trials N]`); the figures in
 * docs/RELIABILITY.md come from it. Per trial:
 * - worker killed: SIGKILL of the process running a task → the task starts again on the other worker;
 * - Redis restarted without persistence: Redis back → the lost tasks fail with TaskLostError at the producer;
 * - reconnect: Redis back → a new task has run (producer and workers reconnected).
 * Prints min / median / max over the trials.
 */
import { Redis } from 'ioredis';
import { DistributedPool, TaskLostError } from '../src/bullmq/index.js';
import { RedisServer, waitFor, WorkerProcess } from '../test/fixtures/redis-server.js';
import { median } from '../bench/stats.js';

const argv = process.argv.slice(2);
const trials = Number(argv[argv.indexOf('--trials') + 1] || 5) || 5;
process.on('warning', () => {});

const redis = await RedisServer.start();
const client = new Redis(redis.port, '127.0.0.1', { maxRetriesPerRequest: null, retryStrategy: (t) => Math.min(t * 100, 1000) });
client.on('error', () => {});
const kill: number[] = [];
const lost: number[] = [];
const reconnect: number[] = [];

for (let t = 0; t < trials; t++) {
  const pool = `measure${t}`;
  const workers = await Promise.all([WorkerProcess.start(redis.url, pool, 'a', { concurrency: 1 }), WorkerProcess.start(redis.url, pool, 'b', { concurrency: 1 })]);
  const dp = new DistributedPool({ pool, connection: redis.url, workers: 2, queueSize: 2 });
  // 1. A worker killed mid-task.
  const key = `m:${pool}`;
  const result = dp.run('hold', { key });
  const first = await waitFor(async () => (await client.lrange(`${key}:on`, 0, -1))[0]?.split('|')[1], 10_000);
  // A random moment within the lock's renewal period, as a real crash would come.
  await new Promise((r) => setTimeout(r, Math.random() * 3000));
  const killedAt = Date.now();
  await (workers.find((w) => w.name === first) as WorkerProcess).kill();
  await waitFor(async () => (await client.llen(`${key}:on`)) === 2, 30_000);
  kill.push(Date.now() - killedAt);
  await client.set(`${key}:open`, '1');
  await result;
  // 2. Redis restarted without persistence, with tasks in flight.
  const survivor = workers.find((w) => w.name !== first) as WorkerProcess;
  const lostKey = `l:${pool}`;
  const pending = [1, 2, 3].map(() => dp.run('hold', { key: lostKey }).then(() => 0, (e: unknown) => (e instanceof TaskLostError ? Date.now() : -1)));
  await waitFor(async () => (await client.llen(`${lostKey}:started`)) >= 1, 10_000);
  await redis.down('SIGKILL');
  await redis.up();
  const upAt = Date.now();
  // The handler still holding its (lost) job lets go, so that the worker can take the next one.
  await client.set(`${lostKey}:open`, '1');
  const firstRun = dp.run('add', { a: 1, b: 1 }).then(() => Date.now());
  // The task that was running may still complete (its handler goes on and reports); the waiting ones are lost.
  const outcomes = await Promise.all(pending);
  if (outcomes.some((x) => x < 0)) throw new Error(`a task ended otherwise than with its result or TaskLostError: ${outcomes.join(', ')}`);
  const lostAt = outcomes.filter((x) => x > 0);
  if (lostAt.length === 0) throw new Error('no task was lost');
  lost.push(Math.max(...lostAt) - upAt);
  reconnect.push((await firstRun) - upAt);
  await dp.close();
  await survivor.close();
  process.stdout.write(`\r  trial ${t + 1}/${trials}`);
}
process.stdout.write('\n');
const row = (name: string, xs: number[]) => `| ${name.padEnd(52)} | ${String(Math.min(...xs)).padStart(6)} | ${String(Math.round(median(xs))).padStart(6)} | ${String(Math.max(...xs)).padStart(6)} |`;
console.log(`\n${trials} trials, defaults (locks 6 s, stall check every 3 s, sweep every 2 s), ms:\n`);
console.log(`| ${'what'.padEnd(52)} |    min | median |    max |`);
console.log(`|${'-'.repeat(54)}|-------:|-------:|-------:|`);
console.log(row('worker SIGKILLed → its task starts on another worker', kill));
console.log(row('Redis back (restart, no AOF) → lost tasks fail', lost));
console.log(row('Redis back → a new task has run (reconnected)', reconnect));
client.disconnect();
await redis.stop();
