/**
 * Loads the Lua scripts (scripts/*.lua, the op scripts prefixed with scripts/lib.lua, the claim
 * with its parts too) and runs
 * them with EVALSHA in pipelines. When the server lost its script cache (a restart, a failover,
 * SCRIPT FLUSH), the calls that failed with NOSCRIPT are sent again as EVAL with their source;
 * the others already ran and keep their results, so nothing is applied twice. Errors are the driver's, as they come: the
 * store maps them (faults.ts).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { RedisClient } from './connect.js';

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

/** The step as EVAL with the script's source: runs it and caches it on whichever node answers. */
function withSource(step: Step): [string, Arg[]] {
  const [command, args] = argsOf(step);
  if (command !== 'evalsha') return [command, args];
  const source = scripts()[(step as { script: ScriptName }).script].source;
  return ['eval', [source, ...args.slice(1)]];
}

/** The first key a step touches ('' for none): the node it goes to on a cluster. */
export function keyOf(step: Step): string {
  if ('script' in step) return step.keys[0] ?? '';
  return KEYLESS.has(step.command) ? '' : String(step.args[0] ?? '');
}

const KEYLESS: ReadonlySet<string> = new Set(['publish', 'wait', 'script', 'ping']);

/**
 * Replicas that must acknowledge a round trip's writes: WAIT goes last in its pipeline, on the
 * connection (the master) that took them.
 */
export interface ReplicaWait {
  readonly replicas: number;
  readonly timeoutMs: number;
}

/** Fewer replicas than asked acknowledged a write within the time allowed. */
export class ReplicasBehind extends Error {
  constructor(
    readonly acknowledged: number,
    readonly wanted: number,
    readonly ms: number,
  ) {
    super(`the write reached ${acknowledged} of ${wanted} replica(s) within ${ms} ms`);
    this.name = 'ReplicasBehind';
  }
}

/**
 * Runs `steps` in one round trip (one pipeline) and returns their replies in order; with
 * `wait`, a WAIT follows them and fewer acknowledgements than asked fail the call.
 */
export async function runSteps(client: RedisClient, steps: readonly Step[], wait?: ReplicaWait): Promise<unknown[]> {
  if (steps.length === 0) return [];
  const sent = wait ? [...steps, { command: 'wait', args: [wait.replicas, wait.timeoutMs] }] : steps;
  const replies = sent.length === 1 ? [await runOne(client, sent[0]!)] : await execPipeline(client, sent, argsOf);
  const missing: number[] = [];
  replies.forEach((reply, i) => {
    if (reply instanceof Error && isNoScript(reply)) missing.push(i);
  });
  if (missing.length) {
    // The server lost its script cache (a restart, a failover to a replica, SCRIPT FLUSH): the
    // calls that failed are sent with their source; the others already ran.
    const rerun = await execPipeline(client, [...missing.map((i) => sent[i]!), ...(wait ? [sent.at(-1)!] : [])], withSource);
    missing.forEach((i, j) => (replies[i] = rerun[j]));
    if (wait) replies[replies.length - 1] = rerun.at(-1);
  }
  for (const reply of replies) if (reply instanceof Error) throw reply;
  if (!wait) return replies;
  const acknowledged = Number(replies.pop());
  if (acknowledged < wait.replicas) throw new ReplicasBehind(acknowledged, wait.replicas, wait.timeoutMs);
  return replies;
}

/** One step as a plain command: a pipeline of one costs the client more than the command. */
async function runOne(client: RedisClient, step: Step): Promise<unknown> {
  try {
    const [command, args] = argsOf(step);
    return await client.call(command, args);
  } catch (error) {
    if (!isNoScript(error)) throw error;
  }
  const [command, args] = withSource(step);
  return client.call(command, args);
}

async function execPipeline(client: RedisClient, steps: readonly Step[], as: (step: Step) => [string, Arg[]]): Promise<unknown[]> {
  const pipeline = client.pipeline();
  for (const step of steps) {
    const [command, args] = as(step);
    pipeline.call(command, args);
  }
  const results = (await pipeline.exec()) ?? [];
  return results.map(([error, reply]) => error ?? reply);
}
