/**
 * Building blocks other domains use inside their own transactions to amend what the ledger keeps
 * about a book (added for mutual credit, issue 14): an account's bounds (a member's credit limit
 * and upper bound) and a book's units (a network's obligation currencies). The caller holds the
 * book's chain-head lock (lockBooks) and, for bounds, the account's lock (lockAccounts), so no
 * entry is decided against the account while its bounds change. The database's own checks still
 * apply: bounds at their unit's scale, lower at most upper.
 */
import type { Queryable } from '../platform/transaction.js';

/** Sets an account's lower and upper bounds (null: none). */
export async function setAccountBounds(
  db: Queryable,
  bookId: string,
  accountId: string,
  lowerBound: string | null,
  upperBound: string | null,
): Promise<void> {
  await db.query('update account set lower_bound = $3, upper_bound = $4 where book_id = $1 and id = $2', [
    bookId,
    accountId,
    lowerBound,
    upperBound,
  ]);
}

/** Adds units to a book; a unit it already holds is left as it is. */
export async function addBookUnits(
  db: Queryable,
  bookId: string,
  units: { code: string; scale: number }[],
): Promise<void> {
  if (units.length === 0) return;
  await db.query(
    `insert into book_unit (book_id, code, scale)
     select $1, c, s from unnest($2::text[], $3::int[]) as x(c, s) on conflict do nothing`,
    [bookId, units.map((u) => u.code), units.map((u) => u.scale)],
  );
}
