/**
 * The database's own check of a clearing (the deferred constraint trigger credit_clearing_assert,
 * migrations Migration20261208100000_credit and Migration20261218000000_clearing_assert): whatever
 * the service computed, a clearing whose set-offs move a member's net position, or that comes with
 * a new obligation, is refused at COMMIT and leaves nothing behind. The bad plans are written here
 * through the same store functions commitClearing uses (insertClearing, applyClearingLines,
 * and insertObligations), as a broken solver would; a correct plan written the same way passes, so the
 * refusals are the tampering's and not the harness's. Real PostgreSQL, network set up through the SDK.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  applyClearingLines,
  insertClearing,
  insertObligations,
  obligationCount,
  plainArray,
} from '../../server/credit/store-clearing.js';
import { uuidv7 } from '../../server/platform/ids.js';
import type { TxClient } from '../../server/platform/transaction.js';
import { setupCoop } from '../helpers/coop.js';
import { decodeGlobalId, ledgerClient, newKey } from '../helpers/ledger.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
let pool: pg.Pool;
let bookId: string;
let a: string;
let b: string;
let c: string;
/** Obligation ids by reference: ab (A owes B 50), bc (B owes C 30), ca (C owes A 30). */
const ob: Record<string, string> = {};
/** The members' global ids, as the SDK takes them. */
const memberGlobalIds: string[] = [];

beforeAll(async () => {
  server = await startTestServer({ config: { rateLimitPerSecond: 0 } });
  pool = new pg.Pool({ connectionString: inject('databaseUrl'), max: 2 });
  const admin = ledgerClient(server.url);
  const created = await admin.createCreditNetwork({
    name: 'Assert circuit',
    unit: { code: 'SRD', scale: 2 },
    pegCurrency: 'EUR',
    pegRate: '1',
    currencies: [{ code: 'EUR', scale: 2 }],
    policy: { defaultLimit: '100.00', softLimitPercent: 80 },
    idempotencyKey: newKey('net'),
  });
  expect(created.userErrors).toEqual([]);
  const networkId = created.network!.id;
  bookId = decodeGlobalId(created.network!.bookId).bookId;
  const ids: string[] = [];
  for (let i = 0; i < 3; i++) {
    const coop = await setupCoop(server.url, admin);
    const joined = await admin.joinCreditNetwork({
      networkId,
      coopId: coop.id,
      idempotencyKey: newKey('join'),
    });
    expect(joined.userErrors).toEqual([]);
    memberGlobalIds.push(joined.member!.id);
    ids.push(decodeGlobalId(joined.member!.id).id);
  }
  [a, b, c] = ids as [string, string, string];
  const recorded = await admin.recordObligations({
    networkId,
    idempotencyKey: newKey('obl'),
    obligations: (
      [
        [0, 1, '50.00', 'ab'],
        [1, 2, '30.00', 'bc'],
        [2, 0, '30.00', 'ca'],
      ] as const
    ).map(([d, k, amount, reference]) => ({
      debtorId: memberGlobalIds[d]!,
      creditorId: memberGlobalIds[k]!,
      currency: 'EUR',
      amount,
      dueOn: '2026-03-31',
      reference,
    })),
  });
  expect(recorded.userErrors).toEqual([]);
  const { rows } = await pool.query('select id, reference from credit_obligation where book_id = $1', [
    bookId,
  ]);
  for (const r of rows) ob[r.reference] = r.id;
  expect(Object.keys(ob).sort()).toEqual(['ab', 'bc', 'ca']);
}, 60_000);

afterAll(async () => {
  await pool?.end();
  await server?.stop();
});

/** The members' positions in EUR before any clearing: A owes 50, is owed 30; B +20; C 0. */
const positionsBefore = () => [
  { memberId: a, currencyBefore: '-20.00', networkBefore: '0', networkPayment: '0.00' },
  { memberId: b, currencyBefore: '20.00', networkBefore: '0', networkPayment: '0.00' },
  { memberId: c, currencyBefore: '0.00', networkBefore: '0', networkPayment: '0.00' },
];

/**
 * Writes a clearing as commitClearing does, with the set-offs given (obligation reference to the
 * amount cleared), in a transaction of its own; `extra` runs inside it before the clearing row.
 */
async function writeClearing(
  client: TxClient,
  setoffs: Record<string, string>,
  extra?: (client: TxClient) => Promise<void>,
): Promise<string> {
  const id = uuidv7();
  const refs = Object.keys(setoffs);
  const total = refs.reduce((s, r) => s + Number(setoffs[r]), 0).toFixed(2); // small test figures only
  if (extra) await extra(client);
  await insertClearing(
    client,
    {
      bookId,
      id,
      currency: 'EUR',
      mode: 'SETOFF',
      obligationsConsidered: 3,
      // What the service counts before it writes; `extra` may add to it.
      obligationCount: 3,
      outstandingBefore: '110.00',
      setoffTotal: total,
      liquidityTotal: '0.00',
      outstandingAfter: (110 - Number(total)).toFixed(2),
      nidBefore: '20.00',
      nidAfter: '20.00',
      liquidityUsed: '0.00',
      snapshotHash: 'tampered',
      entryCount: 1,
      key: newKey('clr'),
      hash: 'tampered',
      actor: 'test:tamper',
    },
    positionsBefore(),
  );
  await applyClearingLines(client, bookId, id, {
    ids: plainArray(refs.map((r) => ob[r]!)),
    count: refs.length,
    setoff: plainArray(refs.map((r) => setoffs[r]!)),
    liquidity: plainArray(refs.map(() => '0.00')),
  });
  return id;
}

/** What the network holds; every test starts from (and must leave) the obligations as recorded. */
async function snapshot() {
  const obligations = await pool.query(
    'select reference, outstanding::numeric(38, 2)::text as outstanding from credit_obligation where book_id = $1 order by reference',
    [bookId],
  );
  const clearings = await pool.query('select count(*)::int as n from credit_clearing where book_id = $1', [
    bookId,
  ]);
  const lines = await pool.query('select count(*)::int as n from credit_clearing_line where book_id = $1', [
    bookId,
  ]);
  return {
    obligations: obligations.rows.map((r) => [r.reference, r.outstanding]),
    clearings: clearings.rows[0].n as number,
    lines: lines.rows[0].n as number,
    count: await obligationCount(pool, bookId),
  };
}

const AS_RECORDED = {
  obligations: [
    ['ab', '50.00'],
    ['bc', '30.00'],
    ['ca', '30.00'],
  ],
  clearings: 0,
  lines: 0,
  count: 3,
};

/** Runs `write` in a transaction and COMMITs it; answers the error COMMIT raised (or null). */
async function commitWith(write: (client: TxClient) => Promise<unknown>): Promise<pg.DatabaseError | null> {
  const client = await pool.connect();
  try {
    await client.query('begin');
    await write(client);
    await client.query('commit');
    return null;
  } catch (error) {
    await client.query('rollback').catch(() => {});
    return error as pg.DatabaseError;
  } finally {
    client.release();
  }
}

describe('credit_clearing_assert refuses a bad set-off at COMMIT', () => {
  it('a correct plan (the cycle A -> B -> C -> A, 30 each) written the same way passes the check', async () => {
    const before = await snapshot();
    expect(before).toEqual(AS_RECORDED);
    const client = await pool.connect();
    try {
      await client.query('begin');
      await writeClearing(client, { ab: '30.00', bc: '30.00', ca: '30.00' });
      // Fire the deferred check now instead of at COMMIT, then roll back to keep the network as it was.
      await expect(client.query('set constraints all immediate')).resolves.toBeDefined();
      await client.query('rollback');
    } finally {
      client.release();
    }
    expect(await snapshot()).toEqual(before);
  });

  it("a set-off along a chain (A -> B by 10, no cycle) moves A's and B's positions: refused, nothing changes", async () => {
    const before = await snapshot();
    expect(before).toEqual(AS_RECORDED);
    const error = await commitWith((client) => writeClearing(client, { ab: '10.00' }));
    expect(error?.code).toBe('23514'); // check_violation
    expect(error?.message).toMatch(/the position of member .* moved/);
    expect(await snapshot()).toEqual(before);
  });

  it('an uneven cycle (30, 30, 20) leaves C and A moved: refused, nothing changes', async () => {
    const before = await snapshot();
    expect(before).toEqual(AS_RECORDED);
    const error = await commitWith((client) =>
      writeClearing(client, { ab: '30.00', bc: '30.00', ca: '20.00' }),
    );
    expect(error?.code).toBe('23514');
    expect(error?.message).toMatch(/the position of member .* moved/);
    expect(await snapshot()).toEqual(before);
  });

  it('a clearing that comes with a new obligation is refused, even when its set-offs are right', async () => {
    const before = await snapshot();
    expect(before).toEqual(AS_RECORDED);
    const error = await commitWith((client) =>
      writeClearing(client, { ab: '30.00', bc: '30.00', ca: '30.00' }, (tx) =>
        insertObligations(
          tx,
          bookId,
          [
            {
              id: uuidv7(),
              debtorId: a,
              creditorId: c,
              currency: 'EUR',
              amount: '5.00',
              dueOn: '2026-03-31',
              reference: `made-up-${newKey()}`,
            },
          ],
          'tamper',
          'test:tamper',
        ),
      ),
    );
    expect(error?.code).toBe('23514');
    expect(error?.message).toMatch(/obligations were created \(3 before, 4 after\)/);
    expect(await snapshot()).toEqual(before);
  });

  it('a set-off larger than what is outstanding never reaches COMMIT (the obligation guard)', async () => {
    const before = await snapshot();
    expect(before).toEqual(AS_RECORDED);
    const error = await commitWith((client) =>
      writeClearing(client, { ab: '60.00', bc: '60.00', ca: '60.00' }),
    );
    expect(error).not.toBeNull();
    expect(await snapshot()).toEqual(before);
  });

  it('a line naming no obligation of the book is refused (the set-based check that replaced its foreign keys)', async () => {
    const before = await snapshot();
    expect(before).toEqual(AS_RECORDED);
    const error = await commitWith(async (client) => {
      const id = await writeClearing(client, { ab: '30.00', bc: '30.00', ca: '30.00' });
      await client.query(
        `insert into credit_clearing_line (book_id, clearing_id, obligation_id, setoff, liquidity)
         values ($1, $2, $3, 1, 0)`,
        [bookId, id, uuidv7()],
      );
    });
    expect(error?.code).toBe('23503'); // foreign_key_violation
    expect(error?.message).toMatch(/names no obligation or clearing of its book/);
    expect(await snapshot()).toEqual(before);
  });
});
