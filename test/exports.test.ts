import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

interface Conditions { types: string; import: string }
const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { exports: Record<string, Conditions | string>; sideEffects: boolean };

/** What each public entry must export by name (DESIGN's public surface). */
const expected: Record<string, string[]> = {
  '.': ['createInvoker', 'memoryStore', 'fakeClock', 'httpDestination', 'InvalidArgumentError', 'IdempotencyConflictError', 'HandledInvocationError', 'NonRetryableError', 'ThrottledError'],
  './sqlite': ['sqliteStore'],
  './redis': ['redisStore'],
  './postgres': ['postgresStore'],
  './express': ['asyncTrigger', 'taskRoutes'],
  './koa': ['asyncTrigger', 'taskRoutes'],
  './http': ['asyncTrigger', 'taskRoutes'],
  './fastify': ['asyncTrigger', 'taskRoutes'],
  './fetch': ['asyncTrigger', 'taskRoutes'],
  './testing': ['fakeClock'],
};

describe('package exports (from dist/, as users import them)', () => {
  it('declares no side effects and an entry for every public subpath', () => {
    expect(pkg.sideEffects).toBe(false);
    expect(Object.keys(pkg.exports).filter((k) => k !== './package.json').sort()).toEqual(Object.keys(expected).sort());
  });

  for (const [subpath, names] of Object.entries(expected)) {
    it(`${subpath} has types and import conditions and exports ${names.join(', ')}`, async () => {
      const entry = pkg.exports[subpath] as Conditions;
      expect(Object.keys(entry)).toEqual(['types', 'import']);
      expect(existsSync(entry.types), entry.types).toBe(true);
      const mod = (await import(/* @vite-ignore */ `../${entry.import}`)) as Record<string, unknown>;
      for (const name of names) expect(typeof mod[name], `${subpath} ${name}`).toBe('function');
    });
  }
});
