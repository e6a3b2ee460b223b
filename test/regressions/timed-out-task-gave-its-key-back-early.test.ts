// A task that timed out gave its key's room back at once while its function still ran: with keys.workers 1
// the next task of the key ran beside it (two requests to one host at once).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LitePool, TaskTimeoutError } from '../../src/index.js';
import { flush, gate, rejection } from '../helpers.js';

test('timed-out-task-gave-its-key-back-early: the next task of the key waits until the timed-out function returns', async () => {
  const lp = new LitePool({ workers: 4, keys: { workers: 1 } });
  const slow = gate();
  let running = 0;
  let most = 0;
  const track = async (body: () => Promise<unknown>) => {
    running++;
    most = Math.max(most, running);
    try {
      return await body();
    } finally {
      running--;
    }
  };
  const first = lp.run(() => track(() => slow.promise), { key: 'h', timeout: 10 });
  const second = lp.run(() => track(async () => 'second'), { key: 'h' });
  assert.ok((await rejection(first)) instanceof TaskTimeoutError);
  await flush();
  assert.equal(running, 1, 'the second has not started: the first function still runs');
  slow.open();
  assert.equal(await second, 'second');
  assert.equal(most, 1);
  await lp.close();
});
