/**
 * The seam below the engine: what runs one attempt. The engine decides when and where (which slot) a task
 * runs, how long an attempt may take, and what happens after; an executor only runs the attempt and reports
 * how it ended, by its return value. Stops (a timeout, an abort, a forced close) reach it through
 * `attempt.onAbort`.
 * @module
 */
import type { Attempt, Task } from './task.js';

/** Runs attempts for an engine. */
export interface Executor {
  /**
   * Runs one attempt of `task`: returns its value, or a thenable of it, or throws. Called on the slot the
   * engine chose, in the submitter's async context.
   */
  execute(task: Task, attempt: Attempt): unknown;
  /** Ends what the executor owns (threads, connections), once the engine has closed. */
  close?(): Promise<void>;
}

/** Runs the task function on this event loop. */
export const inlineExecutor: Executor = {
  execute(task: Task, attempt: Attempt): unknown {
    return task.fn.call(task.spec.thisArg, attempt);
  },
};
