import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { AgeQueue } from '../../src/internal/age-queue.js';

test('AgeQueue: items come out by priority, then age, however they were pushed (property)', () => {
  fc.assert(
    fc.property(
      fc.array(fc.record({ op: fc.constantFrom('new', 'old', 'shift'), priority: fc.integer({ min: 0, max: 2 }) }), { maxLength: 200 }),
      (ops) => {
        const q = new AgeQueue<{ priority: number; id: number }>();
        const model: { priority: number; id: number }[] = [];
        let nextId = 1;
        const gone: { priority: number; id: number }[] = [];
        for (const { op, priority } of ops) {
          if (op === 'new') {
            const item = { priority, id: nextId++ };
            q.push(item);
            model.push(item);
          } else if (op === 'old' && gone.length > 0) {
            // An item that left comes back (a retry, a parked task let through): older than the newest.
            const item = gone.pop() as { priority: number; id: number };
            q.unshift(item);
            model.push(item);
          } else if (op === 'shift') {
            model.sort((a, b) => b.priority - a.priority || a.id - b.id);
            const want = model.shift();
            const got = q.shift();
            assert.equal(got, want);
            if (got !== undefined) gone.push(got);
          }
          assert.equal(q.length, model.length);
        }
      },
    ),
  );
});
