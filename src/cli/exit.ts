/** The command's exit codes (documented in the README's "Command line") and the error that carries one. */

export const EXIT = {
  /** Done. */
  ok: 0,
  /** Something failed that the tool did not foresee (a bug, or a store missing an operation). */
  unexpected: 1,
  /** Bad usage: an unknown command or flag, a flag value out of range, a malformed --store URL. */
  usage: 2,
  /** The store could not be reached or used: server down or unreachable, timed out, missing SQLite file. */
  unreachable: 3,
  /** No invocation with that id. */
  notFound: 4,
  /** The invocation is not in a state the command applies to (re-running one that has not finished). */
  refused: 5,
  /** Interrupted (Ctrl-C) while following logs or serving the dashboard; everything was closed. */
  interrupted: 130,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** A failure the tool explains in one line: what was wrong and what to do. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'CliError';
  }
}

/** A usage error: exit code 2. */
export function usageError(message: string): CliError {
  return new CliError(message, EXIT.usage);
}
