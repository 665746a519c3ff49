import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { afterAll, describe } from 'vitest';
import { redisStore } from '../../src/stores/redis/index.js';
import type { RedisStoreOptions } from '../../src/stores/redis/options.js';
import { dropPrefix, REDIS_URL, redisAvailable } from '../stores/redis-server.js';
import { flowCases } from './flow-cases.js';

const built = new URL('../../dist/stores/redis/index.js', import.meta.url);
if (redisAvailable && !existsSync(built)) throw new Error(`redis flow tests need the build: run npm run build (missing ${built.pathname})`);
if (!redisAvailable) console.warn('redis flow tests skipped: no Redis answers at 127.0.0.1:6379 (set CI to fail instead)');

/** A key prefix per case: the workers and this process share it, no other test sees it. */
const runId = randomBytes(4).toString('hex');
let n = 0;

afterAll(async () => {
  if (redisAvailable) await dropPrefix(`flow${runId}-*`);
});

describe.runIf(redisAvailable)('redis', () => {
  flowCases({
    kind: 'redis',
    freshOptions: () => ({ url: REDIS_URL, prefix: `flow${runId}-${++n}` }),
    open: (options) => redisStore(options as RedisStoreOptions),
  });
});
