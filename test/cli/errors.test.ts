/**
 * Exit codes and messages for what goes wrong before a store answers: usage, bad URLs,
 * unreachable servers (a loopback port where nothing listens), a missing SQLite file; and help.
 * Cases that never reach a store run `main` in process; the built CLI confirms a few of each.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { freePort } from '../stores/redis-own-server.js';
import { runInProcess } from './in-process.js';
import { assertBuilt, expectOneLineError, runCli } from './run-cli.js';
import { PG_URL } from './stores.js';

/** Child processes on a shared 2-core machine: a case that runs the CLI several times gets room (a bound, not a measurement). */
vi.setConfig({ testTimeout: 90_000, hookTimeout: 90_000 });

const dir = mkdtempSync(join(tmpdir(), 'async-invoker-cli-errors-'));
let deadPort = 0;

beforeAll(async () => {
  assertBuilt();
  deadPort = await freePort();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('usage errors exit 2 with one line that names the problem', () => {
  it.each([
    [['lst'], 'async-invoker: unknown command "lst" (did you mean "list"?); commands: list, show, logs, stop, rerun, stats, dashboard; run "async-invoker --help"'],
    [['list', '--stauts', 'Failed', '--store', 'sqlite:x.db'], 'async-invoker list: unknown flag --stauts for "list" (did you mean --status?); run "async-invoker list --help" for the flags it takes'],
    [['show', 'a', '--follow'], 'async-invoker show: unknown flag --follow for "show"; run "async-invoker show --help" for the flags it takes'],
    [['list', '--limit'], 'async-invoker list: --limit needs a value: --limit <n>'],
    [['list', '--limit', '--json'], 'async-invoker list: --limit needs a value: --limit <n>'],
    [['list', '--limit', '0', '--store', 'sqlite:x.db'], 'async-invoker list: --limit must be an integer from 1 to 1000; received "0"'],
    [['list', '--limit', 'ten', '--store', 'sqlite:x.db'], 'async-invoker list: --limit must be an integer from 1 to 1000; received "ten"'],
    [['list', '--json=yes'], 'async-invoker list: --json takes no value; received "yes"'],
    [['list', '--function', 'a', '--function', 'b'], 'async-invoker list: --function was given twice; give it once'],
    [['list', '--status', 'Done', '--store', 'sqlite:x.db'], 'async-invoker list: --status must be one of Enqueued, Running, Retrying, Succeeded, Failed, Stopping, Stopped, Expired, Invalid (repeat the flag or separate them with commas); received "Done"'],
    [['list', '--since', 'yesterday', '--store', 'sqlite:x.db'], 'async-invoker list: --since must be an ISO time (2026-01-31T12:00:00Z), a time ago (30s, 15m, 1h, 2d, 1w) or epoch milliseconds; received "yesterday"'],
    [['list', '--since', '1h', '--until', '2h', '--store', 'sqlite:x.db'], 'async-invoker list: --since must be before --until; received --since 1h and --until 2h'],
    [['list', '--function', '9lives', '--store', 'sqlite:x.db'], 'async-invoker list: --function must be a string that starts with a letter or underscore, then letters, digits, _, . or -, at most 128 characters; received "9lives"'],
    [['list', '--timeout-ms', '5'], 'async-invoker list: --timeout-ms must be an integer from 100 to 600000; received "5"'],
    [['list', 'extra'], 'async-invoker list: unexpected argument "extra" for "list"; run "async-invoker list --help"'],
    [['show'], 'async-invoker show: missing a request id: async-invoker show <requestId> --store <url>, or find it with --function <name> --invocation-id <id>'],
    [['logs', '--store', 'sqlite:x.db'], 'async-invoker logs: missing a request id: async-invoker logs <requestId> --store <url>'],
    [['stop', 'a', 'b'], 'async-invoker stop: unexpected argument "b" for "stop"; run "async-invoker stop --help"'],
    [['dashboard', '--port', '70000'], 'async-invoker dashboard: --port must be an integer from 0 to 65535; received "70000"'],
  ])('%j', async (args, message) => {
    const result = await runInProcess(args);
    expect(result.code).toBe(2);
    expect(expectOneLineError(result)).toBe(message);
  });

  it.each([[['lst']], [['list', '--stauts', 'Failed']], [['list', '--limit', '0', '--store', 'sqlite:x.db']]])('the built CLI too: %j', async (args) => {
    const result = await runCli(args, { cwd: dir });
    expect(result.code).toBe(2);
    expect(expectOneLineError(result)).toBe(expectOneLineError(await runInProcess(args)));
  });
});

describe('--store', () => {
  it.each([
    [[], /^async-invoker list: --store is required: sqlite:<path>, redis:\/\/host:port\[\?prefix=<prefix>\]\[&cluster=1\], rediss:\/\/\.\.\., or postgres:\/\/.* \(or set ASYNC_INVOKER_STORE\)$/],
    [['--store', 'mysql://root:secret@db/app'], /^async-invoker list: --store must be sqlite:<path>, .*; received "mysql:\/\/root:\*\*\*@db\/app": the scheme "mysql:" is not a store this tool knows$/],
    [['--store', './invocations.db'], /--store must be .*; received "\.\/invocations\.db": it has no scheme$/],
    [['--store', 'sqlite:'], /--store "sqlite:" needs a database file: sqlite:\.\/invocations\.db or sqlite:\/abs\/path\.db/],
    [['--store', 'redis://127.0.0.1:6379?prefix={orders}'], /^async-invoker list: --store \?prefix= must be a string of 1 to 100 letters, digits, _ \. : or - \(no braces\); received "\{orders\}"/],
    [['--store', 'redis://127.0.0.1:6379?prefix=a&prefix=b'], /--store has \?prefix= 2 times; give it once$/],
    [['--store', 'postgres://root:secret@127.0.0.1/test?schema=1st'], /^async-invoker list: --store \?schema= must be a PostgreSQL identifier: .*; received "1st" \(in postgres:\/\/root:\*\*\*@127\.0\.0\.1\/test\?schema=1st\)$/],
    [['--store', 'postgres://host:99999/db'], /^async-invoker list: --store is not a valid URL: "postgres:\/\/host:99999\/db"/],
  ])('a bad URL exits 2: %j', async (args, message) => {
    const result = await runInProcess(['list', ...args]);
    expect(result.code).toBe(2);
    const line = expectOneLineError(result);
    expect(line).toMatch(message);
    expect(line).not.toContain('secret');
  });

  it('takes a request id that starts with a dash as the id, not as flags', async () => {
    const result = await runInProcess(['show', '-Sx9_kQ2vYd3Lm0PzR7aBw', '--store', `sqlite:${join(dir, 'absent.db')}`]);
    expect(result.code).toBe(3);
    expect(expectOneLineError(result)).toContain('no SQLite database at');
  });

  it('a bad URL exits 2 from the built CLI too', async () => {
    const result = await runCli(['list', '--store', 'mysql://root:secret@db/app'], { cwd: dir });
    expect(result.code).toBe(2);
    expect(expectOneLineError(result)).toMatch(/^async-invoker list: --store must be sqlite:<path>, .*"mysql:\/\/root:\*\*\*@db\/app"/);
  });

  it('is read from ASYNC_INVOKER_STORE when not given', async () => {
    const result = await runCli(['list'], { cwd: dir, env: { ASYNC_INVOKER_STORE: 'sqlite:./absent.db' } });
    expect(result.code).toBe(3);
    expect(expectOneLineError(result)).toContain(`no SQLite database at ${join(dir, 'absent.db')} (no such file)`);
  });
});

describe('a store that cannot be reached or used exits 3 with the store\'s own explanation', () => {
  const cases: [string, () => string, RegExp][] = [
    ['redis, nothing listening', () => `redis://127.0.0.1:${deadPort}?prefix=cli`, /^async-invoker list: redis store: cannot reach redis:\/\/127\.0\.0\.1:\d+ \(connect ECONNREFUSED .*\): check that Redis is running and the url is right$/],
    ['redis with a password, nothing listening', () => `redis://:hunter2@127.0.0.1:${deadPort}`, /^async-invoker list: redis store: cannot reach/],
    ['postgres, nothing listening', () => `postgres://root:hunter2@127.0.0.1:${deadPort}/test?schema=cli`, /^async-invoker list: postgres store: .*ECONNREFUSED.*Check that the PostgreSQL server is running/],
    ['postgres, no such database', () => `${PG_URL.replace(/\/[^/]*$/, '')}/no_such_database_cli`, /^async-invoker list: postgres store: .*database "no_such_database_cli" does not exist/],
    ['sqlite, no such file', () => `sqlite:${join(dir, 'missing.db')}`, /^async-invoker list: no SQLite database at .*missing\.db \(no such file\); check the path in --store/],
    ['sqlite, no such directory', () => `sqlite:${join(dir, 'nope', 'x.db')}`, /no SQLite database at .*x\.db \(its directory .*nope does not exist\)/],
    ['sqlite, a directory', () => `sqlite:${dir}`, /no SQLite database at .*: it is a directory; give the database file$/],
    ['sqlite, a file that is not a database', () => {
      writeFileSync(join(dir, 'notes.txt'), 'not a database, just some text that is long enough to have a header of its own\n'.repeat(20));
      return `sqlite:${join(dir, 'notes.txt')}`;
    }, /^async-invoker list: sqlite store: cannot use .*notes\.txt as an async-invoker SQLite database: file is not a database$/],
  ];
  it.each(cases)('%s', async (_name, url, message) => {
    const result = await runCli(['list', '--store', url(), '--timeout-ms', '3000'], { cwd: dir });
    expect(result.code).toBe(3);
    const line = expectOneLineError(result);
    expect(line).toMatch(message);
    expect(line).not.toContain('hunter2');
  });

  it('postgres, a mistyped ?schema=: exits 3 and creates nothing', async () => {
    const schema = `ai_cli_mistyped_${process.pid}`;
    const admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    try {
      const result = await runCli(['list', '--store', `${PG_URL}?schema=${schema}`, '--timeout-ms', '3000'], { cwd: dir });
      expect(result.code).toBe(3);
      expect(expectOneLineError(result)).toMatch(
        new RegExp(`^async-invoker list: postgres store: schema "${schema}" has no async-invoker tables and createSchema is false: check the schema name`),
      );
      const { rows } = await admin.query('select count(*)::int as n from pg_namespace where nspname = $1', [schema]);
      expect(rows[0].n).toBe(0);
    } finally {
      // Also when it fails: a CLI that created the schema must not leave it behind.
      await admin.query(`drop schema if exists ${schema} cascade`);
      await admin.end();
    }
  });

  it.each([
    ['redis', (port: number) => `redis://127.0.0.1:${port}`, /^async-invoker list: redis store: cannot reach redis:\/\/127\.0\.0\.1:\d+ \(no connection within 1000 ms\)/],
    ['postgres', (port: number) => `postgres://root@127.0.0.1:${port}/test`, /^async-invoker list: postgres store: list failed: Connection terminated due to connection timeout/],
  ])('%s that accepts connections and never answers: gives up after --timeout-ms', async (_name, url, message) => {
    const sockets = new Set<Socket>();
    const mute = createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => {});
    });
    await new Promise<void>((resolve) => mute.listen(0, '127.0.0.1', resolve));
    try {
      const result = await runCli(['list', '--store', url((mute.address() as AddressInfo).port), '--timeout-ms', '1000'], { cwd: dir });
      expect(result.code).toBe(3);
      expect(expectOneLineError(result)).toMatch(message);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => mute.close(resolve));
    }
  });

  it('prints the stack trace and its cause with --verbose', async () => {
    const result = await runCli(['list', '--store', `redis://127.0.0.1:${deadPort}`, '--verbose'], { cwd: dir });
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/^async-invoker list: redis store: cannot reach/);
    expect(result.stderr).toMatch(/\n {4}at /);
    expect(result.stderr).toContain('Caused by: ');
  });
});

describe('help', () => {
  it('lists the commands, the store URLs and the exit codes, on stdout with --help, on stderr (exit 2) with no command', async () => {
    const help = await runCli(['--help']);
    expect([help.code, help.stderr]).toEqual([0, '']);
    for (const name of ['list', 'show', 'logs', 'stop', 'rerun', 'stats', 'dashboard']) expect(help.stdout).toMatch(new RegExp(`^  ${name} +\\S`, 'm'));
    expect(help.stdout).toContain('Exit codes:');
    expect(help.stdout).toMatch(/^ {2}3 {4}the store could not be reached or used/m);
    const bare = await runInProcess([]);
    expect([bare.code, bare.stdout, bare.stderr]).toEqual([2, '', help.stdout]);
  });

  it.each([
    ['list', '--help'],
    ['show', '-h'],
    ['help', 'logs'],
    ['stop', '--help'],
    ['rerun', '--help'],
    ['stats', '--help'],
    ['dashboard', '--help'],
  ])('%s %s shows the usage, flags and examples', async (...args) => {
    const name = args[0] === 'help' ? args[1] : args[0];
    const result = args[0] === 'list' ? await runCli(args) : await runInProcess(args);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`^Usage: async-invoker ${name}`));
    expect(result.stdout).toMatch(/^Flags:\n(?: {2}.*\n)+/m);
    expect(result.stdout).toMatch(/^ {2}--store <url> {2,}where the invocations are/m);
    expect(result.stdout).toMatch(new RegExp(`^Examples:\\n {2}async-invoker ${name}`, 'm'));
  });

  it('prints the version', async () => {
    const result = await runCli(['--version']);
    expect(result.stdout).toMatch(/^\d+\.\d+\.\d+\S*\n$/);
  });
});
