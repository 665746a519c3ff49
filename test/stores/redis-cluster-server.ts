/**
 * The Redis Cluster a test file starts for itself (scripts/redis-cluster.mjs: 3 masters with a
 * replica each, on free loopback ports, from the machine's redis-server) and helpers to look
 * into it. Each file that needs one starts its own and stops it in afterAll.
 */
import { Cluster, Redis } from 'ioredis';
import { redisServerInstalled } from './redis-own-server.js';
import { startCluster, type OwnCluster } from '../../scripts/redis-cluster.mjs';

export { redisServerInstalled };
export type { OwnCluster };
export { startCluster };

/** An admin connection to the cluster (for assertions and clean-up, never the store's). */
export function adminCluster(cluster: OwnCluster): Cluster {
  return new Cluster(cluster.urls.map((url) => {
    const u = new URL(url);
    return { host: u.hostname, port: Number(u.port) };
  }));
}

/** Every key matching `pattern` on every master (SCAN per node: KEYS does not span a cluster). */
export async function clusterKeys(cluster: OwnCluster, pattern: string): Promise<string[]> {
  const found: string[] = [];
  for (const port of await cluster.masters()) {
    const node = new Redis({ host: '127.0.0.1', port });
    try {
      let cursor = '0';
      do {
        const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
        cursor = next;
        found.push(...keys);
      } while (cursor !== '0');
    } finally {
      node.disconnect();
    }
  }
  return found.sort();
}

/** Deletes every key of `prefix` on every master. */
export async function dropClusterPrefix(cluster: OwnCluster, admin: Cluster, prefix: string): Promise<void> {
  for (const pattern of [`{${prefix}:*`, `{${prefix}}:*`]) {
    // One DEL per key: keys of different functions live in different slots.
    for (const key of await clusterKeys(cluster, pattern)) await admin.del(key);
  }
}
