/** Registered functions: the handler with its options compiled once. */
import type { ZodType } from 'zod';
import { compileRedactor, type Redactor } from './redact.js';
import type { FunctionLimits } from './stores/contract.js';
import { functionConfigSchema, parseOptions, type FunctionConfig } from './config.js';
import { DestinationCycleError } from './errors.js';
import { resolveDestination, type ResolvedDestination } from './destinations/resolve.js';
import type { RetryPolicy } from './policy.js';
import type { FunctionOptions, Handler } from './options.js';

export interface RegisteredFunction {
  readonly name: string;
  readonly handler: Handler<unknown, unknown>;
  readonly config: FunctionConfig;
  readonly policy: RetryPolicy;
  readonly timeoutMs: number | undefined;
  readonly concurrency: number | undefined;
  readonly maxEventAgeMs: number;
  readonly onSuccess: ResolvedDestination | undefined;
  readonly onFailure: ResolvedDestination | undefined;
  /** Checks payloads at invokeAsync and again when due (undefined: any JSON value). */
  readonly payloadSchema: ZodType | undefined;
  readonly resultSchema: ZodType | undefined;
  /** Largest payload and result, bytes of JSON (the function's, else the invoker's). */
  readonly maxPayloadBytes: number;
  /** Hides what the function's `redact` option names (undefined: nothing). */
  readonly redactor: Redactor | undefined;
  /** The limits the store enforces in claims (undefined: none). */
  readonly limits: FunctionLimits | undefined;
  /** Computes an invocation's group key from its payload (limits.groupBy). */
  readonly groupBy: ((payload: unknown) => string) | undefined;
  /** Settling an attempt frees a slot other processes may be waiting for (a concurrency limit). */
  readonly wakesOthers: boolean;
}

export function compileFunction(
  name: string,
  handler: Handler<unknown, unknown>,
  options: FunctionOptions | undefined,
  defaults: { readonly maxPayloadBytes: number },
): RegisteredFunction {
  const config = parseOptions(functionConfigSchema, options ?? {}, 'config');
  const maxEventAgeMs = config.maxAsyncEventAgeInSeconds * 1000;
  return Object.freeze({
    name,
    handler,
    config,
    policy: Object.freeze({
      maxAsyncRetryAttempts: config.maxAsyncRetryAttempts,
      maxEventAgeMs,
      backoff: Object.freeze({ ...config.retryBackoff }),
      maxLostAttempts: config.maxLostAttempts,
    }),
    timeoutMs: config.timeoutSeconds === undefined ? undefined : Math.round(config.timeoutSeconds * 1000),
    concurrency: config.concurrency,
    maxEventAgeMs,
    onSuccess: resolveDestination(config.destinations?.onSuccess),
    onFailure: resolveDestination(config.destinations?.onFailure),
    payloadSchema: config.payload,
    resultSchema: config.result,
    maxPayloadBytes: config.maxPayloadBytes ?? defaults.maxPayloadBytes,
    redactor: compileRedactor(config.redact),
    limits: storeLimits(config.limits),
    groupBy: config.limits?.groupBy as ((payload: unknown) => string) | undefined,
    wakesOthers: config.limits?.concurrency !== undefined || config.limits?.groupConcurrency !== undefined,
  });
}

/** The limits as claims carry them, or undefined when the function has none. */
function storeLimits(limits: FunctionConfig['limits']): FunctionLimits | undefined {
  if (!limits) return undefined;
  const out: { -readonly [K in keyof FunctionLimits]: FunctionLimits[K] } = {};
  if (limits.concurrency !== undefined) out.concurrency = limits.concurrency;
  if (limits.perSecond !== undefined) out.perSecond = limits.perSecond;
  if (limits.groupConcurrency !== undefined) out.groupConcurrency = limits.groupConcurrency;
  if (limits.groupBy !== undefined) out.grouped = true;
  return Object.keys(out).length ? Object.freeze(out) : undefined;
}

function destinationFunctions(fn: RegisteredFunction): string[] {
  const names: string[] = [];
  for (const d of [fn.onSuccess, fn.onFailure]) if (d?.kind === 'function') names.push(d.functionName);
  return names;
}

/**
 * Refuses a registration whose `{ function }` destinations would lead back to itself
 * through the functions already registered. Throws `DestinationCycleError` naming the cycle.
 */
export function assertNoDestinationCycle(candidate: RegisteredFunction, registered: ReadonlyMap<string, RegisteredFunction>): void {
  const edges = (name: string): string[] => {
    if (name === candidate.name) return destinationFunctions(candidate);
    const fn = registered.get(name);
    return fn ? destinationFunctions(fn) : [];
  };
  const visit = (name: string, path: string[], seen: Set<string>): string[] | undefined => {
    for (const next of edges(name)) {
      if (next === candidate.name) return [...path, next];
      if (seen.has(next)) continue;
      seen.add(next);
      const found = visit(next, [...path, next], seen);
      if (found) return found;
    }
    return undefined;
  };
  const cycle = visit(candidate.name, [candidate.name], new Set());
  if (cycle) throw new DestinationCycleError(cycle);
}
