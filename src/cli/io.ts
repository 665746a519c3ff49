/** What a command may touch outside itself: its output streams, the environment, the clock, Ctrl-C. */

export interface Io {
  /** One line (or several) to stdout. */
  out(text: string): void;
  /** One line (or several) to stderr. */
  err(text: string): void;
  readonly env: Readonly<Record<string, string | undefined>>;
  now(): number;
  /**
   * A signal aborted on Ctrl-C (SIGINT) or SIGTERM, for commands that run until then (logs
   * --follow, dashboard). Until `release()`, those signals no longer end the process at once.
   */
  interrupts(): { readonly signal: AbortSignal; release(): void };
}

/** The process's own streams and signals. */
export function processIo(): Io {
  return {
    out: (text) => void process.stdout.write(`${text}\n`),
    err: (text) => void process.stderr.write(`${text}\n`),
    env: process.env,
    now: () => Date.now(),
    interrupts() {
      const controller = new AbortController();
      const onSignal = () => controller.abort();
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      return {
        signal: controller.signal,
        release() {
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
        },
      };
    },
  };
}

/** Resolves once everything written to stdout and stderr has been handed to the system. */
export async function flushOutput(): Promise<void> {
  await Promise.all([process.stdout, process.stderr].map((stream) => new Promise<void>((resolve) => stream.write('', () => resolve()))));
}
