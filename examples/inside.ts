/**
 * Seeing inside a pool: what runs now (`tasks()`), the figures (`usage()`, `printUsage()`), and the trace
 * points an APM would subscribe to (`litepool:task`, `litepool:retry` on `diagnostics_channel`), on a pool
 * that crawls three hosts with a rate and per-host limits.
 *
 *   npx tsx examples/inside.ts
 */
import { channel, tracingChannel } from 'node:diagnostics_channel';
import { setTimeout as sleep } from 'node:timers/promises';
import { LitePool, type AttemptTrace, type RetryTrace } from '../src/index.js';

const lp = new LitePool({ name: 'crawler', workers: 4, rate: { limit: 20, interval: 1_000 }, keys: { workers: 2 } });

// A trace subscriber, as an APM would write one: a line per attempt that ended, and per retry.
const lines: string[] = [];
const ended = (t: AttemptTrace) => {
  const outcome = t.error === undefined ? 'ok' : `error ${(t.error as Error).message}`;
  lines.push(`task ${t.taskId.padStart(2)} attempt ${t.attempt}  ${t.key?.padEnd(11) ?? ''}  waited ${t.waitMs.toFixed(0).padStart(4)} ms  ${outcome}`);
};
const onEnd = (m: unknown) => ended(m as AttemptTrace);
const onRetry = (m: unknown) => {
  const r = m as RetryTrace;
  lines.push(`task ${r.taskId.padStart(2)} retry after attempt ${r.attempt} (${r.error.message}), in ${r.delayMs.toFixed(0)} ms`);
};
tracingChannel('litepool:task').asyncEnd.subscribe(onEnd);
channel('litepool:retry').subscribe(onRetry);

const hosts = ['example.org', 'example.com', 'example.net'];
let flaky = 0;
const pages = Array.from({ length: 12 }, (_, i) => {
  const host = hosts[i % 3] as string;
  return lp.run(
    async () => {
      await sleep(30 + (i % 4) * 10);
      if (host === 'example.net' && flaky++ === 0) throw new Error('503');
      return `${host}/page-${i}`;
    },
    { key: host, retry: { retries: 2, minDelay: 20, jitter: 'none' } },
  );
});

await sleep(40);
console.log('What runs now (lp.tasks()):');
for (const t of lp.tasks()) console.log(`  task ${t.id.padStart(2)}  attempt ${t.attempt}  ${t.key}  on worker ${t.worker}`);
const snapshot = lp.usage();
console.log(`\nKeys in use: ${snapshot.keys?.map((k) => `${k.key} ${k.running} running, ${k.waiting} waiting`).join('; ')}`);
console.log(`Rate: ${snapshot.rate?.map((r) => `${r.available} of ${r.limit} starts left in ${r.interval} ms`).join('; ')}`);

await Promise.all(pages);
tracingChannel('litepool:task').asyncEnd.unsubscribe(onEnd);
channel('litepool:retry').unsubscribe(onRetry);
console.log('\nTrace (litepool:task asyncEnd and litepool:retry):');
for (const line of lines) console.log(`  ${line}`);
console.log('');
lp.printUsage();
await lp.close();
