/**
 * Who may change a book through the ledger's general use cases (entries, reversals, pending
 * entries, accounts, journal imports): whoever may write it (mayWriteBook), except a principal
 * who writes it only as a NETWORK_STEWARD when a domain manages the book (a network's book): its
 * stewards change it through the mutual-credit use cases only, which keep payments between members
 * and within their bounds. One query, and only for such a principal.
 */
import { mayWriteBook, type Principal, writesOnlyAsSteward } from '../core/index.js';
import { isUuid } from '../platform/ids.js';
import { bookManagedBy, type Queryable } from './store.js';

export async function mayChangeBook(db: Queryable, actor: Principal, bookId: string): Promise<boolean> {
  if (!mayWriteBook(actor, bookId)) return false;
  if (!writesOnlyAsSteward(actor, bookId) || !isUuid(bookId)) return true;
  return (await bookManagedBy(db, bookId)) === null;
}
