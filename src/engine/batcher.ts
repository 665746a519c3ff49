/**
 * Group commit: calls made in the same tick, or while the previous batch is being written,
 * go to the store as one call. One batch is in flight at a time, so under load each write
 * carries everything that arrived during the previous one.
 */
import { inMicrotask } from './microtask.js';

export class Batcher<I, O> {
  #pending: { item: I; resolve: (o: O) => void; reject: (e: unknown) => void }[] = [];
  #inFlight = false;
  #scheduled = false;
  /** #schedule's microtask, made once. */
  readonly #run = (): void => {
    this.#scheduled = false;
    void this.#flush();
  };
  readonly #write: (items: I[]) => Promise<O[]>;
  readonly #maxBatch: number;

  constructor(write: (items: I[]) => Promise<O[]>, maxBatch = 1000) {
    this.#write = write;
    this.#maxBatch = maxBatch;
  }

  add(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.#pending.push({ item, resolve, reject });
      this.#schedule();
    });
  }

  get pending(): number {
    return this.#pending.length + (this.#inFlight ? 1 : 0);
  }

  #schedule(): void {
    if (this.#scheduled || this.#inFlight) return;
    this.#scheduled = true;
    inMicrotask(this.#run);
  }

  async #flush(): Promise<void> {
    if (this.#inFlight || this.#pending.length === 0) return;
    this.#inFlight = true;
    const batch = this.#pending.length <= this.#maxBatch ? this.#pending : this.#pending.slice(0, this.#maxBatch);
    this.#pending = batch === this.#pending ? [] : this.#pending.slice(this.#maxBatch);
    try {
      const results = await this.#write(batch.map((p) => p.item));
      for (let i = 0; i < batch.length; i++) batch[i]!.resolve(results[i]!);
    } catch (error) {
      for (const p of batch) p.reject(error);
    } finally {
      this.#inFlight = false;
      if (this.#pending.length) this.#schedule();
    }
  }
}
