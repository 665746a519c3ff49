/**
 * The cursors `listInvocations` hands out: the store's cursor (a position) sealed with a digest
 * of that position and the query's filters. A cursor that was tampered with, or that is used
 * with other filters than the page it came from, is refused instead of silently listing from
 * some other place. (Integrity against mistakes and probing, not a secret: positions are not.)
 */
import { createHash } from 'node:crypto';
import { InvalidArgumentError } from './errors.js';
import type { ListQuery } from './stores/contract.js';

type Filters = Omit<ListQuery, 'limit' | 'cursor'>;

function digest(position: string, filters: Filters): string {
  const key = JSON.stringify([
    filters.functionName ?? null,
    filters.invocationIdPrefix ?? null,
    filters.statuses ? [...filters.statuses].sort() : null,
    filters.since ?? null,
    filters.until ?? null,
  ]);
  return createHash('sha256').update('async-invoker list cursor\0').update(key).update('\0').update(position).digest('base64url').slice(0, 16);
}

export function sealCursor(position: string, filters: Filters): string {
  return `${position}.${digest(position, filters)}`;
}

/** The store's cursor inside `cursor`; InvalidArgumentError when it is not one this query handed out. */
export function openCursor(cursor: string, filters: Filters): string {
  const dot = cursor.lastIndexOf('.');
  const position = dot > 0 ? cursor.slice(0, dot) : '';
  if (!position || cursor.slice(dot + 1) !== digest(position, filters)) {
    throw new InvalidArgumentError('options.cursor', cursor, 'a nextCursor returned by listInvocations for the same filters');
  }
  return position;
}
