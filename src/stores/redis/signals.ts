/**
 * `due`/`stop` signals over Redis pub/sub, so idle workers in every process wake without
 * polling. Listeners in this process are called at once (through the store's SignalHub); the
 * message published for the other processes carries this instance's id so it is not delivered
 * here twice.
 *
 * The subscriber has a connection of its own (a subscribed connection takes no other commands),
 * opened by the first `subscribe()`. ioredis reconnects it after a failure and this class
 * subscribes again; signals published meanwhile were lost, so `onResubscribed` then lets the
 * store wake its listeners itself.
 */
import type { Redis } from 'ioredis';
import type { StoreError } from '../../errors.js';
import type { StoreSignal } from '../contract.js';
import type { SignalHub } from '../signal-hub.js';
import type { Endpoint } from './connect.js';
import { ConnectionLost } from './faults.js';
import type { Link } from './link.js';
import type { Step } from './scripts.js';

/** Wait before opening another subscriber after one could not be opened or gave up. */
const REOPEN_DELAY_MS = 200;

/** How Redis 7.0 words a command an ACL refuses inside a script. */
const ACL_IN_SCRIPT = /^ERR The user executing the script can't run this command/;

interface Message {
  readonly o: string;
  readonly s: StoreSignal;
}

function isSignal(value: unknown): value is StoreSignal {
  if (typeof value !== 'object' || value === null) return false;
  const s = value as Record<string, unknown>;
  if (s.type === 'due') return typeof s.functionName === 'string' && typeof s.at === 'number';
  if (s.type === 'stop') return typeof s.requestId === 'string';
  return false;
}

export interface SignalsParts {
  readonly hub: SignalHub;
  readonly channel: string;
  /** This store instance's id, in every message it publishes. */
  readonly origin: string;
  readonly endpoint: Endpoint;
  /** Maps a driver error to the StoreError reported to `onError`. */
  readonly toStoreError: (error: unknown, operation: string) => StoreError;
  /** The subscription is back after a failure or loss: signals sent meanwhile never arrived. */
  readonly onResubscribed: () => void;
}

export class Signals {
  readonly #p: SignalsParts;
  #subscriber: Redis | undefined;
  #opening: Promise<void> | undefined;
  /** The subscriber failed or lost its connection and that was reported; cleared once subscribed. */
  #down = false;
  #lastError: Error | undefined;
  #closed = false;

  constructor(parts: SignalsParts) {
    this.#p = parts;
  }

  /** Adds a listener and opens the subscriber connection if it is not open yet. */
  subscribe(listener: (signal: StoreSignal) => void): () => void {
    const unsubscribe = this.#p.hub.subscribe(listener);
    this.#open();
    return unsubscribe;
  }

  /** Sends `signals` to local listeners now and to other processes through `link`. */
  publish(link: Link, signals: readonly StoreSignal[]): void {
    const { hub, channel, origin } = this.#p;
    for (const signal of signals) hub.emit(signal);
    // A write that was under way when the store closed: its connection is going too.
    if (this.#closed) return;
    const steps: Step[] = signals.map((s) => {
      const message: Message = { o: origin, s };
      return { command: 'publish', args: [channel, JSON.stringify(message)] };
    });
    // Not awaited: the write it follows succeeded, and a lost wake-up only delays work until
    // the next claim or lease expiry. The failure is reported, not thrown.
    link.run(steps).catch((error: unknown) => hub.report(this.#p.toStoreError(error, 'publish'), 'publish'));
  }

  /**
   * What a script needs to publish a `due` signal for `functionName` itself (an enqueue does,
   * saving a command): the channel and the message up to the time, which the script appends
   * followed by `}}`.
   */
  dueMessage(functionName: string): { readonly channel: string; readonly head: string } {
    const { channel, origin } = this.#p;
    return { channel, head: `{"o":${JSON.stringify(origin)},"s":{"type":"due","functionName":${JSON.stringify(functionName)},"at":` };
  }

  /**
   * Signals a script published to the other processes: only this process's listeners are told
   * here. `failure` is the error of a publish that failed (the write it follows succeeded).
   */
  published(signals: readonly StoreSignal[], failure: string | undefined): void {
    for (const signal of signals) this.#p.hub.emit(signal);
    if (failure === undefined) return;
    // An error reply as ioredis raises one (faults.ts reads its code). In a script, Redis 7.0
    // words an ACL refusal as ERR: give it the code it has outside one.
    const error = new Error(ACL_IN_SCRIPT.test(failure) ? failure.replace(/^ERR/, 'NOPERM') : failure);
    error.name = 'ReplyError';
    this.#p.hub.report(this.#p.toStoreError(error, 'publish'), 'publish');
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#reopenTimer);
    await this.#opening;
    const subscriber = this.#subscriber;
    this.#subscriber = undefined;
    if (!subscriber) return;
    subscriber.off('ready', this.#onReady);
    subscriber.off('close', this.#onClose);
    subscriber.off('end', this.#onEnd);
    subscriber.off('message', this.#onMessage);
    // The error listener stays: a late error of a closing connection must not be printed.
    subscriber.disconnect();
  }

  #open(): void {
    if (this.#subscriber || this.#opening || this.#closed) return;
    this.#opening = this.#p.endpoint
      .signals(this.#onError)
      .then(
        (subscriber) => {
          if (this.#closed) {
            subscriber.disconnect();
            return;
          }
          this.#subscriber = subscriber;
          subscriber.on('ready', this.#onReady);
          subscriber.on('close', this.#onClose);
          subscriber.on('end', this.#onEnd);
          subscriber.on('message', this.#onMessage);
          subscriber.connect().catch(() => undefined); // a failure arrives as an error event
        },
        (error: unknown) => {
          this.#lost(error);
          this.#reopenLater();
        },
      )
      .finally(() => (this.#opening = undefined));
  }

  /**
   * The connection gave up (a cluster node that stays down; a standalone connection retries
   * forever and never ends before close): open another, which goes to another node.
   */
  readonly #onEnd = (): void => {
    const subscriber = this.#subscriber;
    if (!subscriber || this.#closed) return;
    subscriber.off('ready', this.#onReady);
    subscriber.off('close', this.#onClose);
    subscriber.off('end', this.#onEnd);
    subscriber.off('message', this.#onMessage);
    this.#subscriber = undefined;
    this.#lost(this.#lastError ?? new ConnectionLost());
    this.#reopenLater();
  };

  #reopenTimer: NodeJS.Timeout | undefined;

  #reopenLater(): void {
    if (this.#closed || this.#reopenTimer) return;
    this.#reopenTimer = setTimeout(() => {
      this.#reopenTimer = undefined;
      this.#open();
    }, REOPEN_DELAY_MS);
    this.#reopenTimer.unref();
  }

  #subscribedOnce = false;

  /** Connected (first time or again): subscribe. */
  readonly #onReady = (): void => {
    const subscriber = this.#subscriber;
    if (!subscriber) return;
    subscriber.subscribe(this.#p.channel).then(
      () => {
        this.#lastError = undefined;
        if (this.#closed) return;
        // Signals published before the first subscription (claims may have run already) or
        // while it was down could not reach us: wake the functions this store claims for.
        const missed = this.#down || !this.#subscribedOnce;
        this.#subscribedOnce = true;
        this.#down = false;
        if (missed) this.#p.onResubscribed();
      },
      // The connection dropped again before the subscription: the next 'ready' retries it.
      (error: unknown) => this.#lost(error),
    );
  };

  readonly #onError = (error: Error): void => {
    this.#lastError = error;
    this.#lost(error);
  };

  readonly #onClose = (): void => {
    this.#lost(this.#lastError ?? new ConnectionLost());
  };

  /** Reports a failed or lost subscriber once, until it is subscribed again. */
  #lost(error: unknown): void {
    if (this.#closed) return;
    // A connection that never subscribed counts as lost too: once it does, wake the listeners.
    if (this.#down) return;
    this.#down = true;
    this.#p.hub.report(this.#p.toStoreError(error, 'subscribe'), 'subscriber');
  }

  readonly #onMessage = (_channel: string, text: string): void => {
    let message: Partial<Message>;
    try {
      message = JSON.parse(text) as Partial<Message>;
    } catch {
      return; // not ours: ignore
    }
    if (message.o === this.#p.origin || !isSignal(message.s)) return;
    this.#p.hub.emit(message.s);
  };
}
