/**
 * The chaos check of litepool/bullmq (`npm run chaos:distributed`, `-- --short` in CI): tasks in groups
 * through three worker processes while workers are killed (SIGKILL) and restarted at random and Redis (with
 * AOF) is restarted. Afterwards it checks: every task settled exactly once at the producer (its onComplete
 * ran once), every group count is 0 and its wait() resolved, running task functions never above `workers`,
 * admitted tasks never above `workers × (1 + queueSize)`, and no key under the pool's `lp:` prefix left after
 * close. Exits 1 on any violation. Prints what it did and the recovery figures.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import { DistributedPool } from '../src/bullmq/index.js';
import { RedisServer } from '../test/fixtures/redis-server.js';

const short = process.argv.includes('--short');
const TASKS = short ? 1_000 : 10_000;
const GROUP = 100;
const WORKERS = 8;
const QUEUE_SIZE = 4;
const CAPACITY = WORKERS * (1 + QUEUE_SIZE);
const PROCESSES = ['w1', 'w2', 'w3'];
const rand = (a: number, b: number) => a + Math.floor(Math.random() * (b - a + 1));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const redis = await RedisServer.start({ appendonly: true });
const check = new Redis(redis.port, '127.0.0.1', { maxRetriesPerRequest: null, retryStrategy: (t) => Math.min(t * 100, 1000) });
check.on('error', () => {});
const warnings = new Map<string, number>();
process.on('warning', (w) => warnings.set(w.message.replace(/job [\w.-]+/g, 'job …'), (warnings.get(w.message) ?? 0) + 1));

const workers = new Map<string, ChildProcess>();
function startWorker(name: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = fork(new URL('./chaos-worker.ts', import.meta.url).pathname, [], {
      execArgv: ['--import', 'tsx', '--no-warnings'],
      env: { ...process.env, CHAOS_URL: redis.url, CHAOS_NAME: name, CHAOS_CONCURRENCY: '4' },
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    workers.set(name, child);
    child.once('message', () => resolve());
    child.once('exit', (code, signal) => {
      if (code !== 0 && signal !== 'SIGKILL') reject(new Error(`worker ${name} exited with ${code ?? signal}`));
    });
  });
}
await Promise.all(PROCESSES.map(startWorker));

const dp = new DistributedPool({ pool: 'chaos', connection: redis.url, workers: WORKERS, queueSize: QUEUE_SIZE });
let maxAdmitted = 0;
let redisDown = false;
const sampler = setInterval(() => {
  if (redisDown) return;
  check.hvals('bull:chaos:lp:leases').then(
    (vals) => (maxAdmitted = Math.max(maxAdmitted, vals.reduce((s, v) => s + Number(v), 0))),
    () => {},
  );
}, 20);

// Chaos: kill a worker now and then (restart it after a while); restart Redis now and then.
let stop = false;
const events = { kills: 0, redisRestarts: 0 };
const chaos = (async () => {
  let next = Date.now() + rand(2000, 4000);
  while (!stop) {
    await sleep(rand(300, 1200));
    if (stop) break;
    if (Date.now() > next) {
      next = Date.now() + rand(4000, 8000);
      redisDown = true;
      await redis.down(Math.random() < 0.5 ? 'SIGTERM' : 'SIGKILL');
      await sleep(rand(100, 1500));
      await redis.up();
      redisDown = false;
      events.redisRestarts++;
      continue;
    }
    const name = PROCESSES[rand(0, PROCESSES.length - 1)] as string;
    const child = workers.get(name);
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) continue;
    child.kill('SIGKILL');
    events.kills++;
    await new Promise((r) => child.once('exit', r));
    // Its handlers are dead: they no longer run (the check's own bookkeeping).
    await check.hdel('chaos:running', name).catch(() => {});
    void sleep(rand(500, 3000)).then(() => (stop ? undefined : startWorker(name)));
  }
})();

const completes = new Map<number, number>();
const outcomes = { ok: 0, failed: new Map<string, number>() };
const started = performance.now();
const groups: Promise<void>[] = [];
const groupObjects = [];
for (let g = 0; g < TASKS / GROUP; g++) {
  const tg = dp.newTaskGroup(GROUP);
  groupObjects.push(tg);
  for (let i = 0; i < GROUP; i++) {
    const n = g * GROUP + i;
    await dp.addTask(
      tg
        .newTaskOptions()
        .setTask('work', { ms: rand(1, 10) })
        .setRetry({ retries: 10, minDelay: 50, maxDelay: 1000 })
        .setOnSuccess(() => void outcomes.ok++)
        .setOnError((_h, group, err) => {
          outcomes.failed.set(err.name, (outcomes.failed.get(err.name) ?? 0) + 1);
          group.done();
        })
        .setOnComplete(() => void completes.set(n, (completes.get(n) ?? 0) + 1))
        .setAutoDone(),
    );
  }
  groups.push(tg.wait());
  if (g % 10 === 9) {
    const line = `  added ${(g + 1) * GROUP}/${TASKS}, settled ${completes.size}, kills ${events.kills}, Redis restarts ${events.redisRestarts}`;
    if (process.stdout.isTTY) process.stdout.write(`\r${line}   `);
    else console.log(line);
  }
}
await Promise.all(groups);
const elapsed = (performance.now() - started) / 1000;
stop = true;
await chaos;
clearInterval(sampler);
if (process.stdout.isTTY) process.stdout.write('\n');

const violations: string[] = [];
const twice = [...completes.values()].filter((c) => c !== 1).length;
if (completes.size !== TASKS) violations.push(`${TASKS - completes.size} tasks never settled`);
if (twice > 0) violations.push(`${twice} tasks settled more than once`);
const counts = groupObjects.filter((tg) => tg.count !== 0).length;
if (counts > 0) violations.push(`${counts} groups with a count above 0`);
const maxRunning = Number((await check.get('chaos:max-running')) ?? '0');
if (maxRunning > WORKERS) violations.push(`running task functions reached ${maxRunning} > workers ${WORKERS}`);
if (maxAdmitted > CAPACITY) violations.push(`admitted tasks reached ${maxAdmitted} > capacity ${CAPACITY}`);
const runs = Object.values(await check.hgetall('chaos:runs')).map(Number);
const reruns = runs.filter((r) => r > 1).length;

await dp.close();
for (const [name, child] of workers) {
  if (child.exitCode === null && child.signalCode === null) {
    await new Promise((resolve) => {
      child.once('exit', resolve);
      child.send('close');
    });
  }
  workers.delete(name);
}
// What may stay is what expires by itself within its documented retention (a killed worker's entry in the
// list of workers: ten heartbeats, 2 s here).
const left: string[] = [];
for (const key of await check.keys('bull:chaos:lp:*')) {
  const ttl = await check.pttl(key);
  if (ttl < 0 || ttl > 2000) left.push(`${key} (ttl ${ttl} ms)`);
}
if (left.length > 0) violations.push(`keys left behind: ${left.join(', ')}`);

console.log(`chaos: ${TASKS} tasks in ${TASKS / GROUP} groups, 3 worker processes, workers ${WORKERS}, queueSize ${QUEUE_SIZE}, in ${elapsed.toFixed(1)} s`);
console.log(`  faults: ${events.kills} workers killed (SIGKILL), ${events.redisRestarts} Redis restarts (AOF)`);
console.log(`  outcomes: ${outcomes.ok} succeeded, failed: ${JSON.stringify(Object.fromEntries(outcomes.failed))}; ${reruns} tasks ran more than once (at-least-once)`);
console.log(`  highest: running ${maxRunning} (≤ ${WORKERS}), admitted ${maxAdmitted} (≤ ${CAPACITY})`);
if (warnings.size > 0) console.log(`  warnings (kinds): ${[...warnings.keys()].slice(0, 5).join(' | ')}`);
check.disconnect();
await redis.stop();
if (violations.length > 0) {
  console.error(`chaos check FAILED:\n  ${violations.join('\n  ')}`);
  process.exit(1);
}
console.log('chaos check passed');
