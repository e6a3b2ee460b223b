/**
 * The worker side: a process that runs a pool's tasks by name. Each job is one attempt of a task; the
 * outcome goes to the producer's stream before BullMQ records the job's end, so a producer hears of it even
 * when BullMQ keeps nothing (jobs are removed when they end). Retries are BullMQ's attempts with litepool's
 * backoff; whether a failure is retried is decided here, where `retryIf` predicates are registered.
 * @module
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { performance } from 'node:perf_hooks';
import { UnrecoverableError, WaitingError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { resolveCloseOptions, type CloseOptions } from '../close-options.js';
import type { PoolControl } from '../engine/slot.js';
import { AbortError, PoolClosedError, TaskTimeoutError, toError } from '../errors.js';
import { validateDuration, validateFunction, validateInteger, validateOptions } from '../options.js';
import { connect, disconnect, validateConnection, type Connection } from './connection.js';
import { connectionWarnings } from './connection-warnings.js';
import { UnknownHandlerError, WorkerLostError } from './errors.js';
import { checkJson } from './json-input.js';
import { Keys } from './keys.js';
import * as messages from './messages.js';
import { validateName } from './options.js';
import type { JobData } from './remote-job.js';
import { BACKOFF_TYPE, retryDelay, shouldRetry, type RetryPredicate } from './remote-retry.js';
import type { Heartbeat } from './remote-usage.js';
import { withScripts, type Scripts } from './scripts.js';
import { toWire } from './wire-error.js';

/** What a handler receives besides its input: nothing that could not cross a process boundary. */
export interface RemoteContext {
  /** Aborts when the attempt should stop: its timeout passed, the producer cancelled it, or the worker closes with force. */
  readonly signal: AbortSignal;
  /** Which attempt of the task this is, from 1 (retries and `errReload` re-runs count on). */
  readonly attempt: number;
  /** The task's id: the same for every attempt and re-run, also after a crash; for idempotent effects. */
  readonly taskId: string;
  /** The worker slot running the attempt: `host:pid:slot`. */
  readonly workerId: string;
  /**
   * When the attempt started, ms since the epoch: on Redis's clock when the pool has a rate or a pause (the
   * time its windows count), else this process's.
   */
  readonly startedAt: number;
  /** The pool, as far as a handler may steer it: `ctx.pool.pauseFor(ms)` holds every start on every worker (HTTP 429). */
  readonly pool: PoolControl;
  /**
   * Reports progress (a JSON value) to the task's `onProgress` on the producer, in order, before the task
   * settles there.
   */
  progress(value: unknown): void;
}

/**
 * A handler: JSON input in, a JSON result (or a promise of one) out; throwing or rejecting is a failure.
 * Type the input where you write it: `(input: { url: string }, ctx) => ...`.
 */
export type Handler = (input: never, ctx: RemoteContext) => unknown;

/** Options of {@link serve}. */
export interface ServeOptions {
  /** The pool's name (its BullMQ queue): the same as the producers'. */
  pool: string;
  /** Where Redis is: a URL, ioredis options, or an ioredis instance. */
  connection: Connection;
  /** The handlers by name; only these run, nothing from the wire is evaluated. */
  handlers: Readonly<Record<string, Handler>>;
  /**
   * Task functions at once in this process. An integer ≥ 1.
   * @default 1
   */
  concurrency?: number;
  /** Predicates by name, for producers' `retryIf: 'name'`. */
  predicates?: Readonly<Record<string, RetryPredicate>>;
  /**
   * The key prefix; the same as the producers'.
   * @default 'bull'
   */
  prefix?: string;
  /**
   * This process's name in usage rows and `ctx.workerId`.
   * @default `${hostname()}:${process.pid}`
   */
  name?: string;
  /**
   * How often this process publishes its figures, ms.
   * @default 1000
   */
  heartbeat?: number;
  /**
   * How long a job's lock lasts, ms; it is renewed every half of it while the handler runs. A worker that
   * dies has its tasks run again elsewhere within about `lockDuration + stalledInterval`. A handler that
   * blocks its event loop for longer than half of it risks being run twice: CPU-heavy handlers belong on
   * threads.
   * @default 6000
   */
  lockDuration?: number;
  /**
   * How often this process looks for jobs whose lock expired (their worker died), ms.
   * @default 3000
   */
  stalledInterval?: number;
}

const SERVE_KEYS = new Set(['pool', 'connection', 'handlers', 'concurrency', 'predicates', 'prefix', 'name', 'heartbeat', 'lockDuration', 'stalledInterval']);
/** BullMQ fails a job stalled more often than this; litepool's own rule applies first (see `WorkerLostError`). */
const MAX_STALLS = 1_000_000;
/** How long a cancellation is remembered for a job that has not started here (it may start later). */
const CANCEL_MEMORY = 60_000;

/** One worker slot's figures. */
class SlotFigures {
  executed = 0;
  failed = 0;
  busyMs = 0;
  since = 0;
  busy = false;
}

/**
 * A job running here: the handler's `ctx`, how to stop it, and why it was stopped. Its `AbortSignal` is made
 * only when the handler reads `ctx.signal` (most never do, and a controller per job is not free).
 */
class JobRun implements RemoteContext {
  /** Stopped by the worker's forced close: the job goes back to wait for another worker. */
  closing = false;
  /** Stopped by its producer: not retried. */
  cancelled = false;
  /** The producer was told the outcome already (a final timeout, at its deadline). */
  told = false;
  /** Its worker died more often than its policy allows: it fails without running. */
  lost: Error | undefined = undefined;
  /** Why it was stopped, once it was. */
  reason: Error | undefined = undefined;
  startedAt = 0;
  /** Sends a progress report to the producer (set by the worker for this job). */
  report: (json: string) => void = () => {};
  private controller: AbortController | undefined = undefined;

  constructor(
    readonly attempt: number,
    readonly taskId: string,
    readonly workerId: string,
    readonly pool: PoolControl,
  ) {}

  get signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = new AbortController();
      if (this.reason !== undefined) this.controller.abort(this.reason);
    }
    return this.controller.signal;
  }

  progress(value: unknown): void {
    checkJson('ctx.progress(value)', value === undefined ? null : value, 'value');
    this.report(JSON.stringify(value === undefined ? null : value));
  }

  /** Stops the handler (once): its signal aborts with `reason`. */
  abort(reason: Error): void {
    if (this.reason !== undefined) return;
    this.reason = reason;
    this.controller?.abort(reason);
  }
}

function validateRecord<T>(where: string, value: unknown, check: (name: string, v: unknown) => T): Record<string, T> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new TypeError(messages.handlers(where, value));
  const out: Record<string, T> = Object.create(null) as Record<string, T>;
  for (const [name, v] of Object.entries(value)) out[name] = check(name, v);
  return out;
}

/** A running worker process of a pool: made by {@link serve}. */
export class Server {
  /** This process's name in usage rows (`host:pid` by default). */
  readonly id: string;
  /** Task functions at once in this process. */
  readonly concurrency: number;
  private readonly worker: Worker<JobData>;
  private readonly cmd: Redis & Scripts;
  private readonly sub: Redis;
  private readonly keys: Keys;
  private readonly handlers: Record<string, Handler>;
  private readonly predicates: Record<string, RetryPredicate>;
  private readonly slots: SlotFigures[];
  private readonly free: number[];
  private readonly running = new Map<string, JobRun>();
  /** The pool may have a rate or a pause in force: starts go through {@link gate}. */
  private flowOn = false;
  /** Starts recorded by this server; with `startsId`, a member of the log of starts no other server makes. */
  private starts = 0;
  private readonly startsId = randomUUID();
  /** Changes of the rate or pause heard of: a script's "nothing in force" older than one is stale. */
  private flowChanges = 0;
  /** What a handler sees as `ctx.pool`. */
  private readonly control = { pauseFor: (ms: number): void => this.pauseFor(ms) };
  private readonly cancelled = new Map<string, number>();
  private readonly every: number;
  private readonly timer: NodeJS.Timeout;
  private closing: Promise<void> | undefined = undefined;
  private soon: NodeJS.Timeout | undefined = undefined;
  private readonly warn: (err: Error) => void;

  /** @internal Use {@link serve}. */
  constructor(options: ServeOptions) {
    const o = validateOptions('serve(options)', options, SERVE_KEYS, 'a serve() option');
    const pool = validateName('serve(options).pool', o.pool);
    const connection = validateConnection('serve(options).connection', o.connection);
    const prefix = o.prefix === undefined ? 'bull' : validateName('serve(options).prefix', o.prefix);
    this.handlers = validateRecord('serve(options).handlers', o.handlers, (name, v) => {
      if (typeof v !== 'function') throw new TypeError(messages.handler('serve(options).handlers', name, v));
      return v as Handler;
    });
    this.predicates =
      o.predicates === undefined
        ? {}
        : validateRecord('serve(options).predicates', o.predicates, (name, v) => validateFunction(`serve(options).predicates.${name}`, v) as RetryPredicate);
    this.concurrency = o.concurrency === undefined ? 1 : validateInteger('serve(options).concurrency', o.concurrency, 1);
    this.every = o.heartbeat === undefined ? 1000 : validateDuration('serve(options).heartbeat', o.heartbeat);
    this.id = o.name === undefined ? `${hostname()}:${process.pid}` : validateName('serve(options).name', o.name);
    this.keys = new Keys(prefix, pool);
    this.slots = Array.from({ length: this.concurrency }, () => new SlotFigures());
    this.free = this.slots.map((_, i) => this.concurrency - 1 - i);
    const warn = connectionWarnings(`worker ${this.id} of pool ${pool}`);
    this.warn = warn;
    this.cmd = withScripts(connect(connection, `litepool:${pool}:worker`));
    this.sub = connect(connection, `litepool:${pool}:worker-sub`);
    this.cmd.on('error', warn);
    this.sub.on('error', warn);
    this.sub.on('message', (channel: string, message: string) => {
      if (channel === this.keys.cancel) this.cancel(message);
      else if (channel === this.keys.flow) {
        this.flowChanges++;
        this.flowOn = true;
      }
    });
    this.worker = new Worker<JobData>(pool, (job, token) => this.process(job, token), {
      connection: this.cmd,
      prefix,
      concurrency: this.concurrency,
      autorun: false,
      lockDuration: o.lockDuration === undefined ? 6000 : validateInteger('serve(options).lockDuration', o.lockDuration, 100),
      stalledInterval: o.stalledInterval === undefined ? 3000 : validateInteger('serve(options).stalledInterval', o.stalledInterval, 100),
      maxStalledCount: MAX_STALLS,
      settings: { backoffStrategy: (attemptsMade, type, _err, job) => (type === BACKOFF_TYPE && job?.data ? retryDelay((job.data as JobData).r as NonNullable<JobData['r']>, attemptsMade) : 0) },
    });
    this.worker.on('error', warn);
    this.timer = setInterval(() => void this.beat(), this.every).unref();
  }

  /** @internal Subscribes to cancellations, publishes a first heartbeat and starts taking jobs. */
  async start(): Promise<void> {
    await this.sub.subscribe(this.keys.cancel, this.keys.flow);
    await Promise.all([this.beat(), this.readFlow()]);
    void this.worker.run().catch(() => {});
    await this.worker.waitUntilReady();
  }

  /** This process's slots' figures, as producers see them in `usage()`. */
  figures(): Heartbeat {
    const now = performance.now();
    return {
      at: Date.now(),
      every: this.every,
      slots: this.slots.map((s) => [s.executed, s.failed, Math.round(s.busyMs + (s.busy ? now - s.since : 0)), s.busy ? 1 : 0]),
    };
  }

  private async beat(): Promise<void> {
    const { cmd, keys } = this;
    // Both expire ten heartbeats after the last: a killed process's row, and the list once every process is gone.
    const ttl = 10 * Math.max(this.every, 100);
    await cmd
      .multi()
      .set(keys.worker(this.id), JSON.stringify(this.figures()), 'PX', ttl)
      .sadd(keys.workers, this.id)
      .pexpire(keys.workers, ttl)
      .exec()
      .catch(() => {});
  }

  /**
   * The process became idle: publish its figures soon if it stays idle, so that a table printed after the
   * last task is exact. At most one every 100 ms: a busy process goes idle between jobs all the time, and a
   * heartbeat per job would cost as much as the job.
   */
  private beatSoon(): void {
    if (this.soon !== undefined) return;
    this.soon = setTimeout(() => {
      this.soon = undefined;
      if (this.closing === undefined && this.running.size === 0) void this.beat();
    }, 100);
  }

  /** Sends an outcome to its producer's stream (not when the producer has left: nobody would read it). */
  private notify(stream: string, jobId: string, producer: string, kind: string, value: string): Promise<number> {
    return this.cmd.lpNotify(stream, this.keys.producers, jobId, kind, value, producer);
  }

  /** A producer's stop: `abort` or `close`, then the job id. */
  private cancel(message: string): void {
    const cut = message.indexOf('\n');
    const kind = message.slice(0, cut);
    const jobId = message.slice(cut + 1);
    const running = this.running.get(jobId);
    if (running === undefined) {
      const now = Date.now();
      for (const [id, at] of this.cancelled) if (now - at > CANCEL_MEMORY) this.cancelled.delete(id);
      this.cancelled.set(jobId, now);
      return;
    }
    running.cancelled = true;
    running.abort(kind === 'close' ? new PoolClosedError(messages.cancelledRemotely) : new AbortError(undefined, messages.cancelledRemotely));
  }

  /** One attempt of a task: the handler, its timeout, and the outcome sent to the producer. */
  private async process(job: Job<JobData>, token: string | undefined): Promise<void> {
    const data = job.data;
    const jobId = job.id as string;
    const slotId = this.free.pop() as number;
    const slot = this.slots[slotId] as SlotFigures;
    slot.busy = true;
    slot.since = performance.now();
    const stream = this.keys.done(data.p);
    // Every start counts in ctx.attempt; for the retry policy, a crash after the first counts as a failure.
    const stalls = job.stalledCounter;
    const attempt = job.attemptsMade + Math.max(0, stalls - 1) + 1;
    const workerId = `${this.id}:${slotId}`;
    const running = new JobRun(job.attemptsMade + stalls + 1 + (data.b ?? 0), data.t, workerId, this.control);
    running.report = (json) => this.notify(stream, jobId, data.p, 'progress', json).catch(this.warn);
    this.running.set(jobId, running);
    if (this.cancelled.delete(jobId)) {
      running.cancelled = true;
      running.abort(new AbortError(undefined, messages.cancelledRemotely));
    }
    const limit = data.r === undefined ? 1 : data.r.n === -1 ? Number.POSITIVE_INFINITY : data.r.n + 1;
    if (attempt > limit) running.lost = new WorkerLostError(stalls, messages.workerLost(data.t, stalls));
    // A timeout ends the attempt at its deadline, but the handler keeps its BullMQ slot until it returns (as a
    // timed-out function keeps its worker in-process): `workers` stays a bound on running functions. A final
    // timeout is told to the producer at once; a retried one is retried once the handler has returned.
    const onTimeout =
      data.to === undefined
        ? undefined
        : (err: Error): void => {
            const decision = shouldRetry(data.r, err, attempt, this.predicates, workerId);
            if (decision.retry) return;
            running.told = true;
            this.notify(stream, jobId, data.p, 'err', JSON.stringify(toWire(decision.error))).catch(this.warn);
          };
    try {
      // A job that will not run (an unknown handler, a worker lost too often) takes no room of the rate.
      if (this.flowOn && running.lost === undefined && Object.hasOwn(this.handlers, job.name)) await this.gate(running);
      else running.startedAt = Date.now();
      const value = await this.call(job.name, data, running, onTimeout);
      slot.executed++;
      // Not awaited: it goes down this connection before BullMQ's completion of the job (same connection,
      // in order), so the two cost one round trip, not two. Should the connection fail before both are
      // through, the job stalls and runs again, and the producer settles it once.
      this.notify(stream, jobId, data.p, 'ok', JSON.stringify(value === undefined ? null : value)).catch(this.warn);
    } catch (thrown) {
      slot.executed++;
      slot.failed++;
      const err = toError(thrown);
      if (running.closing && token !== undefined) {
        // The worker is going away: another worker takes the job, no attempt spent.
        await job.moveToWait(token);
        throw new WaitingError();
      }
      const decision = running.cancelled || running.told ? { retry: false, error: err } : shouldRetry(data.r, err, attempt, this.predicates, workerId);
      if (running.told) throw new UnrecoverableError(err.message);
      if (decision.retry) {
        await this.notify(stream, jobId, data.p, 'retry', JSON.stringify({ e: toWire(err), a: attempt + (data.b ?? 0) }));
        throw err;
      }
      await this.notify(stream, jobId, data.p, 'err', JSON.stringify(toWire(decision.error)));
      throw new UnrecoverableError(decision.error.message);
    } finally {
      this.running.delete(jobId);
      slot.busy = false;
      slot.busyMs += performance.now() - slot.since;
      this.free.push(slotId);
      // Idle now: publish at once, so that a producer reading usage after its last task sees final figures.
      if (this.running.size === 0) this.beatSoon();
    }
  }

  /**
   * Waits until the pool's rate and pause let this attempt start, and records the start in Redis (one script:
   * no two workers can both take the last room of a window). Sleeps at most 250 ms at a time, so that a
   * looser rate, a cancellation or a forced close is seen soon.
   */
  private async gate(running: JobRun): Promise<void> {
    for (;;) {
      if (running.reason !== undefined) return;
      const changes = this.flowChanges;
      const [wait, now, active] = await this.cmd.lpRateStart(this.keys.rate, this.keys.starts, this.keys.hold, `${this.startsId}:${++this.starts}`);
      // Nothing in force when the script ran; unless a change was heard meanwhile (its reply may have crossed
      // the message on the other connection), starts go straight to the handlers again.
      if (active === '0' && changes === this.flowChanges) this.flowOn = false;
      if (Number(wait) <= 0) {
        running.startedAt = Number(now);
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, Math.min(250, Math.max(1, Math.ceil(Number(wait))))));
    }
  }

  /** Holds every start of the pool for `ms` (from a handler: `ctx.pool.pauseFor(ms)`). */
  pauseFor(ms: number): void {
    const wait = Math.ceil(validateDuration('ctx.pool.pauseFor(ms)', ms));
    if (wait === 0) return;
    this.flowOn = true;
    this.cmd.lpHold(this.keys.hold, wait, this.keys.flow).catch(this.warn);
  }

  /** Reads whether the pool has a rate or a pause in force (at start, and when a producer changes them). */
  private async readFlow(): Promise<void> {
    const [rate, hold] = await Promise.all([this.cmd.exists(this.keys.rate), this.cmd.pttl(this.keys.hold)]);
    if (rate === 1 || hold > 0) this.flowOn = true;
  }

  /**
   * Calls the handler. At the timeout its signal aborts and `onTimeout` hears of it; the returned promise
   * then rejects with the `TaskTimeoutError` once the handler has returned, whatever it returned.
   */
  private call(name: string, data: JobData, running: JobRun, onTimeout: ((err: Error) => void) | undefined): Promise<unknown> {
    if (running.lost !== undefined) {
      running.cancelled = true;
      return Promise.reject(running.lost);
    }
    const handler = Object.hasOwn(this.handlers, name) ? this.handlers[name] : undefined;
    if (handler === undefined) {
      running.cancelled = true;
      return Promise.reject(new UnknownHandlerError(name, messages.unknownHandler(name, this.id, Object.keys(this.handlers))));
    }
    if (running.reason !== undefined) return Promise.reject(running.reason);
    const timeout = data.to ?? 0;
    return new Promise<unknown>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      let timedOut: Error | undefined;
      if (timeout > 0) {
        timer = setTimeout(() => {
          timedOut = new TaskTimeoutError(timeout);
          running.abort(timedOut);
          onTimeout?.(timedOut);
        }, timeout);
      }
      new Promise<unknown>((r) => r((handler as (input: unknown, ctx: RemoteContext) => unknown)(data.i, running))).then(
        (value) => {
          if (timer !== undefined) clearTimeout(timer);
          if (timedOut !== undefined) {
            reject(timedOut);
            return;
          }
          try {
            checkJson(`handler ${JSON.stringify(name)}`, value === undefined ? null : value, 'result');
          } catch (err) {
            reject(err as Error);
            return;
          }
          resolve(value);
        },
        (err: unknown) => {
          if (timer !== undefined) clearTimeout(timer);
          reject(timedOut ?? (err as Error));
        },
      );
    });
  }

  /**
   * Stops taking jobs and resolves once the running ones have finished and the process has left the pool.
   * With `force` (or after `timeout` ms), running handlers' `ctx.signal` aborts and their jobs go back to
   * wait for another worker (no attempt spent); a handler that ignores its signal is still waited for.
   */
  close(options?: CloseOptions): Promise<void> {
    const o = resolveCloseOptions(options);
    if (o.force) this.abortRunning();
    this.closing ??= this.shutdown(o.timeout);
    return this.closing;
  }

  private abortRunning(): void {
    for (const running of this.running.values()) {
      running.closing = true;
      running.abort(new PoolClosedError(messages.workerForced));
    }
  }

  private async shutdown(timeout: number | undefined): Promise<void> {
    const timer = timeout !== undefined && timeout !== Number.POSITIVE_INFINITY ? setTimeout(() => this.abortRunning(), timeout) : undefined;
    await this.worker.close();
    if (timer !== undefined) clearTimeout(timer);
    clearInterval(this.timer);
    if (this.soon !== undefined) clearTimeout(this.soon);
    await this.cmd
      .multi()
      .del(this.keys.worker(this.id))
      .srem(this.keys.workers, this.id)
      .exec()
      .catch(() => {});
    await Promise.all([disconnect(this.cmd), disconnect(this.sub)]);
  }

  /** Closes gracefully, for `await using w = await serve(...)`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/**
 * Starts a worker process of a pool: it takes the pool's jobs from BullMQ and runs them with the named
 * handlers, `concurrency` at once. Resolves once it is connected and taking jobs.
 *
 * @example
 * ```ts
 * const w = await serve({ pool: 'crawl', connection: 'redis://127.0.0.1:6379', concurrency: 16,
 *   handlers: { fetchPage: async ({ url }: { url: string }, ctx) => (await fetch(url, { signal: ctx.signal })).text() } });
 * process.on('SIGTERM', () => void w.close({ timeout: 10_000 }));
 * ```
 */
export async function serve(options: ServeOptions): Promise<Server> {
  const server = new Server(options);
  await server.start();
  return server;
}
