/**
 * Group commit. Every write (enqueue, claim, settle, heartbeat, stop, prune) is queued and run
 * on the next turn of the event loop together with every other write queued in the same tick,
 * inside one `BEGIN IMMEDIATE` transaction: one WAL fsync for all of them. Each write runs in
 * its own savepoint, so one that throws is rolled back and rejected alone.
 *
 * With `enabled: false` every write is its own transaction (for measuring what grouping buys).
 */
import type BetterSqlite3 from 'better-sqlite3';
import type { StoreSignal } from '../contract.js';

/** Records a signal to emit once the write is committed (dropped if it is rolled back). */
export type Emit = (signal: StoreSignal) => void;

interface Job {
  run: (emit: Emit) => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

export class WriteQueue {
  readonly #db: BetterSqlite3.Database;
  readonly #enabled: boolean;
  readonly #afterCommit: (signals: StoreSignal[]) => void;
  #jobs: Job[] = [];
  #scheduled = false;

  /** `afterCommit` runs after every successful commit (the store emits its signals there). */
  constructor(db: BetterSqlite3.Database, enabled: boolean, afterCommit: (signals: StoreSignal[]) => void) {
    this.#db = db;
    this.#enabled = enabled;
    this.#afterCommit = afterCommit;
  }

  /** Runs `fn` inside a write transaction; resolves once that transaction is committed. */
  run<T>(fn: (emit: Emit) => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#jobs.push({ run: fn, resolve: resolve as (value: unknown) => void, reject });
      if (this.#scheduled) return;
      this.#scheduled = true;
      // setImmediate, not a microtask: calls made from other callbacks of this tick join too.
      setImmediate(() => this.#flush());
    });
  }

  #flush(): void {
    this.#scheduled = false;
    const jobs = this.#jobs;
    this.#jobs = [];
    if (this.#enabled) this.#commit(jobs);
    else for (const job of jobs) this.#commit([job]);
  }

  #commit(jobs: Job[]): void {
    const db = this.#db;
    const results: { ok: boolean; value: unknown }[] = [];
    const signals: StoreSignal[] = [];
    try {
      db.exec('BEGIN IMMEDIATE');
    } catch (error) {
      for (const job of jobs) job.reject(error);
      return;
    }
    try {
      for (const job of jobs) {
        const own: StoreSignal[] = [];
        const emit: Emit = (signal) => own.push(signal);
        if (jobs.length === 1) {
          results.push({ ok: true, value: job.run(emit) });
          signals.push(...own);
          continue;
        }
        db.exec('SAVEPOINT job');
        try {
          results.push({ ok: true, value: job.run(emit) });
          db.exec('RELEASE job');
          for (const signal of own) signals.push(signal);
        } catch (error) {
          db.exec('ROLLBACK TO job');
          db.exec('RELEASE job');
          results.push({ ok: false, value: error });
        }
      }
      db.exec('COMMIT');
    } catch (error) {
      if (db.inTransaction) db.exec('ROLLBACK');
      for (const job of jobs) job.reject(error);
      return;
    }
    if (signals.length) this.#afterCommit(signals);
    jobs.forEach((job, i) => {
      const r = results[i]!;
      if (r.ok) job.resolve(r.value);
      else job.reject(r.value);
    });
  }
}
