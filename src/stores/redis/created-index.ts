/**
 * The createdAt indexes of one or more functions (`{prefix:fn}:created`) read as one listing,
 * newest first (createdAt, then requestId, descending): a chunk of each function at a time, in
 * one round trip for all of them, merged. Listing across functions needs no global index, so an
 * enqueue writes only within its function's hash tag.
 */
import { listsBefore, type CursorPosition } from '../cursor.js';
import type { Keys } from './keys.js';
import type { Link } from './link.js';

export interface Listed {
  readonly fn: string;
  readonly requestId: string;
  readonly createdAt: number;
}

interface Source {
  readonly fn: string;
  readonly key: string;
  offset: number;
  buffer: Listed[];
  done: boolean;
}

export interface Window {
  /** ZREVRANGEBYSCORE bounds. */
  readonly max: string;
  readonly min: string;
  /** Only entries listed after this one. */
  readonly after?: CursorPosition | undefined;
  /** Entries read per function per round trip. */
  readonly chunk: number;
}

export class CreatedIndexes {
  readonly #link: Link;
  readonly #window: Window;
  readonly #sources: Source[];

  constructor(link: Link, keys: Keys, names: readonly string[], window: Window) {
    this.#link = link;
    this.#window = window;
    this.#sources = names.map((fn) => ({ fn, key: keys.index(fn)[4]!, offset: 0, buffer: [], done: false }));
  }

  /** The next (at most) `n` entries of the listing. */
  async next(n: number): Promise<Listed[]> {
    const out: Listed[] = [];
    while (out.length < n) {
      await this.#fill();
      let best: Source | undefined;
      for (const source of this.#sources) {
        if (source.buffer.length && (!best || listsBefore(source.buffer[0]!, best.buffer[0]!))) best = source;
      }
      if (!best) break;
      out.push(best.buffer.shift()!);
    }
    return out;
  }

  /** Reads a chunk for every function whose buffer ran out, until each has entries or has none left. */
  async #fill(): Promise<void> {
    const { max, min, after, chunk } = this.#window;
    for (;;) {
      const empty = this.#sources.filter((s) => s.buffer.length === 0 && !s.done);
      if (empty.length === 0) return;
      const replies = await this.#link.run(empty.map((s) => ({
        command: 'zrevrangebyscore', args: [s.key, max, min, 'WITHSCORES', 'LIMIT', s.offset, chunk],
      })));
      empty.forEach((source, i) => {
        const flat = replies[i] as string[];
        source.offset += flat.length / 2;
        source.done = flat.length < 2 * chunk;
        for (let j = 0; j + 1 < flat.length; j += 2) {
          const entry = { fn: source.fn, requestId: flat[j]!, createdAt: Number(flat[j + 1]) };
          // The score bound keeps the cursor's millisecond: within it, only what lists after it.
          if (!after || listsBefore(after, entry)) source.buffer.push(entry);
        }
      });
    }
  }
}
