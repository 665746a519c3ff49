/**
 * Loads the Lua scripts (scripts/*.lua, the op scripts prefixed with scripts/lib.lua, the claim
 * with its parts too) and runs
 * them with EVALSHA in pipelines. When the server lost its script cache (a restart, SCRIPT
 * FLUSH), the calls that failed with NOSCRIPT are loaded and rerun; the others already ran and
 * keep their results, so nothing is applied twice. Errors are the driver's, as they come: the
 * store maps them (faults.ts).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';

export const SCRIPT_NAMES = [
  'enqueue', 'claim', 'settle', 'heartbeat', 'stop', 'prune', 'workers', 'append-logs', 'activity', 'adopt',
] as const;
export type ScriptName = (typeof SCRIPT_NAMES)[number];
/** Scripts that do not change a function's indexes, so do not take lib.lua's index keys. */
const WITHOUT_LIB: ReadonlySet<ScriptName> = new Set(['workers', 'append-logs', 'activity']);
/** Files prepended to a script after lib.lua, in order (one chunk: each sees the locals before it). */
const PARTS: Partial<Record<ScriptName, readonly string[]>> = {
  claim: ['claim-take', 'claim-gate', 'claim-due', 'claim-groups'],
};

interface Script {
  readonly source: string;
  readonly sha: string;
}

function loadSources(): Record<ScriptName, Script> {
  // Resolved next to this module: the build copies the .lua files into dist/ beside it.
  const read = (name: string) => readFileSync(new URL(`./scripts/${name}.lua`, import.meta.url), 'utf8');
  const lib = read('lib');
  const scripts = {} as Record<ScriptName, Script>;
  for (const name of SCRIPT_NAMES) {
    const parts = [...(WITHOUT_LIB.has(name) ? [] : [lib]), ...(PARTS[name] ?? []).map(read), read(name)];
    const source = parts.join('\n');
    scripts[name] = { source, sha: createHash('sha1').update(source).digest('hex') };
  }
  return scripts;
}

let cached: Record<ScriptName, Script> | undefined;
function scripts(): Record<ScriptName, Script> {
  return (cached ??= loadSources());
}

/** An argument of a command: a Buffer where the bytes matter (a lex range bound past any UTF-8). */
export type Arg = string | number | Buffer;

/** One step of a pipeline: a script call or a plain command. */
export type Step =
  | { readonly script: ScriptName; readonly keys: readonly string[]; readonly args: readonly (string | number)[] }
  | { readonly command: string; readonly args: readonly Arg[] };

function argsOf(step: Step): [string, Arg[]] {
  if ('script' in step) {
    return ['evalsha', [scripts()[step.script].sha, step.keys.length, ...step.keys, ...step.args]];
  }
  return [step.command, [...step.args]];
}

function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('NOSCRIPT');
}

/** Runs `steps` in one round trip (one pipeline) and returns their replies in order. */
export async function runSteps(client: Redis, steps: readonly Step[]): Promise<unknown[]> {
  if (steps.length === 0) return [];
  if (steps.length === 1) return [await runOne(client, steps[0]!)];
  const replies = await execPipeline(client, steps);
  const missing: number[] = [];
  replies.forEach((reply, i) => {
    if (reply instanceof Error && isNoScript(reply)) missing.push(i);
  });
  if (missing.length) {
    await loadScripts(client);
    const rerun = await execPipeline(client, missing.map((i) => steps[i]!));
    missing.forEach((i, j) => (replies[i] = rerun[j]));
  }
  for (const reply of replies) if (reply instanceof Error) throw reply;
  return replies;
}

/** One step as a plain command: a pipeline of one costs the client more than the command. */
async function runOne(client: Redis, step: Step): Promise<unknown> {
  const [command, args] = argsOf(step);
  try {
    return await client.call(command, args);
  } catch (error) {
    if (!isNoScript(error)) throw error;
  }
  await loadScripts(client);
  return client.call(command, args);
}

async function execPipeline(client: Redis, steps: readonly Step[]): Promise<unknown[]> {
  const pipeline = client.pipeline();
  for (const step of steps) {
    const [command, args] = argsOf(step);
    pipeline.call(command, args);
  }
  const results = (await pipeline.exec()) ?? [];
  return results.map(([error, reply]) => error ?? reply);
}

/** SCRIPT LOAD for every script (on connect, and after a NOSCRIPT reply). */
export async function loadScripts(client: Redis): Promise<void> {
  const pipeline = client.pipeline();
  for (const name of SCRIPT_NAMES) pipeline.call('script', ['load', scripts()[name].source]);
  const results = (await pipeline.exec()) ?? [];
  for (const [error] of results) if (error) throw error;
}
