/**
 * One execution of a handler. The handler's own promise and an interruption (timeout, stop,
 * lost lease, shutdown) race; whichever comes first decides the outcome, once. The handler
 * receives a small context object, never the attempt and its bookkeeping.
 */
import type { InvocationContext } from '../options.js';
import type { RegisteredFunction } from '../registry.js';
import { checkResult } from '../schemas.js';
import type { JsonValue } from '../types.js';

export type Interruption = 'timeout' | 'stop' | 'lost' | 'shutdown';

export type AttemptOutcome =
  | { readonly type: 'result'; readonly value: JsonValue }
  | { readonly type: 'error'; readonly error: unknown }
  | { readonly type: 'interrupted'; readonly interruption: Interruption; readonly error: Error };

/** Told once of the outcome, and once when the handler itself has returned (which may be later). */
export interface AttemptListener {
  attemptDecided(attempt: Attempt, outcome: AttemptOutcome): void;
  handlerReturned(attempt: Attempt): void;
}

/** What a handler sees as `ctx`. */
class HandlerContext implements InvocationContext {
  readonly requestId: string;
  readonly functionName: string;
  readonly attempt: number;
  readonly #owner: Attempt;

  constructor(owner: Attempt) {
    this.requestId = owner.requestId;
    this.functionName = owner.functionName;
    this.attempt = owner.attempt;
    this.#owner = owner;
  }

  get signal(): AbortSignal {
    return this.#owner.signal;
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
  /** Runs the handler with `payload` (already parsed by the function's schema, if it has one). */
  run(fn: RegisteredFunction, payload: unknown): void {
    let returned: unknown;
    try {
      returned = fn.handler(payload, new HandlerContext(this));
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

  /** A returned value: the result (`undefined` becomes `null`), unless the result schema rejects it. */
  #result(fn: RegisteredFunction, returned: unknown): void {
    const value = (returned ?? null) as JsonValue;
    if (fn.resultSchema === undefined) {
      this.#decide({ type: 'result', value });
      return;
    }
    try {
      this.#decide({ type: 'result', value: checkResult(fn, value) });
    } catch (error) {
      this.#decide({ type: 'error', error });
    }
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
