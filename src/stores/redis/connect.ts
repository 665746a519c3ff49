/**
 * Where the store's connections come from: opened from the url (ioredis is an optional peer
 * dependency, imported on first use), or the user's client and duplicates of it. Every client
 * the store creates gets an `error` listener before anything can go wrong on it, so ioredis
 * never prints "Unhandled error event".
 */
import type { Redis, RedisOptions } from 'ioredis';
import { StoreError } from '../../errors.js';

/**
 * ioredis settings that make a failed call final and bounded while the server is down (the
 * store's own timers bound the rest, see link.ts).
 */
export function boundedSettings(boundMs: number): RedisOptions {
  return {
    lazyConnect: true,
    connectTimeout: boundMs,
    // A command sent while disconnected fails at once instead of waiting in a queue, to be run
    // (maybe long after its caller was told it failed) once the server is back.
    enableOfflineQueue: false,
    // A command in flight when the connection drops fails at once, and is not sent again after
    // the reconnect: its caller was told it failed.
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
  };
}

export type ErrorSink = (error: Error) => void;

/** What a connection is for: commands, or receiving signals (pub/sub). */
export type Role = 'commands' | 'signals';

export interface Endpoint {
  /** The user's client, when one was passed in (the store leaves it open). */
  readonly shared: Redis | undefined;
  /**
   * Opens a client of the store's own (closed by the store), not connected yet, with the
   * bounded settings, named after the prefix and role (CLIENT LIST shows whose it is).
   */
  open(role: Role, onError: ErrorSink): Promise<Redis>;
}

function settingsFor(role: Role, prefix: string, boundMs: number): RedisOptions {
  return {
    ...boundedSettings(boundMs),
    connectionName: `async-invoker:${prefix}:${role}`,
    // The signal subscriber subscribes again by itself (signals.ts), and knows when it did.
    ...(role === 'signals' ? { autoResubscribe: false } : {}),
  };
}

async function importIoredis(): Promise<typeof import('ioredis').Redis> {
  try {
    return (await import('ioredis')).Redis;
  } catch (error) {
    throw new StoreError('redisStore needs the ioredis package: npm install ioredis', { cause: error });
  }
}

export function endpoint(where: { url: string } | { client: Redis }, prefix: string, boundMs: number): Endpoint {
  if ('client' in where) {
    const shared = where.client;
    return {
      shared,
      open: async (role, onError) => {
        const client = shared.duplicate(settingsFor(role, prefix, boundMs));
        client.on('error', onError);
        return client;
      },
    };
  }
  const { url } = where;
  return {
    shared: undefined,
    open: async (role, onError) => {
      const RedisClient = await importIoredis();
      const client = new RedisClient(url, settingsFor(role, prefix, boundMs));
      client.on('error', onError);
      return client;
    },
  };
}
