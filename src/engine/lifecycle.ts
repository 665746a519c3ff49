/** What the worker tells the invoker: transitions to emit and count, and errors to report. */
import type { Reporter } from '../reporter.js';
import type { StoredInvocation } from '../stores/contract.js';
import type { JsonValue } from '../types.js';

export type Lifecycle = Pick<Reporter, 'started' | 'settled' | 'delivered' | 'reportError' | 'logged' | 'heldBack'> & {
  /** Invokes `functionName` asynchronously for a `{ function }` destination of `source`. */
  enqueueForDestination(functionName: string, payload: JsonValue, source: StoredInvocation): Promise<void>;
  readonly maxHops: number;
};
