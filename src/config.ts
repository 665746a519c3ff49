/**
 * Every public option's schema, default and limit, in one place (the single source of truth
 * for validation and for the messages that name the field, the value and what is allowed).
 * Schemas are built once at import; `parseOptions` runs them at the boundary only.
 */
import { z } from 'zod';
import { InvalidArgumentError } from './errors.js';
import { INVOCATION_STATUSES } from './types.js';
import type { Destination, DestinationTarget } from './destinations/types.js';

/**
 * Every numeric option's bounds and default, in one table: the schemas below are built from it,
 * so what is validated, what the messages say and what `LIMITS` exports cannot disagree.
 * Function Compute's values where it has one.
 */
export const LIMITS = {
  maxAsyncRetryAttempts: { min: 0, max: 8, default: 3 },
  maxAsyncEventAgeInSeconds: { min: 1, max: 604_800, default: 86_400 },
  /** Fractions of a second are allowed (tests with short deadlines). */
  timeoutSeconds: { min: 0.001, max: 86_400 },
  maxLostAttempts: { min: 0, max: 100, default: 3 },
  delaySeconds: { min: 0, max: 3600, default: 0 },
  concurrency: { min: 0, max: 10_000, default: 32 },
  functionConcurrency: { min: 1, max: 10_000 },
  /** Fractions of a second are allowed (tests that let leases lapse quickly). */
  leaseSeconds: { min: 0.05, max: 3600, default: 30 },
  claimBatchSize: { min: 1, max: 10_000 },
  listLimit: { min: 1, max: 1000, default: 100 },
  maxDestinationHops: { min: 1, max: 1000, default: 16 },
  retentionMaxAgeSeconds: { min: 1, max: 315_360_000 },
  retentionMaxCount: { min: 0, max: 1_000_000_000 },
  invocationIdLength: 128,
} as const;

type Bounds = { readonly min: number; readonly max: number };

/** An integer within `bounds`; every failure says the same thing (the field, the value, the range). */
export const intIn = ({ min, max }: Bounds) => {
  const allowed = `an integer from ${min} to ${max}`;
  return z
    .number({ error: allowed })
    .int({ error: allowed })
    .min(min, { error: allowed })
    .max(max, { error: allowed });
};

/** A finite number within `bounds`. */
export const numberIn = ({ min, max }: Bounds) => {
  const allowed = `a number from ${min} to ${max}`;
  return z
    .number({ error: allowed })
    .min(min, { error: allowed })
    .max(max, { error: allowed })
    .refine(Number.isFinite, { error: allowed });
};

/** `retention` of every store: how long and how many finished invocations are kept. */
export const retentionSchema = z.strictObject(
  {
    maxAgeSeconds: intIn(LIMITS.retentionMaxAgeSeconds).optional(),
    maxCount: intIn(LIMITS.retentionMaxCount).optional(),
  },
  { error: 'an object { maxAgeSeconds?, maxCount? }' },
);

export const RETRY_BACKOFF_DEFAULTS = {
  initialDelayMs: 1000,
  multiplier: 2,
  maxDelayMs: 300_000,
  jitter: 'full',
} as const;

/** Function Compute's rule for stateful invocation ids. */
export const INVOCATION_ID_PATTERN = /^[A-Za-z_][A-Za-z0-9_-]{0,127}$/;
const invocationIdAllowed =
  'a string that starts with a letter or underscore, then letters, digits, _ or -, at most 128 characters';
export const invocationIdSchema = z
  .string({ error: invocationIdAllowed })
  .regex(INVOCATION_ID_PATTERN, { error: invocationIdAllowed });

const functionNameAllowed =
  'a string that starts with a letter or underscore, then letters, digits, _, . or -, at most 128 characters';
export const FUNCTION_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_.-]{0,127}$/;
export const functionNameSchema = z
  .string({ error: functionNameAllowed })
  .regex(FUNCTION_NAME_PATTERN, { error: functionNameAllowed });

export const retryBackoffSchema = z
  .strictObject(
    {
      initialDelayMs: intIn({ min: 0, max: 3_600_000 }).default(RETRY_BACKOFF_DEFAULTS.initialDelayMs),
      multiplier: numberIn({ min: 1, max: 10 }).default(RETRY_BACKOFF_DEFAULTS.multiplier),
      maxDelayMs: intIn({ min: 0, max: 86_400_000 }).default(RETRY_BACKOFF_DEFAULTS.maxDelayMs),
      jitter: z
        .enum(['full', 'none'], { error: "'full' or 'none'" })
        .default(RETRY_BACKOFF_DEFAULTS.jitter),
    },
    { error: 'an object { initialDelayMs?, multiplier?, maxDelayMs?, jitter? }' },
  )
  .refine((b) => b.maxDelayMs >= b.initialDelayMs, {
    error: 'at least initialDelayMs',
    path: ['maxDelayMs'],
  });

const isDestinationObject = (v: unknown): v is Destination =>
  typeof v === 'object' && v !== null && typeof (v as { send?: unknown }).send === 'function';

const destinationTargetSchema = z.custom<DestinationTarget>(
  (v) =>
    typeof v === 'function' ||
    isDestinationObject(v) ||
    (typeof v === 'object' &&
      v !== null &&
      typeof (v as { function?: unknown }).function === 'string' &&
      FUNCTION_NAME_PATTERN.test((v as { function: string }).function)),
  { error: "{ function: 'name' }, an async callback (record) => {}, httpDestination(url) or an object with send(record)" },
);

export const destinationsSchema = z.strictObject(
  {
    onSuccess: destinationTargetSchema.optional(),
    onFailure: destinationTargetSchema.optional(),
  },
  { error: 'an object { onSuccess?, onFailure? }' },
);

/** A zod schema given as an option (anything with safeParse, as zod 3 and 4 schemas have). */
const zodSchemaSchema = z.custom<z.ZodType>(
  (v) => typeof v === 'object' && v !== null && typeof (v as { safeParse?: unknown }).safeParse === 'function',
  { error: 'a zod schema, e.g. z.object({ url: z.string() })' },
);

export const functionConfigSchema = z.strictObject(
  {
    maxAsyncRetryAttempts: intIn(LIMITS.maxAsyncRetryAttempts).default(LIMITS.maxAsyncRetryAttempts.default),
    maxAsyncEventAgeInSeconds: intIn(LIMITS.maxAsyncEventAgeInSeconds).default(LIMITS.maxAsyncEventAgeInSeconds.default),
    timeoutSeconds: numberIn(LIMITS.timeoutSeconds).optional(),
    maxLostAttempts: intIn(LIMITS.maxLostAttempts).default(LIMITS.maxLostAttempts.default),
    concurrency: intIn(LIMITS.functionConcurrency).optional(),
    retryBackoff: retryBackoffSchema.default(() => ({ ...RETRY_BACKOFF_DEFAULTS })),
    destinations: destinationsSchema.optional(),
    payload: zodSchemaSchema.optional(),
    result: zodSchemaSchema.optional(),
  },
  { error: 'an object of function options' },
);

export const invokerOptionsSchema = z.strictObject(
  {
    store: z.custom<object>(
      (v) => typeof v === 'object' && v !== null && typeof (v as { claim?: unknown }).claim === 'function',
      { error: 'a store, e.g. memoryStore() or sqliteStore({ path })' },
    ),
    concurrency: intIn(LIMITS.concurrency).default(LIMITS.concurrency.default),
    leaseSeconds: numberIn(LIMITS.leaseSeconds).default(LIMITS.leaseSeconds.default),
    clock: z
      .custom<object>(
        (v) => typeof v === 'object' && v !== null && typeof (v as { now?: unknown }).now === 'function',
        { error: 'a Clock { now(), setTimeout(), clearTimeout() }' },
      )
      .optional(),
    maxDestinationHops: intIn(LIMITS.maxDestinationHops).default(LIMITS.maxDestinationHops.default),
    claimBatchSize: intIn(LIMITS.claimBatchSize).optional(),
    keepAlive: z.boolean({ error: 'true or false' }).optional(),
  },
  { error: 'an object of invoker options' },
);

export const invokeAsyncOptionsSchema = z.strictObject(
  {
    delaySeconds: intIn(LIMITS.delaySeconds).optional(),
    invocationId: invocationIdSchema.optional(),
  },
  { error: 'an object { delaySeconds?, invocationId? }' },
);

const epochMs = intIn({ min: 0, max: 8_640_000_000_000_000 });
export const listOptionsSchema = z.strictObject(
  {
    functionName: functionNameSchema.optional(),
    status: z
      .union([
        z.enum(INVOCATION_STATUSES),
        z.array(z.enum(INVOCATION_STATUSES)).min(1).max(INVOCATION_STATUSES.length),
      ], { error: `one of ${INVOCATION_STATUSES.join(', ')}, or a list of them` })
      .optional(),
    since: epochMs.optional(),
    until: epochMs.optional(),
    limit: intIn(LIMITS.listLimit).default(LIMITS.listLimit.default),
    cursor: z.string({ error: 'a cursor returned as nextCursor' }).max(512).optional(),
  },
  { error: 'an object { functionName?, status?, since?, until?, limit?, cursor? }' },
);

export const requestIdSchema = z
  .string({ error: 'a request id string' })
  .min(1, { error: 'a non-empty request id string' })
  .max(256, { error: 'a request id of at most 256 characters' });

/**
 * Parses `value` with `schema`; on failure throws an `InvalidArgumentError` naming the first
 * offending field (prefixed by `where`, e.g. `options`), the value received and what is allowed.
 */
export function parseOptions<S extends z.ZodType>(schema: S, value: unknown, where = ''): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  let path = issue.path.map(String);
  let allowed = issue.message;
  if (issue.code === 'unrecognized_keys') {
    path = [...path, issue.keys[0]!];
    allowed = 'not set: it is not a known option';
  }
  const field = [where, ...path].filter(Boolean).join('.') || 'value';
  throw new InvalidArgumentError(field, valueAt(value, path), allowed);
}

function valueAt(root: unknown, path: readonly string[]): unknown {
  let cur = root;
  for (const key of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

export type FunctionConfigInput = z.input<typeof functionConfigSchema>;
export type FunctionConfig = z.output<typeof functionConfigSchema>;
export type RetryBackoff = z.output<typeof retryBackoffSchema>;
export type InvokeAsyncOptions = z.input<typeof invokeAsyncOptionsSchema>;
export type ListOptionsInput = z.input<typeof listOptionsSchema>;
