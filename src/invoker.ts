/** createInvoker: wires the store, the registry, the worker, events and metrics together. */
import { EventEmitter } from 'eventemitter3';
import { newRequestId } from './ids.js';
import { Attempt } from './engine/attempt.js';
import { systemClock, type Clock, type TimerHandle } from './clock.js';
import {
  functionNameSchema,
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
  InvocationNotFoundError,
  InvokerClosedError,
  UnknownFunctionError,
} from './errors.js';
import type { InvokerEvents } from './events.js';
import { assertJsonValue, canonicalJson } from './json.js';
import type { Lifecycle } from './engine/lifecycle.js';
import { MetricsRegistry, queueSnapshot, type MetricsSnapshot, type QueueMetricsSnapshot } from './metrics.js';
import { Reporter } from './reporter.js';
import type { FunctionOptions, Handler, InvokeAsyncOptions, InvokerOptions, ListInvocationsOptions } from './options.js';
import { assertNoDestinationCycle, compileFunction, type RegisteredFunction } from './registry.js';
import { Batcher } from './engine/batcher.js';
import type { EnqueueResult, NewInvocation, Store, StoredInvocation } from './stores/contract.js';
import type { InvocationRecord, InvocationStatus, JsonValue } from './types.js';
import { Worker } from './engine/worker.js';
import type { ZodType, input as zInput, output as zOutput } from 'zod';
import { assertPayload, parseStoredPayload } from './schemas.js';
import type { FunctionMap, FunctionMapOf, FunctionName, IsUntyped, JsonSafe, PayloadOf, ResultOf, TypeCheckFailed } from './typing.js';
import { PresenceAnnouncer, UnservedWatch } from './engine/presence.js';

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
  /** Runs the handler now and returns its result (the same handler; no store, no retries). */
  invoke<N extends FunctionName<F>, P = PayloadOf<F, N>>(name: N, payload: PayloadArg<F, N, P>): Promise<ResultOf<F, N>>;
  getInvocation(requestId: string): Promise<InvocationRecord | undefined>;
  listInvocations(options?: ListInvocationsOptions): Promise<InvocationPage>;
  stopInvocation(requestId: string): Promise<StopInvocationResult>;
  rerunInvocation(requestId: string): Promise<{ requestId: string }>;
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
  /** Reads the queue (and warns about unserved functions) now and then, also in producers. */
  #watchdog: TimerHandle | undefined;
  readonly #offStoreErrors: () => void;
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
    const reporter = this.#reporter;
    reporters.set(this, reporter);
    // What the worker reports to: counters and events, plus invoking destination functions.
    const lifecycle: Lifecycle = {
      maxHops: o.maxDestinationHops,
      started: reporter.started.bind(reporter),
      settled: reporter.settled.bind(reporter),
      delivered: reporter.delivered.bind(reporter),
      reportError: reporter.reportError.bind(reporter),
      enqueueForDestination: (name, payload, source) => this.#enqueueForDestination(name, payload, source),
    };
    this.#enqueuer = new Batcher((items) => this.store.enqueue(items));
    this.#syncDeadlines = new Deadlines(this.clock);
    this.#offStoreErrors = this.store.onError((error, during) => reporter.reportError(error, `store:${during}`));
    this.#unserved = new UnservedWatch(this.store, (event) => reporter.warn(event));
    storeUsers.set(this.store, (storeUsers.get(this.store) ?? 0) + 1);
    this.#armWatchdog();
    if (o.concurrency > 0) {
      this.#presence = new PresenceAnnouncer(this.store, this.clock, () => [...this.#functions.keys()], o.concurrency, lifecycle.reportError);
      this.#presence.announce();
      this.#worker = new Worker({
        store: this.store,
        clock: this.clock,
        functions: this.#functions,
        concurrency: o.concurrency,
        leaseMs: Math.round(o.leaseSeconds * 1000),
        claimBatchSize: o.claimBatchSize ?? o.concurrency,
        lifecycle,
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
    const fn = compileFunction(name, handler, config);
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
    const fn = this.#function(name);
    const value = checkedPayload(payload);
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
    return this.#enqueue(name, value, delayMs, opts.invocationId, 0);
  }

  #enqueue(
    functionName: string,
    payload: JsonValue,
    delayMs: number,
    invocationId: string | undefined,
    hops: number,
    detail?: string,
  ): Promise<{ requestId: string }> {
    const now = this.clock.now();
    const item: NewInvocation = {
      requestId: newRequestId(),
      functionName,
      payload,
      createdAt: now,
      scheduledAt: now + delayMs,
      invocationId,
      payloadKey: invocationId === undefined ? undefined : canonicalJson(payload),
      hops,
      detail,
    };
    this.#reporter.enqueuing({ requestId: item.requestId, functionName, at: now, attempt: 0, scheduledAt: item.scheduledAt });
    const immediate = this.store.immediate;
    if (immediate) return Promise.resolve(this.#enqueued(item, immediate.enqueue([item])[0]!));
    return this.#enqueuer.add(item).then(
      (result) => this.#enqueued(item, result),
      (error: unknown) => {
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
    const value = checkedPayload(payload);
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
    return stored ? toPublicRecord(stored) : undefined;
  }

  async listInvocations(options: ListInvocationsOptions = {}): Promise<InvocationPage> {
    const o = parseOptions(listOptionsSchema, options, 'options');
    const statuses = o.status === undefined ? undefined : Array.isArray(o.status) ? o.status : [o.status];
    const page = await this.store.list({
      limit: o.limit,
      ...(o.functionName !== undefined ? { functionName: o.functionName } : {}),
      ...(statuses ? { statuses } : {}),
      ...(o.since !== undefined ? { since: o.since } : {}),
      ...(o.until !== undefined ? { until: o.until } : {}),
      ...(o.cursor !== undefined ? { cursor: o.cursor } : {}),
    });
    return { items: page.items.map(toPublicRecord), ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}) };
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
    return this.#enqueue(original.functionName, original.payload, 0, undefined, 0, `rerun of ${requestId}`);
  }

  metrics(): MetricsSnapshot {
    const immediate = this.store.immediate;
    if (immediate && !this.#closed) {
      try {
        const queue = queueSnapshot(immediate.stats(), this.#functions.keys(), this.clock.now(), (name) => this.#unserved.served(name));
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
    const snapshot = queueSnapshot(stats, this.#functions.keys(), now, (name) => this.#unserved.served(name));
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
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#keepAlive);
    if (this.#watchdog !== undefined) this.clock.clearTimeout(this.#watchdog);
    const graceMs = options.timeoutSeconds === undefined ? undefined : options.timeoutSeconds * 1000;
    while (this.#enqueuer.pending) await new Promise<void>((resolve) => setImmediate(resolve));
    await this.#worker?.close(graceMs);
    await this.#presence?.withdraw();
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
        functionName,
        payload,
        0,
        `dst_${source.requestId}`,
        source.hops + 1,
        `destination of ${source.functionName} ${source.requestId}`,
      );
    } catch (error) {
      // A redelivery after a crash finds the first one: that is success, not a conflict.
      if (!(error instanceof IdempotencyConflictError)) throw error;
    }
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
function checkedPayload(payload: unknown): JsonValue {
  const value = payload === undefined ? null : payload;
  assertJsonValue(value, 'payload');
  return value;
}

/** The task record without the fields only the runtime needs. */
function toPublicRecord(stored: StoredInvocation): InvocationRecord {
  const { dueAt: _d, leaseToken: _l, throttles: _t, hops: _h, delivery: _dl, ...record } = stored;
  return record;
}

/**
 * Creates an invoker. See the README for every option. `F` (optional) types the functions:
 * `createInvoker<MyFunctions>({ store })`.
 */
export function createInvoker<F extends FunctionMapOf<F> = FunctionMap>(options: InvokerOptions): Invoker<F> {
  // The class implements the untyped surface; the type parameter only narrows what callers may pass.
  return new AsyncInvoker(options) as unknown as Invoker<F>;
}
