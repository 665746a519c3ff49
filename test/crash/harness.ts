/**
 * A crash-safety harness, generic over the store: forks worker processes (test/crash/worker.mjs,
 * which runs dist/ — build first) on one shared store and SIGKILLs them a fixed number of times
 * while a producer-only invoker in this process enqueues work. Kills are driven by count and by
 * the workers' progress (each comes once the handlers' ledger has grown since the last one), never
 * by the wall clock, and the producer sends its work in phases released by the kills, so a slow
 * machine gets the same number of kills and never runs out of work before them. Then it lets the last
 * workers finish and checks every accepted invocation against the store and the ledger: none
 * lost, none stuck, and duplicate runs only where an attempt was lost (WorkerLost).
 */
import { expect } from 'vitest';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createInvoker } from '../../src/invoker.js';
import type { Store, StoredInvocation } from '../../src/stores/contract.js';
import { waitFor } from '../helpers.js';
import { WorkerProcess } from '../worker-process.js';

export interface CrashRunOptions {
  /** Which dist/stores/<kind>/index.js the workers import. */
  readonly kind: 'sqlite' | 'redis' | 'postgres';
  /** JSON options for `<kind>Store(...)` in the workers. */
  readonly storeOptions: Record<string, unknown>;
  /** The producer's store, on the same data as the workers'. Closed with the producer at the end. */
  readonly store: Store;
  /** File the handlers append to (created empty). */
  readonly ledger: string;
  readonly total?: number;
  readonly workers?: number;
  /** Workers are SIGKILLed (and restarted) this many times, alternating between them. */
  readonly kills?: number;
  /** Ledger lines (attempts started) between one kill and the next, so each lands on running work. */
  readonly progressPerKill?: number;
  /** Enqueue in batches of this size... */
  readonly batch?: number;
  /** ...this far apart, so work keeps arriving while workers die (not a pace the test depends on). */
  readonly batchEveryMs?: number;
  readonly functionName?: string;
  /** How long the workers may take to finish everything after the last kill. */
  readonly settleTimeoutMs?: number;
  /** How long each attempt works after writing its ledger line, so kills land mid-attempt. */
  readonly workMs?: number;
}

export interface CrashReport {
  readonly accepted: number;
  readonly kills: number;
  readonly killsPlanned: number;
  readonly succeeded: number;
  /** Accepted but never run. */
  readonly lost: string[];
  /** Not final after the workers had time to finish. */
  readonly stuck: string[];
  /** Ended otherwise than Succeeded. */
  readonly notSucceeded: string[];
  /** Ledger lines beyond the first per invocation. */
  readonly duplicateRuns: number;
  /** Invocations run more often than their WorkerLost retries explain. */
  readonly unexplained: string[];
  /** Invocations whose same attempt number ran twice (a lease held twice). */
  readonly sameAttemptTwice: string[];
  /** Worker processes that exited without being killed. */
  readonly unexpectedExits: string[];
  readonly wallMs: number;
}

const WORKER = fileURLToPath(new URL('./worker.mjs', import.meta.url));

/**
 * How long a crash test may take before it is failed: about 10 s on a quiet 2-core machine,
 * and this leaves room for one loaded many times over. Nothing here asserts a duration; this
 * only bounds a run that would otherwise hang.
 */
export const CRASH_TEST_TIMEOUT_MS = 300_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function runCrashTest(o: CrashRunOptions): Promise<CrashReport> {
  const total = o.total ?? 2000;
  const batch = o.batch ?? 20;
  const batchEveryMs = o.batchEveryMs ?? 50;
  const killsWanted = o.kills ?? 8;
  const progressPerKill = o.progressPerKill ?? Math.floor(total / (killsWanted + 4));
  const functionName = o.functionName ?? 'crashy';
  // CRASH_DIST: a private build, for running while something else rebuilds dist/.
  const dist = process.env.CRASH_DIST ?? fileURLToPath(new URL('../../dist', import.meta.url));
  if (!existsSync(`${dist}/stores/${o.kind}/index.js`)) {
    throw new Error(`${dist}/stores/${o.kind}/index.js is missing: run npm run build first`);
  }
  writeFileSync(o.ledger, '');
  const started = Date.now();
  const env = {
    ...process.env,
    CRASH_STORE_KIND: o.kind,
    CRASH_STORE_OPTIONS: JSON.stringify(o.storeOptions),
    CRASH_LEDGER: o.ledger,
    CRASH_FUNCTION: functionName,
    CRASH_DIST: dist,
    CRASH_WORK_MS: String(o.workMs ?? 50),
  };
  const slots = Array.from({ length: o.workers ?? 2 }, () => new WorkerProcess(WORKER, env));
  await Promise.all(slots.map((s) => s.start()));

  // Producer only: accepts invocations, never runs them.
  const producer = createInvoker({ store: o.store, concurrency: 0 });
  producer.register(functionName, () => null);
  const accepted: string[] = [];
  let kills = 0;
  const ledgerLines = () => readFileSync(o.ledger, 'utf8').split('\n').length - 1;
  // Independent of the producer: the k-th kill waits for progress since the (k-1)-th, however
  // long that takes on this machine. The phase of work sent after the (k-1)-th adds more lines
  // than that (see produce), so progress comes.
  const killLoop = (async () => {
    let seen = 0;
    for (let i = 0; i < killsWanted; i++) {
      const from = seen;
      await waitFor(() => (seen = ledgerLines()) >= from + progressPerKill, {
        what: `${progressPerKill} more attempts before kill ${i + 1}`,
        timeoutMs: 120_000,
        intervalMs: 10,
      });
      const slot = slots[i % slots.length]!;
      await slot.kill();
      kills++;
      await slot.start();
    }
  })();

  // The work goes out in one phase per kill and one after the last: phase p only once kill p is
  // done. However slowly kills come on a loaded machine (a worker restart can take seconds), the
  // next kill always has a phase of fresh work to wait on, larger than its progress: the workers
  // can never finish everything while kills are still due.
  const phaseSize = Math.ceil(total / (killsWanted + 1));
  if (phaseSize <= progressPerKill) throw new Error(`crash harness: ${total} invocations over ${killsWanted} kills leave each kill less than its ${progressPerKill} attempts of progress`);
  let stopped = false;
  const produce = (async () => {
    for (let sent = 0, phase = 0; sent < total; phase++) {
      await waitFor(() => kills >= phase || stopped, { what: `kill ${phase} before phase ${phase} of the work`, timeoutMs: CRASH_TEST_TIMEOUT_MS, intervalMs: 10 });
      if (stopped) return;
      const end = Math.min(total, sent + phaseSize);
      while (sent < end) {
        const from = sent;
        const n = Math.min(batch, end - from);
        sent += n;
        const results = await Promise.all(Array.from({ length: n }, (_, i) => producer.invokeAsync(functionName, { i: from + i })));
        for (const r of results) accepted.push(r.requestId);
        await sleep(batchEveryMs);
      }
    }
  })();
  try {
    await Promise.all([produce, killLoop]);
  } catch (error) {
    stopped = true;
    // A failed run must not leave workers behind to write into the next one's store.
    await Promise.all(slots.map((slot) => slot.kill()));
    await producer.close();
    throw error;
  }

  // Let the surviving workers (and lease recovery, 2 s) finish everything.
  const ids = new Set(accepted);
  let remaining = accepted;
  await waitFor(
    async () => {
      const left: string[] = [];
      for (const id of remaining) {
        const r = await o.store.get(id);
        if (!r || r.status !== 'Succeeded') left.push(id);
      }
      remaining = left;
      return left.length === 0;
    },
    { timeoutMs: o.settleTimeoutMs ?? 120_000, intervalMs: 250, what: 'every accepted invocation to succeed' },
  ).catch(() => {}); // what is left is reported below
  await Promise.all(slots.map((s) => s.stop()));

  const runs = new Map<string, number>();
  const attemptsSeen = new Set<string>();
  const sameAttemptTwice: string[] = [];
  for (const line of readFileSync(o.ledger, 'utf8').split('\n')) {
    if (!line) continue;
    const [id, attempt] = line.split(' ') as [string, string];
    if (!ids.has(id)) throw new Error(`ledger names an invocation nobody accepted: ${line}`);
    runs.set(id, (runs.get(id) ?? 0) + 1);
    // Two runs of one attempt number would mean two workers held the same lease.
    if (attemptsSeen.has(`${id} ${attempt}`)) sameAttemptTwice.push(id);
    attemptsSeen.add(`${id} ${attempt}`);
  }
  const records = new Map<string, StoredInvocation | undefined>();
  for (const id of accepted) records.set(id, await o.store.get(id));
  await producer.close();
  const final = new Set(['Succeeded', 'Failed', 'Stopped', 'Expired', 'Invalid']);
  const lost = accepted.filter((id) => !runs.has(id));
  const stuck = accepted.filter((id) => !final.has(records.get(id)?.status ?? 'Enqueued'));
  const notSucceeded = accepted.filter((id) => records.get(id)?.status !== 'Succeeded');
  let duplicateRuns = 0;
  const unexplained: string[] = [];
  for (const [id, count] of runs) {
    if (count <= 1) continue;
    duplicateRuns += count - 1;
    const lostAttempts = (records.get(id)?.events ?? []).filter((e) => e.status === 'Retrying' && e.detail?.startsWith('WorkerLost')).length;
    if (count - 1 > lostAttempts) unexplained.push(id);
  }
  return {
    accepted: accepted.length,
    kills,
    killsPlanned: killsWanted,
    succeeded: accepted.length - notSucceeded.length,
    lost,
    stuck,
    notSucceeded,
    duplicateRuns,
    unexplained,
    sameAttemptTwice,
    unexpectedExits: slots.flatMap((s) => s.unexpectedExits),
    wallMs: Date.now() - started,
  };
}

/** Prints the run's figures and asserts the crash-safety guarantee: nothing lost, stuck or run twice unexplained. */
export function expectNothingLost(kind: string, report: CrashReport): void {
  console.log(
    `${kind} crash test: ${report.accepted} accepted, ${report.succeeded} succeeded, ${report.kills} kills, ` +
      `${report.duplicateRuns} duplicate runs (all after WorkerLost: ${report.unexplained.length === 0}), ` +
      `${report.lost.length} lost, ${report.stuck.length} stuck, ${(report.wallMs / 1000).toFixed(1)} s`,
  );
  expect(report.accepted).toBe(2000);
  expect(report.kills).toBe(report.killsPlanned);
  expect(report.lost).toEqual([]);
  expect(report.stuck).toEqual([]);
  expect(report.notSucceeded).toEqual([]);
  expect(report.unexplained).toEqual([]);
  expect(report.sameAttemptTwice).toEqual([]);
  expect(report.unexpectedExits).toEqual([]);
}
