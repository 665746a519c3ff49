/** `dashboard`: serves the node adapter's dashboard on loopback until Ctrl-C. */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { assertBuilt, expectOneLineError, runCli, startCli } from './run-cli.js';
import { seed } from './seed.js';
import { sqliteFixture, type StoreFixture } from './stores.js';

/** Child processes on a shared 2-core machine: a case that runs the CLI several times gets room (a bound, not a measurement). */
vi.setConfig({ testTimeout: 90_000, hookTimeout: 90_000 });

describe('async-invoker dashboard', () => {
  let fixture: StoreFixture;
  beforeAll(async () => {
    assertBuilt();
    fixture = sqliteFixture();
    await seed(fixture.open());
  });
  afterAll(() => fixture.cleanup());

  it('serves the dashboard on 127.0.0.1 and exits 0 on Ctrl-C', async () => {
    const server = startCli(['dashboard', '--port', '0', '--store', fixture.url]);
    await server.printed('(Ctrl-C to stop)');
    const url = /Dashboard on (http:\/\/127\.0\.0\.1:\d+\/)/.exec(server.stdout())![1]!;
    const response = await fetch(url);
    expect(response.status).toBe(200);
    server.child.kill('SIGINT');
    const result = await server.exited;
    expect([result.code, result.stderr]).toEqual([0, '']);
  });

  it('says which port is taken', async () => {
    const { createServer } = await import('node:net');
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const { port } = busy.address() as { port: number };
    try {
      const result = await runCli(['dashboard', '--store', fixture.url, '--port', String(port)]);
      expect(result.code).toBe(2);
      expect(expectOneLineError(result)).toBe(`async-invoker dashboard: port ${port} on 127.0.0.1 is in use: choose another with --port`);
    } finally {
      busy.close();
    }
  });
});
