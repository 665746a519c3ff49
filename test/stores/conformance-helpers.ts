/** Shared pieces of the store conformance suite: factories for inputs, the suite context. */
import type { ClaimRequest, ClaimSlot, NewInvocation, RetentionOptions, Settlement, Store } from '../../src/stores/contract.js';

export interface StoreFactoryOptions {
  readonly retention?: RetentionOptions;
}

export interface SuiteContext {
  /** Creates a store that the suite closes after the test. */
  open(options?: StoreFactoryOptions): Promise<Store>;
  /** Two instances on the same state when the store supports it; one instance otherwise. */
  pair(): Promise<[Store, Store]>;
  /** Closes the stores this test opened and empties the data: a clean start within one test. */
  reset(): Promise<void>;
  /**
   * A store whose server cannot be reached (nothing listens at its address, or a file in a
   * directory that does not exist), with its fault bound set low; undefined where nothing is
   * reached (the memory store).
   */
  readonly unreachable?: () => Store;
}

export const T0 = Date.UTC(2026, 0, 1);
export const LEASE = 30_000;
export const DAY = 86_400_000;

let counter = 0;
/** A new invocation of `functionName` created at `createdAt` (due then unless `scheduledAt`). */
export function newInvocation(overrides: Partial<NewInvocation> = {}): NewInvocation {
  counter++;
  const createdAt = overrides.createdAt ?? T0;
  return {
    requestId: `req-${String(counter).padStart(6, '0')}`,
    functionName: 'fn',
    payload: { n: counter },
    createdAt,
    scheduledAt: createdAt,
    hops: 0,
    ...overrides,
  };
}

export function slot(functionName = 'fn', limit = 100, maxEventAgeMs = DAY): ClaimSlot {
  return { functionName, limit, maxEventAgeMs };
}

export function claimReq(now: number, slots: ClaimSlot[] = [slot()], limit = 100, leaseMs = LEASE): ClaimRequest {
  return { now, leaseMs, limit, slots };
}

/** A final settlement ending the invocation as Succeeded at `now`. */
export function succeed(requestId: string, leaseToken: string, now: number, attempt = 1): Settlement {
  return {
    requestId,
    leaseToken,
    status: 'Succeeded',
    events: [{ at: now, status: 'Succeeded', attempt }],
    dueAt: null,
    endedAt: now,
    result: { ok: true },
    condition: '',
  };
}
