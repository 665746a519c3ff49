// Destination delivery rate: N invocations on the memory store whose onSuccess goes to a
// callback, then to a webhook on 127.0.0.1 (node:http server in this process).
//   npm run build && node bench/destinations-quick.mjs [n=5000] [concurrency=64]
import { createServer } from 'node:http';
import { createInvoker, httpDestination, memoryStore } from 'async-invoker';

const n = Number(process.argv[2] ?? 5000);
const concurrency = Number(process.argv[3] ?? 64);

async function measure(label, destination, waitDelivered) {
  const invoker = createInvoker({ store: memoryStore(), concurrency });
  let delivered = 0;
  let done;
  const all = new Promise((resolve) => (done = resolve));
  invoker.on('destination:succeeded', () => {
    if (++delivered === n) done();
  });
  invoker.register('work', () => 'ok', { destinations: { onSuccess: destination } });
  const start = performance.now();
  await Promise.all(Array.from({ length: n }, (_, i) => invoker.invokeAsync('work', { i })));
  await all;
  const seconds = (performance.now() - start) / 1000;
  await waitDelivered?.();
  await invoker.close();
  console.log(`${label.padEnd(28)} ${n} records in ${seconds.toFixed(2)} s = ${Math.round(n / seconds).toLocaleString('en')} deliveries/s`);
}

await measure('callback', async () => {});

let received = 0;
const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    received++;
    res.writeHead(204).end();
  });
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const url = `http://127.0.0.1:${server.address().port}/hook`;
await measure('webhook (httpDestination)', httpDestination(url, { allowPrivateNetwork: true }), async () => {
  if (received < n) throw new Error(`webhook received ${received} of ${n}`);
});
server.close();
console.log(`Node ${process.version}, ${(await import('node:os')).cpus().length} cores, concurrency ${concurrency}`);
