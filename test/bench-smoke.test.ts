/**
 * Keeps `npm run bench` from rotting: runs the quick end-to-end workload on the memory store
 * (no peers, no servers, small n) as a child process, from dist/ (`npm test` builds first),
 * and checks that it exits 0 and writes its JSON. No timing is asserted: CI machines vary.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..');
const built = existsSync(join(root, 'dist/index.js'));
const dir = mkdtempSync(join(tmpdir(), 'bench-smoke-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('bench flags', () => {
  it('accepts --flag value and --flag=value, and names unknown flags', async () => {
    const { parseArgs } = await import('../bench/lib/args.js');
    expect(parseArgs(['--out', 'x.json', '--only=e2e,http', '--stores', 'memory'])).toMatchObject({ out: 'x.json', only: ['e2e', 'http'], stores: ['memory'] });
    expect(parseArgs(['--out=x.json'])).toMatchObject({ out: 'x.json' });
    expect(() => parseArgs(['--nope'])).toThrow(/--nope.*known flags: --quick/);
    expect(() => parseArgs(['--stores', 'mongo'])).toThrow(/mongo is not one of/);
  });
});

describe('bench order', () => {
  it('runs each peer right after the stores compared with it, not every peer after every store', async () => {
    const { runOrder } = await import('../bench/lib/systems.js');
    const stores = ['memory', 'sqlite', 'sqlite-normal', 'redis', 'redis-aof', 'postgres'];
    const peers = ['p-queue', 'bullmq-aof', 'bullmq', 'graphile-worker', 'pg-boss'];
    expect(runOrder(stores, peers)).toEqual([
      'memory', 'p-queue', 'sqlite', 'sqlite-normal', 'redis', 'bullmq', 'redis-aof', 'bullmq-aof', 'postgres', 'graphile-worker', 'pg-boss',
    ]);
    // A peer of no selected store keeps its place at the end; one store alone is followed by its peer.
    expect(runOrder(['redis'], ['bullmq', 'p-queue'])).toEqual(['redis', 'bullmq', 'p-queue']);
  });
});

describe.skipIf(!built)('bench smoke (skipped without dist/: run npm run build)', () => {
  it('runs the quick e2e workload on the memory store and writes rows', async () => {
    const out = join(dir, 'bench.json');
    const { stdout } = await promisify(execFile)(
      process.execPath,
      // Both flag forms, as users type them: --name=value and --name value.
      ['bench/run.js', '--quick', '--stores=memory', '--no-peers', '--only', 'e2e', '--n=2000', '--out', out],
      { cwd: root, timeout: 90_000 },
    );
    expect(stdout).toContain('Targets (issues 8, 15, 16)');
    const result = JSON.parse(readFileSync(out, 'utf8'));
    expect(result.quick).toBe(true);
    expect(result.machine.cores).toBeGreaterThan(0);
    expect(result.failures).toEqual([]);
    expect(result.rows.map((r: { concurrency: number }) => r.concurrency)).toEqual([1, 16, 64]);
    for (const row of result.rows) {
      // Every row names what an acknowledged job survives.
      expect(row).toMatchObject({ workload: 'e2e', system: 'memory', n: 2000, durability: 'none: process memory' });
      expect(row.opsPerSec).toBeGreaterThan(0);
    }
  }, 120_000);
});
