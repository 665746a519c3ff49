// Prints the trace of one invocation: its `send`, both attempts (the first fails), the onSuccess
// delivery and the destination function's own attempt, with OpenTelemetry's console exporter.
//
//   npm install @opentelemetry/api @opentelemetry/sdk-trace-base @opentelemetry/context-async-hooks
//   node examples/tracing/index.js
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, ConsoleSpanExporter, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { createInvoker, memoryStore } from 'async-invoker';

// What an app registers once at start-up; async-invoker needs no option to be traced. The
// console exporter prints each span as it ends; the in-memory one keeps them for the tree below.
const memory = new InMemorySpanExporter();
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
trace.setGlobalTracerProvider(
  new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(new ConsoleSpanExporter()), new SimpleSpanProcessor(memory)] }),
);

const invoker = createInvoker({ store: memoryStore() });
invoker.register('notify', () => 'notified');
invoker.register(
  'transcode',
  (video, ctx) => {
    if (ctx.attempt === 1) throw new Error('the encoder was busy');
    return { seconds: 42 };
  },
  { retryBackoff: { initialDelayMs: 10, jitter: 'none' }, destinations: { onSuccess: { function: 'notify' } } },
);

const root = trace.getTracer('example').startSpan('POST /upload');
await context.with(trace.setSpan(context.active(), root), () => invoker.invokeAsync('transcode', { url: 'https://example.com/cat.mov' }));
root.end();
await new Promise((resolve) => invoker.on('succeeded', (e) => e.functionName === 'notify' && resolve()));
await invoker.close();

// One line per span, indented under its parent: the whole journey is one trace.
const spans = memory.getFinishedSpans();
const byParent = new Map();
for (const s of spans) byParent.set(s.parentSpanContext?.spanId, [...(byParent.get(s.parentSpanContext?.spanId) ?? []), s]);
const print = (span, depth) => {
  const attrs = span.attributes;
  const detail = [attrs['messaging.message.id'] && `id=${attrs['messaging.message.id']}`, attrs['async_invoker.attempt'] && `attempt=${attrs['async_invoker.attempt']}`, attrs['error.type'] && `error=${attrs['error.type']}`].filter(Boolean).join(' ');
  console.log(`${'  '.repeat(depth)}${span.name} [trace ${span.spanContext().traceId.slice(0, 8)}] ${detail}`);
  for (const child of byParent.get(span.spanContext().spanId) ?? []) print(child, depth + 1);
};
console.log('\nThe trace, span by span:');
print(spans.find((s) => s.name === 'POST /upload'), 0);
