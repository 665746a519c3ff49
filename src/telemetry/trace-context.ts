/**
 * The creation context an invocation carries through the store: W3C `traceparent`, and
 * `;tracestate` when there is one. Formatted and parsed here (the format is four dash-separated
 * fields), so no propagator needs to be registered for a worker to continue the trace.
 */
export interface TraceParent {
  readonly traceId: string;
  readonly spanId: string;
  readonly traceFlags: number;
  readonly traceState?: string;
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const INVALID_TRACE = '0'.repeat(32);
const INVALID_SPAN = '0'.repeat(16);

export function formatTraceParent(p: Pick<TraceParent, 'traceId' | 'spanId' | 'traceFlags'>): string {
  return `00-${p.traceId}-${p.spanId}-${(p.traceFlags & 0xff).toString(16).padStart(2, '0')}`;
}

/** `traceparent` or `traceparent;tracestate`, as stored. */
export function formatTraceContext(p: TraceParent): string {
  const parent = formatTraceParent(p);
  return p.traceState ? `${parent};${p.traceState}` : parent;
}

/** A `traceparent` header value; undefined when it is not a valid version-00 one. */
export function parseTraceParent(header: string | undefined, traceState?: string): TraceParent | undefined {
  if (!header) return undefined;
  const m = TRACEPARENT.exec(header.trim().toLowerCase());
  if (!m || m[1] === INVALID_TRACE || m[2] === INVALID_SPAN) return undefined;
  const state = traceState?.trim();
  return { traceId: m[1]!, spanId: m[2]!, traceFlags: parseInt(m[3]!, 16), ...(state ? { traceState: state } : {}) };
}

/** A stored trace context; undefined when absent or malformed. */
export function parseTraceContext(stored: string | undefined): TraceParent | undefined {
  if (!stored) return undefined;
  const semi = stored.indexOf(';');
  return semi === -1 ? parseTraceParent(stored) : parseTraceParent(stored.slice(0, semi), stored.slice(semi + 1));
}
