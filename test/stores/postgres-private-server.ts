/**
 * A private PostgreSQL server for tests that stop the server under load: made from the
 * machine's own binaries (initdb, pg_ctl) in a temporary directory, on a free loopback port,
 * trust auth, its unix socket in that directory. The machine's shared server is never touched.
 * As root, the binaries run as the `postgres` OS user (PostgreSQL refuses to run as root).
 */
import { execFile, execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const USER = 'async_invoker';

/** Where initdb and pg_ctl are: PG_BIN, else the newest /usr/lib/postgresql/N/bin, else PATH. */
export function postgresBinDir(): string | undefined {
  if (process.env.PG_BIN) return process.env.PG_BIN;
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    const versions = readdirSync(root)
      .filter((v) => existsSync(join(root, v, 'bin', 'pg_ctl')))
      .sort((a, b) => Number(b) - Number(a));
    if (versions[0] !== undefined) return join(root, versions[0], 'bin');
  }
  try {
    const found = execFileSync('sh', ['-c', 'command -v pg_ctl'], { encoding: 'utf8' }).trim();
    return found ? found.slice(0, found.lastIndexOf('/')) : undefined;
  } catch {
    return undefined;
  }
}

/** A loopback port nothing listens on right now. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export class PrivateServer {
  readonly #bin: string;
  readonly #dir: string;
  readonly #data: string;
  readonly #asPostgres: boolean;
  #port = 0;
  #exitHook: (() => void) | undefined;

  private constructor(bin: string) {
    this.#bin = bin;
    this.#asPostgres = process.getuid?.() === 0;
    this.#dir = mkdtempSync(join(tmpdir(), 'async-invoker-pg-'));
    this.#data = join(this.#dir, 'data');
    if (this.#asPostgres) {
      const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }));
      const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }));
      chownSync(this.#dir, uid, gid);
    }
  }

  /** Creates the cluster and starts it; the directory is removed again if that fails. */
  static async create(bin: string): Promise<PrivateServer> {
    const server = new PrivateServer(bin);
    try {
      await server.#pg('initdb', ['-D', server.#data, '-A', 'trust', '-U', USER, '-E', 'UTF8', '--no-sync']);
      // A port found free may be taken before the server binds it: try a few.
      for (let tries = 1; ; tries++) {
        server.#port = await freePort();
        try {
          await server.start();
          break;
        } catch (error) {
          if (tries === 3) throw error;
        }
      }
      // Should the test process end without its afterAll, the server must not outlive it.
      server.#exitHook = () => server.#stopSync();
      process.once('exit', server.#exitHook);
      return server;
    } catch (error) {
      server.#stopSync();
      rmSync(server.#dir, { recursive: true, force: true });
      throw error;
    }
  }

  get url(): string {
    return `postgres://${USER}@127.0.0.1:${this.#port}/postgres`;
  }

  /** Starts the server on the same data directory and port; resolves once it accepts connections. */
  async start(): Promise<void> {
    // fsync=off: the test kills the server, not the machine, so what the OS was given survives.
    const options = `-c listen_addresses=127.0.0.1 -p ${this.#port} -k ${this.#dir} -c fsync=off`;
    try {
      await this.#pg('pg_ctl', ['start', '-w', '-t', '60', '-D', this.#data, '-l', join(this.#dir, 'server.log'), '-o', options]);
    } catch (error) {
      throw new Error(`private PostgreSQL did not start: ${String(error)}\n${this.log()}`);
    }
  }

  /** `pg_ctl stop -m immediate`: every backend killed at once, no checkpoint (a crash to recover from). */
  async kill(): Promise<void> {
    await this.#pg('pg_ctl', ['stop', '-w', '-m', 'immediate', '-D', this.#data]);
  }

  /** Stops the server (if running) and deletes its directory. */
  async destroy(): Promise<void> {
    if (this.#exitHook) process.off('exit', this.#exitHook);
    await this.kill().catch(() => {});
    rmSync(this.#dir, { recursive: true, force: true });
  }

  /** The server's log, for failure messages. */
  log(): string {
    try {
      return readFileSync(join(this.#dir, 'server.log'), 'utf8');
    } catch {
      return '(no server log)';
    }
  }

  #stopSync(): void {
    try {
      const [file, args] = this.#command('pg_ctl', ['stop', '-m', 'immediate', '-D', this.#data]);
      execFileSync(file, args, { stdio: 'ignore', cwd: this.#dir });
    } catch {
      // Not running.
    }
  }

  async #pg(tool: string, args: string[]): Promise<void> {
    const [file, argv] = this.#command(tool, args);
    // Output captured, never inherited: the tests check that nothing reaches stderr.
    await run(file, argv, { cwd: this.#dir });
  }

  #command(tool: string, args: string[]): [string, string[]] {
    const path = join(this.#bin, tool);
    return this.#asPostgres ? ['runuser', ['-u', 'postgres', '--', path, ...args]] : [path, args];
  }
}
