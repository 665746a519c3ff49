import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, it } from 'vitest';
import { redisStore } from '../../src/stores/redis/index.js';
import { dropPrefix, REDIS_URL, redisAvailable } from '../stores/redis-server.js';
import { CRASH_TEST_TIMEOUT_MS, expectNothingLost, runCrashTest } from './harness.js';

const URL = REDIS_URL;
const available = redisAvailable;
if (!available) console.warn('redis crash test skipped: no Redis answers at 127.0.0.1:6379');

const dir = mkdtempSync(join(tmpdir(), 'async-invoker-redis-crash-'));
const prefix = `crash${randomBytes(4).toString('hex')}`;

afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  if (available) await dropPrefix(prefix);
});

describe.runIf(available)('redis crash safety', () => {
  it('loses nothing when workers sharing a prefix are SIGKILLed again and again', async () => {
    const storeOptions = { url: URL, prefix };
    const store = redisStore(storeOptions);
    try {
      const report = await runCrashTest({ kind: 'redis', storeOptions, store, ledger: join(dir, 'ledger.txt') });
      expectNothingLost('redis', report);
    } finally {
      await store.close();
    }
  }, CRASH_TEST_TIMEOUT_MS);
});
