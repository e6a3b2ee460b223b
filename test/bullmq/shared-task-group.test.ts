// A task group shared across producers (dp.taskGroup(id)): its count in Redis, add/done/wait from any
// process, auto-done of tasks counted once, waits that settle.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DistributedPool, SharedTaskGroup } from '../../src/bullmq/index.js';
import { AbortError, PoolClosedError, TaskGroupError } from '../../src/index.js';
import { distributedSuite, redisAvailable, scanKeys, withPool } from '../fixtures/redis-server.js';

const available = redisAvailable();

describe('shared task groups', { skip: !available }, () => {
  const pool = 'shared';
  const env = distributedSuite({ pools: pool });

  test('a group made in one producer is counted down by the tasks of another; a third waits for it', async () => {
    const a = new DistributedPool({ pool, connection: env.redis.url, workers: 4 });
    const b = new DistributedPool({ pool, connection: env.redis.url, workers: 4 });
    const c = new DistributedPool({ pool, connection: env.redis.url, workers: 4 });
    try {
      const group = a.taskGroup('batch-1');
      assert.ok(group instanceof SharedTaskGroup);
      assert.equal(a.taskGroup('batch-1'), group, 'one object per id and pool');
      assert.equal(await group.add(20), 20);
      let waited = false;
      const waiting = c
        .taskGroup('batch-1')
        .wait({ timeout: 20_000 })
        .then(() => (waited = true));
      const results: number[] = [];
      const bg = b.taskGroup('batch-1');
      assert.equal(await bg.count(), 20);
      for (let i = 0; i < 20; i++) {
        await b.addTask(
          bg
            .newTaskOptions()
            .setTask('add', { a: i, b: 1 })
            .setOnSuccess((r) => void results.push(r as number))
            .setAutoDone(),
        );
      }
      await waiting;
      assert.equal(waited, true);
      assert.equal(results.length, 20);
      assert.equal(await group.count(), 0);
      // At zero the key is gone: nothing left behind.
      assert.deepEqual(await scanKeys(env.client, `bull:${pool}:lp:group:*`), []);
    } finally {
      await Promise.all([a.close(), b.close(), c.close()]);
    }
  });

  test('add/done past zero is refused with a TaskGroupError and changes nothing; wait() times out, aborts, or is rejected by close', async () => {
    const dp = new DistributedPool({ pool, connection: env.redis.url, workers: 2 });
    const group = dp.taskGroup('refusals');
    await assert.rejects(group.done(), (e: unknown) => e instanceof TaskGroupError && /below zero \(it is 0\)/.test((e as Error).message));
    assert.equal(await group.add(2), 2);
    await assert.rejects(group.add(-3), TaskGroupError);
    assert.equal(await group.count(), 2);
    await assert.rejects(group.wait({ timeout: 50 }), (e: unknown) => e instanceof TaskGroupError && /timed out after 50 ms/.test((e as Error).message));
    const ac = new AbortController();
    const aborted = group.wait({ signal: ac.signal });
    ac.abort();
    await assert.rejects(aborted, AbortError);
    await assert.rejects(group.wait({ signal: ac.signal }), AbortError);
    const pending = assert.rejects(group.wait(), PoolClosedError);
    await dp.close();
    await pending;
    // Another producer finishes it.
    const other = new DistributedPool({ pool, connection: env.redis.url, workers: 2 });
    try {
      const g = other.taskGroup('refusals');
      assert.equal(await g.done(), 1);
      assert.equal(await g.done(), 0);
      await g.wait({ timeout: 5_000 });
    } finally {
      await other.close();
    }
  });

  test('an auto-done that would go below zero is reported, not thrown', async () => {
    const seen: string[] = [];
    await withPool({ pool, connection: env.redis.url, workers: 2, onCallbackError: (err, info) => seen.push(`${info.callback}: ${err.name}`) }, async (dp) => {
      const group = dp.taskGroup('over');
      await dp.addTask(group.newTaskOptions().setTask('add', { a: 1, b: 1 }).setAutoDone());
      await dp.onIdle();
      const deadline = Date.now() + 5_000;
      while (seen.length === 0 && Date.now() < deadline) await new Promise((r) => setImmediate(r));
      assert.deepEqual(seen, ['autoDone: TaskGroupError']);
    });
  });
});
