// A worker process of the scaling workload: runs no-op invocations of one store namespace at
// the given concurrency and reports how many it ran to its parent every 20 ms (one message per
// invocation would cost more than the no-op). Argument: JSON { system, ns, concurrency }.
import { createInvoker } from 'async-invoker';
import { createStore } from '../systems/ours.js';

const { system, ns, concurrency } = JSON.parse(process.argv[2]);
const { store } = await createStore(system, ns);
const invoker = createInvoker({ store, concurrency });
let ran = 0;
let sent = 0;
invoker.register('noop', () => {
  ran++;
  return null;
});
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
