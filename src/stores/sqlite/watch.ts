/**
 * Wake-ups from other processes sharing the file. Another process's commit writes the WAL
 * file, which `fs.watch` (inotify on Linux) reports at once; `PRAGMA data_version` then tells
 * whether another connection committed since we last looked, and only then do we read the
 * earliest free due time per function and pass it on as `due` signals. A slow safety poll (1 s)
 * covers file systems where `fs.watch` misses changes (network mounts). Stop requests for
 * running invocations reach workers in other processes through their heartbeats (≤ 1 s).
 */
import { watch, type FSWatcher } from 'node:fs';
import type BetterSqlite3 from 'better-sqlite3';
import type { StoreSignal } from '../contract.js';
import type { Statements } from './statements.js';

/** Coalesces a burst of WAL writes into one check. */
const DEBOUNCE_MS = 2;
export const SAFETY_POLL_MS = 1000;

export class ChangeWatcher {
  readonly #db: BetterSqlite3.Database;
  readonly #statements: Statements;
  readonly #walPath: string | undefined;
  readonly #emit: (signal: StoreSignal) => void;
  readonly #report: (error: unknown) => void;
  #watcher: FSWatcher | undefined;
  #poll: NodeJS.Timeout | undefined;
  #debounce: NodeJS.Timeout | undefined;
  #dataVersion = -1;

  /**
   * `walPath` undefined (an in-memory database): nobody else can write, nothing to watch.
   * `report` gets failures other than a momentarily busy database.
   */
  constructor(
    db: BetterSqlite3.Database,
    statements: Statements,
    walPath: string | undefined,
    out: { emit: (signal: StoreSignal) => void; report: (error: unknown) => void },
  ) {
    this.#db = db;
    this.#statements = statements;
    this.#walPath = walPath;
    this.#emit = out.emit;
    this.#report = out.report;
  }

  start(): void {
    if (this.#walPath === undefined || this.#poll) return;
    this.#dataVersion = this.#readVersion();
    try {
      this.#watcher = watch(this.#walPath, { persistent: false }, () => this.#schedule());
      this.#watcher.on('error', (error) => {
        // The safety poll still finds other processes' work; say why wake-ups became slower.
        this.#report(error);
        this.#stopWatching();
      });
    } catch {
      // No WAL file to watch (yet) or no watcher support: the safety poll still works.
    }
    this.#poll = setInterval(() => this.check(), SAFETY_POLL_MS);
    this.#poll.unref();
  }

  stop(): void {
    this.#stopWatching();
    if (this.#poll) clearInterval(this.#poll);
    if (this.#debounce) clearTimeout(this.#debounce);
    this.#poll = undefined;
    this.#debounce = undefined;
  }

  /** Emits due signals if another connection committed since the last check. */
  check(): void {
    if (!this.#db.open) return;
    let rows: { function_name: string; at: number }[];
    try {
      const version = this.#readVersion();
      if (version === this.#dataVersion) return;
      this.#dataVersion = version;
      rows = this.#statements.earliestFree();
    } catch (error) {
      // Busy: the next change or poll tries again. Anything else is worth telling.
      if ((error as { code?: unknown }).code !== 'SQLITE_BUSY' && this.#db.open) this.#report(error);
      return;
    }
    for (const row of rows) this.#emit({ type: 'due', functionName: row.function_name, at: row.at });
  }

  #schedule(): void {
    if (this.#debounce) return;
    this.#debounce = setTimeout(() => {
      this.#debounce = undefined;
      this.check();
    }, DEBOUNCE_MS);
    this.#debounce.unref();
  }

  #readVersion(): number {
    return Number(this.#db.pragma('data_version', { simple: true }));
  }

  #stopWatching(): void {
    this.#watcher?.close();
    this.#watcher = undefined;
  }
}
