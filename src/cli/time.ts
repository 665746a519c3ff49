/** Times on the command line: read `--since 1h` or an ISO time, write ISO, relative ("3m ago") and durations ("1.2s"). */
import { usageError } from './exit.js';

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
const RELATIVE = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)$/;
/** What an ISO time must look like: a date, optionally a time and a zone (Date.parse is too lenient alone). */
const ISO = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/i;
const TIME_ALLOWED = 'an ISO time (2026-01-31T12:00:00Z), a time ago (30s, 15m, 1h, 2d, 1w) or epoch milliseconds';

/** Parses a time flag's value to epoch ms: relative values count back from `now`. */
export function parseTime(flag: string, value: string, now: number): number {
  const text = value.trim();
  const relative = RELATIVE.exec(text);
  let at: number;
  if (relative) at = now - Math.round(Number(relative[1]) * UNIT_MS[relative[2]!]!);
  else if (/^\d{10,}$/.test(text)) at = Number(text);
  else if (ISO.test(text)) at = Date.parse(text.replace(' ', 'T'));
  else at = Number.NaN;
  if (!Number.isSafeInteger(at) || at < 0) throw usageError(`${flag} must be ${TIME_ALLOWED}; received ${JSON.stringify(value)}`);
  return at;
}

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** A duration for people: 850ms, 4.2s, 3m 20s, 2h 5m, 3d 4h. */
export function duration(ms: number): string {
  const abs = Math.abs(ms);
  if (abs < 1000) return `${Math.round(abs)}ms`;
  if (abs < 60_000) return `${(abs / 1000).toFixed(abs < 10_000 ? 1 : 0)}s`;
  const units: [number, string][] = [
    [86_400_000, 'd'],
    [3_600_000, 'h'],
    [60_000, 'm'],
    [1000, 's'],
  ];
  const parts: string[] = [];
  let rest = Math.round(abs / 1000) * 1000;
  for (const [size, unit] of units) {
    if (rest >= size && parts.length < 2) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    } else if (parts.length > 0) break;
  }
  return parts.join(' ');
}

/** `3m ago` for a past time, `in 3m` for a future one. */
export function relative(ms: number, now: number): string {
  const diff = now - ms;
  if (Math.abs(diff) < 1000) return 'now';
  return diff > 0 ? `${duration(diff)} ago` : `in ${duration(-diff)}`;
}

/** ISO time followed by its relative form: `2026-01-31T12:00:00.000Z (3m ago)`. */
export function isoWithRelative(ms: number, now: number): string {
  return `${iso(ms)} (${relative(ms, now)})`;
}
