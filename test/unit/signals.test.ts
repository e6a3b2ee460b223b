import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { test } from 'node:test';
import { Signals } from '../../src/engine/signals.js';

interface Item {
  name: string;
  spec: { signal: AbortSignal | undefined };
}

test('Signals: one listener per signal; the last task to leave removes it; an abort cancels the rest in order', () => {
  const cancelled: string[] = [];
  const signals = new Signals<Item>((item, reason) => cancelled.push(`${item.name}:${String(reason)}`));
  const a = new AbortController();
  const b = new AbortController();
  const items = ['x', 'y', 'z'].map((name) => ({ name, spec: { signal: a.signal } }));
  for (const item of items) signals.add(item);
  const other = { name: 'o', spec: { signal: b.signal } };
  signals.add(other);
  assert.equal(getEventListeners(a.signal, 'abort').length, 1);
  signals.delete(items[1] as Item);
  signals.delete(items[1] as Item); // twice: no effect
  signals.delete(other);
  assert.equal(getEventListeners(b.signal, 'abort').length, 0);
  a.abort('stop');
  assert.deepEqual(cancelled, ['x:stop', 'z:stop']);
  assert.equal(getEventListeners(a.signal, 'abort').length, 0);
  b.abort('late');
  assert.deepEqual(cancelled, ['x:stop', 'z:stop'], 'a signal nobody waits on any more cancels nothing');
});
