/**
 * Flag values checked with the library's own schemas and bounds (one definition each), so the
 * command line allows exactly what the API does; messages name the flag, the value and what is allowed.
 */
import type { ZodType, output } from 'zod';
import { parseOptions } from '../config.js';
import { InvalidArgumentError } from '../errors.js';
import { INVOCATION_STATUSES, type InvocationStatus } from '../types.js';
import { usageError } from './exit.js';

/** An integer flag within bounds. */
export function intFlag(flag: string, value: string | undefined, bounds: { readonly min: number; readonly max: number }): number | undefined {
  if (value === undefined) return undefined;
  const n = /^\d+$/.test(value.trim()) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < bounds.min || n > bounds.max) {
    throw usageError(`${flag} must be an integer from ${bounds.min} to ${bounds.max}; received ${JSON.stringify(value)}`);
  }
  return n;
}

/** A flag value checked by one of the library's schemas; its message names the flag. */
export function schemaFlag<S extends ZodType>(flag: string, schema: S, value: unknown): output<S> | undefined {
  if (value === undefined) return undefined;
  try {
    return parseOptions(schema, value, flag);
  } catch (error) {
    if (error instanceof InvalidArgumentError) throw usageError(error.message);
    throw error;
  }
}

/** `--status`: repeatable, each a status or a comma-separated list, any letter case. */
export function statusFlag(values: readonly string[] | undefined): InvocationStatus[] | undefined {
  if (values === undefined) return undefined;
  const statuses = new Set<InvocationStatus>();
  for (const item of values.flatMap((v) => v.split(','))) {
    const name = item.trim();
    const status = INVOCATION_STATUSES.find((s) => s.toLowerCase() === name.toLowerCase());
    if (!status) {
      throw usageError(`--status must be one of ${INVOCATION_STATUSES.join(', ')} (repeat the flag or separate them with commas); received ${JSON.stringify(name)}`);
    }
    statuses.add(status);
  }
  return [...statuses];
}
