/** What `invoker.functions()` shows of each registered function: its effective configuration, as JSON. */
import type { ResolvedDestination } from './destinations/resolve.js';
import type { RegisteredFunction } from './registry.js';
import type { FunctionLimits } from './stores/contract.js';

export interface FunctionInfo {
  readonly name: string;
  readonly maxAsyncRetryAttempts: number;
  readonly maxAsyncEventAgeInSeconds: number;
  readonly maxLostAttempts: number;
  readonly timeoutSeconds?: number;
  /** Per-process cap, if set. */
  readonly concurrency?: number;
  readonly retryBackoff: { readonly initialDelayMs: number; readonly multiplier: number; readonly maxDelayMs: number; readonly jitter: 'full' | 'none' };
  /** Each destination, described: `function notify`, `webhook https://…/hook`, `callback onDone`. */
  readonly destinations: { readonly onSuccess?: string; readonly onFailure?: string };
  readonly logs: { readonly maxLines: number; readonly maxBytes: number };
  readonly captureConsole: boolean;
  /** Whether payloads and results are checked by a schema. */
  readonly payloadSchema: boolean;
  readonly resultSchema: boolean;
  /** Limits across every process sharing the store, if set (`grouped`: a groupBy is set). */
  readonly limits?: FunctionLimits;
}

/**
 * A function's limits in words, the same in every process with the same settings (it goes in
 * the worker's presence, where processes compare them): "none" without limits.
 */
export function describeLimits(limits: FunctionLimits | undefined): string {
  if (!limits) return 'none';
  const parts: string[] = [];
  if (limits.concurrency !== undefined) parts.push(`concurrency ${limits.concurrency}`);
  if (limits.perSecond !== undefined) parts.push(`perSecond ${limits.perSecond}`);
  if (limits.grouped) parts.push('groupBy');
  if (limits.groupConcurrency !== undefined) parts.push(`groupConcurrency ${limits.groupConcurrency}`);
  return parts.length ? parts.join(', ') : 'none';
}

function describe(destination: ResolvedDestination | undefined): string | undefined {
  if (!destination) return undefined;
  return destination.kind === 'function' ? `function ${destination.functionName}` : (destination.destination.description ?? 'destination');
}

export function describeFunction(fn: RegisteredFunction): FunctionInfo {
  const { config } = fn;
  const onSuccess = describe(fn.onSuccess);
  const onFailure = describe(fn.onFailure);
  return {
    name: fn.name,
    maxAsyncRetryAttempts: config.maxAsyncRetryAttempts,
    maxAsyncEventAgeInSeconds: config.maxAsyncEventAgeInSeconds,
    maxLostAttempts: config.maxLostAttempts,
    ...(config.timeoutSeconds === undefined ? {} : { timeoutSeconds: config.timeoutSeconds }),
    ...(config.concurrency === undefined ? {} : { concurrency: config.concurrency }),
    retryBackoff: { ...config.retryBackoff },
    destinations: { ...(onSuccess ? { onSuccess } : {}), ...(onFailure ? { onFailure } : {}) },
    logs: { ...config.logs },
    captureConsole: config.captureConsole,
    payloadSchema: fn.payloadSchema !== undefined,
    resultSchema: fn.resultSchema !== undefined,
    ...(fn.limits ? { limits: { ...fn.limits } } : {}),
  };
}
