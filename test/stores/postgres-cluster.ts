/** Helpers for the multi-process PostgreSQL tests: a schema + ledger per run, worker processes. */
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

export const PG_URL = process.env.PG_URL ?? 'postgres://root@127.0.0.1:5432/test';
const workerScript = fileURLToPath(new URL('./postgres-worker.mjs', import.meta.url));
const built = fileURLToPath(new URL('../../dist/stores/postgres/index.js', import.meta.url));

/** Whether the suite can run: a server and a build. In CI a missing server fails the suite. */
export async function pgAvailable(admin: pg.Pool, what: string): Promise<boolean> {
  try {
    await admin.query('select 1');
  } catch (error) {
    if (process.env.CI) throw error;
    console.warn(`${what} skipped: no PostgreSQL at ${PG_URL} (${String(error)})`);
    return false;
  }
  if (!existsSync(built)) throw new Error(`${what} needs the build: run npm run build (missing ${built})`);
  return true;
}

export function randomSchema(tag: string): string {
  return `ai_${tag}_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
}

export interface WorkerSpec {
  readonly schema: string;
  readonly ledger: string;
  readonly concurrency: number;
  readonly leaseSeconds: number;
  readonly handlerMs: number;
}

/** Forks a worker and resolves once it is ready to claim. */
export function startWorker(spec: WorkerSpec): Promise<ChildProcess> {
  const child = fork(
    workerScript,
    [PG_URL, spec.schema, spec.ledger, String(spec.concurrency), String(spec.leaseSeconds), String(spec.handlerMs)],
    { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
  );
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('worker did not get ready within 15 s')), 15_000);
    child.once('message', () => {
      clearTimeout(timer);
      resolve(child);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`worker exited before ready (code ${code}, signal ${signal})`));
    });
  });
}

/** Ends a worker: SIGTERM (graceful) or SIGKILL; resolves when it has exited. */
export function stopWorker(child: ChildProcess, signal: 'SIGTERM' | 'SIGKILL'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill(signal);
  });
}
