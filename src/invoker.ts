/** createInvoker: wires the store, the registry, the worker, events and metrics together. */
import { EventEmitter } from 'eventemitter3';
import { newRequestId } from './ids.js';
import { Attempt } from './engine/attempt.js';
import { systemClock, type Clock, type TimerHandle } from './clock.js';
import {
  LIMITS,
  activityQuerySchema,
  closeOptionsSchema,
  functionNameSchema,
  invocationIdSchema,
  logsQuerySchema,
  invokeAsyncOptionsSchema,
  invokerOptionsSchema,
  listOptionsSchema,
  parseOptions,
  requestIdSchema,
} from './config.js';
import { Deadlines } from './engine/deadlines.js';
import {
  FunctionTimeoutError,
  IdempotencyConflictError,
  InvalidArgumentError,
  InvocationNotFinalError,
  InvocationNotFoundError,
  InvokerClosedError,
  UnknownFunctionError,
} from './errors.js';
import type { InvokerEvents } from './events.js';
import { assertJsonValue, canonicalJson } from './json.js';
import type { Lifecycle } from './engine/lifecycle.js';
import { MetricsRegistry, queueSnapshot, type FunctionStanding, type MetricsSnapshot, type QueueMetricsSnapshot } from './metrics.js';
import { Reporter } from './reporter.js';
import type { FunctionOptions, GetInvocationLogsOptions, Handler, InvokeAsyncOptions, InvokerOptions, ListInvocationsOptions } from './options.js';
import { describeFunction, type FunctionInfo } from './function-info.js';
import { openCursor, sealCursor } from './list-cursor.js';
import { logPage, type InvocationLogPage } from './invocation-logs.js';
import { assertNoDestinationCycle, compileFunction, type RegisteredFunction } from './registry.js';
import { Batcher } from './engine/batcher.js';
import type { ActivityEntry, EnqueueResult, NewInvocation, Store, StoredInvocation } from './stores/contract.js';
import { emptyActivity, MINUTE_MS } from './stores/activity.js';
import { isFinalStatus, type InvocationRecord, type InvocationStatus, type JsonValue } from './types.js';
import { Worker } from './engine/worker.js';
import { logLine } from './engine/log-writer.js';
import type { ZodType, input as zInput, output as zOutput } from 'zod';
import { assertPayload, parseStoredPayload } from './schemas.js';
import type { FunctionMap, FunctionMapOf, FunctionName, IsUntyped, JsonSafe, PayloadOf, ResultOf, TypeCheckFailed } from './typing.js';
import { ConflictingLimitsWatch, PresenceAnnouncer, UnservedWatch } from './engine/presence.js';
import { createTelemetry, NO_TELEMETRY, observeCounters, type Telemetry } from './telemetry/telemetry.js';

export interface InvocationPage {
  readonly items: InvocationRecord[];
  /** Pass as `cursor` for the next page; absent on the last page. */
  readonly nextCursor?: string;
}

export interface StopInvocationResult {
  readonly requestId: string;
  /** `Stopped`, `Stopping` (its worker is aborting it), or the final status it already had. */
  readonly status: InvocationStatus;
}

/** One invocation of `invokeAsyncMany`: a function, its payload and invokeAsync's options. */
export type InvokeAsyncItem<F extends FunctionMapOf<F> = FunctionMap> = {
  [N in FunctionName<F>]: { readonly name: N; readonly payload: PayloadOf<F, N>; readonly options?: InvokeAsyncOptions };
}[FunctionName<F>];

/** One item's outcome in `invokeAsyncMany`: accepted (or a duplicate of an earlier call), or why not. */
export type InvokeAsyncManyResult = { readonly ok: true; readonly requestId: string } | { readonly ok: false; readonly error: Error };

/** An accepted invocation about to be stored, and its telemetry span. */
interface Prepared {
  readonly item: NewInvocation;
  readonly send: ReturnType<Telemetry['send']>;
}

/** An item of invokeAsyncMany that passed invokeAsync's checks, and its place in the call. */
interface Accepted {
  readonly index: number;
  readonly prepared: Prepared;
}

/** Invocations per store call in invokeAsyncMany. */
const MANY_PER_STORE_CALL = 1000;
/** invokeAsyncMany's store calls under way at once (two: the next is prepared while one is written). */
const MANY_IN_FLIGHT = 2;

export interface CloseOptions {
  /** Interrupt handlers still running after this long (their attempt is retried elsewhere). @default wait for them */
  readonly timeoutSeconds?: number;
}

/** The payload argument of invokeAsync/invoke: checked JSON-safe for an untyped invoker, the declared type for a typed one. */
type PayloadArg<F, N extends string, P> = IsUntyped<F> extends true ? P & JsonSafe<P> : PayloadOf<F, N>;

/** An unannotated handler's payload: the schema's output, else JsonValue (untyped) or the declared type. */
type DefaultPayload<F, N extends string, S> = S extends ZodType ? zOutput<S> : IsUntyped<F> extends true ? JsonValue : PayloadOf<F, N>;

/**
 * The rest of `register`'s arguments: the options, when the handler's types pass the checks; an
 * argument nobody can pass, named after what failed, when they do not (so the compile error
 * says why: the payload or result type is not JSON-safe, or differs from the declared one).
 * With a schema, callers send its input type and the handler gets its output type.
 */
type RegisterRest<Declared, S, P, R> = [P] extends [JsonSafe<P>]
  ? [Declared] extends [S extends ZodType ? zInput<S> : P]
    ? [R] extends [JsonSafe<R>]
      ? [config?: FunctionOptions & { readonly payload?: S }]
      : [result_type_is_not_JSON_safe: TypeCheckFailed<R>]
    : [payload_type_differs_from_the_declared_one: TypeCheckFailed<P>]
  : [payload_type_is_not_JSON_safe: TypeCheckFailed<P>];

/**
 * An invoker. `F` (optional) maps function names to their payload and result types, so that
 * `register`, `invokeAsync` and `invoke` are checked at compile time:
 *
 *   interface Functions { transcode: { payload: { url: string }; result: { seconds: number } } }
 *   const invoker = createInvoker<Functions>({ store });
 *   await invoker.invokeAsync('transcode', { url });   // a typo or a wrong payload does not compile
 */
export interface Invoker<F extends FunctionMapOf<F> = FunctionMap> extends EventEmitter<InvokerEvents> {
  /**
   * Registers `handler` as function `name`. Its payload type comes from a `payload` schema, the
   * declared type (typed invoker), or the handler's annotation (any JSON-safe type, interfaces too).
   */
  register<
    N extends FunctionName<F>,
    S extends ZodType | undefined = undefined,
    P = DefaultPayload<F, N, S>,
    R extends ResultOf<F, N> | void = ResultOf<F, N> | void,
  >(name: N, handler: Handler<P, R>, ...config: RegisterRest<IsUntyped<F> extends true ? never : PayloadOf<F, N>, S, P, R>): void;
  /** Persists an invocation and resolves with its request id once the store has it. */
  invokeAsync<N extends FunctionName<F>, P = PayloadOf<F, N>>(
    name: N,
    payload: PayloadArg<F, N, P>,
    options?: InvokeAsyncOptions,
  ): Promise<{ requestId: string }>;
  /**
   * Many invocations in one store call (one transaction or script; a call with more than 1,000
   * items makes one store call per 1,000), each with invokeAsync's validation, options and
   * idempotency. Resolves with each item's outcome in input order: its request id, or the error
   * invokeAsync would have thrown for it (the other items are stored all the same). Rejects with
   * InvalidArgumentError, storing nothing, when `items` is not an array of at most 10,000; with
   * the store's error when a store call fails (that call's items and later ones are not stored).
   */
  invokeAsyncMany(items: readonly InvokeAsyncItem<F>[]): Promise<InvokeAsyncManyResult[]>;
  /** Runs the handler now and returns its result (the same handler; no store, no retries). */
  invoke<N extends FunctionName<F>, P = PayloadOf<F, N>>(name: N, payload: PayloadArg<F, N, P>): Promise<ResultOf<F, N>>;
  getInvocation(requestId: string): Promise<InvocationRecord | undefined>;
  /** The invocation of `functionName` whose invocationId (the execution's name) is `invocationId`. */
  findInvocation(functionName: string, invocationId: string): Promise<InvocationRecord | undefined>;
  listInvocations(options?: ListInvocationsOptions): Promise<InvocationPage>;
  /** Execution log lines after a cursor, oldest first; `InvocationNotFoundError` when there is no such invocation. */
  getInvocationLogs(requestId: string, options?: GetInvocationLogsOptions): Promise<InvocationLogPage>;
  stopInvocation(requestId: string): Promise<StopInvocationResult>;
  /** Runs a finished invocation's payload again under a new requestId (its record carries `rerunOf`). */
  rerunInvocation(requestId: string): Promise<{ requestId: string }>;
  /** The registered functions with their effective configuration. */
  functions(): FunctionInfo[];
  /**
   * Per function and minute: invocations finished by status and histograms of queue wait and
   * run time, from every worker sharing the store (written every 10 s). Default: the last hour.
   */
  activity(query?: { since?: number; until?: number; functionName?: string }): Promise<ActivityEntry[]>;
  /** Counters per function and in total, Function Compute's names. */
  metrics(): MetricsSnapshot;
  /** Queue depth, running count and oldest pending age, read from the store now. */
  queueMetrics(): Promise<QueueMetricsSnapshot>;
  /** Resolves once this invoker has nothing running, nothing due that it could take, and nothing unwritten. */
  idle(): Promise<void>;
  close(options?: CloseOptions): Promise<void>;
  readonly store: Store;
  readonly clock: Clock;
}

/** Each invoker's reporter, for the library's own edges (HTTP adapters) that report failures. */
const reporters = new WeakMap<object, Reporter>();

/**
 * Reports a failure outside any handler (an HTTP adapter's, say) the way the invoker reports its
 * own: counted in `metrics().errors` and emitted on `error`. Internal: not exported by the package.
 */
export function reportInvokerError(invoker: object, error: unknown, during: string): void {
  reporters.get(invoker)?.reportError(error, during);
}

/** Invokers open per store: the last one to close closes the store (a producer and a worker may share one). */
const storeUsers = new WeakMap<Store, number>();

const NO_OPTIONS: { delaySeconds?: number; invocationId?: string } = Object.freeze({});
/** How often every invoker reads its queue figures in the background. */
const WATCHDOG_MS = 30_000;

class AsyncInvoker extends EventEmitter<InvokerEvents> {
  readonly store: Store;
  readonly clock: Clock;
  readonly #functions = new Map<string, RegisteredFunction>();
  readonly #metrics = new MetricsRegistry();
  readonly #reporter: Reporter;
  readonly #enqueuer: Batcher<NewInvocation, EnqueueResult>;
  readonly #worker: Worker | undefined;
  readonly #syncDeadlines: Deadlines;
  readonly #presence: PresenceAnnouncer | undefined;
  readonly #unserved: UnservedWatch;
  readonly #conflicts: ConflictingLimitsWatch;
  /** What queue metrics add to the store's counts: served by a worker, limits, held back here. */
  readonly #standing: FunctionStanding = {
    served: (name) => this.#unserved.served(name),
    limits: (name) => this.#functions.get(name)?.limits,
    heldBackBy: (name) => this.#worker?.heldBackBy(name),
  };
  /** Reads the queue (and warns about unserved functions) now and then, also in producers. */
  #watchdog: TimerHandle | undefined;
  readonly #offStoreErrors: () => void;
  readonly #telemetry: Telemetry;
  readonly #maxPayloadBytes: number;
  readonly #unobserve: () => void;
  #closed = false;
  /** The latest queue reading of a store that answers asynchronously, for metrics(). */
  #lastQueue: QueueMetricsSnapshot | undefined;
  #readingQueue = false;
  /** A referenced handle that keeps a worker process alive until close(). */
  #keepAlive: NodeJS.Timeout | undefined;

  constructor(options: InvokerOptions) {
    super();
    const o = parseOptions(invokerOptionsSchema, options, 'options');
    this.store = options.store;
    this.clock = options.clock ?? systemClock;
    this.#reporter = new Reporter(this, this.#metrics, this.clock);
    this.#telemetry = createTelemetry(o.tracing !== false);
    this.#maxPayloadBytes = o.maxPayloadBytes;
    this.#unobserve = this.#telemetry === NO_TELEMETRY ? () => {} : observeCounters(this.#metrics);
    const reporter = this.#reporter;
    reporters.set(this, reporter);
    // What the worker reports to: counters and events, plus invoking destination functions.
    const lifecycle: Lifecycle = {
      maxHops: o.maxDestinationHops,
      started: reporter.started.bind(reporter),
      settled: reporter.settled.bind(reporter),
      delivered: reporter.delivered.bind(reporter),
      reportError: reporter.reportError.bind(reporter),
      logged: reporter.logged.bind(reporter),
      heldBack: reporter.heldBack.bind(reporter),
      enqueueForDestination: (name, payload, source) => this.#enqueueForDestination(name, payload, source),
    };
    this.#enqueuer = new Batcher((items) => this.store.enqueue(items));
    this.#syncDeadlines = new Deadlines(this.clock);
    this.#offStoreErrors = this.store.onError((error, during) => reporter.reportError(error, `store:${during}`));
    this.#unserved = new UnservedWatch(this.store, (event) => reporter.warn(event));
    this.#conflicts = new ConflictingLimitsWatch(this.store, () => this.#functions.values(), () => this.#presence?.workerId, (event) => reporter.warn(event));
    storeUsers.set(this.store, (storeUsers.get(this.store) ?? 0) + 1);
    this.#armWatchdog();
    if (o.concurrency > 0) {
      this.#presence = new PresenceAnnouncer(this.store, this.clock, () => this.#functions.values(), o.concurrency, lifecycle.reportError);
      this.#presence.announce();
      this.#worker = new Worker({
        store: this.store,
        clock: this.clock,
        functions: this.#functions,
        concurrency: o.concurrency,
        leaseMs: Math.round(o.leaseSeconds * 1000),
        claimBatchSize: o.claimBatchSize ?? o.concurrency,
        lifecycle,
        telemetry: this.#telemetry,
      });
      this.#worker.start();
    }
    if (o.keepAlive ?? o.concurrency > 0) this.#keepAlive = setInterval(() => {}, 1 << 30);
  }

  register(name: string, handler: Handler<unknown, unknown>, config?: FunctionOptions): void {
    this.#assertOpen('register');
    parseOptions(functionNameSchema, name, 'name');
    if (typeof handler !== 'function') throw new InvalidArgumentError('handler', handler, 'a function (payload, ctx) => result');
    if (this.#functions.has(name)) throw new InvalidArgumentError('name', name, 'a function name not registered yet');
    const fn = compileFunction(name, handler, config, { maxPayloadBytes: this.#maxPayloadBytes });
    assertNoDestinationCycle(fn, this.#functions);
    this.#functions.set(name, fn);
    this.#metrics.for(name);
    this.#presence?.announce();
    this.#worker?.poke();
  }

  invokeAsync(name: string, payload: unknown, options?: InvokeAsyncOptions): Promise<{ requestId: string }> {
    try {
      return this.#invokeAsync(name, payload, options);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Validates synchronously, then returns the store's promise (one promise per call, not three). */
  #invokeAsync(name: string, payload: unknown, options: InvokeAsyncOptions | undefined): Promise<{ requestId: string }> {
    this.#assertOpen('invokeAsync');
    const { item, send } = this.#accept(name, payload, options);
    return this.#enqueue({ item, send });
  }

  /** invokeAsync's checks, then the invocation to store (throws what invokeAsync throws). */
  #accept(name: string, payload: unknown, options: InvokeAsyncOptions | undefined): Prepared {
    const fn = this.#function(name);
    const value = checkedPayload(payload, fn.maxPayloadBytes);
    assertPayload(fn, value);
    const opts = options === undefined ? NO_OPTIONS : parseOptions(invokeAsyncOptionsSchema, options, 'options');
    const delayMs = (opts.delaySeconds ?? 0) * 1000;
    if (delayMs > fn.maxEventAgeMs) {
      throw new InvalidArgumentError(
        'options.delaySeconds',
        opts.delaySeconds,
        `at most the function's maxAsyncEventAgeInSeconds (${fn.config.maxAsyncEventAgeInSeconds}), or it would always expire`,
      );
    }
    return this.#prepare(name, value, delayMs, opts.invocationId, 0);
  }

  async invokeAsyncMany(items: readonly { name: string; payload: unknown; options?: InvokeAsyncOptions }[]): Promise<InvokeAsyncManyResult[]> {
    this.#assertOpen('invokeAsyncMany');
    if (!Array.isArray(items) || items.length > LIMITS.invokeAsyncManyItems) {
      throw new InvalidArgumentError('items', items, `an array of at most ${LIMITS.invokeAsyncManyItems} { name, payload, options? }`);
    }
    const results: InvokeAsyncManyResult[] = new Array<InvokeAsyncManyResult>(items.length);
    // Store calls overlap, MANY_IN_FLIGHT at a time: the next chunk is checked and sent while the
    // store (on Redis and PostgreSQL, its server) writes the one before.
    const inFlight: Promise<void>[] = [];
    let failure: { readonly error: unknown } | undefined;
    let chunk: Accepted[] = [];
    for (let index = 0; index < items.length && !failure; index++) {
      const prepared = this.#acceptItem(items[index], index, results);
      if (prepared) chunk.push({ index, prepared });
      if (chunk.length < MANY_PER_STORE_CALL && index < items.length - 1) continue;
      if (chunk.length === 0) break;
      inFlight.push(this.#storeMany(chunk, results).catch((error: unknown) => void (failure ??= { error })));
      chunk = [];
      if (inFlight.length === MANY_IN_FLIGHT) await inFlight.shift();
    }
    await Promise.all(inFlight);
    if (failure) {
      for (const { prepared } of chunk) prepared.send?.end({ error: failure.error });
      throw failure.error;
    }
    return results;
  }

  /** One item of invokeAsyncMany checked as invokeAsync checks it, or its error in `results`. */
  #acceptItem(entry: unknown, index: number, results: InvokeAsyncManyResult[]): Prepared | undefined {
    try {
      if (typeof entry !== 'object' || entry === null) throw new InvalidArgumentError(`items[${index}]`, entry, 'an object { name, payload, options? }');
      const { name, payload, options } = entry as { name: unknown; payload: unknown; options?: InvokeAsyncOptions };
      return this.#accept(parseOptions(functionNameSchema, name, `items[${index}].name`), payload, options);
    } catch (error) {
      results[index] = { ok: false, error: error as Error };
      return undefined;
    }
  }

  /** One store call of invokeAsyncMany; its items' results go into `results`. */
  async #storeMany(chunk: readonly Accepted[], results: InvokeAsyncManyResult[]): Promise<void> {
    for (const { prepared } of chunk) this.#announce(prepared.item);
    let stored: EnqueueResult[];
    try {
      stored = await this.store.enqueue(chunk.map((a) => a.prepared.item));
    } catch (error) {
      for (const { prepared } of chunk) {
        this.#reporter.enqueued(prepared.item.requestId, false);
        prepared.send?.end({ error });
      }
      throw error;
    }
    chunk.forEach(({ index, prepared }, i) => {
      const result = stored[i]!;
      prepared.send?.end(result);
      try {
        results[index] = { ok: true, ...this.#enqueued(prepared.item, result) };
      } catch (error) {
        results[index] = { ok: false, error: error as Error };
      }
    });
  }

  /** The invocation to store, with its send span (telemetry) if one was started. */
  #prepare(
    functionName: string,
    payload: JsonValue,
    delayMs: number,
    invocationId: string | undefined,
    hops: number,
    origin?: { readonly detail: string; readonly rerunOf?: string },
  ): Prepared {
    const now = this.clock.now();
    const groupKey = this.#groupKey(functionName, payload);
    const requestId = newRequestId();
    const send = this.#telemetry.send(functionName, requestId, invocationId);
    // Every field present (undefined when unset): one object shape on the hot path.
    const item: NewInvocation = {
      requestId,
      functionName,
      payload,
      createdAt: now,
      scheduledAt: now + delayMs,
      invocationId,
      payloadKey: invocationId === undefined ? undefined : canonicalJson(payload),
      hops,
      detail: origin?.detail,
      rerunOf: origin?.rerunOf,
      traceContext: send?.traceContext,
      groupKey,
    };
    return { item, send };
  }

  /** Tells listeners an invocation is being stored (before the store answers: events stay in order). */
  #announce(item: NewInvocation): void {
    this.#reporter.enqueuing({ requestId: item.requestId, functionName: item.functionName, at: item.createdAt, attempt: 0, scheduledAt: item.scheduledAt });
  }

  #enqueue({ item, send }: Prepared): Promise<{ requestId: string }> {
    this.#announce(item);
    const immediate = this.store.immediate;
    if (immediate) {
      let result: EnqueueResult;
      try {
        result = immediate.enqueue([item])[0]!;
      } catch (error) {
        send?.end({ error });
        throw error;
      }
      send?.end(result);
      return Promise.resolve(this.#enqueued(item, result));
    }
    return this.#enqueuer.add(item).then(
      (result) => {
        send?.end(result);
        return this.#enqueued(item, result);
      },
      (error: unknown) => {
        send?.end({ error });
        this.#reporter.enqueued(item.requestId, false);
        throw error;
      },
    );
  }

  #enqueued(item: NewInvocation, result: EnqueueResult): { requestId: string } {
    const { functionName, invocationId } = item;
    if (result.outcome === 'created') this.#metrics.for(functionName).FunctionEnqueueCount++;
    this.#reporter.enqueued(item.requestId, result.outcome === 'created');
    if (result.outcome === 'conflict') throw new IdempotencyConflictError(functionName, invocationId!, result.requestId);
    return { requestId: result.requestId };
  }

  async invoke(name: string, payload: unknown): Promise<JsonValue> {
    this.#assertOpen('invoke');
    const fn = this.#function(name);
    const value = checkedPayload(payload, fn.maxPayloadBytes);
    assertPayload(fn, value);
    const parsed = parseStoredPayload(fn, value);
    const counters = this.#metrics.for(name);
    counters.FunctionInvocationCount++;
    const result = await new Promise<JsonValue>((resolve, reject) => {
      let cancel: (() => void) | undefined;
      const attempt = new Attempt(newRequestId(), fn.name, 1, {
        attemptDecided: (_a, outcome) => {
          cancel?.();
          if (outcome.type === 'result') resolve(outcome.value);
          else reject(outcome.error);
        },
        handlerReturned: () => {},
        // A synchronous call has no stored record: its lines only reach `log` listeners.
        attemptLogged: (a, level, message, data) => {
          this.#reporter.logged(a.requestId, name, logLine(this.clock.now(), a.attempt, level, message, data, fn.config.logs));
        },
      });
      if (fn.timeoutMs !== undefined) {
        cancel = this.#syncDeadlines.add(this.clock.now() + fn.timeoutMs, () =>
          attempt.interrupt('timeout', new FunctionTimeoutError(name, fn.config.timeoutSeconds!)),
        );
      }
      attempt.run(fn, parsed.ok ? parsed.value : value);
    }).then(
      (v) => {
        counters.FunctionSucceededCount++;
        return v;
      },
      (error: unknown) => {
        counters.FunctionFailedCount++;
        throw error;
      },
    );
    return result;
  }

  async getInvocation(requestId: string): Promise<InvocationRecord | undefined> {
    parseOptions(requestIdSchema, requestId, 'requestId');
    const stored = await this.store.get(requestId);
    return stored ? this.#public(stored) : undefined;
  }

  async listInvocations(options: ListInvocationsOptions = {}): Promise<InvocationPage> {
    const o = parseOptions(listOptionsSchema, options, 'options');
    const statuses = o.status === undefined ? undefined : Array.isArray(o.status) ? o.status : [o.status];
    const filters = {
      ...(o.functionName !== undefined ? { functionName: o.functionName } : {}),
      ...(o.invocationIdPrefix !== undefined ? { invocationIdPrefix: o.invocationIdPrefix } : {}),
      ...(statuses ? { statuses } : {}),
      ...(o.since !== undefined ? { since: o.since } : {}),
      ...(o.until !== undefined ? { until: o.until } : {}),
    };
    const cursor = o.cursor === undefined ? undefined : openCursor(o.cursor, filters);
    const page = await this.store.list({ limit: o.limit, ...filters, ...(cursor !== undefined ? { cursor } : {}) });
    return { items: page.items.map((r) => this.#public(r)), ...(page.nextCursor ? { nextCursor: sealCursor(page.nextCursor, filters) } : {}) };
  }

  async stopInvocation(requestId: string): Promise<StopInvocationResult> {
    this.#assertOpen('stopInvocation');
    parseOptions(requestIdSchema, requestId, 'requestId');
    const current = await this.store.get(requestId);
    if (!current) throw new InvocationNotFoundError(requestId);
    const fn = this.#functions.get(current.functionName);
    const now = this.clock.now();
    const result = await this.store.requestStop({ requestId, now, deliverOnFailure: fn ? fn.onFailure !== undefined : true });
    if (result.outcome === 'notFound') throw new InvocationNotFoundError(requestId);
    if (result.outcome === 'stopped') {
      this.#reporter.stoppedDirectly(requestId, current.functionName, now, result.record?.attempts ?? 0);
      // No worker saw it end: count it in the activity here (a rare, small write).
      const stopped = emptyActivity(current.functionName, now - (now % MINUTE_MS));
      stopped.finished.Stopped = 1;
      this.store.recordActivity([stopped]).catch((error: unknown) => this.#reporter.reportError(error, 'activity'));
      return { requestId, status: 'Stopped' };
    }
    if (result.outcome === 'stopping') return { requestId, status: 'Stopping' };
    return { requestId, status: result.record?.status ?? current.status };
  }

  async rerunInvocation(requestId: string): Promise<{ requestId: string }> {
    this.#assertOpen('rerunInvocation');
    parseOptions(requestIdSchema, requestId, 'requestId');
    const original = await this.store.get(requestId);
    if (!original) throw new InvocationNotFoundError(requestId);
    if (!isFinalStatus(original.status)) throw new InvocationNotFinalError(requestId, original.status, 'rerunInvocation');
    // Same function and payload, a new request id; the invocationId is not reused (it names the original).
    return this.#enqueue(this.#prepare(original.functionName, original.payload, 0, undefined, 0, { detail: `rerun of ${requestId}`, rerunOf: requestId }));
  }

  async findInvocation(functionName: string, invocationId: string): Promise<InvocationRecord | undefined> {
    parseOptions(functionNameSchema, functionName, 'functionName');
    parseOptions(invocationIdSchema, invocationId, 'invocationId');
    const stored = await this.store.findByInvocationId(functionName, invocationId);
    return stored ? this.#public(stored) : undefined;
  }

  async getInvocationLogs(requestId: string, options: GetInvocationLogsOptions = {}): Promise<InvocationLogPage> {
    parseOptions(requestIdSchema, requestId, 'requestId');
    const o = parseOptions(logsQuerySchema, options, 'options');
    const page = await this.store.readLogs(requestId, o.after, o.limit);
    if (!page) throw new InvocationNotFoundError(requestId);
    return logPage(page, o.after);
  }

  functions(): FunctionInfo[] {
    return [...this.#functions.values()].map(describeFunction);
  }

  async activity(query: { since?: number; until?: number; functionName?: string } = {}): Promise<ActivityEntry[]> {
    const o = parseOptions(activityQuerySchema, query, 'query');
    const until = o.until ?? this.clock.now() + MINUTE_MS;
    return this.store.activity({ since: o.since ?? until - 61 * MINUTE_MS, until, ...(o.functionName === undefined ? {} : { functionName: o.functionName }) });
  }

  metrics(): MetricsSnapshot {
    const immediate = this.store.immediate;
    if (immediate && !this.#closed) {
      try {
        const queue = queueSnapshot(immediate.stats(), this.#functions.keys(), this.clock.now(), this.#standing);
        this.#lastQueue = queue;
        return { ...this.#metrics.snapshot(), queue };
      } catch (error) {
        // A store closed under us: the counters still answer; the queue is the last reading.
        this.#reporter.reportError(error, 'stats');
        return { ...this.#metrics.snapshot(), queue: this.#lastQueue };
      }
    }
    const last = this.#lastQueue;
    if (!this.#closed && !this.#readingQueue && (!last || this.clock.now() - last.at >= 1000)) {
      this.#readingQueue = true;
      this.queueMetrics().then(
        () => (this.#readingQueue = false),
        (error: unknown) => {
          this.#readingQueue = false;
          this.#reporter.reportError(error, 'stats');
        },
      );
    }
    return { ...this.#metrics.snapshot(), queue: last };
  }

  async queueMetrics(): Promise<QueueMetricsSnapshot> {
    const now = this.clock.now();
    const [stats, workers] = await Promise.all([this.store.stats(), this.store.workers(now)]);
    this.#unserved.update(workers);
    this.#conflicts.check(workers);
    const snapshot = queueSnapshot(stats, this.#functions.keys(), now, this.#standing);
    this.#unserved.check(snapshot);
    this.#lastQueue = snapshot;
    return snapshot;
  }

  /** A background queue reading every WATCHDOG_MS: keeps metrics() fresh and finds unserved functions. */
  #armWatchdog(): void {
    this.#watchdog = this.clock.setTimeout(() => {
      if (this.#closed) return;
      this.#armWatchdog();
      this.queueMetrics().catch((error: unknown) => this.#reporter.reportError(error, 'stats'));
    }, WATCHDOG_MS);
  }

  async idle(): Promise<void> {
    // Test and shutdown helper: turns of the event loop until two in a row find nothing to do.
    let quiet = 0;
    while (quiet < 2) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      quiet = this.#enqueuer.pending === 0 && (this.#worker?.idle ?? true) ? quiet + 1 : 0;
    }
  }

  async close(options: CloseOptions = {}): Promise<void> {
    // Checked first: a misspelled option must not close the invoker with other settings.
    const { timeoutSeconds } = parseOptions(closeOptionsSchema, options, 'options');
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#keepAlive);
    if (this.#watchdog !== undefined) this.clock.clearTimeout(this.#watchdog);
    const graceMs = timeoutSeconds === undefined ? undefined : timeoutSeconds * 1000;
    while (this.#enqueuer.pending) await new Promise<void>((resolve) => setImmediate(resolve));
    await this.#worker?.close(graceMs);
    await this.#presence?.withdraw();
    this.#unobserve();
    this.#syncDeadlines.stop();
    this.#offStoreErrors();
    const users = (storeUsers.get(this.store) ?? 1) - 1;
    storeUsers.set(this.store, users);
    if (users <= 0) await this.store.close();
    this.removeAllListeners();
  }

  async #enqueueForDestination(functionName: string, payload: JsonValue, source: StoredInvocation): Promise<void> {
    try {
      await this.#enqueue(
        this.#prepare(functionName, payload, 0, `dst_${source.requestId}`, source.hops + 1, {
          detail: `destination of ${source.functionName} ${source.requestId}`,
        }),
      );
    } catch (error) {
      // A redelivery after a crash finds the first one: that is success, not a conflict.
      if (!(error instanceof IdempotencyConflictError)) throw error;
    }
  }

  /** The fairness group of a payload (limits.groupBy), checked: a string of 1 to 256 characters. */
  #groupKey(functionName: string, payload: JsonValue): string | undefined {
    const groupBy = this.#functions.get(functionName)?.groupBy;
    if (!groupBy) return undefined;
    let key: unknown;
    try {
      key = groupBy(payload);
    } catch (error) {
      throw new InvalidArgumentError('payload', payload, `a payload limits.groupBy accepts (it threw: ${(error as Error)?.message ?? String(error)})`);
    }
    if (typeof key !== 'string' || key.length === 0 || key.length > LIMITS.groupKeyLength || !key.isWellFormed() || key.includes('\u0000')) {
      throw new InvalidArgumentError('payload', payload, `a payload whose limits.groupBy is a string of 1 to ${LIMITS.groupKeyLength} characters (it gave ${JSON.stringify(key)})`);
    }
    return key;
  }

  #public(stored: StoredInvocation): InvocationRecord {
    return publicRecord(stored, this.#functions.get(stored.functionName));
  }

  #function(name: string): RegisteredFunction {
    const fn = this.#functions.get(name);
    if (!fn) throw new UnknownFunctionError(String(name), [...this.#functions.keys()]);
    return fn;
  }

  #assertOpen(operation: string): void {
    if (this.#closed) throw new InvokerClosedError(operation);
  }
}

/** A payload as stored: `undefined` becomes `null`; anything that is not JSON is refused. */
function checkedPayload(payload: unknown, maxBytes: number): JsonValue {
  const value = payload === undefined ? null : payload;
  assertJsonValue(value, 'payload', maxBytes);
  return value;
}

/** The task record without the fields only the runtime needs. */
/** The task record without the fields only the runtime needs, its payload redacted as the function says. */
function publicRecord(stored: StoredInvocation, fn: RegisteredFunction | undefined): InvocationRecord {
  const {
    dueAt: _d, leaseToken: _l, throttles: _t, lostAttempts: _la, interruptedAttempts: _ia, hops: _h, delivery: _dl, traceContext: _tc,
    ...record
  } = stored;
  return fn?.redactor ? { ...record, payload: fn.redactor(record.payload, 'payload') } : record;
}

/**
 * Creates an invoker. See the README for every option. `F` (optional) types the functions:
 * `createInvoker<MyFunctions>({ store })`.
 */
export function createInvoker<F extends FunctionMapOf<F> = FunctionMap>(options: InvokerOptions): Invoker<F> {
  // The class implements the untyped surface; the type parameter only narrows what callers may pass.
  return new AsyncInvoker(options) as unknown as Invoker<F>;
}
