/**
 * The posting cache's own bookkeeping (server/ledger/posting-cache.ts), apart from the database:
 * what a lookup gives after a committed write, what forgetting and contention do, and how a book's
 * preload merges with what later writes kept. (Its use by the engine, and every check the write
 * makes of it, is tested through the API in posting-cache.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import type { MinorTotals } from '../../server/core/index.js';
import type { PostOp } from '../../server/ledger/ops.js';
import { CONTENDED_MS, PostingCache } from '../../server/ledger/posting-cache.js';
import type { BookHead, LockPhaseResult, PostingAccount } from '../../server/ledger/store.js';

const BOOK = '01930000-0000-7000-8000-000000000001';
const A = '01930000-0000-7000-8000-0000000000a1';
const B = '01930000-0000-7000-8000-0000000000b2';
const C = '01930000-0000-7000-8000-0000000000c3';

const zero: MinorTotals = { postedDebits: 0n, postedCredits: 0n, pendingDebits: 0n, pendingCredits: 0n };

function account(id: string, totals: Partial<MinorTotals> = {}, bounded = false): PostingAccount {
  return {
    bookId: BOOK,
    id,
    type: 'ASSET',
    unit: { code: 'USD', scale: 2 },
    lowerBound: bounded ? 0n : null,
    upperBound: null,
    closed: false,
    ...zero,
    ...totals,
  };
}

function head(version: bigint, seq = version): BookHead {
  return { id: BOOK, entrySeq: seq, lastHash: `h${seq}`, maxBackdateDays: 30, version };
}

function readOf(
  book: BookHead,
  accounts: PostingAccount[],
  latest: [string, number][] = [],
): LockPhaseResult {
  return {
    books: new Map([[book.id, book]]),
    existingKeys: new Map(),
    targets: [],
    links: new Map(),
    accounts: new Map(accounts.map((a) => [`${a.bookId}/${a.id}`, a])),
    latestLineAt: new Map(latest.map(([id, at]) => [`${BOOK}/${id}`, at])),
  };
}

const named = (...ids: string[]) => ids;

/**
 * What a flush naming these accounts of BOOK would be decided against (PostingCache.readFor, as
 * the engine asks it), with the accounts by `book/id` as a read gives them; null when the cache
 * cannot tell.
 */
function lookup(cache: PostingCache, ids: string[]): LockPhaseResult | null {
  const op = { bookId: BOOK, kind: 'STANDARD', entry: { lines: ids.map((accountId) => ({ accountId })) } };
  const known = cache.readFor([op as unknown as PostOp], [null]);
  if (known === null) return null;
  const ofBook = known.accounts.get(BOOK)!;
  return { ...known.read, accounts: new Map(ids.map((id) => [`${BOOK}/${id}`, ofBook.get(id)!])) };
}

/** A read of the book at `version` (as its head), that wrote nothing, remembered. */
function rememberRead(cache: PostingCache, version: bigint, accounts: PostingAccount[]): void {
  cache.remember(
    readOf(head(version), accounts),
    new Map(),
    new Map([[BOOK, { seq: version, hash: `h${version}` }]]),
    new Set(),
    [],
  );
}

describe('the posting cache', () => {
  it('knows nothing at first, then what a committed write left: new head, version, totals', () => {
    const cache = new PostingCache();
    expect(lookup(cache, named(A))).toBeNull();
    const a = account(A);
    const read = readOf(head(4n), [a, account(B)]);
    const moved = new Map([[a, { ...zero, postedDebits: 1250n }]]);
    cache.remember(read, moved, new Map([[BOOK, { seq: 5n, hash: 'h5' }]]), new Set([BOOK]), []);
    const known = lookup(cache, named(A, B))!;
    expect(known.books.get(BOOK)).toMatchObject({ entrySeq: 5n, lastHash: 'h5', version: 5n });
    expect(known.accounts.get(`${BOOK}/${A}`)).toMatchObject({ id: A, postedDebits: 1250n });
    expect(known.accounts.get(`${BOOK}/${B}`)).toMatchObject({ id: B, postedDebits: 0n });
    expect(known.existingKeys.size).toBe(0);
    // An account never read is not known.
    expect(lookup(cache, named(A, C))).toBeNull();
  });

  it('leaves the version as read when the write did not touch the book', () => {
    const cache = new PostingCache();
    rememberRead(cache, 7n, [account(A)]);
    expect(lookup(cache, named(A))!.books.get(BOOK)!.version).toBe(7n);
  });

  it('keeps a bounded account’s latest line moving with the lines written', () => {
    const cache = new PostingCache();
    const a = account(A, {}, true);
    const read = readOf(head(1n), [a, account(B)], [[A, 1_000]]);
    const effectiveAt = new Date(5_000);
    const entry = {
      bookId: BOOK,
      lines: [
        { accountId: A, effectiveAt },
        { accountId: B, effectiveAt },
      ],
    } as unknown as Parameters<PostingCache['remember']>[4][number];
    cache.remember(read, new Map(), new Map([[BOOK, { seq: 2n, hash: 'h2' }]]), new Set([BOOK]), [entry]);
    const known = lookup(cache, named(A, B))!;
    expect(known.latestLineAt.get(`${BOOK}/${A}`)).toBe(5_000);
    // Unbounded accounts have none (the read gives none for them either).
    expect(known.latestLineAt.has(`${BOOK}/${B}`)).toBe(false);
  });

  it('forgets a book, and after a stale write reads it first for a while', () => {
    let now = 1_000_000;
    const cache = new PostingCache(null, () => now);
    const remember = () => rememberRead(cache, 1n, [account(A)]);
    remember();
    cache.forget([BOOK]);
    expect(lookup(cache, named(A))).toBeNull();
    remember();
    cache.forget([BOOK], true);
    remember();
    expect(lookup(cache, named(A))).toBeNull();
    now += CONTENDED_MS + 1;
    expect(lookup(cache, named(A))).not.toBeNull();
  });

  it('drops what it kept of a book when a read shows another version than the one kept', () => {
    let now = 1_000_000;
    const cache = new PostingCache(null, () => now);
    rememberRead(cache, 1n, [account(A), account(B)]);
    // Another writer moved the book to version 3; this read saw A only. The book is contended:
    // read first for a while.
    rememberRead(cache, 3n, [account(A)]);
    expect(lookup(cache, named(A))).toBeNull();
    now += CONTENDED_MS + 1;
    expect(lookup(cache, named(A))!.books.get(BOOK)!.version).toBe(3n);
    expect(lookup(cache, named(B))).toBeNull();
  });

  it('preloads a book’s accounts without overwriting what a later write kept, and drops a late preload', async () => {
    let release: (value: {
      accounts: Map<string, PostingAccount>;
      latestLineAt: Map<string, number>;
    }) => void = () => {};
    const loads: string[] = [];
    const cache = new PostingCache((bookId) => {
      loads.push(bookId);
      return new Promise((resolve) => {
        release = resolve;
      });
    });
    const a = account(A);
    rememberRead(cache, 1n, [a]);
    expect(loads).toEqual([BOOK]);
    // A write moves A while the preload (a snapshot from before it) is under way.
    const known = lookup(cache, named(A))!.accounts.get(`${BOOK}/${A}`)!;
    cache.remember(
      readOf(head(1n), [known]),
      new Map([[known, { ...zero, postedCredits: 700n }]]),
      new Map([[BOOK, { seq: 2n, hash: 'h2' }]]),
      new Set([BOOK]),
      [],
    );
    release({
      accounts: new Map([
        [`${BOOK}/${A}`, account(A)],
        [`${BOOK}/${C}`, account(C, { postedDebits: 300n })],
      ]),
      latestLineAt: new Map(),
    });
    await new Promise((r) => setImmediate(r));
    const after = lookup(cache, named(A, C))!;
    expect(after.accounts.get(`${BOOK}/${A}`)!.postedCredits).toBe(700n);
    expect(after.accounts.get(`${BOOK}/${C}`)!.postedDebits).toBe(300n);
    expect(loads).toEqual([BOOK]);

    // A preload that ends after the book was forgotten adds nothing.
    const releases: ((value: {
      accounts: Map<string, PostingAccount>;
      latestLineAt: Map<string, number>;
    }) => void)[] = [];
    const other = new PostingCache(() => new Promise((resolve) => releases.push(resolve)));
    rememberRead(other, 1n, [account(A)]);
    other.forget([BOOK]);
    rememberRead(other, 1n, [account(A)]);
    expect(releases).toHaveLength(2);
    releases[0]!({ accounts: new Map([[`${BOOK}/${C}`, account(C)]]), latestLineAt: new Map() });
    await new Promise((r) => setImmediate(r));
    expect(other.knows(BOOK, C)).toBe(false);
  });

  it('does not load a book whole again once it was found too large', async () => {
    let loads = 0;
    const cache = new PostingCache(() => {
      loads++;
      return Promise.resolve(null);
    });
    const remember = () => rememberRead(cache, 1n, [account(A)]);
    remember();
    await new Promise((r) => setImmediate(r));
    cache.forget([BOOK]);
    remember();
    await new Promise((r) => setImmediate(r));
    expect(loads).toBe(1);
    // What the flushes read is still kept.
    expect(cache.knows(BOOK, A)).toBe(true);
  });
});
