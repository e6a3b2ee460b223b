/**
 * OpenTelemetry for litepool's pools: turns the trace points (`litepool:task`, `litepool:retry`,
 * `litepool:settled` on `diagnostics_channel`) into spans and metrics. Works for every pool in the process
 * (`LitePool`, `ThreadPool`, `DistributedPool`), told apart by their `name`.
 * @module
 */
import { channel, tracingChannel } from 'node:diagnostics_channel';
import { context, SpanStatusCode, trace, type Attributes, type Histogram, type Meter, type Span, type Tracer } from '@opentelemetry/api';
import type { AttemptTrace, RetryTrace, SettledTrace } from '../engine/tracing.js';
import type { TaskPool } from '../task-pool.js';

/** A pool whose running and waiting counts are observed as gauges. */
export interface ObservedPool {
  /** The value of the gauges' `litepool.pool` attribute (the pool's `name`, as a rule). */
  readonly name: string;
  /** The pool: a `LitePool` or a `ThreadPool` (anything with `running` and `size`). */
  readonly pool: Pick<TaskPool, 'running' | 'size'>;
}

/** Options of {@link instrument}. */
export interface InstrumentOptions {
  /** Where spans go: a span per task (`litepool.task`) with a child span per attempt (`litepool.attempt`). */
  tracer?: Tracer;
  /**
   * Where metrics go: histograms `litepool.task.wait` and `litepool.task.run` (ms, per attempt), and, for
   * the `pools` given, gauges `litepool.tasks.running` and `litepool.tasks.waiting`.
   */
  meter?: Meter;
  /** Pools whose running and waiting counts are observed as gauges (attribute `litepool.pool`: their name). */
  pools?: readonly ObservedPool[];
}

interface Open {
  task: Span;
  attempt: Span | undefined;
}

function attributes(t: { pool: string | undefined; key: string | undefined }): Attributes {
  const out: Attributes = {};
  if (t.pool !== undefined) out['litepool.pool'] = t.pool;
  if (t.key !== undefined) out['litepool.key'] = t.key;
  return out;
}

function errorOf(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}

/**
 * Subscribes to litepool's trace points and reports them to OpenTelemetry. A task's span starts when its first
 * attempt starts (back-dated by its wait, which is also an attribute) and ends when the task settles; each
 * attempt is a child span (attempt number, worker, wait), an error sets its status, a retry is an event on the
 * task's span. Returns a function that unsubscribes.
 */
export function instrument(options: InstrumentOptions = {}): () => void {
  const { tracer, meter } = options;
  // Task ids are unique per pool: spans are found by pool, then id.
  const open = new Map<object, Map<string, Open>>();
  const pool = (source: object): Map<string, Open> => {
    let tasks = open.get(source);
    if (tasks === undefined) {
      tasks = new Map();
      open.set(source, tasks);
    }
    return tasks;
  };
  let wait: Histogram | undefined;
  let run: Histogram | undefined;
  const started = new WeakMap<AttemptTrace, number>();
  if (meter !== undefined) {
    wait = meter.createHistogram('litepool.task.wait', { unit: 'ms', description: 'How long a task waited for an attempt to start' });
    run = meter.createHistogram('litepool.task.run', { unit: 'ms', description: 'How long an attempt ran' });
    const pools = options.pools ?? [];
    if (pools.length > 0) {
      const running = meter.createObservableGauge('litepool.tasks.running', { description: 'Tasks holding a worker' });
      const waiting = meter.createObservableGauge('litepool.tasks.waiting', { description: 'Admitted tasks waiting for a worker' });
      running.addCallback((r) => {
        for (const p of pools) r.observe(p.pool.running, { 'litepool.pool': p.name });
      });
      waiting.addCallback((r) => {
        for (const p of pools) r.observe(p.pool.size, { 'litepool.pool': p.name });
      });
    }
  }

  const onStart = (m: unknown): void => {
    const t = m as AttemptTrace;
    const now = performance.now();
    started.set(t, now);
    wait?.record(t.waitMs, attributes(t));
    if (tracer === undefined) return;
    const tasks = pool(t.source);
    let entry = tasks.get(t.taskId);
    if (entry === undefined) {
      const task = tracer.startSpan('litepool.task', {
        startTime: performance.timeOrigin + now - t.waitMs,
        attributes: { ...attributes(t), 'litepool.task_id': t.taskId, 'litepool.wait_ms': t.waitMs },
      });
      entry = { task, attempt: undefined };
      tasks.set(t.taskId, entry);
    }
    entry.attempt = tracer.startSpan(
      'litepool.attempt',
      { attributes: { ...attributes(t), 'litepool.task_id': t.taskId, 'litepool.attempt': t.attempt, 'litepool.worker': t.workerId, 'litepool.wait_ms': t.waitMs } },
      trace.setSpan(context.active(), entry.task),
    );
  };
  const onEnd = (m: unknown): void => {
    const t = m as AttemptTrace;
    const begun = started.get(t);
    if (begun !== undefined) run?.record(performance.now() - begun, attributes(t));
    const entry = open.get(t.source)?.get(t.taskId);
    const span = entry?.attempt;
    if (entry === undefined || span === undefined) return;
    entry.attempt = undefined;
    if ('error' in t && t.error !== undefined) {
      span.recordException(errorOf(t.error));
      span.setStatus({ code: SpanStatusCode.ERROR, message: errorOf(t.error).message });
    }
    span.end();
  };
  // A synchronous attempt ends at `end`; an asynchronous one at `asyncEnd` (its `end` only closes the call).
  const onSyncEnd = (m: unknown): void => {
    if (!('result' in (m as object)) && !('error' in (m as object))) return;
    onEnd(m);
  };
  const onRetry = (m: unknown): void => {
    const r = m as RetryTrace;
    open.get(r.source)?.get(r.taskId)?.task.addEvent('litepool.retry', { 'litepool.attempt': r.attempt, 'litepool.delay_ms': r.delayMs, 'exception.message': r.error.message });
  };
  const onSettled = (m: unknown): void => {
    const s = m as SettledTrace;
    const tasks = open.get(s.source);
    const entry = tasks?.get(s.taskId);
    if (tasks === undefined || entry === undefined) return;
    tasks.delete(s.taskId);
    if (tasks.size === 0) open.delete(s.source);
    entry.task.setAttribute('litepool.attempts', s.attempts);
    if (!s.ok && s.error !== undefined) {
      entry.task.recordException(s.error);
      entry.task.setStatus({ code: SpanStatusCode.ERROR, message: s.error.message });
    }
    entry.task.end();
  };

  // Channels are found by name: the same objects the pools publish on, whichever copy of litepool made them.
  const task = tracingChannel('litepool:task');
  const retry = channel('litepool:retry');
  const settled = channel('litepool:settled');
  task.start.subscribe(onStart);
  task.end.subscribe(onSyncEnd);
  task.asyncEnd.subscribe(onEnd);
  retry.subscribe(onRetry);
  settled.subscribe(onSettled);
  return () => {
    task.start.unsubscribe(onStart);
    task.end.unsubscribe(onSyncEnd);
    task.asyncEnd.unsubscribe(onEnd);
    retry.unsubscribe(onRetry);
    settled.unsubscribe(onSettled);
    for (const tasks of open.values()) for (const entry of tasks.values()) entry.task.end();
    open.clear();
  };
}
