// Issue #14.9: the README's ThreadPool snippet passes `{ transfer: [data] }`; with a Uint8Array (what
// readFile and most hashing code hold) postMessage threw "Found invalid object in transferList". Typed
// arrays and DataViews now stand for their buffer.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ThreadPool } from '../../src/threads/index.js';

const tasks = new URL('../fixtures/thread-tasks.ts', import.meta.url);

function bytes(n: number, offset = 0): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (i + offset) % 256);
}
function sumOf(view: Uint8Array): number {
  return view.reduce((s, b) => s + b, 0);
}

test('a Uint8Array, a DataView and a view into part of a buffer are transferred as their buffer', async () => {
  const tp = new ThreadPool({ maxThreads: 1 });
  try {
    const data = bytes(1000);
    const expected = { bytes: 1000, sum: sumOf(data) };
    assert.deepEqual(await tp.runTask(tasks, 'sumBytes', data, { transfer: [data] }), expected);
    assert.equal(data.byteLength, 0, 'moved, not copied: detached here');

    const view = new DataView(bytes(64).buffer);
    assert.deepEqual(await tp.runTask(tasks, 'sumBytes', view, { transfer: [view] }), { bytes: 64, sum: sumOf(bytes(64)) });
    assert.equal(view.buffer.byteLength, 0);

    // A view of part of a buffer arrives with its offset and length; the whole buffer moves.
    const whole = bytes(100);
    const part = whole.subarray(10, 30);
    const partSum = sumOf(part);
    assert.deepEqual(await tp.runTask(tasks, 'sumBytes', part, { transfer: [part] }), { bytes: 20, sum: partSum });
    assert.equal(whole.byteLength, 0, 'the other views of the buffer are detached too');
  } finally {
    await tp.close();
  }
});

test('two views of one buffer list it once; views of shared memory are left out (shared, never copied)', async () => {
  const tp = new ThreadPool({ maxThreads: 1 });
  try {
    const data = bytes(50);
    const sum = sumOf(data);
    const again = new Uint8Array(data.buffer);
    assert.deepEqual(await tp.runTask(tasks, 'sumBytes', data, { transfer: [data, again, data.buffer as ArrayBuffer] }), { bytes: 50, sum });

    const shared = new Uint8Array(new SharedArrayBuffer(8)).fill(2);
    assert.deepEqual(await tp.runTask(tasks, 'sumBytes', shared, { transfer: [shared, shared.buffer as never] }), { bytes: 8, sum: 16 });
    assert.equal(shared.byteLength, 8, 'shared memory stays');
  } finally {
    await tp.close();
  }
});

test('a transfer item that cannot be transferred, or a buffer already detached, is refused at task creation naming the item', async () => {
  const tp = new ThreadPool({ maxThreads: 1 });
  try {
    const ok = new ArrayBuffer(4);
    assert.throws(() => tp.task(tasks, 'sumBytes', ok, { transfer: [ok, 5 as never] }), {
      name: 'TypeError',
      message: /^options\.transfer\[1\] must be a transferable object .*, received 5 \(number\)$/,
    });
    const moved = new ArrayBuffer(4);
    const movedView = new Uint8Array(moved);
    structuredClone(moved, { transfer: [moved] });
    assert.throws(() => tp.task(tasks, 'sumBytes', new Uint8Array(1), { transfer: [ok, movedView] }), {
      name: 'TypeError',
      message: /^options\.transfer\[1\] is a detached ArrayBuffer: it was already moved to a thread/,
    });
    await assert.rejects(tp.runTask(tasks, 'sumBytes', moved, { transfer: [moved] }), { name: 'TypeError', message: /detached ArrayBuffer/ });
    // An empty buffer is not a detached one.
    const empty = new ArrayBuffer(0);
    assert.deepEqual(await tp.runTask(tasks, 'sumBytes', empty, { transfer: [empty] }), { bytes: 0, sum: 0 });
  } finally {
    await tp.close();
  }
});
