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

/**
 * The worker process running the task died (its lock expired) more often than the task may be re-run: the
 * first crash re-runs it for free (at-least-once), each later one counts as a failed attempt of its retry
 * policy.
 */
export class WorkerLostError extends LitePoolError {
  /** How many times a worker died running the task. */
  readonly stalls: number;

  constructor(stalls: number, message: string) {
    super(message, undefined, 'ERR_WORKER_LOST');
    this.name = 'WorkerLostError';
    this.stalls = stalls;
  }
}
