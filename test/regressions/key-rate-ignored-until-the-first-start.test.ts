// A key's rate was only checked once one of its tasks had started: tasks of a new key queued behind a busy
// pool were all let through at once when workers freed up, far beyond the key's rate.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LitePool, type TaskContext } from '../../src/index.js';
import { gate } from '../helpers.js';

test('key-rate-ignored-until-the-first-start: tasks of a new key waiting for workers keep to the key rate', async () => {
  const rate = { limit: 2, interval: 200 };
  const lp = new LitePool({ workers: 3, keys: { rate } });
  const g = gate();
  const blockers = [lp.run(() => g.promise), lp.run(() => g.promise), lp.run(() => g.promise)];
  const starts: number[] = [];
  const stamp = (ctx: TaskContext) => {
    starts.push(lp.tasks().find((t) => t.id === ctx.taskId)?.startedAt as number);
  };
  const keyed = Array.from({ length: 5 }, () => lp.run(stamp, { key: 'h' }));
  g.open();
  await Promise.all([...blockers, ...keyed]);
  starts.sort((a, b) => a - b);
  for (let i = 0; i + rate.limit < starts.length; i++) {
    const gap = (starts[i + rate.limit] as number) - (starts[i] as number);
    assert.ok(gap >= rate.interval - 1e-6, `${rate.limit + 1} starts of key h within ${gap} ms`);
  }
  await lp.close();
});
