/**
 * Time, injectable. The invoker reads `now()` and arms at most a few timers through this
 * interface, so a fake clock can move an hour of delay in milliseconds.
 */
export interface Clock {
  now(): number;
  /** Calls `fn` after `ms`. The returned handle must not keep the process alive. */
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

export type TimerHandle = { readonly __timer: unique symbol } | object;

export const systemClock: Clock = {
  now: Date.now,
  setTimeout(fn, ms) {
    const t = setTimeout(fn, Math.max(0, Math.min(ms, 2_147_483_647)));
    t.unref();
    return t;
  },
  clearTimeout(handle) {
    clearTimeout(handle as NodeJS.Timeout);
  },
};
