// Distributed under faults (#13), for real: worker processes killed with SIGKILL, redis-server stopped and
// restarted, a producer process killed. What the producer sees: each task settles once, nothing waits
// forever, capacity comes back.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import type { Redis } from 'ioredis';
import { DistributedPool, TaskLostError, WorkerLostError } from '../../src/bullmq/index.js';
import { AddTimeoutError } from '../../src/index.js';
import { captureWarnings } from '../helpers.js';
import { leasesHeld, redisAvailable, RedisServer, waitFor, within, WorkerProcess } from '../fixtures/redis-server.js';

const available = redisAvailable();

/** The worker process that started `taskId` last (the fixture logs `taskId|worker` in `<key>:on`). */
async function startedOn(client: Redis, key: string): Promise<string[]> {
  return (await client.lrange(`${key}:on`, 0, -1)).map((entry) => entry.split('|')[1] as string);
}

describe('a worker process killed mid-task (default locks)', { skip: !available }, () => {
  let redis: RedisServer;
  let client: Redis;
  const pool = 'crash';

  before(async () => {
    redis = await RedisServer.start();
    client = redis.client();
  });
  after(async () => {
    client.disconnect();
    await redis.stop();
  });

  test('its task runs again on another worker within 10 s; the producer settles it once, with the same task id', async () => {
    const workers = await Promise.all([WorkerProcess.start(redis.url, pool, 'w1', { concurrency: 1 }), WorkerProcess.start(redis.url, pool, 'w2', { concurrency: 1 })]);
    const dp = new DistributedPool({ pool, connection: redis.url, workers: 2 });
    const key = `test:${pool}:kill`;
    try {
      let settled = 0;
      const result = dp.run('hold', { key }).finally(() => settled++);
      const first = await waitFor(async () => (await startedOn(client, key))[0], 10_000, 'the task to start');
      const victim = workers.find((w) => w.name === first) as WorkerProcess;
      const killedAt = Date.now();
      await victim.kill();
      const second = await waitFor(async () => (await startedOn(client, key))[1], 20_000, 'the task to run again');
      const recovery = Date.now() - killedAt;
      assert.notEqual(second, first, 'it ran again on the other worker');
      // Locks of 6 s, looked for every 3 s: about 9 s at worst; a loaded machine may add a little.
      assert.ok(recovery < 12_000, `ran again ${recovery} ms after the kill`);
      process.stdout.write(`# recovery after SIGKILL: ${recovery} ms\n`);
      await client.set(`${key}:open`, '1');
      const [id1, id2] = await client.lrange(`${key}:started`, 0, -1);
      assert.equal(id1, id2, 'the same task id on both runs');
      assert.equal(await result, id1);
      assert.equal(settled, 1);
      assert.equal((await dp.usage()).completed, 1);
    } finally {
      await dp.close();
      await Promise.all(workers.map((w) => w.close()));
    }
  });

  test('a handler that blocks its event loop for 2 s is not taken for dead: each task runs once', async () => {
    const workers = await Promise.all([WorkerProcess.start(redis.url, pool, 'b1', { concurrency: 1 }), WorkerProcess.start(redis.url, pool, 'b2', { concurrency: 1 })]);
    const dp = new DistributedPool({ pool, connection: redis.url, workers: 2 });
    const key = `test:${pool}:block`;
    try {
      // Four blocks of 2 s on two processes: each process's lock renewal is late by up to 2 s, twice.
      const ids = await Promise.all([1, 2, 3, 4].map(() => dp.run<string>('block', { ms: 2000, key })));
      const started = await client.lrange(`${key}:started`, 0, -1);
      assert.equal(started.length, 4, `runs: ${started.join(', ')}`);
      assert.deepEqual([...started].sort(), [...ids].sort());
    } finally {
      await dp.close();
      await Promise.all(workers.map((w) => w.close()));
    }
  });
});

describe('a task whose workers keep dying (short locks)', { skip: !available }, () => {
  let redis: RedisServer;
  let client: Redis;
  const pool = 'stalls';
  const short = { concurrency: 1, lockDuration: 1000, stalledInterval: 300 };

  before(async () => {
    redis = await RedisServer.start();
    client = redis.client();
  });
  after(async () => {
    client.disconnect();
    await redis.stop();
  });

  /** Runs `hold` on one of three workers, killing the worker that holds it `kills` times. */
  async function killRepeatedly(key: string, kills: number, retry: number | undefined): Promise<unknown> {
    const workers = await Promise.all(['s1', 's2', 's3'].map((n) => WorkerProcess.start(redis.url, pool, `${key.slice(-2)}${n}`, short)));
    const dp = new DistributedPool({ pool, connection: redis.url, workers: 3 });
    try {
      const outcome = dp.run('hold', { key }, retry === undefined ? undefined : { retry: { retries: retry, minDelay: 1 } }).then(
        (v) => v,
        (e: unknown) => e,
      );
      for (let k = 0; k < kills; k++) {
        const holder = await waitFor(async () => (await startedOn(client, key))[k], 15_000, `start ${k + 1}`);
        await (workers.find((w) => w.name === holder) as WorkerProcess).kill();
      }
      // After the last kill: the task either runs once more (then the gate opens it) or fails without running.
      const done = outcome.then((v) => v);
      await Promise.race([done, waitFor(async () => (await startedOn(client, key)).length > kills, 15_000, 'a run after the kills')]);
      await client.set(`${key}:open`, '1');
      return await within(done, 15_000, 'the task to settle');
    } finally {
      await dp.close();
      await Promise.all(workers.map((w) => w.close()));
    }
  }

  test('without a retry policy, the first crash is re-run for free and the second fails with WorkerLostError', async () => {
    const key = `test:${pool}:x0`;
    const err = await killRepeatedly(key, 2, undefined);
    assert.ok(err instanceof WorkerLostError, String(err));
    assert.equal((err as WorkerLostError).stalls, 2);
    assert.match((err as Error).message, /died 2 times/);
    assert.equal(await client.llen(`${key}:started`), 2, 'it did not run a third time');
  });

  test('with retries: 2, two crashes are retried under the policy and the third run succeeds', async () => {
    const key = `test:${pool}:x2`;
    const taskId = await killRepeatedly(key, 2, 2);
    assert.equal(typeof taskId, 'string');
    const started = await client.lrange(`${key}:started`, 0, -1);
    assert.equal(started.length, 3);
    assert.equal(new Set(started).size, 1, 'one task id across the three runs');
  });
});

describe('Redis restarts and outages', { skip: !available }, () => {
  let redis: RedisServer;
  let workers: WorkerProcess[];
  const pool = 'outage';

  before(async () => {
    redis = await RedisServer.start();
    workers = await Promise.all([WorkerProcess.start(redis.url, pool, 'o1', { concurrency: 2 }), WorkerProcess.start(redis.url, pool, 'o2', { concurrency: 2 })]);
  });
  after(async () => {
    await Promise.all(workers.map((w) => w.close()));
    await redis.stop();
  });

  test('Redis restarted without persistence: every pending task fails with TaskLostError, groups settle, both sides reconnect', async () => {
    const dp = new DistributedPool({ pool, connection: redis.url, workers: 2, queueSize: 2 });
    const key = `test:${pool}:lost`;
    try {
      const tg = dp.newTaskGroup(6);
      const outcomes: Promise<unknown>[] = [];
      for (let i = 0; i < 6; i++) {
        outcomes.push(
          new Promise((resolve) => {
            void dp.addTask(
              tg
                .newTaskOptions()
                .setTask('hold', { key })
                .setOnSuccess(resolve)
                .setOnError((_h, g, err) => {
                  resolve(err);
                  g.done();
                }),
            );
          }),
        );
      }
      const client = redis.client();
      await waitFor(async () => (await client.llen(`${key}:started`)) === 2, 10_000, 'two tasks running, four waiting');
      client.disconnect();
      const warnings = await captureWarnings(async () => {
        await redis.down('SIGKILL');
        await redis.up();
        const settled = await within(Promise.all(outcomes), 20_000, 'the tasks of the lost jobs');
        assert.ok(settled.every((e) => e instanceof TaskLostError), settled.map(String).join(', '));
        await within(tg.wait(), 5_000, 'the group wait');
        // Reconnected: a new task runs.
        assert.equal(await within(dp.run('add', { a: 2, b: 3 }), 10_000, 'a task after the restart'), 5);
      });
      assert.ok(warnings.every((w) => (w as Error & { code?: string }).code === 'LITEPOOL_REDIS'), warnings.map((w) => w.message).join('; '));
      const after = redis.client();
      await after.set(`${key}:open`, '1'); // lets the handlers still holding their (lost) jobs go
      after.disconnect();
    } finally {
      await dp.close();
    }
  });

  test('with Redis unreachable, an add timeout refuses and the task never runs later; run() waits and completes once Redis is back', async () => {
    const dp = new DistributedPool({ pool, connection: redis.url, workers: 2 });
    const client = redis.client();
    try {
      await dp.ready();
      await waitFor(async () => (await leasesHeld(client, pool)) === 0, 5_000, 'no lease held');
      const warnings = await captureWarnings(async () => {
        await redis.down();
        const refused = dp.addTask(dp.newTaskOptions().setTask('count', { id: 'outage-1' }).setAddTimeout(300));
        await assert.rejects(refused, AddTimeoutError);
        const waiting = dp.run('add', { a: 1, b: 1 });
        await redis.up();
        assert.equal(await within(waiting, 15_000, 'run() across the outage'), 2);
      });
      assert.ok(warnings.length > 0 && warnings.every((w) => (w as Error & { code?: string }).code === 'LITEPOOL_REDIS'));
      // Had the refused task been replayed, it would have run by now: run() went after it.
      assert.equal(await client.get('test:count:outage-1'), null);
    } finally {
      client.disconnect();
      await dp.close();
    }
  });
});

describe('a producer that dies', { skip: !available }, () => {
  test('its leases come back once its jobs have ended: another producer gets the whole capacity', async () => {
    const redis = await RedisServer.start();
    const pool = 'orphan';
    const workers = await Promise.all([WorkerProcess.start(redis.url, pool, 'p1', { concurrency: 1 }), WorkerProcess.start(redis.url, pool, 'p2', { concurrency: 1 })]);
    const client = redis.client();
    const key = `test:${pool}:held`;
    const child = spawn(process.execPath, ['--import', 'tsx', new URL('../fixtures/bullmq-producer.ts', import.meta.url).pathname], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env: { ...process.env, LP_URL: redis.url, LP_POOL: pool, LP_WORKERS: '2', LP_QUEUE_SIZE: '0', LP_KEY: key, LP_TASKS: '2' },
    });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    const dp = new DistributedPool({ pool, connection: redis.url, workers: 2, queueSize: 0 });
    try {
      await new Promise((resolve) => child.once('message', resolve));
      await waitFor(async () => (await client.llen(`${key}:started`)) === 2, 10_000, 'the dead-to-be producer fills the pool');
      child.kill('SIGKILL');
      await exited;
      // The pool is full of the dead producer's tasks: this one waits for room.
      const waiting = dp.run('add', { a: 20, b: 22 });
      assert.equal(await leasesHeld(client, pool), 2);
      await client.set(`${key}:open`, '1'); // its jobs end (their outcomes go nowhere)
      assert.equal(await within(waiting, 30_000, 'a task of the live producer'), 42);
      const [x, y] = await Promise.all([dp.run('add', { a: 1, b: 1 }), dp.run('add', { a: 2, b: 2 })]);
      assert.deepEqual([x, y], [2, 4], 'the whole capacity is this producer’s');
      await waitFor(async () => Object.keys(await client.hgetall(`bull:${pool}:lp:leases`)).length <= 1, 10_000, 'the dead producer to leave');
    } finally {
      client.disconnect();
      await dp.close();
      await Promise.all(workers.map((w) => w.close()));
      await redis.stop();
    }
  });
});
