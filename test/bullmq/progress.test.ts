// Progress across processes (API.md 6): ctx.progress(value) in a handler reaches the producer's onProgress
// (run options, setOnProgress), every value in order and before the task settles; a value that is not JSON
// is refused on the worker.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { distributedSuite, redisAvailable, withPool } from '../fixtures/redis-server.js';

const available = redisAvailable();
const POOL = 'progress-remote';

describe('progress across processes', { skip: !available }, () => {
  const env = distributedSuite({ pools: POOL, workers: ['w1'] });

  test('run(name, input, { onProgress }) and setOnProgress: every report in order, before the result', async () => {
    await withPool({ pool: POOL, connection: env.redis.url, workers: 2 }, async (dp) => {
      const seen: unknown[] = [];
      const n = await dp.run<number>('steps', { n: 5 }, { onProgress: (v) => seen.push(v) });
      seen.push(`result:${n}`);
      assert.deepEqual(seen, [{ step: 1 }, { step: 2 }, { step: 3 }, { step: 4 }, { step: 5 }, 'result:5']);

      const go: unknown[] = [];
      const tg = dp.newTaskGroup(1);
      await dp.addTask(tg.newTaskOptions().setTask('steps', { n: 2 }).setOnProgress((v) => go.push(v)).setAutoDone());
      await tg.wait();
      assert.deepEqual(go, [{ step: 1 }, { step: 2 }]);

      await assert.rejects(dp.run('steps', { n: 1, bad: true }), /ctx\.progress\(value\): value cannot be sent/);
    });
  });
});
