import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { Lane } from '../../src/engine/lane.js';
import { PriorityQueue } from '../../src/internal/priority-queue.js';
import { RingQueue } from '../../src/internal/ring-queue.js';

interface Item {
  id: number;
  state: string;
  priority: number;
}

test('Lane: items that left stay as tombstones, are skipped, and never counted', () => {
  const lane = new Lane<Item>(new RingQueue<Item>(), 'in');
  const items = Array.from({ length: 5 }, (_, id) => ({ id, state: 'in', priority: 0 }));
  for (const item of items) lane.push(item);
  (items[1] as Item).state = 'out';
  lane.left();
  (items[3] as Item).state = 'out';
  lane.left();
  assert.equal(lane.size, 3);
  const seen: number[] = [];
  lane.forEach((item) => seen.push(item.id));
  assert.deepEqual(seen, [0, 2, 4]);
  assert.equal(lane.shift()?.id, 0);
  assert.deepEqual(lane.drain().map((i) => i.id), [2, 4]);
  assert.equal(lane.size, 0);
  assert.equal(lane.shift(), undefined);
});

test('Lane: a model check of push, unshift, leave and shift over a priority store, compaction included', () => {
  fc.assert(
    fc.property(
      fc.array(fc.oneof(fc.record({ op: fc.constant('push' as const), priority: fc.integer({ min: -1, max: 1 }) }), fc.record({ op: fc.constant('unshift' as const), priority: fc.integer({ min: -1, max: 1 }) }), fc.record({ op: fc.constant('leave' as const), at: fc.nat() }), fc.constant({ op: 'shift' as const })), { maxLength: 400 }),
      (ops) => {
        const lane = new Lane<Item>(new PriorityQueue<Item>(), 'in');
        let model: Item[] = [];
        let next = 0;
        const order = (xs: Item[]) => [...xs].sort((a, b) => b.priority - a.priority);
        for (const o of ops) {
          if (o.op === 'push' || o.op === 'unshift') {
            const item = { id: next++, state: 'in', priority: o.priority };
            if (o.op === 'push') {
              lane.push(item);
              model.push(item);
            } else {
              lane.unshift(item);
              const at = model.findIndex((m) => m.priority === o.priority);
              model.splice(at < 0 ? model.length : at, 0, item);
            }
          } else if (o.op === 'leave') {
            if (model.length === 0) continue;
            const item = model[o.at % model.length] as Item;
            item.state = 'out';
            lane.left();
            model = model.filter((m) => m !== item);
          } else {
            const got = lane.shift();
            const want = order(model)[0];
            assert.equal(got?.id, want?.id);
            if (want !== undefined) {
              want.state = 'taken';
              model = model.filter((m) => m !== want);
            }
          }
          assert.equal(lane.size, model.length);
        }
        assert.deepEqual(lane.drain().map((i) => i.id), order(model).map((i) => i.id));
      },
    ),
    { numRuns: 300 },
  );
});
