/**
 * The store's SQL, read once from the .sql files beside this module (copied to dist/ by the
 * build) and specialised for one schema: `{{schema}}` becomes the quoted schema name and
 * `{{record_columns}}` the shared column list.
 */
import { createHash } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';

const here = new URL('.', import.meta.url);
/**
 * The statements of the hot path (enqueue, claim, settle, heartbeat, get), sent as named
 * prepared statements: the server parses and plans each once per connection instead of at
 * every call, which for these long statements cost more than running them (a limited claim:
 * ~17 ms a call unprepared, ~4 ms prepared, on a loaded 2-core machine).
 */
const PREPARED_NAMES = [
  'enqueue',
  'find-idempotent',
  'claim',
  'next-due',
  'settle',
  'heartbeat',
  'get',
  'find-by-invocation-id',
  'limit-lock',
  'limit-state',
  'limit-page',
  'limit-groups',
  'limit-adopt',
  'limit-take',
  'limit-fast',
] as const;
/** Statements made of others (see settleThenClaim, unkeyedEnqueue), prepared as well. */
const DERIVED_NAMES = ['settle-claim', 'enqueue-unkeyed'] as const;
/**
 * The others (listing, statistics, retention, presence, logs) keep a plan made for their
 * arguments: their filters are optional, and one generic plan would not fit every combination.
 */
const UNPREPARED_NAMES = [
  'stop',
  'list',
  'stats',
  'prune',
  'announce',
  'withdraw',
  'workers',
  'append-logs',
  'trim-logs',
  'read-logs',
  'record-activity',
  'activity',
  'refresh-stats',
] as const;
const NAMES = [...PREPARED_NAMES, ...UNPREPARED_NAMES];
export type StatementName = (typeof NAMES)[number] | (typeof DERIVED_NAMES)[number];
export type Statements = Readonly<Record<StatementName, string>>;
/** The prepared-statement name of each statement sent prepared (PREPARED_NAMES). */
export type StatementNames = Readonly<Partial<Record<StatementName, string>>>;
const PREPARED: ReadonlySet<StatementName> = new Set<StatementName>([...PREPARED_NAMES, ...DERIVED_NAMES]);

export interface Migration {
  readonly id: number;
  readonly name: string;
  readonly sql: string;
}

let raw: Promise<{ statements: Record<string, string>; columns: string; migrations: Migration[] }> | undefined;

function load() {
  raw ??= (async () => {
    const read = (path: string) => readFile(new URL(path, here), 'utf8');
    const statements: Record<string, string> = {};
    await Promise.all(NAMES.map(async (name) => (statements[name] = await read(`sql/${name}.sql`))));
    const files = (await readdir(new URL('sql/', here))).filter((f) => /^\d{3}_.+\.sql$/.test(f)).sort();
    const migrations = await Promise.all(
      files.map(async (file) => ({ id: Number(file.slice(0, 3)), name: file, sql: await read(`sql/${file}`) })),
    );
    return { statements, columns: await read('sql/record-columns.sql'), migrations };
  })();
  return raw;
}

/** `"name"`: the schema is validated as a plain identifier, quoting keeps its case. */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

export async function loadStatements(schema: string): Promise<{ statements: Statements; names: StatementNames; migrations: Migration[] }> {
  const { statements, columns, migrations } = await load();
  const quoted = quoteIdent(schema);
  const fill = (sql: string) => sql.replaceAll('{{record_columns}}', columns).replaceAll('{{schema}}', quoted);
  const out = {} as Record<StatementName, string>;
  const names: Partial<Record<StatementName, string>> = {};
  for (const name of NAMES) out[name] = fill(statements[name]!);
  out['settle-claim'] = settleThenClaim(out.claim, out.settle);
  out['enqueue-unkeyed'] = unkeyedEnqueue(out.enqueue);
  for (const name of PREPARED) {
    // Named after the text (schema included): stores of other schemas, or another version of
    // this one, sharing a pool never reuse a name for another statement. Short enough for the
    // server's 63-byte names.
    names[name] = `ai_${createHash('sha256').update(out[name]).digest('hex').slice(0, 32)}`;
  }
  return { statements: out, names, migrations: migrations.map((m) => ({ ...m, sql: fill(m.sql) })) };
}

/**
 * settle.sql's batch and claim.sql's claim as one statement: one round trip and one commit where
 * a worker settles an attempt and claims its next work at once. Both see one snapshot, so the
 * claim does not see the settled rows (and is told not to take them, its $5); their wake-ups
 * and due signals are sent as settle.sql sends them. Parameters: claim.sql's $1-$5, then
 * settle.sql's from $6. Each row of the claim's answer carries the settlements' answer
 * (`settled`, a JSON array in settle.sql's columns).
 */
export function settleThenClaim(claim: string, settle: string): string {
  const [claimWith, claimAnswer] = splitAnswer(claim);
  const [settleWith, settleAnswer] = splitAnswer(settle);
  const shift = (sql: string) => sql.replace(/\$(\d+)/g, (_, n: string) => `$${Number(n) + 5}`);
  const settleTables = withoutComments(shift(settleWith)).trim();
  if (!settleTables.startsWith('with ')) throw new Error('settle.sql: expected its common table expressions first');
  return `${claimWith.trimEnd()},
${settleTables.slice('with '.length).trimEnd()},
settled as (${shift(settleAnswer).trim()}),
claim_answer as (${claimAnswer.trim()})
select a.*, (select coalesce(json_agg(x order by x.ord), '[]'::json) from settled x) as settled
from claim_answer a
order by a.was_due, a.request_id`;
}

/**
 * enqueue.sql for a batch in which no item has an invocation id: none can repeat a stored
 * invocation or another item, so a plain insert does. Conflict handling costs the server a
 * check before every row (speculative insertion) and the answer an anti-join of the batch with
 * what was inserted, about a tenth of a bulk enqueue's time between them. A request id already
 * taken (80 random bits: not expected) fails the statement, and so the whole batch. It answers
 * one row, how many functions were notified (read, so that the notifications are sent).
 */
export function unkeyedEnqueue(enqueue: string): string {
  const [tables] = splitAnswer(enqueue);
  const conflicts = /^[ \t]*on conflict do nothing\n/m;
  if (!conflicts.test(tables)) throw new Error('enqueue.sql: expected an "on conflict do nothing" line');
  return `${tables.replace(conflicts, '').trimEnd()}
select count(*)::integer as notified from notified`;
}

/** A statement's text before and after its `-- answer` line (its final select). */
function splitAnswer(sql: string): [string, string] {
  const parts = sql.split(/^-- answer$/m);
  if (parts.length !== 2) throw new Error('expected one "-- answer" line before the final select');
  return [parts[0]!, parts[1]!];
}

function withoutComments(sql: string): string {
  return sql
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('--'))
    .join('\n');
}
