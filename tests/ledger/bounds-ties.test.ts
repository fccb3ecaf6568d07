/**
 * Bounds over time (issue 10), hand-worked cases the other files lack: an upper bound on a
 * credit-normal account crossed by a backdated entry, and entries at the very instant of an
 * existing one, which count after it (the order is effectiveAt, then seq).
 */
import { describe, expect, it } from 'vitest';
import { createAccount, createBook, credit, debit, newKey } from '../helpers/ledger.js';
import { useLedgerServer } from '../helpers/server.js';

const ctx = useLedgerServer();
const HOUR_MS = 3600 * 1000;
const started = Date.now();
const hoursAgo = (h: number) => new Date(started - h * HOUR_MS).toISOString();

describe('bounds at every instant', () => {
  it('refuses a backdated credit that takes a liability past its upper bound before a later repayment', async () => {
    const book = await createBook(ctx.ledger);
    // A loan of at most 100.00 (LIABILITY: credit-normal, upper bound 100.00).
    const loan = await createAccount(ctx.ledger, book.id, {
      code: 'loan',
      type: 'LIABILITY',
      upperBound: '100.00',
    });
    const cash = await createAccount(ctx.ledger, book.id, { code: 'cash', type: 'ASSET' });
    const post = (lines: ReturnType<typeof debit>[], at: string) =>
      ctx.ledger.postJournalEntry({ bookId: book.id, idempotencyKey: newKey('tie'), effectiveAt: at, lines });
    // Borrow 100.00 at -48 h, repay 100.00 at -24 h: 100.00 then 0.00.
    expect((await post([debit(cash, '100.00'), credit(loan, '100.00')], hoursAgo(48))).userErrors).toEqual(
      [],
    );
    expect((await post([debit(loan, '100.00'), credit(cash, '100.00')], hoursAgo(24))).userErrors).toEqual(
      [],
    );
    // Borrowing 30.00 at -36 h: 130.00 between -36 h and -24 h, though 30.00 now.
    const over = await post([debit(cash, '30.00'), credit(loan, '30.00')], hoursAgo(36));
    expect(over.userErrors.map((e) => [e.code, e.field])).toEqual([
      ['BALANCE_BOUND_EXCEEDED', 'lines[1].accountId'],
    ]);
    expect(over.userErrors[0]!.message).toContain(`on ${hoursAgo(36)}: its balance would be 130.00`);
    // At the instant of the repayment it counts after it (higher seq): 0.00 + 30.00, within.
    expect((await post([debit(cash, '30.00'), credit(loan, '30.00')], hoursAgo(24))).userErrors).toEqual([]);
    // At the instant of the borrowing it counts after it too: 100.00 + 1.00 at once.
    const tie = await post([debit(cash, '1.00'), credit(loan, '1.00')], hoursAgo(48));
    expect(tie.userErrors.map((e) => e.code)).toEqual(['BALANCE_BOUND_EXCEEDED']);
    expect(tie.userErrors[0]!.message).toContain(`on ${hoursAgo(48)}: its balance would be 101.00`);
    const at = async (asOf: string) =>
      (await ctx.ledger.accountBalance({ accountId: loan.id, asOf }))!.posted;
    expect([
      await at(hoursAgo(48)),
      await at(hoursAgo(30)),
      await at(hoursAgo(24)),
      await at(hoursAgo(1)),
    ]).toEqual(['100.00', '100.00', '30.00', '30.00']);
  });

  it('refuses a withdrawal at the instant of an earlier one that emptied the account', async () => {
    const book = await createBook(ctx.ledger);
    const wallet = await createAccount(ctx.ledger, book.id, {
      code: 'wallet',
      type: 'ASSET',
      lowerBound: '0.00',
    });
    const equity = await createAccount(ctx.ledger, book.id, { code: 'equity', type: 'EQUITY' });
    const post = (lines: ReturnType<typeof debit>[], at: string) =>
      ctx.ledger.postJournalEntry({ bookId: book.id, idempotencyKey: newKey('tie'), effectiveAt: at, lines });
    expect((await post([debit(wallet, '50.00'), credit(equity, '50.00')], hoursAgo(10))).userErrors).toEqual(
      [],
    );
    expect((await post([debit(equity, '50.00'), credit(wallet, '50.00')], hoursAgo(5))).userErrors).toEqual(
      [],
    );
    expect((await post([debit(wallet, '20.00'), credit(equity, '20.00')], hoursAgo(2))).userErrors).toEqual(
      [],
    );
    // 20.00 out at -5 h, after the 50.00 out at that instant: -20.00 until the deposit at -2 h.
    const refused = await post([debit(equity, '20.00'), credit(wallet, '20.00')], hoursAgo(5));
    expect(refused.userErrors.map((e) => e.code)).toEqual(['BALANCE_BOUND_EXCEEDED']);
    expect(refused.userErrors[0]!.message).toContain(`on ${hoursAgo(5)}: its balance would be -20.00`);
    // The same a millisecond after the deposit at -2 h is within: 0.00.
    const after = new Date(Date.parse(hoursAgo(2)) + 1).toISOString();
    expect((await post([debit(equity, '20.00'), credit(wallet, '20.00')], after)).userErrors).toEqual([]);
  });
});
