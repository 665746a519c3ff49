/**
 * The API's query strings, parsed with zod: known parameters only, each at most once, each
 * checked, so a bad one is a 400 that names it and nothing unchecked reaches the invoker.
 */
import { z } from 'zod';
import { FUNCTION_NAME_PATTERN } from '../config.js';
import { INVOCATION_STATUSES, type InvocationStatus } from '../types.js';
import { errorReply } from './reply.js';
import type { BodyReply } from './types.js';

/** Longer query strings are refused (414) before anything else is done with them. */
export const MAX_QUERY_LENGTH = 2048;

const epochMs = z
  .string()
  .regex(/^\d{1,16}$/, { error: 'epoch milliseconds (digits)' })
  .transform(Number);

const intText = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d{1,9}$/, { error: `an integer from ${min} to ${max}` })
    .transform(Number)
    .refine((n) => n >= min && n <= max, { error: `an integer from ${min} to ${max}` });

const statusList = z
  .string()
  .transform((text) => text.split(',').filter(Boolean))
  .pipe(z.array(z.enum(INVOCATION_STATUSES, { error: `statuses among ${INVOCATION_STATUSES.join(', ')}, comma-separated` })).min(1).max(INVOCATION_STATUSES.length));

/** What the invocation list can be filtered by (also what a bulk action acts on). */
export const filterShape = {
  functionName: z.string().regex(FUNCTION_NAME_PATTERN, { error: 'a function name' }).optional(),
  status: statusList.optional(),
  since: epochMs.optional(),
  until: epochMs.optional(),
  requestId: z.string().min(1).max(256, { error: 'a request id of at most 256 characters' }).optional(),
  invocationIdPrefix: z.string().regex(/^[A-Za-z0-9_-]{1,128}$/, { error: 'the start of an invocationId: letters, digits, _ or -' }).optional(),
};

export const listQuerySchema = z.strictObject({
  ...filterShape,
  cursor: z.string().min(1).max(512, { error: 'a cursor returned as nextCursor' }).optional(),
  limit: intText(1, 200).optional(),
});
export type ListQuery = z.output<typeof listQuerySchema>;
export type Filter = Pick<ListQuery, keyof typeof filterShape>;

export const logsQuerySchema = z.strictObject({
  after: intText(0, 999_999_999).optional(),
  limit: intText(1, 1000).optional(),
});

export const bulkActionSchema = z.enum(['stop', 'rerun'], { error: "'stop' or 'rerun'" });
export type BulkAction = z.output<typeof bulkActionSchema>;

export const bulkPreviewSchema = z.strictObject({ ...filterShape, action: bulkActionSchema });
export const bulkRunSchema = z.strictObject({
  ...filterShape,
  /** The count the user confirmed: the action never goes past it. */
  max: intText(1, 100_000),
});

export const liveQuerySchema = z.strictObject({
  ...filterShape,
  topic: z.enum(['overview', 'list', 'invocation'], { error: "'overview', 'list' or 'invocation'" }),
  cursor: z.string().min(1).max(512).optional(),
  limit: intText(1, 200).optional(),
});
export type LiveQuery = z.output<typeof liveQuerySchema>;

export const emptyQuerySchema = z.strictObject({});

/** Parses `query` with `schema`: the value, or the 400 naming the first bad parameter. */
export function parseQuery<S extends z.ZodType>(schema: S, query: string): { ok: true; value: z.output<S> } | { ok: false; reply: BodyReply } {
  const params = new URLSearchParams(query);
  const object: Record<string, string> = {};
  for (const [name, value] of params) {
    const key = name.slice(0, 64);
    if (Object.hasOwn(object, key)) return { ok: false, reply: invalid(key, `${key} is given more than once; give it once`) };
    object[key] = value;
  }
  const parsed = schema.safeParse(object);
  if (parsed.success) return { ok: true, value: parsed.data };
  const issue = parsed.error.issues[0]!;
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0]!.slice(0, 64);
    return { ok: false, reply: invalid(key, `${key} is not a parameter of this route`) };
  }
  const key = String(issue.path[0] ?? 'query');
  return { ok: false, reply: invalid(key, `${key} must be ${issue.message}`) };
}

function invalid(parameter: string, message: string): BodyReply {
  // The parameter's name (cut to 64 characters), never its value.
  return errorReply(400, 'InvalidQuery', message, { parameter });
}

/** The statuses a filter's status list leaves for an action that applies only to `allowed`. */
export function statusesFor(filter: readonly InvocationStatus[] | undefined, allowed: readonly InvocationStatus[]): InvocationStatus[] {
  return filter ? allowed.filter((s) => filter.includes(s)) : [...allowed];
}
