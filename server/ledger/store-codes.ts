/**
 * Accounts by code (issue 17): a treasurer names accounts by the code of the chart ("1010"), the
 * ledger by id. One statement resolves every code a request names, on the (book_id, code) unique
 * index; the posting engine never sees a code.
 */
import type { Queryable } from './store.js';

/** The ids of the accounts of a book with these codes (codes without an account are absent). */
export async function accountIdsByCode(
  db: Queryable,
  bookId: string,
  codes: string[],
): Promise<Map<string, string>> {
  if (codes.length === 0) return new Map();
  const { rows } = await db.query(
    'select code, id from account where book_id = $1 and code = any($2::text[])',
    [bookId, [...new Set(codes)]],
  );
  return new Map(rows.map((r) => [r.code as string, r.id as string]));
}
