/**
 * The store's command connection, and the bound on every call: each round trip goes through
 * `run`, which waits for a connection no longer than `operationTimeoutMs` (and not at all when
 * the connection is known to be down: ioredis is retrying it in the background) and for a reply
 * no longer than `operationTimeoutMs`.
 */
import type { Redis } from 'ioredis';
import { storeClosedError } from '../signal-hub.js';
import type { Endpoint } from './connect.js';
import { ConnectionLost, TimedOut } from './faults.js';
import { runSteps, type Arg, type Step } from './scripts.js';

export class Link {
  readonly #endpoint: Endpoint;
  readonly #boundMs: number;
  #client: Redis | undefined;
  #creating: Promise<Redis> | undefined;
  /** `#client`, resolved: what `#ready()` hands out while connected, without a new promise. */
  #readyClient: Promise<Redis> | undefined;
  /** The wait for a connection being opened, shared by the calls made meanwhile. */
  #waiting: Promise<Redis> | undefined;
  /** Why the connection is down, for the calls that fail meanwhile. */
  #lastError: Error | undefined;
  #closed = false;

  constructor(endpoint: Endpoint, boundMs: number) {
    this.#endpoint = endpoint;
    this.#boundMs = boundMs;
  }

  readonly #onError = (error: Error): void => {
    this.#lastError = error;
  };

  readonly #onReady = (): void => {
    this.#lastError = undefined;
    this.#generation++;
  };

  #generation = 0;

  /** Counts the connections made: it changes when the connection was lost and made again. */
  get generation(): number {
    return this.#generation;
  }

  /** One round trip (`steps` in one pipeline), bounded by `operationTimeoutMs`. */
  async run(steps: readonly Step[]): Promise<unknown[]> {
    const client = await this.#ready();
    return within(runSteps(client, steps), this.#boundMs);
  }

  /**
   * Plain commands in one MULTI/EXEC, bounded like `run`: their replies all come from one state
   * of the data, with no other client's command in between.
   */
  async atomically(steps: readonly { readonly command: string; readonly args: readonly Arg[] }[]): Promise<unknown[]> {
    const client = await this.#ready();
    const multi = client.multi();
    for (const step of steps) multi.call(step.command, [...step.args]);
    const results = await within(multi.exec(), this.#boundMs);
    if (!results) throw new Error('a transaction was discarded');
    return results.map(([error, reply]) => {
      if (error) throw error;
      return reply;
    });
  }

  /** The client once it takes commands; rejects with the driver's error when it cannot. */
  #ready(): Promise<Redis> {
    if (this.#client?.status === 'ready') return this.#readyClient!;
    return (this.#waiting ??= this.#connect().finally(() => (this.#waiting = undefined)));
  }

  async #connect(): Promise<Redis> {
    if (this.#closed) throw storeClosedError('redis', 'a call');
    const client = this.#client ?? (await (this.#creating ??= this.#create()));
    switch (client.status) {
      case 'ready':
        return client;
      case 'reconnecting':
      case 'close':
        // The last attempt failed or the connection dropped; ioredis retries on its own. Waiting
        // for that here would only make every call during an outage slow to fail.
        throw this.#lastError ?? new ConnectionLost();
      case 'end':
        throw new Error('Connection is closed.');
      case 'wait':
        // A lazy client not connected yet: its failure comes as an event, awaited below.
        client.connect().catch(() => undefined);
        break;
    }
    await untilReady(client, this.#boundMs);
    return client;
  }

  async #create(): Promise<Redis> {
    const shared = this.#endpoint.shared;
    let client: Redis;
    if (shared) {
      // Ours while the store is open: without a listener, ioredis prints every connection error.
      shared.on('error', this.#onError);
      client = shared;
    } else {
      client = await this.#endpoint.open('commands', this.#onError);
    }
    client.on('ready', this.#onReady);
    this.#client = client;
    this.#readyClient = Promise.resolve(client);
    return client;
  }

  /** Closes the connection the store opened; leaves the user's client open. */
  async close(): Promise<void> {
    this.#closed = true;
    const client = this.#client ?? (await this.#creating?.catch(() => undefined));
    if (!client) return;
    client.off('ready', this.#onReady);
    if (client === this.#endpoint.shared) {
      client.off('error', this.#onError);
      return;
    }
    // QUIT lets replies still on their way arrive; a server that does not answer is cut off.
    if (client.status === 'ready') await within(client.quit(), this.#boundMs).catch(() => undefined);
    client.disconnect();
  }
}

/** Resolves once `client` is ready; rejects on its first error, or after `ms`. */
function untilReady(client: Redis, ms: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const done = (error?: Error): void => {
      clearTimeout(timer);
      client.off('ready', onReady);
      client.off('error', done);
      client.off('close', onClose);
      client.off('end', onClose);
      if (error) reject(error);
      else resolve();
    };
    const onReady = (): void => done();
    const onClose = (): void => done(new ConnectionLost());
    const timer = setTimeout(() => done(new TimedOut('connection', ms)), ms);
    client.on('ready', onReady);
    client.on('error', done);
    client.on('close', onClose);
    client.on('end', onClose);
  });
}

/** `promise`, or a TimedOut rejection after `ms`. The command itself is not withdrawn. */
export function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new TimedOut('reply', ms)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
