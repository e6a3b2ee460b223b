/**
 * The Go README's second example, with interfaces: one object provides exec, onSuccess, onError and
 * onComplete for 1,000 tasks. exec succeeds one time in three; onError retries until success
 * (errReload(-1)), so every task ends up counted once. Run: npx tsx examples/interfaces.ts
 */
import { newPool, type ErrHandle, type TaskExec, type TaskGroup, type TaskOnComplete, type TaskOnError, type TaskOnSuccess } from '../src/index.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

class MyTask implements TaskExec<void>, TaskOnSuccess<void>, TaskOnError<TaskGroup>, TaskOnComplete {
  count = 1;
  n = 0;

  async exec(): Promise<void> {
    await sleep(1);
    this.count++;
    if (Math.floor(Math.random() * 3) === 1) return;
    throw new Error('deliberate error');
  }

  onSuccess(): void {
    this.n++;
  }

  onError(handle: ErrHandle, group: TaskGroup, err: Error): void {
    if (err === null) return;
    // -1: retry until it succeeds (the pool stops it on close). A retry that succeeds is reported here,
    // not to onSuccess.
    void handle.errReload(-1, (last) => {
      this.n++;
      if (last !== null) group.done();
    });
  }

  onComplete(): void {}
}

const lp = newPool(5, 10);
const n = 1000;
const tg = lp.newTaskGroup(n);
const mt = new MyTask();
for (let i = 0; i < n; i++) {
  const opt = tg
    .newTaskOptions()
    .setTaskWithInterface(mt)
    .setOnErrorWithInterface(mt)
    .setOnSuccessWithInterface(mt)
    .setOnCompleteWithInterface(mt)
    .setAutoDone();
  await lp.addTask(opt);
}
await tg.wait();
// Every task was counted exactly once, by onSuccess or by errReload's after(null).
console.log(mt.n === n);
console.log(`exec ran ${mt.count - 1} times for ${n} tasks`);
lp.printUsage();
await lp.close();
