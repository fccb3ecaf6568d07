/**
 * The consistency checks must be able to say no. `checkConsistency` (LedgerService; the co-op
 * tests rely on it after every step) and `balanceMismatches` (behind it and behind the bank test's
 * verdict) compare each account's stored running totals with the sums of its lines. Here the
 * stored totals are corrupted directly in the database (the immutability triggers guard the
 * journal tables; an account's totals are plain columns) and both must name each corrupted field,
 * with the stored and the recomputed value; a clean book is the control. The corruption happens in
 * a book of its own and is undone at the end.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { balanceMismatches } from '../../server/ledger/index.js';
import { createAccount, createBook, credit, debit, decodeGlobalId, newKey } from '../helpers/ledger.js';
import { useLedgerServer } from '../helpers/server.js';

const ctx = useLedgerServer();

let db: pg.Pool;

beforeAll(async () => {
  db = new pg.Pool({ connectionString: inject('databaseUrl'), max: 1 });
});

afterAll(async () => {
  await db?.end();
});

/** balanceMismatches' answer in plain values (Decimals as strings at the unit's scale). */
async function mismatchesOf(bookId: string) {
  const { accounts, mismatches } = await balanceMismatches(db, bookId);
  return {
    accounts: accounts.length,
    mismatches: mismatches.map((m) => ({
      account: m.account.code,
      field: m.field,
      stored: m.stored.toFixed(2),
      fromLines: m.fromLines.toFixed(2),
    })),
  };
}

describe('checkConsistency and balanceMismatches', () => {
  it('report a stored account total corrupted in the database, field by field, and nothing on a clean book', async () => {
    const book = await createBook(ctx.ledger);
    const bookId = decodeGlobalId(book.id).id;
    const cash = await createAccount(ctx.ledger, book.id, { code: 'cash', type: 'ASSET' });
    const equity = await createAccount(ctx.ledger, book.id, { code: 'equity', type: 'EQUITY' });
    for (const amount of ['10.00', '2.50']) {
      const posted = await ctx.ledger.postJournalEntry({
        bookId: book.id,
        idempotencyKey: newKey('consistency'),
        lines: [debit(cash, amount), credit(equity, amount)],
      });
      expect(posted.userErrors).toEqual([]);
    }
    const pending = await ctx.ledger.postPendingEntry({
      bookId: book.id,
      idempotencyKey: newKey('consistency-pending'),
      lines: [debit(cash, '4.00'), credit(equity, '4.00')],
    });
    expect(pending.userErrors).toEqual([]);

    // Control: the stored totals are the lines' (cash: posted debits 12.50, pending debits 4.00).
    expect(await ctx.server.services.ledger.checkConsistency(bookId)).toEqual({
      ok: true,
      accountsChecked: 2,
      mismatches: [],
    });
    expect(await mismatchesOf(bookId)).toEqual({ accounts: 2, mismatches: [] });

    const cashId = decodeGlobalId(cash.id).id;
    const equityId = decodeGlobalId(equity.id).id;
    const corrupt = async (accountId: string, column: string, value: string) => {
      const { rowCount } = await db.query(
        `update account set ${column} = $3 where book_id = $1 and id = $2`,
        [bookId, accountId, value],
      );
      expect(rowCount).toBe(1);
    };
    try {
      // One cent more on cash's posted debits, equity's pending credits wiped.
      await corrupt(cashId, 'posted_debits', '12.51');
      await corrupt(equityId, 'pending_credits', '0.00');

      const report = await ctx.server.services.ledger.checkConsistency(bookId);
      expect(report.ok).toBe(false);
      expect(report.accountsChecked).toBe(2);
      expect(
        report.mismatches
          .map((m) => ({ ...m, stored: Number(m.stored), fromLines: Number(m.fromLines) }))
          .sort((a, b) => a.field.localeCompare(b.field)),
      ).toEqual([
        { accountId: equityId, field: 'pendingCredits', stored: 0, fromLines: 4 },
        { accountId: cashId, field: 'postedDebits', stored: 12.51, fromLines: 12.5 },
      ]);
      expect((await mismatchesOf(bookId)).mismatches.sort((a, b) => a.field.localeCompare(b.field))).toEqual([
        { account: 'equity', field: 'pendingCredits', stored: '0.00', fromLines: '4.00' },
        { account: 'cash', field: 'postedDebits', stored: '12.51', fromLines: '12.50' },
      ]);
    } finally {
      await corrupt(cashId, 'posted_debits', '12.50');
      await corrupt(equityId, 'pending_credits', '4.00');
    }
    // Restored: clean again (the checks compare values, they do not remember a past mismatch).
    expect((await ctx.server.services.ledger.checkConsistency(bookId)).ok).toBe(true);
    expect(await mismatchesOf(bookId)).toEqual({ accounts: 2, mismatches: [] });
  });
});
