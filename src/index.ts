/**
 * A task pool for Node.js with the semantics of a Go goroutine pool: a fixed number of long-lived workers, a
 * bounded waiting room with backpressure, task groups, lifecycle callbacks, retries, timeouts, cancellation
 * and per-worker usage figures.
 *
 * Start with {@link LitePool} (or Go's {@link newPool}) for the promise API (`run`, `map`, `mapIterable`) and
 * the Go-style one (`newTaskGroup`, `newTaskOptions`, `addTask`), or {@link limit} as a drop-in for p-limit.
 * For CPU-bound tasks on worker threads, see `litepool/threads`. A pool is an `EventEmitter` of
 * {@link PoolEvents}: `lp.on('completed', (result) => …)`.
 *
 * @module litepool
 */
export { LitePool, newPool } from './pool.js';
export { TaskPool } from './task-pool.js';
export type { PoolEvents, CloseOptions, PoolState } from './task-pool.js';
export { TaskGroup } from './task-group.js';
export type { WaitOptions } from './task-group.js';
export { TaskOptions } from './task-options.js';
export type {
  TaskFunction,
  OnSuccessCallback,
  OnErrorCallback,
  OnCompleteCallback,
  OnAddTimeoutCallback,
  TaskExec,
  TaskOnSuccess,
  TaskOnError,
  TaskOnComplete,
} from './task-options.js';
export { ErrHandle } from './err-handle.js';
export type { ErrReloadAfter } from './err-handle.js';
export type { TaskContext } from './task-context.js';
export type { PoolOptions, CallbackErrorInfo, CallbackName, AdaptiveWorkers, KeyOptions } from './options.js';
export type { RunOptions } from './run-options.js';
export type { RetryPolicy, Jitter } from './retry.js';
export { formatUsage } from './usage.js';
export type { PoolUsage, WorkerUsage, WorkerState, UsageTable, UsageRow, RunningTask, KeyUsage, RateHeadroom, RateWindow, Latency, LatencyFigures } from './usage.js';
export type { PoolControl } from './engine/slot.js';
export type { AttemptTrace, AdmissionTrace, RetryTrace, SettledTrace } from './engine/tracing.js';
export {
  LitePoolError,
  PoolClosedError,
  AddTimeoutError,
  TaskTimeoutError,
  AbortError,
  TaskGroupError,
  TaskFailedError,
} from './errors.js';
export type { LitePoolErrorCode } from './errors.js';
export { limit, limitFunction } from './limit.js';
export type { LimitFunction, LimitOptions } from './limit.js';
export type { MapFunction, MapOptions, MapIterableOptions } from './map.js';
