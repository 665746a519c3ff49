/**
 * `redisStore`: invocations in Redis, shared by every process pointed at the same server and
 * prefix. ioredis is an optional peer dependency, imported on first use unless a client is
 * passed in.
 *
 * @example
 * import { redisStore } from 'async-invoker/redis';
 * const store = redisStore({ url: 'redis://127.0.0.1:6379', prefix: 'orders' });
 */
import { z } from 'zod';
import { nanoid } from 'nanoid';
import type { Redis } from 'ioredis';
import { parseOptions } from '../../config.js';
import { StoreError } from '../../errors.js';
import { RETENTION_DEFAULTS, type RetentionOptions, type Store } from '../contract.js';
import { Keys } from './keys.js';
import { loadScripts } from './scripts.js';
import { Signals } from './signals.js';
import { RedisStore } from './store.js';

export interface RedisStoreOptions {
  /**
   * Server to connect to, when no `client` is given.
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
   * pub/sub, and leaves it open on `close()`.
   */
  readonly client?: Redis;
  /** How long and how many finished invocations are kept. */
  readonly retention?: RetentionOptions;
}

const positiveInt = (max: number) => {
  const allowed = `an integer from 1 to ${max}`;
  return z.number({ error: allowed }).int({ error: allowed }).min(1, { error: allowed }).max(max, { error: allowed });
};

const PREFIX_PATTERN = /^[A-Za-z0-9_.:-]{1,100}$/;
const optionsSchema = z.strictObject(
  {
    url: z
      .string({ error: 'a redis:// or rediss:// URL' })
      .regex(/^rediss?:\/\//, { error: 'a redis:// or rediss:// URL' })
      .optional(),
    prefix: z
      .string({ error: 'a string of 1 to 100 letters, digits, _ . : or - (no braces)' })
      .regex(PREFIX_PATTERN, { error: 'a string of 1 to 100 letters, digits, _ . : or - (no braces)' })
      .default('async-invoker'),
    client: z
      .custom<Redis>(
        (v) => typeof v === 'object' && v !== null &&
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
  },
  { error: 'an object { url?, prefix?, client?, retention? }' },
).refine((o) => o.url === undefined || o.client === undefined, {
  error: 'either url or client, not both',
  path: ['client'],
});

async function importIoredis(): Promise<typeof import('ioredis').Redis> {
  try {
    return (await import('ioredis')).Redis;
  } catch (error) {
    throw new StoreError('redisStore needs the ioredis package: npm install ioredis', { cause: error });
  }
}

export function redisStore(options: RedisStoreOptions = {}): Store {
  const o = parseOptions(optionsSchema, options, 'options');
  const url = o.url ?? 'redis://127.0.0.1:6379';
  const owned: Redis[] = [];
  const open = async (): Promise<Redis> => {
    const RedisClient = await importIoredis();
    const client = new RedisClient(url, { lazyConnect: false });
    owned.push(client);
    return client;
  };
  let main: Promise<Redis> | undefined;
  const client = () =>
    (main ??= (async () => {
      const c = o.client ?? (await open());
      await loadScripts(c);
      return c;
    })());
  // The subscriber needs its own connection: a subscribed connection takes no other commands.
  const subscriber = async (): Promise<Redis> => {
    if (!o.client) return open();
    const dup = o.client.duplicate();
    owned.push(dup);
    return dup;
  };
  const keys = new Keys(o.prefix);
  return new RedisStore({
    keys,
    retention: {
      maxAgeMs: (o.retention?.maxAgeSeconds ?? RETENTION_DEFAULTS.maxAgeSeconds) * 1000,
      maxCount: o.retention?.maxCount ?? RETENTION_DEFAULTS.maxCount,
    },
    signals: new Signals(keys.channel, nanoid(), subscriber),
    client,
    release: async () => {
      // Wait for a connection still being opened, so it is closed rather than leaked.
      await main?.catch(() => undefined);
      await Promise.all(owned.splice(0).map((c) => c.quit().then(() => undefined, () => c.disconnect())));
    },
  });
}
