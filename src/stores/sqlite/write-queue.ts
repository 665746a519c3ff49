/**
 * Group commit. Every write (enqueue, claim, settle, heartbeat, stop, prune) is queued and run
 * on the next turn of the event loop together with every other write queued in the same tick,
 * inside one `BEGIN IMMEDIATE` transaction: one WAL fsync for all of them. If one of them
 * throws, the transaction is rolled back and each write is run again in its own transaction,
 * so only the one that throws fails.
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
  readonly #begin: BetterSqlite3.Statement;
  readonly #commitStmt: BetterSqlite3.Statement;
  readonly #rollback: BetterSqlite3.Statement;
  #scheduled = false;

  /** `afterCommit` runs after every successful commit (the store emits its signals there). */
  constructor(db: BetterSqlite3.Database, enabled: boolean, afterCommit: (signals: StoreSignal[]) => void) {
    this.#db = db;
    this.#enabled = enabled;
    this.#afterCommit = afterCommit;
    this.#begin = db.prepare('BEGIN IMMEDIATE');
    this.#commitStmt = db.prepare('COMMIT');
    this.#rollback = db.prepare('ROLLBACK');
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
    const results: unknown[] = [];
    const signals: StoreSignal[] = [];
    const emit: Emit = (signal) => signals.push(signal);
    try {
      this.#begin.run();
    } catch (error) {
      for (const job of jobs) job.reject(error);
      return;
    }
    try {
      for (const job of jobs) results.push(job.run(emit));
    } catch (error) {
      this.#rollback.run();
      // Jobs only read and write the database (and queue signals), so re-running is safe:
      // one at a time now, so the one that throws fails alone.
      if (jobs.length > 1) for (const job of jobs) this.#commit([job]);
      else jobs[0]!.reject(error);
      return;
    }
    try {
      this.#commitStmt.run();
    } catch (error) {
      if (this.#db.inTransaction) this.#rollback.run();
      for (const job of jobs) job.reject(error);
      return;
    }
    if (signals.length) this.#afterCommit(signals);
    for (let i = 0; i < jobs.length; i++) jobs[i]!.resolve(results[i]);
  }
}
