// litepool/otel keyed open spans by pool name and task id; two pools without a name (or with the same one)
// have the same task ids, so one pool's attempt span was parented to the other's task span and never ended.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { LitePool } from '../../src/index.js';
import { instrument } from '../../src/otel/index.js';
import { gate } from '../helpers.js';

test('otel-spans-of-two-pools-crossed: each pool\'s task 1 gets its own span with its own attempt', async () => {
  const exporter = new InMemorySpanExporter();
  const tracer = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }).getTracer('t');
  const stop = instrument({ tracer });
  const a = new LitePool();
  const b = new LitePool();
  const ga = gate();
  const pa = a.run(() => ga.promise);
  await b.run(async () => 'b');
  ga.open();
  await pa;
  stop();
  await Promise.all([a.close(), b.close()]);
  const spans = exporter.getFinishedSpans();
  const tasks = spans.filter((s) => s.name === 'litepool.task');
  const attempts = spans.filter((s) => s.name === 'litepool.attempt');
  assert.equal(tasks.length, 2);
  assert.equal(attempts.length, 2);
  const parents = attempts.map((s) => s.parentSpanContext?.spanId).sort();
  assert.deepEqual(parents, tasks.map((s) => s.spanContext().spanId).sort(), 'one attempt under each task');
});
