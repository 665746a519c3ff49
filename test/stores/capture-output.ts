/** Records what reaches the console, stderr or process warnings, for tests that must print nothing. */
import { vi } from 'vitest';

export interface CapturedOutput {
  /** Each write or call, prefixed with where it went. */
  readonly printed: string[];
  restore(): void;
}

/** Captures (and holds back) output from now until `restore()`. */
export function captureOutput(): CapturedOutput {
  const printed: string[] = [];
  const record = (where: string) => (...args: unknown[]): void => {
    printed.push(`${where}: ${args.map(String).join(' ')}`);
  };
  const spies = [
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      printed.push(`stderr: ${String(chunk)}`);
      return true;
    }),
    vi.spyOn(process, 'emitWarning').mockImplementation(record('warning')),
    ...(['error', 'warn', 'log', 'info', 'debug'] as const).map((m) => vi.spyOn(console, m).mockImplementation(record(`console.${m}`))),
  ];
  return { printed, restore: () => spies.forEach((spy) => spy.mockRestore()) };
}
