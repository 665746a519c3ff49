// A Redis that fsyncs every write (appendonly yes, appendfsync always), started by the bench on
// a port of its own from the machine's redis-server, so BullMQ and the Redis store can be
// compared with SQLite and PostgreSQL at the same durability. Its AOF lives in a temp dir that
// is removed when it stops.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { probeRedis } from './services.js';

export const AOF_REDIS_PORT = Number(process.env.BENCH_REDIS_AOF_PORT ?? 6391);

/** Starts it and resolves to { url, stop() } once it answers, or rejects with why it did not. */
export async function startAofRedis(port = AOF_REDIS_PORT) {
  const dir = mkdtempSync(join(tmpdir(), 'aibench-aof-'));
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'yes', '--appendfsync', 'always', '--dir', dir],
    { stdio: 'ignore' },
  );
  let exited = false;
  child.on('exit', () => (exited = true));
  const spawnError = new Promise((resolve) => child.on('error', resolve));
  const url = `redis://127.0.0.1:${port}`;
  const stop = async () => {
    if (!exited) {
      const gone = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await gone;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  for (let i = 0; i < 100; i++) {
    const failed = await Promise.race([spawnError, new Promise((resolve) => setTimeout(() => resolve(undefined), 50))]);
    if (failed) {
      await stop();
      throw new Error(`redis-server could not start: ${failed.message}`);
    }
    if (exited) break;
    if ((await probeRedis(url)) === undefined) return { url, stop };
  }
  await stop();
  throw new Error(`redis-server with appendfsync always did not answer on port ${port} (is the port taken?)`);
}
