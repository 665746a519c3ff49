/** redisStore options: types, defaults and their zod schema (checked once, at the factory). */
import { z } from 'zod';
import type { Cluster, Redis } from 'ioredis';
import type { RetentionOptions } from '../contract.js';

export interface RedisStoreOptions {
  /**
   * Server to connect to, when no `client` is given. Credentials in it never appear in error
   * messages.
   * @default 'redis://127.0.0.1:6379'
   */
  readonly url?: string;
  /**
   * Namespace of every key and of the pub/sub channel: processes that share work use the same
   * prefix. Letters, digits, `_ . : -` (no braces: keys use `{prefix:function}` hash tags).
   * @default 'async-invoker'
   */
  readonly prefix?: string;
  /**
   * A ready ioredis client: a standalone `Redis` or a `Cluster`. The store uses it for commands,
   * opens a connection of its own for pub/sub (a duplicate with the store's settings; on a
   * cluster, to one of its nodes), and leaves it open on `close()`. Its own settings stay as
   * they are; see `operationTimeoutMs` for what that means while Redis is down.
   */
  readonly client?: Redis | Cluster;
  /**
   * A Redis Cluster to connect to, when no `url` or `client` is given: some of its nodes'
   * URLs (the store discovers the others). Each function's keys live in one slot (the hash tag
   * `{prefix:function}`), so functions spread over the masters.
   */
  readonly cluster?: readonly string[];
  /**
   * Replicas that must have each write before it counts: `invokeAsync` resolves, and a settle
   * or stop succeeds, only once this many replicas of the master that took it acknowledged it
   * (Redis WAIT). Without it, a write the master acknowledged can vanish in a failover before
   * it reached a replica. 0 = do not wait.
   * @default 0
   */
  readonly replicas?: number;
  /**
   * How long a write waits for its `replicas` acknowledgements; when fewer arrive in time the
   * call fails with `StoreError` (the write may still reach them later: retry an enqueue with
   * the same invocationId to be sure it exists once).
   * @default 1000
   */
  readonly replicaTimeoutMs?: number;
  /** How long and how many finished invocations are kept. */
  readonly retention?: RetentionOptions;
  /**
   * How long any call may wait on Redis: for a connection being opened, and for each round
   * trip. While Redis is down a call fails with `StoreError` at once (the connection is known to
   * be down) or within this bound, and the store reconnects on its own once Redis is back.
   *
   * The connections the store opens also get ioredis settings that make a failed call final:
   * `connectTimeout` = this bound, `enableOfflineQueue: false` (nothing is queued while
   * disconnected), `maxRetriesPerRequest: 0` and `autoResendUnfulfilledCommands: false` (a
   * command in flight when the connection drops fails at once and is not sent again after the
   * reconnect). A `client` passed in keeps its own settings: the bound still holds for every
   * call, but with ioredis's defaults a command that failed here may still be sent, and run,
   * once the client reconnects; give it the settings above to rule that out.
   * @default 10000
   */
  readonly operationTimeoutMs?: number;
}

const positiveInt = (max: number) => {
  const allowed = `an integer from 1 to ${max}`;
  return z.number({ error: allowed }).int({ error: allowed }).min(1, { error: allowed }).max(max, { error: allowed });
};

const PREFIX_ALLOWED = 'a string of 1 to 100 letters, digits, _ . : or - (no braces)';

export const redisStoreOptionsSchema = z
  .strictObject(
    {
      url: z
        .string({ error: 'a redis:// or rediss:// URL' })
        .regex(/^rediss?:\/\//, { error: 'a redis:// or rediss:// URL' })
        .refine((url) => URL.canParse(url), { error: 'a redis:// or rediss:// URL' })
        .optional(),
      prefix: z
        .string({ error: PREFIX_ALLOWED })
        .regex(/^[A-Za-z0-9_.:-]{1,100}$/, { error: PREFIX_ALLOWED })
        .default('async-invoker'),
      client: z
        .custom<Redis>(
          (v) =>
            typeof v === 'object' &&
            v !== null &&
            typeof (v as { duplicate?: unknown }).duplicate === 'function' &&
            typeof (v as { pipeline?: unknown }).pipeline === 'function',
          { error: 'an ioredis client (new Redis(...) or new Cluster(...))' },
        )
        .optional(),
      cluster: z
        .array(
          z.string({ error: 'redis:// or rediss:// URLs' })
            .regex(/^rediss?:\/\//, { error: 'redis:// or rediss:// URLs' })
            .refine((url) => URL.canParse(url), { error: 'redis:// or rediss:// URLs' }),
          { error: 'an array of 1 to 100 redis:// URLs of cluster nodes' },
        )
        .min(1, { error: 'an array of 1 to 100 redis:// URLs of cluster nodes' })
        .max(100, { error: 'an array of 1 to 100 redis:// URLs of cluster nodes' })
        .readonly()
        .optional(),
      replicas: z
        .number({ error: 'an integer from 0 to 16' })
        .int({ error: 'an integer from 0 to 16' })
        .min(0, { error: 'an integer from 0 to 16' })
        .max(16, { error: 'an integer from 0 to 16' })
        .default(0),
      replicaTimeoutMs: positiveInt(600_000).default(1000),
      retention: z
        .strictObject(
          {
            maxAgeSeconds: positiveInt(315_360_000).optional(),
            maxCount: positiveInt(1_000_000_000).optional(),
          },
          { error: 'an object { maxAgeSeconds?, maxCount? }' },
        )
        .optional(),
      operationTimeoutMs: positiveInt(3_600_000).default(10_000),
    },
    { error: 'an object { url?, cluster?, client?, prefix?, retention?, operationTimeoutMs?, replicas?, replicaTimeoutMs? }' },
  )
  .refine((o) => [o.url, o.client, o.cluster].filter((v) => v !== undefined).length <= 1, {
    error: 'one of url, cluster or client, not several',
    path: ['client'],
  });

export type ParsedRedisStoreOptions = z.output<typeof redisStoreOptionsSchema>;
