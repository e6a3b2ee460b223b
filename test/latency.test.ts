// Windowed latency (API.md 6): usage().latency has wait and run percentiles over `latencyWindow`, counted per
// attempt; printUsage shows them under the table; resetLatency() forgets; latencyWindow 0 turns them off.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LitePool } from '../src/index.js';
import { gate } from './helpers.js';

test('usage().latency: a wait per attempt start and a run per attempt; waits behind a busy worker are at least what they waited', async () => {
  const lp = new LitePool({ workers: 1 });
  const g = gate();
  const first = lp.run(() => g.promise);
  const rest = Array.from({ length: 4 }, () => lp.run(() => 'quick'));
  const t0 = performance.now();
  await new Promise((resolve) => setTimeout(resolve, 30));
  g.open();
  await Promise.all([first, ...rest]);
  const held = performance.now() - t0;
  const retried = await lp.run((ctx) => {
    if (ctx.attempt === 1) throw new Error('again');
    return ctx.attempt;
  }, { retry: { retries: 1, minDelay: 0, maxDelay: 0 } });
  assert.equal(retried, 2);
  const { latency } = lp.usage();
  assert.ok(latency !== undefined);
  assert.equal(latency.window, 60_000);
  assert.equal(latency.run.count, 7, 'six tasks, one of them twice');
  assert.equal(latency.wait.count, 7);
  assert.ok(latency.run.max >= 30 * 0.94 && latency.run.max <= held + 1, `the held task ran ${latency.run.max} ms`);
  assert.ok(latency.wait.max >= 30 * 0.94, `the tasks behind it waited ${latency.wait.max} ms`);
  assert.ok(latency.wait.p50 >= 30 * 0.94, 'four of seven waited behind the held task');

  const lines: string[] = [];
  lp.printUsage((l) => lines.push(l));
  assert.match(lines.at(-3) as string, /^last 60 s\s+p50 ms\s+p90 ms\s+p99 ms\s+max ms\s+count$/);
  assert.match(lines.at(-2) as string, /^wait\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+7$/);
  assert.match(lines.at(-1) as string, /^run\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+7$/);

  lp.resetLatency();
  assert.equal(lp.usage().latency?.run.count, 0);
  await lp.close();
});

test('latencyWindow: 0 turns the figures off; a bad value is refused with the option and the value', async () => {
  const off = new LitePool({ latencyWindow: 0 });
  await off.run(() => 1);
  assert.equal(off.usage().latency, undefined);
  const lines: string[] = [];
  off.printUsage((l) => lines.push(l));
  assert.match(lines.at(-1) as string, /^balance:/);
  await off.close();
  const short = new LitePool({ latencyWindow: 1_000 });
  assert.equal(short.usage().latency?.window, 1_000);
  await short.close();
  assert.throws(() => new LitePool({ latencyWindow: -1 }), /options\.latencyWindow must be a number of milliseconds ≥ 0, received -1/);
});
