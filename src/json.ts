/** JSON checks for values that cross the public boundary. */
import { InvalidArgumentError } from './errors.js';
import type { JsonValue } from './types.js';

/**
 * Throws `InvalidArgumentError` naming `field` and the path inside it when `value` is not a
 * JSON value (undefined inside arrays, functions, symbols, bigints, NaN, Infinity, cycles,
 * class instances other than plain objects and arrays).
 */
export function assertJsonValue(value: unknown, field: string): asserts value is JsonValue {
  check(value, field, new Set());
}

function check(value: unknown, path: string, seen: Set<object>): void {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return;
    case 'number':
      if (!Number.isFinite(value)) throw new InvalidArgumentError(path, value, 'a JSON value (finite numbers only)');
      return;
    case 'object': {
      if (value === null) return;
      if (seen.has(value)) throw new InvalidArgumentError(path, '[circular]', 'a JSON value without cycles');
      const proto = Object.getPrototypeOf(value);
      if (Array.isArray(value)) {
        seen.add(value);
        for (let i = 0; i < value.length; i++) check(value[i], `${path}[${i}]`, seen);
        seen.delete(value);
        return;
      }
      if (proto !== Object.prototype && proto !== null) {
        throw new InvalidArgumentError(path, String(value), 'a JSON value (plain objects and arrays only)');
      }
      seen.add(value);
      for (const key in value) {
        const child = (value as Record<string, unknown>)[key];
        if (child === undefined) continue; // dropped by JSON, as JSON.stringify does
        check(child, `${path}.${key}`, seen);
      }
      seen.delete(value);
      return;
    }
    default:
      throw new InvalidArgumentError(path, value, 'a JSON value');
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
