/**
 * A worker process of the distributed demo: `randomDelay` sleeps 5–50 ms (the Go example's task, scaled) and
 * fails now and then, so that the producer's `errReload` has work. Started by examples/distributed.ts.
 */
import { serve, type RemoteContext } from '../src/bullmq/index.js';

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(signal.reason as Error);
    }, { once: true });
  });

const server = await serve({
  pool: 'demo',
  connection: process.env.REDIS_URL as string,
  concurrency: 3,
  name: process.env.WORKER_NAME,
  handlers: {
    randomDelay: async ({ min, max }: { min: number; max: number }, ctx: RemoteContext) => {
      const ms = Math.floor(Math.random() * (max - min + 1)) + min;
      await sleep(ms, ctx.signal);
      if (Math.random() < 0.02) throw Object.assign(new Error(`task ${ctx.taskId} hit a transient failure`), { code: 'ETRANSIENT' });
      return ms;
    },
  },
});

process.on('message', () => void server.close({ timeout: 5000 }).then(() => process.exit(0)));
process.send?.('ready');
