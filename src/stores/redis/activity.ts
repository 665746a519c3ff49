/**
 * Activity counters: per function and minute a hash of counters under the function's hash tag
 * (`f:<status>` finished, `w:<bucket>` wait, `r:<bucket>` run histograms), added to with
 * HINCRBY by scripts/activity.lua so counters from several processes add up, and a sorted set
 * of the function's minutes to read a range by. Retention passes delete minutes past
 * `ACTIVITY_RETENTION_MS`; every key also expires a while after its last change, for minutes no
 * pass reaches (a function no longer run anywhere).
 */
import { ACTIVITY_RETENTION_MS, type ActivityEntry, type ActivityQuery } from '../contract.js';
import { activityCells, emptyActivity, FINISHED_STATUSES, HISTOGRAM_SIZE, isFinishedStatus } from '../activity.js';
import type { Keys } from './keys.js';
import type { Link } from './link.js';
import type { Step } from './scripts.js';

/** How long counters live after their last change: an hour past the retention of activity. */
export const ACTIVITY_TTL_SECONDS = Math.ceil(ACTIVITY_RETENTION_MS / 1000) + 3600;

const KIND_PREFIX = { finished: 'f', wait: 'w', run: 'r' } as const;

/** A score bound for ZRANGEBYSCORE (`(` = exclusive); infinities as Redis spells them. */
function scoreBound(n: number, exclusive: boolean): string {
  if (!Number.isFinite(n)) return n > 0 ? '+inf' : '-inf';
  return exclusive ? `(${n}` : String(n);
}

async function functionNames(link: Link, keys: Keys, functionName: string | undefined): Promise<string[]> {
  if (functionName !== undefined) return [functionName];
  return (await link.run([{ command: 'smembers', args: [keys.functions] }]))[0] as string[];
}

/** Adds the entries' counters: one script call per function, in one round trip. */
export async function recordActivity(link: Link, keys: Keys, entries: readonly ActivityEntry[]): Promise<void> {
  const calls = new Map<string, { keys: string[]; args: (string | number)[] }>();
  for (const entry of entries) {
    const cells = activityCells(entry);
    if (cells.length === 0) continue; // nothing to add: no minute is created for it
    const fn = entry.functionName;
    let call = calls.get(fn);
    if (!call) calls.set(fn, (call = { keys: [keys.activityMinutes(fn)], args: [ACTIVITY_TTL_SECONDS] }));
    call.keys.push(keys.activity(fn, entry.minute));
    call.args.push(entry.minute, cells.length);
    for (const [kind, bucket, count] of cells) {
      call.args.push(`${KIND_PREFIX[kind]}:${kind === 'finished' ? FINISHED_STATUSES[bucket]! : bucket}`, count);
    }
  }
  if (calls.size === 0) return;
  // The function joins the functions set first (a global key: a plain command), so listings
  // across functions and retention passes find its activity.
  const steps: Step[] = [{ command: 'sadd', args: [keys.functions, ...calls.keys()] }];
  for (const call of calls.values()) steps.push({ script: 'activity', keys: call.keys, args: call.args });
  await link.run(steps);
}

function decodeActivity(functionName: string, minute: number, fields: Record<string, string>): ActivityEntry | undefined {
  const entry = emptyActivity(functionName, minute);
  let counted = false;
  for (const [field, value] of Object.entries(fields)) {
    const colon = field.indexOf(':');
    const kind = field.slice(0, colon);
    const name = field.slice(colon + 1);
    const count = Number(value);
    if (kind === 'f' && isFinishedStatus(name)) entry.finished[name] = count;
    else if ((kind === 'w' || kind === 'r') && /^\d+$/.test(name) && Number(name) < HISTOGRAM_SIZE) {
      entry[kind === 'w' ? 'wait' : 'run'][Number(name)] = count;
    } else continue;
    counted = true;
  }
  return counted ? entry : undefined;
}

/** Entries of the minutes in [since, until), of one function or all, ordered by minute then function. */
export async function readActivity(link: Link, keys: Keys, query: ActivityQuery): Promise<ActivityEntry[]> {
  const names = await functionNames(link, keys, query.functionName);
  if (names.length === 0) return [];
  const min = scoreBound(query.since, false);
  const max = scoreBound(query.until, true);
  const minutes = await link.run(names.map((fn) => ({ command: 'zrangebyscore', args: [keys.activityMinutes(fn), min, max] })));
  const wanted: [string, number][] = [];
  names.forEach((fn, i) => {
    for (const minute of minutes[i] as string[]) wanted.push([fn, Number(minute)]);
  });
  if (wanted.length === 0) return [];
  const hashes = await link.run(wanted.map(([fn, minute]) => ({ command: 'hgetall', args: [keys.activity(fn, minute)] })));
  const entries: ActivityEntry[] = [];
  wanted.forEach(([fn, minute], i) => {
    // ioredis turns an HGETALL reply into an object; an expired minute reads as an empty one.
    const entry = decodeActivity(fn, minute, hashes[i] as Record<string, string>);
    if (entry) entries.push(entry);
  });
  return entries.sort((a, b) => a.minute - b.minute || (a.functionName < b.functionName ? -1 : a.functionName > b.functionName ? 1 : 0));
}

/** Deletes every function's minutes before `before`, with their index entries. */
export async function pruneActivity(link: Link, keys: Keys, before: number): Promise<void> {
  const names = await functionNames(link, keys, undefined);
  if (names.length === 0) return;
  const max = scoreBound(before, true);
  const old = await link.run(names.map((fn) => ({ command: 'zrangebyscore', args: [keys.activityMinutes(fn), '-inf', max] })));
  const steps: Step[] = [];
  names.forEach((fn, i) => {
    const minutes = old[i] as string[];
    if (minutes.length === 0) return;
    for (let at = 0; at < minutes.length; at += 1000) {
      steps.push({ command: 'del', args: minutes.slice(at, at + 1000).map((m) => keys.activity(fn, Number(m))) });
    }
    steps.push({ command: 'zremrangebyscore', args: [keys.activityMinutes(fn), '-inf', max] });
  });
  await link.run(steps);
}
