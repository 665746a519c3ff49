/**
 * OpenTelemetry instrumentation, after the messaging semantic conventions: a `send <function>`
 * PRODUCER span around invokeAsync, a `process <function>` CONSUMER span around each attempt
 * (a child of the creation context stored with the invocation, and linked to it; the handler
 * runs inside it), a `deliver <function>` span per destination delivery, and metrics.
 *
 * No option turns it on: a registered tracer (meter) provider is enough. Without
 * `@opentelemetry/api`, or with no provider registered, every method returns undefined or does
 * nothing; whether a provider is registered is looked up at most once a second, so the hot path
 * pays for a boolean.
 */
import type { Attributes, Link, Span, SpanContext, SpanKind as SpanKindValue } from '@opentelemetry/api';
import type { EnqueueOutcome, StoredInvocation } from '../stores/contract.js';
import { COUNTER_NAMES } from '../metrics.js';
import { otelApi, type OtelApi } from './api.js';
import { formatTraceContext, formatTraceParent, parseTraceContext } from './trace-context.js';

const NAME = 'async-invoker';
const SYSTEM = 'async-invoker';
const RECHECK_MS = 1000;

/**
 * Bumped every RECHECK_MS by one unref'd timer shared by every invoker, started on first use:
 * the hot path compares two integers instead of reading the clock on every span it might start.
 */
let epoch = 0;
let ticking = false;
function currentEpoch(): number {
  if (!ticking) {
    ticking = true;
    setInterval(() => epoch++, RECHECK_MS).unref();
  }
  return epoch;
}

export interface SendScope {
  /** The send span's context, stored with the invocation so workers continue the trace. */
  readonly traceContext: string;
  end(result: { readonly requestId: string; readonly outcome: EnqueueOutcome } | { readonly error: unknown }): void;
}

export interface SpanScope {
  /** Runs `fn` with this span active (the user's spans nest under it). */
  run<T>(fn: () => T): T;
  end(failure?: { readonly errorType: string; readonly message: string; readonly condition?: string }): void;
}

export type HistogramName = 'queue_wait' | 'run_time' | 'end_to_end';

/** What the invoker, the worker and the HTTP trigger ask of telemetry. */
export interface Telemetry {
  send(functionName: string, requestId: string, invocationId: string | undefined): SendScope | undefined;
  process(record: StoredInvocation): SpanScope | undefined;
  delivery(record: StoredInvocation, target: 'onSuccess' | 'onFailure', destination: { kind: string; name: string }, attempt: number): SpanScope | undefined;
  /** Records a duration (ms) for the function, with the outcome where there is one. */
  histogram(name: HistogramName, ms: number, functionName: string, outcome?: string): void;
}

export const NO_TELEMETRY: Telemetry = {
  send: () => undefined,
  process: () => undefined,
  delivery: () => undefined,
  histogram: () => {},
};

/** Counters the invokers of this process keep, read by OpenTelemetry when it collects. */
export interface CounterSource {
  snapshot(): { readonly functions: Readonly<Record<string, Readonly<Record<string, number>>>> };
}

const counterSources = new Set<CounterSource>();

/** Counts of `source` are reported as OpenTelemetry counters (observed at collection: no cost per invocation). */
export function observeCounters(source: CounterSource): () => void {
  counterSources.add(source);
  return () => counterSources.delete(source);
}

class OtelTelemetry implements Telemetry {
  readonly #api: OtelApi;
  #checkedIn = -1;
  #tracing = false;
  #metering = false;
  #histograms: Partial<Record<HistogramName, ReturnType<ReturnType<OtelApi['metrics']['getMeter']>['createHistogram']>>> = {};

  constructor(api: OtelApi) {
    this.#api = api;
  }

  send(functionName: string, requestId: string, invocationId: string | undefined): SendScope | undefined {
    if (!this.#refresh().tracing) return undefined;
    const api = this.#api;
    const span = api.trace.getTracer(NAME).startSpan(
      `send ${functionName}`,
      {
        kind: api.SpanKind.PRODUCER,
        attributes: messagingAttributes(functionName, 'send', requestId, invocationId === undefined ? {} : { 'async_invoker.invocation.id': invocationId }),
      },
      api.context.active(),
    );
    return {
      traceContext: contextString(span.spanContext()),
      end: (result) => {
        if ('error' in result) fail(api, span, result.error);
        else {
          span.setAttribute('messaging.message.id', result.requestId);
          if (result.outcome !== 'created') span.setAttribute('async_invoker.enqueue.outcome', result.outcome);
        }
        span.end();
      },
    };
  }

  process(record: StoredInvocation): SpanScope | undefined {
    if (!this.#refresh().tracing) return undefined;
    return this.#continue(record, 'process', this.#api.SpanKind.CONSUMER, {
      ...(record.invocationId === undefined ? {} : { 'async_invoker.invocation.id': record.invocationId }),
      'async_invoker.attempt': record.attempts,
    });
  }

  delivery(record: StoredInvocation, target: 'onSuccess' | 'onFailure', destination: { kind: string; name: string }, attempt: number): SpanScope | undefined {
    if (!this.#refresh().tracing) return undefined;
    return this.#continue(record, 'deliver', this.#api.SpanKind.PRODUCER, {
      'async_invoker.destination.target': target,
      'async_invoker.destination.kind': destination.kind,
      'async_invoker.destination.name': destination.name,
      'async_invoker.delivery.attempt': attempt,
      ...(record.condition ? { 'async_invoker.condition': record.condition } : {}),
    });
  }

  /** A span of `record`'s trace, continuing its creation context: an attempt or a delivery. */
  #continue(record: StoredInvocation, operation: 'process' | 'deliver', kind: SpanKindValue, extra: Attributes): SpanScope {
    const api = this.#api;
    const { parent, links } = this.#creation(record);
    const span = api.trace.getTracer(NAME).startSpan(
      `${operation} ${record.functionName}`,
      { kind, links, attributes: messagingAttributes(record.functionName, operation, record.requestId, extra) },
      parent,
    );
    return scope(api, span, parent);
  }

  histogram(name: HistogramName, ms: number, functionName: string, outcome?: string): void {
    if (!this.#refresh().metering) return;
    let histogram = this.#histograms[name];
    if (!histogram) {
      histogram = this.#api.metrics.getMeter(NAME).createHistogram(`async_invoker.${name}`, { unit: 'ms', description: HISTOGRAM_DESCRIPTIONS[name] });
      this.#histograms[name] = histogram;
    }
    histogram.record(ms, { 'messaging.destination.name': functionName, ...(outcome === undefined ? {} : { 'async_invoker.outcome': outcome }) });
  }

  /** The stored creation context as the parent (one message per process span) and a link. */
  #creation(record: StoredInvocation): { parent: ReturnType<OtelApi['context']['active']>; links: Link[] } {
    const api = this.#api;
    const tp = parseTraceContext(record.traceContext);
    if (!tp) return { parent: api.ROOT_CONTEXT, links: [] };
    const context: SpanContext = {
      traceId: tp.traceId,
      spanId: tp.spanId,
      traceFlags: tp.traceFlags,
      isRemote: true,
      ...(tp.traceState ? { traceState: api.createTraceState(tp.traceState) } : {}),
    };
    return { parent: api.trace.setSpanContext(api.ROOT_CONTEXT, context), links: [{ context }] };
  }

  /** Providers may be registered after the invoker was made: looked up again at most once a second. */
  #refresh(): this {
    const now = currentEpoch();
    if (now === this.#checkedIn) return this;
    this.#checkedIn = now;
    const api = this.#api;
    const tracerProvider = api.trace.getTracerProvider() as { getDelegate?: () => unknown };
    const delegate = tracerProvider.getDelegate ? tracerProvider.getDelegate() : tracerProvider;
    this.#tracing = !isNoop(delegate);
    const meterProvider = api.metrics.getMeterProvider();
    const metering = !isNoop(meterProvider);
    if (metering !== this.#metering) this.#histograms = {};
    this.#metering = metering;
    if (metering) observeOnce(api, meterProvider);
    return this;
  }

  get tracing(): boolean {
    return this.#tracing;
  }

  get metering(): boolean {
    return this.#metering;
  }
}

/** The meter provider the counters are observed on (once per provider, for every invoker of the process). */
let observedOn: unknown;

/** One observable counter per Function Compute name, summing every invoker of the process. */
function observeOnce(api: OtelApi, provider: unknown): void {
  if (observedOn === provider) return;
  observedOn = provider;
  const meter = api.metrics.getMeter(NAME);
  const counters = new Map<string, ReturnType<typeof meter.createObservableCounter>>();
  // The counter names reported are metrics()'s.
  for (const name of COUNTER_NAMES) counters.set(name, meter.createObservableCounter(name, { description: `Function Compute's ${name}, per function` }));
  meter.addBatchObservableCallback((result) => {
    const sums = new Map<string, Map<string, number>>();
    for (const source of counterSources) {
      for (const [fn, values] of Object.entries(source.snapshot().functions)) {
        for (const [name, n] of Object.entries(values)) {
          const byFn = sums.get(name) ?? new Map<string, number>();
          byFn.set(fn, (byFn.get(fn) ?? 0) + n);
          sums.set(name, byFn);
        }
      }
    }
    for (const [name, byFn] of sums) {
      const counter = counters.get(name);
      if (counter) for (const [fn, n] of byFn) result.observe(counter, n, { 'messaging.destination.name': fn });
    }
  }, [...counters.values()]);
}


const HISTOGRAM_DESCRIPTIONS: Record<HistogramName, string> = {
  queue_wait: 'Time from when an attempt was due to when it started',
  run_time: "Time an attempt's handler ran, until its outcome",
  end_to_end: 'Time from enqueue to the final outcome',
};

function isNoop(provider: unknown): boolean {
  const name = (provider as { constructor?: { name?: string } } | undefined)?.constructor?.name ?? '';
  return provider === undefined || name.startsWith('Noop');
}

function messagingAttributes(functionName: string, operation: string, requestId: string, extra: Attributes): Attributes {
  return {
    'messaging.system': SYSTEM,
    'messaging.destination.name': functionName,
    'messaging.operation.type': operation === 'deliver' ? 'send' : operation,
    'messaging.operation.name': operation,
    'messaging.message.id': requestId,
    ...extra,
  };
}

function contextString(context: SpanContext): string {
  const state = context.traceState?.serialize();
  return formatTraceContext({ traceId: context.traceId, spanId: context.spanId, traceFlags: context.traceFlags, ...(state ? { traceState: state } : {}) });
}

function scope(api: OtelApi, span: Span, parent: ReturnType<OtelApi['context']['active']>): SpanScope {
  const active = api.trace.setSpan(parent, span);
  return {
    run: (fn) => api.context.with(active, fn),
    end: (failure) => {
      if (failure) {
        span.setAttribute('error.type', failure.errorType);
        if (failure.condition) span.setAttribute('async_invoker.condition', failure.condition);
        span.setStatus({ code: api.SpanStatusCode.ERROR, message: failure.message });
      }
      span.end();
    },
  };
}

function fail(api: OtelApi, span: Span, error: unknown): void {
  const type = error instanceof Error ? (error as { code?: unknown }).code ?? error.name : 'Error';
  span.setAttribute('error.type', String(type));
  span.setStatus({ code: api.SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
}

/** The telemetry of an invoker: OpenTelemetry when the API is installed and `tracing` is not false. */
export function createTelemetry(enabled: boolean): Telemetry {
  if (!enabled) return NO_TELEMETRY;
  const api = otelApi();
  return api ? new OtelTelemetry(api) : NO_TELEMETRY;
}

/** The active span's `traceparent` (for a request the HTTP trigger replays), if any. */
export function activeTraceParent(): string | undefined {
  const api = otelApi();
  const context = api?.trace.getSpanContext(api.context.active());
  return context && api!.isSpanContextValid(context) ? formatTraceParent(context) : undefined;
}

/** Runs `fn` with a remote parent taken from a `traceparent` header, unless a span is already active. */
export function withRemoteParent<T>(traceparent: string | undefined, tracestate: string | undefined, fn: () => T): T {
  const api = otelApi();
  if (!api || !traceparent || api.trace.getSpanContext(api.context.active())) return fn();
  const tp = parseTraceContext(tracestate ? `${traceparent};${tracestate}` : traceparent);
  if (!tp) return fn();
  const context: SpanContext = {
    traceId: tp.traceId,
    spanId: tp.spanId,
    traceFlags: tp.traceFlags,
    isRemote: true,
    ...(tp.traceState ? { traceState: api.createTraceState(tp.traceState) } : {}),
  };
  return api.context.with(api.trace.setSpanContext(api.context.active(), context), fn);
}
