/**
 * The declarative retry policy: its type, its validation, and the pure backoff math.
 * @module
 */
import { AbortError, PoolClosedError } from './errors.js';
import * as messages from './messages.js';
import { validateDuration, validateFunction, validateIntegerOrInfinity, validateOptions } from './options.js';

/** How the backoff delay is randomised: `full` draws from [0, d], `equal` from [d/2, d], `none` uses d. */
export type Jitter = 'full' | 'equal' | 'none';

/** A retry policy: how often and how long to wait before retrying a failed task. */
export interface RetryPolicy {
  /** How many retries after the first attempt: an integer ≥ 0, or `Infinity` written out. */
  retries: number;
  /**
   * Delay before the first retry, in ms.
   * @default 100
   */
  minDelay?: number;
  /**
   * Upper bound of any delay, in ms.
   * @default 30000
   */
  maxDelay?: number;
  /**
   * Growth of the delay from one retry to the next (≥ 1).
   * @default 2
   */
  factor?: number;
  /**
   * Randomisation of each delay; `true` is `'full'` and `false` is `'none'`, as p-retry users write it.
   * @default 'full'
   */
  jitter?: Jitter | boolean;
  /**
   * Decides whether a failure is retried; `attempt` is the attempt that failed (from 1). Without it every
   * failure is retried except `AbortError` and `PoolClosedError`.
   */
  retryIf?: (err: Error, attempt: number) => boolean;
  /** Observes each retry before its delay starts; `attempt` is the attempt that failed (from 1). */
  onRetry?: (err: Error, attempt: number) => void;
}

/** A validated policy with its defaults. */
export interface ResolvedRetry {
  readonly retries: number;
  readonly minDelay: number;
  readonly maxDelay: number;
  readonly factor: number;
  readonly jitter: Jitter;
  readonly retryIf: ((err: Error, attempt: number) => boolean) | undefined;
  readonly onRetry: ((err: Error, attempt: number) => void) | undefined;
}

const POLICY_KEYS = new Set(['retries', 'minDelay', 'maxDelay', 'factor', 'jitter', 'retryIf', 'onRetry']);
const JITTERS = new Map<unknown, Jitter>([
  ['full', 'full'],
  ['equal', 'equal'],
  ['none', 'none'],
  [true, 'full'],
  [false, 'none'],
]);

/** Validates a retry policy (or a plain number of retries) once; `name` prefixes the messages. */
export function resolveRetry(name: string, policy: RetryPolicy | number): ResolvedRetry {
  if (typeof policy === 'number') policy = { retries: policy };
  if (policy === null || typeof policy !== 'object') throw new TypeError(messages.retryPolicy(name, policy));
  validateOptions(name, policy, POLICY_KEYS, 'a retry option');
  const retries = validateIntegerOrInfinity(`${name}.retries`, policy.retries, 0);
  const minDelay = policy.minDelay === undefined ? 100 : validateDuration(`${name}.minDelay`, policy.minDelay);
  const maxDelay = policy.maxDelay === undefined ? Math.max(30_000, minDelay) : validateDuration(`${name}.maxDelay`, policy.maxDelay);
  if (maxDelay < minDelay) throw new RangeError(messages.atLeast(`${name}.maxDelay`, `${name}.minDelay`, maxDelay, minDelay));
  const factor = policy.factor === undefined ? 2 : policy.factor;
  if (typeof factor !== 'number') throw new TypeError(messages.factor(`${name}.factor`, factor));
  if (!(Number.isFinite(factor) && factor >= 1)) throw new RangeError(messages.factor(`${name}.factor`, factor));
  const jitter = JITTERS.get(policy.jitter === undefined ? 'full' : policy.jitter);
  if (jitter === undefined) throw new TypeError(messages.jitter(`${name}.jitter`, policy.jitter));
  const retryIf = policy.retryIf === undefined ? undefined : validateFunction(`${name}.retryIf`, policy.retryIf);
  const onRetry = policy.onRetry === undefined ? undefined : validateFunction(`${name}.onRetry`, policy.onRetry);
  return { retries, minDelay, maxDelay, factor, jitter, retryIf, onRetry };
}

/**
 * The delay before retry number `retry` (1 for the first retry): `minDelay × factor^(retry-1)`, capped at
 * `maxDelay`, then jittered with `random()` (a number in [0, 1)).
 */
export function backoffDelay(policy: ResolvedRetry, retry: number, random: () => number = Math.random): number {
  const base = Math.min(policy.maxDelay, policy.minDelay * policy.factor ** (retry - 1));
  switch (policy.jitter) {
    case 'full':
      return base * random();
    case 'equal':
      return base / 2 + (base / 2) * random();
    default:
      return base;
  }
}

/** Whether a failure is retried by default: everything but cancellation and a closed pool. */
export function retryableByDefault(err: Error): boolean {
  return !(err instanceof AbortError || err instanceof PoolClosedError);
}
