/** The list's rows and the invocation page's record, read through the invoker's API. */
import type { Invoker } from '../invoker.js';
import type { ListInvocationsOptions } from '../options.js';
import { isFinalStatus, type InvocationRecord, type InvocationStatus } from '../types.js';
import type { Filter, ListQuery } from './query.js';

/** A list row: the record without payload, result and events (they can be large; the page has them). */
export interface InvocationSummary {
  readonly requestId: string;
  readonly functionName: string;
  readonly status: InvocationStatus;
  readonly attempts: number;
  readonly createdAt: number;
  readonly scheduledAt: number;
  readonly startedAt?: number;
  readonly endedAt?: number;
  readonly invocationId?: string;
  readonly rerunOf?: string;
  readonly errorType?: string;
}

export interface SummaryPage {
  readonly items: InvocationSummary[];
  readonly nextCursor?: string;
}

export const STOPPABLE: readonly InvocationStatus[] = ['Enqueued', 'Retrying', 'Running'];
export const RERUNNABLE: readonly InvocationStatus[] = ['Succeeded', 'Failed', 'Stopped', 'Expired', 'Invalid'];

export function summarize(record: InvocationRecord): InvocationSummary {
  const { requestId, functionName, status, attempts, createdAt, scheduledAt, startedAt, endedAt, invocationId, rerunOf, error } = record;
  return {
    requestId,
    functionName,
    status,
    attempts,
    createdAt,
    scheduledAt,
    ...(startedAt === undefined ? {} : { startedAt }),
    ...(endedAt === undefined ? {} : { endedAt }),
    ...(invocationId === undefined ? {} : { invocationId }),
    ...(rerunOf === undefined ? {} : { rerunOf }),
    ...(error === undefined ? {} : { errorType: error.errorType }),
  };
}

/** The listInvocations options of a filter (statuses narrowed to `statuses` when given). */
export function listOptions(filter: Filter, extra: { limit?: number; cursor?: string; statuses?: InvocationStatus[] } = {}): ListInvocationsOptions {
  const status = extra.statuses ?? filter.status;
  return {
    ...(filter.functionName === undefined ? {} : { functionName: filter.functionName }),
    ...(filter.invocationIdPrefix === undefined ? {} : { invocationIdPrefix: filter.invocationIdPrefix }),
    ...(status === undefined ? {} : { status }),
    ...(filter.since === undefined ? {} : { since: filter.since }),
    ...(filter.until === undefined ? {} : { until: filter.until }),
    ...(extra.limit === undefined ? {} : { limit: extra.limit }),
    ...(extra.cursor === undefined ? {} : { cursor: extra.cursor }),
  };
}

/** Whether one record passes a filter (a request id search checks the other fields by hand). */
function matches(record: InvocationRecord, filter: Filter): boolean {
  return (
    (filter.functionName === undefined || record.functionName === filter.functionName) &&
    (filter.status === undefined || filter.status.includes(record.status)) &&
    (filter.since === undefined || record.createdAt >= filter.since) &&
    (filter.until === undefined || record.createdAt < filter.until) &&
    (filter.invocationIdPrefix === undefined || (record.invocationId ?? '').startsWith(filter.invocationIdPrefix))
  );
}

export const DEFAULT_PAGE_SIZE = 50;

export async function listSummaries(invoker: Invoker, query: ListQuery): Promise<SummaryPage> {
  if (query.requestId !== undefined) {
    // A request id names one record: the page shows it when it also passes the other filters.
    const record = await invoker.getInvocation(query.requestId);
    return { items: record && matches(record, query) ? [summarize(record)] : [] };
  }
  const page = await invoker.listInvocations(listOptions(query, { limit: query.limit ?? DEFAULT_PAGE_SIZE, ...(query.cursor ? { cursor: query.cursor } : {}) }));
  return { items: page.items.map(summarize), ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}) };
}

/** What the invocation page shows: the record, and which actions apply to it now. */
export interface InvocationDetail {
  readonly record: InvocationRecord;
  readonly canStop: boolean;
  readonly canRerun: boolean;
}

export function detail(record: InvocationRecord): InvocationDetail {
  return { record, canStop: STOPPABLE.includes(record.status), canRerun: isFinalStatus(record.status) };
}
