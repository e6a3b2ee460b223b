/**
 * The executor of a `DistributedPool`: an attempt of the engine is one job in BullMQ — all of its BullMQ
 * attempts, which the workers run and retry. It adds the job, and settles the engine's attempt when the
 * job's outcome arrives on the producer's stream. A stop (the task's signal, a forced close) is published to
 * the workers, and a job still waiting or backing off is removed.
 * @module
 */
import type { JobsOptions } from 'bullmq';
import type { Executor } from '../engine/executor.js';
import type { Attempt, Task } from '../engine/task.js';
import { PoolClosedError } from '../errors.js';
import { attemptsOf, BACKOFF_TYPE } from './remote-retry.js';
import type { JobData, RemoteJob } from './remote-job.js';
import type { ProducerLink } from './producer-link.js';
import { TaskLostError } from './errors.js';
import * as messages from './messages.js';
import { fromWire, type WireError } from './wire-error.js';

/** One job in flight: how to settle the engine's attempt when its outcome arrives. */
interface Pending {
  readonly task: Task;
  readonly job: RemoteJob;
  readonly resolve: (value: unknown) => void;
  readonly reject: (err: Error) => void;
  /** BullMQ has the job (its add resolved): from then on, its absence means it ended or was lost. */
  added: boolean;
  /** Sweeps in a row that found the job absent from Redis with no outcome heard. */
  missing: number;
}

/** How often jobs in flight are looked for in Redis, ms. */
export const SWEEP_INTERVAL = 2000;
/**
 * Sweeps in a row a job must be missing before it is declared lost: its outcome is in the stream before
 * BullMQ removes the job, so by the second sweep the reader has it, unless it is gone too.
 */
const MISSING_SWEEPS = 2;

/** Runs of one task so far (an `errReload` runs it again as a new job) and BullMQ attempts they made. */
interface Runs {
  runs: number;
  attempts: number;
}

/** BullMQ's priorities: 1 (first) to 2,097,151; 0 is none. */
const MAX_PRIORITY = 2_097_151;
const MID_PRIORITY = 1_048_576;

/** BullMQ's priority for litepool's (higher first); `undefined` for the default 0. */
function bullPriority(priority: number): number | undefined {
  if (priority === 0) return undefined;
  return Math.min(MAX_PRIORITY, Math.max(1, MID_PRIORITY - priority));
}

/** See the module comment. */
export class RemoteExecutor implements Executor {
  /** A worker reported a failed attempt that will be retried. */
  onRetry: (task: Task, job: RemoteJob, err: Error, attempt: number) => void = () => {};
  /** A job started (it may have taken the last free lease). */
  onStart: () => void = () => {};
  /** A job's outcome arrived (its lease is free once the engine has finished the task). */
  onSettled: () => void = () => {};
  private readonly pending = new Map<string, Pending>();
  private readonly runs = new WeakMap<Task, Runs>();
  private readonly link: ProducerLink;
  private readonly stream: string;
  private reading = false;
  private stopped = false;
  private sweeper: NodeJS.Timeout | undefined = undefined;
  private sweeping = false;

  constructor(link: ProducerLink) {
    this.link = link;
    this.stream = link.keys.done(link.id);
  }

  /** Jobs in flight. */
  get inFlight(): number {
    return this.pending.size;
  }

  execute(task: Task, attempt: Attempt): unknown {
    const job = task.fn.call(task.spec.thisArg, attempt) as RemoteJob;
    let runs = this.runs.get(task);
    if (runs === undefined) {
      runs = { runs: 0, attempts: 0 };
      this.runs.set(task, runs);
    }
    const taskId = attempt.taskId;
    const jobId = runs.runs === 0 ? taskId : `${taskId}.${runs.runs}`;
    // `p` first: the reclaim script reads a job's producer from the start of its data.
    const data: JobData = { p: this.link.id, t: taskId, i: job.input === undefined ? null : job.input };
    const o = job.options;
    if (o.timeout > 0) data.to = o.timeout;
    if (o.retry !== undefined) data.r = o.retry;
    if (runs.attempts > 0) data.b = runs.attempts;
    runs.runs++;
    const opts: JobsOptions = { jobId, attempts: attemptsOf(o.retry), removeOnComplete: true, removeOnFail: true };
    if (o.retry !== undefined) opts.backoff = { type: BACKOFF_TYPE };
    const priority = bullPriority(o.priority);
    if (priority !== undefined) opts.priority = priority;
    this.startReading();
    this.onStart();
    return new Promise<unknown>((resolve, reject) => {
      const pending: Pending = { task, job, resolve, reject, added: false, missing: 0 };
      this.pending.set(jobId, pending);
      attempt.onAbort((reason) => this.cancel(jobId, reason));
      this.link.queue.add(job.handler, data, opts).then(
        () => {
          pending.added = true;
        },
        (err: unknown) => this.settle(jobId, false, err),
      );
      this.startSweeping();
    });
  }

  /** Stops a job: workers hear of it; a job not running yet is removed, and its attempt fails at once. */
  private cancel(jobId: string, reason: Error): void {
    const kind = reason instanceof PoolClosedError ? 'close' : 'abort';
    const { cmd, queue, keys } = this.link;
    cmd.publish(keys.cancel, `${kind}\n${jobId}`).catch(() => {});
    queue.remove(jobId).then(
      (removed) => {
        if (removed === 1) this.settle(jobId, false, reason);
      },
      () => {},
    );
  }

  private settle(jobId: string, ok: boolean, value: unknown): void {
    const pending = this.pending.get(jobId);
    if (pending === undefined) return;
    this.pending.delete(jobId);
    (this.runs.get(pending.task) as Runs).attempts++;
    if (ok) pending.resolve(value);
    else pending.reject(value as Error);
    this.onSettled();
  }

  /** Reads the outcome stream while jobs are in flight; one blocking read at a time. */
  private startReading(): void {
    if (this.reading || this.stopped) return;
    this.reading = true;
    void this.readLoop();
  }

  private async readLoop(): Promise<void> {
    const { reader, cmd } = this.link;
    let last = '0';
    while (!this.stopped) {
      let reply: [string, [string, string[]][]][] | null;
      try {
        reply = (await reader.xread('COUNT', 1000, 'BLOCK', 1000, 'STREAMS', this.stream, last)) as typeof reply;
      } catch {
        if (this.stopped) break;
        continue;
      }
      if (reply === null) {
        // Nothing in flight and nothing came: stop until the next job.
        if (this.pending.size === 0) break;
        continue;
      }
      const entries = reply[0]?.[1] ?? [];
      const ids: string[] = [];
      for (const [id, fields] of entries) {
        ids.push(id);
        last = id;
        this.received(fields);
      }
      if (ids.length > 0) cmd.xdel(this.stream, ...ids).catch(() => {});
    }
    this.reading = false;
  }

  /** One outcome: `t` job id, `k` kind (`ok`, `err`, `retry`, `progress`), `v` its JSON. */
  private received(fields: string[]): void {
    let jobId = '';
    let kind = '';
    let value = 'null';
    for (let i = 0; i + 1 < fields.length; i += 2) {
      const f = fields[i];
      if (f === 't') jobId = fields[i + 1] as string;
      else if (f === 'k') kind = fields[i + 1] as string;
      else if (f === 'v') value = fields[i + 1] as string;
    }
    const pending = this.pending.get(jobId);
    if (pending === undefined) return;
    if (kind === 'ok') {
      this.settle(jobId, true, JSON.parse(value) as unknown);
    } else if (kind === 'err') {
      this.settle(jobId, false, fromWire(JSON.parse(value) as WireError));
    } else if (kind === 'progress') {
      pending.task.attempt?.progress(JSON.parse(value) as unknown);
    } else if (kind === 'retry') {
      const { e, a } = JSON.parse(value) as { e: WireError; a: number };
      (this.runs.get(pending.task) as Runs).attempts++;
      this.onRetry(pending.task, pending.job, fromWire(e), a);
    }
  }

  private startSweeping(): void {
    if (this.sweeper !== undefined || this.stopped) return;
    this.sweeper = setInterval(() => void this.sweep(), SWEEP_INTERVAL).unref();
  }

  /**
   * Reconciliation: every job in flight is looked for in Redis; one missing in two sweeps in a row, with no
   * outcome heard, was lost (Redis restarted without persistence, the job was removed by hand, evicted) and
   * its task fails with `TaskLostError`. So no producer promise waits forever for a job that is gone.
   */
  private async sweep(): Promise<void> {
    if (this.pending.size === 0) {
      clearInterval(this.sweeper);
      this.sweeper = undefined;
      return;
    }
    if (this.sweeping) return;
    this.sweeping = true;
    try {
      const ids = [...this.pending].filter(([, p]) => p.added).map(([id]) => id);
      const pipeline = this.link.cmd.pipeline();
      for (const id of ids) pipeline.exists(this.link.queue.toKey(id));
      const replies = (await pipeline.exec()) ?? [];
      ids.forEach((id, i) => {
        const pending = this.pending.get(id);
        const reply = replies[i];
        if (pending === undefined || reply === undefined || reply[0] !== null) return;
        pending.missing = reply[1] === 0 ? pending.missing + 1 : 0;
        if (pending.missing >= MISSING_SWEEPS) this.settle(id, false, new TaskLostError(messages.taskLost(id)));
      });
    } catch {
      // Redis is away: nothing can be concluded; the next sweep tries again.
    } finally {
      this.sweeping = false;
    }
  }

  /** Fails every job still in flight with `err`: nobody will hear their outcomes any more. */
  abandon(err: Error): void {
    for (const jobId of [...this.pending.keys()]) this.settle(jobId, false, err);
  }

  /** Stops reading; the outcome stream goes (nothing will read it again). */
  async close(): Promise<void> {
    this.stopped = true;
    if (this.sweeper !== undefined) clearInterval(this.sweeper);
    this.sweeper = undefined;
    await this.link.cmd.del(this.stream).catch(() => {});
  }
}
