/**
 * Flushes decided from the posting engine's cache (issue 12: one round trip a flush). Once an
 * engine has written a book, its next flushes of plain entries are decided from what that write
 * left and send only their write. Shown here, with two services (two engines, two pools, as two
 * processes) on one database:
 * - the cache is used, for accounts never named before too (a book's accounts are loaded once);
 * - a key refused before, sent again once the refusal would no longer be decided, is answered
 *   with its refusal and never posts (the write's key guard);
 * - a key posted by the other process is replayed, never posted twice (the unique key);
 * - an account closed, or its bounds changed, by another writer is checked as it now is: no entry
 *   posts on what the cache believed (the write's compare-and-set on the account), and none is
 *   refused on it (a flush that would refuse anything reads first);
 * - every case above leaves a verifying chain, an unbroken sequence and a clean audit.
 */
import { describe, expect, it } from 'vitest';
import type { LedgerClient } from '../../client-sdk/index.js';
import {
  type CreatedAccount,
  createAccount,
  createBook,
  credit,
  debit,
  decodeGlobalId,
  expectIntactBook,
  ledgerClient,
  newKey,
  waitFor,
} from '../helpers/ledger.js';
import { type TestServer, useLedgerServer } from '../helpers/server.js';

const ctxA = useLedgerServer({ db: true });
const ctxB = useLedgerServer();

const engineOf = (server: TestServer) => server.services.ledger.engine;
const cacheOf = (server: TestServer) => engineOf(server).cache!;

interface Setup {
  client: LedgerClient;
  book: { id: string };
  cash: CreatedAccount;
  equity: CreatedAccount;
  others: CreatedAccount[];
}

/** A book with a cash account (lower bound 0), equity, and `others` accounts, known to `server`'s cache. */
async function knownBook(server: TestServer, others = 0): Promise<Setup> {
  const client = ledgerClient(server.url);
  const book = await createBook(client);
  const cash = await createAccount(client, book.id, { code: 'cash', type: 'ASSET', lowerBound: '0.00' });
  const equity = await createAccount(client, book.id, { code: 'equity', type: 'EQUITY' });
  const list: CreatedAccount[] = [];
  for (let i = 0; i < others; i++) {
    list.push(await createAccount(client, book.id, { code: `o${i}`, type: 'EXPENSE' }));
  }
  // The first write of the book reads it; the cache then loads all its accounts.
  const first = await client.postJournalEntry({
    bookId: book.id,
    idempotencyKey: newKey('fund'),
    lines: [debit(cash, '100.00'), credit(equity, '100.00')],
  });
  expect(first.userErrors).toEqual([]);
  const rawBook = decodeGlobalId(book.id).id;
  await waitFor(async () => cacheOf(server).knows(rawBook, decodeGlobalId(list.at(-1)?.id ?? cash.id).id), {
    what: 'the book loaded into the cache',
  });
  return { client, book, cash, equity, others: list };
}

const checkBook = (client: LedgerClient, bookId: string, expectedEntries: number) =>
  expectIntactBook(ctxA.db, client, bookId, expectedEntries);

async function entriesWithKey(bookId: string, key: string): Promise<number> {
  const { rows } = await ctxA.db.query(
    'select 1 from journal_entry where book_id = $1 and idempotency_key = $2',
    [decodeGlobalId(bookId).id, key],
  );
  return rows.length;
}

describe('flushes decided from the cache', () => {
  it('are used once the book is known, for accounts never named before too', async () => {
    const { client, book, cash, others } = await knownBook(ctxA.server, 5);
    const hits = cacheOf(ctxA.server).hits;
    for (const other of others) {
      const answer = await client.postJournalEntry({
        bookId: book.id,
        idempotencyKey: newKey('spend'),
        lines: [debit(other, '1.50'), credit(cash, '1.50')],
      });
      expect(answer.userErrors).toEqual([]);
    }
    // One flush a request (sent one after another), each decided from the cache.
    expect(cacheOf(ctxA.server).hits - hits).toBe(others.length);
    const balance = await client.accountBalance({ accountId: cash.id });
    expect(balance?.posted).toBe('92.50');
    await checkBook(client, book.id, 1 + others.length);
  });

  it('never post a key refused before, even once it would no longer be refused', async () => {
    const { client, book, cash, equity } = await knownBook(ctxA.server);
    // 150.00 out of 100.00 in cash (lower bound 0): refused, and remembered under the key.
    const input = {
      bookId: book.id,
      idempotencyKey: newKey('refused'),
      lines: [debit(equity, '150.00'), credit(cash, '150.00')],
    };
    const refused = await client.postJournalEntry(input);
    expect(refused.userErrors.map((e) => e.code)).toEqual(['BALANCE_BOUND_EXCEEDED']);
    // Funded from the cache: the same request would now post if decided afresh.
    const hits = cacheOf(ctxA.server).hits;
    const fund = await client.postJournalEntry({
      bookId: book.id,
      idempotencyKey: newKey('fund'),
      lines: [debit(cash, '100.00'), credit(equity, '100.00')],
    });
    expect(fund.userErrors).toEqual([]);
    expect(cacheOf(ctxA.server).hits - hits).toBe(1);
    const stale = engineOf(ctxA.server).staleCachedWrites;
    const again = await client.postJournalEntry(input);
    expect(again.entry).toBeNull();
    expect(again.userErrors.map((e) => e.code)).toEqual(['BALANCE_BOUND_EXCEEDED']);
    // Decided from the cache as posted, refused by the write's key guard, answered from a read.
    expect(engineOf(ctxA.server).staleCachedWrites - stale).toBe(1);
    expect(await entriesWithKey(book.id, input.idempotencyKey)).toBe(0);
    expect((await client.accountBalance({ accountId: cash.id }))?.posted).toBe('200.00');
    const hitsAfter = cacheOf(ctxA.server).hits;
    const next = await client.postJournalEntry({
      bookId: book.id,
      idempotencyKey: newKey('next'),
      lines: [debit(cash, '1.00'), credit(equity, '1.00')],
    });
    expect(next.userErrors).toEqual([]);
    expect(cacheOf(ctxA.server).hits - hitsAfter).toBe(1);
    await checkBook(client, book.id, 3);
  });

  it('replay a key the other process posted, never posting it twice', async () => {
    const setup = await knownBook(ctxA.server);
    const { client, book, cash, equity } = setup;
    const input = {
      bookId: book.id,
      idempotencyKey: newKey('elsewhere'),
      lines: [debit(cash, '7.00'), credit(equity, '7.00')],
    };
    const first = await ledgerClient(ctxB.server.url).postJournalEntry(input);
    expect(first.userErrors).toEqual([]);
    // The other process moved the book: forget it here and let one write read it again, so that
    // the cache is current and only the key is unknown to it.
    cacheOf(ctxA.server).forget([decodeGlobalId(book.id).id]);
    const current = await client.postJournalEntry({
      bookId: book.id,
      idempotencyKey: newKey('current'),
      lines: [debit(cash, '1.00'), credit(equity, '1.00')],
    });
    expect(current.userErrors).toEqual([]);
    const stale = engineOf(ctxA.server).staleCachedWrites;
    const again = await client.postJournalEntry(input);
    expect(again.userErrors).toEqual([]);
    expect(again.replayed).toBe(true);
    expect(again.entry?.id).toBe(first.entry?.id);
    // Decided from the cache, refused by journal_entry's unique key, replayed from a read.
    expect(engineOf(ctxA.server).staleCachedWrites - stale).toBe(1);
    expect(await entriesWithKey(book.id, input.idempotencyKey)).toBe(1);
    // A key decided before says nothing of the book: the next flush is still decided from the cache.
    const hits = cacheOf(ctxA.server).hits;
    const next = await client.postJournalEntry({
      bookId: book.id,
      idempotencyKey: newKey('next'),
      lines: [debit(cash, '1.00'), credit(equity, '1.00')],
    });
    expect(next.userErrors).toEqual([]);
    expect(cacheOf(ctxA.server).hits - hits).toBe(1);
    await checkBook(client, book.id, 4);
  });

  it('check an account as the other process left it: closed', async () => {
    const { client, book, cash, others } = await knownBook(ctxA.server, 1);
    const empty = others[0]!;
    const closed = await ledgerClient(ctxB.server.url).closeAccount({ accountId: empty.id });
    expect(closed.userErrors).toEqual([]);
    const answer = await client.postJournalEntry({
      bookId: book.id,
      idempotencyKey: newKey('to-closed'),
      lines: [debit(empty, '3.00'), credit(cash, '3.00')],
    });
    expect(answer.entry).toBeNull();
    expect(answer.userErrors.map((e) => e.code)).toEqual(['ACCOUNT_CLOSED']);
    const { rows } = await ctxA.db.query(
      'select 1 from journal_line where book_id = $1 and account_id = $2',
      [decodeGlobalId(book.id).id, decodeGlobalId(empty.id).id],
    );
    expect(rows).toEqual([]);
    await checkBook(client, book.id, 1);
  });

  it('check an account as another writer left it: a tighter bound', async () => {
    const { client, book, cash, equity } = await knownBook(ctxA.server);
    // Raised from outside the engine (as another process's credit-limit change would): 100.00 in
    // cash, at least 80.00 must stay.
    await ctxA.db.query('update account set lower_bound = 80 where book_id = $1 and id = $2', [
      decodeGlobalId(book.id).id,
      decodeGlobalId(cash.id).id,
    ]);
    const answer = await client.postJournalEntry({
      bookId: book.id,
      idempotencyKey: newKey('below'),
      lines: [debit(equity, '30.00'), credit(cash, '30.00')],
    });
    expect(answer.entry).toBeNull();
    expect(answer.userErrors.map((e) => e.code)).toEqual(['BALANCE_BOUND_EXCEEDED']);
    expect((await client.accountBalance({ accountId: cash.id }))?.posted).toBe('100.00');
    await checkBook(client, book.id, 1);
  });

  it('check an account as another writer left it: a looser bound is not refused on the old one', async () => {
    const { client, book, cash, equity } = await knownBook(ctxA.server);
    // Lowered from outside the engine: cash may now go to -50.00.
    await ctxA.db.query('update account set lower_bound = -50 where book_id = $1 and id = $2', [
      decodeGlobalId(book.id).id,
      decodeGlobalId(cash.id).id,
    ]);
    // 120.00 out of 100.00: refused by the bound the cache knows, posted by the bound that holds.
    // A refusal decided from the cache would be remembered under the key for good.
    const input = {
      bookId: book.id,
      idempotencyKey: newKey('overdraw'),
      lines: [debit(equity, '120.00'), credit(cash, '120.00')],
    };
    const answer = await client.postJournalEntry(input);
    expect(answer.userErrors).toEqual([]);
    expect((await client.accountBalance({ accountId: cash.id }))?.posted).toBe('-20.00');
    expect(await entriesWithKey(book.id, input.idempotencyKey)).toBe(1);
    await checkBook(client, book.id, 2);
  });
});
