/**
 * Redis connections: what a user may pass (a URL, ioredis options, or an ioredis instance) and the
 * connections the pool makes of it. An instance given is never closed by the pool; connections the pool
 * makes, it closes. Every connection the pool makes waits for Redis rather than failing a command
 * (`maxRetriesPerRequest: null`, as BullMQ requires for its workers).
 * @module
 */
import { Redis, type RedisOptions } from 'ioredis';
import * as messages from './messages.js';

/** A Redis URL (`redis://user:pass@host:6379/0`, `rediss://` for TLS), ioredis options, or an ioredis instance. */
export type Connection = string | RedisOptions | Redis;

/** Validates a connection option once; returns it. */
export function validateConnection(where: string, value: unknown): Connection {
  if (typeof value === 'string' && /^rediss?:\/\//.test(value)) return value;
  if (value instanceof Redis) return value;
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) return value as RedisOptions;
  throw new TypeError(messages.connection(where, value));
}

/**
 * Reconnect delays: 100 ms more per attempt, at most 1 s, so that the pool is back within about a second of
 * Redis (ioredis' default reaches 2 s, BullMQ's 20 s). A `retryStrategy` the user passes is kept.
 */
export function reconnectDelay(times: number): number {
  return Math.min(times * 100, 1000);
}

/** A new connection of the pool's own, made from what the user passed; `name` labels it in `CLIENT LIST`. */
export function connect(connection: Connection, name: string): Redis {
  const own: RedisOptions = { maxRetriesPerRequest: null, connectionName: name };
  if (typeof connection === 'string') return new Redis(connection, { ...own, retryStrategy: reconnectDelay });
  if (connection instanceof Redis) return connection.duplicate(own);
  return new Redis({ retryStrategy: reconnectDelay, ...connection, ...own });
}

/** Closes a connection the pool made: QUIT when it is up, else disconnect at once. */
export async function disconnect(redis: Redis): Promise<void> {
  if (redis.status === 'ready') {
    try {
      await redis.quit();
      return;
    } catch {
      // Already going away: fall through.
    }
  }
  redis.disconnect();
}
