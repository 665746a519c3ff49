import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  backoffCeiling,
  decide,
  deliveryRetryAt,
  nextDelay,
  throttleDelay,
  THROTTLE_WINDOW_MS,
  type BackoffPolicy,
  type RetryPolicy,
} from '../../src/policy.js';

const backoffArb: fc.Arbitrary<BackoffPolicy> = fc
  .record({
    initialDelayMs: fc.integer({ min: 0, max: 3_600_000 }),
    multiplier: fc.double({ min: 1, max: 10, noNaN: true }),
    extra: fc.integer({ min: 0, max: 86_400_000 }),
    jitter: fc.constantFrom('full' as const, 'none' as const),
  })
  .map(({ initialDelayMs, multiplier, extra, jitter }) => ({
    initialDelayMs,
    multiplier,
    maxDelayMs: Math.min(86_400_000, initialDelayMs + extra),
    jitter,
  }));

const policyArb: fc.Arbitrary<RetryPolicy> = fc.record({
  maxAsyncRetryAttempts: fc.integer({ min: 0, max: 8 }),
  maxEventAgeMs: fc.integer({ min: 1, max: 604_800 }).map((s) => s * 1000),
  backoff: backoffArb,
  maxLostAttempts: fc.integer({ min: 0, max: 100 }),
});

const randomArb = fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true });
const unhandled = { kind: 'error', condition: 'UnhandledInvocationError', retryable: true } as const;

describe('policy', () => {
  it('backoff is monotone in the retry number and capped at maxDelayMs', () => {
    fc.assert(
      fc.property(backoffArb, fc.integer({ min: 1, max: 40 }), (backoff, retry) => {
        const a = backoffCeiling(retry, backoff);
        const b = backoffCeiling(retry + 1, backoff);
        expect(b).toBeGreaterThanOrEqual(a);
        expect(b).toBeLessThanOrEqual(backoff.maxDelayMs);
        expect(a).toBeGreaterThanOrEqual(0);
      }),
    );
  });

  it('jitter stays within [0, ceiling]; no jitter is exactly the ceiling', () => {
    fc.assert(
      fc.property(backoffArb, fc.integer({ min: 1, max: 20 }), randomArb, (backoff, retry, r) => {
        const delay = nextDelay(retry, backoff, () => r);
        const ceiling = backoffCeiling(retry, backoff);
        if (backoff.jitter === 'none') expect(delay).toBe(ceiling);
        else {
          expect(delay).toBeGreaterThanOrEqual(0);
          expect(delay).toBeLessThanOrEqual(ceiling);
        }
      }),
    );
  });

  it('pins the documented defaults: 1 s, 2 s, 4 s ... capped at 300 s', () => {
    const backoff: BackoffPolicy = { initialDelayMs: 1000, multiplier: 2, maxDelayMs: 300_000, jitter: 'none' };
    expect([1, 2, 3, 4, 9, 10].map((n) => nextDelay(n, backoff, () => 0.5))).toEqual([1000, 2000, 4000, 8000, 256_000, 300_000]);
  });

  it('never allows more than maxAsyncRetryAttempts + 1 attempts, and never retries past the event age', () => {
    fc.assert(
      fc.property(policyArb, fc.array(randomArb, { minLength: 12, maxLength: 12 }), fc.integer({ min: 0, max: 5000 }), (policy, randoms, runMs) => {
        const createdAt = 1_000_000;
        let now = createdAt;
        let attempts = 0;
        for (let i = 0; i < 12; i++) {
          attempts++;
          now += runMs;
          const d = decide({ outcome: unhandled, countedAttempts: attempts, throttles: 0, createdAt, now, policy, random: () => randoms[i]! });
          if (d.action === 'fail') break;
          expect(d.retryAt).toBeGreaterThanOrEqual(now);
          expect(d.retryAt - createdAt).toBeLessThanOrEqual(policy.maxEventAgeMs);
          now = d.retryAt;
        }
        expect(attempts).toBeLessThanOrEqual(policy.maxAsyncRetryAttempts + 1);
      }),
    );
  });

  it('a non-retryable error fails at once with HandledInvocationError', () => {
    fc.assert(
      fc.property(policyArb, fc.integer({ min: 1, max: 9 }), (policy, attempt) => {
        const d = decide({
          outcome: { kind: 'error', condition: 'HandledInvocationError', retryable: false },
          countedAttempts: attempt,
          throttles: 0,
          createdAt: 0,
          now: 10,
          policy,
          random: () => 0,
        });
        expect(d).toEqual({ action: 'fail', condition: 'HandledInvocationError', reason: 'non-retryable' });
      }),
    );
  });

  it('throttled attempts back off 0.5 s, 1 s, 2 s ... without consuming attempts, within 5 h and the event age', () => {
    expect([1, 2, 3, 4].map(throttleDelay)).toEqual([500, 1000, 2000, 4000]);
    fc.assert(
      fc.property(policyArb, fc.integer({ min: 1, max: 60 }), fc.integer({ min: 0, max: 604_800_000 }), (policy, throttles, elapsed) => {
        const d = decide({ outcome: { kind: 'throttled' }, countedAttempts: 0, throttles, createdAt: 0, now: elapsed, policy, random: () => 0 });
        if (d.action === 'retry') {
          expect(d.consumesAttempt).toBe(false);
          expect(d.retryAt).toBeLessThanOrEqual(Math.min(policy.maxEventAgeMs, THROTTLE_WINDOW_MS));
        } else {
          expect(d.condition).toBe('FunctionResourceExhausted');
        }
      }),
    );
  });

  it('destination deliveries retry from 500 ms for at most 30 minutes', () => {
    expect(deliveryRetryAt(1, 0, 0)).toBe(500);
    expect(deliveryRetryAt(2, 0, 500)).toBe(1500);
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 50 }), fc.integer({ min: 0, max: 4_000_000 }), (attempts, elapsed) => {
        const at = deliveryRetryAt(attempts, 0, elapsed);
        if (at !== undefined) expect(at).toBeLessThanOrEqual(30 * 60_000);
      }),
    );
  });
});
