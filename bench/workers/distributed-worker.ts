// A worker process for bench/distributed.ts: raw BullMQ (`MODE=raw`: a Worker whose processor returns the
// input) or litepool's serve() (`MODE=litepool`: the same handler by name). TASK: `noop` or a sleep of
// `TASK_MS` ms. Says 'ready' over IPC; closes on any message.
import { Worker } from 'bullmq';
import { serve } from '../../dist/esm/bullmq/index.js';

const url = new URL(process.env.REDIS_URL as string);
const connection = { host: url.hostname, port: Number(url.port), maxRetriesPerRequest: null };
const queue = process.env.QUEUE as string;
const concurrency = Number(process.env.CONC);
const ms = Number(process.env.TASK_MS);
const work = (x: unknown): unknown | Promise<unknown> => (ms > 0 ? new Promise((r) => setTimeout(() => r(x), ms)) : x);

let close: () => Promise<void>;
if (process.env.MODE === 'raw') {
  const worker = new Worker(queue, async (job) => work(job.data.x), { connection, concurrency });
  await worker.waitUntilReady();
  close = () => worker.close();
} else {
  const server = await serve({ pool: queue, connection: process.env.REDIS_URL as string, concurrency, handlers: { task: (input: { x: number }) => work(input.x) } });
  close = () => server.close();
}
process.on('message', () => void close().then(() => process.exit(0)));
process.send?.('ready');
