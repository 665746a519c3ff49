/**
 * The one place where what goes wrong on the way to Redis becomes a `StoreError`: the driver's
 * error as `cause`, and a message naming the store, the server (never its credentials) and what
 * to check.
 */
import type { Cluster, Redis } from 'ioredis';
import type { Where } from './connect.js';
import { ReplicasBehind } from './scripts.js';
import { StoreError } from '../../errors.js';
import { messageOf } from '../signal-hub.js';

/** The connection is down (or was lost without an error): the driver has nothing better to say. */
export class ConnectionLost extends Error {
  constructor() {
    super('the connection was lost');
    this.name = 'ConnectionLost';
  }
}

/** No connection, or no reply, within `operationTimeoutMs`. */
export class TimedOut extends Error {
  constructor(
    readonly waitingFor: 'connection' | 'reply',
    readonly ms: number,
  ) {
    super(`no ${waitingFor} within ${ms} ms`);
    this.name = 'TimedOut';
  }
}

/** System calls whose failure means Redis is not there (or not at that address). */
const NETWORK_SYSCALLS = new Set(['connect', 'read', 'write', 'getaddrinfo']);

/** Why a call could not reach Redis, in words, or undefined when `error` is not about that. */
function connectionDetail(error: Error): string | undefined {
  if (error instanceof TimedOut || error instanceof ConnectionLost) return error.message;
  const syscall = (error as { syscall?: unknown }).syscall;
  if (typeof syscall === 'string' && NETWORK_SYSCALLS.has(syscall)) return error.message;
  // What ioredis says when a command cannot be sent, or lost its connection mid-call.
  if (error.message === 'Connection is closed.') return 'the connection is closed';
  if (error.message.startsWith("Stream isn't writeable")) return 'not connected';
  if (error.name === 'MaxRetriesPerRequestError' || error.name === 'AbortError') return 'the connection was lost during the call';
  // What an ioredis Cluster says when no node (or no slot map) is reachable.
  if (error.message.startsWith("Cluster isn't ready")) return 'the cluster is not connected';
  if (error.message.startsWith('Failed to refresh slots cache') || error.message.startsWith('None of startup nodes')) {
    return 'no node answered with the slot map';
  }
  if (error.message.startsWith('Too many Cluster redirections')) return 'the cluster kept redirecting the call (a failover under way)';
  return undefined;
}

/** What to check for each error reply a Redis server gives for its own state, by its first word. */
const REPLY_HINTS: Record<string, string> = {
  NOAUTH: 'Redis wants a password: put it in the url (redis://:password@host:port)',
  WRONGPASS: 'Redis refused the user or password: check them',
  NOPERM: "the Redis user lacks a permission the store needs: allow it the store's commands on the keys of its prefix",
  READONLY: 'this is a read-only replica: point the store at the primary',
  OOM: 'Redis reached maxmemory: raise it, or keep fewer finished invocations (retention)',
  LOADING: 'Redis is loading its data after a restart: calls succeed once it is done',
  BUSY: 'Redis is busy running a script: check for long-running scripts (SCRIPT KILL)',
  MISCONF: 'Redis cannot write its snapshot or append-only file: check its disk and its log',
  WRONGTYPE: 'a key under the prefix holds another type: give the store a prefix of its own',
  MOVED: 'this is a Redis Cluster: connect with redisStore({ cluster: [urls] }) or pass an ioredis Cluster as client',
  CROSSSLOT: 'a command spanned slots of a Redis Cluster: connect with redisStore({ cluster: [urls] }) or pass an ioredis Cluster as client',
  CLUSTERDOWN: 'the Redis Cluster cannot serve the slot (a failover under way, or a master down with no replica): calls succeed once it is ok again',
  TRYAGAIN: 'the Redis Cluster is moving the slot: try again',
};

export class Faults {
  /** The server, for messages: `redis://host:port/db` without credentials. */
  readonly target: string;
  readonly #check: string;

  constructor(where: Where) {
    if ('url' in where) {
      this.target = redactUrl(where.url);
      this.#check = 'check that Redis is running and the url is right';
    } else if ('cluster' in where) {
      this.target = `the Redis Cluster at ${where.cluster.map(redactUrl).join(', ')}`;
      this.#check = 'check that the cluster is running and its urls are right';
    } else {
      this.target = describeClient(where.client);
      this.#check = 'check that Redis is running and that the client passed in points at it';
    }
  }

  /** The StoreError for `error`, met during `operation`. */
  toStoreError(error: unknown, operation: string): StoreError {
    if (error instanceof StoreError) return error;
    if (!(error instanceof Error)) return new StoreError(`redis store: ${operation} failed: ${String(error)}`, { cause: error });
    if (error instanceof TimedOut && error.waitingFor === 'reply') {
      return new StoreError(
        `redis store: no reply from ${this.target} within ${error.ms} ms (operationTimeoutMs): check that Redis is running and not overloaded`,
        { cause: error },
      );
    }
    if (error instanceof ReplicasBehind) {
      return new StoreError(
        `redis store: ${this.target}: ${error.message} (replicas option): it may be lost if the master fails now; check the replicas' links (INFO replication) or raise replicaTimeoutMs`,
        { cause: error },
      );
    }
    const detail = connectionDetail(error);
    if (detail !== undefined) {
      return new StoreError(`redis store: cannot reach ${this.target} (${detail}): ${this.#check}`, { cause: error });
    }
    if (error.name === 'ReplyError') {
      const word = error.message.split(' ', 1)[0]!;
      const hint = REPLY_HINTS[word] ?? 'check the Redis server log';
      return new StoreError(`redis store: ${this.target} answered ${error.message}: ${hint}`, { cause: error });
    }
    return new StoreError(`redis store: ${operation} failed: ${messageOf(error)}`, { cause: error });
  }
}

/** The url without user and password. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname === '/' ? '' : u.pathname}`;
  } catch {
    return 'the configured url';
  }
}

function describeClient(client: Redis | Cluster): string {
  if ((client as { isCluster?: unknown }).isCluster === true) return 'the Redis Cluster client passed in';
  const o = (client as Redis).options;
  if (o.path) return `unix:${o.path}`;
  return `${o.tls ? 'rediss' : 'redis'}://${o.host ?? 'localhost'}:${o.port ?? 6379}${o.db ? `/${o.db}` : ''}`;
}
