/**
 * A redis-server of a test's own (the machine's binary), on a free loopback port, persisting
 * every write to an append-only file in a temporary directory, so a test can kill it (SIGKILL),
 * pause it (SIGSTOP) and start it again on the same data. Never daemonized: the child is this
 * process's, and `stop()` ends it and removes its directory.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A loopback port nothing listens on right now (bound once to learn it, then closed). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** True when `redis-server` is on PATH. */
export const redisServerInstalled = spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;

export class OwnRedis {
  readonly dir = mkdtempSync(join(tmpdir(), 'async-invoker-own-redis-'));
  #child: ChildProcess | undefined;
  /** Everything the server printed, for a failing test's message. */
  log = '';

  private constructor(readonly port: number) {}

  static async start(): Promise<OwnRedis> {
    const server = new OwnRedis(await freePort());
    await server.start();
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.#child !== undefined && this.#child.exitCode === null && this.#child.signalCode === null;
  }

  /** Starts the server (again, on the same port and data) and resolves once it accepts connections. */
  async start(): Promise<void> {
    const child = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--appendonly', 'yes', '--appendfsync', 'always',
        '--save', '', '--dir', this.dir, '--daemonize', 'no'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.#child = child;
    await new Promise<void>((resolve, reject) => {
      const onData = (chunk: Buffer): void => {
        this.log += chunk.toString();
        if (this.log.includes('Ready to accept connections')) {
          child.stdout!.off('data', onData);
          child.stdout!.on('data', (more: Buffer) => (this.log += more.toString()));
          child.off('exit', onExit);
          resolve();
        }
      };
      const onExit = (code: number | null): void => reject(new Error(`redis-server exited (${code}) before it was ready:\n${this.log}`));
      child.stdout!.on('data', onData);
      child.stderr!.on('data', (chunk: Buffer) => (this.log += chunk.toString()));
      child.once('exit', onExit);
    });
  }

  /** Sends `signal` and, unless it only pauses or resumes, waits for the server to exit. */
  async signal(signal: 'SIGKILL' | 'SIGTERM' | 'SIGSTOP' | 'SIGCONT'): Promise<void> {
    const child = this.#child;
    if (!child || !this.running) return;
    if (signal === 'SIGSTOP' || signal === 'SIGCONT') {
      child.kill(signal);
      return;
    }
    const exited = once(child, 'exit');
    child.kill(signal);
    await exited;
  }

  /** Ends the server (resuming it first if paused) and removes its data. */
  async stop(): Promise<void> {
    if (this.running) {
      this.#child!.kill('SIGCONT');
      await this.signal('SIGKILL');
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
