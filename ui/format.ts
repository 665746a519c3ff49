/** Times and durations as people read them. */

export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '–';
  if (ms < 1) return '<1 ms';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s < 10 ? s.toFixed(1) : Math.round(s)} s`;
  const m = s / 60;
  if (m < 60) return `${Math.floor(m)} min ${Math.round(s % 60)} s`;
  const h = m / 60;
  if (h < 48) return `${Math.floor(h)} h ${Math.round(m % 60)} min`;
  return `${Math.round(h / 24)} d`;
}

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
const dateTimeFormat = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit' });

/** Today's times as a clock, older ones with their date. */
export function when(at: number | undefined, now = Date.now()): string {
  if (at === undefined) return '–';
  return now - at < 12 * 3600_000 && new Date(at).toDateString() === new Date(now).toDateString() ? timeFormat.format(at) : dateTimeFormat.format(at);
}

export function iso(at: number): string {
  return new Date(at).toISOString();
}

export function ago(at: number, now = Date.now()): string {
  return `${duration(Math.max(0, now - at))} ago`;
}

/** A `datetime-local` input's value for an epoch ms, and back. */
export function toLocalInput(at: number | undefined): string {
  if (at === undefined) return '';
  const d = new Date(at - new Date(at).getTimezoneOffset() * 60_000);
  return d.toISOString().slice(0, 16);
}
export function fromLocalInput(text: string): number | undefined {
  if (!text) return undefined;
  const at = new Date(text).getTime();
  return Number.isFinite(at) ? at : undefined;
}

export function count(n: number): string {
  return n.toLocaleString();
}

export function json(value: unknown): string {
  return JSON.stringify(value, null, 2) ?? 'undefined';
}
