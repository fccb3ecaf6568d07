import type { Queryable } from '../platform/transaction.js';

/**
 * A flush barrier (see wal-flush.ts): a transactional logical-decoding message, which assigns a
 * transaction id and writes one WAL record (no table, no row lock, so barriers of several processes
 * never wait on each other), committed synchronously: PostgreSQL answers once the WAL is on disk up
 * to it, and so up to every commit made before it.
 */
export async function flushWal(db: Queryable): Promise<void> {
  await db.query({
    name: 'ledger-wal-flush',
    text: `select pg_logical_emit_message(true, 'solidarity-ledger/wal-flush', '') as lsn`,
  });
}
