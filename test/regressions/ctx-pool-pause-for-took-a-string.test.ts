// ctx.pool.pauseFor skipped validation: a Retry-After header passed as a string was concatenated into the
// pause's end, and the pause was silently lost.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LitePool } from '../../src/index.js';

test('ctx-pool-pause-for-took-a-string: a bad value is refused with the option and the value', async () => {
  const lp = new LitePool();
  await assert.rejects(
    lp.run((ctx) => ctx.pool.pauseFor('5000' as never)),
    { name: 'TypeError', message: /^pauseFor\(ms\) must be a number of milliseconds ≥ 0, received "5000"/ },
  );
  await lp.close();
});
