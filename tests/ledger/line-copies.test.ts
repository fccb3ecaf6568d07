/**
 * A journal line carries copies of its entry's effectiveAt, seq and phase (so balances as of an
 * instant and an account's history read one table). The chain hashes the entry's values, not the
 * copies: a line whose copy was changed in the database (a payment moved to another instant of
 * its day, a posted line made pending, its order changed) moves balances while the entry's hash
 * still matches. verifyBookChain (and so auditBook) must name the entry whose line disagrees.
 */
import { describe, expect, it } from 'vitest';
import { entryHash } from '../../server/ledger/chain-hash.js';
import type { Queryable } from '../../server/ledger/store.js';
import { entriesBySeq } from '../../server/ledger/store-reads.js';
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

interface Fixture {
  book: CreatedBook;
  uuid: string;
  cash: CreatedAccount;
  /** The raw ids of the three entries, posted at 08:00, 12:00 and 16:00 UTC of one past day. */
  entries: { id: string; raw: string; at: string }[];
}

async function fixture(): Promise<Fixture> {
  const book = await createBook(ctx.ledger);
  const cash = await createAccount(ctx.ledger, book.id, { code: 'cash', type: 'ASSET' });
  const equity = await createAccount(ctx.ledger, book.id, { code: 'equity', type: 'EQUITY' });
  const now = new Date();
  const day = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()) - 3 * DAY_MS;
  const entries = [];
  for (const [hour, amount] of [
    [8, '1.00'],
    [12, '2.00'],
    [16, '4.00'],
  ] as const) {
    const at = new Date(day + hour * 3600 * 1000).toISOString();
    const p = await ctx.ledger.postJournalEntry({
      bookId: book.id,
      idempotencyKey: newKey('copy'),
      effectiveAt: at,
      lines: [debit(cash, amount), credit(equity, amount)],
    });
    expect(p.userErrors).toEqual([]);
    entries.push({ id: p.entry!.id, raw: decodeGlobalId(p.entry!.id).id, at });
  }
  return { book, uuid: decodeGlobalId(book.id).id, cash, entries };
}

async function tamper(sql: string, params: unknown[]): Promise<void> {
  await ctx.db.query('begin');
  try {
    await ctx.db.query('alter table journal_line disable trigger user');
    const result = await ctx.db.query(sql, params);
    expect(result.rowCount).toBeGreaterThan(0);
    await ctx.db.query('alter table journal_line enable trigger user');
    await ctx.db.query('commit');
  } catch (error) {
    await ctx.db.query('rollback');
    throw error;
  }
}

describe("a line's copy of its entry changed in the database", () => {
  it('names the entry whose lines were moved to another instant of the same day', async () => {
    const f = await fixture();
    // The 2.00 of 12:00 moved to 15:00: nothing derived per day changes.
    await tamper(
      `update journal_line set effective_at = effective_at + interval '3 hours' where book_id = $1 and entry_id = $2`,
      [f.uuid, f.entries[1]!.raw],
    );
    const at13 = new Date(Date.parse(f.entries[1]!.at) + 3600 * 1000).toISOString();
    // The tampering shows: at 13:00 the balance now lacks the 2.00 its entry says counted at 12:00.
    expect((await ctx.ledger.accountBalance({ accountId: f.cash.id, asOf: at13 }))!.posted).toBe('1.00');
    const chain = (await ctx.ledger.verifyBookChain({ bookId: f.book.id }))!;
    expect(chain).toMatchObject({ ok: false, entriesChecked: 1, firstMismatch: { seq: '2' } });
    expect(chain.firstMismatch!.entry!.id).toBe(f.entries[1]!.id);
    expect(chain.firstMismatch!.reason).toMatch(/effectiveAt/);
    expect((await ctx.ledger.auditBook({ bookId: f.book.id }))!.ok).toBe(false);
  });

  it("names the entry whose posted lines were made pending, the accounts' totals moved to match", async () => {
    const f = await fixture();
    await tamper(`update journal_line set phase = 'PENDING' where book_id = $1 and entry_id = $2`, [
      f.uuid,
      f.entries[2]!.raw,
    ]);
    await ctx.db.query(
      `update account a set posted_debits = posted_debits - s.d, pending_debits = pending_debits + s.d,
              posted_credits = posted_credits - s.c, pending_credits = pending_credits + s.c
         from (select account_id,
                      sum(case when side = 'DEBIT' then amount else 0 end) as d,
                      sum(case when side = 'CREDIT' then amount else 0 end) as c
                 from journal_line where book_id = $1 and entry_id = $2 group by account_id) s
        where a.book_id = $1 and a.id = s.account_id`,
      [f.uuid, f.entries[2]!.raw],
    );
    await ctx.db.query(
      `update account_day_total t set debits = t.debits - s.d, credits = t.credits - s.c
         from (select account_id, (effective_at at time zone 'UTC')::date as day,
                      sum(case when side = 'DEBIT' then amount else 0 end) as d,
                      sum(case when side = 'CREDIT' then amount else 0 end) as c
                 from journal_line where book_id = $1 and entry_id = $2 group by 1, 2) s
        where t.book_id = $1 and t.account_id = s.account_id and t.day = s.day`,
      [f.uuid, f.entries[2]!.raw],
    );
    // The 4.00 no longer counts: 3.00 posted, 4.00 "pending".
    const b = (await ctx.ledger.accountBalance({ accountId: f.cash.id }))!;
    expect([b.posted, b.pendingDebits]).toEqual(['3.00', '4.00']);
    const chain = (await ctx.ledger.verifyBookChain({ bookId: f.book.id }))!;
    expect(chain).toMatchObject({ ok: false, entriesChecked: 2, firstMismatch: { seq: '3' } });
    expect(chain.firstMismatch!.entry!.id).toBe(f.entries[2]!.id);
    expect((await ctx.ledger.auditBook({ bookId: f.book.id }))!.ok).toBe(false);
  });

  it('names the entry whose lines were given another sequence number', async () => {
    const f = await fixture();
    await tamper(`update journal_line set seq = 7 where book_id = $1 and entry_id = $2`, [
      f.uuid,
      f.entries[0]!.raw,
    ]);
    const chain = (await ctx.ledger.verifyBookChain({ bookId: f.book.id }))!;
    expect(chain).toMatchObject({ ok: false, entriesChecked: 0, firstMismatch: { seq: '1' } });
    expect(chain.firstMismatch!.entry!.id).toBe(f.entries[0]!.id);
  });
});

describe('an entry added at the end by SQL, its hash computed, the head left as it was', () => {
  it('is named by verifyBookChain', async () => {
    const f = await fixture();
    const [last] = await entriesBySeq(ctx.db as unknown as Queryable, f.uuid, 2n, 1);
    const forged = {
      ...last!,
      id: '0190f000-0000-7000-8000-0000000000f0',
      seq: '4',
      idempotencyKey: 'forged',
      prevHash: last!.hash,
    };
    const hash = entryHash(forged.prevHash, forged);
    await ctx.db.query(
      `insert into journal_entry (book_id, id, seq, kind, idempotency_key, request_hash, effective_at,
         recorded_at, memo, metadata, posted_by, prev_hash, hash)
       select book_id, $3, 4, kind, 'forged', request_hash, effective_at, recorded_at, memo, metadata, posted_by, $4, $5
         from journal_entry where book_id = $1 and id = $2`,
      [f.uuid, f.entries[2]!.raw, forged.id, forged.prevHash, hash],
    );
    await ctx.db.query(
      `insert into journal_line (book_id, entry_id, line_no, account_id, side, amount, unit_code, effective_at, phase, seq)
       select book_id, $3, line_no, account_id, side, amount, unit_code, effective_at, phase, 4
         from journal_line where book_id = $1 and entry_id = $2`,
      [f.uuid, f.entries[2]!.raw, forged.id],
    );
    const chain = (await ctx.ledger.verifyBookChain({ bookId: f.book.id }))!;
    expect(chain).toMatchObject({
      ok: false,
      entriesChecked: 4,
      firstMismatch: { seq: '4', reason: "the book's head says 3 entries but 4 were found" },
    });
    expect(decodeGlobalId(chain.firstMismatch!.entry!.id).id).toBe(forged.id);
  });
});
