// JSON in, JSON out (API.md 4.1): checkJson as a unit (the path of the first value that would not arrive as
// it was sent), then the producer refusing such input before anything reaches Redis, and a handler result
// that cannot be sent back.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkJson } from '../../src/bullmq/json-input.js';
import { distributedSuite, jobsAdded, jobsInQueue, redisAvailable, scanKeys, withPool } from '../fixtures/redis-server.js';

const available = redisAvailable();

/** The TypeError checkJson throws for `value`, or undefined when it accepts it. */
function refusal(value: unknown, root?: string): TypeError | undefined {
  try {
    checkJson('where()', value, root);
  } catch (err) {
    assert.ok(err instanceof TypeError, `a TypeError, got ${String(err)}`);
    return err;
  }
  return undefined;
}

/** Asserts checkJson refuses `value` at `path`, with a message matching `why`. */
function refusedAt(value: unknown, path: string, why: RegExp, root?: string): void {
  const err = refusal(value, root);
  assert.ok(err !== undefined, `expected ${path} to be refused`);
  const sent = root === 'result' ? 'cannot be sent back to the producer' : 'cannot be sent to a worker';
  assert.ok(err.message.startsWith(`where(): ${path} ${sent}: `), `message: ${err.message}`);
  assert.match(err.message, why);
}

class Point {
  constructor(
    readonly x: number,
    readonly y: number,
  ) {}
}

describe('checkJson', () => {
  test('accepts plain JSON: primitives, null, arrays, plain and null-prototype objects, shared (acyclic) references', () => {
    const shared = { s: 1 };
    for (const value of [
      null,
      undefined,
      0,
      -1.5,
      '',
      'text',
      true,
      false,
      [],
      {},
      [1, 'two', null, [3], { four: 4 }],
      { a: { b: { c: [{ d: 'deep' }] } } },
      Object.assign(Object.create(null) as object, { bare: true }),
      { x: shared, y: shared, list: [shared, shared] },
      { 'key with spaces': 1, '': 2, 'ünïcode': 3 },
    ]) {
      assert.equal(refusal(value), undefined, `accepts ${JSON.stringify(value)}`);
    }
  });

  test('names the path of the first value that is not JSON, identifiers with dots and other keys quoted', () => {
    refusedAt({ a: [1, 2, { 'x y': undefined }] }, 'input.a[2]["x y"]', /undefined is not JSON \(use null, or leave the key out\)/);
    refusedAt({ $ok: { _fine: { '0': { 'a"b': () => 1 } } } }, 'input.$ok._fine["0"]["a\\"b"]', /a function.*cannot cross to another process \(register it as a handler on the workers\)/);
    refusedAt({ 'a-b': [[0, [1, NaN]]] }, 'input["a-b"][0][1][1]', /NaN is not a JSON number/);
    refusedAt([{ ok: 1 }, { bad: 2n }], 'input[1].bad', /a BigInt is not JSON \(send it as a string\)/);
  });

  test('refuses functions, undefined in an object or an array, BigInt, symbols, NaN and ±Infinity', () => {
    refusedAt(() => 1, 'input', /a function/);
    refusedAt({ fn: function named() {} }, 'input.fn', /a function named/);
    refusedAt({ u: undefined }, 'input.u', /undefined is not JSON/);
    refusedAt([1, undefined, 3], 'input[1]', /undefined is not JSON/);
    refusedAt(10n, 'input', /BigInt/);
    refusedAt({ s: Symbol('s') }, 'input.s', /a symbol is not JSON/);
    refusedAt({ [Symbol('k')]: 1 }, 'input', /symbol keys are not JSON/);
    refusedAt({ n: NaN }, 'input.n', /NaN is not a JSON number/);
    refusedAt({ n: Infinity }, 'input.n', /Infinity is not a JSON number/);
    refusedAt([-Infinity], 'input[0]', /-Infinity is not a JSON number/);
  });

  test('refuses Map, Set, Date, class instances, boxed values, typed arrays and errors: they would arrive as another type', () => {
    refusedAt({ m: new Map([[1, 2]]) }, 'input.m', /an object \(Map\) is not a plain object: it would arrive as another type/);
    refusedAt(new Set([1]), 'input', /\(Set\) is not a plain object/);
    refusedAt({ when: new Date(0) }, 'input.when', /\(Date\) is not a plain object/);
    refusedAt({ p: new Point(1, 2) }, 'input.p', /\(Point\) is not a plain object/);
    refusedAt([new String('boxed')], 'input[0]', /\(String\) is not a plain object/);
    refusedAt({ bytes: new Uint8Array(2) }, 'input.bytes', /\(Uint8Array\) is not a plain object/);
    refusedAt({ err: new Error('e') }, 'input.err', /\(Error\) is not a plain object/);
  });

  test('refuses cycles at the path where the value contains itself', () => {
    const root: Record<string, unknown> = { a: { list: [] as unknown[] } };
    ((root.a as { list: unknown[] }).list as unknown[]).push(root);
    refusedAt(root, 'input.a.list[0]', /a cycle: this value contains itself/);
    const arr: unknown[] = [1];
    arr.push(arr);
    refusedAt(arr, 'input[1]', /a cycle/);
  });

  test('refuses holes in sparse arrays', () => {
    // eslint-disable-next-line no-sparse-arrays
    refusedAt([1, , 3], 'input[1]', /a hole in a sparse array is not JSON/);
    refusedAt({ a: new Array(2) }, 'input.a[0]', /a hole in a sparse array/);
  });

  test('a result may have undefined properties (they arrive absent, as JSON has it) but not undefined array items', () => {
    assert.equal(refusal({ a: undefined, b: 1 }, 'result'), undefined);
    assert.equal(refusal(undefined, 'result'), undefined);
    refusedAt([undefined], 'result[0]', /undefined is not JSON/, 'result');
    refusedAt({ m: new Map() }, 'result.m', /\(Map\) is not a plain object/, 'result');
  });

  // Regression (found by this suite): only the indices of an array were visited, so named properties passed
  // and arrived dropped.
  test('refuses an array with named properties: JSON drops them, so it would not arrive as it was sent', () => {
    refusedAt({ list: Object.assign([1], { extra: 2 }) }, 'input.list.extra', /not JSON|would not arrive/);
  });
});

const POOLS = { refused: 'json-refused', result: 'json-result' } as const;

describe('JSON input and results across processes', { skip: !available }, () => {
  const env = distributedSuite({ pools: Object.values(POOLS) });

  test('input that is not JSON is refused at the producer with its path, and no job reaches Redis', async () => {
    const pool = POOLS.refused;
    await withPool({ pool, connection: env.redis.url, workers: 2 }, async (dp) => {
      await dp.ready();
      const cyclic: Record<string, unknown> = {};
      cyclic.self = cyclic;
      const cases: [unknown, string][] = [
        [{ fn: () => 1 }, 'input.fn'],
        [{ u: undefined }, 'input.u'],
        [[1, undefined], 'input[1]'],
        [{ big: 1n }, 'input.big'],
        [{ m: new Map() }, 'input.m'],
        [{ d: new Date() }, 'input.d'],
        [{ p: new Point(0, 0) }, 'input.p'],
        [cyclic, 'input.self'],
        [{ n: NaN }, 'input.n'],
        [{ n: Infinity }, 'input.n'],
        // eslint-disable-next-line no-sparse-arrays
        [[1, , 3], 'input[1]'],
      ];
      for (const [input, path] of cases) {
        for (const [where, submit] of [
          ['run', () => dp.run('echo', input)],
          ['tryRun', () => dp.tryRun('echo', input)],
          ['addTask', () => dp.addTask(dp.newTaskOptions().setTask('echo', input))],
        ] as const) {
          let err: unknown;
          try {
            await submit();
          } catch (e) {
            err = e;
          }
          assert.ok(err instanceof TypeError, `${where} ${path}: a TypeError, got ${String(err)}`);
          assert.ok(err.message.includes(`${path} cannot be sent to a worker`), `${where}: ${err.message}`);
        }
      }
      assert.equal(await jobsAdded(env.client, pool), 0, 'no job was added');
      assert.equal(await jobsInQueue(env.client, pool), 0);
      assert.deepEqual(await scanKeys(env.client, `bull:${pool}:${dp.id}*`), [], 'no job hash of this producer either');
      const usage = await dp.usage();
      assert.equal(usage.completed + usage.failed, 0);
    });
  });

  test('map fails the item that is not JSON with a TypeError naming input[i]; the other items run', async () => {
    const pool = POOLS.refused;
    await withPool({ pool, connection: env.redis.url, workers: 2 }, async (dp) => {
      const before = await jobsAdded(env.client, pool);
      const settled = await dp.map<number>([{ a: 1, b: 2 }, { a: 1, b: { deep: [0, 1n] } }, { a: 3, b: 4 }], 'add', { settle: true });
      assert.deepEqual(
        settled.map((s) => s.status),
        ['fulfilled', 'rejected', 'fulfilled'],
      );
      assert.deepEqual([(settled[0] as PromiseFulfilledResult<number>).value, (settled[2] as PromiseFulfilledResult<number>).value], [3, 7]);
      const err = (settled[1] as PromiseRejectedResult).reason as Error;
      assert.ok(err instanceof TypeError);
      assert.match(err.message, /input\[1\]\.b\.deep\[1\] cannot be sent to a worker: a BigInt/);
      assert.equal((await jobsAdded(env.client, pool)) - before, 2, 'only the JSON items were added');
    });
  });

  test('a handler result that is not JSON fails with a TypeError saying it cannot be sent back', async () => {
    await withPool({ pool: POOLS.result, connection: env.redis.url, workers: 2 }, async (dp) => {
      let err: (Error & { code?: string }) | undefined;
      try {
        await dp.run('notJson');
      } catch (e) {
        err = e as Error;
      }
      assert.ok(err instanceof Error);
      assert.equal(err.name, 'TypeError');
      assert.match(err.message, /^handler "notJson": result cannot be sent back to the producer: an object \(Map\) is not a plain object/);
      assert.deepEqual(await dp.run('echo', { a: 1, list: [null] }), { a: 1, list: [null] });
      assert.equal(await dp.run('echo'), null, 'no input is null, and so is no result');
    });
  });
});
