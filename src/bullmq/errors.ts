/**
 * The errors of `litepool/bullmq` beyond the core's.
 * @module
 */
import { LitePoolError } from '../errors.js';

/**
 * The task's job vanished from Redis (Redis restarted without persistence, or the job was removed by hand):
 * it may or may not have run. Found by the producer's reconciliation.
 */
export class TaskLostError extends LitePoolError {
  constructor(message = 'the task was lost: its job is no longer in Redis') {
    super(message, undefined, 'ERR_TASK_LOST');
    this.name = 'TaskLostError';
  }
}

/** A worker has no handler of the task's name. Not retried: another worker would have the same handlers. */
export class UnknownHandlerError extends LitePoolError {
  /** The handler name the task asked for. */
  readonly handler: string;

  constructor(handler: string, message: string) {
    super(message, undefined, 'ERR_UNKNOWN_HANDLER');
    this.name = 'UnknownHandlerError';
    this.handler = handler;
  }
}
