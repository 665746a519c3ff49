/**
 * Worker presence: one hash per prefix, workerId -> `<expiresAt>|<presence JSON>`, so the
 * script that lists them (scripts/workers.lua) can tell lapsed ones without parsing JSON.
 * Lapsed presences are dropped when they are listed and by every retention pass.
 */
import type { WorkerPresence } from '../contract.js';
import type { Keys } from './keys.js';
import type { Link } from './link.js';

function encode(presence: WorkerPresence): string {
  return `${presence.expiresAt}|${JSON.stringify(presence)}`;
}

function decode(value: string): WorkerPresence | undefined {
  try {
    const presence = JSON.parse(value.slice(value.indexOf('|') + 1)) as Partial<WorkerPresence>;
    if (typeof presence.workerId !== 'string' || !Array.isArray(presence.functions)) return undefined;
    return presence as WorkerPresence;
  } catch {
    return undefined; // not written by this store: ignore it
  }
}

export async function announce(link: Link, keys: Keys, presence: WorkerPresence): Promise<void> {
  await link.run([{ command: 'hset', args: [keys.workers, presence.workerId, encode(presence)] }]);
}

export async function withdraw(link: Link, keys: Keys, workerId: string): Promise<void> {
  await link.run([{ command: 'hdel', args: [keys.workers, workerId] }]);
}

/** The presences that have not lapsed at `now`, dropping the lapsed ones. */
export async function liveWorkers(link: Link, keys: Keys, now: number): Promise<WorkerPresence[]> {
  const [reply] = await link.run([{ script: 'workers', keys: [keys.workers], args: [now] }]);
  const workers: WorkerPresence[] = [];
  for (const value of reply as string[]) {
    const presence = decode(value);
    if (presence) workers.push(presence);
  }
  return workers;
}
