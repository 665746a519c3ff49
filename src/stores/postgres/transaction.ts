/**
 * Statements in one transaction on one pool client: what a claim with limits needs (it holds a
 * lock from its first read to its write). Each statement's answer is bounded by the timeout, as
 * the store's single statements are; a failure rolls back and drops the client.
 */
import type { Pool, PoolClient } from 'pg';
import type { TimedQuery } from './connect.js';
import type { StatementName, Statements } from './statements.js';

/** Runs one of the store's statements inside the transaction. */
export type TxQuery = <R extends object>(name: StatementName, values: unknown[]) => Promise<R[]>;

const ignore = (): void => {};

export async function inTransaction<T>(pool: Pool, sql: Statements, timeoutMs: number, work: (query: TxQuery) => Promise<T>): Promise<T> {
  const client: PoolClient = await pool.connect();
  // A checked-out client has no listener of the pool's: a connection lost between two statements
  // would otherwise be an unhandled 'error' event. The failing statement rejects.
  client.on('error', ignore);
  const run = async <R extends object>(text: string, values?: unknown[]): Promise<R[]> => {
    const query: TimedQuery = { text, values, query_timeout: timeoutMs };
    return (await client.query<R>(query)).rows;
  };
  const query: TxQuery = <R extends object>(name: StatementName, values: unknown[]) => run<R>(sql[name], values);
  let failed: unknown;
  try {
    await run('begin');
    const result = await work(query);
    await run('commit');
    return result;
  } catch (error) {
    failed = error;
    await client.query('rollback').catch(ignore);
    throw error;
  } finally {
    client.off('error', ignore);
    // A client whose statement failed may be broken (or still running it): drop it.
    client.release(failed === undefined ? undefined : failed instanceof Error ? failed : true);
  }
}
