/**
 * The compare-and-set on a book's chain head (issue 12): two services (each with its own posting
 * engine and connection pool, as two processes have) post to one book at once. Each engine reads
 * the book without locks, decides, and writes in one statement that succeeds only if the book's
 * version is still the one it read. Shown here:
 * - a forced race (both engines read, then wait on the book's row held from outside): exactly one
 *   write loses its compare-and-set, reads again and posts after the other; the chain verifies;
 * - the same key sent to both engines at once, refused by the first decision: the other engine's
 *   copy replays the refusal and never posts (a stale copy never posts after a refusal);
 * - concurrent random postings through both engines on bounded accounts: every acknowledged entry
 *   is in the journal once, no refused one is, the sequence has no gap, the chain verifies, the
 *   audit finds nothing and every balance stayed within its bounds.
 */
import { describe, expect, inject, it } from 'vitest';
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
  seededRandom,
  waitFor,
} from '../helpers/ledger.js';
import { holdBookLock } from '../helpers/locks.js';
import { type TestServer, useLedgerServer } from '../helpers/server.js';

const ctxA = useLedgerServer({ db: true });
const ctxB = useLedgerServer();

const engineOf = (server: TestServer) => server.services.ledger.engine;
const staleWrites = () => engineOf(ctxA.server).staleWrites + engineOf(ctxB.server).staleWrites;

async function bookWith(client: LedgerClient) {
  const book = await createBook(client);
  const cash = await createAccount(client, book.id, { code: 'cash', type: 'ASSET', lowerBound: '0.00' });
  const equity = await createAccount(client, book.id, { code: 'equity', type: 'EQUITY' });
  return { book, cash, equity };
}

const checkBook = (client: LedgerClient, bookId: string, expectedEntries: number) =>
  expectIntactBook(ctxA.db, client, bookId, expectedEntries);

describe('two engines posting to one book', () => {
  it('a forced race: one write loses its compare-and-set, reads again and posts after the other', async () => {
    const [clientA, clientB] = [ledgerClient(ctxA.server.url), ledgerClient(ctxB.server.url)];
    const { book, cash, equity } = await bookWith(clientA);
    const before = staleWrites();
    const lock = await holdBookLock(inject('databaseUrl'), book.id);
    let sent: Promise<unknown>[];
    try {
      sent = [
        clientA.postJournalEntry({
          bookId: book.id,
          idempotencyKey: newKey('race-a'),
          lines: [debit(cash, '10.00'), credit(equity, '10.00')],
        }),
        clientB.postJournalEntry({
          bookId: book.id,
          idempotencyKey: newKey('race-b'),
          lines: [debit(cash, '20.00'), credit(equity, '20.00')],
        }),
      ];
      // Both engines have read the book and wait to write it.
      await waitFor(async () => (await lock.waiters()) >= 2, { what: 'both writes waiting on the book' });
    } finally {
      await lock.release();
    }
    const answers = (await Promise.all(sent)) as { entry: { seq: string } | null; userErrors: unknown[] }[];
    expect(answers.map((x) => x.userErrors)).toEqual([[], []]);
    expect(answers.map((x) => x.entry!.seq).sort()).toEqual(['1', '2']);
    expect(staleWrites() - before).toBe(1);
    await checkBook(clientA, book.id, 2);
  });

  it('the same key sent to both at once and refused: the other copy replays the refusal', async () => {
    const [clientA, clientB] = [ledgerClient(ctxA.server.url), ledgerClient(ctxB.server.url)];
    const { book, cash, equity } = await bookWith(clientA);
    // Paying 5.00 out of an empty cash account (lower bound 0) is refused.
    const input = {
      bookId: book.id,
      idempotencyKey: newKey('refused'),
      lines: [debit(equity, '5.00'), credit(cash, '5.00')],
    };
    const lock = await holdBookLock(inject('databaseUrl'), book.id);
    let sent: Promise<{ entry: unknown; replayed: boolean; userErrors: { code: string }[] }>[];
    try {
      sent = [clientA.postJournalEntry(input), clientB.postJournalEntry(input)];
      await waitFor(async () => (await lock.waiters()) >= 2, { what: 'both writes waiting on the book' });
    } finally {
      await lock.release();
    }
    const answers = await Promise.all(sent);
    for (const answer of answers) {
      expect(answer.entry).toBeNull();
      expect(answer.userErrors.map((e) => e.code)).toEqual(['BALANCE_BOUND_EXCEEDED']);
    }
    // Fund the account: the same key still answers the refusal, and nothing was ever posted under it.
    await clientA.postJournalEntry({
      bookId: book.id,
      idempotencyKey: newKey('fund'),
      lines: [debit(cash, '50.00'), credit(equity, '50.00')],
    });
    const again = await clientB.postJournalEntry(input);
    expect(again.userErrors.map((e) => e.code)).toEqual(['BALANCE_BOUND_EXCEEDED']);
    const { rows } = await ctxA.db.query(
      'select 1 from journal_entry where book_id = $1 and idempotency_key = $2',
      [decodeGlobalId(book.id).id, input.idempotencyKey],
    );
    expect(rows).toEqual([]);
    await checkBook(clientA, book.id, 1);
  });

  it('concurrent random postings through both: nothing lost, nothing twice, bounds and chain hold', async () => {
    const clients = [ledgerClient(ctxA.server.url), ledgerClient(ctxB.server.url)];
    const book = await createBook(clients[0]!);
    const accounts: CreatedAccount[] = [];
    for (const code of ['m1', 'm2', 'm3']) {
      accounts.push(
        await createAccount(clients[0]!, book.id, {
          code,
          type: 'LIABILITY',
          lowerBound: '-50.00',
          upperBound: '100.00',
        }),
      );
    }
    const random = seededRandom(12);
    const sends = Array.from({ length: 160 }, (_, i) => {
      const from = accounts[Math.floor(random() * 3)]!;
      let to = accounts[Math.floor(random() * 3)]!;
      while (to === from) to = accounts[Math.floor(random() * 3)]!;
      const amount = `${1 + Math.floor(random() * 40)}.00`;
      const key = newKey(`load-${i}`);
      return clients[i % 2]!.postJournalEntry({
        bookId: book.id,
        idempotencyKey: key,
        lines: [debit(from, amount), credit(to, amount)],
      }).then((answer) => ({ key, answer }));
    });
    const results = await Promise.all(sends);
    const posted = results.filter((r) => r.answer.entry !== null);
    const refused = results.filter((r) => r.answer.entry === null);
    expect(posted.length).toBeGreaterThan(0);
    for (const r of refused)
      expect(r.answer.userErrors.map((e) => e.code)).toEqual(['BALANCE_BOUND_EXCEEDED']);
    const { rows } = await ctxA.db.query<{ idempotency_key: string }>(
      'select idempotency_key from journal_entry where book_id = $1',
      [decodeGlobalId(book.id).id],
    );
    expect(rows.map((r) => r.idempotency_key).sort()).toEqual(posted.map((r) => r.key).sort());
    await checkBook(clients[1]!, book.id, posted.length);
    const balances = await ctxA.db.query<{ balance: string }>(
      'select (posted_credits - posted_debits)::text as balance from account where book_id = $1',
      [decodeGlobalId(book.id).id],
    );
    for (const { balance } of balances.rows) {
      expect(Number(balance)).toBeGreaterThanOrEqual(-50);
      expect(Number(balance)).toBeLessThanOrEqual(100);
    }
  });
});
