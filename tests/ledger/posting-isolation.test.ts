/**
 * A failure inside a posting group never costs its neighbours (issue 10 item 6, the engine's
 * part). The engine posts every request that arrives during a flush in one shared transaction; an
 * op the database refuses unexpectedly (here a NUL in a memo or a metadata value, which PostgreSQL
 * cannot store in text or jsonb, submitted to the engine directly, below the API's own checks)
 * used to break that transaction and make the engine post the group's items one transaction each.
 * Now the group is posted again at once with each item on a savepoint of its own: the offending
 * item alone gets the error, the others post together in that one transaction.
 *
 * "Together" is observed through the engine's clock: every decision pass (one per transaction)
 * reads the clock once and stamps it as recordedAt, and this clock moves on at every reading, so
 * entries posted by one transaction share a recordedAt and entries posted one by one do not.
 */
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { EntryInput, MetadataEntry } from '../../server/core/index.js';
import { entryOp, type OpResult, PostingEngine } from '../../server/ledger/index.js';
import { createLogger } from '../../server/platform/logger.js';
import { type CreatedBook, createAccount, createBook, decodeGlobalId, newKey } from '../helpers/ledger.js';
import { type LogLine, useLedgerServer } from '../helpers/server.js';

const ctx = useLedgerServer({ db: true });

interface Setup {
  book: CreatedBook;
  bookId: string;
  engine: PostingEngine;
  logs: LogLine[];
  entry: (memo: string, metadata?: MetadataEntry[]) => EntryInput;
}

/** A book of its own and an engine of its own, on the test server's pool, with a moving clock. */
async function setup(): Promise<Setup> {
  const book = await createBook(ctx.ledger);
  const cash = decodeGlobalId(
    (await createAccount(ctx.ledger, book.id, { code: 'cash', type: 'ASSET' })).id,
  ).id;
  const equity = decodeGlobalId(
    (await createAccount(ctx.ledger, book.id, { code: 'equity', type: 'EQUITY' })).id,
  ).id;
  const logs: LogLine[] = [];
  const logger = createLogger({
    level: 'debug',
    destination: new Writable({
      write(chunk: Buffer, _encoding, callback) {
        for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) logs.push(JSON.parse(line));
        callback();
      },
    }),
  });
  let readings = 0;
  const base = Date.now();
  const engine = new PostingEngine(ctx.server.services.ledger.pool, logger, {
    clock: () => new Date(base + readings++),
  });
  return {
    book,
    bookId: decodeGlobalId(book.id).id,
    engine,
    logs,
    entry: (memo, metadata) => ({
      idempotencyKey: newKey('iso'),
      effectiveAt: null,
      memo,
      metadata: metadata ?? null,
      lines: [
        { accountId: cash, side: 'DEBIT', amount: '1.00', unit: 'USD' },
        { accountId: equity, side: 'CREDIT', amount: '1.00', unit: 'USD' },
      ],
    }),
  };
}

/** Submits each entry as a request of its own, all in the same event-loop turn: one group. */
function submitTogether(s: Setup, entries: EntryInput[]): Promise<PromiseSettledResult<OpResult[]>[]> {
  return Promise.allSettled(
    entries.map((e) => s.engine.submit([entryOp(s.bookId, 'STANDARD', e, null, 'test')], true)),
  );
}

function postedEntries(results: PromiseSettledResult<OpResult[]>[]) {
  return results.flatMap((r) =>
    r.status === 'fulfilled' ? r.value.flatMap((x) => (x.ok ? [x.entry] : [])) : [],
  );
}

describe('an op the database refuses inside a group', () => {
  it('is answered alone with the error, and the other requests of its group post together', async () => {
    const s = await setup();
    const good = Array.from({ length: 8 }, (_, i) => s.entry(`good ${i}`));
    const bad = s.entry('a\u0000b');
    const results = await submitTogether(s, [...good.slice(0, 4), bad, ...good.slice(4)]);

    const rejected = results[4]!;
    expect(rejected.status).toBe('rejected');
    // invalid_byte_sequence: PostgreSQL's own refusal, not a domain answer (the API masks it).
    expect((rejected as PromiseRejectedResult).reason).toMatchObject({ code: '22021' });
    const posted = postedEntries(results);
    expect(posted.map((e) => e.memo)).toEqual(good.map((e) => e.memo));
    // One decision pass posted all eight: the same recordedAt, consecutive entry numbers.
    expect(new Set(posted.map((e) => e.recordedAt.getTime())).size).toBe(1);
    expect(posted.map((e) => Number(e.seq))).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);

    const warned = s.logs.filter((l) => l.msg.startsWith('entry group failed'));
    expect(warned.map((l) => l.msg)).toEqual([
      'entry group failed; posting it again with each item on a savepoint of its own',
    ]);
    expect(s.logs.filter((l) => l.level === 'error').map((l) => l.msg)).toEqual([
      'entry could not be posted: the database refused it; the rest of its group was posted',
    ]);
    expect((await ctx.ledger.auditBook({ bookId: s.book.id }))!).toMatchObject({
      ok: true,
      chain: { entriesChecked: 8 },
    });
    // Nothing was remembered for the failed request: its key is free.
    const fixed = await s.engine.submit(
      [entryOp(s.bookId, 'STANDARD', { ...bad, memo: 'a b' }, null, 'test')],
      true,
    );
    expect(fixed[0]).toMatchObject({ ok: true, replayed: false });
  });

  it('fails only its own batch: atomic batches all or nothing, independent ones entry by entry', async () => {
    const s = await setup();
    const atomicBatch = [s.entry('atomic 1'), s.entry('atomic bad', [{ key: 'k', value: 'x\u0000' }])];
    const independent = [
      s.entry('independent 1'),
      s.entry('independent bad', [{ key: 'k', value: '\u0000' }]),
    ];
    const single = s.entry('single');
    const submitted = await Promise.allSettled([
      s.engine.submit(
        atomicBatch.map((e) => entryOp(s.bookId, 'STANDARD', e, null, 'test')),
        true,
      ),
      s.engine.submit(
        independent.map((e) => entryOp(s.bookId, 'STANDARD', e, null, 'test')),
        false,
      ),
      s.engine.submit([entryOp(s.bookId, 'STANDARD', single, null, 'test')], true),
    ]);
    // The atomic batch is one request: it fails whole. The independent batch answers entry by
    // entry: its other entry posted, and the one the database refused is ENTRY_NOT_POSTED (its
    // request is not failed whole, so a retry of the batch replays what posted).
    expect(submitted.map((r) => r.status)).toEqual(['rejected', 'fulfilled', 'fulfilled']);
    const answers = (submitted[1] as PromiseFulfilledResult<OpResult[]>).value;
    expect(answers[0]).toMatchObject({ ok: true, replayed: false, entry: { memo: 'independent 1' } });
    expect(answers[1]).toMatchObject({ ok: false, error: { code: 'ENTRY_NOT_POSTED', field: null } });
    // Sent again (a client's retry): the posted entry replays, the refused one fails again alone.
    const again = await s.engine.submit(
      independent.map((e) => entryOp(s.bookId, 'STANDARD', e, null, 'test')),
      false,
    );
    expect(again[0]).toMatchObject({ ok: true, replayed: true, entry: { memo: 'independent 1' } });
    expect(again[1]).toMatchObject({ ok: false, error: { code: 'ENTRY_NOT_POSTED' } });
    const { rows } = await ctx.db.query(
      'select memo, recorded_at from journal_entry where book_id = $1 order by seq',
      [s.bookId],
    );
    expect(rows.map((r) => r.memo)).toEqual(['independent 1', 'single']);
    expect(new Set(rows.map((r) => r.recorded_at.getTime())).size).toBe(1);
    expect((await ctx.ledger.auditBook({ bookId: s.book.id }))!.ok).toBe(true);
  });

  it('costs a request that fails alone nothing more than its own error', async () => {
    const s = await setup();
    const results = await submitTogether(s, [s.entry('\u0000')]);
    expect(results[0]).toMatchObject({ status: 'rejected', reason: { code: '22021' } });
    // A group of one is not posted again: nothing to isolate it from.
    expect(s.logs.filter((l) => l.msg.startsWith('entry group failed'))).toEqual([]);
    expect((await ctx.ledger.book({ id: s.book.id }))!.entryCount).toBe('0');
  });
});
