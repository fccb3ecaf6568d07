/**
 * An expired pending entry under audit (issue 10): the sweep's VOID keeps the chain and the
 * totals whole, and neither the pending entry nor its VOID is reversible or committable after.
 */
import { expect, it } from 'vitest';
import { createAccount, createBook, credit, debit, newKey, waitFor } from '../helpers/ledger.js';
import { useLedgerServer } from '../helpers/server.js';

const ctx = useLedgerServer();

it('keeps the chain and every total whole through an expiry, and refuses to undo it', async () => {
  const book = await createBook(ctx.ledger);
  const cash = await createAccount(ctx.ledger, book.id, { code: 'cash', type: 'ASSET', lowerBound: '0.00' });
  const equity = await createAccount(ctx.ledger, book.id, { code: 'equity', type: 'EQUITY' });
  const fund = await ctx.ledger.postJournalEntry({
    bookId: book.id,
    idempotencyKey: newKey('x'),
    lines: [debit(cash, '10.00'), credit(equity, '10.00')],
  });
  expect(fund.userErrors).toEqual([]);
  const expiresAt = new Date(Date.now() + 1000).toISOString();
  const held = await ctx.ledger.postPendingEntry({
    bookId: book.id,
    idempotencyKey: newKey('x'),
    expiresAt,
    lines: [debit(equity, '10.00'), credit(cash, '10.00')],
  });
  expect(held.userErrors).toEqual([]);
  await waitFor(() => Date.now() > Date.parse(expiresAt) + 5, { what: 'the pending entry to expire' });
  await ctx.server.services.ledger.expirePending();
  const swept = (await ctx.ledger.journalEntry({ id: held.entry!.id }))!;
  expect(swept.status).toBe('EXPIRED');
  const b = (await ctx.ledger.accountBalance({ accountId: cash.id }))!;
  expect([b.posted, b.available, b.pendingCredits]).toEqual(['10.00', '10.00', '0.00']);
  const voidId = swept.resolvedBy!.id;
  for (const id of [held.entry!.id, voidId]) {
    const r = await ctx.ledger.reverseJournalEntry({ entryId: id, idempotencyKey: newKey('x') });
    expect(r.userErrors.map((e) => e.code)).toEqual(['NOT_REVERSIBLE']);
  }
  const v = await ctx.ledger.voidPendingEntry({ entryId: held.entry!.id, idempotencyKey: newKey('x') });
  expect(v.userErrors.map((e) => e.code)).toEqual(['PENDING_ALREADY_RESOLVED']);
  // The whole 10.00 may now leave: the reservation is gone.
  const spend = await ctx.ledger.postJournalEntry({
    bookId: book.id,
    idempotencyKey: newKey('x'),
    lines: [debit(equity, '10.00'), credit(cash, '10.00')],
  });
  expect(spend.userErrors).toEqual([]);
  expect(await ctx.ledger.auditBook({ bookId: book.id })).toMatchObject({
    ok: true,
    chain: { ok: true, entriesChecked: 4 },
    mismatchCount: 0,
  });
});
