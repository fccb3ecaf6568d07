/**
 * The open-pending table (pending_open) is what the expiry sweep reads: a pending entry whose row
 * is deleted by SQL never expires and its reservation stays forever. auditBook must recompute the
 * open set from the journal (a PENDING entry no COMMIT or VOID names) and name every entry whose
 * row is missing, extra, or carries another expires_at.
 */
import { expect, it } from 'vitest';
import { createAccount, createBook, credit, debit, decodeGlobalId, newKey } from '../helpers/ledger.js';
import { useLedgerServer } from '../helpers/server.js';

const ctx = useLedgerServer({ db: true });

it('names each open-pending row that is missing, extra or carries another expiry', async () => {
  const book = await createBook(ctx.ledger);
  const bookUuid = decodeGlobalId(book.id).id;
  const cash = await createAccount(ctx.ledger, book.id, { code: 'cash', type: 'ASSET' });
  const equity = await createAccount(ctx.ledger, book.id, { code: 'equity', type: 'EQUITY' });
  // An expiry a month away, to the millisecond.
  const expiresAt = new Date(
    Math.floor(Date.now() / 1000) * 1000 + 30 * 24 * 3600 * 1000 + 678,
  ).toISOString();
  const pend = async (withExpiry: boolean) => {
    const p = await ctx.ledger.postPendingEntry({
      bookId: book.id,
      idempotencyKey: newKey('op'),
      ...(withExpiry ? { expiresAt } : {}),
      lines: [debit(cash, '1.00'), credit(equity, '1.00')],
    });
    expect(p.userErrors).toEqual([]);
    return p.entry!.id;
  };
  const held = await pend(true); // open, expires
  const open = await pend(false); // open, no expiry
  const committed = await pend(true);
  const voided = await pend(true);
  const c = await ctx.ledger.commitPendingEntry({ entryId: committed, idempotencyKey: newKey('op') });
  expect(c.userErrors).toEqual([]);
  const v = await ctx.ledger.voidPendingEntry({ entryId: voided, idempotencyKey: newKey('op') });
  expect(v.userErrors).toEqual([]);
  const posted = await ctx.ledger.postJournalEntry({
    bookId: book.id,
    idempotencyKey: newKey('op'),
    lines: [debit(cash, '2.00'), credit(equity, '2.00')],
  });
  expect(posted.userErrors).toEqual([]);

  const clean = (await ctx.ledger.auditBook({ bookId: book.id }))!;
  expect(clean).toMatchObject({ ok: true, openPendingChecked: 2, openPendingMismatchCount: 0 });
  expect(clean.openPendingMismatches).toEqual([]);

  const raw = (id: string) => decodeGlobalId(id).id;
  const seqOf = async (id: string) =>
    String((await ctx.db.query('select seq from journal_entry where id = $1', [raw(id)])).rows[0].seq);
  // The held entry's row deleted: it would never expire.
  await ctx.db.query('delete from pending_open where book_id = $1 and entry_id = $2', [bookUuid, raw(held)]);
  // A row for a committed entry, one for a posted entry, and the open entry given an expiry.
  await ctx.db.query(
    `insert into pending_open (book_id, entry_id, expires_at)
     values ($1, $2, null), ($1, $3, '2030-01-01T00:00:00Z')`,
    [bookUuid, raw(committed), raw(posted.entry!.id)],
  );
  await ctx.db.query(
    `update pending_open set expires_at = '2031-05-06T07:08:09.010Z' where book_id = $1 and entry_id = $2`,
    [bookUuid, raw(open)],
  );

  const audit = (await ctx.ledger.auditBook({ bookId: book.id }))!;
  expect(audit.ok).toBe(false);
  // The chain and the totals are untouched: only the open-pending table differs.
  expect(audit.chain.ok).toBe(true);
  expect(audit.mismatchCount).toBe(0);
  expect(audit.openPendingChecked).toBe(4);
  expect(audit.openPendingMismatchCount).toBe(4);
  expect(audit.openPendingMismatches).toEqual([
    {
      kind: 'MISSING_ROW',
      entry: { id: held },
      seq: await seqOf(held),
      storedExpiresAt: null,
      journalExpiresAt: expiresAt,
    },
    {
      kind: 'WRONG_EXPIRES_AT',
      entry: { id: open },
      seq: await seqOf(open),
      storedExpiresAt: '2031-05-06T07:08:09.010Z',
      journalExpiresAt: null,
    },
    {
      kind: 'EXTRA_ROW',
      entry: { id: committed },
      seq: await seqOf(committed),
      storedExpiresAt: null,
      journalExpiresAt: null,
    },
    {
      kind: 'EXTRA_ROW',
      entry: { id: posted.entry!.id },
      seq: await seqOf(posted.entry!.id),
      storedExpiresAt: '2030-01-01T00:00:00.000Z',
      journalExpiresAt: null,
    },
  ]);

  // Put back as the journal says: the audit is clean again.
  await ctx.db.query('delete from pending_open where book_id = $1 and entry_id in ($2, $3)', [
    bookUuid,
    raw(committed),
    raw(posted.entry!.id),
  ]);
  await ctx.db.query(`update pending_open set expires_at = null where book_id = $1 and entry_id = $2`, [
    bookUuid,
    raw(open),
  ]);
  await ctx.db.query(`insert into pending_open (book_id, entry_id, expires_at) values ($1, $2, $3)`, [
    bookUuid,
    raw(held),
    expiresAt,
  ]);
  expect(await ctx.ledger.auditBook({ bookId: book.id })).toMatchObject({
    ok: true,
    openPendingChecked: 2,
    openPendingMismatchCount: 0,
  });
});
