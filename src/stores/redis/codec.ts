/**
 * Converts between record hashes and `StoredInvocation`, and encodes settlements as script
 * arguments. JSON values (payload, result, error, delivery, events) are stored as JSON text
 * and never parsed inside Lua: Lua's JSON library rounds numbers to 14 digits.
 *
 * Counters a record has never had written (`lostAttempts`, `interruptedAttempts`: enqueue does
 * not write them, and records from before they existed lack them too) read as 0.
 */
import type { InvocationStatus, JsonValue } from '../../types.js';
import type { DeliveryState, Settlement, StoredInvocation } from '../contract.js';

/** A flat HGETALL reply as scripts return it: field, value, field, value, ... */
export type FlatFields = readonly string[];

export function toFields(flat: FlatFields): Map<string, string> {
  const map = new Map<string, string>();
  for (let i = 0; i + 1 < flat.length; i += 2) map.set(flat[i]!, flat[i + 1]!);
  return map;
}

/** The record in `fields`, or undefined when the hash is empty (no such record). */
export function decodeRecord(functionName: string, fields: Map<string, string>): StoredInvocation | undefined {
  const status = fields.get('status');
  if (status === undefined) return undefined;
  const record: {
    -readonly [K in keyof StoredInvocation]: StoredInvocation[K];
  } = {
    requestId: fields.get('requestId')!,
    functionName,
    status: status as InvocationStatus,
    payload: JSON.parse(fields.get('payload')!) as JsonValue,
    attempts: Number(fields.get('attempts')),
    createdAt: Number(fields.get('createdAt')),
    scheduledAt: Number(fields.get('scheduledAt')),
    events: JSON.parse(`[${fields.get('events') ?? ''}]`) as StoredInvocation['events'],
    throttles: Number(fields.get('throttles') ?? 0),
    lostAttempts: Number(fields.get('lostAttempts') ?? 0),
    interruptedAttempts: Number(fields.get('interruptedAttempts') ?? 0),
    hops: Number(fields.get('hops') ?? 0),
  };
  const startedAt = fields.get('startedAt');
  if (startedAt !== undefined) record.startedAt = Number(startedAt);
  const endedAt = fields.get('endedAt');
  if (endedAt !== undefined) record.endedAt = Number(endedAt);
  const result = fields.get('result');
  if (result !== undefined) record.result = JSON.parse(result) as JsonValue;
  const error = fields.get('error');
  if (error !== undefined) record.error = JSON.parse(error) as StoredInvocation['error'];
  const condition = fields.get('condition');
  if (condition !== undefined) record.condition = condition as StoredInvocation['condition'];
  const invocationId = fields.get('invocationId');
  if (invocationId !== undefined) record.invocationId = invocationId;
  const dueAt = fields.get('dueAt');
  if (dueAt !== undefined) record.dueAt = Number(dueAt);
  const lease = fields.get('lease');
  if (lease !== undefined) record.leaseToken = lease;
  const delivery = fields.get('delivery');
  if (delivery !== undefined) record.delivery = JSON.parse(delivery) as DeliveryState;
  const rerunOf = fields.get('rerunOf');
  if (rerunOf !== undefined) record.rerunOf = rerunOf;
  const traceContext = fields.get('traceContext');
  if (traceContext !== undefined) record.traceContext = traceContext;
  const groupKey = fields.get('groupKey');
  if (groupKey !== undefined) record.groupKey = groupKey;
  return record;
}

/** The fields scripts/claim-take.lua returns, in its RECORD_FIELDS order (keep the two in step). */
export const CLAIM_FIELDS = [
  'requestId', 'status', 'payload', 'attempts', 'createdAt', 'scheduledAt', 'events', 'throttles', 'hops',
  'startedAt', 'endedAt', 'result', 'error', 'condition', 'invocationId', 'dueAt', 'lease', 'delivery', 'dpending',
  'lostAttempts', 'interruptedAttempts', 'rerunOf', 'traceContext', 'groupKey',
] as const;

/** The record a claim returned as field values in CLAIM_FIELDS order (null = absent). */
export function decodeClaimed(functionName: string, f: readonly (string | null)[]): StoredInvocation | undefined {
  const status = f[1];
  if (status == null) return undefined;
  const record: {
    -readonly [K in keyof StoredInvocation]: StoredInvocation[K];
  } = {
    requestId: f[0]!,
    functionName,
    status: status as InvocationStatus,
    payload: JSON.parse(f[2]!) as JsonValue,
    attempts: Number(f[3]),
    createdAt: Number(f[4]),
    scheduledAt: Number(f[5]),
    events: JSON.parse(`[${f[6] ?? ''}]`) as StoredInvocation['events'],
    throttles: Number(f[7] ?? 0),
    lostAttempts: Number(f[19] ?? 0),
    interruptedAttempts: Number(f[20] ?? 0),
    hops: Number(f[8] ?? 0),
  };
  if (f[9] != null) record.startedAt = Number(f[9]);
  if (f[10] != null) record.endedAt = Number(f[10]);
  if (f[11] != null) record.result = JSON.parse(f[11]) as JsonValue;
  if (f[12] != null) record.error = JSON.parse(f[12]) as StoredInvocation['error'];
  if (f[13] != null) record.condition = f[13] as StoredInvocation['condition'];
  if (f[14] != null) record.invocationId = f[14];
  if (f[15] != null) record.dueAt = Number(f[15]);
  if (f[16] != null) record.leaseToken = f[16];
  if (f[17] != null) record.delivery = JSON.parse(f[17]) as DeliveryState;
  if (f[21] != null) record.rerunOf = f[21];
  if (f[22] != null) record.traceContext = f[22];
  if (f[23] != null) record.groupKey = f[23];
  return record;
}

// Tags of optional settlement fields (scripts/settle.lua): unchanged, clear, set.
const UNCHANGED = 'u';
const CLEAR = 'n';
const SET = 'v';
/** Set a delivery whose status is Pending (the script indexes it as work owed). */
const SET_PENDING = 'p';

function tagged(value: string | number | undefined | null): string {
  if (value === undefined) return UNCHANGED;
  if (value === null) return CLEAR;
  return SET + String(value);
}

function taggedJson(value: unknown): string {
  if (value === undefined) return UNCHANGED;
  if (value === null) return CLEAR;
  return SET + JSON.stringify(value);
}

/** The 16 ARGV entries of one item of scripts/settle.lua. */
export function settlementArgs(s: Settlement): string[] {
  let events = '';
  for (const event of s.events) events += (events ? ',' : '') + JSON.stringify(event);
  const delivery =
    s.delivery === undefined || s.delivery === null
      ? taggedJson(s.delivery)
      : (s.delivery.status === 'Pending' ? SET_PENDING : SET) + JSON.stringify(s.delivery);
  return [
    s.requestId,
    s.leaseToken,
    s.status,
    events,
    s.dueAt === null ? '' : String(s.dueAt),
    s.keepLease ? '1' : '',
    tagged(s.scheduledAt),
    tagged(s.endedAt),
    taggedJson(s.result),
    taggedJson(s.error),
    tagged(s.condition),
    tagged(s.throttles),
    delivery,
    tagged(s.lostAttempts),
    tagged(s.interruptedAttempts),
    s.wake ? '1' : '',
  ];
}
