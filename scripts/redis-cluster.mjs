#!/usr/bin/env node
// A Redis Cluster of this machine's own redis-server processes: 3 masters with one replica each,
// on loopback ports of its own, data in a temporary directory. The tests that need a cluster
// start one with `startCluster()` and stop it when they end; developers run
//
//   node scripts/redis-cluster.mjs [--port 7101]     (ports 7101-7106; Ctrl-C stops and removes it)
//
// and point the store at it: redisStore({ cluster: ['redis://127.0.0.1:7101'] }).
import { spawn, execFile } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';

const run = promisify(execFile);

/** How long a master may not answer before its replica takes over (ms): short, for the failover test. */
export const NODE_TIMEOUT_MS = 2000;

/** A loopback port nothing listens on right now. */
async function freePort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function cli(port, ...args) {
  const { stdout } = await run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args]);
  return stdout;
}

function startNode(port, dir) {
  const child = spawn('redis-server', [
    '--port', String(port), '--bind', '127.0.0.1', '--daemonize', 'no',
    '--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`,
    '--cluster-node-timeout', String(NODE_TIMEOUT_MS),
    '--appendonly', 'no', '--save', '', '--dir', dir,
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  const ready = new Promise((resolve, reject) => {
    const onData = (chunk) => {
      log += chunk.toString();
      if (log.includes('Ready to accept connections')) resolve();
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => reject(new Error(`redis-server on port ${port} exited (${code}) before it was ready:\n${log}`)));
  });
  return { port, child, ready };
}

async function until(what, check, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`redis cluster: ${what} did not happen within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * True once every node on `ports` says the cluster is ok and knows `masters` masters with slots,
 * none of them on a port in `gone` (their slots were taken over by a replica).
 */
async function healthy(ports, masters, gone = []) {
  for (const port of ports) {
    const info = await cli(port, 'cluster', 'info');
    if (!info.includes('cluster_state:ok')) return false;
    const nodes = await cli(port, 'cluster', 'nodes');
    const serving = nodes.split('\n').filter((line) => line.includes('master') && /\d+-\d+/.test(line));
    if (serving.length !== masters) return false;
    if (serving.some((line) => line.includes('fail') || gone.some((p) => line.includes(`127.0.0.1:${p}@`)))) return false;
  }
  return true;
}

/**
 * What `redis-cli --cluster create` does, for fewer than the 3 masters it insists on (the
 * bench's one-master cluster): the first `masters` ports share the slots, every node meets the
 * first, and the others replicate the masters in turn.
 */
async function createSmall(ports, masters) {
  const per = Math.ceil(16384 / masters);
  for (let m = 0; m < masters; m++) {
    await cli(ports[m], 'cluster', 'addslotsrange', String(m * per), String(Math.min(16383, (m + 1) * per - 1)));
  }
  for (const port of ports.slice(1)) await cli(port, 'cluster', 'meet', '127.0.0.1', String(ports[0]));
  const ids = await Promise.all(ports.slice(0, masters).map(async (port) => (await cli(port, 'cluster', 'myid')).trim()));
  for (let r = masters; r < ports.length; r++) {
    const id = ids[(r - masters) % masters];
    // A node can replicate a master only once it has learnt of it through the cluster bus.
    await until(`node ${ports[r]} to learn of its master`, async () => (await cli(ports[r], 'cluster', 'nodes')).includes(id));
    await cli(ports[r], 'cluster', 'replicate', id);
  }
}

/** True once every replica among `ports` has its link to its master up. */
async function replicasSynced(ports) {
  for (const port of ports) {
    const info = await cli(port, 'info', 'replication');
    if (info.includes('role:slave') && !info.includes('master_link_status:up')) return false;
  }
  return true;
}

/**
 * Starts the nodes (on `ports`, or on free ports), creates the cluster and resolves once every
 * node says it is ok. `stop()` kills them all and removes their data.
 */
export async function startCluster({ ports, masters = 3, replicas = 1 } = {}) {
  const count = masters * (1 + replicas);
  const chosen = ports ?? (await Promise.all(Array.from({ length: count }, freePort)));
  const dir = mkdtempSync(join(tmpdir(), 'async-invoker-cluster-'));
  const nodes = chosen.map((port) => startNode(port, dir));
  const stop = async () => {
    await Promise.all(nodes.map(async ({ child }) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGCONT');
      child.kill('SIGKILL');
      await exited;
    }));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await Promise.all(nodes.map((n) => n.ready));
    if (masters >= 3) {
      await run('redis-cli', ['--cluster', 'create', ...chosen.map((p) => `127.0.0.1:${p}`),
        '--cluster-replicas', String(replicas), '--cluster-yes']);
    } else {
      await createSmall(chosen, masters);
    }
    await until('the cluster to be ok on every node', () => healthy(chosen, masters));
    // Each replica has finished its first sync (a failover test needs a caught-up replica).
    await until('every replica to sync', () => replicasSynced(chosen));
  } catch (error) {
    await stop();
    throw error;
  }
  const live = (port) => {
    const node = nodes.find((n) => n.port === port);
    return node !== undefined && node.child.exitCode === null && node.child.signalCode === null;
  };
  return {
    ports: chosen,
    urls: chosen.map((port) => `redis://127.0.0.1:${port}`),
    /** The ports of the nodes that are masters now (asked of a live node). */
    async masters() {
      const asker = chosen.find(live);
      const nodesText = await cli(asker, 'cluster', 'nodes');
      return nodesText.split('\n')
        .filter((line) => line.includes('master') && !line.includes('fail') && /\d+-\d+/.test(line))
        .map((line) => Number(/127\.0\.0\.1:(\d+)@/.exec(line)[1]));
    },
    /** SIGKILLs the node on `port`; resolves once it is gone. */
    async kill(port) {
      const node = nodes.find((n) => n.port === port);
      if (!node || !live(port)) return;
      const exited = once(node.child, 'exit');
      node.child.kill('SIGKILL');
      await exited;
    },
    /**
     * Starts the node on `port` again (after kill): it rejoins the cluster from its nodes file,
     * as a replica of whichever node took over its slots, and syncs from it.
     */
    async restart(port) {
      const at = nodes.findIndex((n) => n.port === port);
      if (at < 0 || live(port)) return;
      nodes[at] = startNode(port, dir);
      await nodes[at].ready;
    },
    /** Resolves once every replica's link to its master is up (a failover needs a caught-up replica). */
    async synced(timeoutMs = 60_000) {
      await until('every replica to sync', () => replicasSynced(chosen.filter(live)), timeoutMs);
    },
    /**
     * Resolves once the live nodes agree the cluster is ok with `masters` masters serving, none
     * of them a node that was killed (a replica took over its slots).
     */
    async settled(timeoutMs = 60_000) {
      await until('the cluster to recover', () => healthy(chosen.filter(live), masters, chosen.filter((p) => !live(p))), timeoutMs);
    },
    stop,
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const at = process.argv.indexOf('--port');
  const base = at > 0 ? Number(process.argv[at + 1]) : 7101;
  const cluster = await startCluster({ ports: Array.from({ length: 6 }, (_, i) => base + i) });
  console.log(`Redis Cluster up: masters ${(await cluster.masters()).join(', ')}; seed redis://127.0.0.1:${base}. Ctrl-C stops it.`);
  const end = async () => {
    await cluster.stop();
    process.exit(0);
  };
  process.on('SIGINT', end);
  process.on('SIGTERM', end);
}
