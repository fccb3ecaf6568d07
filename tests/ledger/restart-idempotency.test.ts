/**
 * Idempotency survives the server process: keys live in the database, not in memory. A request
 * repeated against a new process (after a clean SIGTERM, or a SIGKILL, even one that lands while
 * requests are in flight) is answered with the original entry and posts nothing new.
 * The servers are real child processes (`server/main.ts`) on the run's database.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { LedgerClient, PostJournalEntryInput } from '../../client-sdk/index.js';
import {
  type CreatedAccount,
  type CreatedBook,
  createAccount,
  createBook,
  credit,
  debit,
  decodeGlobalId,
  ledgerClient,
  newKey,
  usePg,
} from '../helpers/ledger.js';
import { type ServerProcess, spawnServerProcess } from '../helpers/server.js';

const running = new Set<ServerProcess>();
const ctx = usePg();

async function spawn(): Promise<{ process: ServerProcess; ledger: LedgerClient }> {
  const process = await spawnServerProcess();
  running.add(process);
  void process.exited.then(() => running.delete(process));
  return { process, ledger: ledgerClient(process.url) };
}

afterEach(async () => {
  await Promise.all([...running].map((p) => p.stop()));
});

async function setup(
  ledger: LedgerClient,
): Promise<{ book: CreatedBook; cash: CreatedAccount; equity: CreatedAccount }> {
  const book = await createBook(ledger);
  return {
    book,
    cash: await createAccount(ledger, book.id, { code: 'cash', type: 'ASSET' }),
    equity: await createAccount(ledger, book.id, { code: 'equity', type: 'EQUITY' }),
  };
}

async function countEntries(
  ledger: LedgerClient,
  bookId: string,
): Promise<{ entryCount: string; listed: number }> {
  let listed = 0;
  for await (const _ of ledger.iterateJournalEntries({ bookId })) listed++;
  return { entryCount: (await ledger.book({ id: bookId }))!.entryCount, listed };
}

describe('idempotency across server processes', () => {
  it('replays a request sent again to a new process after SIGTERM, and refuses the key with other input', async () => {
    const first = await spawn();
    const { book, cash, equity } = await setup(first.ledger);
    const input: PostJournalEntryInput = {
      bookId: book.id,
      idempotencyKey: newKey('restart'),
      memo: 'before the restart',
      lines: [debit(cash, '12.34'), credit(equity, '12.34')],
    };
    const original = await first.ledger.postJournalEntry(input);
    expect(original.userErrors).toEqual([]);
    expect(original.replayed).toBe(false);
    expect(await first.process.stop()).toEqual({ code: 0, signal: null });

    const second = await spawn();
    expect(second.process.pid).not.toBe(first.process.pid);
    const before = await countEntries(second.ledger, book.id);
    expect(before).toEqual({ entryCount: '1', listed: 1 });

    const replay = await second.ledger.postJournalEntry(input);
    expect(replay.userErrors).toEqual([]);
    expect(replay.replayed).toBe(true);
    expect(replay.entry).toEqual(original.entry);

    const reused = await second.ledger.postJournalEntry({
      ...input,
      lines: [debit(cash, '12.35'), credit(equity, '12.35')],
    });
    expect(reused.userErrors.map((e) => [e.code, e.field])).toEqual([
      ['IDEMPOTENCY_KEY_REUSED', 'idempotencyKey'],
    ]);
    expect(reused.entry).toBeNull();

    expect(await countEntries(second.ledger, book.id)).toEqual(before);
    expect((await second.ledger.accountBalance({ accountId: cash.id }))!.posted).toBe('12.34');
    expect((await second.ledger.verifyBookChain({ bookId: book.id }))!.ok).toBe(true);
  });

  it('replays after SIGKILL, also for requests that were in flight when the process died', async () => {
    const first = await spawn();
    const { book, cash, equity } = await setup(first.ledger);
    const single: PostJournalEntryInput = {
      bookId: book.id,
      idempotencyKey: newKey('killed'),
      lines: [debit(cash, '0.01'), credit(equity, '0.01')],
    };
    const original = await first.ledger.postJournalEntry(single);
    expect(original.userErrors).toEqual([]);

    // Four clients posting one entry after another; the process is killed once 20 answers have
    // come back, so the kill lands among requests still on their way.
    const inputs: PostJournalEntryInput[] = Array.from({ length: 80 }, (_, i) => ({
      bookId: book.id,
      idempotencyKey: newKey(`flight-${i}`),
      lines: [debit(cash, `${i + 1}.00`), credit(equity, `${i + 1}.00`)],
    }));
    const answers = new Map<number, string>();
    const failures: number[] = [];
    let next = 0;
    let killed = false;
    const worker = async () => {
      while (next < inputs.length && !killed) {
        const i = next++;
        let payload: Awaited<ReturnType<typeof first.ledger.postJournalEntry>>;
        try {
          payload = await first.ledger.postJournalEntry(inputs[i]!);
        } catch (error) {
          if (!killed) throw error;
          failures.push(i);
          continue;
        }
        expect(payload.userErrors).toEqual([]);
        answers.set(i, payload.entry!.id);
        if (answers.size >= 20 && !killed) {
          killed = true;
          first.process.kill('SIGKILL');
        }
      }
    };
    await Promise.all([worker(), worker(), worker(), worker()]);
    expect(await first.process.exited).toEqual({ code: null, signal: 'SIGKILL' });
    // The kill did land among requests on their way: some of them got no answer.
    expect(failures.length).toBeGreaterThan(0);
    const sent = [...answers.keys(), ...failures];

    const second = await spawn();
    const replay = await second.ledger.postJournalEntry(single);
    expect(replay.replayed).toBe(true);
    expect(replay.entry!.id).toBe(original.entry!.id);
    const reused = await second.ledger.postJournalEntry({ ...single, memo: 'changed' });
    expect(reused.userErrors.map((e) => e.code)).toEqual(['IDEMPOTENCY_KEY_REUSED']);

    // Send every request again: answered ones replay their entry; the unanswered ones either
    // replay (committed, answer lost) or post now. Either way each key ends with one entry.
    const again = await Promise.all(sent.map((i) => second.ledger.postJournalEntry(inputs[i]!)));
    for (const [k, i] of sent.entries()) {
      const payload = again[k]!;
      expect(payload.userErrors).toEqual([]);
      if (answers.has(i)) {
        expect(payload.replayed).toBe(true);
        expect(payload.entry!.id).toBe(answers.get(i));
      }
    }
    const ids = new Set(again.map((p) => p.entry!.id));
    expect(ids.size).toBe(sent.length);

    const counts = await countEntries(second.ledger, book.id);
    expect(counts).toEqual({ entryCount: String(sent.length + 1), listed: sent.length + 1 });
    const expectedCash = sent.reduce((sum, i) => sum + (i + 1) * 100, 1);
    const balance = await second.ledger.accountBalance({ accountId: cash.id });
    expect(balance!.posted).toBe((expectedCash / 100).toFixed(2));

    // The stored totals agree with the lines that made it to disk.
    const { rows } = await ctx.db.query(
      `select a.posted_debits::text as stored, coalesce(sum(l.amount), 0)::text as lines
         from account a left join journal_line l on l.book_id = a.book_id and l.account_id = a.id and l.side = 'DEBIT'
        where a.book_id = $1 and a.id = $2 group by a.posted_debits`,
      [decodeGlobalId(book.id).id, decodeGlobalId(cash.id).id],
    );
    expect(rows[0].stored).toBe(rows[0].lines);
    expect(await second.ledger.verifyBookChain({ bookId: book.id })).toMatchObject({
      ok: true,
      entriesChecked: sent.length + 1,
    });
  });
});
