/**
 * The same pool with its task functions on worker threads, for CPU-bound work. A {@link ThreadPool} has the API
 * of {@link litepool!LitePool | LitePool} (`run`, `map`, groups, callbacks, retries, usage, close and the events
 * of {@link litepool!PoolEvents | PoolEvents}); its tasks name a module and an exported function with a
 * structured-clonable input, and a timeout ends the thread running a runaway task.
 *
 * @module litepool/threads
 */
export { ThreadPool } from './thread-pool.js';
export type { ThreadPoolOptions, ThreadTaskOptions, ThreadTaskContext } from './thread-pool.js';
export type { TransferItem } from './transfer.js';
export type { ThreadUsage, Clock } from './thread-executor.js';
export type { ScalingOptions } from './scaling.js';
export { scaleDecision } from './scaling.js';
export type { ScaleInput, ResolvedScaling } from './scaling.js';
export { ThreadCrashError, ThreadTerminatedError } from './errors.js';
