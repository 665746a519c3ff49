/** The command line's pure parts, in process: store URLs, times, flags, tables. */
import { describe, expect, it } from 'vitest';
import { CliError } from '../../src/cli/exit.js';
import { parseFlags } from '../../src/cli/flags.js';
import { parseStoreUrl, redact } from '../../src/cli/store-url.js';
import { table } from '../../src/cli/table.js';
import { duration, parseTime, relative } from '../../src/cli/time.js';

const usage = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(CliError);
    expect((error as CliError).exitCode).toBe(2);
    return (error as CliError).message;
  }
  throw new Error('expected a usage error');
};

describe('store URLs', () => {
  it.each([
    ['sqlite:./jobs.db', { kind: 'sqlite', path: './jobs.db' }],
    ['sqlite:/var/lib/app/jobs.db', { kind: 'sqlite', path: '/var/lib/app/jobs.db' }],
    ['sqlite:///var/lib/app/jobs.db', { kind: 'sqlite', path: '/var/lib/app/jobs.db' }],
    ['sqlite:jobs.db', { kind: 'sqlite', path: 'jobs.db' }],
    ['redis://127.0.0.1:6379', { kind: 'redis', url: 'redis://127.0.0.1:6379' }],
    ['redis://127.0.0.1:6379?prefix=orders', { kind: 'redis', url: 'redis://127.0.0.1:6379', prefix: 'orders' }],
    ['redis://127.0.0.1:7001?prefix=orders&cluster=1', { kind: 'redis', url: 'redis://127.0.0.1:7001', prefix: 'orders', cluster: true }],
    ['rediss://user:pw@cache.example:6380/2?prefix=a.b&family=6', { kind: 'redis', url: 'rediss://user:pw@cache.example:6380/2?family=6', prefix: 'a.b' }],
    ['postgres://app@db/app?schema=jobs', { kind: 'postgres', connectionString: 'postgres://app@db/app', schema: 'jobs' }],
    ['postgresql://app:pw@db:5433/app?sslmode=require&schema=jobs', { kind: 'postgres', connectionString: 'postgresql://app:pw@db:5433/app?sslmode=require', schema: 'jobs' }],
  ])('%s', (url, expected) => {
    expect(parseStoreUrl(url)).toMatchObject(expected);
  });

  it('never shows a password back', () => {
    expect(parseStoreUrl('redis://u:secret@h:1?prefix=p').shown).toBe('redis://u:***@h:1?prefix=p');
    expect(redact('postgres://u:secret@h/db')).toBe('postgres://u:***@h/db');
    expect(usage(() => parseStoreUrl('mongodb://u:secret@h/db'))).not.toContain('secret');
  });

  it('refuses what is not a store URL', () => {
    expect(usage(() => parseStoreUrl(undefined))).toMatch(/^--store is required/);
    expect(usage(() => parseStoreUrl('sqlite::memory:'))).toMatch(/needs a database file/);
    expect(usage(() => parseStoreUrl('redis://h?prefix='))).toBe('--store has an empty ?prefix=; give a value or leave it out');
    expect(usage(() => parseStoreUrl('redis://h?cluster=yes'))).toMatch(/^--store has \?cluster=yes; give cluster=1/);
  });
});

describe('times', () => {
  const now = Date.UTC(2026, 0, 31, 12);
  it.each([
    ['30s', now - 30_000],
    ['15m', now - 900_000],
    ['1.5h', now - 5_400_000],
    ['2d', now - 2 * 86_400_000],
    ['1w', now - 604_800_000],
    ['2026-01-30T00:00:00Z', Date.UTC(2026, 0, 30)],
    ['2026-01-30T01:00:00+01:00', Date.UTC(2026, 0, 30)],
    ['2026-01-30', Date.UTC(2026, 0, 30)],
    ['1769774400000', 1769774400000],
  ])('%s', (text, at) => expect(parseTime('--since', text, now)).toBe(at));

  it.each(['yesterday', '1y', '-1h', '2026-13-45', '12', ''])('refuses %j, naming the flag and what is allowed', (text) => {
    expect(usage(() => parseTime('--until', text, now))).toBe(
      `--until must be an ISO time (2026-01-31T12:00:00Z), a time ago (30s, 15m, 1h, 2d, 1w) or epoch milliseconds; received ${JSON.stringify(text)}`,
    );
  });

  it('writes durations and relative times for people', () => {
    expect([duration(850), duration(4200), duration(42_000), duration(200_000), duration(7_500_000), duration(3 * 86_400_000 + 4 * 3_600_000)]).toEqual([
      '850ms', '4.2s', '42s', '3m 20s', '2h 5m', '3d 4h',
    ]);
    expect([relative(now - 180_000, now), relative(now + 60_000, now), relative(now, now)]).toEqual(['3m ago', 'in 1m', 'now']);
  });
});

describe('flags', () => {
  const specs = {
    limit: { type: 'string', value: 'n', description: '' },
    status: { type: 'string', multiple: true, description: '' },
    json: { type: 'boolean', description: '' },
    follow: { type: 'boolean', short: 'f', description: '' },
  } as const;

  it('reads values, repeats, booleans, short flags and positionals', () => {
    const { values, positionals } = parseFlags('x', ['id1', '--limit=5', '--status', 'A', '--status', 'B,C', '-f', '--json', '--', '--not-a-flag'], specs);
    expect(values).toEqual({ limit: '5', status: ['A', 'B,C'], follow: true, json: true });
    expect(positionals).toEqual(['id1', '--not-a-flag']);
  });

  it('takes an id that starts with a dash as an argument (one request id in 64 does), where the command takes one', () => {
    const id = '-Sx9_kQ2vYd3Lm0PzR7aBw';
    const { values, positionals } = parseFlags('logs', ['--follow', id, '--json'], specs, { ids: true });
    expect([values, positionals]).toEqual([{ follow: true, json: true }, [id]]);
    // After a flag that takes a value it is that value, which a dash-led value must give with =.
    expect(usage(() => parseFlags('x', ['--limit', id], specs, { ids: true }))).toContain(`write --limit=${id}`);
    expect(usage(() => parseFlags('list', [id], specs))).toMatch(/^unknown flag -S for "list"/);
  });

  it('takes a value that starts with a dash only with =', () => {
    expect(usage(() => parseFlags('x', ['--limit', '-5'], specs))).toBe('--limit is followed by "-5", which looks like a flag; write --limit=-5 if it is the value');
    expect(parseFlags('x', ['--limit=-5'], specs).values.limit).toBe('-5');
  });
});

describe('tables', () => {
  it('pads columns to the widest cell, right-aligns numbers, leaves no trailing spaces', () => {
    const text = table([{ header: 'NAME' }, { header: 'N', right: true }, { header: 'NOTE' }], [['a', '1', ''], ['longer', '100', 'x']]);
    expect(text.split('\n')).toEqual(['NAME      N  NOTE', 'a         1', 'longer  100  x']);
  });
});
