/**
 * The contract's state changes as plain functions over a mutable record, for stores that
 * load, change and write a record (memory, SQLite). Stores that change records inside the
 * server (Redis Lua, PostgreSQL SQL) implement the same rules there; the conformance suite
 * checks that they agree.
 */
import { isFinalStatus, type InvocationEvent } from '../types.js';
import type {
  ClaimKind,
  ClaimSlot,
  NewInvocation,
  SettleOutcome,
  Settlement,
  StopRequest,
  StopResult,
  StoredInvocation,
} from './contract.js';

export type Mutable<T> = { -readonly [K in keyof T]: T[K] };
export type MutableInvocation = Mutable<Omit<StoredInvocation, 'events'>> & { events: InvocationEvent[] };

/** The history a new invocation starts with: one `Enqueued` event. */
function firstEvents(item: NewInvocation): InvocationEvent[] {
  return [
    item.detail === undefined
      ? { at: item.createdAt, status: 'Enqueued', attempt: 0 }
      : { at: item.createdAt, status: 'Enqueued', attempt: 0, detail: item.detail },
  ];
}

export function createRecord(item: NewInvocation): MutableInvocation {
  // Every field is present from the start (undefined when unset) so records keep one shape:
  // adding or deleting properties later would make every record slower to touch.
  return {
    requestId: item.requestId,
    functionName: item.functionName,
    status: 'Enqueued',
    payload: item.payload,
    attempts: 0,
    createdAt: item.createdAt,
    scheduledAt: item.scheduledAt,
    startedAt: undefined,
    endedAt: undefined,
    result: undefined,
    error: undefined,
    condition: undefined,
    invocationId: item.invocationId,
    events: firstEvents(item),
    dueAt: item.scheduledAt,
    leaseToken: undefined,
    throttles: 0,
    lostAttempts: 0,
    interruptedAttempts: 0,
    hops: item.hops,
    delivery: undefined,
    rerunOf: item.rerunOf,
    traceContext: item.traceContext,
    groupKey: item.groupKey,
  };
}

/** Which kind of claim a due record is, or undefined if it is not claimable. */
export function claimKindOf(record: StoredInvocation, now: number, slot: ClaimSlot): ClaimKind | undefined {
  if (record.dueAt === undefined || record.dueAt > now) return undefined;
  switch (record.status) {
    case 'Enqueued':
    case 'Retrying':
      return now - record.createdAt > slot.maxEventAgeMs ? 'expire' : 'run';
    case 'Running':
    case 'Stopping':
      return 'recover';
    default:
      return record.delivery?.status === 'Pending' ? 'deliver' : undefined;
  }
}

/** Applies a claim of `kind` to `record`. */
export function applyClaim(record: MutableInvocation, kind: ClaimKind, now: number, leaseMs: number, token: string): void {
  record.leaseToken = token;
  record.dueAt = now + leaseMs;
  if (kind === 'run') {
    record.status = 'Running';
    record.attempts += 1;
    if (record.startedAt === undefined) record.startedAt = now;
    record.events.push({ at: now, status: 'Running', attempt: record.attempts });
  }
}

/** Applies a fenced settlement; returns the outcome without writing on `stale`/`stopping`. */
export function applySettlement(record: MutableInvocation | undefined, s: Settlement): SettleOutcome {
  if (!record || record.leaseToken !== s.leaseToken) return 'stale';
  if (record.status === 'Stopping' && !isFinalStatus(s.status) && s.status !== 'Stopping') return 'stopping';
  record.status = s.status;
  for (const event of s.events) record.events.push(event);
  record.dueAt = s.dueAt === null ? undefined : s.dueAt;
  if (!s.keepLease) record.leaseToken = undefined;
  if (s.scheduledAt !== undefined) record.scheduledAt = s.scheduledAt;
  if (s.endedAt !== undefined) record.endedAt = s.endedAt;
  if (s.result !== undefined) record.result = s.result;
  if (s.error === null) record.error = undefined;
  else if (s.error !== undefined) record.error = s.error;
  if (s.condition !== undefined) record.condition = s.condition;
  if (s.throttles !== undefined) record.throttles = s.throttles;
  if (s.lostAttempts !== undefined) record.lostAttempts = s.lostAttempts;
  if (s.interruptedAttempts !== undefined) record.interruptedAttempts = s.interruptedAttempts;
  if (s.delivery === null) record.delivery = undefined;
  else if (s.delivery !== undefined) record.delivery = s.delivery;
  return 'ok';
}

/** Applies a stop request; the caller emits the `stop` signal when the outcome is `stopping`. */
export function applyStop(record: MutableInvocation | undefined, req: StopRequest): StopResult['outcome'] {
  if (!record) return 'notFound';
  switch (record.status) {
    case 'Enqueued':
    case 'Retrying':
      record.status = 'Stopped';
      record.endedAt = req.now;
      record.error = { errorType: 'Stopped', errorMessage: 'stopped by stopInvocation before it ran' };
      record.condition = 'Stopped';
      record.events.push({ at: req.now, status: 'Stopped', attempt: record.attempts, detail: 'stopInvocation' });
      record.leaseToken = undefined;
      if (req.deliverOnFailure) {
        record.dueAt = req.now;
        record.delivery = { target: 'onFailure', status: 'Pending', attempts: 0, since: req.now };
      } else {
        record.dueAt = undefined;
      }
      return 'stopped';
    case 'Running':
      record.status = 'Stopping';
      record.events.push({ at: req.now, status: 'Stopping', attempt: record.attempts, detail: 'stopInvocation' });
      return 'stopping';
    case 'Stopping':
      return 'stopping';
    default:
      return 'final';
  }
}

/**
 * A due record a claim found nothing to do with (final, nothing owed): it owes no due time, and
 * a lapsed kept lease on it goes too, so no claim returns to it and retention can remove it.
 */
export function leaveWorkIndex(record: MutableInvocation): void {
  record.dueAt = undefined;
  record.leaseToken = undefined;
}

/** True when retention may remove the record (finished, nothing owed). */
export function isPrunable(record: StoredInvocation): boolean {
  return isFinalStatus(record.status) && record.delivery?.status !== 'Pending' && record.leaseToken === undefined;
}

/** A copy without the fields that are unset, for handing records out of a store that keeps live objects. */
export function copyRecord(record: StoredInvocation): StoredInvocation {
  const copy: Record<string, unknown> = {};
  for (const key in record) {
    const value = (record as unknown as Record<string, unknown>)[key];
    if (value !== undefined) copy[key] = value;
  }
  copy.events = record.events.slice();
  return copy as unknown as StoredInvocation;
}
