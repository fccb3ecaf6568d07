/**
 * The reporting rollup (issue 15) after a random sequence of postings through the API: revenue and
 * expenses on random past days, members joining and leaving, a co-op reported closed, a
 * mutual-credit clearing committed over a cycle of obligations between the co-ops. After every few steps the rollup is
 * refreshed incrementally (only co-ops whose sources changed) and compared with a direct
 * recomputation from the journal's own lines and the membership events, in this file, and with a
 * full recomputation of every co-op.
 */
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LedgerClient } from '../../client-sdk/index.js';
import {
  addDays,
  type CoopFixture,
  changeState,
  createClass,
  join,
  setupCoop,
  today,
} from '../helpers/coop.js';
import { setupNetwork } from '../helpers/credit.js';
import { connectPg, ledgerClient, newKey, seededRandom, uniqueSuffix } from '../helpers/ledger.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
let admin: LedgerClient;
let db: pg.Client;

beforeAll(async () => {
  server = await startTestServer();
  admin = ledgerClient(server.url, { token: server.adminToken });
  db = await connectPg();
});
afterAll(async () => {
  await db?.end();
  await server?.stop();
});

const month = (d: string) => d.slice(0, 7);

/**
 * REVENUE, members and co-op counts (founded, closed, counted until closed) per co-op and month,
 * straight from the sources, and the set-off each co-op's debts got in clearings as the test made
 * them (`saved`: book -> month -> minor units).
 */
async function recompute(
  books: string[],
  founded: Map<string, string>,
  closed: Map<string, string>,
  saved: Map<string, Map<string, bigint>>,
): Promise<Map<string, bigint>> {
  const out = new Map<string, bigint>();
  const add = (book: string, measure: string, m: string, v: bigint) => {
    const key = `${book}|${measure}|${m}`;
    out.set(key, (out.get(key) ?? 0n) + v);
  };
  const current = month(today());
  const months = (from: string) => {
    const list: string[] = [];
    for (let m = month(from); m <= current; ) {
      list.push(m);
      const [y, mm] = m.split('-').map(Number) as [number, number];
      m = mm === 12 ? `${y + 1}-01` : `${y}-${String(mm + 1).padStart(2, '0')}`;
    }
    return list;
  };
  const { rows: lines } = await db.query(
    `select l.book_id, to_char(l.effective_at at time zone 'UTC', 'YYYY-MM') as m, l.side, (l.amount * 100)::bigint::text as cents
       from journal_line l join account a on a.book_id = l.book_id and a.id = l.account_id
      where l.book_id = any($1::uuid[]) and a.type = 'REVENUE' and l.phase = 'POSTED'`,
    [books],
  );
  for (const l of lines) add(l.book_id, 'REVENUE', l.m, (l.side === 'CREDIT' ? 1n : -1n) * BigInt(l.cents));
  const { rows: events } = await db.query(
    `select book_id, membership_id, from_state, to_state, to_char(effective_on, 'YYYY-MM-DD') as d
       from membership_event where book_id = any($1::uuid[]) order by seq`,
    [books],
  );
  const spans = new Map<string, { book: string; start?: string; end?: string }>();
  for (const e of events) {
    const s: { book: string; start?: string; end?: string } = spans.get(e.membership_id) ?? {
      book: e.book_id as string,
    };
    if (e.to_state === 'ACTIVE' && !s.start) s.start = e.d;
    if ((e.to_state === 'WITHDRAWN' || e.to_state === 'TERMINATED') && e.from_state === 'ACTIVE' && !s.end)
      s.end = e.d;
    spans.set(e.membership_id, s);
  }
  for (const book of books) {
    const f = founded.get(book)!;
    add(book, 'FOUNDED', month(f), 1n);
    const closedOn = closed.get(book);
    if (closedOn) add(book, 'CLOSED', month(closedOn), 1n);
    for (const [m, v] of saved.get(book) ?? []) add(book, 'LIQUIDITY_SAVED', m, v);
    for (const m of months(f)) {
      if (!closedOn || m < month(closedOn)) add(book, 'COOPS', m, 1n);
      const monthEnd = new Date(Date.UTC(Number(m.slice(0, 4)), Number(m.slice(5)), 0))
        .toISOString()
        .slice(0, 10);
      for (const s of spans.values()) {
        if (s.book === book && s.start && s.start <= monthEnd && (!s.end || s.end > monthEnd))
          add(book, 'MEMBERS', m, 1n);
      }
    }
  }
  for (const s of spans.values()) {
    if (s.start) add(s.book, 'MEMBERSHIPS_STARTED', month(s.start), 1n);
    if (s.start && s.end) add(s.book, 'MEMBERSHIPS_ENDED', month(s.end), 1n);
  }
  for (const [k, v] of out) if (v === 0n) out.delete(k);
  return out;
}

const CHECKED = new Set([
  'REVENUE',
  'MEMBERS',
  'MEMBERSHIPS_STARTED',
  'MEMBERSHIPS_ENDED',
  'COOPS',
  'FOUNDED',
  'CLOSED',
  'LIQUIDITY_SAVED',
]);

/** A mutual-credit network in USD joined by these co-ops; its steward's client. */
async function creditNetwork(
  fixtures: CoopFixture[],
): Promise<{ networkId: string; bookUuid: string; steward: LedgerClient; members: string[] }> {
  return setupNetwork(
    server.url,
    admin,
    {
      name: `Rollup circuit ${uniqueSuffix()}`,
      unit: { code: 'RLC', scale: 2 },
      pegCurrency: 'USD',
      pegRate: '1',
      currencies: [{ code: 'USD', scale: 2 }],
      policy: { defaultLimit: '100.00', softLimitPercent: 80, defaultUpperBound: '1000.00' },
    },
    fixtures,
  );
}

describe('rollup', () => {
  it('equals a direct recomputation after random postings, refreshed incrementally', async () => {
    const city = `Rollupville ${uniqueSuffix()}`;
    const random = seededRandom(1515);
    const pickDay = () => addDays(today(), -Math.floor(random() * 420));
    const coops: { fixture: CoopFixture; classId: string; members: string[] }[] = [];
    const founded = new Map<string, string>();
    for (let i = 0; i < 3; i++) {
      const foundedOn = addDays(today(), -500 - i * 40);
      const fixture = await setupCoop(server.url, admin, { city, neighbourhood: `N${i}`, foundedOn });
      const classId = await createClass(fixture, { code: 'W', name: 'Worker', buyIn: '0.00', voting: true });
      coops.push({ fixture, classId, members: [] });
      founded.set(fixture.bookUuid, foundedOn);
    }
    const books = coops.map((c) => c.fixture.bookUuid);
    const closed = new Map<string, string>();
    const saved = new Map<string, Map<string, bigint>>();
    for (let step = 0; step < 18; step++) {
      if (step === 3) {
        // The third co-op reports that it closed 40 days ago.
        const f = coops[2]!.fixture;
        const closedOn = addDays(today(), -40);
        const report = await f.treasurer.reportCoopProfile({
          coopId: f.id,
          asOf: today(),
          workersNotMembers: 0,
          workerOwners: 0,
          closedOn,
          idempotencyKey: newKey('closed'),
        });
        expect(report.userErrors).toEqual([]);
        expect(report.report!.closedOn).toBe(closedOn);
        closed.set(f.bookUuid, closedOn);
      }
      if (step === 8) {
        // A cycle of debts 10 -> 10 -> 7 between the co-ops: a clearing sets off 7 of each.
        const net = await creditNetwork(coops.map((c) => c.fixture));
        const [a, b, c] = net.members as [string, string, string];
        const recorded = await net.steward.recordObligations({
          networkId: net.networkId,
          idempotencyKey: newKey('obl'),
          obligations: [
            [a, b, '10.00', 'ab'],
            [b, c, '10.00', 'bc'],
            [c, a, '7.00', 'ca'],
          ].map(([debtorId, creditorId, amount, reference]) => ({
            debtorId: debtorId!,
            creditorId: creditorId!,
            currency: 'USD',
            amount: amount!,
            dueOn: today(),
            reference: reference!,
          })),
        });
        expect(recorded.userErrors).toEqual([]);
        const committed = await net.steward.commitClearing({
          networkId: net.networkId,
          currency: 'USD',
          idempotencyKey: newKey('clr'),
        });
        expect(committed.userErrors).toEqual([]);
        expect(committed.clearing!.setoffTotal).toBe('21.00');
        const { rows } = await db.query(
          `select to_char(committed_at at time zone 'UTC', 'YYYY-MM') as m from credit_clearing where book_id = $1`,
          [net.bookUuid],
        );
        for (const f of coops.map((x) => x.fixture))
          saved.set(f.bookUuid, new Map([[rows[0]!.m as string, 700n]]));
      }
      const c = coops[Math.floor(random() * coops.length)]!;
      const r = random();
      if (r < 0.5) {
        const amount = (1 + Math.floor(random() * 90_000)) / 100;
        const revenue = random() < 0.8;
        const payload = await c.fixture.treasurer.postJournalEntry({
          bookId: c.fixture.bookId,
          idempotencyKey: newKey('r'),
          effectiveAt: `${pickDay()}T12:00:00.000Z`,
          lines: [
            {
              accountId: c.fixture.chart[revenue ? '4000' : '5000']!,
              side: revenue ? 'CREDIT' : 'DEBIT',
              amount: amount.toFixed(2),
              unit: 'USD',
            },
            {
              accountId: c.fixture.chart['1010']!,
              side: revenue ? 'DEBIT' : 'CREDIT',
              amount: amount.toFixed(2),
              unit: 'USD',
            },
          ],
        });
        expect(payload.userErrors).toEqual([]);
      } else if (r < 0.85 || c.members.length === 0) {
        const on = pickDay();
        const joined = await join(c.fixture, { classId: c.classId, appliedOn: on });
        await changeState(c.fixture, joined.membership.id, 'ACTIVE', on);
        c.members.push(joined.membership.id);
      } else {
        const id = c.members.shift()!;
        await changeState(c.fixture, id, 'WITHDRAWN', today());
      }
      if (step % 6 === 5) {
        const refreshed = await server.services.reporting.refreshCity(city);
        expect(refreshed).toBeGreaterThan(0);
        const rows = await server.services.reporting.rollupRows(books);
        const got = new Map(
          rows
            .filter((x) => CHECKED.has(x.measure))
            .map((x) => [`${x.bookId}|${x.measure}|${x.month}`, BigInt(x.value)]),
        );
        expect(got).toEqual(await recompute(books, founded, closed, saved));
        // Nothing changed since: the next refresh recomputes no co-op.
        expect(await server.services.reporting.refreshCity(city)).toBe(0);
      }
    }
    // A full recomputation of every co-op gives the same rows, every measure.
    const before = await server.services.reporting.rollupRows(books);
    await db.query('delete from reporting_refresh where book_id = any($1::uuid[])', [books]);
    expect(await server.services.reporting.refreshCity(city)).toBe(3);
    expect(await server.services.reporting.rollupRows(books)).toEqual(before);
    expect(before.some((x) => x.measure === 'REVENUE')).toBe(true);
    expect(before.some((x) => x.measure === 'MEMBERS')).toBe(true);
    expect(before.filter((x) => x.measure === 'LIQUIDITY_SAVED').map((x) => x.value)).toEqual([
      '700',
      '700',
      '700',
    ]);
    expect(before.filter((x) => x.measure === 'CLOSED')).toHaveLength(1);
  });
});
