/**
 * Type-level tests, checked by `npm run typecheck` (tsc) and never run: each `@ts-expect-error`
 * line must fail to compile, every other line must compile. A check that stops rejecting what
 * it should makes tsc report the unused directive.
 */
import { z } from 'zod';
import { createInvoker, memoryStore, type Invoker, type JsonValue } from '../../src/index.js';

interface Email {
  to: string;
  subject: string;
  tags?: string[];
  meta?: { retries: number[] };
}
interface WithDate {
  to: string;
  when: Date;
}
class Service {
  url = 'x';
  start(): void {}
}

export async function untyped(): Promise<void> {
  const invoker = createInvoker({ store: memoryStore() });
  // Interfaces are payloads (no index signature needed), for handlers and calls.
  invoker.register('email', (payload: Email) => payload.to.length);
  invoker.register('email2', async (payload: Email, ctx) => ({ sent: payload.subject, attempt: ctx.attempt }));
  invoker.register('nothing', () => {});
  // Every option register accepts at run time is in its type.
  invoker.register('lossy', () => null, { maxLostAttempts: 5, maxAsyncRetryAttempts: 0 });
  invoker.register('json', (payload) => {
    const value: JsonValue = payload;
    return value;
  });
  const email: Email = { to: 'a@b.c', subject: 'hi' };
  await invoker.invokeAsync('email', email);
  await invoker.invokeAsync('email', { to: 'x', subject: 'y', meta: { retries: [1] } }, { delaySeconds: 5 });
  const result: JsonValue = await invoker.invoke('email', email);
  void result;
  // @ts-expect-error a Date is not JSON-safe
  invoker.register('dated', (payload: WithDate) => payload.to);
  // @ts-expect-error a Date result is not JSON-safe
  invoker.register('dates', () => new Date());
  // @ts-expect-error a Date payload
  await invoker.invokeAsync('email', { when: new Date() });
  // @ts-expect-error a function inside a payload
  await invoker.invokeAsync('email', { callback: () => 1 });
  // @ts-expect-error a bigint
  await invoker.invokeAsync('email', 10n);
  // @ts-expect-error a class instance with methods
  await invoker.invokeAsync('email', new Service());
}

export function schemas(): void {
  const invoker = createInvoker({ store: memoryStore() });
  const video = z.object({ url: z.string().url(), quality: z.enum(['sd', 'hd']).default('sd') });
  // The handler's payload type is the schema's output (quality is always set).
  invoker.register('transcode', (payload) => `${payload.url}@${payload.quality.toUpperCase()}`, { payload: video });
  invoker.register('transcode2', async (payload) => ({ seconds: payload.url.length }), { payload: video, maxAsyncRetryAttempts: 1 });
  // @ts-expect-error the schema's output has no field `nope`
  invoker.register('transcode3', (payload) => payload.nope, { payload: video });
}

interface Functions {
  transcode: { payload: { url: string }; result: { seconds: number } };
  ping: { payload: null; result: void };
}

export async function typed(): Promise<void> {
  const invoker = createInvoker<Functions>({ store: memoryStore() });
  invoker.register('transcode', (payload) => ({ seconds: payload.url.length }));
  invoker.register('ping', () => {});
  invoker.register('transcode', (payload) => ({ seconds: payload.url.length }), { payload: z.object({ url: z.string() }) });
  // Callers send the schema's input (quality optional); the handler gets its output (quality set).
  const withDefault = z.object({ url: z.string(), quality: z.enum(['sd', 'hd']).default('sd') });
  const withDefaults = createInvoker<{ t: { payload: z.input<typeof withDefault>; result: string } }>({ store: memoryStore() });
  withDefaults.register('t', (payload) => payload.quality.toUpperCase(), { payload: withDefault });
  await withDefaults.invokeAsync('t', { url: 'x' });
  await invoker.invokeAsync('transcode', { url: 'https://example.com/a.mov' });
  const out = await invoker.invoke('transcode', { url: 'x' });
  const seconds: number = out.seconds;
  void seconds;
  // invokeAsyncMany: each item's payload checked against its function's declared type.
  const many = await invoker.invokeAsyncMany([
    { name: 'transcode', payload: { url: 'a' }, options: { delaySeconds: 1 } },
    { name: 'ping', payload: null },
  ]);
  const first = many[0]!;
  if (first.ok) void (first.requestId satisfies string);
  else void (first.error satisfies Error);
  // @ts-expect-error a payload of another function's type
  await invoker.invokeAsyncMany([{ name: 'transcode', payload: null }]);
  // @ts-expect-error an unknown function name
  await invoker.invokeAsyncMany([{ name: 'transcod', payload: { url: 'a' } }]);
  // @ts-expect-error an unknown function name
  invoker.register('transcod', () => null);
  // @ts-expect-error a result of the wrong shape
  invoker.register('transcode', (payload) => ({ secs: payload.url.length }));
  // @ts-expect-error a handler expecting another payload type
  invoker.register('transcode', (payload: { n: number }) => ({ seconds: payload.n }));
  // @ts-expect-error a payload of the wrong shape
  await invoker.invokeAsync('transcode', { url: 1 });
  // @ts-expect-error an excess property
  await invoker.invokeAsync('transcode', { url: 'x', extra: true });
  // @ts-expect-error an unknown function name
  await invoker.invokeAsync('ping2', null);
  // Typed invokers go wherever an invoker does (adapters are generic over the map).
  const any: Invoker<Functions> = invoker;
  void any;
}

export function typedGoesWhereUntypedGoes(typed: Invoker<Functions>): Invoker {
  return typed;
}
