/**
 * A void (or commit) racing the resolution of its pending entry by another process (the rare
 * INTERNAL_SERVER_ERROR of concurrency.test.ts's two-process second wave, caught there in a loop
 * under load: InvariantError "pending totals must never go below zero: a pending entry was
 * resolved twice", thrown by decide from PostingEngine.optimisticFlush).
 *
 * The interleaving, forced here: an engine's optimistic flush of the void reads the book, the
 * pending entry and its (absent) resolution; the other engine commits the entry; then the first
 * engine goes on with the accounts of the entry's lines. Those accounts must be what the first read
 * saw (one snapshot, as readPhase promises), so that the void is decided against a consistent state,
 * its write loses its compare-and-set and the void is decided again: PENDING_ALREADY_RESOLVED.
 * Read later instead, they already show the reservation released by the commit and releasing it
 * again broke the invariant before any write: the request failed as an internal error.
 *
 * The pause sits between the engine's statements on its pool (a wrapper that runs the other
 * engine's commit after the read of the target entry returns); every statement runs on the real
 * database.
 */
import { describe, expect, it } from 'vitest';
import { type OpResult, PostingEngine, type PostOp } from '../../server/ledger/index.js';
import { createLogger } from '../../server/platform/logger.js';
import type { DbPool } from '../../server/platform/transaction.js';
import {
  createAccount,
  createBook,
  credit,
  debit,
  decodeGlobalId,
  expectIntactBook,
  newKey,
} from '../helpers/ledger.js';
import { useLedgerServer } from '../helpers/server.js';

const ctx = useLedgerServer({ db: true });

/** The statement of an optimistic flush that reads the entries it acts on (store.ts readPhase). */
const READ_WITH_TARGETS = 'ledger-read-phase-targets';

/**
 * The test server's pool, except that the first time the read of a flush's target entries returns,
 * `between` runs (and is awaited) before the engine gets the rows.
 */
function pausingPool(pool: DbPool, between: () => Promise<void>): { pool: DbPool; paused: () => number } {
  let paused = 0;
  const query = async (config: unknown, values?: unknown) => {
    const run = pool.query.bind(pool) as (config: unknown, values?: unknown) => Promise<unknown>;
    const result = await run(config, values);
    if (paused === 0 && (config as { name?: unknown } | null)?.name === READ_WITH_TARGETS) {
      paused++;
      await between();
    }
    return result;
  };
  const wrapped = new Proxy(pool, {
    get(target, property) {
      if (property === 'query') return query;
      const value = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { pool: wrapped, paused: () => paused };
}

async function pendingSetup() {
  const book = await createBook(ctx.ledger);
  const cash = await createAccount(ctx.ledger, book.id, { code: 'cash', type: 'ASSET', lowerBound: '0.00' });
  const equity = await createAccount(ctx.ledger, book.id, { code: 'equity', type: 'EQUITY' });
  const pending = await ctx.ledger.postPendingEntry({
    bookId: book.id,
    idempotencyKey: newKey('pend'),
    lines: [debit(cash, '10.00'), credit(equity, '10.00')],
  });
  expect(pending.userErrors).toEqual([]);
  return { book, cash, equity, pending: pending.entry! };
}

function refOp(kind: 'VOID' | 'COMMIT', bookId: string, targetId: string): PostOp {
  return {
    kind,
    bookId,
    targetId,
    idempotencyKey: newKey(kind.toLowerCase()),
    effectiveAt: null,
    memo: null,
    metadata: null,
    postedBy: null,
    requestHash: `race-${kind}`,
  };
}

describe('a resolution racing the resolution of its pending entry by another engine', () => {
  for (const [kind, other] of [
    ['VOID', 'commit'],
    ['COMMIT', 'void'],
  ] as const) {
    it(`${kind} read before the other engine's ${other}: PENDING_ALREADY_RESOLVED, never an internal error`, async () => {
      const { book, cash, pending } = await pendingSetup();
      const bookId = decodeGlobalId(book.id).id;
      const targetId = decodeGlobalId(pending.id).id;
      const won: { entryId: string | null; codes: string[] } = { entryId: null, codes: [] };
      const { pool, paused } = pausingPool(ctx.server.services.ledger.pool, async () => {
        // The other engine (the test server's, as another process) resolves the entry meanwhile.
        const input = { entryId: pending.id, idempotencyKey: newKey(other) };
        const answer =
          other === 'commit'
            ? await ctx.ledger.commitPendingEntry(input)
            : await ctx.ledger.voidPendingEntry(input);
        won.entryId = answer.entry?.id ?? null;
        won.codes = answer.userErrors.map((e) => e.code);
      });
      const engine = new PostingEngine(pool, createLogger({ level: 'silent' }));
      let results: OpResult[];
      try {
        results = await engine.submit([refOp(kind, bookId, targetId)], true);
      } finally {
        await engine.close();
      }
      expect(paused()).toBe(1);
      expect(won.codes).toEqual([]);
      expect(won.entryId).not.toBeNull();
      expect(results).toHaveLength(1);
      expect(results[0]!.ok ? 'posted' : results[0]!.error.code).toBe('PENDING_ALREADY_RESOLVED');
      // Its write was decided on the state it read, and lost the compare-and-set.
      expect(engine.staleWrites).toBe(1);
      // Nothing resolved twice: the pending entry and the other engine's resolution, nothing else.
      const balance = (await ctx.ledger.accountBalance({ accountId: cash.id }))!;
      expect(balance.pendingDebits).toBe('0.00');
      expect(balance.debits).toBe(other === 'commit' ? '10.00' : '0.00');
      await expectIntactBook(ctx.db, ctx.ledger, book.id, 2);
    });
  }
});
