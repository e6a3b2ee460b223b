export { ThreadPool } from './thread-pool.js';
export type { ThreadPoolOptions, ThreadTaskOptions } from './thread-pool.js';
export type { ThreadUsage, Clock } from './thread-executor.js';
export type { ScalingOptions } from './scaling.js';
export { scaleDecision } from './scaling.js';
export type { ScaleInput, ResolvedScaling } from './scaling.js';
export { ThreadCrashError, ThreadTerminatedError } from './errors.js';
