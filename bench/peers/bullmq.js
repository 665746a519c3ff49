// BullMQ on the same Redis: a Queue (jobs added one call each, as invokeAsync is) and a Worker
// with the same concurrency, counting its "completed" events (fired after the job is moved to
// completed). Queue name and prefix are unique per run and obliterated on close.
import { Queue, Worker } from 'bullmq';
import { REDIS_URL, deleteKeys } from '../lib/services.js';

const connectionTo = (url) => () => {
  const { hostname, port } = new URL(url);
  return { host: hostname, port: Number(port || 6379), maxRetriesPerRequest: null };
};

export const open = (options) => openOn(REDIS_URL, options);

/** BullMQ on the Redis at `url`. */
export async function openOn(url, { concurrency, ns }) {
  const connection = connectionTo(url);
  const queue = new Queue('noop', { connection: connection(), prefix: ns });
  await queue.waitUntilReady();
  let worker;
  let completed = 0;
  let target = Infinity;
  let allDone = () => {};
  if (concurrency > 0) {
    worker = new Worker('noop', async () => null, { connection: connection(), prefix: ns, concurrency });
    worker.on('completed', () => ++completed === target && allDone());
    worker.on('error', () => {});
    await worker.waitUntilReady();
  }
  return {
    async run(n) {
      completed = 0;
      target = n;
      const done = new Promise((resolve) => (allDone = resolve));
      await Promise.all(Array.from({ length: n }, (_, i) => queue.add('noop', { i })));
      await done;
    },
    enqueueOne: (i) => queue.add('noop', { i }),
    enqueueBulk: (n) => queue.addBulk(Array.from({ length: n }, (_, i) => ({ name: 'noop', data: { i } }))),
    async close() {
      await worker?.close(true);
      await queue.obliterate({ force: true }).catch(() => {});
      await queue.close();
      await deleteKeys(ns, url);
    },
  };
}
