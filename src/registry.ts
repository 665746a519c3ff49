/** Registered functions: the handler with its options compiled once. */
import type { ZodType } from 'zod';
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
}

export function compileFunction(name: string, handler: Handler<unknown, unknown>, options: FunctionOptions | undefined): RegisteredFunction {
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
  });
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
