/**
 * A producer's ties to Redis: its id, its keys, BullMQ's `Queue`, and three connections of its own — one for
 * commands and scripts (shared with the queue), one that blocks reading the producer's outcome stream, and
 * one subscribed to the pool's channels.
 * @module
 */
import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { connect, disconnect, type Connection } from './connection.js';
import { Keys } from './keys.js';
import { withScripts, type Scripts } from './scripts.js';

/** Everything a producer holds in Redis. */
export class ProducerLink {
  /** This producer's id: unique, and part of every task id it makes. */
  readonly id: string;
  readonly keys: Keys;
  readonly queue: Queue;
  readonly cmd: Redis & Scripts;
  readonly reader: Redis;
  readonly sub: Redis;

  /** `onError`: connection errors (Redis down, refused, reset), reported rather than thrown. */
  constructor(pool: string, connection: Connection, prefix: string, onError: (err: Error) => void) {
    this.id = randomUUID().slice(0, 13);
    this.keys = new Keys(prefix, pool);
    this.cmd = withScripts(connect(connection, `litepool:${pool}:producer`));
    this.reader = connect(connection, `litepool:${pool}:producer-reader`);
    this.sub = connect(connection, `litepool:${pool}:producer-sub`);
    this.queue = new Queue(pool, { connection: this.cmd, prefix });
    for (const emitter of [this.cmd, this.reader, this.sub, this.queue]) emitter.on('error', onError);
  }

  /** Closes the queue and the connections (the user's own instance, if one was given, is left open). */
  async close(): Promise<void> {
    await this.queue.close();
    await Promise.all([disconnect(this.cmd), disconnect(this.sub)]);
    this.reader.disconnect();
  }
}
