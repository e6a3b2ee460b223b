/**
 * The code each thread runs, as a string evaluated by `new Worker(code, { eval: true })`: no file to locate
 * next to the ESM or the CommonJS build. It loads task modules with `import()`, runs the named export on the
 * input and a context (`taskId`, `attempt`, `signal`, `progress`), and posts progress, then the result or
 * the error back. A module that fails to import fails the tasks that need it,
 * not the thread, so a broken module cannot cause a respawn storm. It uses only `import()`, so that it runs
 * whether the thread evaluates it as a script or as a module (the parent's `--input-type=module` is inherited).
 * @internal
 */
export const RUNNER_SOURCE = `
(async () => {
const { parentPort, workerData } = await import('node:worker_threads');
const modules = new Map();
function failure(name, message, cause) {
  const e = new Error(message + ': ' + (cause && cause.message));
  e.name = name;
  e.cause = cause;
  return e;
}
const ready = (async () => {
  let step = 'tsx (tsx/esm/api)';
  try {
    if (workerData.tsx) (await import('tsx/esm/api')).register();
    for (const specifier of workerData.preload) {
      step = specifier;
      await import(specifier);
    }
  } catch (err) {
    throw failure('ThreadSetupError', 'the thread could not load ' + step, err);
  }
})();
ready.catch(() => {});
function load(url) {
  let mod = modules.get(url);
  if (mod === undefined) {
    mod = ready.then(() => import(url).catch((err) => {
      throw failure('TaskModuleError', 'could not import the task module ' + url, err);
    }));
    modules.set(url, mod);
  }
  return mod;
}
function send(message, transfer) {
  try {
    parentPort.postMessage(message, transfer);
  } catch (err) {
    const e = new Error('the task result could not be sent back: ' + (err && err.message));
    e.name = 'DataCloneError';
    parentPort.postMessage({ id: message.id, ok: false, error: e, name: e.name });
  }
}
// Work on a thread is stopped by ending the thread, so a task's signal never aborts here.
const never = new AbortController().signal;
parentPort.on('message', async (task) => {
  const id = task.id;
  try {
    const mod = await load(task.module);
    const fn = mod[task.name];
    if (typeof fn !== 'function') throw new TypeError(task.module + ' has no exported function ' + JSON.stringify(task.name));
    // A value that cannot be cloned throws here, in the task, rather than failing the task from outside.
    const ctx = { taskId: task.taskId, attempt: task.attempt, signal: never, progress: (value) => parentPort.postMessage({ id, progress: true, value }) };
    const value = await fn(task.input, ctx);
    send({ id, ok: true, value });
  } catch (error) {
    let thrown = error;
    if (!(thrown instanceof Error)) {
      try { structuredClone(thrown); } catch { thrown = String(thrown); }
      send({ id, ok: false, error: thrown });
      return;
    }
    send({ id, ok: false, error: thrown, name: thrown.name });
  }
});
})();
`;
