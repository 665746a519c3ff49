/**
 * The built command line as users run it: `node dist/cli.js ...` in a child process. Waits are
 * on what the child printed or on its exit, never on time.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { waitFor } from '../helpers.js';

export const CLI = resolve(import.meta.dirname, '../../dist/cli.js');

export interface CliResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunningCli {
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves once stdout contains `text`; rejects (naming what was printed) if the child exits first. */
  printed(text: string): Promise<void>;
  readonly exited: Promise<CliResult>;
}

export function assertBuilt(): void {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: build first (npm run build, or npx tsc -p tsconfig.build.json)`);
}

/** Environment of the child: no store from the environment unless a test sets one. */
function childEnv(env: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const merged: NodeJS.ProcessEnv = { ...process.env, ...env };
  if (!('ASYNC_INVOKER_STORE' in env)) delete merged.ASYNC_INVOKER_STORE;
  return merged;
}

export function startCli(args: readonly string[], options: { env?: Record<string, string | undefined>; cwd?: string } = {}): RunningCli {
  const child = spawn(process.execPath, [CLI, ...args], { env: childEnv(options.env ?? {}), cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  let done = false;
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  const exited = new Promise<CliResult>((resolvePromise, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      done = true;
      resolvePromise({ code, signal, stdout: out, stderr: err });
    });
  });
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    async printed(text) {
      await waitFor(
        () => {
          if (out.includes(text)) return true;
          if (done) throw new Error(`the command exited without printing ${JSON.stringify(text)}; stdout: ${out} stderr: ${err}`);
          return false;
        },
        { timeoutMs: 25_000, intervalMs: 20, what: `the command to print ${JSON.stringify(text)} (stdout so far: ${JSON.stringify(out)})` },
      );
    },
  };
}

export function runCli(args: readonly string[], options: { env?: Record<string, string | undefined>; cwd?: string } = {}): Promise<CliResult> {
  return startCli(args, options).exited;
}

/** Runs the command and parses its stdout as JSON; fails with what it printed if it did not exit 0. */
export async function runJson<T>(args: readonly string[]): Promise<T> {
  const result = await runCli([...args, '--json']);
  if (result.code !== 0) throw new Error(`exit ${result.code}: ${result.stderr}`);
  return JSON.parse(result.stdout) as T;
}

/** A failure as the tool prints it: one line on stderr, nothing on stdout, no stack trace. */
export function expectOneLineError(result: CliResult): string {
  const lines = result.stderr.trimEnd().split('\n');
  if (lines.length !== 1 || result.stdout !== '' || /\n\s+at /.test(result.stderr)) {
    throw new Error(`expected one line on stderr and nothing on stdout; stdout: ${JSON.stringify(result.stdout)} stderr: ${JSON.stringify(result.stderr)}`);
  }
  return lines[0]!;
}
