/**
 * Every public option's schema, default and limit, in one place (the single source of truth
 * for validation and for the messages that name the field, the value and what is allowed).
 * Schemas are built once at import; `parseOptions` runs them at the boundary only.
 */
import { z } from 'zod';
import { InvalidArgumentError } from './errors.js';
import { INVOCATION_STATUSES } from './types.js';
import type { Destination, DestinationTarget } from './destinations/types.js';
import type { Redactor } from './redact.js';

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
  /** close({ timeoutSeconds }): how long running handlers get; 0 interrupts them at once. */
  closeTimeoutSeconds: { min: 0, max: 86_400 },
  maxLostAttempts: { min: 0, max: 100, default: 3 },
  delaySeconds: { min: 0, max: 3600, default: 0 },
  concurrency: { min: 0, max: 10_000, default: 32 },
  functionConcurrency: { min: 1, max: 10_000 },
  /** Fractions of a second are allowed (tests that let leases lapse quickly). */
  leaseSeconds: { min: 0.05, max: 3600, default: 30 },
  claimBatchSize: { min: 1, max: 10_000 },
  listLimit: { min: 1, max: 1000, default: 100 },
  maxDestinationHops: { min: 1, max: 1000, default: 16 },
  /** Function Compute caps async payloads at 128 KB; raise it per invoker or function if you must. */
  maxPayloadBytes: { min: 1024, max: 8_388_608, default: 131_072 },
  limitConcurrency: { min: 1, max: 100_000 },
  limitPerSecond: { min: 1, max: 100_000 },
  groupKeyLength: 256,
  invokeAsyncManyItems: 10_000,
  logMaxLines: { min: 1, max: 100_000, default: 1000 },
  logMaxBytes: { min: 1024, max: 16_777_216, default: 65_536 },
  logPageLimit: { min: 1, max: 10_000, default: 1000 },
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

const limitsSchema = z
  .strictObject(
    {
      concurrency: intIn(LIMITS.limitConcurrency).optional(),
      perSecond: intIn(LIMITS.limitPerSecond).optional(),
      groupBy: z.custom<(payload: never) => string>((v) => typeof v === 'function', { error: 'a function (payload) => group key' }).optional(),
      groupConcurrency: intIn(LIMITS.limitConcurrency).optional(),
    },
    { error: 'an object { concurrency?, perSecond?, groupBy?, groupConcurrency? }' },
  )
  .refine((l) => l.groupConcurrency === undefined || l.groupBy !== undefined, {
    error: 'set together with groupBy: the group of an invocation comes from it',
    path: ['groupConcurrency'],
  });

const REDACT_PATH = /^(payload|result|log)(\.[^.]+)+$/;
/** Paths to redact, as `redact` takes them (also the command line's `--redact`). */
export const redactPathsSchema = z.array(z.string().regex(REDACT_PATH, { error: "a path starting with payload., result. or log. (e.g. 'payload.card.number', 'payload.*.token')" }), {
  error: 'a list of paths',
});
const REDACT_ALLOWED =
  "a list of paths starting with payload., result. or log. (e.g. 'payload.card.number', 'log.*.token'), or a function (value, target) => redacted copy";

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
    logs: z
      .strictObject(
        {
          maxLines: intIn(LIMITS.logMaxLines).default(LIMITS.logMaxLines.default),
          maxBytes: intIn(LIMITS.logMaxBytes).default(LIMITS.logMaxBytes.default),
        },
        { error: 'an object { maxLines?, maxBytes? }' },
      )
      .default({ maxLines: LIMITS.logMaxLines.default, maxBytes: LIMITS.logMaxBytes.default }),
    captureConsole: z.boolean({ error: 'true or false' }).default(false),
    maxPayloadBytes: intIn(LIMITS.maxPayloadBytes).optional(),
    limits: limitsSchema.optional(),
    redact: z
      .union(
        [
          z.array(z.string().regex(REDACT_PATH, { error: REDACT_ALLOWED }), { error: REDACT_ALLOWED }),
          z.custom<Redactor>((v) => typeof v === 'function', { error: REDACT_ALLOWED }),
        ],
        { error: REDACT_ALLOWED },
      )
      .optional(),
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
    tracing: z.boolean({ error: 'true or false' }).optional(),
    maxPayloadBytes: intIn(LIMITS.maxPayloadBytes).default(LIMITS.maxPayloadBytes.default),
  },
  { error: 'an object of invoker options' },
);

export const closeOptionsSchema = z.strictObject(
  { timeoutSeconds: numberIn(LIMITS.closeTimeoutSeconds).optional() },
  { error: 'an object { timeoutSeconds? }' },
);

export const invokeAsyncOptionsSchema = z.strictObject(
  {
    delaySeconds: intIn(LIMITS.delaySeconds).optional(),
    invocationId: invocationIdSchema.optional(),
  },
  { error: 'an object { delaySeconds?, invocationId? }' },
);

const epochMs = intIn({ min: 0, max: 8_640_000_000_000_000 });
const invocationIdPrefixAllowed = 'the start of an invocationId: letters, digits, _ or -, at most 128 characters';
export const listOptionsSchema = z.strictObject(
  {
    functionName: functionNameSchema.optional(),
    invocationIdPrefix: z
      .string({ error: invocationIdPrefixAllowed })
      .regex(/^[A-Za-z0-9_-]{1,128}$/, { error: invocationIdPrefixAllowed })
      .optional(),
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
  { error: 'an object { functionName?, invocationIdPrefix?, status?, since?, until?, limit?, cursor? }' },
);

export const logsQuerySchema = z.strictObject(
  {
    after: intIn({ min: 0, max: Number.MAX_SAFE_INTEGER }).default(0),
    limit: intIn(LIMITS.logPageLimit).default(LIMITS.logPageLimit.default),
  },
  { error: 'an object { after?, limit? }' },
);

export const activityQuerySchema = z.strictObject(
  {
    since: epochMs.optional(),
    until: epochMs.optional(),
    functionName: functionNameSchema.optional(),
  },
  { error: 'an object { since?, until?, functionName? }' },
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
