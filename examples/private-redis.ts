/**
 * For the distributed examples: the Redis at `REDIS_URL` when one answers there, else a private
 * `redis-server` on a free port (stopped when the example ends), else a clear message on how to get one.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';

/** A Redis to use, and how to let go of it. */
export interface RedisForExample {
  url: string;
  /** Where it came from, for the example's first line. */
  origin: string;
  stop(): Promise<void>;
}

async function answers(url: string): Promise<boolean> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 1000 });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.ping();
    return true;
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
}

/** Finds or starts a Redis; exits the process with a message when neither is possible. */
export async function redisForExample(): Promise<RedisForExample> {
  const given = process.env.REDIS_URL;
  if (given !== undefined && (await answers(given))) return { url: given, origin: `REDIS_URL (${given})`, stop: async () => {} };
  if (spawnSync('redis-server', ['--version']).status !== 0) {
    console.error(
      'This example needs Redis: set REDIS_URL to a Redis you may use (redis://host:port), or install redis-server ' +
        '(`sudo apt-get install redis-server`, `brew install redis`) and it starts a private one.',
    );
    process.exit(1);
  }
  const port = await freePort();
  const child: ChildProcess = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const url = `redis://127.0.0.1:${port}`;
  const deadline = Date.now() + 10_000;
  while (!(await answers(url))) {
    if (Date.now() > deadline) throw new Error(`redis-server did not start on port ${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url,
    origin: `a private redis-server on port ${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
