/**
 * Flags: declared once per command (the same declaration renders its --help), read with
 * node:util parseArgs, and refused with a message that names the flag, what was received and
 * what to do. parseArgs runs non-strict so that every refusal is worded here, not by Node.
 */
import { parseArgs } from 'node:util';
import { usageError } from './exit.js';
import { closest } from './suggest.js';

export interface FlagSpec {
  readonly type: 'string' | 'boolean';
  /** May be given more than once (values are collected in order). */
  readonly multiple?: boolean;
  readonly short?: string;
  /** Placeholder shown in help: `--limit <n>`. */
  readonly value?: string;
  readonly description: string;
}

export type FlagSpecs = Readonly<Record<string, FlagSpec>>;

/** The parsed flags, typed from their declaration. */
export type FlagValues<S extends FlagSpecs> = {
  readonly [K in keyof S]?: S[K]['type'] extends 'boolean' ? boolean : S[K]['multiple'] extends true ? readonly string[] : string;
};

export interface ParsedFlags<S extends FlagSpecs> {
  readonly values: FlagValues<S>;
  /** The same values, untyped: for code that handles flags every command shares. */
  readonly raw: Readonly<Record<string, string | boolean | readonly string[]>>;
  readonly positionals: readonly string[];
}

/**
 * An argument that starts with a dash but is an id, not a flag: request ids are 22 characters of
 * A-Za-z0-9_- and one in 64 starts with `-`. No flag is this long.
 */
const DASHED_ID = /^-[A-Za-z0-9_-]{15,}$/;

/**
 * Parses `argv` (the arguments after the command's name) against `specs`. With `ids`, an
 * argument shaped like an id that starts with a dash (and is no flag) is a positional argument.
 */
export function parseFlags<S extends FlagSpecs>(command: string, argv: readonly string[], specs: S, { ids = false } = {}): ParsedFlags<S> {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = {};
  for (const [name, spec] of Object.entries(specs)) {
    options[name] = { type: spec.type, ...(spec.short ? { short: spec.short } : {}), ...(spec.multiple ? { multiple: true } : {}) };
  }
  const { args, dashed } = ids ? setAsideDashedIds(argv, specs) : { args: argv.map((arg, index) => ({ arg, index })), dashed: [] };
  const { tokens } = parseArgs({ args: args.map((a) => a.arg), options, strict: false, allowPositionals: true, tokens: true });
  const values: Record<string, string | boolean | string[]> = {};
  const found: { arg: string; index: number }[] = [...dashed];
  const help = `run "async-invoker ${command} --help" for the flags it takes`;
  for (const token of tokens) {
    if (token.kind === 'positional') {
      found.push({ arg: token.value, index: args[token.index]!.index });
      continue;
    }
    if (token.kind !== 'option') continue;
    const spec = specs[token.name];
    if (!spec) {
      const near = closest(token.name, Object.keys(specs));
      throw usageError(`unknown flag ${token.rawName} for "${command}"${near ? ` (did you mean --${near}?)` : ''}; ${help}`);
    }
    const shown = `--${token.name}`;
    if (spec.type === 'boolean') {
      if (token.value !== undefined) throw usageError(`${shown} takes no value; received ${JSON.stringify(token.value)}`);
      values[token.name] = true;
      continue;
    }
    const placeholder = `${shown} <${spec.value ?? 'value'}>`;
    if (token.value === undefined) throw usageError(`${shown} needs a value: ${placeholder}`);
    if (!token.inlineValue && token.value.startsWith('--')) throw usageError(`${shown} needs a value: ${placeholder}`);
    if (!token.inlineValue && token.value.startsWith('-') && token.value.length > 1) {
      throw usageError(`${shown} is followed by ${JSON.stringify(token.value)}, which looks like a flag; write ${shown}=${token.value} if it is the value`);
    }
    if (spec.multiple) {
      const list = values[token.name];
      values[token.name] = Array.isArray(list) ? [...list, token.value] : [token.value];
    } else {
      if (token.name in values) throw usageError(`${shown} was given twice; give it once`);
      values[token.name] = token.value;
    }
  }
  const positionals = found.sort((a, b) => a.index - b.index).map((p) => p.arg);
  // Built from the declaration above: each value has the type FlagValues gives its flag.
  return { values: values as FlagValues<S>, raw: values, positionals };
}

/** Takes dash-led ids out of `argv` (each with its place, to keep the positionals' order). */
function setAsideDashedIds(argv: readonly string[], specs: FlagSpecs): { args: { arg: string; index: number }[]; dashed: { arg: string; index: number }[] } {
  const args: { arg: string; index: number }[] = [];
  const dashed: { arg: string; index: number }[] = [];
  let ended = false;
  argv.forEach((arg, index) => {
    const previous = argv[index - 1];
    const takesValue = previous !== undefined && /^--[^=]+$/.test(previous) && specs[previous.slice(2)]?.type === 'string';
    if (arg === '--') ended = true;
    const isFlag = arg.startsWith('--') && arg.slice(2) in specs;
    if (!ended && !takesValue && !isFlag && DASHED_ID.test(arg)) dashed.push({ arg, index });
    else args.push({ arg, index });
  });
  return { args, dashed };
}
