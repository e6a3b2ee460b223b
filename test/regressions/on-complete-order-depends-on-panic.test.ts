// Go flaw: OnComplete ran before OnError when the task panicked and after it when the task returned an error.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newPool } from '../../src/index.js';

test('onComplete always runs last and once, whether the task threw, rejected or returned', async () => {
  const lp = newPool(1, 5);
  const shapes: Record<string, () => unknown> = {
    throws: () => { throw new Error('x'); },
    rejects: () => Promise.reject(new Error('x')),
    throwsString: () => { throw 'x'; },
    returns: () => 'ok',
  };
  for (const [name, task] of Object.entries(shapes)) {
    const log: string[] = [];
    await lp.addTask(
      lp.newTaskOptions().setTask(task)
        .setOnSuccess(() => { log.push('success'); })
        .setOnError(() => { log.push('error'); })
        .setOnComplete(() => { log.push('complete'); }),
    );
    await lp.onIdle();
    assert.deepEqual(log, [name === 'returns' ? 'success' : 'error', 'complete'], name);
  }
});
