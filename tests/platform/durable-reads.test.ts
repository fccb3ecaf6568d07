/**
 * Queries answer only what is durable (server/platform/http/durable-reads.ts). The posting
 * engine's writes commit before their WAL flush (server/ledger/wal-flush.ts), so another
 * transaction may read a posting before it is on disk. Over real HTTP and the SDK, on yoga's path
 * and on the lean route, with the service's flush barriers held by the test (every statement
 * still runs on the real database):
 * - a query that read a posting not yet durable answers only after a flush that started after it
 *   ran, the posting's own flush not being enough (it started before the query read);
 * - when that flush fails, the query answers UNAVAILABLE rather than what it read;
 * - with nothing being posted, a query does not wait for any flush.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  type CreatedAccount,
  createAccount,
  createBook,
  credit,
  debit,
  newKey,
  waitFor,
} from '../helpers/ledger.js';
import { type LedgerServer, useLedgerServer } from '../helpers/server.js';
import { type HeldBarriers, holdServiceBarriers, settledSoon } from '../helpers/wal-flush.js';

const routes: [string, LedgerServer][] = [
  ['yoga', useLedgerServer({ lean: {} })],
  ['the lean route', useLedgerServer({ lean: { leanRootFields: '*', leanUnknownDocuments: true } })],
];

describe.each(routes)('a query on %s', (_route, ctx) => {
  let held: HeldBarriers | undefined;
  afterEach(() => held?.releaseAll());

  async function setup() {
    const book = await createBook(ctx.ledger);
    const cash = await createAccount(ctx.ledger, book.id, { code: 'cash', type: 'ASSET' });
    const equity = await createAccount(ctx.ledger, book.id, { code: 'equity', type: 'EQUITY' });
    held = holdServiceBarriers(ctx.server.services.ledger.engine.walFlush);
    held.hold();
    return { book, cash, equity, held };
  }

  const post = (bookId: string, cash: CreatedAccount, equity: CreatedAccount, amount: string) =>
    ctx.ledger.postJournalEntry({
      bookId,
      idempotencyKey: newKey('durable'),
      lines: [debit(cash, amount), credit(equity, amount)],
    });
  const balance = (cash: CreatedAccount) => ctx.ledger.accountBalance({ accountId: cash.id });

  it('that read a posting not yet durable answers after a flush that started after it ran', async () => {
    const { book, cash, equity, held } = await setup();
    const posting = post(book.id, cash, equity, '5.00');
    await waitFor(async () => held.sent() === 1, { what: "the posting's flush sent" });
    // The posting is committed: the query reads it, and may not answer it before it is durable.
    const read = balance(cash);
    expect(await settledSoon(read)).toBe('pending');
    held.release(1);
    expect((await posting).userErrors).toEqual([]);
    // The posting's flush started before the query read: the query waits for the next one.
    await waitFor(async () => held.sent() === 2, { what: "the query's flush sent" });
    expect(await settledSoon(read)).toBe('pending');
    held.release(2);
    expect((await read)?.posted).toBe('5.00');
  });

  it('answers UNAVAILABLE when the flush after it fails', async () => {
    const { book, cash, equity, held } = await setup();
    const posting = post(book.id, cash, equity, '5.00');
    await waitFor(async () => held.sent() === 1, { what: "the posting's flush sent" });
    const read = balance(cash);
    expect(await settledSoon(read)).toBe('pending');
    held.release(1);
    await posting;
    await waitFor(async () => held.sent() === 2, { what: "the query's flush sent" });
    held.fail(2);
    await expect(read).rejects.toMatchObject({ code: 'UNAVAILABLE' });
  });

  it('waits for no flush when nothing is being posted', async () => {
    const { book, cash, equity, held } = await setup();
    const posting = post(book.id, cash, equity, '2.00');
    await waitFor(async () => held.sent() === 1, { what: "the posting's flush sent" });
    held.release(1);
    expect((await posting).userErrors).toEqual([]);
    // The posting's flush started after its write ended: everything is durable.
    expect((await balance(cash))?.posted).toBe('2.00');
    expect(held.sent()).toBe(1);
  });
});
