// A worker process for the multi-process PostgreSQL tests (exclusive + crash). Imports the
// built package (dist/): run `npm run build` first.
// argv: url schema ledgerTable concurrency leaseSeconds handlerMs
// Every handler run first records (request_id, attempt, pid) in the ledger table, so the test
// can tell how often each invocation ran. Sends 'ready' over IPC once it is claiming.
import pg from 'pg';
import { createInvoker } from '../../dist/index.js';
import { postgresStore } from '../../dist/stores/postgres/index.js';

const [url, schema, ledger, concurrency, leaseSeconds, handlerMs] = process.argv.slice(2);
const ledgerPool = new pg.Pool({ connectionString: url, max: 4 });
const invoker = createInvoker({
  store: postgresStore({ connectionString: url, schema, max: 6 }),
  concurrency: Number(concurrency),
  leaseSeconds: Number(leaseSeconds),
});
invoker.register(
  'job',
  async (payload, ctx) => {
    await ledgerPool.query(`insert into ${ledger} (request_id, attempt, pid) values ($1, $2, $3)`, [ctx.requestId, ctx.attempt, process.pid]);
    if (Number(handlerMs) > 0) await new Promise((resolve) => setTimeout(resolve, Number(handlerMs)));
    return { n: payload.n };
  },
  { maxAsyncRetryAttempts: 8, retryBackoff: { initialDelayMs: 50, maxDelayMs: 500 } },
);
// Touch the store so the schema exists and LISTEN is up before the test starts producing.
await invoker.getInvocation('warm-up');
process.send?.('ready');
process.on('SIGTERM', () => {
  void invoker.close().then(() => ledgerPool.end()).then(() => process.exit(0));
});
