/** Help text, rendered from the commands' own declarations. */
import type { FlagSpecs } from './flags.js';
import { STORE_URL_FORMS } from './store-url.js';

export const EXIT_CODES_HELP = `Exit codes:
  0    done
  1    unexpected failure (run again with --verbose for the stack trace)
  2    usage: unknown command or flag, bad flag value, malformed --store URL
  3    the store could not be reached or used (server down, timed out, no such SQLite file)
  4    no invocation with that id
  5    the invocation's state does not allow it (re-running one that has not finished)
  130  interrupted (Ctrl-C) while following logs`;

interface HelpSpec {
  readonly name: string;
  readonly summary: string;
  readonly args?: string;
  readonly description?: string;
  readonly examples: readonly string[];
}

export function renderHelp(spec: HelpSpec, flags: FlagSpecs): string {
  const rows = Object.entries(flags).map(([name, f]) => {
    const short = f.short ? `-${f.short}, ` : '';
    return [`${short}--${name}${f.type === 'string' ? ` <${f.value ?? 'value'}>` : ''}${f.multiple ? ' …' : ''}`, f.description] as const;
  });
  const width = Math.max(...rows.map(([left]) => left.length));
  return [
    `Usage: async-invoker ${spec.name}${spec.args ? ` ${spec.args}` : ''} --store <url> [flags]`,
    '',
    spec.summary,
    ...(spec.description ? ['', spec.description] : []),
    '',
    'Flags:',
    ...rows.map(([left, text]) => `  ${left.padEnd(width)}  ${text}`),
    '',
    'Examples:',
    ...spec.examples.map((e) => `  ${e}`),
  ].join('\n');
}

export function renderOverview(commands: readonly { readonly name: string; readonly summary: string }[]): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    'Usage: async-invoker <command> --store <url> [flags]',
    '',
    'Inspect and operate the invocations in an async-invoker store, without the app\'s handlers.',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    `Store URLs: ${STORE_URL_FORMS}`,
    '',
    'Run "async-invoker <command> --help" for its flags and examples.',
    '',
    EXIT_CODES_HELP,
  ].join('\n');
}
