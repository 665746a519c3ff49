/** The command as npm installs it: package.json `bin`, a shebang, an executable file that runs on its own. */
import { execFile } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, CLI } from './run-cli.js';

const run = promisify(execFile);

describe('the async-invoker bin', () => {
  beforeAll(assertBuilt);

  it('is declared in package.json as dist/cli.js', () => {
    const pkg = JSON.parse(readFileSync(resolve(import.meta.dirname, '../../package.json'), 'utf8')) as { bin?: Record<string, string> };
    expect(pkg.bin).toEqual({ 'async-invoker': './dist/cli.js' });
  });

  it('starts with a node shebang, is executable after the build, and runs without `node` in front', async () => {
    expect(readFileSync(CLI, 'utf8').split('\n')[0]).toBe('#!/usr/bin/env node');
    // npm pack keeps the mode: the package must carry an executable bin.
    expect(statSync(CLI).mode & 0o111).toBe(0o111);
    const { stdout } = await run(CLI, ['--version']);
    expect(stdout).toMatch(/^\d+\.\d+\.\d+/);
  });
});
