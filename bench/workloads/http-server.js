// The app the HTTP workload loads, in its own process (as a real server would be): Express 5,
// the async trigger in front of a plain JSON route, a producer-only invoker on SQLite
// (concurrency 0: the figure is the cost of the durable 202 ack alone). A request without
// the async header takes the same route synchronously: that is the baseline.
import { join } from 'node:path';
import express from 'express';
import { createInvoker } from 'async-invoker';
import { asyncTrigger } from 'async-invoker/express';
import { sqliteStore } from 'async-invoker/sqlite';

const invoker = createInvoker({ store: sqliteStore({ path: join(process.env.BENCH_DIR, 'http.db') }), concurrency: 0 });
const app = express();
app.use(asyncTrigger(invoker, { app, functionName: 'work' }));
app.post('/work', express.json(), (req, res) => res.json({ ok: true, n: req.body.n }));

const listener = app.listen(0, '127.0.0.1', () => process.send({ port: listener.address().port }));
process.on('message', async (message) => {
  if (message !== 'stop') return;
  listener.close();
  await invoker.close();
  process.exit(0);
});
// Never outlive the bench if it dies without saying stop.
process.on('disconnect', () => process.exit(0));
