/**
 * The options of `litepool/bullmq`, one validator each, shared by the producer and the worker side; the
 * core's validators do the rest, so the messages read the same everywhere.
 * @module
 */
import type { KeyLimits } from '../engine/keys.js';
import type { RateWindow } from '../engine/rate-log.js';
import type { CallbackErrorInfo, KeyOptions } from '../options.js';
import { resolveKeys, validateFunction, validateInteger, validateKey, validateLimit, validateOptions, validatePriority, validateRate, validateSignal } from '../options.js';
import { validateConnection, type Connection } from './connection.js';
import * as messages from './messages.js';
import type { JobOptions } from './remote-job.js';
import { resolveRemoteRetry, toWireRetry, type RemoteRetryPolicy, type ResolvedRemoteRetry } from './remote-retry.js';

/** Options of a {@link DistributedPool}. */
export interface DistributedPoolOptions {
  /** The pool's name: its BullMQ queue. The same on producers and workers. */
  pool: string;
  /** Where Redis is: a URL, ioredis options (ACL user/password, TLS), or an ioredis instance. */
  connection: Connection;
  /**
   * Task functions running at once across all worker processes (BullMQ's global concurrency). An integer ≥ 1.
   * @default 1
   */
  workers?: number;
  /**
   * Waiting room per worker: at most `workers × (1 + queueSize)` tasks are admitted and not finished, across
   * all producers of the pool; beyond that `addTask()` and `run()` wait for room. An integer ≥ 0.
   * @default 10
   */
  queueSize?: number;
  /**
   * The key prefix (BullMQ's `prefix`). The same on producers and workers.
   * @default 'bull'
   */
  prefix?: string;
  /** Receives errors thrown by callbacks, as `PoolOptions.onCallbackError`. */
  onCallbackError?: (err: Error, info: CallbackErrorInfo) => void;
  /**
   * The pool-wide rate, held in Redis: at most `limit` attempt starts (on any worker, retries included) in any
   * span of `interval` ms, on Redis's clock. One setting per pool: the producer that sets it last wins; it
   * stays until `setRate([])`.
   */
  rate?: RateWindow | readonly RateWindow[];
  /**
   * Per-key limits of this producer's tasks (`key` option): how many of its tasks of one key are in flight
   * (admitted and not finished) at once, and their rate of submission. Per producer, not across producers.
   */
  keys?: KeyOptions;
}

/** Validated pool options. */
export interface ResolvedDistributedOptions {
  pool: string;
  connection: Connection;
  workers: number;
  queueSize: number;
  prefix: string;
  onCallbackError: ((err: Error, info: CallbackErrorInfo) => void) | undefined;
  rate: RateWindow[] | undefined;
  keys: KeyLimits | undefined;
}

/** Options of one remote task: as `RunOptions`, with `retryIf` a list of codes and names or a predicate's name. */
export interface RemoteRunOptions {
  /** Bounds each attempt on the worker, in ms: it fails with `TaskTimeoutError` and `ctx.signal` aborts. */
  timeout?: number;
  /** Cancels the task: removed if still waiting, `ctx.signal` aborted on the worker if running. */
  signal?: AbortSignal;
  /** A retry policy (run by BullMQ's attempts with litepool's backoff), or a number of retries. */
  retry?: RemoteRetryPolicy | number;
  /** Higher runs first among tasks with a priority (see the README: BullMQ runs tasks without one first). */
  priority?: number;
  /** The task's key: this producer's per-key limits (`keys` option) apply to it. */
  key?: string;
  /** Receives what the handler reports with `ctx.progress(value)`, in order, before the task settles. */
  onProgress?: (value: unknown) => void;
}

const POOL_KEYS = new Set(['pool', 'connection', 'workers', 'queueSize', 'prefix', 'onCallbackError', 'rate', 'keys']);
const RUN_KEYS = new Set(['timeout', 'signal', 'retry', 'priority', 'key', 'onProgress']);

/** Throws unless `value` is a usable pool name or prefix. */
export function validateName(where: string, value: unknown): string {
  if (typeof value !== 'string' || value === '' || value.includes(':')) throw new TypeError(messages.poolName(where, value));
  return value;
}

/** Validates a producer's options once. */
export function resolveDistributedOptions(options: DistributedPoolOptions): ResolvedDistributedOptions {
  const o = validateOptions('options', options, POOL_KEYS, 'a DistributedPool option');
  const queueSize = o.queueSize === undefined ? 10 : validateInteger('options.queueSize', o.queueSize, 0);
  return {
    pool: validateName('options.pool', o.pool),
    connection: validateConnection('options.connection', o.connection),
    workers: o.workers === undefined ? 1 : validateInteger('options.workers', o.workers, 1),
    queueSize,
    prefix: o.prefix === undefined ? 'bull' : validateName('options.prefix', o.prefix),
    onCallbackError: o.onCallbackError === undefined ? undefined : validateFunction('options.onCallbackError', o.onCallbackError),
    rate: o.rate === undefined ? undefined : validateRate('options.rate', o.rate),
    keys: o.keys === undefined ? undefined : resolveKeys('options.keys', o.keys),
  };
}

/** The job options of a resolved retry policy, a timeout and a priority. */
export function jobOptions(timeout: number, retry: ResolvedRemoteRetry | undefined, priority: number): JobOptions {
  return { timeout, retry: retry === undefined ? undefined : toWireRetry(retry), priority, onRetry: retry?.policy.onRetry };
}

/** Validates one remote task's options; `extra`: further keys the caller reads itself (`settle`, `ordered`). */
export function resolveRemoteRun(
  where: string,
  options: RemoteRunOptions | undefined,
  extra?: ReadonlySet<string>,
): { job: JobOptions; signal: AbortSignal | undefined; key: string | undefined; onProgress: ((value: unknown) => void) | undefined } {
  if (options === undefined) return { job: jobOptions(0, undefined, 0), signal: undefined, key: undefined, onProgress: undefined };
  validateOptions(where, options, RUN_KEYS, 'a task option', extra);
  const timeout = options.timeout === undefined ? 0 : validateLimit(`${where}.timeout`, options.timeout);
  const priority = options.priority === undefined ? 0 : validatePriority(`${where}.priority`, options.priority);
  const signal = options.signal === undefined ? undefined : validateSignal(`${where}.signal`, options.signal);
  const retry = options.retry === undefined ? undefined : resolveRemoteRetry(`${where}.retry`, options.retry);
  const key = options.key === undefined ? undefined : validateKey(`${where}.key`, options.key);
  const onProgress = options.onProgress === undefined ? undefined : validateFunction(`${where}.onProgress`, options.onProgress);
  return { job: jobOptions(timeout, retry, priority), signal, key, onProgress };
}

/** Throws unless `value` names a handler. */
export function validateHandler(where: string, value: unknown): string {
  if (typeof value !== 'string' || value === '') throw new TypeError(messages.handlerName(where, value));
  return value;
}
