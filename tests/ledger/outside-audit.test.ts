/**
 * An outside audit of the ledger core (issues 2 and 10), through HTTP and the SDK: balances at
 * the exact instant of an entry, a millisecond before and at UTC day edges; reversals of
 * reversals and of a pending entry's commit; voided pending entries; several units in one book;
 * memos that must never break the chain; tampering found by verifyBookChain and auditBook. Every
 * expected figure is worked out by hand in the comments.
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
  newKey,
} from '../helpers/ledger.js';
import { useLedgerServer } from '../helpers/server.js';

const ctx = useLedgerServer({ db: true });

const DAY_MS = 24 * 3600 * 1000;

/** 00:00 UTC `daysAgo` days before today. */
function utcMidnight(daysAgo: number): number {
  const now = new Date();
  return Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()) - daysAgo * DAY_MS;
}

const iso = (ms: number) => new Date(ms).toISOString();

async function book2(units = [{ code: 'USD', scale: 2 }]): Promise<{
  book: CreatedBook;
  cash: CreatedAccount;
  equity: CreatedAccount;
}> {
  const book = await createBook(ctx.ledger, { units });
  const cash = await createAccount(ctx.ledger, book.id, { code: 'cash', type: 'ASSET' });
  const equity = await createAccount(ctx.ledger, book.id, { code: 'equity', type: 'EQUITY' });
  return { book, cash, equity };
}

async function post(bookId: string, lines: ReturnType<typeof debit>[], effectiveAt?: string, memo?: string) {
  const p = await ctx.ledger.postJournalEntry({
    bookId,
    idempotencyKey: newKey('oa'),
    lines,
    ...(effectiveAt === undefined ? {} : { effectiveAt }),
    ...(memo === undefined ? {} : { memo }),
  });
  expect(p.userErrors).toEqual([]);
  return p.entry!;
}

async function posted(account: CreatedAccount, asOf?: string): Promise<string> {
  const b = await ctx.ledger.accountBalance({
    accountId: account.id,
    ...(asOf === undefined ? {} : { asOf }),
  });
  return b!.posted;
}

describe('balances at an instant', () => {
  it('counts an entry at its own instant, not a millisecond before, across UTC day edges', async () => {
    const { book, cash, equity } = await book2();
    const d = utcMidnight(10);
    // 1.00 at 00:00:00.000 of day d, 2.00 at 23:59:59.999 of day d, 4.00 at 10:00:00.123 of d+1.
    await post(book.id, [debit(cash, '1.00'), credit(equity, '1.00')], iso(d));
    await post(book.id, [debit(cash, '2.00'), credit(equity, '2.00')], iso(d + DAY_MS - 1));
    await post(book.id, [debit(cash, '4.00'), credit(equity, '4.00')], iso(d + DAY_MS + 36_000_123));
    const cases: [number, string][] = [
      [d - 1, '0.00'],
      [d, '1.00'],
      [d + 1, '1.00'],
      [d + DAY_MS - 2, '1.00'],
      [d + DAY_MS - 1, '3.00'],
      [d + DAY_MS, '3.00'],
      [d + DAY_MS + 36_000_122, '3.00'],
      [d + DAY_MS + 36_000_123, '7.00'],
      [d + 5 * DAY_MS, '7.00'],
    ];
    for (const [at, want] of cases) {
      expect([iso(at), await posted(cash, iso(at))]).toEqual([iso(at), want]);
      expect([iso(at), await posted(equity, iso(at))]).toEqual([iso(at), want]);
    }
    // An instant written with an offset is the same instant: 01:00+02:00 of d+1 is 23:00Z of d.
    const dPlus1 = new Date(d + DAY_MS).toISOString().slice(0, 10);
    expect(await posted(cash, `${dPlus1}T01:00:00.000+02:00`)).toBe('1.00');
    expect(await posted(cash, `${dPlus1}T01:59:59.999+02:00`)).toBe('3.00');
    // A plain date is 00:00 UTC of that day.
    expect(await posted(cash, dPlus1)).toBe('3.00');
    const tb = await ctx.ledger.trialBalance({ bookId: book.id, asOf: iso(d + DAY_MS - 1) });
    expect(tb!.lines.map((l) => [l.account.code, l.debitBalance, l.creditBalance])).toEqual([
      ['cash', '3.00', '0.00'],
      ['equity', '0.00', '3.00'],
    ]);
  });
});

describe('reversals and two-phase entries', () => {
  it('reverses a reversal, and the reversal of that, back and forth', async () => {
    const { book, cash, equity } = await book2();
    const e = await post(book.id, [debit(cash, '10.00'), credit(equity, '10.00')]);
    let current = e.id;
    const seen: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await ctx.ledger.reverseJournalEntry({ entryId: current, idempotencyKey: newKey('rr') });
      expect(r.userErrors).toEqual([]);
      expect(r.entry!.kind).toBe('REVERSAL');
      expect(r.entry!.reverses!.id).toBe(current);
      seen.push(await posted(cash));
      current = r.entry!.id;
    }
    // -10, +10, -10 after the three reversals.
    expect(seen).toEqual(['0.00', '10.00', '0.00']);
    const again = await ctx.ledger.reverseJournalEntry({ entryId: e.id, idempotencyKey: newKey('rr') });
    expect(again.userErrors.map((u) => u.code)).toEqual(['ALREADY_REVERSED']);
    expect((await ctx.ledger.verifyBookChain({ bookId: book.id }))!.ok).toBe(true);
  });

  it('reverses a commit; a pending or void entry is not reversible; a voided entry cannot be committed', async () => {
    const { book, cash, equity } = await book2();
    await post(book.id, [debit(cash, '50.00'), credit(equity, '50.00')]);
    const p = await ctx.ledger.postPendingEntry({
      bookId: book.id,
      idempotencyKey: newKey('p'),
      lines: [debit(equity, '20.00'), credit(cash, '20.00')],
    });
    expect(p.userErrors).toEqual([]);
    const pendingReversal = await ctx.ledger.reverseJournalEntry({
      entryId: p.entry!.id,
      idempotencyKey: newKey('r'),
    });
    expect(pendingReversal.userErrors.map((u) => u.code)).toEqual(['NOT_REVERSIBLE']);
    const c = await ctx.ledger.commitPendingEntry({ entryId: p.entry!.id, idempotencyKey: newKey('c') });
    expect(c.userErrors).toEqual([]);
    const bal = await ctx.ledger.accountBalance({ accountId: cash.id });
    expect([bal!.posted, bal!.available, bal!.projected, bal!.pendingCredits]).toEqual([
      '30.00',
      '30.00',
      '30.00',
      '0.00',
    ]);
    const rc = await ctx.ledger.reverseJournalEntry({ entryId: c.entry!.id, idempotencyKey: newKey('r') });
    expect(rc.userErrors).toEqual([]);
    expect(await posted(cash)).toBe('50.00');
    expect(await posted(equity)).toBe('50.00');

    const q = await ctx.ledger.postPendingEntry({
      bookId: book.id,
      idempotencyKey: newKey('p'),
      lines: [debit(equity, '5.00'), credit(cash, '5.00')],
    });
    const v = await ctx.ledger.voidPendingEntry({ entryId: q.entry!.id, idempotencyKey: newKey('v') });
    expect(v.userErrors).toEqual([]);
    const after = await ctx.ledger.accountBalance({ accountId: cash.id });
    expect([after!.posted, after!.available, after!.pendingCredits]).toEqual(['50.00', '50.00', '0.00']);
    for (const id of [q.entry!.id, v.entry!.id]) {
      const r = await ctx.ledger.reverseJournalEntry({ entryId: id, idempotencyKey: newKey('r') });
      expect(r.userErrors.map((u) => u.code)).toEqual(['NOT_REVERSIBLE']);
    }
    const late = await ctx.ledger.commitPendingEntry({ entryId: q.entry!.id, idempotencyKey: newKey('c') });
    expect(late.userErrors.map((u) => u.code)).toEqual(['PENDING_ALREADY_RESOLVED']);
    const audit = await ctx.ledger.auditBook({ bookId: book.id });
    expect(audit).toMatchObject({ ok: true, mismatchCount: 0 });
  });
});

describe('several units in one book', () => {
  it('balances per unit, with scales 0, 2 and 18 and 18 integer digits', async () => {
    const book = await createBook(ctx.ledger, {
      units: [
        { code: 'USD', scale: 2 },
        { code: 'HOUR', scale: 0 },
        { code: 'TINY', scale: 18 },
      ],
    });
    const acc = async (code: string, type: 'ASSET' | 'EQUITY', unit: string) =>
      createAccount(ctx.ledger, book.id, { code, type, unit });
    const usdA = await acc('usd-a', 'ASSET', 'USD');
    const usdE = await acc('usd-e', 'EQUITY', 'USD');
    const hrA = await acc('hr-a', 'ASSET', 'HOUR');
    const hrE = await acc('hr-e', 'EQUITY', 'HOUR');
    const tA = await acc('t-a', 'ASSET', 'TINY');
    const tE = await acc('t-e', 'EQUITY', 'TINY');
    // One entry in three units.
    await post(book.id, [
      debit(usdA, '999999999999999999.99'),
      credit(usdE, '999999999999999999.99'),
      debit(hrA, '7'),
      credit(hrE, '7'),
      debit(tA, '0.000000000000000001'),
      credit(tE, '0.000000000000000001'),
    ]);
    // Unbalanced in one unit although the numbers sum to zero across units: refused.
    const bad = await ctx.ledger.postJournalEntry({
      bookId: book.id,
      idempotencyKey: newKey('u'),
      lines: [debit(usdA, '1.00'), credit(hrE, '1')],
    });
    expect(bad.userErrors.map((u) => u.code)).toEqual(['UNBALANCED_ENTRY']);
    const tb = await ctx.ledger.trialBalance({ bookId: book.id });
    expect(tb!.balanced).toBe(true);
    expect(
      tb!.units.map((u) => [u.unit.code, u.debitBalanceTotal, u.creditBalanceTotal, u.balanced]).sort(),
    ).toEqual([
      ['HOUR', '7', '7', true],
      ['TINY', '0.000000000000000001', '0.000000000000000001', true],
      ['USD', '999999999999999999.99', '999999999999999999.99', true],
    ]);
    expect((await ctx.ledger.auditBook({ bookId: book.id }))!.ok).toBe(true);
  });
});

describe('memos that must not break the chain', () => {
  it('keeps the chain whole with awkward memos, and reads each back as sent', async () => {
    const { book, cash, equity } = await book2();
    const memos = [
      '',
      ' leading and trailing spaces ',
      '\t\r\n',
      'line\r\nbreaks\u2028\u2029',
      '\uFEFFbom',
      'e\u0301 vs \u00e9',
      '😀'.repeat(500),
      '😀'.repeat(1000),
      'x'.repeat(1000),
      '\u0001\u001f\u007f\u0080\u009f',
      '"\\u0000" \\ " \' `$\u007Bx}` </script>',
      '\uFFFF\uFFFE\u{10FFFF}',
      '{"a":1}',
      'null',
    ];
    const answers: { memo: string; code: string | null; readBack: string | null }[] = [];
    for (const memo of memos) {
      const p = await ctx.ledger.postJournalEntry({
        bookId: book.id,
        idempotencyKey: newKey('m'),
        memo,
        lines: [debit(cash, '1.00'), credit(equity, '1.00')],
      });
      const code = p.userErrors[0]?.code ?? null;
      let readBack: string | null = null;
      if (p.entry) readBack = (await ctx.ledger.journalEntry({ id: p.entry.id }))!.memo ?? null;
      answers.push({ memo, code, readBack });
    }
    for (const a of answers) {
      if (a.code === null) expect(a.readBack ?? '').toBe(a.memo);
      else expect(a.code).toBe('INVALID_INPUT');
    }
    // 500 astral characters are 1,000 UTF-16 units: within any reading of "1,000 characters".
    expect(answers[6]!.code).toBeNull();
    const chain = await ctx.ledger.verifyBookChain({ bookId: book.id });
    expect(chain).toMatchObject({ ok: true, firstMismatch: null });
  });
});

describe('tampering found by verifyBookChain and auditBook', () => {
  async function tampered(statements: (uuid: string, entries: { id: string }[]) => [string, unknown[]][]) {
    const { book, cash, equity } = await book2();
    const entries = [];
    for (const amount of ['1.00', '2.00', '3.00', '4.00'])
      entries.push(await post(book.id, [debit(cash, amount), credit(equity, amount)]));
    const uuid = decodeGlobalId(book.id).id;
    await ctx.db.query('begin');
    try {
      await ctx.db.query('alter table journal_entry disable trigger user');
      await ctx.db.query('alter table journal_line disable trigger user');
      for (const [sql, params] of statements(
        uuid,
        entries.map((e) => ({ id: decodeGlobalId(e.id).id })),
      ))
        await ctx.db.query(sql, params);
      await ctx.db.query('alter table journal_entry enable trigger user');
      await ctx.db.query('alter table journal_line enable trigger user');
      await ctx.db.query('commit');
    } catch (error) {
      await ctx.db.query('rollback');
      throw error;
    }
    const chain = await ctx.ledger.verifyBookChain({ bookId: book.id });
    const audit = await ctx.ledger.auditBook({ bookId: book.id });
    return { chain: chain!, audit: audit!, entries };
  }

  it('names the entry whose line amount was changed', async () => {
    const { chain, audit, entries } = await tampered((uuid, e) => [
      ['update journal_line set amount = 3.50 where book_id = $1 and entry_id = $2', [uuid, e[2]!.id]],
    ]);
    expect(chain).toMatchObject({ ok: false, entriesChecked: 2, firstMismatch: { seq: '3' } });
    expect(chain.firstMismatch!.entry!.id).toBe(entries[2]!.id);
    expect(audit.ok).toBe(false);
    // The stored totals were not changed: they now differ from the lines.
    expect(audit.mismatchCount).toBeGreaterThan(0);
  });

  it('names the entry after a deleted one, and a deleted last entry', async () => {
    const mid = await tampered((uuid, e) => [
      ['delete from journal_line where book_id = $1 and entry_id = $2', [uuid, e[1]!.id]],
      ['delete from journal_entry where book_id = $1 and id = $2', [uuid, e[1]!.id]],
    ]);
    expect(mid.chain).toMatchObject({ ok: false, entriesChecked: 1, firstMismatch: { seq: '3' } });
    expect(mid.chain.firstMismatch!.entry!.id).toBe(mid.entries[2]!.id);
    const last = await tampered((uuid, e) => [
      ['delete from journal_line where book_id = $1 and entry_id = $2', [uuid, e[3]!.id]],
      ['delete from journal_entry where book_id = $1 and id = $2', [uuid, e[3]!.id]],
    ]);
    expect(last.chain).toMatchObject({ ok: false, entriesChecked: 3 });
    expect(last.audit.ok).toBe(false);
  });

  it('names a line added to an entry', async () => {
    const { chain, entries } = await tampered((uuid, e) => [
      [
        `insert into journal_line (book_id, entry_id, line_no, account_id, side, amount, unit_code, effective_at, phase, seq)
           select book_id, entry_id, 99, account_id, side, amount, unit_code, effective_at, phase, seq
             from journal_line where book_id = $1 and entry_id = $2 and line_no = 1`,
        [uuid, e[1]!.id],
      ],
    ]);
    expect(chain).toMatchObject({ ok: false, entriesChecked: 1, firstMismatch: { seq: '2' } });
    expect(chain.firstMismatch!.entry!.id).toBe(entries[1]!.id);
  });
});

describe('metadata that must not break the chain', () => {
  it('keeps keys that name Object.prototype members, and reads each pair back', async () => {
    const { book, cash, equity } = await book2();
    const metadata = [
      { key: '__proto__', value: 'polluted' },
      { key: 'constructor', value: 'c' },
      { key: 'toString', value: '' },
      { key: 'hasOwnProperty', value: 'h' },
      { key: '10', value: 'ten' },
      { key: '9', value: 'nine' },
      { key: 'A', value: '😀\u2028"\\' },
      { key: 'a', value: 'x'.repeat(500) },
      // Text that looks like JSON escapes PostgreSQL's jsonb refuses (\u0000, a lone surrogate).
      { key: 'esc', value: '\\u0000 \\ud800 \\"' },
      { key: 'json', value: '{"k":[1,null]}' },
    ];
    const p = await ctx.ledger.postJournalEntry({
      bookId: book.id,
      idempotencyKey: newKey('md'),
      metadata,
      lines: [debit(cash, '1.00'), credit(equity, '1.00')],
    });
    expect(p.userErrors).toEqual([]);
    const read = await ctx.ledger.journalEntry({ id: p.entry!.id });
    const byKey = (xs: { key: string; value: string }[]) => [...xs].sort((x, y) => (x.key < y.key ? -1 : 1));
    expect(byKey(read!.metadata)).toEqual(byKey(metadata));
    expect(await ctx.ledger.verifyBookChain({ bookId: book.id })).toMatchObject({ ok: true });
    const replay = await ctx.ledger.postJournalEntry({
      bookId: book.id,
      idempotencyKey: p.entry!.idempotencyKey,
      metadata,
      lines: [debit(cash, '1.00'), credit(equity, '1.00')],
    });
    expect([replay.userErrors, replay.replayed]).toEqual([[], true]);
  });
});

describe('journal entries between two instants', () => {
  it('takes `from` inclusive and `to` exclusive to the millisecond, for the book and for one account', async () => {
    const { book, cash, equity } = await book2();
    const t = utcMidnight(4) + 12 * 3600 * 1000;
    await post(book.id, [debit(cash, '1.00'), credit(equity, '1.00')], iso(t - 1), 'before');
    await post(book.id, [debit(cash, '2.00'), credit(equity, '2.00')], iso(t), 'at t');
    await post(book.id, [debit(cash, '3.00'), credit(equity, '3.00')], iso(t + 1), 'at t+1');
    const memos = async (from: number, to: number, accountId?: string) =>
      (await ctx.ledger.journalEntries({
        bookId: book.id,
        from: iso(from),
        to: iso(to),
        ...(accountId ? { accountId } : {}),
      }))!.edges.map((e) => e.node.memo);
    for (const accountId of [undefined, cash.id]) {
      expect(await memos(t, t + 1, accountId)).toEqual(['at t']);
      expect(await memos(t - 1, t + 2, accountId)).toEqual(['before', 'at t', 'at t+1']);
      expect(await memos(t, t, accountId)).toEqual([]);
    }
  });
});
