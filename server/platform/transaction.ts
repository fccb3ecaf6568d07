/**
 * The one way to run a write transaction: a dedicated pooled connection, BEGIN/COMMIT, and a
 * bounded retry on serialization failures and deadlocks (SQLSTATE 40001, 40P01) with jittered
 * backoff. Connection failures become UnavailableError so callers answer fast and clearly.
 */
import type { Pool, PoolClient } from 'pg';
import { isConnectionError, isRetryable, UnavailableError } from './errors.js';

export const TRANSACTION_ATTEMPTS_MAX = 5;

/** The connection a transaction runs on; use cases hand it to stores without knowing the driver. */
export type TxClient = PoolClient;
/** The connection pool; stores query it for reads outside a transaction. */
export type DbPool = Pool;
/** What a store reads from: the pool, or a transaction's connection. */
export type Queryable = Pool | PoolClient;

export interface TransactionOptions {
  /** The work sends BEGIN itself, together with its first statements (saves a round trip). */
  beginInWork?: boolean;
}

export async function withTransaction<T>(
  pool: Pool,
  work: (client: PoolClient) => Promise<T>,
  options: TransactionOptions = {},
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    let client: PoolClient;
    try {
      client = await pool.connect();
    } catch (error) {
      throw new UnavailableError('the database is unavailable', { cause: error });
    }
    let broken = false;
    try {
      if (!options.beginInWork) await client.query('begin');
      const result = await work(client);
      await client.query('commit');
      return result;
    } catch (error) {
      try {
        await client.query('rollback');
      } catch {
        broken = true;
      }
      if (isConnectionError(error)) {
        broken = true;
        throw new UnavailableError('the database is unavailable', { cause: error });
      }
      if (isRetryable(error) && attempt < TRANSACTION_ATTEMPTS_MAX) {
        await new Promise((r) => setTimeout(r, Math.random() * 5 * 2 ** attempt));
        continue;
      }
      throw error;
    } finally {
      client.release(broken ? true : undefined);
    }
  }
}
