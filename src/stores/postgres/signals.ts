/**
 * The store's signals: listeners and error handlers in this process (the shared SignalHub),
 * and the LISTEN connection that brings other processes' NOTIFYs. The SQL sends the NOTIFYs
 * itself, tagged with `self` so this instance's own come back to no one.
 */
import { randomUUID } from 'node:crypto';
import type { PoolClient } from 'pg';
import type { StoreError } from '../../errors.js';
import type { StoreBackgroundTask, StoreSignal } from '../contract.js';
import { SignalHub } from '../signal-hub.js';
import { ChannelListener } from './listener.js';

export class Signals {
  /** The NOTIFY channel of the schema. */
  readonly channel: string;
  /** Tags this instance's notifications so its own listener can skip them. */
  readonly self = randomUUID();
  readonly #hub = new SignalHub('postgres');
  /** Functions seen in claims: woken after the LISTEN connection is re-established. */
  readonly #functions = new Set<string>();
  /** Wake-ups counted in order; per function, the count at its latest (see wokeSince). */
  #wakes = 0;
  readonly #lastWake = new Map<string, number>();
  readonly #connect: () => Promise<PoolClient>;
  readonly #toError: (error: unknown) => StoreError;
  #listener: ChannelListener | undefined;

  constructor(options: {
    schema: string;
    /** A dedicated client for LISTEN. */
    connect: () => Promise<PoolClient>;
    /** The LISTEN connection's failures as the StoreError reported. */
    toError: (error: unknown) => StoreError;
  }) {
    this.channel = `async_invoker_${options.schema}`;
    this.#connect = options.connect;
    this.#toError = options.toError;
  }

  /** A claim for these functions: what to wake after a reconnect. */
  claiming(functionNames: Iterable<string>): void {
    for (const name of functionNames) this.#functions.add(name);
  }

  subscribe(listener: (signal: StoreSignal) => void): () => void {
    const unsubscribe = this.#hub.subscribe(listener);
    this.#listener ??= new ChannelListener({
      connect: this.#connect,
      channel: this.channel,
      self: this.self,
      onSignal: (signal) => this.#hub.emit(signal),
      onWake: (functionName) => this.woke(functionName),
      // Signals sent while disconnected are lost: wake every function this store claims for.
      onReconnect: () => this.due([...this.#functions].map((f) => [f, 0] as const)),
      onError: (error) => this.#hub.report(this.#toError(error), 'subscriber'),
    });
    void this.#listener.start();
    return unsubscribe;
  }

  onError(handler: (error: StoreError, during: StoreBackgroundTask) => void): () => void {
    return this.#hub.onError(handler);
  }

  /** Hands a failure of background work to the error handlers. */
  report(error: StoreError, during: StoreBackgroundTask): void {
    this.#hub.report(error, during);
  }

  /** Work became due: one signal per function, at its earliest time. */
  due(entries: readonly (readonly [string, number])[]): void {
    if (this.#hub.size === 0 || entries.length === 0) return;
    const earliest = new Map<string, number>();
    for (const [fn, at] of entries) {
      const seen = earliest.get(fn);
      if (seen === undefined || at < seen) earliest.set(fn, at);
    }
    for (const [functionName, at] of earliest) this.#hub.emit({ type: 'due', functionName, at });
  }

  /** A running slot of `functionName` freed (a settlement's wake-up, here or in another process). */
  woke(functionName: string): void {
    this.#lastWake.set(functionName, ++this.#wakes);
  }

  /** A mark to compare later wake-ups with. */
  wakeMark(): number {
    return this.#wakes;
  }

  /** Whether a slot of `functionName` freed since `mark`. */
  wokeSince(mark: number, functionName: string): boolean {
    return (this.#lastWake.get(functionName) ?? 0) > mark;
  }

  stop(requestId: string): void {
    this.#hub.emit({ type: 'stop', requestId });
  }

  /** Ends LISTEN and drops every listener and handler. */
  async close(): Promise<void> {
    await this.#listener?.close();
    this.#hub.clear();
  }
}
