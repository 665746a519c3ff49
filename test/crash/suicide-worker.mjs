// A worker process whose handler kills its own process (SIGKILL) on every attempt: an
// invocation that takes its worker down every time. Plain JS over dist/ (run `npm run build`).
// argv: <sqlite path> <maxLostAttempts>
const { createInvoker } = await import(new URL('../../dist/index.js', import.meta.url).href);
const { sqliteStore } = await import(new URL('../../dist/stores/sqlite/index.js', import.meta.url).href);

const [path, maxLost] = process.argv.slice(2);
const invoker = createInvoker({ store: sqliteStore({ path }), leaseSeconds: 0.5, concurrency: 1 });
invoker.register('suicidal', () => process.kill(process.pid, 'SIGKILL'), {
  maxLostAttempts: Number(maxLost),
  maxAsyncRetryAttempts: 0,
  retryBackoff: { initialDelayMs: 10, maxDelayMs: 50, jitter: 'none' },
});
process.on('SIGTERM', () => invoker.close().then(() => process.exit(0)));
process.send?.('ready');
