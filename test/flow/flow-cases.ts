/**
 * Flow control across processes, generic over the durable store: worker processes
 * (test/flow/worker.mjs over dist/) share one store and one function's limits while this
 * process enqueues and reads a ledger of every attempt's start and end (written by the handlers,
 * so each interval lies inside its lease). Attempts are held running by a gate file the test
 * opens once the limit is reached, so "the most at once" is reached by condition, not by timing.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createInvoker, type Invoker } from '../../src/invoker.js';
import type { Store } from '../../src/stores/contract.js';
import { waitFor } from '../helpers.js';
import { WorkerProcess } from '../worker-process.js';

export interface FlowStoreSpec {
  readonly kind: 'sqlite' | 'redis' | 'postgres';
  /** Options for `<kind>Store(...)` naming a store no other test uses (a new file, prefix or schema). */
  readonly freshOptions: (dir: string) => Record<string, unknown>;
  /** This process's store on the same data. */
  readonly open: (options: Record<string, unknown>) => Store;
}

interface LimitsSpec {
  readonly concurrency?: number;
  readonly perSecond?: number;
  readonly groupConcurrency?: number;
  /** The payload field holding the group. */
  readonly groupBy?: string;
}

interface LedgerLine {
  /** `held`: a worker's first claim that a limit held back. */
  readonly what: 'start' | 'end' | 'held';
  readonly requestId: string;
  readonly group: string;
  readonly pid: number;
  readonly at: number;
}

const WORKER = fileURLToPath(new URL('./worker.mjs', import.meta.url));
/** Bounds a run that would otherwise hang; nothing asserts a duration. */
const FLOW_TEST_TIMEOUT_MS = 240_000;
const WAIT = { timeoutMs: 180_000, intervalMs: 20 };

class FlowRun {
  readonly ledger: string;
  readonly gate: string;
  readonly store: Store;
  readonly producer: Invoker;
  readonly workers: WorkerProcess[] = [];
  readonly #env: NodeJS.ProcessEnv;

  constructor(spec: FlowStoreSpec, dir: string, limits: LimitsSpec, settings: { concurrency: number; leaseSeconds: number }) {
    const storeOptions = spec.freshOptions(dir);
    this.ledger = join(dir, `ledger-${Date.now()}-${Math.random().toString(36).slice(2)}.txt`);
    this.gate = `${this.ledger}.open`;
    writeFileSync(this.ledger, '');
    this.#env = {
      ...process.env,
      FLOW_STORE_KIND: spec.kind,
      FLOW_STORE_OPTIONS: JSON.stringify(storeOptions),
      FLOW_FUNCTION: 'limited',
      FLOW_LIMITS: JSON.stringify(limits),
      FLOW_CONCURRENCY: String(settings.concurrency),
      FLOW_LEASE_SECONDS: String(settings.leaseSeconds),
      FLOW_LEDGER: this.ledger,
      FLOW_GATE: this.gate,
    };
    this.store = spec.open(storeOptions);
    // Producer only, with the same limits: groupBy is computed when an invocation is accepted.
    this.producer = createInvoker({ store: this.store, concurrency: 0 });
    const { groupBy, ...rest } = limits;
    this.producer.register('limited', () => null, {
      limits: groupBy === undefined ? rest : { ...rest, groupBy: (payload: Record<string, string>) => payload[groupBy]! },
    });
  }

  async startWorkers(n: number): Promise<WorkerProcess[]> {
    const started = Array.from({ length: n }, () => new WorkerProcess(WORKER, this.#env));
    this.workers.push(...started);
    await Promise.all(started.map((w) => w.start()));
    return started;
  }

  async enqueue(payloads: Record<string, unknown>[]): Promise<string[]> {
    const ids: string[] = [];
    for (const payload of payloads) ids.push((await this.producer.invokeAsync('limited', payload)).requestId);
    return ids;
  }

  lines(): LedgerLine[] {
    return readFileSync(this.ledger, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((text) => {
        const [what, requestId, group, pid, at] = text.split(' ') as [LedgerLine['what'], string, string, string, string];
        return { what, requestId, group, pid: Number(pid), at: Number(at) };
      });
  }

  /** Attempts started and not (yet) ended. */
  running(): number {
    let n = 0;
    for (const line of this.lines()) n += line.what === 'start' ? 1 : line.what === 'end' ? -1 : 0;
    return n;
  }

  /** Workers that have claimed: started an attempt or were held back by a limit. */
  claimants(): number {
    return new Set(this.lines().map((l) => l.pid)).size;
  }

  openGate(): void {
    writeFileSync(this.gate, '');
  }

  async allSucceeded(ids: string[]): Promise<void> {
    let left = ids;
    await waitFor(
      async () => {
        const next: string[] = [];
        for (const id of left) if ((await this.store.get(id))?.status !== 'Succeeded') next.push(id);
        left = next;
        return left.length === 0;
      },
      { ...WAIT, intervalMs: 100, what: `all ${ids.length} invocations to succeed` },
    );
  }

  async close(): Promise<void> {
    if (!existsSync(this.gate)) this.openGate();
    await Promise.all(this.workers.map((w) => w.stop()));
    await this.producer.close();
    await this.store.close();
  }
}

/**
 * The most attempts running at once, from the ledger: each attempt from its start line to its
 * end line, or to `cutAt[pid]` for a killed worker's attempts, which never ended. Lines are
 * appended in the order things happened (an attempt's end line is written before it settles, so
 * before the next attempt can start), so equal times are taken in file order: an attempt that
 * ends in the millisecond another starts is not two at once.
 */
function mostAtOnce(lines: LedgerLine[], cutAt: ReadonlyMap<number, number> = new Map()): number {
  const open = new Set<string>();
  // [time, file position, +1 start / -1 end]
  const points: [number, number, number][] = [];
  lines.forEach((line, position) => {
    const key = `${line.requestId} ${line.pid}`;
    if (line.what === 'start') {
      open.add(key);
      points.push([line.at, position, 1]);
    } else if (line.what === 'end') {
      open.delete(key);
      points.push([line.at, position, -1]);
    }
  });
  for (const key of open) {
    const pid = Number(key.split(' ')[1]);
    const cut = cutAt.get(pid);
    if (cut === undefined) throw new Error(`attempt ${key} never ended and its worker was not killed`);
    points.push([cut, lines.length, -1]);
  }
  points.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let now = 0;
  let most = 0;
  for (const [, , delta] of points) most = Math.max(most, (now += delta));
  return most;
}

export function flowCases(spec: FlowStoreSpec): void {
  describe(`flow control across processes: ${spec.kind}`, () => {
    const dir = mkdtempSync(join(tmpdir(), `async-invoker-flow-${spec.kind}-`));
    const runs: FlowRun[] = [];
    // Leases long enough that a busy machine never lets a live worker's lease lapse: a lapsed lease
    // counts as a dead worker, whose attempt then runs twice (at least once), past any limit.
    const run = (limits: LimitsSpec, settings = { concurrency: 8, leaseSeconds: 30 }) => {
      const r = new FlowRun(spec, dir, limits, settings);
      runs.push(r);
      return r;
    };
    afterEach(async () => {
      for (const r of runs.splice(0)) await r.close();
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('holds 3 workers of concurrency 8 to limits.concurrency 5: the most running at once is exactly 5', async () => {
      const r = run({ concurrency: 5 });
      const ids = await r.enqueue(Array.from({ length: 40 }, (_, i) => ({ i })));
      await r.startWorkers(3);
      // Every worker could take 8; the store lets 5 start, held until the test opens the gate,
      // and only once every worker has claimed (started one or been held back), so a limit
      // kept per process would show as more than 5.
      await waitFor(() => r.running() >= 5 && r.claimants() === 3, { ...WAIT, what: '5 attempts running and every worker claiming' });
      r.openGate();
      await r.allSucceeded(ids);
      const lines = r.lines();
      expect(lines.filter((l) => l.what === 'start')).toHaveLength(40);
      expect(mostAtOnce(lines)).toBe(5);
    }, FLOW_TEST_TIMEOUT_MS);

    it('starts at most limits.perSecond 40 attempts in any one-second window, across 3 workers', async () => {
      const r = run({ perSecond: 40 });
      r.openGate();
      const ids = await r.enqueue(Array.from({ length: 130 }, (_, i) => ({ i })));
      await r.startWorkers(3);
      await r.allSucceeded(ids);
      // Start times as the store counted them: each attempt's Running event (the claim's time).
      const starts: number[] = [];
      for (const id of ids) for (const e of (await r.store.get(id))!.events) if (e.status === 'Running') starts.push(e.at);
      starts.sort((a, b) => a - b);
      expect(starts).toHaveLength(130);
      // Any 41 consecutive starts span a second or more.
      const crowded = starts.slice(40).map((at, i) => at - starts[i]!).filter((span) => span < 1000);
      expect(crowded).toEqual([]);
    }, FLOW_TEST_TIMEOUT_MS);

    it('with groupBy and groupConcurrency 1, group B\'s 10 finish before group A\'s 50th though A was enqueued first', async () => {
      const r = run({ groupBy: 'group', groupConcurrency: 1 });
      r.openGate();
      const a = await r.enqueue(Array.from({ length: 60 }, (_, i) => ({ group: 'A', i })));
      const b = await r.enqueue(Array.from({ length: 10 }, (_, i) => ({ group: 'B', i })));
      await r.startWorkers(3);
      await r.allSucceeded([...a, ...b]);
      const ends = r.lines().filter((l) => l.what === 'end');
      expect(ends).toHaveLength(70);
      const lastB = ends.findLastIndex((l) => l.group === 'B');
      const fiftiethA = ends.filter((l) => l.group === 'A')[49]!;
      expect(lastB).toBeLessThan(ends.indexOf(fiftiethA));
      // One at a time per group, across every worker.
      for (const group of ['A', 'B']) expect(mostAtOnce(r.lines().filter((l) => l.group === group))).toBe(1);
    }, FLOW_TEST_TIMEOUT_MS);

    it('gives back the slots of a worker SIGKILLed while holding them once its leases lapse', async () => {
      const r = run({ concurrency: 2 }, { concurrency: 8, leaseSeconds: 1 });
      const ids = await r.enqueue(Array.from({ length: 6 }, (_, i) => ({ i })));
      const [first] = await r.startWorkers(1);
      await waitFor(() => r.running() >= 2, { ...WAIT, what: 'the first worker to hold both slots' });
      await first!.kill();
      const cutAt = new Map([[first!.child!.pid!, Date.now()]]);
      r.openGate();
      await r.startWorkers(1);
      await r.allSucceeded(ids);
      const lines = r.lines();
      expect(mostAtOnce(lines, cutAt)).toBe(2);
      // The killed worker's two attempts ran again after their leases lapsed (WorkerLost).
      const rerun = lines.filter((l) => l.what === 'start' && l.pid !== first!.child!.pid).length;
      expect(lines.filter((l) => l.what === 'start' && l.pid === first!.child!.pid)).toHaveLength(2);
      expect(rerun).toBe(6);
      expect(first!.unexpectedExits).toEqual([]);
    }, FLOW_TEST_TIMEOUT_MS);
  });
}
