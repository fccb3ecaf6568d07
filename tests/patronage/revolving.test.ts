/**
 * Retained allocations over the years (issue 13), through HTTP, the SDK and PostgreSQL: three
 * allocation years, a departing member whose retained allocations are kept until they revolve
 * (KEEP_UNTIL_REVOLVED), a revolving redemption FIFO across the three years with a cap, a loss
 * year written off the oldest retained allocations and carried to the next allocation, and the
 * 1099-PATR box 5 of non-qualified redemptions.
 *
 * Policy: hours only, no reserve, 20% cash, NON_QUALIFIED notices, 1-year revolving period.
 * A and B work 100 hours in each of 2021-2023 (equal shares):
 *   FY2021 surplus 1,000.00 -> 500.00 each: cash 100.00, retained 400.00.
 *   FY2022 surplus   600.00 -> 300.00 each: cash  60.00, retained 240.00.
 *   FY2023 surplus   200.00 -> 100.00 each: cash  20.00, retained  80.00.
 * B leaves on 2024-06-30: their 720.00 of retained allocations stays on 3100-B (KEEP_UNTIL_REVOLVED),
 *   so the leaving posts nothing (no buy-in, nothing else to redeem).
 * Redemption as of 2025-01-15, cap 1,000.00 (every year has revolved: FY2023 on 2024-12-31):
 *   FY2021 whole: 800.00 (400.00 each); 200.00 left for FY2022's 480.00: pro rata 100.00 each;
 *   FY2023 nothing. Dr 3100-A 500.00, Dr 3100-B 500.00 / Cr 1010 1,000.00.
 * FY2024 loss 300.00 (A alone worked): the reserve is empty, so A is charged 300.00; written off
 *   A's outstanding FY2022 140.00, then FY2023 80.00; 80.00 carried. Dr 3100-A 300.00 / Cr 3900.
 * FY2025 surplus 100.00 (A alone): cash 20.00, retained 80.00, all written off by the carried 80.00.
 * Redemption as of 2026-06-01, no cap: only B's FY2022 140.00 and FY2023 80.00 are outstanding
 *   (FY2025's revolves on 2026-12-31): Dr 3100-B 220.00 / Cr 1010 220.00; B's account is then 0.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LedgerClient } from '../../client-sdk/index.js';
import { type CoopFixture, ExpectedBook } from '../helpers/coop.js';
import { ledgerClient, newKey } from '../helpers/ledger.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { activeMember, type Member, patronageCoop, record, setPolicy } from './helpers.js';

let server: TestServer;
let admin: LedgerClient;
let coop: CoopFixture;
let book: ExpectedBook;
let a: Member;
let b: Member;
const runs: Record<number, string> = {};

beforeAll(async () => {
  server = await startTestServer({ config: { rateLimitPerSecond: 0 } });
  admin = ledgerClient(server.url);
  const setup = await patronageCoop(server.url, admin);
  coop = setup.coop;
  book = new ExpectedBook(coop.treasurer, coop.bookId);
  a = await activeMember(coop, setup.classId, 'Abe Revolver', '2021-01-01');
  b = await activeMember(coop, setup.classId, 'Bea Revolver', '2021-01-01');
  await setPolicy(coop, {
    measures: [{ code: 'HOURS', kind: 'HOURS', unit: { code: 'HOUR', scale: 0 }, weight: '1' }],
    reservePercent: '0',
    cashPercent: '20',
    noticeType: 'NON_QUALIFIED',
    revolvingYears: 1,
    departingRule: 'KEEP_UNTIL_REVOLVED',
  });
  const accounts = await coop.treasurer.accounts({ bookId: coop.bookId, first: 100 });
  for (const e of accounts!.edges) coop.chart[e.node.code] = e.node.id;
});

afterAll(async () => {
  await server?.stop();
});

async function commit(fiscalYear: number, surplus: string, allocatedOn: string) {
  const committed = await coop.treasurer.commitPatronageAllocation({
    coopId: coop.id,
    fiscalYear,
    surplus,
    allocatedOn,
    idempotencyKey: newKey(`run-${fiscalYear}`),
  });
  expect(committed.userErrors).toEqual([]);
  runs[fiscalYear] = committed.run!.id;
  return committed.run!;
}

/** Every allocation of a member, by fiscal year: [year, retained, redeemed, writtenOff, outstanding]. */
async function allocationsOf(member: Member) {
  const out: [number, string, string, string, string][] = [];
  for (const year of Object.keys(runs).map(Number).sort()) {
    const run = await coop.treasurer.patronageRun({ id: runs[year]!, first: 100 });
    const line = run!.allocations.edges.find((e) => e.node.memberNumber === member.number)?.node;
    if (line) out.push([year, line.retained, line.redeemed, line.writtenOff, line.outstanding]);
  }
  return out;
}

describe('retained allocations revolve, oldest year first', () => {
  it('allocates three years; a departing member keeps their retained allocations on their account', async () => {
    for (const year of [2021, 2022, 2023])
      await record(coop, [
        { member: a, measure: 'HOURS', from: `${year}-01-01`, to: `${year}-12-31`, quantity: '100' },
        { member: b, measure: 'HOURS', from: `${year}-01-01`, to: `${year}-12-31`, quantity: '100' },
      ]);
    for (const [year, surplus, cash, retained] of [
      [2021, '1000.00', '100.00', '400.00'],
      [2022, '600.00', '60.00', '240.00'],
      [2023, '200.00', '20.00', '80.00'],
    ] as const) {
      const run = await commit(year, surplus, `${year + 1}-02-01`);
      expect([run.memberPool, run.cashTotal, run.noticeType]).toEqual([
        surplus,
        (Number(cash) * 2).toFixed(2),
        'NON_QUALIFIED',
      ]);
      book.post([
        ['3900', 'DEBIT', surplus],
        ['2300', 'CREDIT', (Number(cash) * 2).toFixed(2)],
        [a.internalCapitalCode, 'CREDIT', retained],
        [b.internalCapitalCode, 'CREDIT', retained],
      ]);
    }
    await book.check('three years allocated');

    const left = await coop.treasurer.changeMembershipState({
      membershipId: b.id,
      toState: 'WITHDRAWN',
      effectiveOn: '2024-06-30',
      idempotencyKey: newKey('leave'),
    });
    expect(left.userErrors).toEqual([]);
    expect(left.entry).toBeNull();
    expect((await coop.treasurer.membership({ id: b.id }))!.internalCapital).toBe('720.00');
    await book.check('after B left');
  });

  it('redeems FIFO across the three years up to the cap, the last year reached pro rata', async () => {
    const key = newKey('redeem');
    const input = {
      coopId: coop.id,
      asOf: '2025-01-15',
      cap: '1000.00',
      method: 'BANK' as const,
      idempotencyKey: key,
    };
    const redeemed = await coop.treasurer.redeemRetainedPatronage(input);
    expect(redeemed.userErrors).toEqual([]);
    expect(redeemed.payout!.total).toBe('1000.00');
    expect(redeemed.payout!.payments.map((p) => [p.memberNumber, p.fiscalYear, p.amount])).toEqual([
      [a.number, 2021, '400.00'],
      [a.number, 2022, '100.00'],
      [b.number, 2021, '400.00'],
      [b.number, 2022, '100.00'],
    ]);
    book.post([
      [a.internalCapitalCode, 'DEBIT', '500.00'],
      [b.internalCapitalCode, 'DEBIT', '500.00'],
      ['1010', 'CREDIT', '1000.00'],
    ]);
    const after = await book.check('after the redemption');
    const replay = await coop.treasurer.redeemRetainedPatronage(input);
    expect([replay.replayed, replay.payout!.id]).toEqual([true, redeemed.payout!.id]);
    const reused = await coop.treasurer.redeemRetainedPatronage({ ...input, cap: '999.00' });
    expect(reused.userErrors.map((e) => e.code)).toEqual(['IDEMPOTENCY_KEY_REUSED']);
    const tooFine = await coop.treasurer.redeemRetainedPatronage({
      ...input,
      cap: '1.005',
      idempotencyKey: newKey('r'),
    });
    expect(tooFine.userErrors.map((e) => [e.code, e.field])).toEqual([['INVALID_AMOUNT', 'cap']]);
    const early = await coop.treasurer.redeemRetainedPatronage({
      ...input,
      asOf: '2022-12-30',
      idempotencyKey: newKey('r'),
    });
    expect(early.userErrors.map((e) => e.code)).toEqual(['NOTHING_TO_PAY']);
    expect(await book.check('after the refusals')).toBe(after);
    expect(await allocationsOf(a)).toEqual([
      [2021, '400.00', '400.00', '0.00', '0.00'],
      [2022, '240.00', '100.00', '0.00', '140.00'],
      [2023, '80.00', '0.00', '0.00', '80.00'],
    ]);
    const settled = await coop.treasurer.reversePatronageAllocation({
      runId: runs[2021]!,
      idempotencyKey: newKey('rev'),
    });
    expect(settled.userErrors.map((e) => e.code)).toEqual(['PATRONAGE_RUN_SETTLED']);
  });

  it('reports the non-qualified redemptions in box 5 of the year they were paid', async () => {
    const { forms } = await coop.treasurer.patronageTaxForms({ coopId: coop.id, taxYear: 2025 });
    expect(forms!.rows.map((r) => [r.name, r.box1, r.box5])).toEqual([
      ['Abe Revolver', '0.00', '500.00'],
      ['Bea Revolver', '0.00', '500.00'],
    ]);
    // Non-qualified notices are not income when issued: nothing for 2022.
    expect((await coop.treasurer.patronageTaxForms({ coopId: coop.id, taxYear: 2022 })).forms!.rows).toEqual(
      [],
    );
  });

  it('charges a loss year to the member, written off their oldest retained allocations, and carries the rest', async () => {
    await record(coop, [
      { member: a, measure: 'HOURS', from: '2024-01-01', to: '2024-12-31', quantity: '100' },
    ]);
    const run = await commit(2024, '-300.00', '2025-02-01');
    expect([run.kind, run.reserve, run.memberPool]).toEqual(['LOSS', '0.00', '-300.00']);
    book.post([
      [a.internalCapitalCode, 'DEBIT', '300.00'],
      ['3900', 'CREDIT', '300.00'],
    ]);
    await book.check('after the loss');
    expect(await allocationsOf(a)).toEqual([
      [2021, '400.00', '400.00', '0.00', '0.00'],
      [2022, '240.00', '100.00', '140.00', '0.00'],
      [2023, '80.00', '0.00', '80.00', '0.00'],
      [2024, '-300.00', '0.00', '0.00', '0.00'],
    ]);
    const notice = await coop.treasurer.patronageNotice({ runId: runs[2024]!, membershipId: a.id });
    expect(notice!.html).toContain('Your share of the loss</th><td>300.00 USD');

    await record(coop, [
      { member: a, measure: 'HOURS', from: '2025-01-01', to: '2025-12-31', quantity: '100' },
    ]);
    await commit(2025, '100.00', '2026-02-01');
    book.post([
      ['3900', 'DEBIT', '100.00'],
      ['2300', 'CREDIT', '20.00'],
      [a.internalCapitalCode, 'CREDIT', '80.00'],
    ]);
    await book.check('after 2025');
    expect((await allocationsOf(a)).at(-1)).toEqual([2025, '80.00', '0.00', '80.00', '0.00']);
  });

  it("pays a former member's retained allocations when their years revolve", async () => {
    const redeemed = await coop.treasurer.redeemRetainedPatronage({
      coopId: coop.id,
      asOf: '2026-06-01',
      method: 'BANK',
      idempotencyKey: newKey('redeem'),
    });
    expect(redeemed.userErrors).toEqual([]);
    expect(redeemed.payout!.payments.map((p) => [p.memberNumber, p.fiscalYear, p.amount])).toEqual([
      [b.number, 2022, '140.00'],
      [b.number, 2023, '80.00'],
    ]);
    book.post([
      [b.internalCapitalCode, 'DEBIT', '220.00'],
      ['1010', 'CREDIT', '220.00'],
    ]);
    await book.check('after the second redemption');
    expect((await coop.treasurer.membership({ id: b.id }))!.internalCapital).toBe('0.00');
    const nothing = await coop.treasurer.redeemRetainedPatronage({
      coopId: coop.id,
      asOf: '2026-06-02',
      method: 'BANK',
      idempotencyKey: newKey('redeem'),
    });
    expect(nothing.userErrors.map((e) => e.code)).toEqual(['NOTHING_TO_PAY']);
  });
});
