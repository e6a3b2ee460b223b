/**
 * The messages of `litepool/bullmq`, in one place (as the core's `messages.ts`).
 * @module
 */
import { describe } from '../errors.js';

export const notJson = (where: string, path: string, problem: string) => `${where}: ${path} cannot be sent to a worker: ${problem}`;
export const unknownHandler = (handler: string, worker: string, known: readonly string[]) =>
  `no handler named ${JSON.stringify(handler)} on worker ${worker} (registered: ${known.length > 0 ? known.join(', ') : 'none'}); register it in serve({ handlers })`;
export const unknownPredicate = (name: string, worker: string, known: readonly string[]) =>
  `retryIf names a predicate ${JSON.stringify(name)} that worker ${worker} does not have (registered: ${known.length > 0 ? known.join(', ') : 'none'}); register it in serve({ predicates })`;
export const predicateFailed = (name: string, message: string) => `the retryIf predicate ${JSON.stringify(name)} threw: ${message}`;
export const resultNotJson = (where: string, path: string, problem: string) => `${where}: ${path} cannot be sent back to the producer: ${problem}`;
export const workerForced = 'the worker was closed with force';
export const cancelledRemotely = 'the task was cancelled by its producer';
export const poolName = (where: string, value: unknown) => `${where} must be a non-empty string without ':' (the pool's name, the same on producers and workers), received ${describe(value)}`;
export const connection = (where: string, value: unknown) =>
  `${where} must be a Redis URL ('redis://host:port'), ioredis options ({ host, port, ... }) or an ioredis instance, received ${describe(value)}`;
export const handlers = (where: string, value: unknown) => `${where} must be an object of handler functions by name, received ${describe(value)}`;
export const handler = (where: string, name: string, value: unknown) => `${where}.${name} must be a function (input, ctx) => result, received ${describe(value)}`;
export const notThisPool = (where: string) => `${where}: these TaskOptions belong to another pool`;
export const retryIfFunction = (name: string) =>
  `${name}: a function cannot travel to the workers; register it there (serve({ predicates: { name: fn } })) and pass its name, or pass a list of error codes and names`;
export const handlerName = (where: string, value: unknown) => `${where} must be a non-empty string naming a handler registered on the workers, received ${describe(value)}`;
export const notByName = (where: string) => `${where}: a DistributedPool runs tasks by name: set the task with setTask('handler', input)`;
export const notTaskOptions = (where: string, value: unknown) => `${where} takes TaskOptions from dp.newTaskOptions() or group.newTaskOptions(), received ${describe(value)}`;
export const noTask = (where: string) => `${where}: no task was set; call setTask('handler', input) first`;
export const producerClosed = 'the producer closed before the task finished on its worker';
export const retryIf = (name: string, value: unknown) => `${name} must be a list of error codes and names, or the name of a predicate registered on the workers, received ${describe(value)}`;
export const sharedBelowZero = (id: string, delta: number, count: number) =>
  `shared group ${JSON.stringify(id)}: adding ${delta} would take the count below zero (it is ${count})`;
export const sharedWaitTimedOut = (id: string, ms: number) => `shared group ${JSON.stringify(id)}: wait() timed out after ${ms} ms`;
export const sharedWaitAborted = (id: string) => `shared group ${JSON.stringify(id)}: wait() was aborted`;
export const groupId = (where: string, value: unknown) => `${where} must be a non-empty string (the group's id, the same in every process), received ${describe(value)}`;
export const workerLost = (taskId: string, stalls: number) =>
  `the worker process running task ${taskId} died ${stalls} times (its lock expired each time); the first crash re-runs a task, each later one counts as a failed attempt, and its retries are spent`;
export const taskLost = (jobId: string) =>
  `the task's job ${jobId} is no longer in Redis and no outcome came (Redis restarted without persistence, or the job was removed or evicted): it may or may not have run`;
export const gangTooLarge = (n: number, capacity: number) =>
  `addTaskGroup(...opts): ${n} tasks must be admitted together, but the pool admits at most ${capacity} (workers × (1 + queueSize))`;
export const closedBeforeGang = 'addTaskGroup(...opts): the pool was closed before the tasks could be admitted together';
