/**
 * The Go README's third example, the main demo: 1,000 tasks of random duration on 5 workers with a waiting
 * room of 5 per worker, an add timeout of 1 s, auto-done, and errReload(3) on failure; then the per-worker
 * usage table, which shows how evenly the pool spread the work.
 *
 * The Go example sleeps 5–500 ms per task (about 50 s in all); this one scales that to 5–50 ms so that it
 * ends in a few seconds. Run `npx tsx examples/random-delay.ts --full` for the original durations.
 */
import { newPool } from '../src/index.js';
import { Progress } from './progress.js';

const full = process.argv.includes('--full');
const [minMs, maxMs] = full ? [5, 500] : [5, 50];
const randomDelay = (min: number, max: number) =>
  new Promise<number>((resolve) => {
    const ms = Math.floor(Math.random() * (max - min + 1)) + min;
    setTimeout(() => resolve(ms), ms);
  });

console.log(`litepool demo: 1000 tasks sleeping ${minMs}–${maxMs} ms each on 5 workers, waiting room 5 per worker`);
if (!full) console.log('(the Go example uses 5–500 ms; run with --full for those, about 50 s)');

const lp = newPool(5, 5);
const n = 1000;
const tg = lp.newTaskGroup(n); // preset to n, so that wait() can wait for all of them
let done = 0;
let failed = 0;
let addTimeouts = 0;
let sleptMs = 0;
const progress = new Progress(n);
const started = performance.now();

for (let i = 0; i < n; i++) {
  const opt = tg
    .newTaskOptions()
    .setOnSuccess(() => {
      done++;
      progress.update(done, failed, lp.usage().retried);
    })
    .setOnError((handle, group) => {
      void handle.errReload(3, (err) => {
        if (err !== null) {
          failed++;
          group.done(); // a failure is not auto-done: the handler owns it
        } else done++;
      });
    })
    .setOnComplete(() => {})
    .setTask(async () => {
      const ms = await randomDelay(minMs, maxMs);
      sleptMs += ms;
      return i;
    })
    .setAutoDone()
    .setAddTimeout(1000) // give up adding after 1 s without room
    .setOnAddTimeout(() => {
      addTimeouts++;
    });
  await lp.addTask(opt).catch(() => {}); // an add timeout is counted above and auto-done
}

await tg.wait();
const elapsed = performance.now() - started;
progress.finish(done, failed, lp.usage().retried);
console.log('');
lp.printUsage();
console.log('');
console.log(
  `elapsed ${(elapsed / 1000).toFixed(2)} s; ideal (total sleep / 5 workers) ${(sleptMs / 5 / 1000).toFixed(2)} s; ` +
    `overhead ${(((elapsed - sleptMs / 5) / (sleptMs / 5)) * 100).toFixed(1)} %; add timeouts ${addTimeouts}`,
);
await lp.close();
