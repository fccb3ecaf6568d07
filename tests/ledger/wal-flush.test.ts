/**
 * Writes that commit without waiting for their WAL flush, answered only once it is durable (issue
 * 12: single entries). The posting engine's optimistic writes commit with synchronous_commit off,
 * so a book's row is not held through an fsync and the next group's write runs while this one's
 * WAL goes to disk; a group is answered once a flush barrier (a synchronous commit of its own, see
 * server/ledger/wal-flush.ts) that started after its write committed has finished. Shown here with
 * an engine whose barriers are held until the test lets them go (every statement runs on the real
 * database):
 * - a posting is not answered while the barrier after its write is held, though it is committed;
 * - the next group writes while the barrier of the one before it is held, and is answered only
 *   after a barrier that started after its own write;
 * - a barrier that fails fails its group as unavailable; sent again, the entry (committed) is
 *   replayed, posted once;
 * - callers that arrive while a barrier runs share the next one.
 */
import { describe, expect, it } from 'vitest';
import type { LineInput } from '../../server/core/index.js';
import { entryOp, type OpResult, PostingEngine } from '../../server/ledger/index.js';
import type { EntryOp } from '../../server/ledger/ops.js';
import { WalFlush } from '../../server/ledger/wal-flush.js';
import { createLogger } from '../../server/platform/logger.js';
import {
  type CreatedAccount,
  createAccount,
  createBook,
  decodeGlobalId,
  expectIntactBook,
  newKey,
  waitFor,
} from '../helpers/ledger.js';
import { useLedgerServer } from '../helpers/server.js';
import { type HeldBarriers, holdingBarriers, settledSoon } from '../helpers/wal-flush.js';

const ctx = useLedgerServer({ db: true });

interface Setup {
  book: { id: string };
  bookId: string;
  accounts: CreatedAccount[];
  engine: PostingEngine;
  held: HeldBarriers;
}

/** A book of two accounts, known to a new engine's cache (its first write read it). */
async function knownBook(): Promise<Setup> {
  const book = await createBook(ctx.ledger);
  const accounts = [
    await createAccount(ctx.ledger, book.id, { code: 'cash', type: 'ASSET' }),
    await createAccount(ctx.ledger, book.id, { code: 'equity', type: 'EQUITY' }),
  ];
  const held = holdingBarriers(ctx.server.services.ledger.pool);
  const engine = new PostingEngine(held.pool, createLogger({ level: 'silent' }));
  const bookId = decodeGlobalId(book.id).id;
  const [first] = await engine.submit([op(bookId, '1.00', accounts)], true);
  expect(first!.ok).toBe(true);
  held.hold();
  return { book, bookId, accounts, engine, held };
}

function op(bookId: string, amount: string, [cash, equity]: CreatedAccount[]): EntryOp {
  const line = (account: CreatedAccount, side: 'DEBIT' | 'CREDIT'): LineInput => ({
    accountId: decodeGlobalId(account.id).id,
    side,
    amount,
    unit: account.unit,
  });
  const entry = {
    idempotencyKey: newKey('wal'),
    lines: [line(cash!, 'DEBIT'), line(equity!, 'CREDIT')],
    effectiveAt: null,
    memo: null,
    metadata: null,
  };
  return entryOp(bookId, 'STANDARD', entry, null, 'test') as EntryOp;
}

/** Whether an entry of this key is committed (seen by another connection). */
async function committed(bookId: string, key: string): Promise<boolean> {
  const { rows } = await ctx.db.query(
    'select 1 from journal_entry where book_id = $1 and idempotency_key = $2',
    [bookId, key],
  );
  return rows.length === 1;
}

describe('an optimistic write commits without waiting for its WAL flush', () => {
  it('is answered only once a WAL flush barrier after it has finished', async () => {
    const { book, bookId, accounts, engine, held } = await knownBook();
    const posting = op(bookId, '2.00', accounts);
    try {
      const answer = engine.submit([posting], true);
      await waitFor(async () => held.sent() === 1, { what: 'the barrier after the write sent' });
      // Committed and seen by others, not yet answered.
      expect(await committed(bookId, posting.entry.idempotencyKey)).toBe(true);
      expect(await settledSoon(answer)).toBe('pending');
      held.release(1);
      const [result] = await answer;
      expect(result).toMatchObject({ ok: true, replayed: false });
    } finally {
      held.releaseAll();
      await engine.close();
    }
    await expectIntactBook(ctx.db, ctx.ledger, book.id, 2);
  });

  it('lets the next group write while the barrier before it runs, and answers it after a barrier of its own', async () => {
    const { book, bookId, accounts, engine, held } = await knownBook();
    const a = op(bookId, '2.00', accounts);
    const b = op(bookId, '3.00', accounts);
    try {
      const first = engine.submit([a], true);
      await waitFor(async () => held.sent() === 1, { what: 'the first barrier sent' });
      const second = engine.submit([b], true);
      // The book's row was not held through the first write's flush.
      await waitFor(async () => committed(bookId, b.entry.idempotencyKey), {
        what: 'the second write committed while the first barrier is held',
      });
      expect(await settledSoon(first)).toBe('pending');
      held.release(1);
      expect((await first)[0]).toMatchObject({ ok: true });
      // The first barrier started before the second write committed: it does not answer it.
      await waitFor(async () => held.sent() === 2, { what: 'the second barrier sent' });
      expect(await settledSoon(second)).toBe('pending');
      held.release(2);
      expect((await second)[0]).toMatchObject({ ok: true });
    } finally {
      held.releaseAll();
      await engine.close();
    }
    await expectIntactBook(ctx.db, ctx.ledger, book.id, 3);
  });

  it('fails the group as unavailable when the flush is not confirmed; sent again, the entry is replayed', async () => {
    const { book, bookId, accounts, engine, held } = await knownBook();
    const posting = op(bookId, '2.00', accounts);
    let again: OpResult | undefined;
    try {
      const answer = engine.submit([posting], true);
      await waitFor(async () => held.sent() === 1, { what: 'the barrier sent' });
      held.fail(1);
      await expect(answer).rejects.toMatchObject({ name: 'UnavailableError' });
      held.release(2);
      [again] = await engine.submit([posting], true);
    } finally {
      held.releaseAll();
      await engine.close();
    }
    expect(again).toMatchObject({ ok: true, replayed: true });
    await expectIntactBook(ctx.db, ctx.ledger, book.id, 2);
  });
});

describe('WalFlush', () => {
  it('gives the callers that arrive while a barrier runs the next barrier, shared', async () => {
    const held = holdingBarriers(ctx.server.services.ledger.pool);
    held.hold();
    const flush = new WalFlush(held.pool);
    const first = flush.after();
    await waitFor(async () => held.sent() === 1, { what: 'the first barrier sent' });
    const second = flush.after();
    const third = flush.after();
    expect(third).toBe(second);
    expect(await settledSoon(second)).toBe('pending');
    held.release(1);
    await first;
    await waitFor(async () => held.sent() === 2, { what: 'the second barrier sent' });
    expect(await settledSoon(second)).toBe('pending');
    held.release(2);
    await second;
    // Nothing in flight: the next caller starts a barrier at once.
    const fourth = flush.after();
    await waitFor(async () => held.sent() === 3, { what: 'the third barrier sent' });
    held.release(3);
    await fourth;
    expect(flush.barriers).toBe(3);
  });
});
