/**
 * The store's command connection, and the bound on every call: each round trip goes through
 * `run`, which waits for a connection no longer than `operationTimeoutMs` (and not at all when
 * the connection is known to be down: ioredis is retrying it in the background) and for a reply
 * no longer than `operationTimeoutMs`.
 */
import { storeClosedError } from '../signal-hub.js';
import { untilReady, type Endpoint, type RedisClient } from './connect.js';
import { ConnectionLost, TimedOut } from './faults.js';
import { keyOf, runSteps, type Arg, type ReplicaWait, type Step } from './scripts.js';

export class Link {
  readonly #endpoint: Endpoint;
  readonly #boundMs: number;
  /** The WAIT that follows a durable write, when the store asks for replica acknowledgements. */
  readonly #replicaWait: ReplicaWait | undefined;
  #client: RedisClient | undefined;
  #creating: Promise<RedisClient> | undefined;
  /** `#client`, resolved: what `#ready()` hands out while connected, without a new promise. */
  #readyClient: Promise<RedisClient> | undefined;
  /** The wait for a connection being opened, shared by the calls made meanwhile. */
  #waiting: Promise<RedisClient> | undefined;
  /** Why the connection is down, for the calls that fail meanwhile. */
  #lastError: Error | undefined;
  #closed = false;

  constructor(endpoint: Endpoint, boundMs: number, replicaWait?: ReplicaWait) {
    this.#endpoint = endpoint;
    this.#boundMs = boundMs;
    this.#replicaWait = replicaWait && replicaWait.replicas > 0 ? replicaWait : undefined;
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

  /**
   * One round trip (`steps` in one pipeline; on a cluster, one pipeline per slot, sent at once),
   * bounded by `operationTimeoutMs`. A `durable` write also waits for the replicas the store
   * asks for (plus their timeout), and fails when fewer acknowledge it.
   */
  async run(steps: readonly Step[], durable = false): Promise<unknown[]> {
    const client = await this.#ready();
    const wait = durable ? this.#replicaWait : undefined;
    const bound = this.#boundMs + (wait?.timeoutMs ?? 0);
    const groups = this.#endpoint.cluster ? bySlot(steps, keyOf) : undefined;
    if (!groups || groups.length === 1) return within(runSteps(client, steps, wait), bound);
    const settled = await within(Promise.allSettled(groups.map((g) => runSteps(client, g.map((i) => steps[i]!), wait))), bound);
    // Every group ran to its end (a pipeline does too): the first failure, in step order, is thrown.
    let failure: { at: number; error: unknown } | undefined;
    settled.forEach((result, g) => {
      const at = groups[g]![0]!;
      if (result.status === 'rejected' && (!failure || at < failure.at)) failure = { at, error: result.reason };
    });
    if (failure) throw failure.error;
    return scatter(steps.length, groups, settled.map((result) => (result as PromiseFulfilledResult<unknown[]>).value));
  }

  /**
   * Plain commands in one MULTI/EXEC, bounded like `run`: their replies all come from one state
   * of the data, with no other client's command in between. On a cluster that holds per slot
   * (a transaction cannot span slots): one transaction per slot, sent at once.
   */
  async atomically(steps: readonly { readonly command: string; readonly args: readonly Arg[] }[]): Promise<unknown[]> {
    const client = await this.#ready();
    const groups = this.#endpoint.cluster ? bySlot(steps, (step) => String(step.args[0] ?? '')) : [steps.map((_s, i) => i)];
    const results = await within(Promise.all(groups.map(async (group) => {
      const multi = client.multi();
      for (const i of group) multi.call(steps[i]!.command, [...steps[i]!.args]);
      const replies = await multi.exec();
      if (!replies) throw new Error('a transaction was discarded');
      return replies.map(([error, reply]) => {
        if (error) throw error;
        return reply;
      });
    })), this.#boundMs);
    return scatter(steps.length, groups, results);
  }

  /** The client once it takes commands; rejects with the driver's error when it cannot. */
  #ready(): Promise<RedisClient> {
    if (this.#client?.status === 'ready') return this.#readyClient!;
    return (this.#waiting ??= this.#connect().finally(() => (this.#waiting = undefined)));
  }

  async #connect(): Promise<RedisClient> {
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

  async #create(): Promise<RedisClient> {
    const shared = this.#endpoint.shared;
    let client: RedisClient;
    if (shared) {
      // Ours while the store is open: without a listener, ioredis prints every connection error.
      shared.on('error', this.#onError);
      client = shared;
    } else {
      client = await this.#endpoint.commands(this.#onError);
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

/** The replies of each group put back at their steps' places (`groups[g][j]` is the step of `replies[g][j]`). */
function scatter(n: number, groups: readonly (readonly number[])[], replies: readonly (readonly unknown[])[]): unknown[] {
  const out = new Array<unknown>(n);
  groups.forEach((group, g) => group.forEach((i, j) => (out[i] = replies[g]![j])));
  return out;
}

/**
 * Indexes of `items` grouped by the hash slot of their key, in first-seen order: keys with the
 * same hash tag (`{...}`) share a slot; a key without one is its own group ('' = no key).
 */
function bySlot<T>(items: readonly T[], keyOf: (item: T) => string): number[][] {
  const groups = new Map<string, number[]>();
  items.forEach((item, i) => {
    const key = keyOf(item);
    const open = key.indexOf('{');
    const close = open < 0 ? -1 : key.indexOf('}', open + 1);
    const tag = close > open + 1 ? key.slice(open + 1, close) : key;
    const group = groups.get(tag);
    if (group) group.push(i);
    else groups.set(tag, [i]);
  });
  return [...groups.values()];
}
