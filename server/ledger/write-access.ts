/**
 * Who may change a book through the ledger's general use cases (entries, reversals, pending
 * entries, accounts, journal imports): whoever may write it (mayWriteBook), except a principal
 * who writes it only as a NETWORK_STEWARD when a domain manages the book (a network's book): its
 * stewards change it through the mutual-credit use cases only, which keep payments between members
 * and within their bounds. One query, and only for such a principal.
 *
 * A book id that is no uuid names no book: false, before anything reads the database with it (an
 * ADMIN may write every book, and a forged `Book:<not a uuid>` id once reached the account-code
 * lookup as a uuid parameter: PostgreSQL refused the cast and the client got a masked 500).
 */
import { mayWriteBook, type Principal, writesOnlyAsSteward } from '../core/index.js';
import { isUuid } from '../platform/ids.js';
import { bookManagedBy, type Queryable } from './store.js';

export async function mayChangeBook(db: Queryable, actor: Principal, bookId: string): Promise<boolean> {
  if (!isUuid(bookId) || !mayWriteBook(actor, bookId)) return false;
  if (!writesOnlyAsSteward(actor, bookId)) return true;
  return (await bookManagedBy(db, bookId)) === null;
}
