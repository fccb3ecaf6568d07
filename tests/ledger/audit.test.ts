/**
 * auditBook (issue 10 item 3): the derived state of a book (each account's stored running totals
 * and the per-day totals balances as of an instant are read from) is recomputed from the lines and
 * every difference reported, next to the hash chain's verdict. Each corruption is made directly in
 * the database, as an attacker or a broken tool would, in a book of its own; the expected figures
 * are written out by hand.
 */
import { describe, expect, it } from 'vitest';
import {
  type CreatedAccount,
  type CreatedBook,
  createAccount,
  createBook,
  credit,
  debit,
  decodeGlobalId,
  ledgerClient,
  newKey,
} from '../helpers/ledger.js';
import { useLedgerServer } from '../helpers/server.js';
import { issueToken } from '../helpers/tokens.js';

const ctx = useLedgerServer({ db: true });

const DAY_MS = 24 * 3600 * 1000;

interface Fixture {
  book: CreatedBook;
  bookUuid: string;
  cash: CreatedAccount;
  equity: CreatedAccount;
  /** The UTC days of the two posted entries: [two days ago, today]. */
  days: [string, string];
}

/**
 * A book of its own: 100.00 put in two days ago, 25.50 today, and 10.00 pending out of cash.
 * Cash: posted debits 125.50, pending credits 10.00; equity: posted credits 125.50, pending
 * debits 10.00. Day totals: cash debits 100.00 and 25.50, equity credits 100.00 and 25.50.
 */
async function fixture(): Promise<Fixture> {
  const book = await createBook(ctx.ledger);
  const cash = await createAccount(ctx.ledger, book.id, { code: 'cash', type: 'ASSET' });
  const equity = await createAccount(ctx.ledger, book.id, { code: 'equity', type: 'EQUITY' });
  // Noon UTC, so the day is unambiguous whatever the clock says.
  const now = new Date();
  const today = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
  const twoDaysAgo = new Date(today.getTime() - 2 * DAY_MS + 12 * 3600 * 1000);
  const posted = [
    await ctx.ledger.postJournalEntry({
      bookId: book.id,
      idempotencyKey: newKey('audit'),
      effectiveAt: twoDaysAgo.toISOString(),
      lines: [debit(cash, '100.00'), credit(equity, '100.00')],
    }),
    await ctx.ledger.postJournalEntry({
      bookId: book.id,
      idempotencyKey: newKey('audit'),
      lines: [debit(cash, '25.50'), credit(equity, '25.50')],
    }),
    await ctx.ledger.postPendingEntry({
      bookId: book.id,
      idempotencyKey: newKey('audit'),
      lines: [debit(equity, '10.00'), credit(cash, '10.00')],
    }),
  ];
  for (const p of posted) expect(p.userErrors).toEqual([]);
  const day = (d: Date) => d.toISOString().slice(0, 10);
  const todayDay = day(new Date(posted[1]!.entry!.effectiveAt));
  return {
    book,
    bookUuid: decodeGlobalId(book.id).id,
    cash,
    equity,
    days: [day(twoDaysAgo), todayDay],
  };
}

async function change(sql: string, params: unknown[]): Promise<void> {
  const result = await ctx.db.query(sql, params);
  expect(result.rowCount, sql).toBe(1);
}

describe('auditBook', () => {
  it('finds nothing in a clean book', async () => {
    const f = await fixture();
    const audit = await ctx.ledger.auditBook({ bookId: f.book.id });
    expect(audit).toEqual({
      ok: true,
      book: { id: f.book.id },
      chain: expect.objectContaining({ ok: true, entriesChecked: 3, firstMismatch: null }),
      accountsChecked: 2,
      // (cash, two days ago), (cash, today), (equity, two days ago), (equity, today).
      dayTotalsChecked: 4,
      mismatchCount: 0,
      mismatches: [],
      // The fixture's one pending entry, open, with its row.
      openPendingChecked: 1,
      openPendingMismatchCount: 0,
      openPendingMismatches: [],
    });
  });

  it("reports an account's stored total changed in the database, which the chain cannot see", async () => {
    const f = await fixture();
    await change('update account set posted_debits = posted_debits + 1000 where book_id = $1 and id = $2', [
      f.bookUuid,
      decodeGlobalId(f.cash.id).id,
    ]);
    await change('update account set pending_debits = 0 where book_id = $1 and id = $2', [
      f.bookUuid,
      decodeGlobalId(f.equity.id).id,
    ]);
    // The attack works: the balance is wrong, and the chain still verifies.
    expect((await ctx.ledger.accountBalance({ accountId: f.cash.id }))!.posted).toBe('1125.50');
    expect((await ctx.ledger.verifyBookChain({ bookId: f.book.id }))!.ok).toBe(true);

    const audit = await ctx.ledger.auditBook({ bookId: f.book.id });
    expect(audit).toMatchObject({ ok: false, chain: { ok: true }, mismatchCount: 2 });
    expect(audit!.mismatches).toEqual(
      expect.arrayContaining([
        {
          account: { id: f.cash.id, code: 'cash' },
          field: 'POSTED_DEBITS',
          day: null,
          stored: '1125.50',
          recomputed: '125.50',
        },
        {
          account: { id: f.equity.id, code: 'equity' },
          field: 'PENDING_DEBITS',
          day: null,
          stored: '0.00',
          recomputed: '10.00',
        },
      ]),
    );
  });

  it('reports day totals changed, removed or added in the database, which as-of balances read', async () => {
    const f = await fixture();
    const [earlier, today] = f.days;
    const cashId = decodeGlobalId(f.cash.id).id;
    const equityId = decodeGlobalId(f.equity.id).id;
    const asOf = new Date(`${today}T00:00:00.000Z`).toISOString();
    expect((await ctx.ledger.accountBalance({ accountId: f.cash.id, asOf }))!.posted).toBe('100.00');

    await change(
      'update account_day_total set credits = credits + 0.50 where book_id = $1 and account_id = $2 and day = $3',
      [f.bookUuid, equityId, earlier],
    );
    await change('delete from account_day_total where book_id = $1 and account_id = $2 and day = $3', [
      f.bookUuid,
      cashId,
      earlier,
    ]);
    // A day on which the account has no line at all.
    await change(
      `insert into account_day_total (book_id, account_id, day, debits, credits)
       values ($1, $2, $3::date - 1, 7.00, 0)`,
      [f.bookUuid, cashId, earlier],
    );
    // The attack works: the balance as of the start of today is wrong.
    expect((await ctx.ledger.accountBalance({ accountId: f.cash.id, asOf }))!.posted).toBe('7.00');

    const dayBefore = new Date(new Date(`${earlier}T00:00:00.000Z`).getTime() - DAY_MS)
      .toISOString()
      .slice(0, 10);
    const audit = await ctx.ledger.auditBook({ bookId: f.book.id });
    expect(audit).toMatchObject({ ok: false, chain: { ok: true }, dayTotalsChecked: 5, mismatchCount: 3 });
    expect(audit!.mismatches).toEqual(
      expect.arrayContaining([
        {
          account: { id: f.equity.id, code: 'equity' },
          field: 'DAY_CREDITS',
          day: earlier,
          stored: '100.50',
          recomputed: '100.00',
        },
        {
          account: { id: f.cash.id, code: 'cash' },
          field: 'DAY_DEBITS',
          day: earlier,
          stored: '0.00',
          recomputed: '100.00',
        },
        {
          account: { id: f.cash.id, code: 'cash' },
          field: 'DAY_DEBITS',
          day: dayBefore,
          stored: '7.00',
          recomputed: '0.00',
        },
      ]),
    );
  });

  it('reports the first entry whose hash does not match, next to the totals', async () => {
    const f = await fixture();
    await ctx.db.query('begin');
    try {
      await ctx.db.query('alter table journal_entry disable trigger journal_entry_immutable');
      await change('update journal_entry set memo = $2 where book_id = $1 and seq = 2', [
        f.bookUuid,
        'forged',
      ]);
      await ctx.db.query('alter table journal_entry enable trigger journal_entry_immutable');
      await ctx.db.query('commit');
    } catch (error) {
      await ctx.db.query('rollback');
      throw error;
    }
    const audit = await ctx.ledger.auditBook({ bookId: f.book.id });
    expect(audit).toMatchObject({
      ok: false,
      chain: { ok: false, entriesChecked: 1, firstMismatch: { seq: '2' } },
      mismatchCount: 0,
    });
    expect(audit!.chain.firstMismatch!.reason).toMatch(/hash/);
  });

  it("answers the book's treasurer, and null to another book's treasurer and to an unknown book", async () => {
    const f = await fixture();
    const other = await createBook(ctx.ledger);
    const own = await issueToken(ctx.ledger, { grants: [{ role: 'TREASURER', scope: f.bookUuid }] });
    const foreign = await issueToken(ctx.ledger, {
      grants: [{ role: 'TREASURER', scope: decodeGlobalId(other.id).id }],
    });
    const asOwn = ledgerClient(ctx.server.url, { token: own.token });
    const asForeign = ledgerClient(ctx.server.url, { token: foreign.token });
    expect(await asOwn.auditBook({ bookId: f.book.id })).toMatchObject({ ok: true, book: { id: f.book.id } });
    expect(await asForeign.auditBook({ bookId: f.book.id })).toBeNull();
    expect(await asForeign.auditBook({ bookId: other.id })).toMatchObject({ ok: true, accountsChecked: 0 });
    // An unknown book answers like a book of another tenant.
    const unknown = Buffer.from('Book:00000000-0000-7000-8000-000000000000').toString('base64');
    expect(await ctx.ledger.auditBook({ bookId: unknown })).toBeNull();
  });
});
