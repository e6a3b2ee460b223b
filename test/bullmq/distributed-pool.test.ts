// The producer and the workers against a real redis-server of this file's own, with real worker processes.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { UnknownHandlerError } from '../../src/bullmq/index.js';
import { TaskFailedError, TaskTimeoutError } from '../../src/index.js';
import { distributedSuite, redisAvailable, withPool } from '../fixtures/redis-server.js';

const available = redisAvailable();

describe('DistributedPool with two worker processes', { skip: !available }, () => {
  const pool = 'basic';
  const env = distributedSuite({ pools: pool });

  test('run() returns the handler result; ctx has attempt, taskId and workerId; both processes take tasks', async () => {
    await withPool({ pool, connection: env.redis.url, workers: 4, queueSize: 4 }, async (dp) => {
      assert.equal(await dp.run('add', { a: 2, b: 3 }), 5);
      const seen = await dp.map<{ worker: string; attempt: number; taskId: string; workerId: string }>(
        Array.from({ length: 40 }, () => null),
        'whoami',
      );
      assert.equal(seen.length, 40);
      assert.ok(seen.every((s) => s.attempt === 1 && s.taskId.startsWith(`${dp.id}-`) && s.workerId.startsWith(`${s.worker}:`)));
      assert.equal(new Set(seen.map((s) => s.taskId)).size, 40);
      assert.deepEqual(new Set(seen.map((s) => s.worker)), new Set(['w1', 'w2']));
    });
  });

  test('errors keep name, message, code, cause chain and the remote stack; litepool errors arrive as themselves', async () => {
    await withPool({ pool, connection: env.redis.url, workers: 2 }, async (dp) => {
      const err = (await dp.run('fail', { message: 'bad range', code: 'EBAD', cause: 'inner' }).catch((e: unknown) => e)) as Error & { code?: string };
      assert.equal(err.name, 'RangeError');
      assert.equal(err.message, 'bad range');
      assert.equal(err.code, 'EBAD');
      assert.equal((err.cause as Error).name, 'TypeError');
      assert.equal((err.cause as Error).message, 'inner');
      assert.match(err.stack ?? '', /bullmq-worker\.ts/);
      const str = await dp.run('throwString', { value: 'plain' }).catch((e: unknown) => e);
      assert.ok(str instanceof TaskFailedError);
      assert.equal((str as Error).cause, 'plain');
      const own = await dp.run('timeoutError').catch((e: unknown) => e);
      assert.ok(own instanceof TaskTimeoutError);
      assert.equal((own as TaskTimeoutError).timeout, 5);
      const unknown = await dp.run('noSuchHandler', {}).catch((e: unknown) => e);
      assert.ok(unknown instanceof UnknownHandlerError);
      assert.match((unknown as Error).message, /no handler named "noSuchHandler" on worker w[12] \(registered: .*add/);
    });
  });
});
