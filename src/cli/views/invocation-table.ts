/** The `list` table: one invocation per row. */
import type { InvocationRecord } from '../../types.js';
import { clip, table } from '../table.js';
import { duration, iso, relative } from '../time.js';

export function invocationTable(items: readonly InvocationRecord[], now: number, isoTimes: boolean): string {
  const at = (ms: number) => (isoTimes ? iso(ms) : relative(ms, now));
  return table(
    [
      { header: 'REQUEST ID' },
      { header: 'FUNCTION' },
      { header: 'STATUS' },
      { header: 'ATTEMPTS', right: true },
      { header: 'CREATED' },
      { header: 'TOOK', right: true },
      { header: 'INVOCATION ID' },
      { header: 'DETAIL' },
    ],
    items.map((r) => [
      r.requestId,
      r.functionName,
      r.status,
      String(r.attempts),
      at(r.createdAt),
      r.startedAt !== undefined && r.endedAt !== undefined ? duration(r.endedAt - r.startedAt) : '-',
      r.invocationId ?? '-',
      clip(detail(r, now), 60),
    ]),
  );
}

/** The one thing worth knowing beyond the status. */
export function detail(r: InvocationRecord, now: number): string {
  if (r.error) return `${r.error.errorType}: ${r.error.errorMessage}`;
  if ((r.status === 'Enqueued' || r.status === 'Retrying') && r.scheduledAt > now) return `due ${relative(r.scheduledAt, now)}`;
  if (r.rerunOf !== undefined) return `re-run of ${r.rerunOf}`;
  return '';
}
