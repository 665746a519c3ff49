// graphile-worker 0.17 on the same PostgreSQL, in its own schema per run: addJob per job (one
// call each, as invokeAsync is), addJobs for bulk, and run() with the same concurrency, counting
// its "job:complete" events. The runner's pool follows its docs' advice (at least the
// concurrency) up to 32 connections: the server allows 100 in all, shared with other clients.
import { Logger, makeWorkerUtils, run } from 'graphile-worker';
import { PG_URL, dropSchemas } from '../lib/services.js';

const silent = new Logger(() => () => {});

export async function open({ concurrency, ns }) {
  const common = { connectionString: PG_URL, schema: ns, logger: silent };
  const utils = await makeWorkerUtils({ ...common, maxPoolSize: 10 });
  await utils.migrate();
  let runner;
  let completed = 0;
  let target = Infinity;
  let allDone = () => {};
  if (concurrency > 0) {
    runner = await run({ ...common, maxPoolSize: Math.min(32, Math.max(10, concurrency + 2)), concurrency, noHandleSignals: true, taskList: { noop: async () => {} } });
    runner.events.on('job:complete', () => ++completed === target && allDone());
  }
  return {
    async run(n) {
      completed = 0;
      target = n;
      const done = new Promise((resolve) => (allDone = resolve));
      await Promise.all(Array.from({ length: n }, (_, i) => utils.addJob('noop', { i })));
      await done;
    },
    enqueueOne: (i) => utils.addJob('noop', { i }),
    enqueueBulk: (n) => utils.addJobs(Array.from({ length: n }, (_, i) => ({ identifier: 'noop', payload: { i } }))),
    async close() {
      await runner?.stop();
      await utils.release();
      await dropSchemas(ns);
    },
  };
}
