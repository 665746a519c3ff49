/**
 * Where the store's connections come from: opened from the url (ioredis is an optional peer
 * dependency, imported on first use), or the user's client and duplicates of it. Every client
 * the store creates gets an `error` listener before anything can go wrong on it, so ioredis
 * never prints "Unhandled error event".
 */
import type { Cluster, Redis, RedisOptions } from 'ioredis';
import { StoreError } from '../../errors.js';
import { ConnectionLost, TimedOut } from './faults.js';

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

/** A command connection: one server, or a Redis Cluster (ioredis routes each key to its node). */
export type RedisClient = Redis | Cluster;

/** What a connection is for: commands, or receiving signals (pub/sub). */
export type Role = 'commands' | 'signals';

/** Where the store connects: a server's url, the nodes of a cluster, or the user's client. */
export type Where = { readonly url: string } | { readonly cluster: readonly string[] } | { readonly client: RedisClient };

export interface Endpoint {
  /** The user's client, when one was passed in (the store leaves it open). */
  readonly shared: RedisClient | undefined;
  /** True when commands go to a Redis Cluster: round trips are split by slot (link.ts). */
  readonly cluster: boolean;
  /**
   * Opens the store's own command client (closed by the store), not connected yet, with the
   * bounded settings, named after the prefix and role (CLIENT LIST shows whose it is).
   */
  commands(onError: ErrorSink): Promise<RedisClient>;
  /**
   * Opens a connection for pub/sub. On a cluster it is a plain connection to one live node (a
   * PUBLISH reaches every node): it ends when that node stays down, and the next one opened
   * goes to another node.
   */
  signals(onError: ErrorSink): Promise<Redis>;
}

function settingsFor(role: Role, prefix: string, boundMs: number): RedisOptions {
  return {
    ...boundedSettings(boundMs),
    connectionName: `async-invoker:${prefix}:${role}`,
    // The signal subscriber subscribes again by itself (signals.ts), and knows when it did.
    ...(role === 'signals' ? { autoResubscribe: false } : {}),
  };
}

/** A cluster node's signal connection gives up after a few failed reconnects, so another node is tried. */
const NODE_RECONNECTS = 3;

type Ioredis = { readonly Redis: typeof import('ioredis').Redis; readonly Cluster: typeof import('ioredis').Cluster };

async function importIoredis(): Promise<Ioredis> {
  try {
    const { Redis, Cluster } = await import('ioredis');
    return { Redis, Cluster };
  } catch (error) {
    throw new StoreError('redisStore needs the ioredis package: npm install ioredis', { cause: error });
  }
}

function isCluster(client: RedisClient): client is Cluster {
  return (client as { isCluster?: unknown }).isCluster === true;
}

/** A node's address and credentials, as ioredis takes them. */
type NodeAddress = Pick<RedisOptions, 'host' | 'port' | 'username' | 'password' | 'tls'>;

function nodeOf(url: string): NodeAddress {
  const u = new URL(url);
  return {
    host: u.hostname.replace(/^\[|\]$/g, ''),
    port: u.port ? Number(u.port) : 6379,
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
  };
}

/**
 * A signal connection to a cluster node that answers (a master or a replica: PUBLISH reaches
 * them all), taking turns so that a node that stays down is left for the next. Connects the
 * cluster first when it is not yet (the slot map names the nodes).
 */
async function nodeSubscriber(cluster: Cluster, settings: RedisOptions, turn: number, boundMs: number): Promise<Redis> {
  if (cluster.status === 'wait') cluster.connect().catch(() => undefined); // a failure comes as an event
  if (cluster.status !== 'ready') await untilReady(cluster, boundMs);
  const nodes = cluster.nodes('all');
  if (nodes.length === 0) throw new ConnectionLost();
  const ready = nodes.filter((node) => node.status === 'ready');
  const pool = ready.length ? ready : nodes;
  return pool[turn % pool.length]!.duplicate({
    ...settings,
    retryStrategy: (times) => (times > NODE_RECONNECTS ? null : Math.min(times * 100, 500)),
  });
}

export function endpoint(where: Where, prefix: string, boundMs: number): Endpoint {
  if ('client' in where) {
    const shared = where.client;
    if (isCluster(shared)) {
      let turn = 0;
      return {
        shared,
        cluster: true,
        commands: async (onError) => withListener(shared.duplicate([], { redisOptions: settingsFor('commands', prefix, boundMs) }), onError),
        signals: async (onError) => withListener(await nodeSubscriber(shared, settingsFor('signals', prefix, boundMs), turn++, boundMs), onError),
      };
    }
    return {
      shared,
      cluster: false,
      commands: async (onError) => withListener(shared.duplicate(settingsFor('commands', prefix, boundMs)), onError),
      signals: async (onError) => withListener(shared.duplicate(settingsFor('signals', prefix, boundMs)), onError),
    };
  }
  if ('cluster' in where) {
    const seeds = where.cluster.map(nodeOf);
    let made: Cluster | undefined;
    let turn = 0;
    const commands = async (): Promise<Cluster> => {
      if (made) return made;
      const { Cluster: ClusterClient } = await importIoredis();
      const { lazyConnect: _lazy, enableOfflineQueue: _offline, ...perNode } = settingsFor('commands', prefix, boundMs);
      const { username, password, tls } = seeds[0]!;
      return (made ??= new ClusterClient(seeds.map(({ host, port }) => ({ host, port })), {
        lazyConnect: true,
        enableOfflineQueue: false,
        // How long to wait for the slot map, and between tries while a failover is under way.
        slotsRefreshTimeout: boundMs,
        retryDelayOnFailover: 200,
        retryDelayOnClusterDown: 200,
        redisOptions: { ...perNode, username, password, tls },
      }));
    };
    return {
      shared: undefined,
      cluster: true,
      commands: async (onError) => withListener(await commands(), onError),
      signals: async (onError) => withListener(await nodeSubscriber(await commands(), settingsFor('signals', prefix, boundMs), turn++, boundMs), onError),
    };
  }
  const { url } = where;
  const open = async (role: Role, onError: ErrorSink): Promise<Redis> => {
    const { Redis: RedisClient } = await importIoredis();
    return withListener(new RedisClient(url, settingsFor(role, prefix, boundMs)), onError);
  };
  return {
    shared: undefined,
    cluster: false,
    commands: (onError) => open('commands', onError),
    signals: (onError) => open('signals', onError),
  };
}

/** `client`, listened to for errors before anything can go wrong on it. */
function withListener<T extends RedisClient>(client: T, onError: ErrorSink): T {
  client.on('error', onError);
  return client;
}

/** Resolves once `client` is ready; rejects on its first error, or after `ms`. */
export function untilReady(client: RedisClient, ms: number): Promise<void> {
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
