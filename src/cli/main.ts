/** The `async-invoker` command line: finds the command, runs it, turns any failure into one line and an exit code. */
import { readFileSync } from 'node:fs';
import { COMMANDS } from './commands/index.js';
import { EXIT, type ExitCode } from './exit.js';
import { describeFailure } from './failure.js';
import { renderOverview } from './help.js';
import { closest } from './suggest.js';
import type { Io } from './io.js';

/** Flags that take a value, so the value is not mistaken for the command: `--store x list`. */
const VALUE_FLAGS = new Set(['--store', '--timeout-ms']);

export async function main(argv: readonly string[], io: Io): Promise<ExitCode> {
  const { name, rest } = splitCommand(argv);
  if (name === undefined) {
    if (rest.includes('--version') || rest.includes('-v')) {
      io.out(version());
      return EXIT.ok;
    }
    if (rest.includes('--help') || rest.includes('-h')) {
      io.out(renderOverview(COMMANDS));
      return EXIT.ok;
    }
    io.err(renderOverview(COMMANDS));
    return EXIT.usage;
  }
  if (name === 'help') {
    const topic = COMMANDS.find((c) => c.name === rest[0]);
    io.out(topic ? topic.help() : renderOverview(COMMANDS));
    return EXIT.ok;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    const names = COMMANDS.map((c) => c.name);
    const near = closest(name, names);
    io.err(`async-invoker: unknown command ${JSON.stringify(name)}${near ? ` (did you mean "${near}"?)` : ''}; commands: ${names.join(', ')}; run "async-invoker --help"`);
    return EXIT.usage;
  }
  try {
    return await command.execute(rest, io);
  } catch (error) {
    const failure = describeFailure(error);
    io.err(`async-invoker ${command.name}: ${failure.message}`);
    if (rest.includes('--verbose')) io.err(stackOf(error));
    return failure.exitCode;
  }
}

/** The first argument that is neither a flag nor a flag's value is the command. */
function splitCommand(argv: readonly string[]): { name?: string; rest: string[] } {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') break;
    if (VALUE_FLAGS.has(arg)) {
      i++;
      continue;
    }
    if (!arg.startsWith('-')) return { name: arg, rest: [...argv.slice(0, i), ...argv.slice(i + 1)] };
  }
  return { rest: [...argv] };
}

/** The stack, and each `cause`'s (a store's failure carries the driver's error). */
function stackOf(error: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = error, depth = 0; e !== undefined && depth < 5; depth++) {
    parts.push(e instanceof Error ? (e.stack ?? `${e.name}: ${e.message}`) : String(e));
    e = e instanceof Error ? e.cause : undefined;
  }
  return parts.join('\nCaused by: ');
}

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}
