/**
 * Key names. Every key of one function shares the hash tag `{prefix:functionName}`, so the
 * scripts that change a function's records touch one Redis Cluster slot. The few global keys
 * (`{prefix}:...`) are only written by plain commands, never inside a script with the others.
 */
export class Keys {
  readonly #prefix: string;
  /**
   * Hash requestId -> functionName, and sorted set requestId -> createdAt over all functions:
   * written by versions before enqueues became one script call; retention still removes
   * what they hold, nothing reads them.
   */
  readonly functionOf: string;
  readonly created: string;
  /**
   * Set of the function names that ever had an invocation or activity counters: lookups by
   * requestId, listing across functions, stats and retention walk it.
   */
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

  /**
   * The eight index keys every script takes first (order as in scripts/lib.lua): the work
   * indexes, then the group indexes (written only for records with a group key).
   */
  index(functionName: string): string[] {
    const tag = this.#tag(functionName);
    return [`${tag}:due`, `${tag}:pending`, `${tag}:running`, `${tag}:done`, `${tag}:created`,
      `${tag}:gwork`, `${tag}:glease`, `${tag}:gof`];
  }

  /**
   * The keys a claim takes after the index keys, for flow control: the start times of the last
   * seconds (sorted set, score = start), the groups' round-robin places (hash group -> the
   * sequence number of its latest start) and `held`.
   */
  limits(functionName: string): string[] {
    const tag = this.#tag(functionName);
    return [`${tag}:starts`, `${tag}:rr`, this.held(functionName)];
  }

  /**
   * Set by a claim a running-count limit held back, taken by the next settle that frees a slot:
   * that settle publishes a wake-up only when it finds it (someone waits for the slot).
   */
  held(functionName: string): string {
    return `${this.#tag(functionName)}:held`;
  }

  record(functionName: string, requestId: string): string {
    return `${this.#tag(functionName)}:inv:${requestId}`;
  }

  /**
   * Sorted set of the function's invocationIds, all at score 0, as members
   * `invocationId \0 createdAt \0 requestId`: listing by invocationId prefix reads a lex range.
   */
  invocationIds(functionName: string): string {
    return `${this.#tag(functionName)}:iids`;
  }

  /**
   * Sorted set of an invocation's log lines, score = seq, member `seq:bytes:line JSON`; its
   * counters (logSeq, logDropped, logBytes) are fields of the record hash.
   */
  log(functionName: string, requestId: string): string {
    return `${this.#tag(functionName)}:log:${requestId}`;
  }

  /** Sorted set of the minutes (score and member) that have activity counters for the function. */
  activityMinutes(functionName: string): string {
    return `${this.#tag(functionName)}:actmin`;
  }

  /** Hash of the function's activity counters of one minute (scripts/activity.lua names the fields). */
  activity(functionName: string, minute: number): string {
    return `${this.#tag(functionName)}:act:${minute}`;
  }

  /** The idempotency hash; with no invocationId, a placeholder no script writes. */
  idempotency(functionName: string, invocationId: string | undefined): string {
    return `${this.#tag(functionName)}:idem:${invocationId ?? ''}`;
  }

  #tag(functionName: string): string {
    return `{${this.#prefix}:${functionName}}`;
  }
}
