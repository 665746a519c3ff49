import type { JsonValue } from './types.js';

/**
 * Compile-time types for payloads, results and typed invokers. Payloads and results are JSON,
 * but checked structurally (no index signature), so interfaces and type aliases both work.
 */

/** Values JSON cannot carry (or would silently change): refused at compile time. */
type NotJson =
  | bigint
  | symbol
  | Date
  | RegExp
  | Map<unknown, unknown>
  | Set<unknown>
  | WeakMap<object, unknown>
  | WeakSet<object>
  | Promise<unknown>
  | ArrayBufferLike
  | ArrayBufferView
  | ((...args: never[]) => unknown);

/**
 * `T` if JSON carries it unchanged, with `never` in place of anything it cannot: functions
 * (so class instances with methods), symbols, bigints, Dates, Maps, Sets, buffers. Checked
 * structurally (no index signature), so interfaces pass; one with a `Date` field does not.
 * `undefined` properties are allowed (JSON drops them).
 */
export type JsonSafe<T> = unknown extends T
  ? T
  : [T] extends [JsonValue]
    ? T
    : T extends string | number | boolean | null | undefined | void
      ? T
      : T extends NotJson
        ? never
        : T extends object
          ? { [K in keyof T]: JsonSafe<T[K]> }
          : never;

/** A function's payload and result types, for a typed invoker. */
export interface FunctionTypes {
  readonly payload: unknown;
  readonly result: unknown;
}

/**
 * Function name → its payload and result types, for `createInvoker<MyFunctions>()`. Interfaces
 * work (no index signature needed):
 *
 *   interface MyFunctions { transcode: { payload: { url: string }; result: { seconds: number } } }
 */
export type FunctionMapOf<F> = { readonly [K in keyof F]: FunctionTypes };

/** The function map of an untyped invoker: any name, any JSON-safe payload. */
export type FunctionMap = { readonly [name: string]: FunctionTypes };

/** True for an untyped invoker's map (string keys). */
export type IsUntyped<F> = string extends keyof F ? true : false;

/** Function names `F` knows (any string for an untyped invoker). */
export type FunctionName<F> = keyof F & string;

/** The declared payload type of function `N` (`unknown` when `F` does not declare one). */
export type PayloadOf<F, N extends string> = N extends keyof F ? (F[N] extends FunctionTypes ? F[N]['payload'] : unknown) : unknown;

/** The declared result type of function `N` (any JSON value when `F` does not declare one). */
export type ResultOf<F, N extends string> = N extends keyof F
  ? F[N] extends FunctionTypes
    ? unknown extends F[N]['result']
      ? JsonValue
      : F[N]['result']
    : JsonValue
  : JsonValue;

/** Marks a type that failed a check, in compile errors. */
export interface TypeCheckFailed<T> {
  readonly failedType: T;
}
