/**
 * Redaction of what a function's invocations show: `redact: ['payload.card.number',
 * 'result.token', 'log.password', 'payload.*.secret']` or a function. Results and log data are
 * redacted before they are stored; payloads are stored as given (the handler must receive them)
 * and redacted wherever they are shown: task records returned by the API (and so the task routes
 * and the dashboard), destination records, events.
 */
import type { JsonValue } from './types.js';

/** What a redactor is given: the value and which of the invocation's parts it is. */
export type RedactTarget = 'payload' | 'result' | 'log';

/** A function that returns a redacted copy of `value` (it must not change `value` itself). */
export type Redactor = (value: JsonValue, target: RedactTarget) => JsonValue;

export const REDACTED = '[redacted]';

/** Compiles the `redact` option once, at register. */
export function compileRedactor(option: readonly string[] | Redactor | undefined): Redactor | undefined {
  if (option === undefined) return undefined;
  if (typeof option === 'function') return option;
  const byTarget = new Map<RedactTarget, string[][]>();
  for (const path of option) {
    const [target, ...rest] = path.split('.') as [RedactTarget, ...string[]];
    byTarget.set(target, [...(byTarget.get(target) ?? []), rest]);
  }
  return (value, target) => {
    const paths = byTarget.get(target);
    return paths ? paths.reduce<JsonValue>((v, p) => redactPath(v, p), value) : value;
  };
}

/** A copy of `value` with what `path` names replaced by REDACTED (copies only along the path). */
function redactPath(value: JsonValue, path: readonly string[]): JsonValue {
  if (path.length === 0) return REDACTED;
  if (value === null || typeof value !== 'object') return value;
  const [head, ...rest] = path as [string, ...string[]];
  if (Array.isArray(value)) {
    if (head !== '*' && !/^\d+$/.test(head)) return value;
    return value.map((item, i) => (head === '*' || String(i) === head ? redactPath(item, rest) : item));
  }
  let copy: { [key: string]: JsonValue } | undefined;
  for (const key of head === '*' ? Object.keys(value) : Object.hasOwn(value, head) ? [head] : []) {
    const next = redactPath(value[key]!, rest);
    if (next !== value[key]) (copy ??= { ...value })[key] = next;
  }
  return copy ?? value;
}
