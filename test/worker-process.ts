/**
 * A worker process forked by a multi-process test (crash tests, flow-control tests): started,
 * SIGKILLed or stopped gracefully (SIGTERM), with exits the test did not cause recorded, and
 * every one still running killed when the test process exits, however the test ended.
 */
import { fork, type ChildProcess } from 'node:child_process';

/** Forked workers still running: killed when this process exits, however the test ended. */
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

export class WorkerProcess {
  child: ChildProcess | undefined;
  /** Exits we did not cause (a crash of the worker itself): each fails the run. */
  readonly unexpectedExits: string[] = [];
  #expectExit = false;
  readonly #script: string;
  readonly #env: NodeJS.ProcessEnv;

  constructor(script: string, env: NodeJS.ProcessEnv) {
    this.#script = script;
    this.#env = env;
  }

  /** Forks the worker and resolves once it sends its first message (it is ready). */
  start(): Promise<void> {
    const child = fork(this.#script, [], { env: this.#env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.child = child;
    live.add(child);
    child.once('exit', () => live.delete(child));
    this.#expectExit = false;
    child.once('exit', (code, signal) => {
      if (!this.#expectExit) this.unexpectedExits.push(`pid ${child.pid} exited by itself (${code ?? signal})`);
    });
    return new Promise((resolve, reject) => {
      child.once('message', () => resolve());
      child.once('exit', (code, signal) => reject(new Error(`worker ${this.#script} exited before ready (${code ?? signal})`)));
    });
  }

  kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
    this.#expectExit = true;
    return new Promise((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  }

  /** Graceful: the worker closes its invoker and exits. */
  stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
    this.#expectExit = true;
    return new Promise((resolve) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      child.kill('SIGTERM');
    });
  }
}
