// litepool/otel (API.md 6): spans and metrics from the trace points, checked with the OpenTelemetry SDK's
// in-memory exporter and a manual metric reader: a span per task with a child span per attempt, the wait as
// an attribute, errors and retries on the spans; wait and run histograms; running and waiting gauges. On a
// LitePool and a ThreadPool (the distributed pool publishes on the same channels: test/bullmq/tracing.test.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SpanStatusCode } from '@opentelemetry/api';
import { AggregationTemporality, MeterProvider, MetricReader, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { LitePool } from '../../src/index.js';
import { instrument } from '../../src/otel/index.js';
import { ThreadPool } from '../../src/threads/index.js';
import { gate } from '../helpers.js';

class ManualReader extends MetricReader {
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

function tracing() {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  return { exporter, tracer: provider.getTracer('test') };
}

const idOf = (s: ReadableSpan) => s.spanContext().spanId;
const parentOf = (s: ReadableSpan) => s.parentSpanContext?.spanId;

test('a span per task, a child span per attempt; the wait, errors and retries on them', async () => {
  const { exporter, tracer } = tracing();
  const stop = instrument({ tracer });
  const lp = new LitePool({ workers: 1, name: 'api', keys: {} });
  try {
    const g = gate();
    const first = lp.run(() => g.promise, { key: 'a' });
    const second = lp.run(
      async (ctx) => {
        if (ctx.attempt === 1) throw new Error('flaky');
        return 'ok';
      },
      { retry: { retries: 1, minDelay: 1, maxDelay: 1, jitter: 'none' } },
    );
    const failed = assert.rejects(
      lp.run(() => {
        throw new Error('for good');
      }),
      /for good/,
    );
    await new Promise((resolve) => setTimeout(resolve, 20));
    g.open();
    await first;
    assert.equal(await second, 'ok');
    await failed;
  } finally {
    stop();
    await lp.close();
  }
  const spans = exporter.getFinishedSpans();
  const tasks = spans.filter((s) => s.name === 'litepool.task').sort((a, b) => Number(a.attributes['litepool.task_id']) - Number(b.attributes['litepool.task_id']));
  const attempts = spans.filter((s) => s.name === 'litepool.attempt');
  assert.deepEqual(
    tasks.map((s) => s.attributes['litepool.task_id']),
    ['1', '2', '3'],
  );
  assert.equal(attempts.length, 4, 'three tasks, one retried');
  for (const a of attempts) {
    const parent = tasks.find((t) => idOf(t) === parentOf(a));
    assert.ok(parent !== undefined, 'every attempt is a child of its task');
    assert.equal(parent.attributes['litepool.task_id'], a.attributes['litepool.task_id']);
    assert.equal(a.attributes['litepool.pool'], 'api');
  }
  const [t1, t2, t3] = tasks as [ReadableSpan, ReadableSpan, ReadableSpan];
  assert.equal(t1.attributes['litepool.key'], 'a');
  assert.ok((t2.attributes['litepool.wait_ms'] as number) >= 19, `task 2 waited ${t2.attributes['litepool.wait_ms']} ms behind task 1`);
  assert.deepEqual(
    t2.events.map((e) => [e.name, e.attributes?.['litepool.attempt']]),
    [['litepool.retry', 1]],
  );
  assert.equal(t2.attributes['litepool.attempts'], 2);
  assert.equal(t2.status.code, SpanStatusCode.UNSET);
  const failedAttempt = attempts.find((a) => a.attributes['litepool.task_id'] === '2' && a.attributes['litepool.attempt'] === 1) as ReadableSpan;
  assert.equal(failedAttempt.status.code, SpanStatusCode.ERROR);
  assert.equal(failedAttempt.status.message, 'flaky');
  assert.equal(t3.status.code, SpanStatusCode.ERROR);
  assert.equal(t3.status.message, 'for good');
});

test('metrics: wait and run histograms per attempt, running and waiting gauges of the pools given', async () => {
  const reader = new ManualReader({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE });
  const provider = new MeterProvider({ readers: [reader] });
  const lp = new LitePool({ workers: 1, name: 'db' });
  const stop = instrument({ meter: provider.getMeter('test'), pools: [{ name: 'db', pool: lp }] });
  const g = gate();
  const held = lp.run(() => g.promise);
  const queued = [lp.run(() => 1), lp.run(() => 2)];
  const during = (await reader.collect()).resourceMetrics;
  g.open();
  await Promise.all([held, ...queued]);
  const after = (await reader.collect()).resourceMetrics;
  stop();
  await lp.close();
  const find = (rm: ResourceMetrics, name: string) => rm.scopeMetrics.flatMap((s) => s.metrics).find((m) => m.descriptor.name === name);
  const gauge = (name: string) => (find(during, name)?.dataPoints[0]?.value as number | undefined);
  assert.equal(gauge('litepool.tasks.running'), 1);
  assert.equal(gauge('litepool.tasks.waiting'), 2);
  const count = (name: string) => (find(after, name)?.dataPoints[0]?.value as { count: number } | undefined)?.count;
  assert.equal(count('litepool.task.wait'), 3);
  assert.equal(count('litepool.task.run'), 3);
  assert.equal(find(after, 'litepool.task.run')?.dataPoints[0]?.attributes['litepool.pool'], 'db');
});

test('ThreadPool: attempts on threads become spans the same way', async () => {
  const { exporter, tracer } = tracing();
  const stop = instrument({ tracer });
  const tasks = new URL('../fixtures/thread-tasks.ts', import.meta.url);
  const tp = new ThreadPool({ maxThreads: 1, name: 'cpu' });
  try {
    assert.equal(await tp.run(tp.task<number>(tasks, 'double', 4)), 8);
  } finally {
    stop();
    await tp.close();
  }
  const spans = exporter.getFinishedSpans();
  assert.deepEqual(
    spans.map((s) => [s.name, s.attributes['litepool.pool']]),
    [
      ['litepool.attempt', 'cpu'],
      ['litepool.task', 'cpu'],
    ],
  );
});
