/** The dashboard's options: validated once with zod when an adapter creates it. */
import { z } from 'zod';
import { parseOptions } from '../config.js';
import { InvalidArgumentError } from '../errors.js';
import type { Authorize, DashboardOptions } from './types.js';

export const MAX_BULK_LIMIT = 100_000;
export const DEFAULT_MAX_BULK = 10_000;

const ORIGIN = /^https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?$|^https?:\/\/\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/;

const optionsSchema = z.strictObject(
  {
    authorize: z.custom<Authorize<unknown>>((v) => typeof v === 'function', { error: 'a function (req) => boolean | 401 | 403, or a promise of one' }).optional(),
    readOnly: z.boolean({ error: 'true or false' }).optional(),
    title: z.string({ error: 'a string of 1 to 100 characters' }).min(1, { error: 'a string of 1 to 100 characters' }).max(100, { error: 'a string of 1 to 100 characters' }).optional(),
    allowedOrigins: z
      .array(z.string().regex(ORIGIN, { error: "an origin such as 'https://admin.example.com' (scheme, host, optional port)" }), { error: 'a list of origins' })
      .optional(),
    maxBulk: z
      .number({ error: `an integer from 1 to ${MAX_BULK_LIMIT}` })
      .int({ error: `an integer from 1 to ${MAX_BULK_LIMIT}` })
      .min(1, { error: `an integer from 1 to ${MAX_BULK_LIMIT}` })
      .max(MAX_BULK_LIMIT, { error: `an integer from 1 to ${MAX_BULK_LIMIT}` })
      .optional(),
  },
  { error: 'an object { authorize?, readOnly?, title?, allowedOrigins?, maxBulk? }' },
);

export interface DashboardSettings<Req> {
  readonly authorize: Authorize<Req> | undefined;
  readonly readOnly: boolean;
  readonly title: string;
  readonly allowedOrigins: ReadonlySet<string>;
  readonly maxBulk: number;
}

/** Validates the options (the adapter has taken its own keys out) and applies the defaults. */
export function compileDashboardOptions<Req>(options: DashboardOptions<Req> | undefined): DashboardSettings<Req> {
  const o = parseOptions(optionsSchema, options ?? {}, 'options');
  const authorize = options?.authorize;
  // Without authorize nobody is known: the actions would be open to any local process or page.
  if (authorize === undefined && o.readOnly === false) {
    throw new InvalidArgumentError('options.readOnly', false, 'true or unset without authorize: a dashboard without authorize is read-only');
  }
  return Object.freeze({
    authorize,
    readOnly: authorize === undefined || o.readOnly === true,
    title: o.title ?? 'async-invoker',
    allowedOrigins: new Set((o.allowedOrigins ?? []).map((origin) => origin.toLowerCase())),
    maxBulk: o.maxBulk ?? DEFAULT_MAX_BULK,
  });
}

/** A mount path option (`basePath`): '' for the root, else `/a/b` without a trailing slash. */
export function normalizeMountPath(basePath: unknown, field = 'options.basePath'): string {
  if (basePath === undefined || basePath === '' || basePath === '/') return '';
  if (typeof basePath !== 'string' || !/^\/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*$/.test(basePath)) {
    throw new InvalidArgumentError(field, basePath, "a path starting with '/', e.g. '/jobs'");
  }
  return basePath.replace(/\/+$/, '');
}
