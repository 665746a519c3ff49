/**
 * One execution of a handler. The handler's own promise and an interruption (timeout, stop,
 * lost lease, shutdown) race; whichever comes first decides the outcome, once. The handler
 * receives a small context object, never the attempt and its bookkeeping.
 */
import type { InvocationContext, InvocationLogger } from '../options.js';
import type { LogLevel } from '../stores/contract.js';
import { withConsoleCapture } from './console-capture.js';
import type { SpanScope } from '../telemetry/telemetry.js';
import type { RegisteredFunction } from '../registry.js';
import { checkResult, checkReturned } from '../schemas.js';
import type { JsonValue } from '../types.js';

export type Interruption = 'timeout' | 'stop' | 'lost' | 'shutdown';

export type AttemptOutcome =
  | { readonly type: 'result'; readonly value: JsonValue }
  | { readonly type: 'error'; readonly error: unknown }
  | { readonly type: 'interrupted'; readonly interruption: Interruption; readonly error: Error };

/**
 * Told once of the outcome, once when the handler itself has returned (which may be later), and
 * of every line the handler logs.
 */
export interface AttemptListener {
  attemptDecided(attempt: Attempt, outcome: AttemptOutcome): void;
  handlerReturned(attempt: Attempt): void;
  attemptLogged(attempt: Attempt, level: LogLevel, message: unknown, data: unknown): void;
}

/** What a handler sees as `ctx`. */
class HandlerContext implements InvocationContext {
  readonly requestId: string;
  readonly functionName: string;
  readonly attempt: number;
  readonly #owner: Attempt;
  #log: InvocationLogger | undefined;

  constructor(owner: Attempt) {
    this.requestId = owner.requestId;
    this.functionName = owner.functionName;
    this.attempt = owner.attempt;
    this.#owner = owner;
  }

  get signal(): AbortSignal {
    return this.#owner.signal;
  }

  /** Made on first use: most handlers do not log, and a logger is three closures. */
  get log(): InvocationLogger {
    const owner = this.#owner;
    return (this.#log ??= {
      info: (message, data) => owner.log('info', message, data),
      warn: (message, data) => owner.log('warn', message, data),
      error: (message, data) => owner.log('error', message, data),
    });
  }
}

export class Attempt {
  readonly requestId: string;
  readonly functionName: string;
  readonly attempt: number;
  /** Whatever the listener needs to find its state again (avoids a closure per attempt). */
  readonly tag: unknown;
  #controller: AbortController | undefined;
  #abortReason: Error | undefined;
  #decided = false;
  readonly #listener: AttemptListener;

  constructor(requestId: string, functionName: string, attempt: number, listener: AttemptListener, tag?: unknown) {
    this.requestId = requestId;
    this.functionName = functionName;
    this.attempt = attempt;
    this.#listener = listener;
    this.tag = tag;
  }

  /** Created on first read: most handlers never look, and an AbortController is not free. */
  get signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController();
      if (this.#abortReason) this.#controller.abort(this.#abortReason);
    }
    return this.#controller.signal;
  }

  get decided(): boolean {
    return this.#decided;
  }

  /** Runs the handler. */
  /** A line of the execution log; never throws into the handler. */
  log(level: LogLevel, message: unknown, data: unknown): void {
    try {
      this.#listener.attemptLogged(this, level, message, data);
    } catch {
      // Logging must never break the handler.
    }
  }

  /** Runs the handler with `payload` (already parsed by the function's schema, if it has one). */
  run(fn: RegisteredFunction, payload: unknown, span?: SpanScope): void {
    let returned: unknown;
    try {
      const ctx = new HandlerContext(this);
      const call = fn.config.captureConsole
        ? () => withConsoleCapture((level, message) => this.log(level, message, undefined), () => fn.handler(payload, ctx))
        : () => fn.handler(payload, ctx);
      // Inside the attempt's span, so the handler's own spans, HTTP calls and queries nest under it.
      returned = span ? span.run(call) : call();
    } catch (error) {
      this.#decide({ type: 'error', error });
      this.#listener.handlerReturned(this);
      return;
    }
    if (returned !== null && typeof returned === 'object' && typeof (returned as PromiseLike<unknown>).then === 'function') {
      (returned as PromiseLike<unknown>).then(
        (value) => {
          this.#result(fn, value);
          this.#listener.handlerReturned(this);
        },
        (error: unknown) => {
          this.#decide({ type: 'error', error });
          this.#listener.handlerReturned(this);
        },
      );
      return;
    }
    this.#result(fn, returned);
    this.#listener.handlerReturned(this);
  }

  /**
   * A returned value: the result (`undefined` becomes `null`), unless it is not a JSON value every
   * store can hold, is over the payload limit, or the result schema rejects it: then the attempt
   * fails for good (`InvalidResult`: the same code would return the same thing).
   */
  #result(fn: RegisteredFunction, returned: unknown): void {
    let value = (returned ?? null) as JsonValue;
    try {
      checkReturned(value, fn.maxPayloadBytes);
      if (fn.resultSchema !== undefined) value = checkResult(fn, value);
    } catch (error) {
      this.#decide({ type: 'error', error });
      return;
    }
    // Outside the try: what deciding does (the settlement) must not be mistaken for the handler's error.
    this.#decide({ type: 'result', value });
  }

  /** Ends the attempt early; aborts `signal`. No effect once the outcome is decided. */
  interrupt(interruption: Interruption, error: Error): void {
    if (this.#decided) return;
    this.#abortReason = error;
    this.#controller?.abort(error);
    this.#decide({ type: 'interrupted', interruption, error });
  }

  #decide(outcome: AttemptOutcome): void {
    if (this.#decided) return;
    this.#decided = true;
    this.#listener.attemptDecided(this, outcome);
  }
}
