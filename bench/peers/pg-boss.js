// pg-boss 10 on the same PostgreSQL, in its own schema per run: send per job, insert for bulk,
// and one work() loop fetching up to `concurrency` jobs per poll and running them together.
// pg-boss 10 has no local concurrency option and its loop waits out pollingIntervalSeconds
// (minimum 0.5 s) after each batch, so its rate is about concurrency / 0.5 s by design; the
// plan sizes its rounds for that. Counted when the handler ran (its batch is then completed in
// one statement).
import PgBoss from 'pg-boss';
import { PG_URL, dropSchemas } from '../lib/services.js';

export const POLL_SECONDS = 0.5;

export async function open({ concurrency, ns }) {
  const boss = new PgBoss({ connectionString: PG_URL, schema: ns, supervise: false, schedule: false, migrate: true });
  boss.on('error', () => {});
  await boss.start();
  await boss.createQueue('noop');
  let ran = 0;
  let target = Infinity;
  let allDone = () => {};
  if (concurrency > 0) {
    await boss.work('noop', { batchSize: concurrency, pollingIntervalSeconds: POLL_SECONDS }, async (jobs) => {
      await Promise.all(jobs.map(async () => ++ran === target && allDone()));
    });
  }
  return {
    async run(n) {
      ran = 0;
      target = n;
      const done = new Promise((resolve) => (allDone = resolve));
      await Promise.all(Array.from({ length: n }, (_, i) => boss.send('noop', { i })));
      await done;
    },
    enqueueOne: (i) => boss.send('noop', { i }),
    enqueueBulk: (n) => boss.insert(Array.from({ length: n }, (_, i) => ({ name: 'noop', data: { i } }))),
    async close() {
      await boss.stop({ graceful: false, wait: true, timeout: 5000 }).catch(() => {});
      await dropSchemas(ns);
    },
  };
}
