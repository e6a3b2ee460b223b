/**
 * `litepool/bullmq`: the same pool across processes and machines, on BullMQ and Redis. Producers use a
 * {@link DistributedPool}; worker processes run the handlers with {@link serve}. `bullmq` and `ioredis` are
 * optional peer dependencies: install them to use this entry.
 *
 * @module litepool/bullmq
 */
export { DistributedPool } from './distributed-pool.js';
export type { RemoteMapOptions, RemoteMapIterableOptions } from './distributed-pool.js';
export type { DistributedPoolOptions, RemoteRunOptions } from './options.js';
export { RemoteTaskOptions, RemoteTaskGroup } from './remote-task-options.js';
export { SharedTaskGroup } from './shared-group.js';
export type { RemoteRetryPolicy } from './remote-retry.js';
export { serve, Server } from './serve.js';
export type { ServeOptions, Handler, RemoteContext } from './serve.js';
export type { RetryPredicate } from './remote-retry.js';
export type { Connection } from './connection.js';
export type { DistributedUsage, RemoteWorkerUsage, Heartbeat } from './remote-usage.js';
export { TaskLostError, UnknownHandlerError, WorkerLostError } from './errors.js';
