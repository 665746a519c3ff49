/** The README's curl transcript: each command, the status it shows, and the request ids it shows. */

export interface CurlStep {
  /** The command as written (continuation lines included). */
  readonly command: string;
  /** README line of the command's first line. */
  readonly line: number;
  /** The status of the `# HTTP/1.1 202 Accepted` line shown under the command. */
  readonly status: number | undefined;
  /** Request ids the shown answer contains (`"requestId":"…"`), in order. */
  readonly shownIds: readonly string[];
}

const REQUEST_ID = /"requestId":"([A-Za-z0-9_-]+)"/g;

/**
 * The commands of a ```sh block: a command starts with `curl ` and goes on while lines end with
 * `\`; the `#` lines right after it are its answer. Other comments describe the next command.
 */
export function curlSteps(code: string, firstLine: number): CurlStep[] {
  const lines = code.split('\n');
  const steps: CurlStep[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (!lines[i]!.startsWith('curl ')) continue;
    const start = i;
    while (lines[i]!.endsWith('\\')) i++;
    const command = lines.slice(start, i + 1).join('\n');
    const answer: string[] = [];
    while (lines[i + 1]?.startsWith('#')) answer.push(lines[++i]!);
    const status = answer.map((l) => /^# HTTP\/1\.1 (\d{3})\b/.exec(l)?.[1]).find((s) => s !== undefined);
    const shownIds = answer.flatMap((l) => [...l.matchAll(REQUEST_ID)].map((m) => m[1]!));
    steps.push({ command, line: firstLine + start, status: status === undefined ? undefined : Number(status), shownIds });
  }
  return steps;
}

/** The status and the request ids of what `curl -i` printed. */
export function parseAnswer(output: string): { status: number | undefined; ids: string[] } {
  const status = /^HTTP\/[\d.]+ (\d{3})/.exec(output)?.[1];
  const body = output.slice(output.indexOf('\r\n\r\n') + 4);
  return { status: status === undefined ? undefined : Number(status), ids: [...body.matchAll(REQUEST_ID)].map((m) => m[1]!) };
}
