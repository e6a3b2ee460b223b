/**
 * The pool's figures as plain data, and their rendering as an aligned table.
 * @module
 */
import type { KeyUsage } from './engine/keys.js';
import type { Latency, LatencyFigures } from './engine/latency.js';
import type { RateHeadroom } from './engine/rate-log.js';
import type { SlotState } from './engine/slot.js';

export type { KeyUsage } from './engine/keys.js';
export type { RateHeadroom, RateWindow } from './engine/rate-log.js';
export type { Latency, LatencyFigures } from './engine/latency.js';

/** What a worker is doing: `idle`, `busy`, or `retired` (removed by `resize()`; it keeps its figures). */
export type WorkerState = SlotState;

/** One worker's figures. `executed` and `failed` count attempts, retries included. */
export interface WorkerUsage {
  /** The worker's id, from 0. */
  readonly id: number;
  /** `idle`, `busy`, or `retired` (removed by `resize()`). */
  readonly state: WorkerState;
  /** Attempts run, retries included. */
  readonly executed: number;
  /** Attempts that failed. */
  readonly failed: number;
  /** Time the worker was occupied by tasks (attempts, callbacks and `errReload` retries), in ms. */
  readonly busyMs: number;
}

/** A snapshot of the pool, from `lp.usage()`. */
export interface PoolUsage {
  /** One entry per worker the pool has made, retired ones included. */
  readonly workers: readonly WorkerUsage[];
  /** The concurrency limit in force: the number of workers, found by the pool when it is adaptive. */
  readonly limit: number;
  /** Busy workers. */
  readonly running: number;
  /** Admitted tasks waiting for a worker. */
  readonly waiting: number;
  /** Callers of `addTask()`/`run()` waiting for room (not admitted yet). */
  readonly blocked: number;
  /** Tasks in a retry backoff delay (holding no worker). */
  readonly backoff: number;
  /** Tasks that finished successfully. */
  readonly completed: number;
  /** Tasks that finished with a failure. */
  readonly failed: number;
  /** Retries run (policy retries and `errReload` retries). */
  readonly retried: number;
  /** Tasks refused admission: add timeout, closed pool, aborted before admission, a gang refused by `resize()`. */
  readonly rejected: number;
  /** Errors thrown or rejected by callbacks. */
  readonly callbackErrors: number;
  /** With a rate: each window and the starts it allows now. */
  readonly rate?: readonly RateHeadroom[];
  /** With keys: each key with tasks running or waiting, by key. */
  readonly keys?: readonly KeyUsage[];
  /** Wait and run percentiles over the pool's `latencyWindow` (absent when it is 0). */
  readonly latency?: Latency;
}

/** A task that holds a worker now, from `lp.tasks()`. */
export interface RunningTask {
  /** The task's id (`ctx.taskId`). */
  readonly id: string;
  /** Its key, if it has one. */
  readonly key: string | undefined;
  /** Its attempt, from 1. */
  readonly attempt: number;
  /** When the attempt started, ms since the epoch (with a fraction). */
  readonly startedAt: number;
  /** The worker that runs it. */
  readonly worker: number;
}

/**
 * Aligns `rows` under `head`: numbers right-aligned, the columns listed in `leftAligned` left-aligned.
 * @internal
 */
export function formatTable(head: readonly string[], rows: readonly string[][], leftAligned: readonly number[] = []): string[] {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const line = (cells: readonly string[]) =>
    cells.map((c, i) => (leftAligned.includes(i) ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join('  ');
  return [line(head), ...rows.map(line)];
}

/** What {@link formatUsage} reads: a {@link PoolUsage}, or a distributed pool's, whose worker ids are strings. */
export interface UsageTable {
  /** One row per worker (a distributed pool's: per worker slot, with a `host:pid:slot` id). */
  readonly workers: readonly UsageRow[];
  /** Tasks that finished successfully. */
  readonly completed: number;
  /** Tasks that finished with a failure. */
  readonly failed: number;
  /** Retries run. */
  readonly retried: number;
  /** Tasks refused admission. */
  readonly rejected: number;
  /** Wait and run percentiles, printed under the balance line when present. */
  readonly latency?: Latency;
}

/** One row of {@link formatUsage}'s table. */
export interface UsageRow {
  /** The worker's id: a number in-process, `host:pid:slot` across machines. */
  readonly id: number | string;
  /** What the worker is doing (`idle`, `busy`, `retired`, `gone`). */
  readonly state: string;
  /** Attempts run. */
  readonly executed: number;
  /** Attempts that failed. */
  readonly failed: number;
  /** Time occupied, in ms. */
  readonly busyMs: number;
}

/** Renders a usage snapshot as lines: a header, one row per worker, then a balance line. */
export function formatUsage(usage: UsageTable): string[] {
  const head = ['worker', 'state', 'executed', 'failed', 'busy ms', 'share'];
  const total = usage.workers.reduce((s, w) => s + w.busyMs, 0);
  const rows = usage.workers.map((w) => [
    String(w.id),
    w.state,
    String(w.executed),
    String(w.failed),
    String(Math.round(w.busyMs)),
    total > 0 ? `${((100 * w.busyMs) / total).toFixed(1)}%` : '-',
  ]);
  const lines = formatTable(head, rows, [1]);
  const counted = usage.workers.filter((w) => w.state !== 'retired' || w.executed > 0);
  const mean = counted.length > 0 ? total / counted.length : 0;
  const max = counted.reduce((m, w) => Math.max(m, w.busyMs), 0);
  const ratio = mean > 0 ? (max / mean).toFixed(3) : '-';
  lines.push(
    `balance: busy max/mean ${ratio} (max ${Math.round(max)} ms, mean ${Math.round(mean)} ms); ` +
      `tasks completed ${usage.completed}, failed ${usage.failed}, retried ${usage.retried}, rejected ${usage.rejected}`,
  );
  const latency = usage.latency;
  if (latency !== undefined && (latency.wait.count > 0 || latency.run.count > 0)) {
    const ms = (x: number) => (x < 10 ? x.toFixed(2) : x < 100 ? x.toFixed(1) : Math.round(x).toString());
    const cells = (f: LatencyFigures) => [ms(f.p50), ms(f.p90), ms(f.p99), ms(f.max), String(f.count)];
    const table = formatTable(['last ' + `${Math.round(latency.window / 1000)} s`, 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'count'], [
      ['wait', ...cells(latency.wait)],
      ['run', ...cells(latency.run)],
    ], [0]);
    lines.push(...table);
  }
  return lines;
}
