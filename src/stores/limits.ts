/** Flow-control rules stores that keep state in process apply the same way (memory, SQLite). */

/** Start times of one function's attempts in the last second: the `perSecond` limit. */
export class StartWindow {
  #starts: number[] = [];

  constructor(starts: readonly number[] = []) {
    this.#starts = [...starts];
  }

  /** Drops starts that left the one-second window ending at `now` (a start at t counts while t > now - 1000). */
  slide(now: number): void {
    let drop = 0;
    while (drop < this.#starts.length && this.#starts[drop]! <= now - 1000) drop++;
    if (drop) this.#starts.splice(0, drop);
  }

  /** Whether another attempt may start now. */
  allows(perSecond: number): boolean {
    return this.#starts.length < perSecond;
  }

  /** When the next attempt may start: when the oldest start in the window leaves it. */
  retryAt(perSecond: number): number {
    return this.#starts[this.#starts.length - perSecond]! + 1000;
  }

  add(now: number): void {
    this.#starts.push(now);
  }

  get starts(): readonly number[] {
    return this.#starts;
  }
}
