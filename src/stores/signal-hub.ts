/**
 * Signal listeners and background-error handlers of one store, the same in every store: a
 * listener that throws never reaches the write that emitted the signal (it is reported to the
 * error handlers as `listener`), and background failures go to every handler, never to the
 * console.
 */
import { StoreError } from '../errors.js';
import type { StoreBackgroundTask, StoreSignal } from './contract.js';

type Listener = (signal: StoreSignal) => void;
type ErrorHandler = (error: StoreError, during: StoreBackgroundTask) => void;

export class SignalHub {
  readonly #store: string;
  readonly #listeners = new Set<Listener>();
  readonly #errorHandlers = new Set<ErrorHandler>();

  /** `store` names the store in the messages of wrapped errors. */
  constructor(store: string) {
    this.#store = store;
  }

  /** Listeners subscribed now. */
  get size(): number {
    return this.#listeners.size;
  }

  subscribe(listener: Listener): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  onError(handler: ErrorHandler): () => void {
    this.#errorHandlers.add(handler);
    return () => {
      this.#errorHandlers.delete(handler);
    };
  }

  /** Calls one listener (a new subscriber being told what it missed); a throw is reported, never raised. */
  tell(listener: Listener, signal: StoreSignal): void {
    try {
      listener(signal);
    } catch (error) {
      this.report(error, 'listener');
    }
  }

  /** Calls every listener; one that throws is reported and the others still run. */
  emit(signal: StoreSignal): void {
    for (const listener of this.#listeners) {
      try {
        listener(signal);
      } catch (error) {
        this.report(error, 'listener');
      }
    }
  }

  /** Hands a background failure to every error handler, as a StoreError. */
  report(error: unknown, during: StoreBackgroundTask): void {
    if (this.#errorHandlers.size === 0) return;
    const wrapped =
      error instanceof StoreError
        ? error
        : new StoreError(`${this.#store} store: ${describeTask(during)} failed: ${messageOf(error)}`, { cause: error });
    for (const handler of this.#errorHandlers) {
      try {
        handler(wrapped, during);
      } catch {
        // An error handler that throws has nowhere further to report to.
      }
    }
  }

  /** Drops every listener and handler (the store closed). */
  clear(): void {
    this.#listeners.clear();
    this.#errorHandlers.clear();
  }
}

function describeTask(during: StoreBackgroundTask): string {
  switch (during) {
    case 'prune':
      return 'a retention pass';
    case 'publish':
      return 'publishing a wake-up';
    case 'subscriber':
      return 'the wake-up subscriber';
    case 'listener':
      return 'a signal listener';
    case 'analyze':
      return "refreshing the planner's statistics";
  }
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The error every operation of a closed store rejects with. */
export function storeClosedError(store: string, operation: string): StoreError {
  return new StoreError(`${store} store: ${operation} called after close()`);
}
