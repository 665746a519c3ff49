/** The trigger's options: their types, documentation and zod schema (validated once, at creation). */
import { z } from 'zod';
import { functionConfigSchema, functionNameSchema, LIMITS, parseOptions } from '../config.js';
import type { FunctionOptions } from '../options.js';
import { DEFAULT_TYPE_HEADERS } from './headers.js';
import { DEFAULT_ALLOWED_HEADERS } from './record.js';

/** Options every adapter's `asyncTrigger` takes, besides the app or handler it replays into. */
export interface TriggerOptions extends FunctionOptions {
  /**
   * Name the replaying function is registered under; its task records carry it. Use one name per
   * trigger when an invoker serves several apps.
   * @default 'http'
   */
  readonly functionName?: string;
  /**
   * Request header(s) that select the invocation type (`Async` or `Sync`, any case), first found wins.
   * @default ['x-fc-invocation-type', 'x-invocation-type']
   */
  readonly headerName?: string | readonly string[];
  /**
   * Largest async request body in bytes; a larger one is answered 413 and not stored.
   * @default 131072 (128 KB, as Function Compute)
   */
  readonly maxBodyBytes?: number;
  /**
   * Request headers recorded and replayed besides the defaults (`DEFAULT_ALLOWED_HEADERS`:
   * accept, accept-language, content-encoding, content-language, content-type, host,
   * traceparent, tracestate, user-agent, x-correlation-id, x-request-id).
   * @default []
   */
  readonly allowHeaders?: readonly string[];
}

export const DEFAULT_FUNCTION_NAME = 'http';
export const DEFAULT_MAX_BODY_BYTES = 128 * 1024;
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,256}$/;
const headerNameSchema = z.string().regex(HEADER_NAME, { error: 'an HTTP header name (token characters)' });

const triggerSchema = functionConfigSchema.extend({
  functionName: functionNameSchema.default(DEFAULT_FUNCTION_NAME),
  headerName: z
    .union([headerNameSchema, z.array(headerNameSchema).min(1)], { error: 'a header name or a non-empty list of header names' })
    .optional(),
  maxBodyBytes: z
    .number({ error: 'an integer number of bytes from 1 to 67108864' })
    .int({ error: 'an integer number of bytes from 1 to 67108864' })
    .min(1, { error: 'an integer number of bytes from 1 to 67108864' })
    .max(64 * 1024 * 1024, { error: 'an integer number of bytes from 1 to 67108864' })
    .default(DEFAULT_MAX_BODY_BYTES),
  allowHeaders: z.array(headerNameSchema, { error: 'a list of header names' }).default([]),
});

export interface CompiledTrigger {
  readonly functionName: string;
  readonly typeHeaders: readonly string[];
  readonly maxBodyBytes: number;
  readonly allowed: ReadonlySet<string>;
  readonly functionConfig: FunctionOptions;
}

/**
 * Validates `options` (the adapter has taken its own key, `app` or `handler`, out) and splits
 * them into the trigger's settings and the function config passed on to `register`.
 */
export function compileTriggerOptions(options: TriggerOptions): CompiledTrigger {
  const o = parseOptions(triggerSchema, options, 'options');
  const { functionName, headerName, maxBodyBytes, allowHeaders, ...functionConfig } = o;
  const names = headerName === undefined ? DEFAULT_TYPE_HEADERS : typeof headerName === 'string' ? [headerName] : headerName;
  return Object.freeze({
    functionName,
    typeHeaders: Object.freeze(names.map((n) => n.toLowerCase())),
    maxBodyBytes,
    allowed: new Set([...DEFAULT_ALLOWED_HEADERS, ...allowHeaders.map((n) => n.toLowerCase())]),
    // Only what the user set (register applies the defaults itself), and room for the recorded
    // request: a body of maxBodyBytes, base64 if binary (4/3), and its headers.
    functionConfig: {
      maxPayloadBytes: Math.min(LIMITS.maxPayloadBytes.max, Math.ceil((maxBodyBytes * 4) / 3) + RECORD_OVERHEAD_BYTES),
      ...pick(options, Object.keys(functionConfig) as (keyof FunctionOptions)[]),
    },
  });
}

/** Room in a recorded request's payload for its method, path, query and allow-listed headers. */
const RECORD_OVERHEAD_BYTES = 65_536;

function pick(options: TriggerOptions, keys: readonly (keyof FunctionOptions)[]): FunctionOptions {
  const out: Record<string, unknown> = {};
  for (const key of keys) if (options[key] !== undefined) out[key] = options[key];
  return out as FunctionOptions;
}
