/** Shared test helpers: waiting on real conditions, never on fixed sleeps. */
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import type { Invoker, InvokerEvents } from '../src/index.js';

/** Asks each child process still running to stop (SIGTERM), SIGKILLs it after 10 s, and waits for all to exit. */
export async function stopProcesses(children: readonly ChildProcess[]): Promise<void> {
  await Promise.all(children.map(async (child) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }));
}

/** Resolves when `check` returns true (polled every `intervalMs`); rejects after `timeoutMs` naming `what`. */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  { timeoutMs = 10_000, intervalMs = 5, what = 'condition' }: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** The next `event` from `invoker` whose payload passes `filter`. */
export function nextEvent<K extends keyof InvokerEvents>(
  invoker: Invoker,
  event: K,
  filter: (payload: Parameters<InvokerEvents[K]>[0]) => boolean = () => true,
  timeoutMs = 10_000,
): Promise<Parameters<InvokerEvents[K]>[0]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      invoker.off(event, listener as never);
      reject(new Error(`timed out after ${timeoutMs} ms waiting for '${String(event)}'`));
    }, timeoutMs);
    const listener = (payload: Parameters<InvokerEvents[K]>[0]) => {
      if (!filter(payload)) return;
      clearTimeout(timer);
      invoker.off(event, listener as never);
      resolve(payload);
    };
    invoker.on(event, listener as never);
  });
}

/** Waits until the invocation reaches one of `statuses` (polling the store). */
export async function waitForStatus(invoker: Invoker, requestId: string, statuses: string[], timeoutMs = 10_000) {
  let last: string | undefined;
  await waitFor(
    async () => {
      last = (await invoker.getInvocation(requestId))?.status;
      return last !== undefined && statuses.includes(last);
    },
    { timeoutMs, what: `${requestId} to reach ${statuses.join('/')} (last seen ${last})` },
  );
  return (await invoker.getInvocation(requestId))!;
}
