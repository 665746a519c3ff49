/**
 * Statements in one transaction on one pool client: what a claim with limits needs (it holds a
 * lock from its first read to its write). Statements sent before their answers are awaited
 * share a round trip when the client pipelines (the pool the store opens does); on any other
 * client they go one after another. Each statement's answer is bounded by the timeout, as the
 * store's single statements are; a failure rolls back and drops the client.
 */
import type { Pool, PoolClient } from 'pg';
import type { TimedQuery } from './connect.js';
import type { StatementName, StatementNames, Statements } from './statements.js';

/** Sends one of the store's statements inside the transaction. */
export type TxQuery = <R extends object>(name: StatementName, values: unknown[]) => Promise<R[]>;

export interface Tx {
  readonly query: TxQuery;
  /** Sends COMMIT behind what was sent; resolves once committed (once, however often called). */
  commit(): Promise<void>;
}

const ignore = (): void => {};

/** One of the store's statements, prepared under its name when it has one (statements.ts). */
export function namedQuery(sql: Statements, names: StatementNames, name: StatementName, values: unknown[], timeoutMs: number): TimedQuery {
  const prepared = names[name];
  return prepared === undefined
    ? { text: sql[name], values, query_timeout: timeoutMs }
    : { name: prepared, text: sql[name], values, query_timeout: timeoutMs };
}

export async function inTransaction<T>(
  pool: Pool,
  sql: Statements,
  names: StatementNames,
  timeoutMs: number,
  work: (tx: Tx) => Promise<T>,
): Promise<T> {
  const client: PoolClient = await pool.connect();
  // A checked-out client has no listener of the pool's: a connection lost between two statements
  // would otherwise be an unhandled 'error' event. The failing statement rejects.
  client.on('error', ignore);
  const pipelined = (client as PoolClient & { pipeline?: boolean }).pipeline === true;
  // Without pipelining, a statement is sent once the one before it has its answer.
  let previous: Promise<unknown> = Promise.resolve();
  const send = <R extends object>(query: TimedQuery): Promise<R[]> => {
    const run = async () => (await client.query<R>(query)).rows;
    const answer = pipelined ? run() : previous.then(run, run);
    previous = answer;
    // A statement sent but not awaited (the work failed first) must not be an unhandled rejection.
    answer.catch(ignore);
    return answer;
  };
  const plain = (text: string): TimedQuery => ({ text, query_timeout: timeoutMs });
  let committed: Promise<void> | undefined;
  const tx: Tx = {
    query: <R extends object>(name: StatementName, values: unknown[]) => send<R>(namedQuery(sql, names, name, values, timeoutMs)),
    commit: () => (committed ??= send(plain('commit')).then(ignore)),
  };
  let failed: unknown;
  try {
    const begun = send(plain('begin'));
    const [, result] = await Promise.all([begun, work(tx)]);
    await tx.commit();
    return result;
  } catch (error) {
    failed = error;
    // Behind whatever is still on its way, as everything else.
    await send(plain('rollback')).catch(ignore);
    throw error;
  } finally {
    client.off('error', ignore);
    // A client whose statement failed may be broken (or still running it): drop it.
    client.release(failed === undefined ? undefined : failed instanceof Error ? failed : true);
  }
}
