// A worker process of the scaling workload: runs no-op invocations of one store namespace at
// the given concurrency and reports how many it ran to its parent every 20 ms (one message per
// invocation would cost more than the no-op). Argument: JSON { system, ns, concurrency }, or
// { redis, ns, concurrency, functions } for a Redis store with those options (a cluster)
// running no-op functions of those names.
import { createInvoker } from 'async-invoker';
import { createStore } from '../systems/ours.js';

const { system, ns, concurrency, redis, functions = ['noop'] } = JSON.parse(process.argv[2]);
const store = redis
  ? (await import('async-invoker/redis')).redisStore({ ...redis, prefix: ns })
  : (await createStore(system, ns)).store;
const invoker = createInvoker({ store, concurrency });
let ran = 0;
let sent = 0;
for (const name of functions) {
  invoker.register(name, () => {
    ran++;
    return null;
  });
}
await invoker.getInvocation('warm-up');
const report = setInterval(() => {
  if (ran !== sent) process.send?.({ ran: (sent = ran) });
}, 20);
process.on('message', async (message) => {
  if (message !== 'stop') return;
  clearInterval(report);
  await invoker.close({ timeoutSeconds: 5 });
  process.exit(0);
});
process.send?.({ ready: true });
