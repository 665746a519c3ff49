/** One timer for the deadlines of all running attempts (not one per attempt). */
import type { Clock, TimerHandle } from '../clock.js';
import { MinHeap } from '../stores/min-heap.js';

interface Deadline {
  at: number;
  seq: number;
  fire: () => void;
  cancelled: boolean;
}

export class Deadlines {
  readonly #clock: Clock;
  readonly #heap = new MinHeap<Deadline>();
  #timer: TimerHandle | undefined;
  #timerAt = Infinity;
  #seq = 0;
  #live = 0;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** Calls `fire` at `at` unless the returned cancel is called first. */
  add(at: number, fire: () => void): () => void {
    const deadline: Deadline = { at, seq: this.#seq++, fire, cancelled: false };
    this.#heap.push(deadline);
    this.#live++;
    if (at < this.#timerAt) this.#arm(at);
    return () => {
      if (deadline.cancelled) return;
      deadline.cancelled = true;
      this.#live--;
      // Cancelled entries wait in the heap until their time; drop them in bulk when they dominate.
      if (this.#heap.size > 1024 && this.#heap.size > 4 * this.#live) this.#heap.retain((d) => !d.cancelled);
    };
  }

  stop(): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Infinity;
  }

  #arm(at: number): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timerAt = at;
    this.#timer = this.#clock.setTimeout(() => this.#fireDue(), Math.max(0, at - this.#clock.now()));
  }

  #fireDue(): void {
    this.#timer = undefined;
    this.#timerAt = Infinity;
    const now = this.#clock.now();
    for (;;) {
      const top = this.#heap.peek();
      if (!top) return;
      if (top.cancelled) {
        this.#heap.pop();
        continue;
      }
      if (top.at > now) {
        this.#arm(top.at);
        return;
      }
      this.#heap.pop();
      top.cancelled = true;
      this.#live--;
      top.fire();
    }
  }
}
