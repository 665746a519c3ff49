/** The Redis the store tests use: 127.0.0.1:6379, probed once; in CI its absence fails instead of skipping. */
import { Redis } from 'ioredis';

export const REDIS_URL = 'redis://127.0.0.1:6379';

async function redisAnswers(): Promise<boolean> {
  const probe = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  try {
    await probe.connect();
    return (await probe.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}

export const redisAvailable = process.env.CI ? true : await redisAnswers();

/** Deletes every key of `prefix`: its `{prefix:...}` hash-tagged keys and its `{prefix}:` globals. */
export async function dropPrefix(prefix: string, admin?: Redis): Promise<void> {
  const client = admin ?? new Redis(REDIS_URL);
  try {
    for (const pattern of [`{${prefix}:*`, `{${prefix}}:*`]) {
      let cursor = '0';
      do {
        const [next, keys] = await client.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
        cursor = next;
        if (keys.length) await client.del(...keys);
      } while (cursor !== '0');
    }
  } finally {
    if (!admin) client.disconnect();
  }
}
