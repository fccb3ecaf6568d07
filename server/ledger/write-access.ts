/**
 * Who may change a book through the ledger's general use cases (entries, reversals, pending
 * entries, accounts, journal imports): whoever may write it (mayWriteBook), except that a book a
 * domain manages (a network's book) is changed through that domain's use cases only, which keep
 * payments between members, within their bounds and summing to zero. Its stewards may not use the
 * general ones, and neither may a TREASURER of it: issueApiToken refuses such a grant, and a token
 * that holds one (stored before that refusal) is refused here as well. Only an admin (and the
 * system) passes without the lookup; every other principal costs one primary-key query.
 *
 * A book id that is no uuid names no book: false, before anything reads the database with it (an
 * ADMIN may write every book, and a forged `Book:<not a uuid>` id once reached the account-code
 * lookup as a uuid parameter: PostgreSQL refused the cast and the client got a masked 500).
 */
import { isAdmin, mayWriteBook, type Principal } from '../core/index.js';
import { isUuid } from '../platform/ids.js';
import { bookManagedBy, type Queryable } from './store.js';

export async function mayChangeBook(db: Queryable, actor: Principal, bookId: string): Promise<boolean> {
  if (!isUuid(bookId) || !mayWriteBook(actor, bookId)) return false;
  if (isAdmin(actor)) return true;
  return (await managedBy(db, bookId)) === null;
}

/**
 * Which domain manages each book, as read, per database handle: a book's `managed_by` is set when
 * it is created and never changes (nothing updates it, and a book is never deleted or re-keyed), so
 * what was read of an existing book stays true, and a treasurer's every write does not cost a
 * query (a single entry's whole request is about 0.1 ms of the service's CPU). Bounded: emptied
 * when full.
 */
const MANAGED_KNOWN_MAX = 100_000;
const managedKnown = new WeakMap<Queryable, Map<string, string | null>>();

async function managedBy(db: Queryable, bookId: string): Promise<string | null> {
  let known = managedKnown.get(db);
  if (known === undefined) {
    known = new Map();
    managedKnown.set(db, known);
  }
  const id = bookId.toLowerCase();
  const hit = known.get(id);
  if (hit !== undefined) return hit;
  const read = await bookManagedBy(db, id);
  // No such book (yet): not kept, so nothing is assumed of a book created later.
  if (read === undefined) return null;
  if (known.size >= MANAGED_KNOWN_MAX) known.clear();
  known.set(id, read);
  return read;
}
