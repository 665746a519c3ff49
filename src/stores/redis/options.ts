/** redisStore options: types, defaults and their zod schema (checked once, at the factory). */
import { z } from 'zod';
import type { Redis } from 'ioredis';
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
   * A ready ioredis client (standalone). The store uses it for commands, opens a duplicate for
   * pub/sub (with the store's settings), and leaves it open on `close()`. Its own settings stay
   * as they are; see `operationTimeoutMs` for what that means while Redis is down.
   */
  readonly client?: Redis;
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
          { error: 'an ioredis client (new Redis(...))' },
        )
        .optional(),
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
    { error: 'an object { url?, prefix?, client?, retention?, operationTimeoutMs? }' },
  )
  .refine((o) => o.url === undefined || o.client === undefined, {
    error: 'either url or client, not both',
    path: ['client'],
  });

export type ParsedRedisStoreOptions = z.output<typeof redisStoreOptionsSchema>;
