/**
 * `redisStore`: invocations in Redis, shared by every process pointed at the same server and
 * prefix. ioredis is an optional peer dependency, imported on first use unless a client is
 * passed in.
 *
 * @example
 * import { redisStore } from 'async-invoker/redis';
 * const store = redisStore({ url: 'redis://127.0.0.1:6379', prefix: 'orders' });
 *
 * @module async-invoker/redis
 */
import { parseOptions } from '../../config.js';
import type { Store } from '../contract.js';
import { redisStoreOptionsSchema, type RedisStoreOptions } from './options.js';
import { RedisStore } from './store.js';

export type { RedisStoreOptions } from './options.js';

/** A store on Redis. Connects on first use; see RedisStoreOptions for what happens while Redis is down. */
export function redisStore(options: RedisStoreOptions = {}): Store {
  return new RedisStore(parseOptions(redisStoreOptionsSchema, options, 'options'));
}
