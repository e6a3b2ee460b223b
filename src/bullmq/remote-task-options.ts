/**
 * The Go-style vocabulary for a distributed pool: options whose task is a handler name and JSON input, and
 * whose retry policy's `retryIf` travels as data; groups that make such options. Everything else (the
 * callbacks, auto-done, add timeout, signal, priority, timeout) is the in-process vocabulary's own.
 * @module
 */
import type { TaskExec, TaskFunction } from '../task-options.js';
import { TaskOptions } from '../task-options.js';
import { TaskGroup, type GroupHost } from '../task-group.js';
import { checkJson } from './json-input.js';
import * as messages from './messages.js';
import { validateHandler } from './options.js';
import { resolveRemoteRetry, type RemoteRetryPolicy, type ResolvedRemoteRetry } from './remote-retry.js';

/**
 * Options of one remote task, filled by the chained setters and passed to `dp.addTask()`:
 * `setTask('handler', input)` names the task; the callbacks run on the producer.
 */
export class RemoteTaskOptions<T = unknown, G = unknown> extends TaskOptions<T, G> {
  /** @internal The handler's name. */
  handler: string | undefined = undefined;
  /** @internal The handler's input. */
  input: unknown = undefined;
  /** @internal The retry policy, as it will travel. */
  remoteRetry: ResolvedRemoteRetry | undefined = undefined;

  /** Sets the task: the name of a handler registered on the workers, and its JSON input (checked here). */
  override setTask<R>(handler: string | TaskFunction<R> | TaskExec<R>, input?: unknown): RemoteTaskOptions<R, G> {
    if (typeof handler !== 'string') throw new TypeError(messages.notByName('setTask(handler, input)'));
    this.handler = validateHandler('setTask(handler, input) handler', handler);
    checkJson('setTask(handler, input)', input);
    this.input = input;
    return this as unknown as RemoteTaskOptions<R, G>;
  }

  /** A retry policy run by BullMQ's attempts with litepool's backoff; `retryIf` is a code/name list or a predicate's name. */
  override setRetry(policy: RemoteRetryPolicy | number): this {
    this.remoteRetry = resolveRemoteRetry('setRetry(policy)', policy);
    return this;
  }
}

/** A wait group of a distributed pool; its tasks' callbacks and its count live on the producer. */
export class RemoteTaskGroup extends TaskGroup {
  private readonly pool: object;

  /** Made by `dp.newTaskGroup()`; not meant to be constructed by users. */
  constructor(host: GroupHost, owner: object, n: number) {
    super(host, owner, n);
    this.pool = owner;
  }

  /** Options for a task of this group: `setTask('handler', input)`, callbacks, auto-done. */
  override newTaskOptions(): RemoteTaskOptions<unknown, RemoteTaskGroup> {
    return new RemoteTaskOptions(this.pool, this);
  }
}
