/**
 * Smaller questions of issue 10 (item 13), each decided and documented in README ("The ledger"):
 * - closing a parent account whose sub-account holds a balance or a reservation: refused with
 *   ACCOUNT_NOT_EMPTY naming the sub-account (a parent's balance, as a treasurer reads it, is its
 *   roll-up); empty sub-accounts do not stop it and stay open;
 * - an entry with the same account on both sides: refused with INVALID_INPUT naming the line
 *   (post the net amount); the same account twice on one side is a split and is fine.
 */
import { describe, expect, it } from 'vitest';
import {
  type CreatedAccount,
  type CreatedBook,
  createAccount,
  createBook,
  credit,
  debit,
  newKey,
} from '../helpers/ledger.js';
import { useLedgerServer } from '../helpers/server.js';

const ctx = useLedgerServer();

async function post(book: CreatedBook, lines: ReturnType<typeof debit>[]) {
  return ctx.ledger.postJournalEntry({ bookId: book.id, idempotencyKey: newKey('dec'), lines });
}

describe('closing a parent account', () => {
  interface Tree {
    book: CreatedBook;
    parent: CreatedAccount;
    child: CreatedAccount;
    grandchild: CreatedAccount;
    empty: CreatedAccount;
    cash: CreatedAccount;
  }

  async function tree(): Promise<Tree> {
    const book = await createBook(ctx.ledger);
    const parent = await createAccount(ctx.ledger, book.id, { code: '3000', type: 'EQUITY' });
    const child = await createAccount(ctx.ledger, book.id, {
      code: '3000.1',
      type: 'EQUITY',
      parentId: parent.id,
    });
    const grandchild = await createAccount(ctx.ledger, book.id, {
      code: '3000.1.1',
      type: 'EQUITY',
      parentId: child.id,
    });
    const empty = await createAccount(ctx.ledger, book.id, {
      code: '3000.2',
      type: 'EQUITY',
      parentId: parent.id,
    });
    const cash = await createAccount(ctx.ledger, book.id, { code: '1000', type: 'ASSET' });
    return { book, parent, child, grandchild, empty, cash };
  }

  const close = (account: CreatedAccount) => ctx.ledger.closeAccount({ accountId: account.id });

  it('is refused while a sub-account holds a balance, naming it', async () => {
    const t = await tree();
    expect((await post(t.book, [debit(t.cash, '25.00'), credit(t.child, '25.00')])).userErrors).toEqual([]);
    // The parent's own balance is zero; its roll-up is 25.00.
    expect((await ctx.ledger.accountBalance({ accountId: t.parent.id }))!).toMatchObject({
      posted: '0.00',
      rollup: '25.00',
    });
    const refused = await close(t.parent);
    expect(refused.account).toBeNull();
    expect(refused.userErrors).toEqual([
      {
        code: 'ACCOUNT_NOT_EMPTY',
        field: 'accountId',
        message:
          'sub-account 3000.1 holds a balance or pending entries: a parent account closes only when every account below it is empty',
      },
    ]);
    expect((await ctx.ledger.account({ id: t.parent.id }))!.closed).toBe(false);

    // Emptied, the branch closes; the empty sub-accounts stay open.
    expect((await post(t.book, [debit(t.child, '25.00'), credit(t.cash, '25.00')])).userErrors).toEqual([]);
    const closed = await close(t.parent);
    expect(closed.userErrors).toEqual([]);
    expect(closed.account!.closed).toBe(true);
    expect((await ctx.ledger.account({ id: t.child.id }))!.closed).toBe(false);
  });

  it('is refused while an account further down holds a reservation', async () => {
    const t = await tree();
    const pending = await ctx.ledger.postPendingEntry({
      bookId: t.book.id,
      idempotencyKey: newKey('dec'),
      lines: [debit(t.cash, '5.00'), credit(t.grandchild, '5.00')],
    });
    expect(pending.userErrors).toEqual([]);
    expect((await close(t.parent)).userErrors.map((e) => [e.code, e.message.split(' ')[1]])).toEqual([
      ['ACCOUNT_NOT_EMPTY', '3000.1.1'],
    ]);
    expect((await close(t.child)).userErrors.map((e) => e.code)).toEqual(['ACCOUNT_NOT_EMPTY']);
    // The sub-account's own closing is refused for its own reason, as before.
    expect((await close(t.grandchild)).userErrors.map((e) => e.code)).toEqual(['ACCOUNT_NOT_EMPTY']);
    const voided = await ctx.ledger.voidPendingEntry({
      entryId: pending.entry!.id,
      idempotencyKey: newKey('dec'),
    });
    expect(voided.userErrors).toEqual([]);
    expect((await close(t.parent)).userErrors).toEqual([]);
  });

  it('is not held back by sub-accounts whose entries cancel out', async () => {
    const t = await tree();
    expect((await post(t.book, [debit(t.cash, '7.00'), credit(t.empty, '7.00')])).userErrors).toEqual([]);
    expect((await post(t.book, [debit(t.empty, '7.00'), credit(t.cash, '7.00')])).userErrors).toEqual([]);
    expect((await close(t.parent)).userErrors).toEqual([]);
  });
});

describe('an entry with the same account on both sides', () => {
  it('is refused, naming the line, and posts nothing; the same account twice on one side is fine', async () => {
    const book = await createBook(ctx.ledger);
    const cash = await createAccount(ctx.ledger, book.id, { code: 'cash', type: 'ASSET' });
    const bank = await createAccount(ctx.ledger, book.id, { code: 'bank', type: 'ASSET' });
    const equity = await createAccount(ctx.ledger, book.id, { code: 'equity', type: 'EQUITY' });

    const both = await post(book, [debit(cash, '10.00'), credit(cash, '10.00')]);
    expect(both).toMatchObject({
      entry: null,
      userErrors: [
        {
          code: 'INVALID_INPUT',
          field: 'lines[1].accountId',
          message: 'an account is on both sides of this entry: post its net amount on one side',
        },
      ],
    });
    // Netting hidden in a larger entry is refused too.
    const hidden = await post(book, [debit(cash, '10.00'), credit(bank, '4.00'), credit(cash, '6.00')]);
    expect(hidden.userErrors.map((e) => [e.code, e.field])).toEqual([
      ['INVALID_INPUT', 'lines[2].accountId'],
    ]);
    expect((await ctx.ledger.book({ id: book.id }))!.entryCount).toBe('0');

    const split = await post(book, [debit(cash, '6.00'), debit(cash, '4.00'), credit(equity, '10.00')]);
    expect(split.userErrors).toEqual([]);
    expect((await ctx.ledger.accountBalance({ accountId: cash.id }))!.posted).toBe('10.00');
  });
});
