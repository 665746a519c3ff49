/**
 * When the worker should look for work: one timer per invoker, armed for the earliest known
 * due time, plus an immediate wake-up for new due work. No timer per invocation, no polling.
 */
import type { Clock, TimerHandle } from '../clock.js';
import { inMicrotask } from './microtask.js';

export class Scheduler {
  readonly #clock: Clock;
  readonly #onWake: () => void;
  #timer: TimerHandle | undefined;
  #timerAt = Infinity;
  #wakeQueued = false;
  #soonInARow = 0;
  #stopped = false;
  /** wakeSoon's microtask, made once. */
  readonly #soon = (): void => {
    this.#wakeQueued = false;
    if (!this.#stopped) this.#onWake();
  };

  constructor(clock: Clock, onWake: () => void) {
    this.#clock = clock;
    this.#onWake = onWake;
  }

  /** Wake at `at` (epoch ms) unless an earlier wake-up is already armed. */
  wakeAt(at: number): void {
    if (this.#stopped || at >= this.#timerAt) return;
    const delay = at - this.#clock.now();
    if (delay <= 0) {
      // Due already (a claim left due work for want of free slots): within this turn, as a slot
      // freeing does, not a turn later; wakeSoon still yields a full turn every so often.
      this.wakeSoon();
      return;
    }
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timerAt = at;
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      this.#timerAt = Infinity;
      this.wakeNow();
    }, delay);
  }

  /**
   * Wake once the current work unwinds (a microtask, coalesced): cheaper than a turn of the
   * event loop, for stores that answer in process. Every 32nd wake-up in a row takes a full
   * turn instead, so a long backlog cannot starve timers and I/O.
   */
  wakeSoon(): void {
    if (this.#wakeQueued || this.#stopped) return;
    if (++this.#soonInARow > 32) {
      this.#soonInARow = 0;
      this.wakeNow();
      return;
    }
    this.#wakeQueued = true;
    inMicrotask(this.#soon);
  }

  /** Wake on the next turn of the event loop (coalesced). */
  wakeNow(): void {
    if (this.#wakeQueued || this.#stopped) return;
    this.#wakeQueued = true;
    setImmediate(() => {
      this.#wakeQueued = false;
      this.#soonInARow = 0;
      if (!this.#stopped) this.#onWake();
    });
  }

  /** The armed wake-up time, or Infinity. */
  get armedAt(): number {
    return this.#timerAt;
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Infinity;
  }
}
