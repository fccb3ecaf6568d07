/**
 * The writes of a flush (flush.ts): the chain heads a write sets, one item's write on a savepoint
 * of its own when a group is posted with its items isolated, and what a write's failure means.
 */
import type { MinorTotals } from '../core/index.js';
import { isConnectionError, isRetryable, UnavailableError } from '../platform/errors.js';
import type { TxClient } from '../platform/transaction.js';
import { dayTotals, pickTotals } from './decide.js';
import {
  type AccountUpdate,
  type BookHead,
  type ExpectedHead,
  type HeadUpdate,
  KEY_GUARD_MESSAGE,
  type NewEntry,
  onSavepoint,
  type PostingAccount,
  type Refusal,
  writeEntries,
} from './store.js';

/**
 * What a write still in flight will leave, for the next flush to be decided on (see
 * PostingEngine.optimisticFlush): its books' new chain heads and versions, and the new totals of
 * the accounts it moves, by the cache's own account objects.
 */
export interface WriteAhead {
  heads: ReadonlyMap<string, BookHead>;
  totals: ReadonlyMap<PostingAccount, MinorTotals>;
}

/** The books a write touches: those of its entries and of its refusals. */
export function touchedBooks(entries: readonly NewEntry[], refusals: readonly Refusal[]): Set<string> {
  return new Set([...entries.map((e) => e.bookId), ...refusals.map((r) => r.bookId)]);
}

/**
 * The chain heads a write sets: every book it touches (a refusal alone too, so that it moves the
 * book's version and a concurrent optimistic writer of the same key reads again), each only if
 * the book is still at `expected`'s version and chain head.
 */
export function headUpdates(
  entries: readonly NewEntry[],
  refusals: readonly Refusal[],
  headOf: (bookId: string) => { seq: bigint; hash: string },
  expected: ReadonlyMap<string, ExpectedHead>,
): HeadUpdate[] {
  return [...touchedBooks(entries, refusals)].sort().map((bookId) => {
    const head = headOf(bookId);
    const before = expected.get(bookId)!;
    return {
      bookId,
      expectedVersion: before.version,
      expectedHash: before.hash,
      entrySeq: head.seq,
      lastHash: head.hash,
    };
  });
}

/** A book as a write that moved its chain head to `head` leaves it: that head, one version on. */
export function headAfter(book: BookHead, head: { seq: bigint; hash: string }): BookHead {
  return { ...book, entrySeq: head.seq, lastHash: head.hash, version: book.version + 1n };
}

/**
 * What a write leaves for a flush decided before it commits: its books' new heads and its accounts'
 * new totals. Null when it moved a bounded account (the next flush would need its latest line,
 * which the cache learns only once the write is remembered).
 */
export function writeAhead(
  books: ReadonlyMap<string, BookHead>,
  heads: ReadonlyMap<string, { seq: bigint; hash: string }>,
  working: Map<PostingAccount, MinorTotals>,
  posted: readonly NewEntry[],
  refusals: readonly Refusal[],
): WriteAhead | null {
  for (const a of working.keys()) if (a.lowerBound !== null || a.upperBound !== null) return null;
  const next = new Map<string, BookHead>();
  for (const id of touchedBooks(posted, refusals)) {
    next.set(id, headAfter(books.get(id)!, heads.get(id)!));
  }
  return { heads: next, totals: working };
}

/**
 * Writes one item's decisions on a savepoint of their own (onSavepoint): its entries, the new
 * totals of the accounts it moved, its books' new chain heads and its refusals. Null when written;
 * the database's refusal otherwise (only this item's writes are undone).
 */
export function writeIsolated(
  client: TxClient,
  now: Date,
  stage: {
    entries: NewEntry[];
    totals: Map<PostingAccount, MinorTotals>;
    heads: HeadUpdate[];
    refusals: Refusal[];
    /** Totals of the accounts as the items kept before this one left them. */
    working: Map<PostingAccount, MinorTotals>;
  },
): Promise<{ error: unknown } | null> {
  if (stage.entries.length === 0 && stage.refusals.length === 0) return Promise.resolve(null);
  return onSavepoint(client, () =>
    writeEntries(
      client,
      stage.entries,
      [...stage.totals].map(([a, t]): AccountUpdate => {
        const before = stage.working.get(a);
        return {
          bookId: a.bookId,
          id: a.id,
          ...pickTotals(t),
          expected: before ? { ...a, ...pickTotals(before) } : a,
        };
      }),
      dayTotals(stage.entries),
      stage.heads,
      stage.refusals,
      now,
    ),
  );
}

/**
 * What an optimistic write's failure means: the database gone (thrown as UnavailableError), the
 * book or an account changed since it was read (returns: read and decide again; a unique key taken
 * meanwhile, such as an entry reversed or resolved by another writer, is stale too), or anything
 * else (thrown as it is).
 */
export function throwUnlessStale(error: unknown): void {
  if (isConnectionError(error)) throw new UnavailableError('the database is unavailable', { cause: error });
  if (!isRetryable(error) && (error as { code?: string }).code !== '23505') throw error;
}

/**
 * Whether a write decided from the cache failed on an idempotency key decided before: posted (the
 * key's unique index) or refused (the write's key guard, see writeEntries).
 */
export function isKeyDecidedBefore(error: unknown): boolean {
  const e = error as { code?: string; constraint?: string; message?: string };
  return (
    (e.code === '23505' && e.constraint === 'journal_entry_idempotency_key') ||
    (e.code === '40001' && e.message === KEY_GUARD_MESSAGE)
  );
}
