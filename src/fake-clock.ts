import type { Clock, TimerHandle } from './clock.js';

export interface FakeClock extends Clock {
  /**
   * Moves time forward by `ms`, firing due timers in time order. Between timers it lets
   * pending promise callbacks and I/O callbacks run, so work a timer starts can finish
   * (and arm further timers) before time moves on.
   */
  advance(ms: number): Promise<void>;
  /** Sets the current time (only forwards), firing timers on the way. */
  setTime(epochMs: number): Promise<void>;
  /** Timers armed and not yet fired. */
  pendingTimers(): number;
}

interface FakeTimer {
  at: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

/** Lets promise chains and queued callbacks run: a few turns of the event loop. */
async function flush(turns = 5): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/** A manual clock starting at `start` (epoch ms). */
export function fakeClock(start = Date.UTC(2026, 0, 1)): FakeClock {
  let now = start;
  let seq = 0;
  const timers = new Set<FakeTimer>();

  const nextDue = (limit: number): FakeTimer | undefined => {
    let best: FakeTimer | undefined;
    for (const t of timers) {
      if (t.at <= limit && (!best || t.at < best.at || (t.at === best.at && t.seq < best.seq))) best = t;
    }
    return best;
  };

  const clock: FakeClock = {
    now: () => now,
    setTimeout(fn, ms) {
      const timer: FakeTimer = { at: now + Math.max(0, ms), seq: seq++, fn, cancelled: false };
      timers.add(timer);
      return timer as unknown as TimerHandle;
    },
    clearTimeout(handle) {
      const timer = handle as unknown as FakeTimer;
      timer.cancelled = true;
      timers.delete(timer);
    },
    async advance(ms) {
      await clock.setTime(now + ms);
    },
    async setTime(target) {
      await flush();
      for (;;) {
        const timer = nextDue(target);
        if (!timer) break;
        timers.delete(timer);
        if (timer.at > now) now = timer.at;
        timer.fn();
        await flush();
      }
      if (target > now) now = target;
      await flush();
    },
    pendingTimers: () => timers.size,
  };
  return clock;
}
