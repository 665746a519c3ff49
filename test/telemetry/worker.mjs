// A worker process with its own OpenTelemetry SDK, as a separate deployment would have: it runs
// one invocation from a shared SQLite file and sends its finished spans to the parent over IPC.
// Plain JS over dist/ (run `npm run build` first). argv: <sqlite path>
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';

const exporter = new InMemorySpanExporter();
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));

const { createInvoker } = await import(new URL('../../dist/index.js', import.meta.url).href);
const { sqliteStore } = await import(new URL('../../dist/stores/sqlite/index.js', import.meta.url).href);
const invoker = createInvoker({ store: sqliteStore({ path: process.argv[2] }), concurrency: 1 });
invoker.register('remote', () => {
  trace.getTracer('worker-code').startSpan('inside').end();
  return 'ran remotely';
});
invoker.on('succeeded', async () => {
  await invoker.close();
  const spans = exporter.getFinishedSpans().map((s) => ({
    name: s.name,
    traceId: s.spanContext().traceId,
    spanId: s.spanContext().spanId,
    parentSpanId: s.parentSpanContext?.spanId,
  }));
  process.send?.({ spans }, () => process.exit(0));
});
process.send?.({ ready: true });
