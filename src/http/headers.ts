/** Reads the async-invocation request headers (Function Compute's names) and checks their values. */
import { INVOCATION_ID_PATTERN, LIMITS } from '../config.js';
import { headerError } from './reply.js';
import type { Reply, TriggerRequest } from './types.js';

/** Where the headers come from: a node or a Web request (see `TriggerRequest`). */
type HeaderSource = Pick<TriggerRequest, 'header'>;

export const DELAY_HEADER = 'x-fc-async-delay';
export const INVOCATION_ID_HEADER = 'x-fc-stateful-async-invocation-id';
export const REQUEST_ID_HEADER = 'x-fc-request-id';
/** Header names that select the invocation type, checked in this order. */
export const DEFAULT_TYPE_HEADERS: readonly string[] = ['x-fc-invocation-type', 'x-invocation-type'];

const DELAY_ALLOWED = `an integer number of seconds from ${LIMITS.delaySeconds.min} to ${LIMITS.delaySeconds.max}`;
const ID_ALLOWED =
  'a letter or underscore, then letters, digits, _ or -, at most 128 characters in all';
const TYPE_ALLOWED = "'Async' or 'Sync' (any case)";

export interface AsyncHeaders {
  readonly delaySeconds?: number;
  readonly invocationId?: string;
}

/** The first of `names` present on the request, with its value. */
function firstHeader(headers: HeaderSource, names: readonly string[]): [string, string] | undefined {
  for (const name of names) {
    const value = headers.header(name);
    if (value !== undefined) return [name, value];
  }
  return undefined;
}

/**
 * `'async'` or `'sync'` for a valid invocation-type header, `undefined` when there is none (the
 * request passes through), or the 400 to answer. Cheap and synchronous: it runs on every request.
 */
export function invocationType(headers: HeaderSource, names: readonly string[]): 'async' | 'sync' | Reply | undefined {
  const found = firstHeader(headers, names);
  if (!found) return undefined;
  const value = found[1].trim().toLowerCase();
  if (value === 'async') return 'async';
  if (value === 'sync') return 'sync';
  return headerError(found[0], found[1], TYPE_ALLOWED);
}

/** The delay and idempotency id of an async request, or the 400 naming the bad header. */
export function asyncHeaders(headers: HeaderSource): AsyncHeaders | Reply {
  const out: { delaySeconds?: number; invocationId?: string } = {};
  const delay = firstHeader(headers, [DELAY_HEADER]);
  if (delay) {
    const text = delay[1].trim();
    const seconds = /^\d{1,4}$/.test(text) ? Number(text) : NaN;
    if (!(seconds >= LIMITS.delaySeconds.min && seconds <= LIMITS.delaySeconds.max)) {
      return headerError(DELAY_HEADER, delay[1], DELAY_ALLOWED);
    }
    out.delaySeconds = seconds;
  }
  const id = firstHeader(headers, [INVOCATION_ID_HEADER]);
  if (id) {
    if (!INVOCATION_ID_PATTERN.test(id[1])) return headerError(INVOCATION_ID_HEADER, id[1], ID_ALLOWED);
    out.invocationId = id[1];
  }
  return out;
}
