/**
 * Request ids: 22 URL-safe characters, unique, led by their creation time so that ids made close
 * together share a prefix (the stores' primary-key indexes take them in a few places).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { newRequestId } from '../../src/ids.js';

/** The creation time an id carries: its first 6 bytes, big-endian milliseconds. */
const timeOf = (id: string): number => Buffer.from(id, 'base64url').readUIntBE(0, 6);

describe('request ids', () => {
  afterEach(() => vi.useRealTimers());

  it('are 22 URL-safe characters, distinct across many made in the same millisecond', () => {
    vi.useFakeTimers({ now: Date.UTC(2026, 11, 2), toFake: ['Date'] });
    const ids = Array.from({ length: 100_000 }, () => newRequestId());
    for (const id of ids.slice(0, 1000)) expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(new Set(ids).size).toBe(ids.length);
    // The same millisecond: the same 8 leading characters, the rest random.
    expect(new Set(ids.map((id) => id.slice(0, 8))).size).toBe(1);
    expect(new Set(ids.map((id) => id.slice(8))).size).toBe(ids.length);
  });

  it('lead with their creation time, so ids of one stretch of time share a prefix', () => {
    const at = Date.UTC(2026, 11, 2, 10, 30);
    vi.useFakeTimers({ now: at, toFake: ['Date'] });
    const first = newRequestId();
    vi.setSystemTime(at + 1);
    const next = newRequestId();
    vi.setSystemTime(at + 60_000);
    const later = newRequestId();
    expect([timeOf(first), timeOf(next), timeOf(later)]).toEqual([at, at + 1, at + 60_000]);
    // Here a millisecond apart only the time's last character differs, a minute apart its last three.
    expect(next.slice(0, 7)).toBe(first.slice(0, 7));
    expect(later.slice(0, 5)).toBe(first.slice(0, 5));
  });
});
