// Issue #14.2: with an async source whose next() is slow, a consumer that left the loop after the first
// result still had item 1 admitted and its mapper run when the pending next() resolved after the break.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LitePool } from '../../src/index.js';
import { deferred, flush } from '../helpers.js';

test('mapIterable(): nothing starts after the consumer left the loop, even an item asked for before it left', async () => {
  const lp = new LitePool({ workers: 4 });
  const second = deferred<void>();
  let asked = 0;
  let returned = false;
  const source: AsyncIterable<number> = {
    [Symbol.asyncIterator]: () => ({
      next: async () => {
        asked++;
        if (asked === 1) return { value: 0, done: false };
        await second.promise; // item 1 is asked for, and arrives only after the consumer left
        return { value: asked - 1, done: false };
      },
      return: async () => {
        returned = true;
        return { value: undefined, done: true };
      },
    }),
  };
  const ran: number[] = [];
  for await (const r of lp.mapIterable(source, (x) => {
    ran.push(x);
    return x;
  })) {
    assert.equal(r, 0);
    break;
  }
  assert.ok(asked >= 2, 'the batch had asked the source for the next item');
  second.resolve();
  await flush();
  await lp.onIdle();
  assert.deepEqual(ran, [0], 'the item that arrived after the break never ran');
  assert.equal(lp.usage().completed, 1);
  assert.ok(returned, 'the source was closed');
  await lp.close();
});
