/**
 * The one place that turns what `pg` throws into the `StoreError` a caller can act on: the
 * driver's error as `cause`, and a message naming the store, the operation, what went wrong and
 * what to check. Connection failures are told apart from the server refusing a statement.
 */
import { StoreError } from '../../errors.js';
import { messageOf } from '../signal-hub.js';

/** What the messages may name: the schema and the timeout the store was given. */
export interface ErrorContext {
  readonly schema: string;
  readonly operationTimeoutMs: number;
}

/** Socket-level failures: the server is down, restarting, or not where the store looks. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
]);

/** pg's own messages for a connection that failed or went away (they carry no code). */
const CONNECTION_MESSAGES = [
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'Client has encountered a connection error',
  'Connection terminated due to connection timeout',
];

export function codeOf(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string'
    ? error.code
    : undefined;
}

/** What to check, for the failure `error`. */
function hint(error: unknown, context: ErrorContext): string {
  const code = codeOf(error);
  const message = messageOf(error);
  const reachable =
    'check that the PostgreSQL server is running and reachable at the address the store was given ' +
    '(connectionString, pool or the PG* environment variables); the store connects again by itself once it is back';
  if (code !== undefined && NETWORK_CODES.has(code)) return reachable;
  if (CONNECTION_MESSAGES.some((m) => message.startsWith(m))) return reachable;
  if (message === 'Query read timeout' || code === '57014') {
    return `no answer within operationTimeoutMs (${context.operationTimeoutMs} ms): check that the server is up, not overloaded, and not held by long locks`;
  }
  if (code === undefined) return 'check the PostgreSQL server and the store\'s options';
  if (code.startsWith('08')) return reachable;
  if (code === '57P01' || code === '57P02' || code === '57P03') {
    return 'the server is shutting down or starting up; the store reconnects by itself once it accepts connections';
  }
  if (code === '28P01' || code === '28000') return 'check the user name and password';
  if (code === '3D000') return 'check the database name';
  if (code === '42501') return `check that the role may create and use the schema "${context.schema}"`;
  if (code === '53300') return 'the server has no connection left: lower max, or raise max_connections';
  if (code.startsWith('53')) return 'the server ran out of resources (disk, memory): check its logs';
  return `the server refused the statement (SQLSTATE ${code}): check the schema "${context.schema}" and the server's logs`;
}

/** `error` as a StoreError for `operation` (a StoreError already made here passes through). */
export function toStoreError(error: unknown, operation: string, context: ErrorContext): StoreError {
  if (error instanceof StoreError) return error;
  const code = codeOf(error);
  const message = messageOf(error);
  const what = code === undefined || message.includes(code) ? message : `${message} (${code})`;
  return new StoreError(`postgres store: ${operation} failed: ${what}. ${capitalised(hint(error, context))}.`, { cause: error });
}

function capitalised(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
