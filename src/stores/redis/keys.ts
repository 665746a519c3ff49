/**
 * Key names. Every key of one function shares the hash tag `{prefix:functionName}`, so the
 * scripts that change a function's records touch one Redis Cluster slot. The few global keys
 * (`{prefix}:...`) are only written by plain commands, never inside a script with the others.
 */
export class Keys {
  readonly #prefix: string;
  /** Hash requestId -> functionName: get/requestStop only know the requestId (one extra read). */
  readonly functionOf: string;
  /** Sorted set requestId -> createdAt over all functions, for listing without a function. */
  readonly created: string;
  /** Set of the function names that ever had an invocation (stats and prune walk it). */
  readonly functions: string;
  /** Hash workerId -> worker presence (presence.ts). */
  readonly workers: string;
  /** Pub/sub channel for `due` and `stop` signals. */
  readonly channel: string;

  constructor(prefix: string) {
    this.#prefix = prefix;
    this.functionOf = `{${prefix}}:fnof`;
    this.created = `{${prefix}}:created`;
    this.functions = `{${prefix}}:fns`;
    this.workers = `{${prefix}}:workers`;
    this.channel = `${prefix}:signals`;
  }

  /** The five index keys every script takes first (order as in scripts/lib.lua). */
  index(functionName: string): string[] {
    const tag = this.#tag(functionName);
    return [`${tag}:due`, `${tag}:pending`, `${tag}:running`, `${tag}:done`, `${tag}:created`];
  }

  record(functionName: string, requestId: string): string {
    return `${this.#tag(functionName)}:inv:${requestId}`;
  }

  /** The idempotency hash; with no invocationId, a placeholder no script writes. */
  idempotency(functionName: string, invocationId: string | undefined): string {
    return `${this.#tag(functionName)}:idem:${invocationId ?? ''}`;
  }

  #tag(functionName: string): string {
    return `{${this.#prefix}:${functionName}}`;
  }
}
