/**
 * What a producer sends for one task: the handler's name, its input, and the options that travel with the
 * job (per-attempt timeout, retry policy, priority). The engine on the producer sees a task whose function
 * returns this; the remote executor sends it.
 * @module
 */
import type { WireRetry } from './remote-retry.js';

/** The options that go with a job; one object is shared by every task of a `map()` call. */
export interface JobOptions {
  /** Per-attempt timeout on the worker, ms (0: none). */
  readonly timeout: number;
  readonly retry: WireRetry | undefined;
  readonly priority: number;
  /** The policy's `onRetry`, called on the producer when a worker reports a retry. */
  readonly onRetry: ((err: Error, attempt: number) => void) | undefined;
}

/** One task as it will be sent. */
export class RemoteJob {
  constructor(
    readonly handler: string,
    readonly input: unknown,
    readonly options: JobOptions,
  ) {}
}

/** The data of a job in Redis (short keys: it is stored once per job). */
export interface JobData {
  /** Input. */
  i: unknown;
  /** Producer id: where the outcome goes. */
  p: string;
  /** Task id, stable across attempts and re-runs. */
  t: string;
  /** Per-attempt timeout, ms. */
  to?: number;
  /** Retry policy. */
  r?: WireRetry;
  /** Attempts made by earlier runs of the task (`errReload`), so that `ctx.attempt` keeps counting. */
  b?: number;
}

/** Returns its `this`: the task function of every remote task, whose `this` is its job. */
export function jobOfThis(this: RemoteJob): RemoteJob {
  return this;
}
