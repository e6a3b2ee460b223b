import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { promisify } from 'node:util';

const run = promisify(execFile);

async function example(name: string): Promise<string> {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', `examples/${name}.ts`], { timeout: 60_000 });
  return stdout;
}

test('examples/closures.ts: every task is accounted for and the usage table is printed', async () => {
  const out = await example('closures');
  const m = /1000 tasks: (\d+) succeeded .*, (\d+) gave up/.exec(out);
  assert.ok(m, out);
  assert.equal(Number(m[1]) + Number(m[2]), 1000);
  assert.match(out, /^worker\s+state\s+executed/m);
  assert.match(out, /^balance: /m);
});

test('examples/interfaces.ts: every task is counted exactly once (prints true)', async () => {
  const out = await example('interfaces');
  assert.equal(out.split('\n')[0], 'true');
});

test('examples/hash-files.ts: every buffer hashed on the thread pool, with per-thread usage', async () => {
  const out = await example('hash-files');
  assert.match(out, /100%\s+done\s+48\s+failed\s+0/);
  assert.match(out, /^thread\s+in flight\s+executed\s+failed\s+busy ms$/m);
  assert.match(out, /speed-up \d+\.\d+×/);
});
