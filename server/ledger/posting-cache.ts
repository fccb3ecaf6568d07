/**
 * What the posting engine last knew of its books and accounts, so that a flush of plain entries can
 * skip its read and send only its write: one round trip a flush instead of two (see decideGroup's
 * `fromCache`).
 *
 * Nothing here is trusted. A flush decided from this state writes with the same compare-and-set as
 * any optimistic flush: each book's version (every write of entries or refusals moves it, in any
 * process), and each account it moves as it was known (totals, closed, bounds). The book's chain
 * head, its entries and the accounts' totals therefore are what the write expects or the write
 * fails whole and nothing is kept; the engine then reads and decides again. What a cached state
 * cannot vouch for is left to the read:
 * - an idempotency key's earlier decision: the write refuses a key already posted (journal_entry's
 *   unique key) or refused (the write's key guard);
 * - a refusal, which moves no account, so an account's closing or bounds would go unchecked: a
 *   flush that would refuse anything is decided again from a read;
 * - reversals and resolutions (their target entries), and a bounded account's history (an entry
 *   dated before its latest line): read.
 * Books and accounts not known are read. The remaining facts a decision uses never change once
 * written: a book's backdating window, an account's type and unit, a unit's scale.
 *
 * Kept only from writes that committed (remember), dropped for a book whenever anything else wrote
 * it from this process or a write of it was found stale (forget).
 */
import type { MinorTotals, Unit } from '../core/index.js';
import { key } from './decide.js';
import { headAfter } from './flush-write.js';
import { isEntryOp, type PostOp } from './ops.js';
import type { BookHead, LockPhaseResult, NewEntry, PostingAccount } from './store.js';

/** Accounts kept at most (all books); past it the whole cache starts again (a few MB at most). */
export const CACHED_ACCOUNTS_MAX = 50_000;
/** Books kept at most, and books remembered as contended at most. */
export const CACHED_BOOKS_MAX = 10_000;
/** After a stale write of a book decided from the cache, how long its flushes read first. */
export const CONTENDED_MS = 2_000;

/** Loads every account of a book as a flush reads them; null when the book has too many. */
export type BookAccountsLoader = (
  bookId: string,
) => Promise<{ accounts: Map<string, PostingAccount>; latestLineAt: Map<string, number> } | null>;

/** A book's accounts are loaded all at once (preload) when it has at most this many. */
export const PRELOAD_ACCOUNTS_MAX = 20_000;
/** A book found contended is not preloaded again for this long. */
export const PRELOAD_AFTER_CONTENTION_MS = 30_000;

interface CachedBook {
  head: BookHead;
  /** Whether all its accounts were loaded (or are being, or cannot be). */
  preload: 'none' | 'loading' | 'done' | 'skipped';
  /** Accounts by id, as the last committed write (or the read before it) left them. */
  accounts: Map<string, PostingAccount>;
  /** Latest line instant (ms) of each bounded account with lines, by id (absent: no lines). */
  latestLineAt: Map<string, number>;
  /** One unit object per code, shared by the book's accounts kept. */
  units: Map<string, Unit>;
}

/**
 * An account as kept: a plain object of one shape, its book id and unit shared with the book's
 * other accounts (not the row as read, which also holds the text of each total: a book of 20,000
 * accounts is kept in about half the heap).
 */
function kept(cached: CachedBook, a: PostingAccount, t: MinorTotals): PostingAccount {
  let unit = cached.units.get(a.unit.code);
  if (unit === undefined || unit.scale !== a.unit.scale) {
    unit = { code: a.unit.code, scale: a.unit.scale };
    cached.units.set(unit.code, unit);
  }
  return {
    bookId: cached.head.id,
    id: a.id,
    type: a.type,
    unit,
    lowerBound: a.lowerBound,
    upperBound: a.upperBound,
    closed: a.closed,
    postedDebits: t.postedDebits,
    postedCredits: t.postedCredits,
    pendingDebits: t.pendingDebits,
    pendingCredits: t.pendingCredits,
  };
}

/** The kept state of a flush's books (PostingCache.known). */
export interface KnownBooks {
  heads: Map<string, BookHead>;
  accounts: Map<string, ReadonlyMap<string, PostingAccount>>;
}

/** Thrown inside a flush decided from the cache when it needs what only a read can tell. */
export class CacheMiss extends Error {
  constructor() {
    super('the posting cache cannot decide this group');
  }
}

export class PostingCache {
  private readonly books = new Map<string, CachedBook>();
  /**
   * When each book was last found written by another writer: it is read first for CONTENDED_MS
   * after, and not loaded whole for PRELOAD_AFTER_CONTENTION_MS.
   */
  private readonly contendedAt = new Map<string, number>();
  /** Books found to have more than PRELOAD_ACCOUNTS_MAX accounts: not loaded whole again. */
  private readonly tooLarge = new Set<string>();
  private accountCount = 0;
  /** Flushes decided from the cache and written (tests, logs). */
  hits = 0;

  /**
   * `loader`: when given, a book first remembered has all its accounts loaded in the background
   * (one statement), so that flushes naming accounts not yet seen need no read either.
   */
  constructor(
    private readonly loader: BookAccountsLoader | null = null,
    private readonly clockMs: () => number = Date.now,
  ) {}

  /**
   * The kept state of these books for a flush decided from the cache: their chain heads and their
   * accounts by id, by book; null when a book is not kept, or was found contended lately.
   */
  known(bookIds: Iterable<string>): KnownBooks | null {
    const now = this.clockMs();
    const heads = new Map<string, BookHead>();
    const accounts = new Map<string, ReadonlyMap<string, PostingAccount>>();
    for (const bookId of bookIds) {
      const cached = this.books.get(bookId);
      if (cached === undefined) return null;
      const contended = this.contendedAt.get(bookId);
      if (contended !== undefined && now - contended < CONTENDED_MS) return null;
      heads.set(bookId, cached.head);
      accounts.set(bookId, cached.accounts);
    }
    return { heads, accounts };
  }

  /**
   * What the read of a flush of these ops would give, from the cache: their books' heads, and the
   * latest line of each bounded account named; with the accounts kept by book, and whether any
   * account named has a bound. Null when an op is not a plain entry (a reversal or resolution
   * reads its target), or a book or an account named is not kept. Ops already decided (by
   * precheck) are left out, as the read leaves them out.
   */
  readFor(
    ops: readonly PostOp[],
    decided: readonly unknown[],
  ): {
    read: LockPhaseResult;
    accounts: Map<string, ReadonlyMap<string, PostingAccount>>;
    bounded: boolean;
  } | null {
    const bookIds = new Set<string>();
    for (let i = 0; i < ops.length; i++) {
      if (decided[i] !== null) continue;
      if (!isEntryOp(ops[i]!)) return null;
      bookIds.add(ops[i]!.bookId);
    }
    const known = this.known(bookIds);
    if (known === null) return null;
    const latestLineAt = new Map<string, number>();
    let bounded = false;
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i]!;
      if (decided[i] !== null || !isEntryOp(op)) continue;
      const accounts = known.accounts.get(op.bookId)!;
      const lines = op.entry.lines;
      for (let j = 0; j < lines.length; j++) {
        const account = accounts.get(lines[j]!.accountId);
        if (account === undefined) return null;
        if (account.lowerBound === null && account.upperBound === null) continue;
        bounded = true;
        const latest = this.latestLineOf(op.bookId, account.id);
        if (latest !== undefined) latestLineAt.set(key(op.bookId, account.id), latest);
      }
    }
    return {
      read: {
        books: known.heads,
        existingKeys: new Map(),
        targets: [],
        links: new Map(),
        accounts: new Map(),
        latestLineAt,
      },
      accounts: known.accounts,
      bounded,
    };
  }

  /** The latest line instant (ms) of a kept bounded account with lines. */
  latestLineOf(bookId: string, accountId: string): number | undefined {
    return this.books.get(bookId)?.latestLineAt.get(accountId);
  }

  /**
   * After a write that committed: the books and accounts as it left them. `read` is what the flush
   * decided against, `working` the accounts' new totals, `heads` the books' new chain heads,
   * `written` the books whose version the write moved, `posted` the entries it wrote.
   */
  remember(
    read: LockPhaseResult,
    working: ReadonlyMap<PostingAccount, MinorTotals>,
    heads: ReadonlyMap<string, { seq: bigint; hash: string }>,
    written: ReadonlySet<string>,
    posted: readonly NewEntry[],
  ): void {
    for (const book of read.books.values()) {
      const head = heads.get(book.id)!;
      const moved = written.has(book.id);
      let cached = this.books.get(book.id);
      const next = moved ? headAfter(book, head) : book;
      if (cached !== undefined && cached.head.version !== book.version) {
        // Decided from a read newer or older than what was kept: the accounts kept are of another
        // version of the book (another writer moved it): start the book again from this write,
        // read it first for a while and do not load all its accounts again soon.
        this.forget([book.id], true);
        cached = undefined;
      }
      if (cached === undefined) {
        cached = {
          head: next,
          preload: 'none',
          accounts: new Map(),
          latestLineAt: new Map(),
          units: new Map(),
        };
        this.books.set(book.id, cached);
      }
      cached.head = next;
    }
    // Decided from the cache (nothing read): the accounts it moved are the objects kept, and only
    // this engine's serial flushes use them, so their totals are moved where they are.
    if (read.accounts.size === 0) {
      for (const [account, totals] of working) {
        const cached = this.books.get(account.bookId);
        if (cached === undefined) continue;
        const known = cached.accounts.get(account.id);
        if (known === account) {
          known.postedDebits = totals.postedDebits;
          known.postedCredits = totals.postedCredits;
          known.pendingDebits = totals.pendingDebits;
          known.pendingCredits = totals.pendingCredits;
        } else {
          if (known === undefined) this.accountCount++;
          cached.accounts.set(account.id, kept(cached, account, totals));
        }
      }
    }
    for (const [k, account] of read.accounts) {
      const cached = this.books.get(account.bookId);
      if (cached === undefined) continue;
      const known = cached.accounts.get(account.id);
      const totals = working.get(account);
      if (known === undefined) this.accountCount++;
      // Kept as it is when it is the very object kept and did not move (a flush from the cache).
      if (known !== account || totals !== undefined) {
        cached.accounts.set(account.id, kept(cached, account, totals ?? account));
      }
      const latest = read.latestLineAt.get(k);
      if (latest === undefined) cached.latestLineAt.delete(account.id);
      else cached.latestLineAt.set(account.id, latest);
    }
    // A bounded account's latest line moves with the lines just written (of either phase, as the
    // read's max(effective_at) counts them).
    for (const entry of posted) {
      const cached = this.books.get(entry.bookId);
      if (cached === undefined) continue;
      for (const line of entry.lines) {
        const account = cached.accounts.get(line.accountId);
        if (account === undefined || (account.lowerBound === null && account.upperBound === null)) continue;
        const at = line.effectiveAt.getTime();
        const latest = cached.latestLineAt.get(line.accountId);
        if (latest === undefined || at > latest) cached.latestLineAt.set(line.accountId, at);
      }
    }
    if (this.accountCount > CACHED_ACCOUNTS_MAX || this.books.size > CACHED_BOOKS_MAX) this.clear();
    for (const book of read.books.values()) this.preload(book.id);
  }

  /**
   * Loads all of a book's accounts in the background, once, unless it has too many or was found
   * contended lately. What is loaded is a snapshot that may be older than what the flushes since
   * have kept: only accounts still not kept are added (a write of this process keeps every account
   * it read or moved, so an account it moved after the snapshot is already kept, and kept newer);
   * one another process moved is refused by the compare-and-set of the first write that uses it.
   * Dropped when the book was forgotten meanwhile.
   */
  private preload(bookId: string): void {
    const cached = this.books.get(bookId);
    if (this.loader === null || cached === undefined || cached.preload !== 'none') return;
    if (this.tooLarge.has(bookId)) {
      cached.preload = 'skipped';
      return;
    }
    const contended = this.contendedAt.get(bookId);
    if (contended !== undefined && this.clockMs() - contended < PRELOAD_AFTER_CONTENTION_MS) return;
    if (this.accountCount + PRELOAD_ACCOUNTS_MAX > CACHED_ACCOUNTS_MAX) {
      cached.preload = 'skipped';
      return;
    }
    cached.preload = 'loading';
    this.loader(bookId).then(
      (loaded) => {
        if (loaded === null) {
          if (this.tooLarge.size >= CACHED_BOOKS_MAX) this.tooLarge.clear();
          this.tooLarge.add(bookId);
        }
        if (this.books.get(bookId) !== cached) return;
        if (loaded === null) {
          cached.preload = 'skipped';
          return;
        }
        for (const [k, account] of loaded.accounts) {
          if (cached.accounts.has(account.id)) continue;
          cached.accounts.set(account.id, kept(cached, account, account));
          this.accountCount++;
          const latest = loaded.latestLineAt.get(k);
          if (latest !== undefined) cached.latestLineAt.set(account.id, latest);
        }
        cached.preload = 'done';
        if (this.accountCount > CACHED_ACCOUNTS_MAX) this.clear();
      },
      () => {
        // Not loaded (the pool closing, the database gone): flushes read what they name.
        if (this.books.get(bookId) === cached) cached.preload = 'skipped';
      },
    );
  }

  /**
   * Drops what is known of these books: something else wrote them, or a write decided from the
   * cache found them changed (`contended`: see contendedAt).
   */
  forget(bookIds: Iterable<string>, contended = false): void {
    for (const bookId of bookIds) {
      const cached = this.books.get(bookId);
      if (cached !== undefined) {
        this.accountCount -= cached.accounts.size;
        this.books.delete(bookId);
      }
      if (contended) this.contendedAt.set(bookId, this.clockMs());
    }
    if (this.contendedAt.size > CACHED_BOOKS_MAX) this.contendedAt.clear();
  }

  clear(): void {
    this.books.clear();
    this.accountCount = 0;
  }

  /** Whether an account of a book is kept (tests). */
  knows(bookId: string, accountId: string): boolean {
    return this.books.get(bookId)?.accounts.has(accountId) ?? false;
  }
}
