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

test('examples/inside.ts: what runs now, keys, rate headroom, a trace line per attempt and the usage table', async () => {
  const out = await example('inside');
  assert.match(out, /^What runs now \(lp\.tasks\(\)\):$/m);
  const rows = (out.match(/^ {2}task +\d+ {2}attempt \d {2}example\.\w+ {2}on worker \d$/gm) ?? []).length;
  assert.ok(rows >= 1 && rows <= 4, `${rows} tasks listed, at most one per worker`);
  assert.match(out, /^Keys in use: (example\.\w+ [0-2] running, \d+ waiting(; )?)+$/m);
  assert.equal((out.match(/ attempt \d {2}example\.\w+ +waited +\d+ ms {2}(ok|error 503)$/gm) ?? []).length, 13, 'twelve tasks, one retried');
  assert.match(out, /retry after attempt 1 \(503\), in 20 ms/);
  assert.match(out, /tasks completed 12, failed 0, retried 1, rejected 0$/m);
  assert.match(out, /^wait +[\d.]+ +[\d.]+ +[\d.]+ +[\d.]+ +13$/m);
});
