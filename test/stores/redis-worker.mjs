// A worker process for the multi-process Redis tests (exclusive, crash). Imports the built
// package (dist/, or $CRASH_DIST): run `npm run build` first.
// argv: prefix ledgerKey concurrency leaseSeconds handlerMs
// WORKER_STORE_OPTIONS: JSON options for redisStore instead of the url of 127.0.0.1:6379 (a
// cluster); WORKER_FUNCTIONS: comma-separated function names to register (default job).
// Every attempt first appends "<requestId> <attempt> <pid>" to the Redis list ledgerKey, so the
// test can tell how often each invocation ran. Sends 'ready' over IPC once it is claiming.
import { Redis } from 'ioredis';

// CRASH_DIST: a private build, for running while something else rebuilds dist/.
const dist = process.env.CRASH_DIST ? new URL(`file://${process.env.CRASH_DIST}/`) : new URL('../../dist/', import.meta.url);
const { createInvoker } = await import(new URL('index.js', dist).href);
const { redisStore } = await import(new URL('stores/redis/index.js', dist).href);

const [prefix, ledgerKey, concurrency, leaseSeconds, handlerMs] = process.argv.slice(2);
const ledger = new Redis('redis://127.0.0.1:6379');
const storeOptions = JSON.parse(process.env.WORKER_STORE_OPTIONS ?? '{"url":"redis://127.0.0.1:6379"}');
const invoker = createInvoker({
  store: redisStore({ ...storeOptions, prefix }),
  concurrency: Number(concurrency),
  leaseSeconds: Number(leaseSeconds),
});
invoker.on('error', () => {});
for (const name of (process.env.WORKER_FUNCTIONS ?? 'job').split(',')) {
  invoker.register(
    name,
    async (payload, ctx) => {
      await ledger.rpush(ledgerKey, `${ctx.requestId} ${ctx.attempt} ${process.pid}`);
      if (Number(handlerMs) > 0) await new Promise((resolve) => setTimeout(resolve, Number(handlerMs)));
      return { n: payload.n };
    },
    { maxAsyncRetryAttempts: 8, retryBackoff: { initialDelayMs: 50, maxDelayMs: 500 } },
  );
}
// Touch the store so scripts are loaded and the subscription is up before the test produces.
await invoker.getInvocation('warm-up');
process.send?.('ready');
process.on('SIGTERM', () => {
  void invoker.close().then(() => ledger.quit()).then(() => process.exit(0));
});
