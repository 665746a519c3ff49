/**
 * The command line's `main` run in this process with captured output: for the many cases that
 * stop before any store is opened (usage, bad URLs, help), where a child process per case adds
 * nothing but start-up time. Store-facing cases run the built CLI (run-cli.ts).
 */
import { main } from '../../src/cli/main.js';
import type { CliResult } from './run-cli.js';

export async function runInProcess(args: readonly string[], env: Record<string, string | undefined> = {}): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const code = await main(args, {
    out: (text) => void (stdout += `${text}\n`),
    err: (text) => void (stderr += `${text}\n`),
    env,
    now: () => Date.now(),
    interrupts: () => ({ signal: new AbortController().signal, release: () => {} }),
  });
  return { code, signal: null, stdout, stderr };
}
