/** The `show` view: the record's fields, its payload and outcome, and its events as a timeline. */
import type { InvocationRecord, JsonValue } from '../../types.js';
import { fields, table } from '../table.js';
import { duration, iso, isoWithRelative, relative } from '../time.js';

export function invocationView(r: InvocationRecord, now: number): string {
  const status = r.condition ? `${r.status} (${r.condition})` : r.status;
  const entries: [string, string][] = [
    ['Request ID', r.requestId],
    ['Function', r.functionName],
    ['Status', status],
    ['Attempts', String(r.attempts)],
  ];
  if (r.invocationId !== undefined) entries.push(['Invocation ID', r.invocationId]);
  if (r.rerunOf !== undefined) entries.push(['Re-run of', r.rerunOf]);
  entries.push(['Created', isoWithRelative(r.createdAt, now)], ['Scheduled', isoWithRelative(r.scheduledAt, now)]);
  if (r.startedAt !== undefined) entries.push(['Started', isoWithRelative(r.startedAt, now)]);
  if (r.endedAt !== undefined) {
    const took = r.startedAt !== undefined ? `, took ${duration(r.endedAt - r.startedAt)}` : '';
    entries.push(['Ended', `${iso(r.endedAt)} (${relative(r.endedAt, now)}${took})`]);
  }
  entries.push(['Payload', json(r.payload)]);
  if (r.result !== undefined) entries.push(['Result', json(r.result)]);
  if (r.error) entries.push(['Error', `${r.error.errorType}: ${r.error.errorMessage}`]);
  const events = table(
    [{ header: 'AT' }, { header: 'STATUS' }, { header: 'ATTEMPT', right: true }, { header: 'DETAIL' }],
    r.events.map((e) => [iso(e.at), e.status, String(e.attempt), e.detail ?? '']),
  );
  return `${fields(entries)}\n\nEvents\n${indent(events)}`;
}

function json(value: JsonValue): string {
  return JSON.stringify(value, null, 2);
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n');
}
