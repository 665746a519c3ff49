/**
 * Finding an invocation from its requestId alone (get, stop, logs). Its record key is
 * `{prefix:function}:inv:<requestId>`, and an enqueue is one script call within the function's
 * hash tag that writes nothing global per invocation, so the lookup asks every function in the
 * `{prefix}:fns` registry in one round trip. The registry is cached here and read again when an
 * id is not found (a function new since), so a miss costs one more round trip.
 */
import { decodeRecord } from './codec.js';
import type { Keys } from './keys.js';
import type { Link } from './link.js';
import type { Step } from './scripts.js';
import type { StoredInvocation } from '../contract.js';

export class Locator {
  readonly #link: Link;
  readonly #keys: Keys;
  #functions: readonly string[] | undefined;

  constructor(link: Link, keys: Keys) {
    this.#link = link;
    this.#keys = keys;
  }

  /** Every function that ever had an invocation (or activity), read from the registry. */
  async functions(): Promise<string[]> {
    const [names] = await this.#link.run([{ command: 'smembers', args: [this.#keys.functions] }]);
    this.#functions = names as string[];
    return names as string[];
  }

  /** The function of each id; undefined where there is no such invocation. */
  async locate(ids: readonly string[]): Promise<(string | undefined)[]> {
    const found = new Array<string | undefined>(ids.length).fill(undefined);
    await this.#search(ids.length, async (names, left) => {
      const steps: Step[] = names.flatMap((fn) => left.map((i) => ({ command: 'exists', args: [this.#keys.record(fn, ids[i]!)] })));
      const replies = await this.#link.run(steps);
      names.forEach((fn, f) => left.forEach((i, j) => {
        if (found[i] === undefined && Number(replies[f * left.length + j]) === 1) found[i] = fn;
      }));
      return left.filter((i) => found[i] === undefined);
    });
    return found;
  }

  /** The invocation `requestId`, read from every function's record key at once. */
  async record(requestId: string): Promise<StoredInvocation | undefined> {
    let record: StoredInvocation | undefined;
    await this.#search(1, async (names) => {
      const replies = await this.#link.run(names.map((fn) => ({ command: 'hgetall', args: [this.#keys.record(fn, requestId)] })));
      names.forEach((fn, f) => {
        // ioredis turns an HGETALL reply into an object.
        record ??= decodeRecord(fn, new Map(Object.entries(replies[f] as Record<string, string>)));
      });
      return record ? [] : [0];
    });
    return record;
  }

  /**
   * Runs `ask` over the cached functions for the items 0..n-1, then over functions new in the
   * registry for the items still not found. `ask` returns the items it did not find.
   */
  async #search(n: number, ask: (names: readonly string[], left: readonly number[]) => Promise<number[]>): Promise<void> {
    let left = Array.from({ length: n }, (_, i) => i);
    const cached = this.#functions;
    const asked = new Set<string>();
    if (cached) {
      left = await ask(cached, left);
      for (const fn of cached) asked.add(fn);
      if (left.length === 0) return;
    }
    const fresh = (await this.functions()).filter((fn) => !asked.has(fn));
    if (fresh.length) await ask(fresh, left);
  }
}
