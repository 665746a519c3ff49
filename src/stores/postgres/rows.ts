/** Between records and rows: what record-columns.sql selects, and the JSON the batch statements take. */
import type { Condition, InvocationError, InvocationEvent, InvocationStatus, JsonValue } from '../../types.js';
import type {
  ActivityEntry,
  DeliveryState,
  LogAppend,
  LogLevel,
  LogLine,
  NewInvocation,
  QueueStats,
  SettleOutcome,
  Settlement,
  StoredInvocation,
  WorkerPresence,
} from '../contract.js';
import { logLineBytes } from '../logs.js';
import { activityCells, activityFromCells } from '../activity.js';

/** A row as `pg` returns it: bigint columns arrive as strings, jsonb already parsed. */
export interface RecordRow {
  request_id: string;
  function_name: string;
  status: InvocationStatus;
  payload: JsonValue;
  attempts: number;
  created_at: string;
  scheduled_at: string;
  started_at: string | null;
  ended_at: string | null;
  result_box: [JsonValue] | null;
  error: InvocationError | null;
  condition: Condition | null;
  invocation_id: string | null;
  events: InvocationEvent[];
  due_at: string | null;
  lease_token: string | null;
  throttles: number;
  lost_attempts: number;
  interrupted_attempts: number;
  hops: number;
  delivery: DeliveryState | null;
  rerun_of: string | null;
  trace_context: string | null;
  group_key: string | null;
}

type Writable<T> = { -readonly [K in keyof T]: T[K] };

export function toRecord(row: RecordRow): StoredInvocation {
  const record: Writable<StoredInvocation> = {
    requestId: row.request_id,
    functionName: row.function_name,
    status: row.status,
    payload: row.payload,
    attempts: row.attempts,
    createdAt: Number(row.created_at),
    scheduledAt: Number(row.scheduled_at),
    events: row.events,
    throttles: row.throttles,
    lostAttempts: row.lost_attempts,
    interruptedAttempts: row.interrupted_attempts,
    hops: row.hops,
  };
  // Absent fields stay absent (not undefined-valued), as in the other stores.
  if (row.started_at !== null) record.startedAt = Number(row.started_at);
  if (row.ended_at !== null) record.endedAt = Number(row.ended_at);
  if (row.result_box !== null) record.result = row.result_box[0];
  if (row.error !== null) record.error = row.error;
  if (row.condition !== null) record.condition = row.condition;
  if (row.invocation_id !== null) record.invocationId = row.invocation_id;
  if (row.due_at !== null) record.dueAt = Number(row.due_at);
  if (row.lease_token !== null) record.leaseToken = row.lease_token;
  if (row.delivery !== null) record.delivery = row.delivery;
  if (row.rerun_of !== null) record.rerunOf = row.rerun_of;
  if (row.trace_context !== null) record.traceContext = row.trace_context;
  if (row.group_key !== null) record.groupKey = row.group_key;
  return record;
}

/** enqueue.sql's `$1`..`$12`: one array per column, in input order (absent = null). */
export function enqueueParams(items: readonly NewInvocation[]): unknown[] {
  const n = items.length;
  const requestIds = new Array<string>(n);
  const functionNames = new Array<string>(n);
  const payloads = new Array<JsonValue>(n);
  const createdAt = new Array<number>(n);
  const scheduledAt = new Array<number>(n);
  const invocationIds = new Array<string | null>(n);
  const payloadKeys = new Array<string | null>(n);
  const hops = new Array<number>(n);
  const details = new Array<string | null>(n);
  const rerunOf = new Array<string | null>(n);
  const traceContexts = new Array<string | null>(n);
  const groupKeys = new Array<string | null>(n);
  for (let i = 0; i < n; i++) {
    const item = items[i]!;
    requestIds[i] = item.requestId;
    functionNames[i] = item.functionName;
    payloads[i] = item.payload;
    createdAt[i] = item.createdAt;
    scheduledAt[i] = item.scheduledAt;
    invocationIds[i] = item.invocationId ?? null;
    payloadKeys[i] = item.payloadKey ?? null;
    hops[i] = item.hops;
    details[i] = item.detail ?? null;
    rerunOf[i] = item.rerunOf ?? null;
    traceContexts[i] = item.traceContext ?? null;
    groupKeys[i] = item.groupKey ?? null;
  }
  // The payloads as one JSON array: a JSON null payload stays the JSON value null.
  return [requestIds, functionNames, JSON.stringify(payloads), createdAt, scheduledAt, invocationIds, payloadKeys, hops, details, rerunOf, traceContexts, groupKeys];
}

/** A row of settle.sql's answer (due_at a string as a column, a number inside settle-claim's JSON). */
export interface SettledRow {
  readonly ord: number;
  readonly outcome: SettleOutcome;
  readonly function_name: string | null;
  readonly due_at: string | number | null;
  readonly woke: boolean;
}

/** settle.sql's `$1`; `ords` maps each settlement to its place in the caller's batch. */
export function settleParam(items: readonly Settlement[], ords: readonly number[]): string {
  return JSON.stringify(
    items.map((s, i) => ({
      ord: ords[i],
      request_id: s.requestId,
      lease_token: s.leaseToken,
      status: s.status,
      events: s.events,
      due_at: s.dueAt,
      keep_lease: s.keepLease === true,
      scheduled_at: s.scheduledAt,
      ended_at: s.endedAt,
      result_box: s.result === undefined ? undefined : { v: s.result },
      error_box: s.error === undefined ? undefined : { v: s.error },
      condition: s.condition,
      throttles: s.throttles,
      lost_attempts: s.lostAttempts,
      interrupted_attempts: s.interruptedAttempts,
      delivery_box: s.delivery === undefined ? undefined : { v: s.delivery },
      // The wake-up's time, as the other stores signal it: the settlement's first event.
      wake_at: s.wake ? (s.events[0]?.at ?? 0) : undefined,
    })),
  );
}

/** A row of workers.sql: the presence as announced, its expiry from the indexed column. */
export interface PresenceRow {
  worker_id: string;
  expires_at: string;
  presence: Omit<WorkerPresence, 'workerId' | 'expiresAt'>;
}

/** announce.sql's `$3`: what the row does not hold in columns of its own. */
export function presenceParam(p: WorkerPresence): string {
  return JSON.stringify({ functions: p.functions, limits: p.limits, host: p.host, pid: p.pid, concurrency: p.concurrency, startedAt: p.startedAt });
}

export function toPresence(row: PresenceRow): WorkerPresence {
  const { functions, limits, host, pid, concurrency, startedAt } = row.presence;
  const presence = { workerId: row.worker_id, functions, host, pid, concurrency, startedAt, expiresAt: Number(row.expires_at) };
  // Absent in presences announced by versions without limits.
  return limits === undefined ? presence : { ...presence, limits };
}

/** A row of stats.sql: counts arrive as strings (bigint). */
export interface StatsRow {
  function_name: string;
  pending: string;
  running: string;
  oldest_pending_at: string | null;
}

export function toQueueStats(rows: readonly StatsRow[]): QueueStats {
  const pending: Record<string, number> = {};
  const running: Record<string, number> = {};
  const oldestPendingAt: Record<string, number> = {};
  for (const row of rows) {
    if (Number(row.pending) > 0) pending[row.function_name] = Number(row.pending);
    if (Number(row.running) > 0) running[row.function_name] = Number(row.running);
    if (row.oldest_pending_at !== null) oldestPendingAt[row.function_name] = Number(row.oldest_pending_at);
  }
  return { pending, running, oldestPendingAt };
}

/**
 * append-logs.sql's `$1`: each line with its logLineBytes (SQL never measures JSON), data boxed
 * (jsonb_to_recordset reads a bare JSON null as SQL NULL). PostgreSQL text and jsonb hold neither
 * U+0000 nor a lone surrogate, and one such line would fail the whole batch: both are written as
 * U+FFFD (bytes still count the line as given).
 */
export function appendLogsParam(items: readonly LogAppend[]): string {
  return JSON.stringify(
    items.map((item) => ({
      request_id: item.requestId,
      dropped: item.dropped ?? 0,
      max_lines: item.maxLines,
      max_bytes: item.maxBytes,
      lines: item.lines.map((line) => ({
        at: line.at,
        attempt: line.attempt,
        level: line.level,
        message: line.message,
        ...(line.data === undefined ? {} : { data_box: { v: line.data } }),
        bytes: logLineBytes(line),
      })),
    })),
    storable,
  );
}

/** trim-logs.sql's `$1`. */
export function trimLogsParam(items: readonly LogAppend[]): string {
  return JSON.stringify(items.map((item) => ({ request_id: item.requestId, max_lines: item.maxLines, max_bytes: item.maxBytes })));
}

/** What PostgreSQL text cannot hold: U+0000, and a surrogate that is not half of a pair. */
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const UNSTORABLE_ALL = new RegExp(UNSTORABLE.source, 'g');

function storableString(text: string): string {
  return UNSTORABLE.test(text) ? text.replace(UNSTORABLE_ALL, '\ufffd') : text;
}

/** A JSON.stringify replacer: strings, and the keys of objects, as PostgreSQL can store them. */
function storable(_key: string, value: unknown): unknown {
  if (typeof value === 'string') return storableString(value);
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  for (const key in value) {
    if (UNSTORABLE.test(key)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [storableString(k), v]));
  }
  return value;
}

/** A row of read-logs.sql: the line columns are null on the one row of a page without lines. */
export interface LogRow {
  dropped: string;
  seq: string | null;
  at: string | null;
  attempt: number | null;
  level: LogLevel | null;
  message: string | null;
  data_box: [JsonValue] | null;
}

export function toLogLine(row: LogRow): LogLine | undefined {
  const { seq, at, attempt, level, message } = row;
  if (seq === null || at === null || attempt === null || level === null || message === null) return undefined;
  const line: LogLine = { seq: Number(seq), at: Number(at), attempt, level, message };
  return row.data_box === null ? line : { ...line, data: row.data_box[0] };
}

/** record-activity.sql's `$1`: every entry's counters as cells (SQL stores keep one row per counter). */
export function activityParam(entries: readonly ActivityEntry[]): string {
  const cells: { f: string; m: number; k: string; b: number; n: number }[] = [];
  for (const entry of entries) {
    for (const [k, b, n] of activityCells(entry)) cells.push({ f: entry.functionName, m: entry.minute, k, b, n });
  }
  return JSON.stringify(cells);
}

/** A row of activity.sql: bigints arrive as strings. */
export interface ActivityRow {
  function_name: string;
  minute: string;
  kind: string;
  bucket: number;
  count: string;
}

export function toActivity(rows: readonly ActivityRow[]): ActivityEntry[] {
  return activityFromCells(rows.map((r) => ({ function_name: r.function_name, minute: Number(r.minute), kind: r.kind, bucket: r.bucket, count: Number(r.count) })));
}
