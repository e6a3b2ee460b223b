// Trace points of a DistributedPool (API.md 6): the producer's engine publishes `litepool:task` around each
// remote task (its attempt is the job, with all of its BullMQ attempts) and `litepool:retry` for each retry
// a worker reports, with the pool's name.
import assert from 'node:assert/strict';
import { channel, tracingChannel } from 'node:diagnostics_channel';
import { describe, test } from 'node:test';
import { DistributedPool } from '../../src/bullmq/index.js';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { AttemptTrace, RetryTrace } from '../../src/index.js';
import { instrument } from '../../src/otel/index.js';
import { distributedSuite, redisAvailable } from '../fixtures/redis-server.js';

const available = redisAvailable();
const POOL = 'trace-remote';

describe('trace points of a distributed pool', { skip: !available }, () => {
  const env = distributedSuite({ pools: POOL, workers: ['w1'] });

  test('litepool:task around each remote task, litepool:retry for each retry a worker ran', async () => {
    const dp = new DistributedPool({ pool: POOL, connection: env.redis.url, workers: 2 });
    const events: string[] = [];
    const traces: AttemptTrace[] = [];
    const on = (kind: string) => (m: unknown) => {
      events.push(`${kind}:${(m as AttemptTrace).taskId}`);
      traces.push(m as AttemptTrace);
    };
    const handlers = { start: on('start'), end: on('end'), asyncStart: on('asyncStart'), asyncEnd: on('asyncEnd'), error: on('error') };
    const retries: RetryTrace[] = [];
    const onRetry = (m: unknown) => retries.push(m as RetryTrace);
    tracingChannel('litepool:task').subscribe(handlers);
    channel('litepool:retry').subscribe(onRetry);
    try {
      assert.equal(await dp.run('add', { a: 1, b: 2 }), 3);
      const flaky = await dp.run('flaky', { until: 3, code: 'EAGAIN' }, { retry: { retries: 3, minDelay: 1, maxDelay: 1, retryIf: ['EAGAIN'] } });
      assert.ok(flaky !== undefined);
    } finally {
      tracingChannel('litepool:task').unsubscribe(handlers);
      channel('litepool:retry').unsubscribe(onRetry);
      await dp.close();
    }
    const first = traces[0] as AttemptTrace;
    assert.equal(first.pool, POOL);
    assert.match(first.taskId, new RegExp(`^${dp.id}-\\d+$`), 'the same id the handler sees as ctx.taskId (distributed-task-ids-differed-between-producer-and-worker)');
    assert.equal(first.result, 3);
    const ids = [...new Set(traces.map((t) => t.taskId))];
    assert.equal(ids.length, 2);
    assert.deepEqual(
      events,
      ids.flatMap((id) => [`start:${id}`, `end:${id}`, `asyncStart:${id}`, `asyncEnd:${id}`]),
    );
    assert.deepEqual(
      retries.map((r) => [r.taskId, r.pool, r.attempt, (r.error as Error & { code?: string }).code]),
      [
        [ids[1], POOL, 1, 'EAGAIN'],
        [ids[1], POOL, 2, 'EAGAIN'],
      ],
    );
  });
  test('litepool/otel: a remote task becomes a task span with its attempt, named by the pool', async () => {
    const exporter = new InMemorySpanExporter();
    const tracer = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }).getTracer('t');
    const stop = instrument({ tracer });
    const dp = new DistributedPool({ pool: POOL, connection: env.redis.url, workers: 1 });
    try {
      const me = await dp.run<{ taskId: string }>('whoami', null);
      const spans = exporter.getFinishedSpans();
      assert.deepEqual(
        spans.map((s) => [s.name, s.attributes['litepool.pool'], s.attributes['litepool.task_id']]),
        [
          ['litepool.attempt', POOL, me.taskId],
          ['litepool.task', POOL, me.taskId],
        ],
        "the producer's spans carry the id the handler saw",
      );
    } finally {
      stop();
      await dp.close();
    }
  });
});
