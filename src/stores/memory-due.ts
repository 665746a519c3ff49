/**
 * The memory store's due work of one function, or of one group of a grouped function, in
 * (at, seq) order (seq: the record's insertion order). Entries appended after the tail (most
 * work: due now, and time only moves on) go to a FIFO, O(1) in and out; anything that sorts
 * before its tail goes to a heap. Stale entries (the
 * record changed since) are dropped as they reach the front.
 */
import { Fifo } from './fifo.js';
import { MinHeap } from './min-heap.js';

export interface DueEntry<E> {
  readonly at: number;
  readonly seq: number;
  readonly entry: E;
  readonly version: number;
  readonly queue: DueQueue<E>;
}

export class DueQueue<E> {
  readonly #fifo = new Fifo<DueEntry<E>>();
  readonly #heap = new MinHeap<DueEntry<E>>();
  readonly #valid: (d: DueEntry<E>) => boolean;
  /**
   * The store's start sequence when this queue's work last started an attempt: round-robin
   * between groups serves the least recently started first (a sequence, not a time: starts in
   * one claim share their time).
   */
  lastStarted = 0;

  constructor(valid: (d: DueEntry<E>) => boolean) {
    this.#valid = valid;
  }

  push(at: number, seq: number, entry: E, version: number): void {
    const due: DueEntry<E> = { at, seq, entry, version, queue: this };
    const tail = this.#fifo.last();
    // The FIFO stays in (at, seq) order; a retried record's old seq can sort before the tail.
    if (!tail || earlier(tail, due)) this.#fifo.push(due);
    else this.#heap.push(due);
  }

  /** The earliest still-valid entry, dropping stale ones on the way. */
  peek(): DueEntry<E> | undefined {
    while (this.#fifo.size > 0 && !this.#valid(this.#fifo.peek()!)) this.#fifo.shift();
    let top = this.#heap.peek();
    while (top && !this.#valid(top)) {
      this.#heap.pop();
      top = this.#heap.peek();
    }
    const head = this.#fifo.peek();
    if (!head) return top;
    if (!top) return head;
    return earlier(top, head) ? top : head;
  }

  /** Removes `d`, which `peek` just returned. */
  remove(d: DueEntry<E>): void {
    if (this.#fifo.peek() === d) this.#fifo.shift();
    else this.#heap.pop();
  }

  get size(): number {
    return this.#fifo.size + this.#heap.size;
  }
}

export function earlier<E>(a: DueEntry<E>, b: DueEntry<E>): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}
