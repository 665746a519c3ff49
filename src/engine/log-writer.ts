/**
 * Execution-log lines of the attempts this worker runs, buffered per invocation and written in
 * batches: one store call for every invocation with new lines, at most every second while
 * attempts log, and on the next turn after an attempt ends. A log call never throws and never
 * waits for the store; lines past the function's bounds are dropped oldest first and counted.
 */
import type { Clock, TimerHandle } from '../clock.js';
import type { LogAppend, LogLevel, LogLine, Store } from '../stores/contract.js';
import { logLineBytes } from '../stores/logs.js';
import type { JsonValue } from '../types.js';
import { storableText } from '../errors.js';

const FLUSH_EVERY_MS = 1000;

export interface LogBounds {
  readonly maxLines: number;
  readonly maxBytes: number;
}

interface Buffered {
  readonly bounds: LogBounds;
  lines: Omit<LogLine, 'seq'>[];
  dropped: number;
}

/** A line as given by a handler, made safe to store: a string message, JSON data, within the byte bound. */
export function logLine(at: number, attempt: number, level: LogLevel, message: unknown, data: unknown, bounds: LogBounds): Omit<LogLine, 'seq'> {
  let text = storableText(typeof message === 'string' ? message : safeString(message));
  const json = data === undefined ? undefined : toJson(data);
  // One line never exceeds the bound on its own: the data goes first, then the message is cut.
  let line: Omit<LogLine, 'seq'> = json === undefined ? { at, attempt, level, message: text } : { at, attempt, level, message: text, data: json };
  if (logLineBytes(line) > bounds.maxBytes && json !== undefined) {
    line = { at, attempt, level, message: `${text} [data omitted: over the log's byte bound]` };
  }
  if (logLineBytes(line) > bounds.maxBytes) {
    text = Buffer.from(line.message).subarray(0, Math.max(0, bounds.maxBytes - 3)).toString().replace(/\uFFFD+$/, '');
    line = { at, attempt, level, message: `${text}…` };
  }
  return line;
}

export class LogWriter {
  readonly #store: Store;
  readonly #clock: Clock;
  readonly #reportError: (error: unknown, during: string) => void;
  readonly #buffered = new Map<string, Buffered>();
  #timer: TimerHandle | undefined;
  #soon = false;
  #writing: Promise<void> | undefined;

  constructor(store: Store, clock: Clock, reportError: (error: unknown, during: string) => void) {
    this.#store = store;
    this.#clock = clock;
    this.#reportError = reportError;
  }

  /** Nothing buffered and nothing being written. */
  get idle(): boolean {
    return this.#buffered.size === 0 && this.#writing === undefined;
  }

  write(requestId: string, line: Omit<LogLine, 'seq'>, bounds: LogBounds): void {
    let entry = this.#buffered.get(requestId);
    if (!entry) this.#buffered.set(requestId, (entry = { bounds, lines: [], dropped: 0 }));
    entry.lines.push(line);
    if (entry.lines.length > bounds.maxLines) {
      entry.lines.shift();
      entry.dropped++;
    }
    if (this.#timer === undefined) this.#timer = this.#clock.setTimeout(() => this.#flushNow(), FLUSH_EVERY_MS);
  }

  /** An attempt of `requestId` ended: write its lines on the next turn (with any others ending then). */
  ended(requestId: string): void {
    if (!this.#buffered.has(requestId) || this.#soon) return;
    this.#soon = true;
    setImmediate(() => {
      this.#soon = false;
      this.#flushNow();
    });
  }

  /** Writes everything buffered and waits for it (the invoker is closing). */
  async close(): Promise<void> {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    while (this.#buffered.size > 0 || this.#writing) {
      if (this.#writing) await this.#writing;
      else this.#flushNow();
    }
  }

  #flushNow(): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    // One write at a time; what arrives meanwhile goes in the next.
    if (this.#writing || this.#buffered.size === 0) return;
    const items: LogAppend[] = [];
    for (const [requestId, entry] of this.#buffered) {
      items.push({ requestId, lines: entry.lines, maxLines: entry.bounds.maxLines, maxBytes: entry.bounds.maxBytes, dropped: entry.dropped });
    }
    this.#buffered.clear();
    this.#writing = this.#store.appendLogs(items).then(
      () => this.#written(),
      (error: unknown) => {
        this.#reportError(error, 'logs');
        this.#written();
      },
    );
  }

  #written(): void {
    this.#writing = undefined;
    if (this.#buffered.size > 0 && this.#timer === undefined) this.#timer = this.#clock.setTimeout(() => this.#flushNow(), FLUSH_EVERY_MS);
  }
}

function toJson(data: unknown): JsonValue {
  try {
    // bigints as text; strings made storable (no NUL, no lone surrogates).
    const text = JSON.stringify(data, (_key, value: unknown) =>
      typeof value === 'bigint' ? value.toString() : typeof value === 'string' ? storableText(value) : value,
    );
    return text === undefined ? safeString(data) : (JSON.parse(text) as JsonValue);
  } catch {
    return safeString(data);
  }
}

function safeString(value: unknown): string {
  try {
    return String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}
