// Errors keep their identity across processes (API.md 4.2): a handler's error arrives with its name, message,
// code, cause chain (as data) and remote stack; litepool's own classes arrive as themselves; a thrown
// non-Error is wrapped as in-process; an unknown handler is not retried.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { UnknownHandlerError } from '../../src/bullmq/index.js';
import { AbortError, AddTimeoutError, LitePoolError, PoolClosedError, TaskFailedError, TaskGroupError, TaskTimeoutError } from '../../src/index.js';
import { rejection } from '../helpers.js';
import { distributedSuite, redisAvailable, withPool } from '../fixtures/redis-server.js';

const available = redisAvailable();

const POOLS = { chain: 'err-chain', own: 'err-own', callbacks: 'err-callbacks' } as const;

type Err = Error & { code?: string; timeout?: number };

/** The causes of `err`, outermost first. */
function chain(err: unknown): unknown[] {
  const out: unknown[] = [];
  for (let e = err; e !== undefined && out.length < 20; e = e instanceof Error ? e.cause : undefined) out.push(e);
  return out;
}

describe('errors across processes', { skip: !available }, () => {
  const env = distributedSuite({ pools: Object.values(POOLS) });

  test('a cause chain of several levels arrives whole: name, message, code and the remote stack at each level', async () => {
    await withPool({ pool: POOLS.chain, connection: env.redis.url, workers: 2 }, async (dp) => {
      const err = await rejection(dp.run('throwChain', { depth: 4 }));
      const levels = chain(err) as Err[];
      assert.deepEqual(
        levels.map((e) => [e instanceof Error, e.name, e.message, e.code]),
        [
          [true, 'Error', 'level 0', 'E0'],
          [true, 'SyntaxError', 'level 1', 'E1'],
          [true, 'Error', 'level 2', 'E2'],
          [true, 'SyntaxError', 'level 3', 'E3'],
        ],
      );
      for (const e of levels) {
        assert.match(e.stack ?? '', /bullmq-worker\.ts/, 'the stack is the one thrown on the worker');
        assert.ok((e.stack ?? '').includes(e.message));
      }
      assert.ok(!(err.stack ?? '').includes('errors.test.ts'), 'not a stack made on the producer');
    });
  });

  test('a non-Error cause at the end of a chain arrives as data; a thrown non-Error arrives as TaskFailedError', async () => {
    await withPool({ pool: POOLS.chain, connection: env.redis.url, workers: 2 }, async (dp) => {
      const err = await rejection(dp.run('throwChain', { depth: 2, last: { status: 503, body: ['busy'] } }));
      const levels = chain(err);
      assert.equal(levels.length, 3);
      assert.deepEqual(levels[2], { status: 503, body: ['busy'] });
      const str = await rejection(dp.run('throwString', { value: 'plain' }));
      assert.ok(str instanceof TaskFailedError);
      assert.equal(str.cause, 'plain');
      assert.match(str.message, /non-Error value: "plain"/);
    });
  });

  test("litepool's own classes thrown by a handler arrive as themselves, with their code and timeout", async () => {
    await withPool({ pool: POOLS.own, connection: env.redis.url, workers: 2 }, async (dp) => {
      const closed = (await rejection(dp.run('throwOwn', { kind: 'PoolClosedError' }))) as Err;
      assert.ok(closed instanceof PoolClosedError && closed instanceof LitePoolError);
      assert.equal(closed.message, 'closed on the worker');
      assert.equal(closed.code, 'ERR_POOL_CLOSED');
      const aborted = (await rejection(dp.run('throwOwn', { kind: 'AbortError' }))) as Err;
      assert.ok(aborted instanceof AbortError);
      assert.equal(aborted.name, 'AbortError');
      assert.equal(aborted.cause, 'why');
      const timeout = (await rejection(dp.run('throwOwn', { kind: 'TaskTimeoutError', timeout: 77 }))) as Err;
      assert.ok(timeout instanceof TaskTimeoutError);
      assert.equal(timeout.timeout, 77);
      assert.equal(timeout.message, 'the task attempt timed out after 77 ms');
      const addTimeout = (await rejection(dp.run('throwOwn', { kind: 'AddTimeoutError', timeout: 12 }))) as Err;
      assert.ok(addTimeout instanceof AddTimeoutError);
      assert.equal(addTimeout.timeout, 12);
      assert.ok((await rejection(dp.run('throwOwn', { kind: 'TaskGroupError' }))) instanceof TaskGroupError);
      for (const err of [closed, aborted, timeout, addTimeout]) assert.match(err.stack ?? '', /bullmq-worker\.ts/);
    });
  });

  test('an unknown handler fails with UnknownHandlerError at once, never retried', async () => {
    await withPool({ pool: POOLS.own, connection: env.redis.url, workers: 2 }, async (dp) => {
      let retries = 0;
      const err = await rejection(dp.run('noSuchHandler', { x: 1 }, { retry: { retries: 3, minDelay: 1, onRetry: () => retries++ } }));
      assert.ok(err instanceof UnknownHandlerError, `${err.name}: ${err.message}`);
      assert.equal((err as Err).code, 'ERR_UNKNOWN_HANDLER');
      assert.match(err.message, /no handler named "noSuchHandler" on worker w[12] \(registered: .*throwChain.*\); register it in serve\(\{ handlers \}\)/);
      assert.equal(retries, 0);
    });
  });

  test("onError, the 'failed' event and errReload's after() see the same rebuilt error", async () => {
    await withPool({ pool: POOLS.callbacks, connection: env.redis.url, workers: 2 }, async (dp) => {
      const failed: Error[] = [];
      dp.on('failed', (err) => failed.push(err));
      const seen: Err[] = [];
      const tg = dp.newTaskGroup(1);
      await dp.addTask(
        tg
          .newTaskOptions()
          .setTask('fail', { message: 'bad input', code: 'EBAD', cause: 'inner' })
          .setOnError((handle, group, err) => {
            seen.push(err as Err);
            return handle.errReload(1, (last) => {
              seen.push(last as Err);
              group.done();
            });
          }),
      );
      await tg.wait();
      assert.equal(seen.length, 2);
      for (const err of seen) {
        assert.equal(err.name, 'RangeError');
        assert.equal(err.message, 'bad input');
        assert.equal(err.code, 'EBAD');
        assert.equal((err.cause as Error).name, 'TypeError');
        assert.equal((err.cause as Error).message, 'inner');
      }
      assert.equal(failed.length, 1);
      assert.equal(failed[0]?.message, 'bad input');
    });
  });
});
