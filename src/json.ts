/**
 * JSON checks for values that cross the public boundary (payloads, results), the same on every
 * store: what one store could not hold (PostgreSQL's jsonb refuses U+0000 and lone surrogates)
 * is refused everywhere, so an app tested on the memory store behaves the same in production.
 */
import { InvalidArgumentError, PayloadTooLargeError } from './errors.js';
import type { JsonValue } from './types.js';

/** Deepest nesting of arrays and objects accepted. */
export const MAX_JSON_DEPTH = 100;

/**
 * Throws `InvalidArgumentError` naming `field` and the path inside it when `value` is not a JSON
 * value every store can hold: undefined inside arrays, functions, symbols, bigints, NaN,
 * Infinity, cycles, class instances (Dates included: pass `date.toISOString()`), nesting deeper
 * than 100, `__proto__` keys or a `constructor.prototype` path (prototype pollution in code that
 * merges payloads), strings or keys with U+0000 or lone surrogates. `undefined` object
 * properties are dropped, as JSON.stringify does. With `maxBytes`, throws `PayloadTooLargeError`
 * when the JSON text is longer than that many UTF-8 bytes.
 */
export function assertJsonValue(value: unknown, field: string, maxBytes?: number): asserts value is JsonValue {
  const walk: Walk = { ancestors: [], bound: 0 };
  check(value, field, undefined, walk, 0);
  // The walk adds up a cheap upper bound of the JSON length; only a payload whose bound passes
  // the limit is serialised to measure it exactly.
  if (maxBytes !== undefined && walk.bound > maxBytes) {
    const size = Buffer.byteLength(JSON.stringify(value));
    if (size > maxBytes) throw new PayloadTooLargeError(field, size, maxBytes);
  }
}

interface Walk {
  /**
   * The arrays and objects from the top down to the one being walked: a cycle comes back to one
   * of them. At most MAX_JSON_DEPTH, so a scan of it costs less than a Set made per call.
   */
  readonly ancestors: object[];
  /** An upper bound of the JSON text's UTF-8 length so far. */
  bound: number;
}

/**
 * A value's path in the error messages: its parent's and its key (none for the top). Paths are
 * spelled out only for an error and for arrays and objects (their entries' parent): a payload's
 * numbers and strings cost no string building.
 */
function pathOf(parent: string, key: string | number | undefined): string {
  if (key === undefined) return parent;
  return typeof key === 'number' ? `${parent}[${key}]` : `${parent}.${key}`;
}

function checkString(text: string, parent: string, key: string | number | undefined, what: 'a string' | 'a key'): void {
  if (!text.isWellFormed()) throw new InvalidArgumentError(pathOf(parent, key), text, `${what} of well-formed Unicode (no lone surrogates)`);
  if (text.includes('\u0000')) throw new InvalidArgumentError(pathOf(parent, key), text, `${what} without U+0000 (NUL): not every store can hold it`);
}

function check(value: unknown, parent: string, key: string | number | undefined, walk: Walk, depth: number): void {
  switch (typeof value) {
    case 'string':
      checkString(value, parent, key, 'a string');
      // Each UTF-16 unit is at most 6 bytes of JSON (\uXXXX), plus the quotes.
      walk.bound += 2 + value.length * 6;
      return;
    case 'boolean':
      walk.bound += 5;
      return;
    case 'number':
      if (!Number.isFinite(value)) throw new InvalidArgumentError(pathOf(parent, key), value, 'a JSON value (finite numbers only)');
      walk.bound += 24;
      return;
    case 'object': {
      if (value === null) {
        walk.bound += 4;
        return;
      }
      const path = pathOf(parent, key);
      if (walk.ancestors.includes(value)) throw new InvalidArgumentError(path, '[circular]', 'a JSON value without cycles');
      if (depth >= MAX_JSON_DEPTH) throw new InvalidArgumentError(path, '[nested]', `a JSON value nested at most ${MAX_JSON_DEPTH} levels deep`);
      const proto = Object.getPrototypeOf(value);
      if (Array.isArray(value)) {
        walk.ancestors.push(value);
        walk.bound += 2;
        for (let i = 0; i < value.length; i++) {
          check(value[i], path, i, walk, depth + 1);
          walk.bound += 1;
        }
        walk.ancestors.pop();
        return;
      }
      if (proto !== Object.prototype && proto !== null) {
        throw new InvalidArgumentError(path, String(value), 'a JSON value (plain objects and arrays only; a Date as date.toISOString())');
      }
      walk.ancestors.push(value);
      walk.bound += 2;
      for (const childKey of Object.keys(value)) {
        const child = (value as Record<string, unknown>)[childKey];
        if (child === undefined) continue; // dropped by JSON, as JSON.stringify does
        if (childKey === '__proto__') throw new InvalidArgumentError(`${path}.__proto__`, '[key]', 'an object without a __proto__ key');
        if (childKey === 'prototype' && key === 'constructor') {
          throw new InvalidArgumentError(`${path}.prototype`, '[key]', 'an object without a constructor.prototype path');
        }
        checkString(childKey, path, childKey, 'a key');
        walk.bound += 4 + childKey.length * 6;
        check(child, path, childKey, walk, depth + 1);
      }
      walk.ancestors.pop();
      return;
    }
    default:
      throw new InvalidArgumentError(pathOf(parent, key), value, 'a JSON value');
  }
}

/** JSON with object keys sorted, so equal values give equal text whatever their key order. */
export function canonicalJson(value: JsonValue): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
    const sorted: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) sorted[k] = (v as Record<string, unknown>)[k];
    return sorted;
  });
}
