// A worker process of the chaos check (scripts/chaos-distributed.ts): `work` sleeps a few ms and counts its
// runs per task; the process publishes how many handlers it runs now (for the "never above workers" check).
import { Redis } from 'ioredis';
import { serve, type RemoteContext } from '../src/bullmq/index.js';

const url = process.env.CHAOS_URL as string;
const name = process.env.CHAOS_NAME as string;
const redis = new Redis(url, { maxRetriesPerRequest: null, retryStrategy: (t) => Math.min(t * 100, 1000) });
redis.on('error', () => {});
// Counts this process's running handlers in a hash and records the highest sum over live processes, at each
// start, atomically: the check that running tasks never exceed `workers`.
const START = `
redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
local total = 0
for _, v in ipairs(redis.call('HVALS', KEYS[1])) do total = total + tonumber(v) end
if total > tonumber(redis.call('GET', KEYS[2]) or '0') then redis.call('SET', KEYS[2], total) end
return total
`;

const server = await serve({
  pool: 'chaos',
  connection: url,
  name,
  concurrency: Number(process.env.CHAOS_CONCURRENCY),
  heartbeat: 200,
  handlers: {
    work: async ({ ms }: { ms: number }, ctx: RemoteContext) => {
      await redis.eval(START, 2, 'chaos:running', 'chaos:max-running', name);
      try {
        await redis.hincrby('chaos:runs', ctx.taskId, 1);
        await new Promise((r) => setTimeout(r, ms));
        return ctx.taskId;
      } finally {
        await redis.hincrby('chaos:running', name, -1);
      }
    },
  },
});
process.on('message', () => void server.close({ timeout: 5000 }).then(() => process.exit(0)));
process.send?.('ready');
