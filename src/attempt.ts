/**
 * One execution of a handler. The handler's own promise and an interruption (timeout, stop,
 * lost lease, shutdown) race; whichever comes first decides the outcome, once.
 */
import type { InvocationContext } from './options.js';
import type { RegisteredFunction } from './registry.js';
import type { JsonValue } from './types.js';

export type Interruption = 'timeout' | 'stop' | 'lost' | 'shutdown';

export type AttemptOutcome =
  | { readonly type: 'result'; readonly value: JsonValue }
  | { readonly type: 'error'; readonly error: unknown }
  | { readonly type: 'interrupted'; readonly interruption: Interruption; readonly error: Error };

export class Attempt implements InvocationContext {
  readonly requestId: string;
  readonly functionName: string;
  readonly attempt: number;
  #controller: AbortController | undefined;
  #abortReason: Error | undefined;
  #decided = false;
  #onOutcome: (outcome: AttemptOutcome) => void;
  /** Resolves when the handler itself returned (even after an interruption decided the outcome). */
  handlerDone!: Promise<void>;

  constructor(requestId: string, fn: RegisteredFunction, attempt: number, onOutcome: (outcome: AttemptOutcome) => void) {
    this.requestId = requestId;
    this.functionName = fn.name;
    this.attempt = attempt;
    this.#onOutcome = onOutcome;
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

  /** Runs the handler; calls onOutcome once. Returns the handler's completion. */
  run(fn: RegisteredFunction, payload: JsonValue): Promise<void> {
    let returned: unknown;
    try {
      returned = fn.handler(payload, this);
    } catch (error) {
      this.#decide({ type: 'error', error });
      return (this.handlerDone = Promise.resolve());
    }
    if (returned !== null && typeof returned === 'object' && typeof (returned as PromiseLike<unknown>).then === 'function') {
      return (this.handlerDone = Promise.resolve(returned as PromiseLike<unknown>).then(
        (value) => this.#decide({ type: 'result', value: (value ?? null) as JsonValue }),
        (error: unknown) => this.#decide({ type: 'error', error }),
      ));
    }
    this.#decide({ type: 'result', value: (returned ?? null) as JsonValue });
    return (this.handlerDone = Promise.resolve());
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
    this.#onOutcome(outcome);
  }
}
