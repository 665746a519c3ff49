/**
 * `due`/`stop` signals over Redis pub/sub, so idle workers in every process wake without
 * polling. Listeners in this process are called at once; the message published for the other
 * processes carries this instance's id so it is not delivered here twice.
 */
import type { Redis } from 'ioredis';
import type { StoreSignal } from '../contract.js';

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

export class Signals {
  readonly #listeners = new Set<(signal: StoreSignal) => void>();
  readonly #origin: string;
  readonly #channel: string;
  readonly #connect: () => Promise<Redis>;
  /** The subscriber connection, opened by the first subscribe(). */
  #subscriber: Promise<Redis> | undefined;
  #closed = false;

  constructor(channel: string, origin: string, connect: () => Promise<Redis>) {
    this.#channel = channel;
    this.#origin = origin;
    this.#connect = connect;
  }

  subscribe(listener: (signal: StoreSignal) => void, onError: (error: unknown) => void): () => void {
    this.#listeners.add(listener);
    if (!this.#subscriber && !this.#closed) {
      this.#subscriber = this.#open();
      this.#subscriber.catch(onError);
    }
    return () => this.#listeners.delete(listener);
  }

  /** Sends `signals` to local listeners now and to other processes through `client`. */
  publish(client: Redis, signals: readonly StoreSignal[]): void {
    for (const signal of signals) this.#emit(signal);
    for (const s of signals) {
      const message: Message = { o: this.#origin, s };
      // Fire and forget: a lost wake-up only delays work until the next claim or lease expiry.
      client.publish(this.#channel, JSON.stringify(message)).catch(() => {});
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#listeners.clear();
    const subscriber = this.#subscriber;
    this.#subscriber = undefined;
    if (subscriber) {
      const client = await subscriber.catch(() => undefined);
      client?.disconnect();
    }
  }

  async #open(): Promise<Redis> {
    const client = await this.#connect();
    client.on('message', (_channel: string, text: string) => this.#onMessage(text));
    await client.subscribe(this.#channel);
    if (this.#closed) client.disconnect();
    return client;
  }

  #onMessage(text: string): void {
    let message: Partial<Message>;
    try {
      message = JSON.parse(text) as Partial<Message>;
    } catch {
      return; // not ours: ignore
    }
    if (message.o === this.#origin || !isSignal(message.s)) return;
    this.#emit(message.s);
  }

  #emit(signal: StoreSignal): void {
    for (const listener of this.#listeners) {
      try {
        listener(signal);
      } catch {
        // A throwing listener must not stop the others from waking.
      }
    }
  }
}
