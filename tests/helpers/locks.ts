/**
 * Holding a book's chain head locked from outside the service, so that its writes wait in
 * PostgreSQL: what keeps requests in flight for as long as a test needs (a drain on SIGTERM, a
 * race). Every write to a book locks its `book` row `FOR NO KEY UPDATE` first (see
 * server/ledger/store.ts); a `FOR UPDATE` lock held here makes it wait.
 */
import pg from 'pg';
import { decodeGlobalId } from './ledger.js';

export interface BookLock {
  /** How many other sessions are waiting for a lock this session holds. */
  waiters(): Promise<number>;
  /** Ends the transaction (the waiting writes go on) and closes the connection. Idempotent. */
  release(): Promise<void>;
}

/** Locks the `book` row of `bookId` (a global id) in a transaction of a new connection. */
export async function holdBookLock(databaseUrl: string, bookId: string): Promise<BookLock> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  await client.query('begin');
  const { rowCount } = await client.query('select 1 from book where id = $1 for update', [
    decodeGlobalId(bookId).id,
  ]);
  if (rowCount !== 1) {
    await client.end();
    throw new Error(`no book row ${bookId} to lock`);
  }
  const { rows } = await client.query<{ pid: number }>('select pg_backend_pid() as pid');
  const pid = rows[0]!.pid;
  let released: Promise<void> | undefined;
  return {
    waiters: async () => {
      const { rows: waiting } = await client.query<{ n: string }>(
        'select count(*) as n from pg_stat_activity where $1 = any(pg_blocking_pids(pid))',
        [pid],
      );
      return Number(waiting[0]!.n);
    },
    release: () => {
      released ??= (async () => {
        try {
          await client.query('rollback');
        } finally {
          await client.end();
        }
      })();
      return released;
    },
  };
}
