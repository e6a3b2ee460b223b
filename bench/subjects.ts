/**
 * What the benchmark measures: each subject submits `n` tasks at once at a given concurrency and resolves
 * when all are done. Every subject keeps a promise per task, as a user awaiting each result would.
 */
import async from 'async';
import fastq from 'fastq';
import pLimit from 'p-limit';
import PQueue from 'p-queue';
import { LitePool, limit } from '../dist/esm/index.js';

export type Task = () => Promise<void>;

export const shapes: Record<string, Task> = {
  /** The trivial async task. */
  noop: async () => {},
  /** A task with two awaits, as a real one would have. */
  twoAwaits: async () => {
    await null;
    await null;
  },
};

/** Submits `n` tasks at concurrency `c`; returns the promises (all must settle). */
export type Submit = (task: Task, n: number, c: number) => { all: Promise<unknown>[]; done: () => Promise<unknown> };

const fill = (n: number, make: () => Promise<unknown>): Promise<unknown>[] => {
  const all = new Array<Promise<unknown>>(n);
  for (let i = 0; i < n; i++) all[i] = make();
  return all;
};

export const subjects: Record<string, Submit> = {
  'litepool run()': (task, n, c) => {
    const lp = new LitePool({ workers: c });
    const all = fill(n, () => lp.run(task));
    return { all, done: () => Promise.all(all) };
  },
  'litepool addTask()': (task, n, c) => {
    const lp = new LitePool({ workers: c });
    const tg = lp.newTaskGroup(n);
    const all = fill(n, () => lp.addTask(tg.newTaskOptions().setTask(task).setAutoDone()));
    return { all, done: () => Promise.all(all).then(() => tg.wait()) };
  },
  'litepool limit()': (task, n, c) => {
    const l = limit(c);
    const all = fill(n, () => l(task));
    return { all, done: () => Promise.all(all) };
  },
  'p-limit': (task, n, c) => {
    const l = pLimit(c);
    const all = fill(n, () => l(task));
    return { all, done: () => Promise.all(all) };
  },
  'p-queue': (task, n, c) => {
    const q = new PQueue({ concurrency: c });
    const all = fill(n, () => q.add(task));
    return { all, done: () => Promise.all(all) };
  },
  'fastq (promise)': (task, n, c) => {
    const q = fastq.promise(task, c);
    const all = fill(n, () => q.push(undefined));
    return { all, done: () => Promise.all(all) };
  },
  'async.queue': (task, n, c) => {
    const q = async.queue((_x: unknown, cb: (err?: Error | null) => void) => {
      task().then(() => cb(), cb);
    }, c);
    const all = fill(n, () => q.push(0) as unknown as Promise<unknown>);
    return { all, done: () => Promise.all(all) };
  },
  'Promise.all (no limit)': (task, n) => {
    const all = fill(n, task);
    return { all, done: () => Promise.all(all) };
  },
};

/** The peers the ratios are taken against (litepool's own entries and the baseline are not peers). */
export const peers = ['p-limit', 'p-queue', 'fastq (promise)', 'async.queue'];
