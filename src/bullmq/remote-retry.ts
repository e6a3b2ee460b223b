/**
 * A retry policy as it travels with a job: the numbers of the policy and `retryIf` as data (a list of codes
 * and names, or a predicate's name). BullMQ runs the attempts; the delays are litepool's backoff (factor,
 * `maxDelay`, jitter), computed on the worker by the strategy `serve()` installs.
 * @module
 */
import { LitePoolError, toError } from '../errors.js';
import { backoffDelay, resolveRetry, retryableByDefault, type Jitter, type ResolvedRetry, type RetryPolicy } from '../retry.js';
import * as messages from './messages.js';

/** The backoff type of litepool's jobs, handled by the strategy of `serve()`. */
export const BACKOFF_TYPE = 'litepool';

/** A policy as JSON: retries (-1 for endless), delays, jitter, and `retryIf` as data. */
export interface WireRetry {
  n: number;
  min: number;
  max: number;
  f: number;
  j: Jitter;
  if?: string | readonly string[];
}

/** A predicate a worker registers by name, for `retryIf: 'name'`. */
export type RetryPredicate = (err: Error, attempt: number) => boolean;

/**
 * A retry policy of a remote task: as in-process, except `retryIf`, which must travel to the workers: a list
 * of error `code`s and `name`s to retry (`['ECONNRESET', 'TaskTimeoutError']`), or the name of a predicate
 * registered on the workers (`serve({ predicates: { transient: (err, attempt) => ... } })`).
 */
export interface RemoteRetryPolicy extends Omit<RetryPolicy, 'retryIf'> {
  /**
   * Which failures are retried: error codes and names, or a predicate's name; default: all but aborts and
   * closes. A function is refused with a `TypeError` (it cannot travel to the workers); the type admits it
   * so that in-process options and policies can be passed where these are taken.
   */
  retryIf?: string | readonly string[] | RetryPolicy['retryIf'];
}

/** A validated remote policy: the core's (its `retryIf` unset) and the remote `retryIf`. */
export interface ResolvedRemoteRetry {
  readonly policy: ResolvedRetry;
  readonly retryIf: string | readonly string[] | undefined;
}

/** Validates a remote retry policy once; `name` prefixes the messages. */
export function resolveRemoteRetry(name: string, policy: RemoteRetryPolicy | number): ResolvedRemoteRetry {
  if (typeof policy !== 'object' || policy === null || policy.retryIf === undefined) return { policy: resolveRetry(name, policy as RetryPolicy | number), retryIf: undefined };
  const { retryIf, ...rest } = policy;
  const ok = (typeof retryIf === 'string' && retryIf !== '') || (Array.isArray(retryIf) && retryIf.every((v) => typeof v === 'string'));
  if (!ok) throw new TypeError(typeof retryIf === 'function' ? messages.retryIfFunction(`${name}.retryIf`) : messages.retryIf(`${name}.retryIf`, retryIf));
  return { policy: resolveRetry(name, rest), retryIf: typeof retryIf === 'string' ? retryIf : Object.freeze([...(retryIf as readonly string[])]) };
}

/** The policy as it travels (its `onRetry` stays with the producer). */
export function toWireRetry(retry: ResolvedRemoteRetry): WireRetry {
  const { policy } = retry;
  const wire: WireRetry = {
    n: policy.retries === Number.POSITIVE_INFINITY ? -1 : policy.retries,
    min: policy.minDelay,
    max: policy.maxDelay,
    f: policy.factor,
    j: policy.jitter,
  };
  if (retry.retryIf !== undefined) wire.if = retry.retryIf;
  return wire;
}

/** Whether `err`'s `code` or `name` is one of `list`. */
function listed(list: readonly string[], err: Error): boolean {
  const code = (err as { code?: unknown }).code;
  return list.includes(err.name) || (typeof code === 'string' && list.includes(code));
}

/**
 * BullMQ's `attempts` for a policy. BullMQ refuses `Infinity`; endless retries become the largest safe
 * integer of attempts, which no job reaches.
 */
export function attemptsOf(wire: WireRetry | undefined): number {
  if (wire === undefined) return 1;
  return wire.n === -1 ? Number.MAX_SAFE_INTEGER : wire.n + 1;
}

/** The delay before retry number `retry` (1 for the first). */
export function retryDelay(wire: WireRetry, retry: number): number {
  return Math.round(
    backoffDelay({ retries: wire.n, minDelay: wire.min, maxDelay: wire.max, factor: wire.f, jitter: wire.j, retryIf: undefined, onRetry: undefined }, retry),
  );
}

/**
 * Whether the failure of `attempt` is retried, and the error to report. A predicate the worker does not have,
 * or one that throws, ends the task with an error that says so (the task's own error is its cause).
 */
export function shouldRetry(
  wire: WireRetry | undefined,
  err: Error,
  attempt: number,
  predicates: Readonly<Record<string, RetryPredicate>>,
  worker: string,
): { retry: boolean; error: Error } {
  if (wire === undefined || (wire.n !== -1 && attempt > wire.n)) return { retry: false, error: err };
  const rule = wire.if;
  if (rule === undefined) return { retry: retryableByDefault(err), error: err };
  if (typeof rule !== 'string') return { retry: listed(rule, err), error: err };
  const predicate = Object.hasOwn(predicates, rule) ? predicates[rule] : undefined;
  if (predicate === undefined) return { retry: false, error: new LitePoolError(messages.unknownPredicate(rule, worker, Object.keys(predicates)), { cause: err }) };
  try {
    return { retry: predicate(err, attempt) === true, error: err };
  } catch (thrown) {
    return { retry: false, error: new LitePoolError(messages.predicateFailed(rule, toError(thrown).message), { cause: err }) };
  }
}
