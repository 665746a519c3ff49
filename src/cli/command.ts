/**
 * A command: its flags and help in one declaration, and a `run` that gets them parsed and typed,
 * plus a producer-only invoker on `--store`, opened on first use and always closed.
 */
import type { Invoker } from '../invoker.js';
import { EXIT, usageError, type ExitCode } from './exit.js';
import { intFlag } from './values.js';
import { parseFlags, type FlagSpecs, type FlagValues } from './flags.js';
import { renderHelp } from './help.js';
import type { Io } from './io.js';
import { openSession, type Session } from './session.js';
import { STORE_ENV } from './store-url.js';

/** Flags every command that reads the store takes. */
export const STORE_FLAGS = {
  store: {
    type: 'string',
    value: 'url',
    description: `where the invocations are: sqlite:<path>, redis://host:port[?prefix=…][&cluster=1], postgres://user@host/db[?schema=…] (default: $${STORE_ENV})`,
  },
  'timeout-ms': { type: 'string', value: 'ms', description: 'how long to wait for the store before giving up (100..600000, default 5000)' },
  verbose: { type: 'boolean', description: 'on failure, print the stack trace and the store\'s background errors' },
  help: { type: 'boolean', short: 'h', description: 'show this help' },
} as const satisfies FlagSpecs;

export const JSON_FLAG = {
  json: { type: 'boolean', description: 'print JSON for scripts instead of a table' },
} as const satisfies FlagSpecs;

export type StoreFlags = typeof STORE_FLAGS;

export interface CommandContext<S extends FlagSpecs> {
  readonly flags: FlagValues<S & StoreFlags>;
  /** Positional arguments, checked against the declared count. */
  readonly args: readonly string[];
  readonly io: Io;
  /** A producer-only invoker on `--store` (concurrency 0): knows the store, not the handlers. */
  invoker(): Promise<Invoker>;
}

export interface CommandSpec<S extends FlagSpecs> {
  readonly name: string;
  readonly summary: string;
  /** Arguments after the name, as shown in help: `<requestId>`. */
  readonly args?: string;
  /** How many positional arguments it takes. @default 0 */
  readonly argCount?: { readonly min: number; readonly max: number };
  /** What the arguments are, for the message when they are missing. */
  readonly argNeeded?: string;
  readonly description?: string;
  readonly flags: S;
  readonly examples: readonly string[];
  run(ctx: CommandContext<S>): Promise<ExitCode | void>;
}

export interface Command {
  readonly name: string;
  readonly summary: string;
  help(): string;
  execute(argv: readonly string[], io: Io): Promise<ExitCode>;
}

/** The shared flags, read before the command's own are used. */
function storeFlags(raw: Readonly<Record<string, unknown>>): { store?: string; timeoutMs?: string; verbose: boolean; help: boolean } {
  const text = (v: unknown) => (typeof v === 'string' ? v : undefined);
  return { store: text(raw['store']), timeoutMs: text(raw['timeout-ms']), verbose: raw['verbose'] === true, help: raw['help'] === true };
}

/** `--timeout-ms`: every store wait is bounded by it (PostgreSQL's own minimum is 100 ms). */
const TIMEOUT = { min: 100, max: 600_000, default: 5000 } as const;

export function defineCommand<S extends FlagSpecs>(spec: CommandSpec<S>): Command {
  const flagSpecs = { ...spec.flags, ...STORE_FLAGS };
  const help = () => renderHelp(spec, flagSpecs);
  return {
    name: spec.name,
    summary: spec.summary,
    help,
    async execute(argv, io) {
      const { values, raw, positionals } = parseFlags(spec.name, argv, flagSpecs, { ids: (spec.argCount?.max ?? 0) > 0 });
      const common = storeFlags(raw);
      if (common.help) {
        io.out(help());
        return EXIT.ok;
      }
      const { min, max } = spec.argCount ?? { min: 0, max: 0 };
      if (positionals.length < min) throw usageError(`missing ${spec.argNeeded ?? spec.args}: async-invoker ${spec.name} ${spec.args ?? ''} --store <url>`);
      if (positionals.length > max) throw usageError(`unexpected argument ${JSON.stringify(positionals[max])} for "${spec.name}"; run "async-invoker ${spec.name} --help"`);
      const timeoutMs = intFlag('--timeout-ms', common.timeoutMs, TIMEOUT) ?? TIMEOUT.default;
      let session: Session | undefined;
      let opening: Promise<Session> | undefined;
      const ctx: CommandContext<S> = {
        flags: values,
        args: positionals,
        io,
        invoker: async () => {
          opening ??= openSession(common.store ?? io.env[STORE_ENV], timeoutMs, common.verbose ? io : undefined);
          session = await opening;
          return session.invoker;
        },
      };
      try {
        return (await spec.run(ctx)) ?? EXIT.ok;
      } finally {
        await session?.close();
      }
    },
  };
}
