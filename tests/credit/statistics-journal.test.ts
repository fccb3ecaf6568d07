/**
 * Network statistics recomputed from the journal (issue 14): six co-ops, seeded random payments over
 * several months (some refused with BALANCE_BOUND_EXCEEDED as the test's model predicts, some replayed), a payment request, a
 * completed and a released hold, a hold left pending, then every figure of `statistics` through the
 * SDK against SQL on journal_entry / journal_line of the network's book (not the service's code):
 * count, volume and active accounts per month, the positive balances at each month's end, velocity
 * (checked as the exact rational volume / positive, rounded half-even to 6 decimals, in integers),
 * the balances now by band, what members hold and owe, and no clearing (clearing totals are
 * checked against the journal in network.test.ts). The test also keeps its own model
 * of which payments were accepted, so the journal and the statistics are both checked against it.
 *
 * payInNetwork has no effectiveAt (a payment is posted now). To spread payments over past months the
 * test sets the posting engine's clock (its `clock` option, which the service does not expose) to
 * instants in those months, in increasing order, then restores the real clock for the current month.
 * Everything else is the real path: HTTP, the SDK, the credit service, the engine, PostgreSQL.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { LedgerClient } from '../../client-sdk/index.js';
import type { CoopFixture } from '../helpers/coop.js';
import { setupNetwork } from '../helpers/credit.js';
import { ledgerClient, newKey } from '../helpers/ledger.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const MEMBERS = 6;
/** Members 0..4 trade; member 5 never does (its balance stays zero). */
const TRADERS = 5;
const LIMIT = 10_000n; // 100.00 in minor units
const UPPER = 30_000n; // 300.00
const SOFT_PERCENT = 80n;

let server: TestServer;
let pool: pg.Pool;
let steward: LedgerClient;
let networkId: string;
let bookId: string;
const coops: CoopFixture[] = [];
const members: string[] = [];
/** The test's own model: balances in minor units, accepted payments by month. */
const balance: bigint[] = Array.from({ length: MEMBERS }, () => 0n);
const accepted = new Map<string, { count: number; volume: bigint; accounts: Set<number> }>();
let refused = 0;
let replays = 0;

/** Seeded PRNG (mulberry32): the same payments every run. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = rng(20261205);
const pick = (n: number) => Math.floor(random() * n);

/** Minor units of a decimal string of scale 2 (more decimals only if they are zeros: NUMERIC's text). */
const minor = (s: string): bigint => {
  const m = /^(-?)(\d+)(?:\.(\d*))?$/.exec(s);
  const decimals = m?.[3] ?? '';
  if (!m || /[^0]/.test(decimals.slice(2))) throw new Error(`not an amount of scale 2: ${s}`);
  const v = BigInt(m[2]!) * 100n + BigInt(decimals.slice(0, 2).padEnd(2, '0'));
  return m[1] ? -v : v;
};
const money = (v: bigint): string => {
  const a = v < 0n ? -v : v;
  return `${v < 0n ? '-' : ''}${a / 100n}.${String(a % 100n).padStart(2, '0')}`;
};

/** YYYY-MM of a month `offset` months from the real current month (UTC). */
function monthAt(offset: number): string {
  const now = new Date();
  const d = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + offset, 1));
  return d.toISOString().slice(0, 7);
}
const monthStart = (month: string) => new Date(`${month}-01T00:00:00.000Z`);
const nextMonthStart = (month: string) => {
  const d = monthStart(month);
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1));
};

/** The posting engine's clock: null is the real one. */
let fakeNow: Date | null = null;
const clockNow = () => fakeNow ?? new Date();

beforeAll(async () => {
  server = await startTestServer({ config: { rateLimitPerSecond: 0 } });
  pool = new pg.Pool({ connectionString: inject('databaseUrl'), max: 2 });
  (server.services.ledger.engine as unknown as { clock: () => Date }).clock = clockNow;
  const network = await setupNetwork(
    server.url,
    ledgerClient(server.url),
    {
      name: 'Statistics circuit',
      unit: { code: 'SRD', scale: 2 },
      policy: {
        defaultLimit: money(LIMIT),
        softLimitPercent: Number(SOFT_PERCENT),
        defaultUpperBound: money(UPPER),
      },
    },
    MEMBERS,
  );
  ({ networkId, steward } = network);
  bookId = network.bookUuid;
  coops.push(...network.coops);
  members.push(...network.members);
});

afterAll(async () => {
  if (server) (server.services.ledger.engine as unknown as { clock: () => Date }).clock = () => new Date();
  await pool?.end();
  await server?.stop();
});

function record(month: string, from: number, to: number, amount: bigint) {
  const m = accepted.get(month) ?? { count: 0, volume: 0n, accounts: new Set<number>() };
  m.count++;
  m.volume += amount;
  m.accounts.add(from).add(to);
  accepted.set(month, m);
  balance[from]! -= amount;
  balance[to]! += amount;
}

/** One payment through the SDK; the model predicts whether it is accepted. */
async function pay(month: string, from: number, to: number, amount: bigint): Promise<boolean> {
  const fits = balance[from]! - amount >= -LIMIT && balance[to]! + amount <= UPPER;
  const key = newKey('pay');
  const input = {
    payerId: members[from]!,
    payeeId: members[to]!,
    amount: money(amount),
    idempotencyKey: key,
  };
  const answer = await coops[from]!.treasurer.payInNetwork(input);
  if (!fits) {
    expect(answer.userErrors.map((e) => [e.code, e.field])).toEqual([['BALANCE_BOUND_EXCEEDED', 'amount']]);
    refused++;
    return false;
  }
  expect(answer.userErrors).toEqual([]);
  expect(answer.replayed).toBe(false);
  record(month, from, to, amount);
  if (random() < 0.1) {
    // A replay of the same key posts nothing more.
    const again = await coops[from]!.treasurer.payInNetwork(input);
    expect(again.replayed).toBe(true);
    expect(again.entryId).toBe(answer.entryId);
    replays++;
  }
  return true;
}

async function randomPayments(month: string, n: number, at: (i: number) => Date | null) {
  for (let i = 0; i < n; i++) {
    fakeNow = at(i);
    const from = pick(TRADERS);
    const to = (from + 1 + pick(TRADERS - 1)) % TRADERS;
    await pay(month, from, to, BigInt(1 + pick(6_000)));
  }
  fakeNow = null;
}

/** Moves member `i` to exactly `target` (below its balance), paying traders 2..4 that have room. */
async function bringTo(month: string, i: number, target: bigint) {
  let rest = balance[i]! - target;
  for (let j = 2; j < TRADERS && rest > 0n; j++) {
    const room = UPPER - balance[j]!;
    const amount = room < rest ? room : rest;
    if (amount <= 0n) continue;
    expect(await pay(month, i, j, amount)).toBe(true);
    rest -= amount;
  }
  expect(balance[i]).toBe(target);
}

/** The trader with the highest (lowest) balance, the first of equals. */
function richest(): number {
  let best = 0;
  for (let i = 1; i < TRADERS; i++) if (balance[i]! > balance[best]!) best = i;
  return best;
}
function poorest(): number {
  let best = 0;
  for (let i = 1; i < TRADERS; i++) if (balance[i]! < balance[best]!) best = i;
  return best;
}

async function boundaryPayment(month: string, instant: Date) {
  const amount = 1_234n;
  const traders = [...Array(TRADERS).keys()];
  const from = traders.find((i) => balance[i]! <= 0n && balance[i]! - amount >= -LIMIT);
  const to = traders.find((j) => j !== from && balance[j]! >= 0n && balance[j]! + amount <= UPPER);
  expect([from, to].every((x) => x !== undefined)).toBe(true);
  fakeNow = instant;
  expect(await pay(month, from!, to!, amount)).toBe(true);
  fakeNow = null;
}

/** The band of a balance as the API documents it, in integers: soft floor = -(limit x 80%, toward zero). */
function band(b: bigint, limit: bigint): string {
  if (b > 0n) return 'ABOVE_ZERO';
  if (b === 0n) return 'ZERO';
  if (b <= -limit) return 'AT_OR_BEYOND_LIMIT';
  if (b < -((limit * SOFT_PERCENT) / 100n)) return 'NEAR_LIMIT';
  return 'USING_CREDIT';
}

/** round_half_even(p / q, 6 decimals) of non-negative integers, as a string. */
function ratio6(p: bigint, q: bigint): string {
  const scaled = p * 1_000_000n;
  let r = scaled / q;
  const rem = scaled % q;
  if (rem * 2n > q || (rem * 2n === q && r % 2n === 1n)) r++;
  return `${r / 1_000_000n}.${String(r % 1_000_000n).padStart(6, '0')}`;
}

describe('network statistics against the journal', () => {
  it('every figure equals its recomputation with SQL on journal_entry / journal_line', async () => {
    // Months: -7 and -6 before any payment, -5 payments, -4 none, -3 payments (the last at the
    // month's last millisecond), -2 payments (the first at its first instant), -1 payments, 0 now.
    const at = (month: string, day: number, i: number) =>
      new Date(monthStart(month).getTime() + (day - 1) * 86_400_000 + i * 60_000);
    for (const [offset, n] of [
      [-5, 30],
      [-3, 30],
      [-2, 30],
      [-1, 30],
    ] as const) {
      const month = monthAt(offset);
      // At the month's first instant (month -2) and last millisecond (month -3): a payment from a
      // member at or below zero to one at or above, so the sum of positive balances grows by its
      // amount and a month end read a millisecond off either way shows.
      if (offset === -2) await boundaryPayment(month, monthStart(month));
      await randomPayments(month, n, (i) => at(month, 10, i));
      if (offset === -3) await boundaryPayment(month, new Date(nextMonthStart(month).getTime() - 1));
    }
    const now = monthAt(0);
    await randomPayments(now, 20, () => null);
    // A payment request accepted (a STANDARD payment), a hold completed (a COMMIT), a hold released
    // (a VOID: no payment): all between two traders with room.
    const [payer, payee] = [richest(), poorest()];
    expect(payer).not.toBe(payee);
    const request = async (amount: bigint) =>
      (
        await coops[payee]!.treasurer.createPaymentRequest({
          payeeId: members[payee]!,
          payerId: members[payer]!,
          amount: money(amount),
          idempotencyKey: newKey('req'),
        })
      ).request!.id;
    const paid = await coops[payer]!.treasurer.acceptPaymentRequest({
      requestId: await request(1_100n),
      idempotencyKey: newKey('acc'),
    });
    expect(paid.request!.status).toBe('PAID');
    record(now, payer, payee, 1_100n);
    const heldId = await request(2_200n);
    const held = await coops[payer]!.treasurer.acceptPaymentRequest({
      requestId: heldId,
      idempotencyKey: newKey('acc'),
      hold: true,
    });
    expect(held.request!.status).toBe('HELD');
    const completed = await coops[payee]!.treasurer.completePaymentRequest({
      requestId: heldId,
      idempotencyKey: newKey('cmp'),
    });
    expect(completed.request!.status).toBe('COMPLETED');
    record(now, payer, payee, 2_200n);
    const releasedId = await request(300n);
    await coops[payer]!.treasurer.acceptPaymentRequest({
      requestId: releasedId,
      idempotencyKey: newKey('acc'),
      hold: true,
    });
    const released = await coops[payee]!.treasurer.releasePaymentRequest({
      requestId: releasedId,
      idempotencyKey: newKey('rel'),
    });
    expect(released.userErrors).toEqual([]);
    expect(released.request!.status).toBe('RELEASED');

    // Every band populated: member 0 at its limit, member 1 near it, member 5 at zero.
    await bringTo(now, 0, -LIMIT);
    await bringTo(now, 1, -9_000n);
    // A hold left pending: reserved, not posted, so neither a payment nor in the balances.
    const pendingPayer = richest();
    const pendingPayee = pendingPayer === 2 ? 3 : 2;
    const pendingReq = await coops[pendingPayee]!.treasurer.createPaymentRequest({
      payeeId: members[pendingPayee]!,
      payerId: members[pendingPayer]!,
      amount: '5.00',
      idempotencyKey: newKey('req'),
    });
    const pending = await coops[pendingPayer]!.treasurer.acceptPaymentRequest({
      requestId: pendingReq.request!.id,
      idempotencyKey: newKey('acc'),
      hold: true,
    });
    expect(pending.request!.status).toBe('HELD');
    expect(refused).toBeGreaterThan(0);
    expect(replays).toBeGreaterThan(0);

    const from = monthAt(-7);
    const stats = (await steward.networkStatistics({ networkId, from, to: now }))!.statistics;
    const months = Array.from({ length: 8 }, (_, k) => monthAt(k - 7));
    expect(stats.from).toBe(from);
    expect(stats.to).toBe(now);
    expect(stats.months.map((m) => m.month)).toEqual(months);

    // ---- the recomputation, from the journal ----
    const net = await steward.creditNetwork({ id: networkId, first: 100 });
    const memberRows = net!.members.edges.map((e) => e.node);
    const codes = memberRows.map((m) => m.accountCode);
    const accountRows = await pool.query<{ id: string; code: string }>(
      'select id, code from account where book_id = $1 and code = any($2::text[])',
      [bookId, codes],
    );
    const accountOf = new Map(accountRows.rows.map((r) => [r.code, r.id]));
    const memberAccounts = memberRows.map((m) => accountOf.get(m.accountCode)!);
    expect(memberAccounts.every(Boolean)).toBe(true);

    const perMonth = await pool.query<{ month: string; payments: number; volume: string; active: number }>(
      `select to_char(e.effective_at at time zone 'UTC', 'YYYY-MM') as month,
              count(distinct e.id)::int as payments,
              sum(l.amount) filter (where l.side = 'DEBIT')::text as volume,
              count(distinct l.account_id)::int as active
         from journal_entry e
         join journal_line l on l.book_id = e.book_id and l.entry_id = e.id
        where e.book_id = $1 and e.kind in ('STANDARD', 'COMMIT') and e.metadata->>'credit.kind' = 'PAYMENT'
          and l.phase = 'POSTED'
        group by 1`,
      [bookId],
    );
    const journalMonths = new Map(perMonth.rows.map((r) => [r.month, r]));
    // Every payment the journal holds falls in the months asked for.
    expect([...journalMonths.keys()].every((m) => months.includes(m))).toBe(true);
    const positiveAt = async (instant: Date): Promise<bigint> => {
      const { rows } = await pool.query<{ positive: string }>(
        `select coalesce(sum(b) filter (where b > 0), 0)::text as positive
           from (select l.account_id, sum(case l.side when 'CREDIT' then l.amount else -l.amount end) as b
                   from journal_line l
                  where l.book_id = $1 and l.unit_code = 'SRD' and l.phase = 'POSTED' and l.effective_at < $2
                  group by l.account_id) x`,
        [bookId, instant],
      );
      return minor(rows[0]!.positive);
    };

    let totalCount = 0;
    let totalVolume = 0n;
    for (const [k, month] of months.entries()) {
      const got = stats.months[k]!;
      const j = journalMonths.get(month);
      const mine = accepted.get(month);
      const count = j?.payments ?? 0;
      const volume = j ? minor(j.volume) : 0n;
      // The journal agrees with what the test posted ...
      expect([month, count, volume, j?.active ?? 0]).toEqual([
        month,
        mine?.count ?? 0,
        mine?.volume ?? 0n,
        mine?.accounts.size ?? 0,
      ]);
      // ... and the statistics with the journal.
      const positive = await positiveAt(nextMonthStart(month));
      expect({
        month,
        payments: got.payments,
        volume: got.volume,
        activeAccounts: got.activeAccounts,
        positiveBalancesAtEnd: got.positiveBalancesAtEnd,
        velocity: got.velocity,
      }).toEqual({
        month,
        payments: count,
        volume: money(volume),
        activeAccounts: j?.active ?? 0,
        positiveBalancesAtEnd: money(positive),
        velocity: positive === 0n ? null : ratio6(volume, positive),
      });
      totalCount += count;
      totalVolume += volume;
    }
    // Months with no payment after trading began: velocity 0, not null; before it: null.
    expect(stats.months[0]!.velocity).toBeNull();
    expect(stats.months[3]!.velocity).toBe('0.000000');
    expect(stats.paymentsTotal).toBe(totalCount);
    expect(stats.volumeTotal).toBe(money(totalVolume));

    // Balances now, from the journal's posted lines; bands from each member's limit.
    const now_ = await pool.query<{ account_id: string; b: string }>(
      `select l.account_id, sum(case l.side when 'CREDIT' then l.amount else -l.amount end)::text as b
         from journal_line l
        where l.book_id = $1 and l.account_id = any($2::uuid[]) and l.phase = 'POSTED'
        group by l.account_id`,
      [bookId, memberAccounts],
    );
    const journalBalance = new Map(now_.rows.map((r) => [r.account_id, minor(r.b)]));
    const bands = new Map(
      ['ABOVE_ZERO', 'ZERO', 'USING_CREDIT', 'NEAR_LIMIT', 'AT_OR_BEYOND_LIMIT'].map((b) => [b, 0]),
    );
    let positive = 0n;
    let negative = 0n;
    for (const [i, m] of memberRows.entries()) {
      const b = journalBalance.get(memberAccounts[i]!) ?? 0n;
      expect(b).toBe(balance[m.number - 1]);
      const limit = minor(m.limit!);
      bands.set(band(b, limit), bands.get(band(b, limit))! + 1);
      if (b > 0n) positive += b;
      else negative += b;
    }
    expect(positive + negative).toBe(0n);
    expect(stats.members).toBe(MEMBERS);
    expect(stats.balances.map((b) => [b.band, b.count])).toEqual([...bands]);
    for (const b of ['ABOVE_ZERO', 'ZERO', 'NEAR_LIMIT', 'AT_OR_BEYOND_LIMIT'])
      expect([b, bands.get(b)! > 0]).toEqual([b, true]);
    expect(stats.positiveBalances).toBe(money(positive));
    expect(stats.negativeBalances).toBe(money(negative));
    // No clearing in this network: none in the statistics, none in the journal.
    const clearings = await pool.query<{ n: number }>(
      `select count(*)::int as n from journal_entry where book_id = $1 and metadata->>'credit.kind' = 'CLEARING'`,
      [bookId],
    );
    expect(clearings.rows[0]!.n).toBe(0);
    expect(stats.clearings).toEqual([]);
  });
});
