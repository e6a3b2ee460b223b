/**
 * The main demo across processes: the Go README's 1,000 tasks of random duration (5–50 ms here), now run by
 * two worker processes on BullMQ and Redis, with 5 workers across them, a waiting room of 5 per worker
 * (enforced in Redis), an add timeout of 1 s, auto-done, and errReload(3) on failure; then the usage table,
 * one row per worker slot of each process.
 *
 * Redis: `REDIS_URL` when one answers there, else a private redis-server (stopped at the end).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { DistributedPool } from '../src/bullmq/index.js';
import { Progress } from './progress.js';
import { redisForExample } from './private-redis.js';

const redis = await redisForExample();
console.log(`litepool distributed demo: 1000 tasks sleeping 5–50 ms each, two worker processes, 5 workers, waiting room 5 per worker`);
console.log(`Redis: ${redis.origin}`);

const workers: ChildProcess[] = ['worker-a', 'worker-b'].map((name) =>
  fork(new URL('./distributed-worker.ts', import.meta.url).pathname, [], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, REDIS_URL: redis.url, WORKER_NAME: name },
  }),
);
await Promise.all(workers.map((w) => new Promise((resolve) => w.once('message', resolve))));

const dp = new DistributedPool({ pool: 'demo', connection: redis.url, workers: 5, queueSize: 5 });
const n = 1000;
const tg = dp.newTaskGroup(n);
let done = 0;
let failed = 0;
let reloads = 0;
let addTimeouts = 0;
let sleptMs = 0;
const progress = new Progress(n);
const started = performance.now();

for (let i = 0; i < n; i++) {
  const opt = tg
    .newTaskOptions()
    .setTask('randomDelay', { min: 5, max: 50 })
    .setOnSuccess((ms) => {
      sleptMs += ms as number;
      done++;
      progress.update(done, failed, reloads);
    })
    .setOnError((handle, group) => {
      reloads++;
      void handle.errReload(3, (err, ms) => {
        if (err !== null) {
          failed++;
          group.done(); // a failure is not auto-done: the handler owns it
        } else {
          sleptMs += ms as number;
          done++;
        }
        progress.update(done, failed, reloads);
      });
    })
    .setAutoDone()
    .setAddTimeout(1000)
    .setOnAddTimeout(() => {
      addTimeouts++;
    });
  await dp.addTask(opt).catch(() => {}); // an add timeout is counted above and auto-done
}

await tg.wait();
const elapsed = performance.now() - started;
progress.finish(done, failed, reloads);
console.log('');
await dp.printUsage();
console.log('');
console.log(
  `elapsed ${(elapsed / 1000).toFixed(2)} s; ideal (total sleep / 5 workers) ${(sleptMs / 5 / 1000).toFixed(2)} s; ` +
    `overhead ${(((elapsed - sleptMs / 5) / (sleptMs / 5)) * 100).toFixed(1)} %; errReloads ${reloads}; add timeouts ${addTimeouts}`,
);
await dp.close();
await Promise.all(
  workers.map(
    (w) =>
      new Promise((resolve) => {
        w.once('exit', resolve);
        w.send('close');
      }),
  ),
);
await redis.stop();
