// Errors across a process boundary, as units (no Redis): toWire on the worker, fromWire on the producer.
// Name, message, code, cause chain (as data), stack; litepool's own classes come back as themselves.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TaskLostError, UnknownHandlerError } from '../../src/bullmq/index.js';
import { fromWire, toWire, type WireError } from '../../src/bullmq/wire-error.js';
import { AbortError, AddTimeoutError, LitePoolError, PoolClosedError, TaskFailedError, TaskGroupError, TaskTimeoutError } from '../../src/index.js';

type Err = Error & { code?: unknown; timeout?: unknown };

/** What a producer receives: the wire error after a trip through JSON, as it travels in Redis. */
function roundTrip(err: unknown): Err {
  return fromWire(JSON.parse(JSON.stringify(toWire(err))) as WireError) as Err;
}

/** The causes of `err`, outermost first, `limit` at most. */
function chain(err: unknown, limit = 100): unknown[] {
  const out: unknown[] = [];
  for (let e = err; e !== undefined && out.length < limit; e = e instanceof Error ? e.cause : undefined) out.push(e);
  return out;
}

describe('toWire / fromWire', () => {
  test('name, message, code and the remote stack survive', () => {
    const err = Object.assign(new RangeError('out of range'), { code: 'ERANGE' });
    const back = roundTrip(err);
    assert.ok(back instanceof Error);
    assert.equal(back.name, 'RangeError');
    assert.equal(back.message, 'out of range');
    assert.equal(back.code, 'ERANGE');
    assert.equal(back.stack, err.stack);
    assert.match(back.stack ?? '', /wire-error\.test\.ts/);
  });

  test('a numeric code survives; a code that is neither a string nor a number is left out', () => {
    assert.equal(roundTrip(Object.assign(new Error('n'), { code: 42 })).code, 42);
    const odd = roundTrip(Object.assign(new Error('o'), { code: { nested: true } }));
    assert.equal(odd.code, undefined);
    assert.equal(Object.hasOwn(odd, 'code'), false);
  });

  test('a cause chain of several levels survives, each level with its name, message, code and stack', () => {
    const inner = Object.assign(new TypeError('level 3'), { code: 'E3' });
    const middle = Object.assign(new SyntaxError('level 2', { cause: inner }), { code: 'E2' });
    const outer = Object.assign(new Error('level 1', { cause: middle }), { code: 'E1' });
    const top = new RangeError('level 0', { cause: outer });
    const back = roundTrip(top);
    const levels = chain(back) as Err[];
    assert.deepEqual(
      levels.map((e) => [e.name, e.message, e.code]),
      [
        ['RangeError', 'level 0', undefined],
        ['Error', 'level 1', 'E1'],
        ['SyntaxError', 'level 2', 'E2'],
        ['TypeError', 'level 3', 'E3'],
      ],
    );
    assert.equal((levels[3] as Error).stack, inner.stack);
    assert.equal((levels[3] as Error).cause, undefined);
  });

  test('a non-Error cause arrives as data; values JSON cannot hold arrive as their string', () => {
    assert.deepEqual(roundTrip(new Error('obj', { cause: { status: 503, retry: [1, 2] } })).cause, { status: 503, retry: [1, 2] });
    assert.equal(roundTrip(new Error('str', { cause: 'just a string' })).cause, 'just a string');
    assert.equal(roundTrip(new Error('num', { cause: 7 })).cause, 7);
    assert.equal(roundTrip(new Error('null', { cause: null })).cause, null);
    assert.equal(roundTrip(new Error('big', { cause: 10n })).cause, '10');
    assert.equal(roundTrip(new Error('sym', { cause: Symbol('s') })).cause, 'Symbol(s)');
    // A non-Error cause that looks like a wire error is still data.
    assert.deepEqual(roundTrip(new Error('lookalike', { cause: { name: 'TypeError', message: 'not an error' } })).cause, {
      name: 'TypeError',
      message: 'not an error',
    });
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    assert.equal(roundTrip(new Error('cyclic data', { cause: cyclic })).cause, '[object Object]');
    assert.equal(Object.hasOwn(roundTrip(new Error('none')), 'cause'), false);
  });

  test('a cause cycle ends: the wire is finite JSON and the chain comes back finite', () => {
    const a = new Error('a');
    const b = new Error('b', { cause: a });
    a.cause = b;
    const wire = toWire(a);
    assert.doesNotThrow(() => JSON.stringify(wire));
    const back = roundTrip(a);
    const levels = chain(back);
    assert.ok(levels.length >= 2 && levels.length <= 10, `a finite chain (${levels.length} levels)`);
    assert.deepEqual(
      levels.slice(0, 4).map((e) => (e as Error).message),
      ['a', 'b', 'a', 'b'],
    );
    const self = new Error('self');
    self.cause = self;
    const selfBack = chain(roundTrip(self));
    assert.ok(selfBack.length >= 1 && selfBack.length <= 10);
    assert.ok(selfBack.every((e) => (e as Error).message === 'self'));
  });

  test('a thrown non-Error arrives as a TaskFailedError whose cause is the value, as in-process', () => {
    const back = roundTrip('plain');
    assert.ok(back instanceof TaskFailedError);
    assert.equal(back.name, 'TaskFailedError');
    assert.equal(back.cause, 'plain');
    assert.equal(back.code, 'ERR_TASK_FAILED');
    const obj = roundTrip({ reason: 'x' });
    assert.ok(obj instanceof TaskFailedError);
    assert.deepEqual(obj.cause, { reason: 'x' });
    const undef = roundTrip(undefined);
    assert.ok(undef instanceof TaskFailedError);
    assert.equal(undef.cause, undefined);
  });

  test("litepool's own classes arrive as themselves, with their code and data (timeout)", () => {
    const timeout = roundTrip(new TaskTimeoutError(250));
    assert.ok(timeout instanceof TaskTimeoutError && timeout instanceof LitePoolError);
    assert.equal(timeout.timeout, 250);
    assert.equal(timeout.code, 'ERR_TASK_TIMEOUT');
    assert.equal(timeout.message, 'the task attempt timed out after 250 ms');
    const addTimeout = roundTrip(new AddTimeoutError(40));
    assert.ok(addTimeout instanceof AddTimeoutError);
    assert.equal(addTimeout.timeout, 40);
    const closed = roundTrip(new PoolClosedError('gone'));
    assert.ok(closed instanceof PoolClosedError);
    assert.equal(closed.code, 'ERR_POOL_CLOSED');
    assert.equal(closed.message, 'gone');
    const aborted = roundTrip(new AbortError(new Error('reason'), 'stopped'));
    assert.ok(aborted instanceof AbortError);
    assert.equal(aborted.name, 'AbortError');
    assert.equal((aborted.cause as Error).message, 'reason');
    assert.ok(roundTrip(new TaskGroupError('misuse')) instanceof TaskGroupError);
    assert.ok(roundTrip(new LitePoolError('base')) instanceof LitePoolError);
    const lost = roundTrip(new TaskLostError());
    assert.ok(lost instanceof TaskLostError);
    assert.equal(lost.code, 'ERR_TASK_LOST');
    const unknown = roundTrip(new UnknownHandlerError('nope', 'no handler named "nope"'));
    assert.ok(unknown instanceof UnknownHandlerError);
    assert.equal(unknown.code, 'ERR_UNKNOWN_HANDLER');
  });

  // Regression (found by this suite): only `timeout` of litepool's own fields travelled.
  test('UnknownHandlerError keeps its own data (handler) across the wire, as TaskTimeoutError keeps timeout', () => {
    const unknown = roundTrip(new UnknownHandlerError('nope', 'no handler named "nope"')) as UnknownHandlerError;
    assert.equal(unknown.handler, 'nope');
  });

  test('a class of another library with a litepool name is not mistaken for anything but its name; others stay plain Errors', () => {
    const back = roundTrip(new RangeError('r'));
    assert.equal(back.name, 'RangeError');
    assert.equal(Object.getPrototypeOf(back), Error.prototype);
    class HttpError extends Error {
      constructor(readonly status: number) {
        super(`status ${status}`);
        this.name = 'HttpError';
      }
    }
    const http = roundTrip(Object.assign(new HttpError(502), { code: 'EHTTP' }));
    assert.equal(http.name, 'HttpError');
    assert.equal(http.message, 'status 502');
    assert.equal(http.code, 'EHTTP');
  });

  test('the wire form is JSON and stable: toWire(fromWire(w)) equals w', () => {
    const err = Object.assign(new Error('outer', { cause: Object.assign(new TypeError('inner', { cause: { data: 1 } }), { code: 'EIN' }) }), { code: 'EOUT' });
    const wire = JSON.parse(JSON.stringify(toWire(err))) as WireError;
    assert.deepEqual(JSON.parse(JSON.stringify(toWire(fromWire(wire)))), wire);
  });
});
