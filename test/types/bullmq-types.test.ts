// Type-level tests of litepool/bullmq, the README's "Beyond one machine" snippet included: checked by
// `tsc --noEmit` (npm run lint); at run time they only confirm the file loads.
import { test } from 'node:test';
import { expectTypeOf } from 'expect-type';
import {
  DistributedPool,
  serve,
  type DistributedUsage,
  type RemoteContext,
  type RemoteTaskGroup,
  type RemoteTaskOptions,
  type Server,
} from '../../src/bullmq/index.js';
import { ThreadPool } from '../../src/threads/index.js';

declare const url: string;
declare const urls: string[];
declare function save(url: string, html: unknown): void;

// The README's snippet of a CPU-heavy handler on threads; checked by the type checker only.
async function readmeThreadsSnippet(): Promise<void> {
  const tp = new ThreadPool({ maxThreads: 4 });
  const tasks = new URL('./hash-task.js', import.meta.url);
  const worker = await serve({
    pool: 'hash',
    connection: 'redis://127.0.0.1:6379',
    concurrency: 4,
    handlers: { sha256: (input: { text: string }, ctx: RemoteContext) => tp.runTask(tasks, 'sha256', input, { signal: ctx.signal }) },
  });
  process.on('SIGTERM', () => void worker.close({ timeout: 10_000 }).then(() => tp.close()));
}

// Checked by the type checker only: calling it would connect to Redis.
async function readmeSnippet(): Promise<void> {
  const w = await serve({
    pool: 'crawl',
    connection: 'redis://127.0.0.1:6379',
    concurrency: 16,
    handlers: {
      fetchPage: async ({ url }: { url: string }, ctx: RemoteContext) => (await fetch(url, { signal: ctx.signal })).text(),
    },
    predicates: { transient: (err) => /ECONNRESET|ETIMEDOUT/.test(String((err as { code?: string }).code)) },
  });
  process.on('SIGTERM', () => void w.close({ timeout: 10_000 }));

  const dp = new DistributedPool({ pool: 'crawl', connection: 'redis://127.0.0.1:6379', workers: 32, queueSize: 10 });
  const html = await dp.run<string>('fetchPage', { url }, { timeout: 5_000, retry: { retries: 3, retryIf: 'transient' } });
  const pages = await dp.map<string>(urls.map((url) => ({ url })), 'fetchPage', { settle: true });
  const tg = dp.newTaskGroup(urls.length);
  for (const url of urls) {
    await dp.addTask(
      tg
        .newTaskOptions()
        .setTask('fetchPage', { url })
        .setOnSuccess((html) => save(url, html))
        .setOnError((h, g) => void h.errReload(2, (err) => { if (err) g.done(); }))
        .setAutoDone()
        .setAddTimeout(1_000),
    );
  }
  await tg.wait();
  await dp.printUsage();
  await dp.close();

  expectTypeOf(w).toEqualTypeOf<Server>();
  expectTypeOf(html).toEqualTypeOf<string>();
  expectTypeOf(pages).toEqualTypeOf<PromiseSettledResult<string>[]>();
  expectTypeOf(tg).toEqualTypeOf<RemoteTaskGroup>();
  expectTypeOf(tg.newTaskOptions()).toEqualTypeOf<RemoteTaskOptions<unknown, RemoteTaskGroup>>();
  expectTypeOf(dp.usage()).toEqualTypeOf<Promise<DistributedUsage>>();
  expectTypeOf(dp.tryRun<number>('add', { a: 1 })).toEqualTypeOf<Promise<number | undefined>>();
  // @ts-expect-error: a handler is named by a string, not given as a function
  void dp.run(() => 1);
}

test('litepool/bullmq public types compile (see tsc)', () => {
  void readmeSnippet;
  void readmeThreadsSnippet;
});
