/**
 * Holding a book's chain head locked from outside the service, so that its writes wait in
 * PostgreSQL: what keeps requests in flight for as long as a test needs (a drain on SIGTERM, a
 * race). Every write to a book locks its `book` row `FOR NO KEY UPDATE` first (see
 * server/ledger/store.ts); a `FOR UPDATE` lock held here makes it wait.
 */
import pg from 'pg';
import { decodeGlobalId } from './ledger.js';

export interface BookLock {
  /**
   * How many other sessions wait behind this one: for a lock it holds, or behind such a waiter
   * (PostgreSQL queues the second waiter of a row behind the first, not behind the holder).
   */
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
      // Inside a transaction pg_stat_activity is read once and kept: read it afresh each time.
      await client.query('select pg_stat_clear_snapshot()');
      const { rows: waiting } = await client.query<{ n: string }>(
        `with recursive behind(pid) as (
           select pid from pg_stat_activity where $1 = any(pg_blocking_pids(pid))
           union
           select a.pid from pg_stat_activity a join behind b on b.pid = any(pg_blocking_pids(a.pid))
         )
         select count(*) as n from behind`,
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

/**
 * Sends the requests one after another, each once every earlier one waits behind `lock`, so that
 * PostgreSQL queues them in this order (row lock waiters are served first come, first served).
 * Returns their answers, still pending, once all of them wait; release the lock to let them go.
 */
export async function queueBehind<T>(
  lock: BookLock,
  sends: (() => Promise<T>)[],
  { timeoutMs = 15_000 } = {},
): Promise<Promise<T>[]> {
  const waiting = await lock.waiters();
  const sent: Promise<T>[] = [];
  for (const send of sends) {
    const answer = send();
    // Settled answers are read by the caller; this keeps an early failure from going unhandled.
    answer.catch(() => {});
    sent.push(answer);
    await waitUntil(async () => (await lock.waiters()) >= waiting + sent.length, timeoutMs);
  }
  return sent;
}

/** Sends every request at once and resolves when all of them wait behind `lock`. */
export async function allBehind<T>(
  lock: BookLock,
  sends: (() => Promise<T>)[],
  { timeoutMs = 15_000 } = {},
): Promise<Promise<T>[]> {
  const waiting = await lock.waiters();
  const sent = sends.map((send) => {
    const answer = send();
    answer.catch(() => {});
    return answer;
  });
  await waitUntil(async () => (await lock.waiters()) >= waiting + sent.length, timeoutMs);
  return sent;
}

async function waitUntil(condition: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('timed out waiting for requests to queue behind the lock');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
