/**
 * A consumer co-op allocating by purchases (issue 13), through HTTP, the SDK and PostgreSQL:
 * records imported from CSV (all or nothing, errors by line and column, same key + same file
 * replays), members who joined and left mid-year counted only for their days as members, a
 * surplus given instead of the book's, a former member paid all in cash (PAY_AT_ONCE).
 *
 * By hand: 100.00 of purchases every month by each of A, B and C in 2025.
 *   A: ACTIVE all year: 1,200.00 counted.
 *   B: applied 2025-01-01, ACTIVE from 2025-07-01: Jan-Jun 600.00 excluded, Jul-Dec 600.00 counted.
 *   C: ACTIVE from 2025-01-01, left 2025-03-16: Jan + Feb 200.00 + March 100 * 15/31 = 248.387...
 *      counted (248.39 shown), 100 * 16/31 = 51.61 excluded.
 *   Surplus given 1,111.11: reserve 10% = 111,111 cents * .1 = 11,111.1 -> 11,111 r .1; members
 *   99,999.9 -> 99,999 r .9; the leftover cent to the members: reserve 111.11, pool 1,000.00.
 *   Pool (cents) by 37200 : 18600 : 7700 (of 63500, in 31sts): A 58,582.677 -> 58,582, B 29,291.338 ->
 *   29,291, C 12,125.984 -> 12,125; two cents left to C (.984) and A (.677): 585.83 / 292.91 / 121.26.
 *   Cash 20% rounded up: A 117.166 -> 117.17 (retained 468.66); B 58.582 -> 58.59 (retained 234.32);
 *   C has left: all 121.26 in cash. Payable 117.17 + 58.59 + 121.26 = 297.02.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LedgerClient } from '../../client-sdk/index.js';
import { type CoopFixture, changeState, ExpectedBook, join } from '../helpers/coop.js';
import { ledgerClient, newKey } from '../helpers/ledger.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { activeMember, type Member, month, patronageCoop, runEntryLines, setPolicy } from './helpers.js';

let server: TestServer;
let admin: LedgerClient;
let coop: CoopFixture;
let book: ExpectedBook;
let a: Member;
let b: Member;
let c: Member;

beforeAll(async () => {
  server = await startTestServer({ config: { rateLimitPerSecond: 0 } });
  admin = ledgerClient(server.url);
  const setup = await patronageCoop(server.url, admin, { kind: 'CONSUMER' });
  coop = setup.coop;
  book = new ExpectedBook(coop.treasurer, coop.bookId);
  a = await activeMember(coop, setup.classId, 'Ana Shopper', '2024-01-01');
  const joined = await join(coop, { classId: setup.classId, appliedOn: '2025-01-01', name: 'Bo Shopper' });
  await changeState(coop, joined.membership.id, 'ACTIVE', '2025-07-01');
  b = {
    id: joined.membership.id,
    number: joined.membership.memberNumber,
    name: 'Bo Shopper',
    internalCapitalId: joined.membership.accounts.internalCapital!.id,
    internalCapitalCode: joined.membership.accounts.internalCapital!.code,
  };
  c = await activeMember(coop, setup.classId, 'Cy Shopper', '2025-01-01', '2025-03-16');
  await setPolicy(coop, {
    measures: [{ code: 'PURCHASES', kind: 'PURCHASES', unit: { code: 'USD', scale: 2 }, weight: '1' }],
    reservePercent: '10',
    revolvingYears: 3,
  });
});

afterAll(async () => {
  await server?.stop();
});

function csvOf(rows: string[][]): string {
  return `${['member', 'measure', 'period_start', 'period_end', 'quantity'].join(',')}\n${rows.map((r) => r.join(',')).join('\n')}\n`;
}

describe('a consumer co-op allocates by purchases', () => {
  it('refuses a file with bad rows, naming each by line and column, and records nothing', async () => {
    const bad = csvOf([
      ['99', 'PURCHASES', '2025-01-01', '2025-01-31', '10.00'],
      [String(a.number), 'PURCHASES', '2025-02-01', '2025-02-30', '10.00'],
      [String(a.number), 'PURCHASES', '2025-03-01', '2025-03-31', '1.001'],
      [String(b.number), 'PURCHASES', '2025-04-01', '2025-04-30', '10.00'],
      [String(b.number), 'PURCHASES', '2025-04-15', '2025-05-14', '10.00'],
    ]);
    const result = await coop.treasurer.importPatronageCsv({
      coopId: coop.id,
      csv: bad,
      idempotencyKey: newKey('csv'),
    });
    expect(result.imported).toBe(false);
    expect(result.recorded).toBe(0);
    expect(result.rowErrors.map((e) => [e.row, e.column, e.code])).toEqual([
      [2, 'member', 'UNKNOWN_MEMBERSHIP'],
      [3, 'period_end', 'INVALID_DATE'],
      [4, 'quantity', 'INVALID_AMOUNT'],
      [6, 'period_start', 'PATRONAGE_PERIOD_OVERLAP'],
    ]);
    const header = await coop.treasurer.importPatronageCsv({
      coopId: coop.id,
      csv: 'member,measure,quantity\n1,PURCHASES,1\n',
      idempotencyKey: newKey('csv'),
    });
    expect(header.rowErrors.map((e) => [e.row, e.column, e.code])).toEqual([
      [1, 'period_start', 'INVALID_CSV'],
      [1, 'period_end', 'INVALID_CSV'],
    ]);
    expect((await coop.treasurer.patronageRecords({ coopId: coop.id }))!.edges).toEqual([]);
  });

  it('imports the year’s purchases; the same key and file replay, another file with the key is refused', async () => {
    const rows: string[][] = [];
    for (const [member, months] of [
      [a, 12],
      [b, 12],
      [c, 3],
    ] as const)
      for (let m = 1; m <= months; m++) {
        const p = month(2025, m);
        rows.push([String(member.number), 'PURCHASES', p.from, p.to, '100.00']);
      }
    const key = newKey('csv');
    const csv = csvOf(rows);
    const first = await coop.treasurer.importPatronageCsv({ coopId: coop.id, csv, idempotencyKey: key });
    expect([first.imported, first.recorded, first.replayed, first.rowErrors]).toEqual([true, 27, false, []]);
    const again = await coop.treasurer.importPatronageCsv({ coopId: coop.id, csv, idempotencyKey: key });
    expect([again.recorded, again.replayed]).toEqual([27, true]);
    const other = await coop.treasurer.importPatronageCsv({
      coopId: coop.id,
      csv: csvOf(rows.slice(1)),
      idempotencyKey: key,
    });
    expect(other.userErrors.map((e) => e.code)).toEqual(['IDEMPOTENCY_KEY_REUSED']);
    expect((await coop.treasurer.patronageRecords({ coopId: coop.id, first: 100 }))!.edges).toHaveLength(27);
  });

  it('counts only the days of membership, reports the rest, and pays a former member all in cash', async () => {
    const { preview, userErrors } = await coop.treasurer.previewPatronageAllocation({
      coopId: coop.id,
      fiscalYear: 2025,
      surplus: '1111.11',
      allocatedOn: '2026-01-20',
    });
    expect(userErrors).toEqual([]);
    expect(preview).toMatchObject({
      surplus: '1111.11',
      surplusSource: 'GIVEN',
      reserve: '111.11',
      memberPool: '1000.00',
    });
    expect(
      preview!.allocations.edges.map(({ node: n }) => [
        n.memberNumber,
        n.patronage[0]!.counted,
        n.patronage[0]!.excluded,
        n.former,
        n.allocation,
        n.cash,
        n.retained,
      ]),
    ).toEqual([
      [a.number, '1200.00', '0.00', false, '585.83', '117.17', '468.66'],
      [b.number, '600.00', '600.00', false, '292.91', '58.59', '234.32'],
      [c.number, '248.39', '51.61', true, '121.26', '121.26', '0.00'],
    ]);
    // Too many decimals in the surplus is refused, never rounded.
    const fine = await coop.treasurer.previewPatronageAllocation({
      coopId: coop.id,
      fiscalYear: 2025,
      surplus: '1111.111',
    });
    expect(fine.userErrors.map((e) => [e.code, e.field])).toEqual([['INVALID_AMOUNT', 'surplus']]);
  });

  it('commits: the pools entry and the members entry, balanced, and the notice reports excluded days', async () => {
    const committed = await coop.treasurer.commitPatronageAllocation({
      coopId: coop.id,
      fiscalYear: 2025,
      surplus: '1111.11',
      allocatedOn: '2026-01-20',
      idempotencyKey: newKey('run'),
    });
    expect(committed.userErrors).toEqual([]);
    const runId = committed.run!.id;
    const expected: [string, string, string][][] = [
      [
        ['3900', 'DEBIT', '111.11'],
        ['3300', 'CREDIT', '111.11'],
      ],
      [
        ['3900', 'DEBIT', '1000.00'],
        ['2300', 'CREDIT', '297.02'],
        [a.internalCapitalCode, 'CREDIT', '468.66'],
        [b.internalCapitalCode, 'CREDIT', '234.32'],
      ],
    ];
    expect(await runEntryLines(coop.treasurer, runId)).toEqual(expected);
    for (const lines of expected) book.post(lines as [string, 'DEBIT' | 'CREDIT', string][]);
    await book.check('after the run');
    const notice = await coop.treasurer.patronageNotice({ runId, membershipId: c.id });
    expect(notice!.html).toContain(
      '248.39 USD counted; 51.61 USD recorded outside your membership, not counted',
    );
    expect(notice!.html).toContain('Paid in cash</th><td>121.26 USD');
    expect(await coop.treasurer.verifyPatronageRun({ id: runId })).toMatchObject({
      inputsHashMatches: true,
      figuresMatch: true,
      recordsUnchanged: true,
    });
    // A record added to the year afterwards (C's April, after they left): the run stands as
    // committed and still recomputes to its cents, but its inputs no longer match the records.
    const late = await coop.treasurer.recordPatronage({
      coopId: coop.id,
      idempotencyKey: newKey('late'),
      records: [
        {
          membershipId: c.id,
          measure: 'PURCHASES',
          periodStart: '2025-04-01',
          periodEnd: '2025-04-30',
          quantity: '5.00',
        },
      ],
    });
    expect(late.userErrors).toEqual([]);
    expect(await coop.treasurer.verifyPatronageRun({ id: runId })).toMatchObject({
      inputsHashMatches: true,
      figuresMatch: true,
      recordsUnchanged: false,
    });
  });
});
