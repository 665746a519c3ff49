/**
 * LISTEN on the schema's channel with one dedicated pool client, reconnecting after it fails
 * (backing off from 100 ms to 5 s). Each failure, of a connection attempt or of a connection
 * that was listening, is reported; it never throws. Signals sent by this store instance are
 * dropped here: the store already gave them to its listeners in process, without the round trip.
 */
import type { Notification, PoolClient } from 'pg';
import type { StoreSignal } from '../contract.js';

const RETRY_MIN_MS = 100;
const RETRY_MAX_MS = 5000;

export class ChannelListener {
  readonly #connectClient: () => Promise<PoolClient>;
  readonly #channel: string;
  readonly #self: string;
  readonly #onSignal: (signal: StoreSignal) => void;
  /** A running slot of the function freed in another process (a settlement's wake-up). */
  readonly #onWake: (functionName: string) => void;
  /** Called after a reconnect: signals sent while disconnected are lost, so wake everyone. */
  readonly #onReconnect: () => void;
  /** Told of every failure (the store reports it as `subscriber`). */
  readonly #onError: (error: unknown) => void;
  #client: PoolClient | undefined;
  #connecting: Promise<void> | undefined;
  #retryMs = RETRY_MIN_MS;
  #retryTimer: NodeJS.Timeout | undefined;
  #closed = false;
  /**
   * Signals may have been missed: before the first LISTEN was in place (claims may have run
   * already), or since a connection was lost or an attempt failed.
   */
  #missed = true;

  constructor(options: {
    /** A dedicated client (taken from the store's pool). */
    connect: () => Promise<PoolClient>;
    channel: string;
    self: string;
    onSignal: (signal: StoreSignal) => void;
    onWake: (functionName: string) => void;
    onReconnect: () => void;
    onError: (error: unknown) => void;
  }) {
    this.#connectClient = options.connect;
    this.#channel = options.channel;
    this.#self = options.self;
    this.#onSignal = options.onSignal;
    this.#onWake = options.onWake;
    this.#onReconnect = options.onReconnect;
    this.#onError = options.onError;
  }

  /** Connects if not connected; resolves once LISTEN is in place (or the attempt failed). */
  start(): Promise<void> {
    if (this.#closed || this.#client) return Promise.resolve();
    this.#connecting ??= this.#connect().finally(() => (this.#connecting = undefined));
    return this.#connecting;
  }

  async #connect(): Promise<void> {
    let client: PoolClient | undefined;
    try {
      client = await this.#connectClient();
      client.on('notification', this.#onNotification);
      client.on('error', this.#onLost);
      client.on('end', this.#onEnd);
      await client.query(`listen "${this.#channel}"`);
      if (this.#closed) {
        this.#drop(client);
        return;
      }
      this.#client = client;
      this.#retryMs = RETRY_MIN_MS;
      if (this.#missed) this.#onReconnect();
      this.#missed = false;
    } catch (error) {
      if (client) this.#drop(client, true);
      if (this.#closed) return;
      this.#missed = true;
      this.#onError(error);
      this.#scheduleRetry();
    }
  }

  readonly #onNotification = (message: Notification): void => {
    if (message.channel !== this.#channel || !message.payload) return;
    let parsed: { s?: string; t?: string; f?: string; at?: number; r?: string; w?: boolean };
    try {
      parsed = JSON.parse(message.payload) as typeof parsed;
    } catch {
      return;
    }
    if (parsed.s === this.#self) return;
    if (parsed.t === 'due' && typeof parsed.f === 'string' && typeof parsed.at === 'number') {
      if (parsed.w === true) this.#onWake(parsed.f);
      this.#onSignal({ type: 'due', functionName: parsed.f, at: parsed.at });
    } else if (parsed.t === 'stop' && typeof parsed.r === 'string') {
      this.#onSignal({ type: 'stop', requestId: parsed.r });
    }
  };

  readonly #onLost = (error: unknown): void => {
    const client = this.#client;
    if (!client) return;
    this.#client = undefined;
    this.#drop(client, true);
    if (this.#closed) return;
    this.#missed = true;
    this.#onError(error);
    this.#scheduleRetry();
  };

  /** The connection ended without an error event (the server closed it cleanly). */
  readonly #onEnd = (): void => this.#onLost(new Error('the LISTEN connection was closed by the server'));

  #scheduleRetry(): void {
    if (this.#closed || this.#retryTimer) return;
    const delay = this.#retryMs;
    this.#retryMs = Math.min(RETRY_MAX_MS, this.#retryMs * 2);
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      void this.start();
    }, delay);
    // A retry loop alone must not keep the process alive.
    this.#retryTimer.unref();
  }

  #drop(client: PoolClient, broken = false): void {
    client.off('notification', this.#onNotification);
    client.off('error', this.#onLost);
    client.off('end', this.#onEnd);
    // Swallow late errors from a client we are done with.
    client.on('error', () => {});
    client.release(broken ? true : undefined);
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    await this.#connecting;
    const client = this.#client;
    this.#client = undefined;
    if (client) {
      await client.query(`unlisten "${this.#channel}"`).catch(() => {});
      this.#drop(client);
    }
  }
}
