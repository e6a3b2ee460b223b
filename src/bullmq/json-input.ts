/**
 * The input of a remote task must be JSON and come back equal: refused at the producer, with the path of
 * the first value that would not, before anything reaches Redis.
 * @module
 */
import { describe } from '../errors.js';
import * as messages from './messages.js';

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

function step(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return IDENTIFIER.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}

function why(value: unknown): string | undefined {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return undefined;
    case 'number':
      return Number.isFinite(value) ? undefined : `${String(value)} is not a JSON number`;
    case 'undefined':
      return 'undefined is not JSON (use null, or leave the key out)';
    case 'bigint':
      return 'a BigInt is not JSON (send it as a string)';
    case 'function':
      return `${describe(value)} cannot cross to another process (register it as a handler on the workers)`;
    case 'symbol':
      return 'a symbol is not JSON';
    default:
      return undefined;
  }
}

/**
 * Throws a `TypeError` naming the path (`input.pages[2].at`) of the first value that is not plain JSON.
 * `undefined` at the top is `null` (no input, no result). A result (`root` 'result') may have properties
 * that are `undefined`: they arrive absent, as JSON has it; in an input they are refused, as the issue asks
 * of everything that would not arrive as it was sent.
 */
export function checkJson(where: string, value: unknown, root = 'input'): void {
  const ancestors: object[] = [];
  const result = root === 'result';
  const fail = (path: string, problem: string): never => {
    throw new TypeError(result ? messages.resultNotJson(where, path, problem) : messages.notJson(where, path, problem));
  };
  const visit = (v: unknown, path: string, property: boolean): void => {
    if (v === undefined && (path === root || (result && property))) return;
    const problem = why(v);
    if (problem !== undefined) fail(path, problem);
    if (v === null || typeof v !== 'object') return;
    if (ancestors.includes(v)) fail(path, 'a cycle: this value contains itself');
    ancestors.push(v);
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        if (!(i in v)) fail(step(path, i), 'a hole in a sparse array is not JSON');
        visit(v[i], step(path, i), false);
      }
      if (Object.keys(v).length !== v.length) {
        const named = Object.keys(v).find((k) => !/^(0|[1-9]\d*)$/.test(k)) as string;
        fail(step(path, named), 'a named property of an array is not JSON (it would be dropped)');
      }
    } else {
      const proto = Object.getPrototypeOf(v) as unknown;
      if (proto !== Object.prototype && proto !== null) fail(path, `${describe(v)} is not a plain object: it would arrive as another type (convert it first)`);
      if (Object.getOwnPropertySymbols(v).length > 0) fail(path, 'symbol keys are not JSON');
      for (const key of Object.keys(v)) visit((v as Record<string, unknown>)[key], step(path, key), true);
    }
    ancestors.pop();
  };
  visit(value, root, false);
}
