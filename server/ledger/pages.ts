/**
 * Pages of the ledger's connections for the API: books, a book's accounts (or an account's
 * children) and its journal entries, read forward or backward between cursors, and the size of
 * each list. Keys come from store-pages.ts in the list's order; the records are read by primary
 * key through LedgerService, so a page holds exactly what a lookup of each record holds.
 * Access is the caller's concern (the API answers an empty page for what it may not read).
 */

import { isUuid } from '../platform/ids.js';
import type { BookRecord } from './records.js';
import type { LedgerService } from './service.js';
import type { AccountRow, EntryRecord } from './store.js';
import {
  type AccountFilter,
  accountIdsPage,
  bookIdsPage,
  countAccounts,
  countBooks,
  countEntries,
  type EntryCursor,
  type EntryListFilter,
  entryKeysPage,
  type PageQuery,
} from './store-pages.js';

export type { AccountFilter, EntryCursor, EntryListFilter, PageQuery };

/** Records in the order of their keys (a key whose record vanished meanwhile is left out). */
function inOrder<T>(keys: string[], records: T[], keyOf: (r: T) => string): T[] {
  const byKey = new Map(records.map((r) => [keyOf(r), r]));
  return keys.map((k) => byKey.get(k)).filter((r): r is T => r !== undefined);
}

const validCursor = <C>(q: PageQuery<C>, ok: (c: C) => boolean): boolean =>
  (q.after === null || ok(q.after)) && (q.before === null || ok(q.before));

export async function bookPage(
  ledger: LedgerService,
  q: PageQuery<string>,
  onlyIds: string[] | null,
): Promise<BookRecord[]> {
  if (!validCursor(q, isUuid)) return [];
  const ids = await bookIdsPage(ledger.pool, q, onlyIds === null ? null : onlyIds.filter(isUuid));
  return inOrder(ids, await ledger.getBooks(ids), (b) => b.id);
}

export function bookCount(ledger: LedgerService, onlyIds: string[] | null): Promise<number> {
  return countBooks(ledger.pool, onlyIds === null ? null : onlyIds.filter(isUuid));
}

export async function accountPage(
  ledger: LedgerService,
  filter: AccountFilter,
  q: PageQuery<string>,
): Promise<AccountRow[]> {
  if (!isUuid(filter.bookId)) return [];
  const ids = await accountIdsPage(ledger.pool, filter, q);
  const rows = await ledger.getAccounts(ids.map((id) => ({ bookId: filter.bookId, id })));
  return inOrder(ids, rows, (a) => a.id);
}

export async function accountCount(ledger: LedgerService, filter: AccountFilter): Promise<number> {
  return isUuid(filter.bookId) ? countAccounts(ledger.pool, filter) : 0;
}

export async function entryPage(
  ledger: LedgerService,
  filter: EntryListFilter,
  q: PageQuery<EntryCursor>,
): Promise<EntryRecord[]> {
  if (!isUuid(filter.bookId) || (filter.accountId !== null && !isUuid(filter.accountId))) return [];
  const keys = await entryKeysPage(ledger.pool, filter, q);
  const rows = await ledger.getEntries(keys);
  return inOrder(
    keys.map((k) => k.id),
    rows,
    (e) => e.id,
  );
}

export async function entryCount(ledger: LedgerService, filter: EntryListFilter): Promise<number> {
  if (!isUuid(filter.bookId) || (filter.accountId !== null && !isUuid(filter.accountId))) return 0;
  return countEntries(ledger.pool, filter);
}
