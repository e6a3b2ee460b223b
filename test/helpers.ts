/** A promise with its resolve and reject functions at hand. */
export interface Deferred<T> {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (reason: Error) => void;
}

export function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (reason: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** A gate a test opens by hand: tasks await `gate.promise`, the test calls `gate.open()`. */
export interface Gate {
  promise: Promise<void>;
  open: () => void;
}

export function gate(): Gate {
  const d = deferred<void>();
  return { promise: d.promise, open: () => d.resolve() };
}

/**
 * Runs `lines` as an ES module in a child Node process (with tsx, from the project root) and returns what it
 * printed. It fails if the child does not exit by itself within 20 s: that is how tests prove that nothing
 * keeps the process alive.
 */
export async function runChild(lines: string[]): Promise<string> {
  const { execFileSync } = await import('node:child_process');
  return execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', lines.join('\n')], { encoding: 'utf8', timeout: 20_000 }).trim();
}

/** Lets pending promise callbacks and immediates run. */
export function flush(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Flushes `n` turns of the event loop. */
export async function turns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await flush();
}

/** Collects process warnings emitted while `fn` runs (and for a turn after). */
export async function captureWarnings(fn: () => Promise<void>): Promise<Error[]> {
  const seen: Error[] = [];
  const onWarning = (w: Error) => seen.push(w);
  const state = globalThis as { litepoolExpectWarnings?: number };
  state.litepoolExpectWarnings = (state.litepoolExpectWarnings ?? 0) + 1;
  process.on('warning', onWarning);
  try {
    await fn();
    await flush();
  } finally {
    process.off('warning', onWarning);
    state.litepoolExpectWarnings -= 1;
  }
  return seen;
}

/** Resolves with the rejection reason of `p`, or fails when `p` resolves. */
export async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected the promise to reject, but it resolved');
}
