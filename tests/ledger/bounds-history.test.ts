/**
 * Bounds hold at every instant (issue 10 item 5). A backdated entry, a reversal dated at (or
 * before) its original and a commit dated at (or before) its pending entry each used to be checked
 * against the balance now only, so they could leave an account below its lower bound on earlier
 * dates. Each case is worked out by hand below; then a seeded random run through batches (many
 * entries decided in one flush) is checked against the balances recomputed from the journal,
 * entry by entry in (effectiveAt, seq) order.
 */
import { describe, expect, it } from 'vitest';
import type { JournalEntryInput } from '../../client-sdk/index.js';
import {
  type CreatedAccount,
  type CreatedBook,
  createAccount,
  createBook,
  credit,
  debit,
  decodeGlobalId,
  newKey,
  seededRandom,
  toMinor,
} from '../helpers/ledger.js';
import { useLedgerServer } from '../helpers/server.js';

const ctx = useLedgerServer({ db: true });

const HOUR_MS = 3600 * 1000;
/** An instant `hours` before the start of this test file, to the millisecond. */
const started = Date.now();
const hoursAgo = (hours: number) => new Date(started - hours * HOUR_MS).toISOString();

interface Wallet {
  book: CreatedBook;
  /** ASSET, lower bound 0.00. */
  wallet: CreatedAccount;
  equity: CreatedAccount;
  expense: CreatedAccount;
}

async function walletBook(): Promise<Wallet> {
  const book = await createBook(ctx.ledger);
  return {
    book,
    wallet: await createAccount(ctx.ledger, book.id, { code: 'wallet', type: 'ASSET', lowerBound: '0.00' }),
    equity: await createAccount(ctx.ledger, book.id, { code: 'equity', type: 'EQUITY' }),
    expense: await createAccount(ctx.ledger, book.id, { code: 'expense', type: 'EXPENSE' }),
  };
}

/** Posts `amount` into (positive) or out of (negative) the wallet at `effectiveAt`; the payload. */
function move(w: Wallet, amount: number, effectiveAt?: string) {
  const value = Math.abs(amount).toFixed(2);
  return ctx.ledger.postJournalEntry({
    bookId: w.book.id,
    idempotencyKey: newKey('move'),
    ...(effectiveAt ? { effectiveAt } : {}),
    lines:
      amount > 0
        ? [debit(w.wallet, value), credit(w.equity, value)]
        : [debit(w.expense, value), credit(w.wallet, value)],
  });
}

async function posted(w: Wallet, amount: number, effectiveAt?: string) {
  const payload = await move(w, amount, effectiveAt);
  expect(payload.userErrors).toEqual([]);
  return payload.entry!;
}

async function balanceOf(w: Wallet, asOf?: string): Promise<string> {
  return (await ctx.ledger.accountBalance({ accountId: w.wallet.id, ...(asOf ? { asOf } : {}) }))!.posted;
}

async function entryCount(w: Wallet): Promise<string> {
  return (await ctx.ledger.book({ id: w.book.id }))!.entryCount;
}

describe('a backdated entry', () => {
  it('is refused when a balance after it would go below the bound, naming that instant', async () => {
    const w = await walletBook();
    await posted(w, 100, hoursAgo(120));
    await posted(w, -100, hoursAgo(72));
    await posted(w, 100, hoursAgo(24));
    expect(await balanceOf(w)).toBe('100.00');
    const count = await entryCount(w);

    // 60.00 out 96 hours ago: 40.00 then, but -60.00 after the withdrawal 72 hours ago.
    const refused = await move(w, -60, hoursAgo(96));
    expect(refused.entry).toBeNull();
    expect(refused.userErrors).toEqual([
      {
        code: 'BALANCE_BOUND_EXCEEDED',
        field: 'lines[1].accountId',
        message: expect.stringContaining(
          `below its lower bound on ${hoursAgo(72)}: its balance would be -60.00`,
        ),
      },
    ]);
    // 48 hours ago the balance was 0.00: below the bound at once.
    const atOnce = await move(w, -60, hoursAgo(48));
    expect(atOnce.userErrors[0]!.message).toContain(`on ${hoursAgo(48)}: its balance would be -60.00`);
    expect(await entryCount(w)).toBe(count);
    expect(await balanceOf(w, hoursAgo(60))).toBe('0.00');

    // Dated 30 hours ago, before the deposit 24 hours ago, it still breaks it; dated now it fits.
    expect((await move(w, -60, hoursAgo(30))).userErrors.map((e) => e.code)).toEqual([
      'BALANCE_BOUND_EXCEEDED',
    ]);
    await posted(w, -60);
    expect(await balanceOf(w)).toBe('40.00');
    // A deposit dated in the past never breaks a lower bound.
    await posted(w, 5, hoursAgo(100));
    expect(await balanceOf(w, hoursAgo(60))).toBe('5.00');
  });
});

describe('a reversal', () => {
  it('is not dated before its original, and is refused where undoing it earlier breaks the bound', async () => {
    const w = await walletBook();
    const deposit = await posted(w, 100, hoursAgo(120));
    await posted(w, -100, hoursAgo(72));
    await posted(w, 100, hoursAgo(24));

    const before = await ctx.ledger.reverseJournalEntry({
      entryId: deposit.id,
      idempotencyKey: newKey('rev'),
      effectiveAt: hoursAgo(121),
    });
    expect(before.userErrors).toEqual([
      {
        code: 'INVALID_EFFECTIVE_AT',
        field: 'effectiveAt',
        message: `a reversal cannot be dated before the entry it reverses (${hoursAgo(120)})`,
      },
    ]);
    // Dated at its original (the default): the wallet would hold -100.00 after 72 hours ago.
    const atOriginal = await ctx.ledger.reverseJournalEntry({
      entryId: deposit.id,
      idempotencyKey: newKey('rev'),
    });
    expect(atOriginal.userErrors).toEqual([
      expect.objectContaining({
        code: 'BALANCE_BOUND_EXCEEDED',
        message: expect.stringContaining(`on ${hoursAgo(72)}: its balance would be -100.00`),
      }),
    ]);
    // Dated now it fits: 100.00 - 100.00.
    const now = await ctx.ledger.reverseJournalEntry({
      entryId: deposit.id,
      idempotencyKey: newKey('rev'),
      effectiveAt: new Date().toISOString(),
    });
    expect(now.userErrors).toEqual([]);
    expect(await balanceOf(w)).toBe('0.00');
    expect(await balanceOf(w, hoursAgo(100))).toBe('100.00');
  });
});

describe('a commit', () => {
  it('is not dated before its pending entry, and is refused where posting it earlier breaks the bound', async () => {
    const w = await walletBook();
    await posted(w, 100, hoursAgo(72));
    // 60.00 reserved 48 hours ago (available 40.00), 50.00 in 24 hours ago (available 90.00),
    // 90.00 out 60 hours ago (fine then: 10.00; available now 0.00).
    const pending = await ctx.ledger.postPendingEntry({
      bookId: w.book.id,
      idempotencyKey: newKey('pending'),
      effectiveAt: hoursAgo(48),
      lines: [debit(w.expense, '60.00'), credit(w.wallet, '60.00')],
    });
    expect(pending.userErrors).toEqual([]);
    await posted(w, 50, hoursAgo(24));
    await posted(w, -90, hoursAgo(60));
    expect(await ctx.ledger.accountBalance({ accountId: w.wallet.id })).toMatchObject({
      posted: '60.00',
      available: '0.00',
    });

    const commit = (effectiveAt?: string) =>
      ctx.ledger.commitPendingEntry({
        entryId: pending.entry!.id,
        idempotencyKey: newKey('commit'),
        ...(effectiveAt ? { effectiveAt } : {}),
      });
    expect((await commit(hoursAgo(49))).userErrors).toEqual([
      {
        code: 'INVALID_EFFECTIVE_AT',
        field: 'effectiveAt',
        message: `a commit cannot be dated before the entry it commits (${hoursAgo(48)})`,
      },
    ]);
    // Dated at the pending entry: 10.00 - 60.00 = -50.00 48 hours ago.
    expect((await commit(hoursAgo(48))).userErrors).toEqual([
      expect.objectContaining({
        code: 'BALANCE_BOUND_EXCEEDED',
        message: expect.stringContaining(`on ${hoursAgo(48)}: its balance would be -50.00`),
      }),
    ]);
    // Dated now (the default) it fits: 60.00 - 60.00.
    const now = await commit();
    expect(now.userErrors).toEqual([]);
    expect(await balanceOf(w)).toBe('0.00');
  });
});

describe('random backdated traffic through batches', () => {
  it('never leaves a bounded account outside its bounds at any instant, recomputed from the journal', async () => {
    const book = await createBook(ctx.ledger);
    const bounded = [
      await createAccount(ctx.ledger, book.id, {
        code: 'a1',
        type: 'ASSET',
        lowerBound: '0.00',
        upperBound: '200.00',
      }),
      await createAccount(ctx.ledger, book.id, { code: 'a2', type: 'ASSET', lowerBound: '0.00' }),
      await createAccount(ctx.ledger, book.id, {
        code: 'm1',
        type: 'LIABILITY',
        lowerBound: '-50.00',
        upperBound: '100.00',
      }),
    ];
    const equity = await createAccount(ctx.ledger, book.id, { code: 'equity', type: 'EQUITY' });
    const all = [...bounded, equity];
    const random = seededRandom(20261206);
    const pick = <T>(items: T[]) => items[Math.floor(random() * items.length)]!;
    let accepted = 0;
    let backdatedAccepted = 0;
    const refusedLater: string[] = [];
    for (let round = 0; round < 8; round++) {
      const entries: JournalEntryInput[] = Array.from({ length: 15 }, () => {
        const from = pick(all);
        let to = pick(all);
        while (to === from) to = pick(all);
        const amount = (1 + Math.floor(random() * 8000) / 100).toFixed(2);
        const backdated = random() < 0.7;
        return {
          idempotencyKey: newKey('rnd'),
          ...(backdated ? { effectiveAt: hoursAgo(1 + Math.floor(random() * 240)) } : {}),
          lines: [debit(to, amount), credit(from, amount)],
        };
      });
      const result = await ctx.ledger.postJournalEntries({ bookId: book.id, mode: 'INDEPENDENT', entries });
      for (const [i, r] of result.results.entries()) {
        if (r.entry) {
          accepted++;
          if (entries[i]!.effectiveAt) backdatedAccepted++;
        } else {
          expect(r.userErrors.map((e) => e.code)).toEqual(['BALANCE_BOUND_EXCEEDED']);
          if (/ on \d{4}-/.test(r.userErrors[0]!.message)) refusedLater.push(r.userErrors[0]!.message);
        }
      }
    }
    // The run is not vacuous: backdated entries posted, and some were refused for a later instant.
    expect(backdatedAccepted).toBeGreaterThan(10);
    expect(refusedLater.length).toBeGreaterThan(0);
    expect(accepted).toBeGreaterThan(30);

    // Every balance of every bounded account, entry by entry in (effectiveAt, seq) order, from
    // the journal itself.
    const { rows } = await ctx.db.query(
      `select l.account_id, l.seq::text as seq,
              sum(case when l.side = 'DEBIT' then l.amount else -l.amount end)::numeric(38, 2)::text as net
         from journal_line l where l.book_id = $1 and l.phase = 'POSTED'
        group by l.account_id, l.effective_at, l.seq order by l.account_id, l.effective_at, l.seq`,
      [decodeGlobalId(book.id).id],
    );
    const outside: string[] = [];
    for (const account of bounded) {
      const raw = decodeGlobalId(account.id).id;
      const debitNormal = account.type === 'ASSET';
      const lower = account.code === 'm1' ? -5000n : 0n;
      const upper = account.code === 'a1' ? 20000n : account.code === 'm1' ? 10000n : null;
      let balance = 0n;
      for (const row of rows.filter((r) => r.account_id === raw)) {
        const net = toMinor(row.net, 2);
        balance += debitNormal ? net : -net;
        if (balance < lower || (upper !== null && balance > upper))
          outside.push(`${account.code} after entry ${row.seq}: ${balance}`);
      }
    }
    expect(outside).toEqual([]);
    expect((await ctx.ledger.auditBook({ bookId: book.id }))!.ok).toBe(true);
  });
});
