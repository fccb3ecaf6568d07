/**
 * Flushes decided while the write before them is still in flight (issue 12: batches). Once a
 * flush decided from the posting engine's cache has sent its write, the next flush is decided on
 * what that write will leave (its chain head, its accounts' totals) and its write is queued behind
 * it on the same connection, instead of waiting for the commit. Shown here with an engine whose
 * writes of entries on its own connections are held until the test lets them go (every statement
 * runs on the real database):
 * - both writes post, the second chained onto the first;
 * - requests that reach the queue together with no write in flight are split between two writes
 *   (never within a request), the second decided on the first;
 * - when the first write fails (an account changed by another writer) and its group, decided
 *   again from a read, commits before the second write runs, the second write finds the book at
 *   the version it expects but not at the chain head it was decided on: it fails, is decided again
 *   and posts, and the chain verifies. A write compared on the book's version alone would have
 *   chained onto a head that was never written;
 * - when the first write fails and the second fails with it, the second group is read only once
 *   the first, decided again from a read, is written: read beside it, it would be decided on the
 *   version of the book that write is about to move, and fail again;
 * - when the connection both writes wait on is lost, both requests fail as unavailable, nothing is
 *   posted, and sent again they post once each (a third copy is replayed).
 */
import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import type { LineInput } from '../../server/core/index.js';
import { entryOp, type OpResult, PostingEngine } from '../../server/ledger/index.js';
import type { EntryOp } from '../../server/ledger/ops.js';
import { PIPELINE_OPS_MIN } from '../../server/ledger/write-connection.js';
import { createLogger } from '../../server/platform/logger.js';
import type { DbPool } from '../../server/platform/transaction.js';
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

const ctx = useLedgerServer({ db: true });

const WRITE = 'ledger-write-entries';

/** Gates opened one by one: `gate(n)` is the n-th (1-based). */
function gates() {
  const all: { open: () => void; opened: Promise<void> }[] = [];
  return (n: number) => {
    while (all.length < n) {
      let open!: () => void;
      const opened = new Promise<void>((resolve) => {
        open = resolve;
      });
      all.push({ open, opened });
    }
    return all[n - 1]!;
  };
}

/**
 * The test server's pool, except that the writes of entries sent on connections taken from it
 * (the engine's writes decided from its cache) wait, in the order sent, until `release(n)` lets the
 * n-th go (1-based). `sent()` counts those that reached it. Once `holdPooled()` is called, the
 * writes of entries sent on the pool itself (groups decided from a read) are held the same way,
 * counted by `pooledSent()` and let go by `releasePooled(n)`.
 */
function holdingPool(pool: DbPool) {
  const gate = gates();
  const pooledGate = gates();
  let holdingPooled = false;
  let pooledSent = 0;
  let sent = 0;
  const clients: pg.PoolClient[] = [];
  const wrapClient = (client: pg.PoolClient) => {
    clients.push(client);
    const query = async (config: unknown, values?: unknown) => {
      const run = client.query.bind(client) as (config: unknown, values?: unknown) => Promise<unknown>;
      if ((config as { name?: unknown } | null)?.name === WRITE) await gate(++sent).opened;
      return run(config, values);
    };
    return new Proxy(client, {
      get(target, property) {
        if (property === 'query') return query;
        const value = Reflect.get(target, property, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
  };
  const pooledQuery = async (config: unknown, values?: unknown) => {
    const run = pool.query.bind(pool) as (config: unknown, values?: unknown) => Promise<unknown>;
    if (holdingPooled && (config as { name?: unknown } | null)?.name === WRITE)
      await pooledGate(++pooledSent).opened;
    return run(config, values);
  };
  const wrapped = new Proxy(pool, {
    get(target, property) {
      if (property === 'connect') return async () => wrapClient(await target.connect());
      if (property === 'query') return pooledQuery;
      const value = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return {
    pool: wrapped,
    sent: () => sent,
    release: (n: number) => gate(n).open(),
    holdPooled: () => {
      holdingPooled = true;
    },
    pooledSent: () => pooledSent,
    releasePooled: (n: number) => pooledGate(n).open(),
    /** The backend of the connection last taken from the pool. */
    lastBackend: () => (clients.at(-1) as unknown as { processID: number }).processID,
  };
}

interface Setup {
  book: { id: string };
  bookId: string;
  accounts: CreatedAccount[];
  engine: PostingEngine;
  held: ReturnType<typeof holdingPool>;
}

/** A book of unbounded accounts, known to a new engine's cache (its first write read it). */
async function knownBook(pipelineOpsMin = 1): Promise<Setup> {
  const book = await createBook(ctx.ledger);
  const accounts: CreatedAccount[] = [];
  for (const code of ['x', 'y', 'e1', 'e2']) {
    accounts.push(
      await createAccount(ctx.ledger, book.id, { code, type: code.startsWith('e') ? 'EQUITY' : 'EXPENSE' }),
    );
  }
  const held = holdingPool(ctx.server.services.ledger.pool);
  // Each flush a second later than the one before: a group decided again gets other hashes.
  let at = Date.now();
  // By default here the next flush is decided on any write in flight at once (the engine's own
  // default: at once only on a write of PIPELINE_OPS_MIN ops or more, else once as many ops wait).
  const engine = new PostingEngine(held.pool, createLogger({ level: 'silent' }), {
    pipelineOpsMin,
    clock: () => {
      at += 1000;
      return new Date(at);
    },
  });
  const bookId = decodeGlobalId(book.id).id;
  // The first write of the book reads it (on the pool, not held); the cache then loads it whole.
  const [first] = await engine.submit(
    [op(bookId, [debit(accounts[0]!, '1.00'), credit(accounts[2]!, '1.00')])],
    true,
  );
  expect(first!.ok).toBe(true);
  await waitFor(async () => engine.cache.knows(bookId, decodeGlobalId(accounts[3]!.id).id), {
    what: 'the book loaded into the cache',
  });
  return { book, bookId, accounts, engine, held };
}

function op(bookId: string, lines: LineInput[]): EntryOp {
  const entry = { idempotencyKey: newKey('pipe'), lines, effectiveAt: null, memo: null, metadata: null };
  return entryOp(bookId, 'STANDARD', entry, null, 'test') as EntryOp;
}

const rawId = (account: CreatedAccount) => decodeGlobalId(account.id).id;
/** An engine's line (raw account id), not the API's. */
const debit = (account: CreatedAccount, amount: string): LineInput => ({
  accountId: rawId(account),
  side: 'DEBIT',
  amount,
  unit: account.unit,
});
const credit = (account: CreatedAccount, amount: string): LineInput => ({
  ...debit(account, amount),
  side: 'CREDIT',
});

/**
 * Lets the two held writes go (`between` the first and the second, if given): every request posts
 * (`count` ops in all), `pipelined` writes were decided on the one in flight, none failed as stale.
 */
async function releaseBoth(
  { engine, held }: Setup,
  requests: Promise<OpResult[]>[],
  count: number,
  pipelined: number,
  between?: () => Promise<void>,
) {
  held.release(1);
  await between?.();
  held.release(2);
  const results = (await Promise.all(requests)).flat();
  expect(results.map((r) => r.ok)).toEqual(new Array(count).fill(true));
  expect(engine.pipelinedWrites).toBe(pipelined);
  expect(engine.staleCachedWrites).toBe(0);
}

/** The accounts' posted balances, as the API gives them. */
async function expectPosted(accounts: CreatedAccount[], expected: string[]) {
  const posted: string[] = [];
  for (const account of accounts)
    posted.push((await ctx.ledger.accountBalance({ accountId: account.id }))!.posted);
  expect(posted).toEqual(expected);
}

/**
 * With the engine's default rule: two requests submitted in one turn, one group, one write of 2
 * ops, held. Also the third request, as a function of its own for each test.
 */
async function smallWriteHeld() {
  const setup = await knownBook(PIPELINE_OPS_MIN);
  const { bookId, accounts, engine, held } = setup;
  const [x, y, e1, e2] = accounts as [CreatedAccount, CreatedAccount, CreatedAccount, CreatedAccount];
  const first = [
    engine.submit([op(bookId, [debit(x, '2.00'), credit(e1, '2.00')])], true),
    engine.submit([op(bookId, [debit(y, '5.00'), credit(e2, '5.00')])], true),
  ];
  await waitFor(async () => held.sent() === 1, { what: 'the first write sent' });
  const third = () => engine.submit([op(bookId, [debit(x, '3.00'), credit(e2, '3.00')])], true);
  return { ...setup, x, y, e1, e2, first, third };
}

/**
 * Two writes in flight, held: the first, and the second decided on it (moving none of its
 * accounts). Meanwhile another writer changes x without writing the book: the first write's
 * compare-and-set on x will fail, and the book stays at the version both were decided from.
 */
async function twoWritesFirstStale({ bookId, accounts, engine, held }: Setup) {
  const [x, y, e1, e2] = accounts as [CreatedAccount, CreatedAccount, CreatedAccount, CreatedAccount];
  const firstOp = op(bookId, [debit(x, '2.00'), credit(e1, '2.00')]);
  const first = engine.submit([firstOp], true);
  await waitFor(async () => held.sent() === 1, { what: 'the first write sent' });
  const second = engine.submit([op(bookId, [debit(y, '4.00'), credit(e2, '4.00')])], true);
  await waitFor(async () => held.sent() === 2, { what: 'the second write sent behind the first' });
  await ctx.db.query('update account set upper_bound = 1000 where book_id = $1 and id = $2', [
    bookId,
    rawId(x),
  ]);
  return { first, second, firstKey: firstOp.entry.idempotencyKey };
}

describe('a flush decided while the write before it is in flight', () => {
  it('is sent behind that write and chained onto it', async () => {
    const setup = await knownBook();
    const { book, bookId, accounts, engine, held } = setup;
    const [x, y, e1, e2] = accounts as [CreatedAccount, CreatedAccount, CreatedAccount, CreatedAccount];
    try {
      const first = engine.submit([op(bookId, [debit(x, '2.00'), credit(e1, '2.00')])], true);
      await waitFor(async () => held.sent() === 1, { what: 'the first write sent' });
      // Decided while the first write has not run: on what it will leave (x and e1 moved once more).
      const second = engine.submit(
        [
          op(bookId, [debit(x, '3.00'), credit(e2, '3.00')]),
          op(bookId, [debit(y, '4.00'), credit(e1, '4.00')]),
        ],
        false,
      );
      await waitFor(async () => held.sent() === 2, { what: 'the second write sent behind the first' });
      await releaseBoth(setup, [first, second], 3, 1);
    } finally {
      await engine.close();
    }
    await expectPosted([x, y, e1, e2], ['6.00', '4.00', '7.00', '3.00']);
    await expectIntactBook(ctx.db, ctx.ledger, book.id, 4);
  });

  it('splits requests that arrive together between two writes, the second decided on the first', async () => {
    // No write in flight and two requests queued together (a request of two independent ops and
    // one of one): written as one, both would be answered together, and nothing would ever be
    // decided while a write runs. The first request is written alone (never split itself), and
    // the second is sent behind it while it is held.
    const setup = await knownBook();
    const { book, bookId, accounts, engine, held } = setup;
    const [x, y, e1, e2] = accounts as [CreatedAccount, CreatedAccount, CreatedAccount, CreatedAccount];
    try {
      const first = engine.submit(
        [
          op(bookId, [debit(x, '2.00'), credit(e1, '2.00')]),
          op(bookId, [debit(y, '3.00'), credit(e2, '3.00')]),
        ],
        false,
      );
      const second = engine.submit([op(bookId, [debit(x, '4.00'), credit(e2, '4.00')])], true);
      await waitFor(async () => held.sent() === 2, { what: 'the second request sent behind the first' });
      await releaseBoth(setup, [first, second], 3, 1);
    } finally {
      await engine.close();
    }
    await expectPosted([x, y, e1, e2], ['7.00', '3.00', '3.00', '7.00']);
    await expectIntactBook(ctx.db, ctx.ledger, book.id, 4);
  });

  it('behind a small write, is decided only once it holds as many ops as that write', async () => {
    // The engine's default: a write of 2 ops in flight lets the next group be decided on it only
    // once 2 ops wait; a single request waits for that write's commit, or for another to join it.
    const setup = await smallWriteHeld();
    const { book, bookId, engine, held, x, y, e1, e2, first } = setup;
    try {
      const third = setup.third();
      // Several turns of the event loop: a flush would have been decided and sent by now.
      for (let turn = 0; turn < 20; turn++) await new Promise((resolve) => setImmediate(resolve));
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(held.sent()).toBe(1);
      const fourth = engine.submit([op(bookId, [debit(y, '4.00'), credit(e1, '4.00')])], true);
      await waitFor(async () => held.sent() === 2, { what: 'the next two sent behind the first write' });
      await releaseBoth(setup, [...first, third, fourth], 4, 1);
    } finally {
      await engine.close();
    }
    await expectPosted([x, y, e1, e2], ['6.00', '9.00', '7.00', '8.00']);
    await expectIntactBook(ctx.db, ctx.ledger, book.id, 5);
  });

  it('behind a small write, posts a lone request once that write commits', async () => {
    const setup = await smallWriteHeld();
    const { book, engine, held, first } = setup;
    try {
      const lone = setup.third();
      // Sent once the first write has committed, on what it left (not pipelined); then let go too.
      await releaseBoth(setup, [...first, lone], 3, 0, () =>
        waitFor(async () => held.sent() === 2, { what: 'the lone request written after the first' }),
      );
    } finally {
      await engine.close();
    }
    await expectIntactBook(ctx.db, ctx.ledger, book.id, 4);
  });

  it('never chains onto a head that was not written: the write before it failed and was posted again first', async () => {
    const setup = await knownBook();
    const { book, bookId, engine, held } = setup;
    let results: OpResult[];
    try {
      const { first, second, firstKey } = await twoWritesFirstStale(setup);
      held.release(1);
      // The first group is decided again from a read and committed (on the pool, not held): the
      // book is now at the version the second write expects, with another chain head.
      await waitFor(
        async () =>
          (
            await ctx.db.query('select 1 from journal_entry where book_id = $1 and idempotency_key = $2', [
              bookId,
              firstKey,
            ])
          ).rows.length === 1,
        { what: 'the first group posted again' },
      );
      held.release(2);
      results = [...(await first), ...(await second)];
    } finally {
      await engine.close();
    }
    expect(results.map((r) => r.ok)).toEqual([true, true]);
    await expectIntactBook(ctx.db, ctx.ledger, book.id, 3);
    // Both writes decided from the cache failed; both groups were posted from a read.
    expect(engine.staleCachedWrites).toBe(2);
    expect(engine.pipelinedWrites).toBe(0);
  });

  it('reads the group decided on a failed write only once that write’s group is posted again', async () => {
    const setup = await knownBook();
    const { book, engine, held } = setup;
    let results: OpResult[];
    let writtenMeanwhile = -1;
    try {
      // The first write fails, and the second, decided on it, fails with it.
      const { first, second } = await twoWritesFirstStale(setup);
      held.holdPooled();
      held.release(1);
      // The first group, decided again from a read, is about to write (held).
      await waitFor(async () => held.pooledSent() === 1, { what: 'the first group written again' });
      held.release(2);
      await waitFor(async () => engine.staleCachedWrites === 2, { what: 'the second write failed' });
      // Read beside the first group's write in flight, the second group would be decided on the
      // version of the book that write is about to move, and written (held) at once.
      await new Promise((resolve) => setTimeout(resolve, 300));
      writtenMeanwhile = held.pooledSent() - 1;
      for (let n = 1; n <= 6; n++) held.releasePooled(n);
      results = [...(await first), ...(await second)];
    } finally {
      for (let n = 1; n <= 6; n++) held.releasePooled(n);
      await engine.close();
    }
    expect(writtenMeanwhile).toBe(0);
    expect(results.map((r) => r.ok)).toEqual([true, true]);
    // Each group read once, and written once from that read.
    expect(engine.staleWrites).toBe(0);
    expect(engine.lockedFallbacks).toBe(0);
    await expectIntactBook(ctx.db, ctx.ledger, book.id, 3);
  });

  it('fails both writes when their shared connection is lost, posts nothing, and posts them once when sent again', async () => {
    const { book, bookId, accounts, engine, held } = await knownBook();
    const [x, y, e1, e2] = accounts as [CreatedAccount, CreatedAccount, CreatedAccount, CreatedAccount];
    const ops = [
      op(bookId, [debit(x, '2.00'), credit(e1, '2.00')]),
      op(bookId, [debit(y, '4.00'), credit(e2, '4.00')]),
    ];
    try {
      const first = engine.submit([ops[0]!], true);
      await waitFor(async () => held.sent() === 1, { what: 'the first write sent' });
      const second = engine.submit([ops[1]!], true);
      await waitFor(async () => held.sent() === 2, { what: 'the second write sent behind the first' });
      // The shared connection's backend goes away while both writes wait on it.
      await ctx.db.query('select pg_terminate_backend($1)', [held.lastBackend()]);
      held.release(1);
      held.release(2);
      for (const answer of [first, second]) {
        await expect(answer).rejects.toMatchObject({ name: 'UnavailableError' });
      }
      const { rows } = await ctx.db.query('select count(*)::int as n from journal_entry where book_id = $1', [
        bookId,
      ]);
      expect(rows[0].n).toBe(1);
      // The clients send the same requests again (their writes are no longer held): posted once
      // each, and a third copy replayed.
      for (let n = 3; n <= 8; n++) held.release(n);
      for (const again of ops) {
        const [result] = await engine.submit([again], true);
        expect(result!.ok).toBe(true);
      }
      const [replayed] = await engine.submit([ops[0]!], true);
      expect(replayed).toMatchObject({ ok: true, replayed: true });
    } finally {
      await engine.close();
    }
    await expectIntactBook(ctx.db, ctx.ledger, book.id, 3);
  });
});
