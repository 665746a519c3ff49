// Raw p-queue: the in-process floor. A no-op task with nothing stored, no record, no events.
// "Enqueue" for p-queue is an add() to a paused queue: the cheapest possible acceptance.
import PQueue from 'p-queue';

const noop = () => null;

export async function open({ concurrency }) {
  let queue = new PQueue({ concurrency: Math.max(1, concurrency), autoStart: concurrency > 0 });
  const paused = () => (queue = new PQueue({ autoStart: false }));
  return {
    run: (n) => Promise.all(Array.from({ length: n }, () => queue.add(noop))),
    enqueueOne: async () => {
      if (queue.size > 100_000) paused();
      queue.add(noop);
    },
    enqueueBulk: async (n) => {
      paused();
      for (let i = 0; i < n; i++) queue.add(noop);
    },
    async close() {
      queue.clear();
    },
  };
}
