/** Any failure as one line for stderr and an exit code; the stack only with --verbose. */
import { InvalidArgumentError, InvocationNotFinalError, InvocationNotFoundError, StoreError } from '../errors.js';
import { CliError, EXIT, type ExitCode } from './exit.js';

export interface Failure {
  readonly exitCode: ExitCode;
  readonly message: string;
}

export function describeFailure(error: unknown): Failure {
  if (error instanceof CliError) return { exitCode: error.exitCode, message: error.message };
  if (error instanceof StoreError) return { exitCode: EXIT.unreachable, message: oneLine(error.message) };
  if (error instanceof InvocationNotFoundError) {
    return { exitCode: EXIT.notFound, message: `${error.message}: check the id and --store (finished invocations are pruned after the store's retention)` };
  }
  if (error instanceof InvocationNotFinalError) return { exitCode: EXIT.refused, message: error.message };
  if (error instanceof InvalidArgumentError) return { exitCode: EXIT.usage, message: error.message };
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return { exitCode: EXIT.unexpected, message: `unexpected failure: ${oneLine(text)} (run again with --verbose for the stack trace)` };
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ');
}
