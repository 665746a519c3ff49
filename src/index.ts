/**
 * `async-invoker`: serverless-style asynchronous invocation inside any Node app: `createInvoker`,
 * the memory store, errors, events, metrics and the types every store and adapter share.
 *
 * @module async-invoker
 */
export { createInvoker } from './invoker.js';
export type { Invoker, InvocationPage, StopInvocationResult, CloseOptions, InvokeAsyncItem, InvokeAsyncManyResult } from './invoker.js';
export { memoryStore, type MemoryStoreOptions } from './stores/memory.js';
export { fakeClock, type FakeClock } from './fake-clock.js';
export { systemClock, type Clock, type TimerHandle } from './clock.js';
export {
  AsyncInvokerError,
  InvalidArgumentError,
  PayloadTooLargeError,
  IdempotencyConflictError,
  HandledInvocationError,
  NonRetryableError,
  ThrottledError,
  FunctionTimeoutError,
  UnknownFunctionError,
  InvocationNotFoundError,
  InvocationNotFinalError,
  InvokerClosedError,
  DestinationCycleError,
  DestinationPayloadTooLargeError,
  DestinationDeliveryError,
  StoreError,
  type SchemaIssue,
} from './errors.js';
export type { JsonSafe, FunctionTypes, FunctionMap, FunctionMapOf, TypeCheckFailed } from './typing.js';
export { httpDestination, signBody, type HttpDestinationOptions } from './destinations/http.js';
export type {
  Destination,
  DestinationContext,
  DestinationRecord,
  DestinationTarget,
  DestinationsConfig,
  DestinationCallback,
  FunctionDestination,
} from './destinations/types.js';
export type {
  InvokerOptions,
  FunctionOptions,
  RetryBackoffOptions,
  FunctionLimitsOptions,
  InvokeAsyncOptions,
  ListInvocationsOptions,
  InvocationContext,
  InvocationLogger,
  GetInvocationLogsOptions,
  Handler,
} from './options.js';
export type { FunctionInfo } from './function-info.js';
export type { InvocationLogLine, InvocationLogPage } from './invocation-logs.js';
export type { InvokerEvents } from './events.js';
export * from './events.js';
export { COUNTER_NAMES, type Counters, type CounterName, type MetricsSnapshot, type QueueMetrics, type QueueMetricsSnapshot } from './metrics.js';
export {
  INVOCATION_STATUSES,
  type InvocationRecord,
  type InvocationStatus,
  type InvocationEvent,
  type InvocationError,
  type Condition,
  type JsonValue,
} from './types.js';
export { LIMITS } from './config.js';
export type * from './stores/contract.js';
export { DURATION_BUCKETS_MS, ACTIVITY_RETENTION_MS } from './stores/contract.js';
export { histogramPercentile } from './stores/activity.js';
export { decide, nextDelay, backoffCeiling, throttleDelay, isExpired } from './policy.js';
