/**
 * verifyBookChain and auditBook on a book that is being written to. Nothing is tampered with, so
 * every answer must be ok: a verification that reads the book's head, then its entries a page at
 * a time, then (the audit) the accounts' totals, the lines' sums and the day totals in statements
 * of their own, sees entries posted in between and reports a broken chain ("the book's head says
 * N entries but M were found") or totals that differ from the lines: a false alarm of tampering.
 * Each check must read one snapshot of the book.
 */
import { describe, expect, it } from 'vitest';
import type { JournalEntryInput } from '../../client-sdk/index.js';
import { createAccount, createBook, credit, debit, newKey } from '../helpers/ledger.js';
import { useLedgerServer } from '../helpers/server.js';

const ctx = useLedgerServer({ config: { rateLimitPerSecond: 0 } });

describe('a book written to while it is verified', () => {
  it('verifies and audits ok at every moment', { timeout: 300_000 }, async () => {
    const book = await createBook(ctx.ledger);
    const cash = await createAccount(ctx.ledger, book.id, { code: 'cash', type: 'ASSET' });
    const equity = await createAccount(ctx.ledger, book.id, { code: 'equity', type: 'EQUITY' });
    // 3,000 entries: verification reads them in three pages or more.
    for (let b = 0; b < 3; b++) {
      const entries: JournalEntryInput[] = Array.from({ length: 1000 }, () => ({
        idempotencyKey: newKey('live'),
        lines: [debit(cash, '1.00'), credit(equity, '1.00')],
      }));
      const answer = await ctx.ledger.postJournalEntries({ bookId: book.id, mode: 'ATOMIC', entries });
      expect(answer.userErrors).toEqual([]);
    }
    let writing = true;
    let written = 0;
    const writer = (async () => {
      while (writing) {
        const p = await ctx.ledger.postJournalEntry({
          bookId: book.id,
          idempotencyKey: newKey('live'),
          lines: [debit(cash, '0.01'), credit(equity, '0.01')],
        });
        expect(p.userErrors).toEqual([]);
        written++;
      }
    })();
    const answers: unknown[] = [];
    try {
      // Until entries were posted during at least five checks (each check is followed by at least one post).
      for (let i = 0; i < 10 || written < 10; i++) {
        const chain = (await ctx.ledger.verifyBookChain({ bookId: book.id }))!;
        const audit = (await ctx.ledger.auditBook({ bookId: book.id }))!;
        answers.push({
          chain: chain.ok ? 'ok' : chain.firstMismatch,
          audit: audit.ok ? 'ok' : { chain: audit.chain.ok, mismatches: audit.mismatches },
        });
        if (i > 200) break;
      }
    } finally {
      writing = false;
      await writer;
    }
    expect(written).toBeGreaterThan(0);
    expect(answers.filter((a) => JSON.stringify(a) !== '{"chain":"ok","audit":"ok"}')).toEqual([]);
  });
});
