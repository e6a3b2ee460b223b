// Type-level tests: checked by `tsc --noEmit` (npm run lint); at run time they only confirm the file loads.
import { test } from 'node:test';
import { expectTypeOf } from 'expect-type';
import {
  limit,
  limitFunction,
  newPool,
  type ErrHandle,
  type LimitFunction,
  type PoolUsage,
  type TaskContext,
  type TaskGroup,
  type TaskOptions,
} from '../../src/index.js';

// Checked by the type checker only: calling it would start real tasks.
function publicTypes(): void {
  const lp = newPool(1, 1);

  // run() infers the result from the function, sync or async.
  expectTypeOf(lp.run(() => 1)).toEqualTypeOf<Promise<number>>();
  expectTypeOf(lp.run(async () => 'x')).toEqualTypeOf<Promise<string>>();
  expectTypeOf(lp.run((ctx) => ctx)).toEqualTypeOf<Promise<TaskContext>>();
  expectTypeOf(lp.tryRun(() => true)).toEqualTypeOf<Promise<boolean> | undefined>();

  // map() infers from the input and the function; settle: true gives settled results.
  expectTypeOf(lp.map([1, 2], (x) => String(x))).toEqualTypeOf<Promise<string[]>>();
  expectTypeOf(lp.map(new Set(['a']), async (s, i) => ({ s, i }))).toEqualTypeOf<Promise<{ s: string; i: number }[]>>();
  expectTypeOf(lp.map([1], (x) => x, { settle: true })).toEqualTypeOf<Promise<PromiseSettledResult<number>[]>>();
  expectTypeOf(lp.mapIterable([1], (x) => [x])).toEqualTypeOf<AsyncIterable<number[]>>();

  // setTask fixes the result type that setOnSuccess receives.
  const opt = lp.newTaskOptions().setTask(async () => ({ id: 1 }));
  expectTypeOf(opt).toEqualTypeOf<TaskOptions<{ id: number }, undefined>>();
  opt.setOnSuccess((result) => {
    expectTypeOf(result).toEqualTypeOf<{ id: number }>();
  });

  // onError gets the group: a TaskGroup from tg.newTaskOptions(), undefined from lp.newTaskOptions().
  const tg = lp.newTaskGroup(1);
  tg.newTaskOptions().setOnError((handle, group, err) => {
    expectTypeOf(handle).toEqualTypeOf<ErrHandle>();
    expectTypeOf(group).toEqualTypeOf<TaskGroup>();
    expectTypeOf(err).toEqualTypeOf<Error>();
    expectTypeOf(handle.errReload(3)).toEqualTypeOf<Promise<Error | null>>();
  });
  lp.newTaskOptions().setOnError((_handle, group) => {
    expectTypeOf(group).toEqualTypeOf<undefined>();
  });

  // The interface forms take objects with the Go method names.
  lp.newTaskOptions().setTaskWithInterface({ exec: (ctx: TaskContext) => ctx.attempt });

  // limit() is p-limit's shape, with argument and result inference.
  const l = limit(2);
  expectTypeOf(l).toEqualTypeOf<LimitFunction>();
  expectTypeOf(l((a: number, b: string) => `${a}${b}`, 1, 'x')).toEqualTypeOf<Promise<string>>();
  // @ts-expect-error: the arguments must match fn's parameters
  void l((a: number) => a, 'not a number');

  // limitFunction() keeps the function's parameters and result, as p-limit's does.
  const limited = limitFunction(async (a: number, b: string) => `${a}${b}`, { concurrency: 2 });
  expectTypeOf(limited(1, 'x')).toEqualTypeOf<Promise<string>>();
  // @ts-expect-error: the arguments must match the limited function's parameters
  void limited('not a number', 'x');

  expectTypeOf(lp.usage()).toEqualTypeOf<PoolUsage>();
  expectTypeOf(lp.close()).toEqualTypeOf<Promise<TaskOptions[]>>();
}

// Calls the type checker must refuse; never run (they would throw at run time).
function refusedByTheTypeChecker(): void {
  const lp = newPool(1, 1);
  // @ts-expect-error: an object without exec() is not a task
  lp.newTaskOptions().setTaskWithInterface({ run: () => 1 });
  // @ts-expect-error: workers is a number
  newPool('5', 1);
  // @ts-expect-error: run() takes a function
  void lp.run(42);
}

test('the public type checks are compiled with the suite (npm run lint runs tsc on them)', () => {
  expectTypeOf(publicTypes).toEqualTypeOf<() => void>();
  expectTypeOf(refusedByTheTypeChecker).toEqualTypeOf<() => void>();
});
