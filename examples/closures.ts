/**
 * The Go README's first example, with closures: 1,000 tasks on 5 workers (queue 10 each); a third of them
 * fail, each failure is retried up to 3 times with errReload, and a task that still fails marks its group
 * done itself. Run: npx tsx examples/closures.ts
 */
import { newPool } from '../src/index.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const lp = newPool(5, 10);
const n = 1000;
const tg = lp.newTaskGroup(n);
let succeeded = 0;
let gaveUp = 0;

for (let i = 0; i < n; i++) {
  const opt = tg
    .newTaskOptions()
    // The task sleeps 0 to 2 ms, then fails one time in three.
    .setTask(async () => {
      await sleep(Math.floor(Math.random() * 3));
      if (Math.floor(Math.random() * 3) === 1) throw new Error('error');
    })
    .setOnError((handle, group) => {
      // Retry at most 3 more times; if it still fails, this handler owns the group's done().
      void handle.errReload(3, (err) => {
        if (err !== null) {
          gaveUp++;
          group.done();
        } else succeeded++;
      });
    })
    .setOnSuccess(() => {
      succeeded++;
    })
    .setOnComplete(() => {})
    .setAutoDone();
  await lp.addTask(opt);
}

await tg.wait();
console.log(`${n} tasks: ${succeeded} succeeded (some after retries), ${gaveUp} gave up after 3 retries`);
lp.printUsage();
await lp.close();
