/**
 * Payload and result schemas of registered functions, at the three places they apply: a call
 * (`invokeAsync`, `invoke`: refused with the issues, nothing stored), a stored payload when due
 * (no longer parses: the invocation ends `Invalid`), and a handler's result.
 */
import type { ZodType } from 'zod';
import { InvalidArgumentError, NonRetryableError, type SchemaIssue } from './errors.js';
import { assertJsonValue } from './json.js';
import type { RegisteredFunction } from './registry.js';
import type { JsonValue } from './types.js';

export type Parsed = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly issues: SchemaIssue[] };

function parse(schema: ZodType, value: unknown): Parsed {
  const result = schema.safeParse(value);
  if (result.success) return { ok: true, value: result.data };
  return { ok: false, issues: result.error.issues.map((i) => ({ path: i.path.map((p) => (typeof p === 'number' ? p : String(p))), code: i.code, message: i.message })) };
}

/** `payload.a[0]: message; payload.b: message` — the issues in one line. */
export function describeIssues(issues: readonly SchemaIssue[], root = 'payload'): string {
  return issues
    .map((i) => `${root}${i.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${p}`)).join('')}: ${i.message}`)
    .join('; ');
}

/** Throws InvalidArgumentError (with the issues) unless `payload` matches `fn`'s schema. */
export function assertPayload(fn: RegisteredFunction, payload: JsonValue): void {
  if (!fn.payloadSchema) return;
  const parsed = parse(fn.payloadSchema, payload);
  if (!parsed.ok) {
    throw new InvalidArgumentError('payload', payload, `a payload function ${JSON.stringify(fn.name)} accepts (${describeIssues(parsed.issues)})`, parsed.issues);
  }
}

/** The value the handler gets: the schema's output, or the payload itself without a schema. */
export function parseStoredPayload(fn: RegisteredFunction, payload: JsonValue): Parsed {
  return fn.payloadSchema ? parse(fn.payloadSchema, payload) : { ok: true, value: payload };
}

/** Throws a NonRetryableError (`InvalidResult`) when a handler's result cannot be stored as it is. */
export function checkReturned(value: unknown, maxBytes: number): void {
  // Fast path: most handlers return nothing, a primitive, or a small object.
  if (value === null || typeof value === 'number' || typeof value === 'boolean') return;
  try {
    assertJsonValue(value, 'result', maxBytes);
  } catch (error) {
    const invalid = new NonRetryableError(`the handler's result cannot be stored: ${(error as Error).message}`);
    invalid.name = 'InvalidResult';
    throw invalid;
  }
}

/** The result as recorded, or a NonRetryableError when the result schema rejects it. */
export function checkResult(fn: RegisteredFunction, value: JsonValue): JsonValue {
  if (!fn.resultSchema) return value;
  const parsed = parse(fn.resultSchema, value);
  if (parsed.ok) return value;
  const error = new NonRetryableError(`the handler's result does not match the function's result schema: ${describeIssues(parsed.issues, 'result')}`);
  error.name = 'InvalidResult';
  throw error;
}
