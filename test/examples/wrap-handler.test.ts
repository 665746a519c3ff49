import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'wrap-handler-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('examples/wrap-handler', () => {
  it('runs: the wrapped function succeeds after a retry, the bad call fails without retrying', async () => {
    // Runs the example as users would, against the built package (npm test builds first).
    const { stdout } = await run(process.execPath, ['examples/wrap-handler/index.js'], {
      env: { ...process.env, DB_PATH: join(dir, 'wrap.db') },
      timeout: 20_000,
    });
    expect(stdout).toMatch(/^accepted [\w-]{21,} and [\w-]{21,}$/m);
    expect(stdout).toMatch(/retrying \S+ after: mail server unavailable/);
    expect(stdout).toMatch(/: Succeeded after 2 attempts -> \{"delivered":"ada@example.com","subject":"Welcome, Ada!"\}/);
    expect(stdout).toMatch(/: Failed \(HandledInvocationError\) not an address: not-an-address/);
    expect(stdout).toMatch(/gave up on \S+: not an address/);
  });
});
