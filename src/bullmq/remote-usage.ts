/**
 * Usage across machines: each worker process writes its slots' figures to Redis on every heartbeat; a
 * producer reads them all. A process whose heartbeat is older than three intervals is `gone` (its key
 * expires after ten, and it leaves the list).
 * @module
 */
import type { Redis } from 'ioredis';
import type { PoolUsage } from '../usage.js';
import type { Keys } from './keys.js';

/** One worker slot of one worker process. */
export interface RemoteWorkerUsage {
  /** `host:pid:slot` (or `name:slot` with `serve({ name })`). */
  readonly id: string;
  /** `idle`, `busy`, or `gone` (its process stopped heartbeating). */
  readonly state: 'idle' | 'busy' | 'gone';
  /** Attempts run, retries included. */
  readonly executed: number;
  /** Attempts that failed. */
  readonly failed: number;
  /** Time the slot was occupied by attempts, in ms. */
  readonly busyMs: number;
}

/**
 * A distributed pool's figures: a row per worker slot of every worker process; `running`, `waiting` and
 * `backoff` as BullMQ counts them for the whole pool; `limit` is the pool's `workers`; `blocked`, the task
 * counts, `keys` and `latency` as this producer saw them (`latency.run` is a task's whole time in BullMQ,
 * queued in Redis and running on a worker, retries included).
 */
export interface DistributedUsage extends Omit<PoolUsage, 'workers'> {
  /** One row per worker slot of every worker process that Redis knows of, sorted by id. */
  readonly workers: readonly RemoteWorkerUsage[];
}

/** A worker process's figures as it publishes them: time, interval, and per slot `[executed, failed, busyMs, busy]`. */
export interface Heartbeat {
  /** When they were taken (ms since the epoch). */
  at: number;
  /** The process's heartbeat interval, ms. */
  every: number;
  /** Per slot: attempts run, attempts failed, busy ms, busy now (1) or not (0). */
  slots: [number, number, number, 0 | 1][];
}

/** Every worker slot that Redis knows of, sorted by id. */
export async function readWorkers(redis: Redis, keys: Keys, now = Date.now()): Promise<RemoteWorkerUsage[]> {
  const ids = (await redis.smembers(keys.workers)).sort();
  if (ids.length === 0) return [];
  const beats = await redis.mget(ids.map((id) => keys.worker(id)));
  const rows: RemoteWorkerUsage[] = [];
  const expired: string[] = [];
  ids.forEach((id, i) => {
    const text = beats[i];
    if (text === null || text === undefined) {
      expired.push(id);
      return;
    }
    const beat = JSON.parse(text) as Heartbeat;
    const gone = now - beat.at > 3 * beat.every;
    beat.slots.forEach(([executed, failed, busyMs, busy], slot) => {
      rows.push({ id: `${id}:${slot}`, state: gone ? 'gone' : busy === 1 ? 'busy' : 'idle', executed, failed, busyMs });
    });
  });
  if (expired.length > 0) await redis.srem(keys.workers, ...expired);
  return rows;
}
