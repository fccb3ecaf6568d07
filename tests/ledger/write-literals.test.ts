/**
 * The posting engine's write sends each column of a group as a PostgreSQL array literal it builds
 * itself (store.ts, ArrayLiteral): what a client wrote is quoted and escaped, so every text is
 * stored exactly as sent, whatever it holds (quotes, backslashes, commas, braces, spaces, the word
 * NULL, nothing at all), and a unit whose code is NULL is not written as a null. Checked through
 * HTTP and the SDK, in a batch (one write for the group), against the rows in PostgreSQL and the
 * book's audit (the chain hashed what was stored); the same batch sent again finds every key and
 * replays.
 */
import { describe, expect, it } from 'vitest';
import { createAccount, createBook, credit, debit, decodeGlobalId, newKey } from '../helpers/ledger.js';
import { useLedgerServer } from '../helpers/server.js';

const ctx = useLedgerServer({ db: true });

const AWKWARD = [
  'a "quoted" memo',
  'back\\slash and \\"both\\"',
  'commas, {braces} and  spaces ',
  'NULL',
  '',
  ' ',
  '}',
  'ünïcödé ✓ 𝄞',
];

describe('the posting engine write', () => {
  it('stores every text exactly as sent, in a batch', async () => {
    const book = await createBook(ctx.ledger, { units: [{ code: 'NULL', scale: 2 }] });
    const cash = await createAccount(ctx.ledger, book.id, { code: 'cash', type: 'ASSET', unit: 'NULL' });
    const equity = await createAccount(ctx.ledger, book.id, { code: 'equity', type: 'EQUITY', unit: 'NULL' });
    const entries = AWKWARD.map((text, i) => ({
      idempotencyKey: `${newKey('lit')}${text.replace(/[^\x21-\x7e]/g, '')}`,
      memo: text,
      metadata: [{ key: `k${i}`, value: text }],
      lines: [debit(cash, `${i + 1}.25`), credit(equity, `${i + 1}.25`)],
    }));
    const payload = await ctx.ledger.postJournalEntries({ bookId: book.id, mode: 'INDEPENDENT', entries });
    expect(payload.userErrors).toEqual([]);
    expect(payload.postedCount).toBe(AWKWARD.length);

    // The same batch again: every key is found (the read sends the keys as a literal too) and
    // replays, nothing new is posted.
    const again = await ctx.ledger.postJournalEntries({ bookId: book.id, mode: 'INDEPENDENT', entries });
    expect(again.userErrors).toEqual([]);
    expect(again.postedCount).toBe(0);
    expect(again.results.map((r) => r.replayed)).toEqual(AWKWARD.map(() => true));

    const bookUuid = decodeGlobalId(book.id).id;
    const { rows } = await ctx.db.query(
      `select e.idempotency_key, e.memo, e.metadata, array_agg(l.unit_code order by l.line_no) as units,
              array_agg(trim_scale(l.amount)::text order by l.line_no) as amounts
         from journal_entry e join journal_line l on l.book_id = e.book_id and l.entry_id = e.id
        where e.book_id = $1 group by e.idempotency_key, e.memo, e.metadata`,
      [bookUuid],
    );
    const byKey = new Map(rows.map((r) => [r.idempotency_key as string, r]));
    entries.forEach((entry, i) => {
      const row = byKey.get(entry.idempotencyKey);
      expect(row, entry.idempotencyKey).toBeDefined();
      expect(row.memo).toBe(AWKWARD[i]);
      expect(row.metadata).toEqual({ [`k${i}`]: AWKWARD[i] });
      expect(row.units).toEqual(['NULL', 'NULL']);
      expect(row.amounts).toEqual([`${i + 1}.25`, `${i + 1}.25`]);
    });

    const audit = await ctx.ledger.auditBook({ bookId: book.id });
    expect(audit?.ok).toBe(true);
    expect(audit?.chain.entriesChecked).toBe(AWKWARD.length);
  });
});
