/**
 * A worker co-op's patronage year through real HTTP, the SDK and real PostgreSQL (issue 13):
 * policy (hours and wages 50/50, 30% reserve, 10% community fund), the surplus from the book,
 * preview (nothing posted), commit (balanced entries checked line by line and against the trial
 * balance), replay and key reuse, verification, reverse and rerun to the same cents, the cash
 * payout, the notice as HTML and PDF (its text extracted), 1099-PATR data, and who may see what.
 *
 * The figures, by hand:
 *   Revenue 25,000.00 - expenses 15,000.00 = surplus 10,000.00.
 *   Reserve 30% = 3,000.00; community 10% = 1,000.00; member pool 60% = 6,000.00.
 *   Hours A 1000, B 600, C 400 (of 2000); wages A 30,000, B 30,000, C 40,000 (of 100,000).
 *   share A = .5 * .5 + .5 * .3 = .40 -> 2,400.00; B = .5 * .3 + .5 * .3 = .30 -> 1,800.00;
 *   C = .5 * .2 + .5 * .4 = .30 -> 1,800.00. Cash 20%: 480.00 / 360.00 / 360.00 (total 1,200.00);
 *   retained 1,920.00 / 1,440.00 / 1,440.00.
 */
import { extractText, getDocumentProxy } from 'unpdf';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LedgerClient } from '../../client-sdk/index.js';
import { type CoopFixture, ExpectedBook, memberToken, setupCoop } from '../helpers/coop.js';
import { ledgerClient, newKey } from '../helpers/ledger.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { issueToken } from '../helpers/tokens.js';
import {
  activeMember,
  allocationsOf,
  type Member,
  patronageCoop,
  postResult,
  record,
  runEntryLines,
  setPolicy,
} from './helpers.js';

let server: TestServer;
let admin: LedgerClient;
let coop: CoopFixture;
let book: ExpectedBook;
let a: Member;
let b: Member;
let c: Member;
let runId: string;
let inputsHash: string;
const ALLOCATED_ON = '2026-02-15';
const YEAR = { from: '2025-01-01', to: '2025-12-31' };

beforeAll(async () => {
  server = await startTestServer({ config: { rateLimitPerSecond: 0 } });
  admin = ledgerClient(server.url);
  const setup = await patronageCoop(server.url, admin, { fiscalYearStart: '01-01' });
  coop = setup.coop;
  book = new ExpectedBook(coop.treasurer, coop.bookId);
  a = await activeMember(coop, setup.classId, 'Ada Worker', '2024-06-01');
  b = await activeMember(coop, setup.classId, 'Ben Worker', '2024-06-01');
  c = await activeMember(coop, setup.classId, 'Cleo Worker', '2024-06-01');
  await postResult(coop, '2025-06-30', '25000.00', '15000.00');
  book.post([
    ['4000', 'CREDIT', '25000.00'],
    ['1010', 'DEBIT', '25000.00'],
  ]);
  book.post([
    ['5000', 'DEBIT', '15000.00'],
    ['1010', 'CREDIT', '15000.00'],
  ]);
});

afterAll(async () => {
  await server?.stop();
});

describe('a worker co-op allocates its 2025 surplus', () => {
  it('refuses a run before there is a policy, and a policy with bad terms, naming every problem', async () => {
    const none = await coop.treasurer.previewPatronageAllocation({ coopId: coop.id, fiscalYear: 2025 });
    expect(none.preview).toBeNull();
    expect(none.userErrors.map((e) => e.code)).toEqual(['NO_PATRONAGE_POLICY']);
    const bad = await coop.treasurer.setPatronagePolicy({
      coopId: coop.id,
      measures: [{ code: 'HOURS', kind: 'HOURS', unit: { code: 'HOUR', scale: 2 }, weight: '0.5' }],
      reservePercent: '80',
      communityPercent: '30',
      cashPercent: '10',
      revolvingYears: 5,
      minimumAllocation: '1.001',
    });
    expect(bad.policy).toBeNull();
    expect(bad.userErrors.map((e) => [e.code, e.field])).toEqual([
      ['INVALID_INPUT', 'communityPercent'],
      ['INVALID_INPUT', 'cashPercent'],
      ['INVALID_AMOUNT', 'minimumAllocation'],
    ]);
    expect(await coop.treasurer.patronagePolicy({ coopId: coop.id })).toBeNull();
  });

  it('sets the policy: version 1, and the accounts 2300, 2350 and 3900 appear in the chart', async () => {
    const version = await setPolicy(coop, {
      measures: [
        { code: 'HOURS', kind: 'HOURS', unit: { code: 'HOUR', scale: 2 }, weight: '0.5' },
        { code: 'WAGES', kind: 'WAGES', unit: { code: 'USD', scale: 2 }, weight: '0.5' },
      ],
      reservePercent: '30',
      communityPercent: '10',
      revolvingYears: 5,
    });
    expect(version).toBe(1);
    const policy = await coop.treasurer.patronagePolicy({ coopId: coop.id });
    expect(policy).toMatchObject({
      version: 1,
      cashPercent: '20',
      noticeType: 'QUALIFIED',
      consentByBylaw: true,
    });
    const accounts = await coop.treasurer.accounts({ bookId: coop.bookId, first: 100 });
    const codes = accounts!.edges.map((e) => [e.node.code, e.node.type]);
    expect(codes).toEqual(
      expect.arrayContaining([
        ['2300', 'LIABILITY'],
        ['2350', 'LIABILITY'],
        ['3900', 'EQUITY'],
      ]),
    );
    for (const e of accounts!.edges) coop.chart[e.node.code] = e.node.id;
  });

  it('records hours and wages for the year', async () => {
    await record(coop, [
      { member: a, measure: 'HOURS', ...YEAR, quantity: '1000.00' },
      { member: b, measure: 'HOURS', ...YEAR, quantity: '600.00' },
      { member: c, measure: 'HOURS', ...YEAR, quantity: '400.00' },
      { member: a, measure: 'WAGES', ...YEAR, quantity: '30000.00' },
      { member: b, measure: 'WAGES', ...YEAR, quantity: '30000.00' },
      { member: c, measure: 'WAGES', ...YEAR, quantity: '40000.00' },
    ]);
    // An overlapping period, an unknown measure and an extra decimal: all named, nothing recorded.
    const refused = await coop.treasurer.recordPatronage({
      coopId: coop.id,
      idempotencyKey: newKey('records'),
      records: [
        {
          membershipId: a.id,
          measure: 'HOURS',
          periodStart: '2025-03-01',
          periodEnd: '2025-03-31',
          quantity: '1.00',
        },
        {
          membershipId: b.id,
          measure: 'SMILES',
          periodStart: '2025-03-01',
          periodEnd: '2025-03-31',
          quantity: '1',
        },
        {
          membershipId: c.id,
          measure: 'WAGES',
          periodStart: '2026-01-01',
          periodEnd: '2026-01-31',
          quantity: '1.001',
        },
      ],
    });
    expect(refused.recorded).toBe(0);
    expect(refused.userErrors.map((e) => [e.code, e.field])).toEqual([
      ['UNKNOWN_MEASURE', 'records[1].measure'],
      ['INVALID_AMOUNT', 'records[2].quantity'],
    ]);
    const overlap = await coop.treasurer.recordPatronage({
      coopId: coop.id,
      idempotencyKey: newKey('records'),
      records: [
        {
          membershipId: a.id,
          measure: 'HOURS',
          periodStart: '2025-03-01',
          periodEnd: '2025-03-31',
          quantity: '1.00',
        },
      ],
    });
    expect(overlap.userErrors.map((e) => [e.code, e.field])).toEqual([
      ['PATRONAGE_PERIOD_OVERLAP', 'records[0].periodStart'],
    ]);
    const stored = await coop.treasurer.patronageRecords({ coopId: coop.id, first: 100 });
    expect(stored!.edges).toHaveLength(6);
  });

  it('previews the run from the book without posting anything', async () => {
    const before = await book.check('before the preview');
    const { preview, userErrors } = await coop.treasurer.previewPatronageAllocation({
      coopId: coop.id,
      fiscalYear: 2025,
      allocatedOn: ALLOCATED_ON,
    });
    expect(userErrors).toEqual([]);
    expect(preview).toMatchObject({
      surplus: '10000.00',
      surplusSource: 'BOOK',
      reserve: '3000.00',
      community: '1000.00',
      memberPool: '6000.00',
      cashTotal: '1200.00',
      retainedTotal: '4800.00',
      periodStart: '2025-01-01',
      periodEnd: '2025-12-31',
    });
    expect(
      preview!.allocations.edges.map((e) => [
        e.node.memberNumber,
        e.node.share,
        e.node.allocation,
        e.node.cash,
        e.node.retained,
      ]),
    ).toEqual([
      [a.number, '0.4000000000', '2400.00', '480.00', '1920.00'],
      [b.number, '0.3000000000', '1800.00', '360.00', '1440.00'],
      [c.number, '0.3000000000', '1800.00', '360.00', '1440.00'],
    ]);
    expect(await book.check('after the preview')).toBe(before);
    inputsHash = preview!.inputsHash;
  });

  it('commits the run as balanced entries; a replay posts nothing; a reused key and a second run are refused', async () => {
    const key = newKey('run');
    const input = { coopId: coop.id, fiscalYear: 2025, allocatedOn: ALLOCATED_ON, idempotencyKey: key };
    const committed = await coop.treasurer.commitPatronageAllocation(input);
    expect(committed.userErrors).toEqual([]);
    expect(committed.replayed).toBe(false);
    const run = committed.run!;
    runId = run.id;
    expect(run).toMatchObject({
      status: 'COMMITTED',
      surplus: '10000.00',
      memberCount: 3,
      policyVersion: 1,
      inputsHash,
    });
    expect(await runEntryLines(coop.treasurer, runId)).toEqual([
      [
        ['3900', 'DEBIT', '4000.00'],
        ['3300', 'CREDIT', '3000.00'],
        ['2350', 'CREDIT', '1000.00'],
      ],
      [
        ['3900', 'DEBIT', '6000.00'],
        ['2300', 'CREDIT', '1200.00'],
        [a.internalCapitalCode, 'CREDIT', '1920.00'],
        [b.internalCapitalCode, 'CREDIT', '1440.00'],
        [c.internalCapitalCode, 'CREDIT', '1440.00'],
      ],
    ]);
    book.post([
      ['3900', 'DEBIT', '4000.00'],
      ['3300', 'CREDIT', '3000.00'],
      ['2350', 'CREDIT', '1000.00'],
    ]);
    book.post([
      ['3900', 'DEBIT', '6000.00'],
      ['2300', 'CREDIT', '1200.00'],
      [a.internalCapitalCode, 'CREDIT', '1920.00'],
      [b.internalCapitalCode, 'CREDIT', '1440.00'],
      [c.internalCapitalCode, 'CREDIT', '1440.00'],
    ]);
    const after = await book.check('after the commit');

    const replay = await coop.treasurer.commitPatronageAllocation(input);
    expect(replay.replayed).toBe(true);
    expect(replay.run!.id).toBe(runId);
    expect(await book.check('after the replay')).toBe(after);

    const reused = await coop.treasurer.commitPatronageAllocation({ ...input, allocatedOn: '2026-02-16' });
    expect(reused.userErrors.map((e) => e.code)).toEqual(['IDEMPOTENCY_KEY_REUSED']);
    const second = await coop.treasurer.commitPatronageAllocation({
      ...input,
      idempotencyKey: newKey('run'),
    });
    expect(second.userErrors.map((e) => e.code)).toEqual(['PATRONAGE_RUN_EXISTS']);
    const early = await coop.treasurer.commitPatronageAllocation({
      ...input,
      allocatedOn: '2025-12-31',
      idempotencyKey: newKey('run'),
    });
    expect(early.userErrors.map((e) => [e.code, e.field])).toEqual([['INVALID_DATE', 'allocatedOn']]);
    expect(await book.check('after the refusals')).toBe(after);

    const verified = await coop.treasurer.verifyPatronageRun({ id: runId });
    expect(verified).toMatchObject({
      inputsHashMatches: true,
      figuresMatch: true,
      recordsUnchanged: true,
      mismatches: [],
    });
  });

  it('reverses the run with linked entries, then runs the year again to the same cents', async () => {
    const before = await allocationsOf(coop.treasurer, runId);
    const reversed = await coop.treasurer.reversePatronageAllocation({
      runId,
      idempotencyKey: newKey('reverse'),
    });
    expect(reversed.userErrors).toEqual([]);
    expect(reversed.run!.status).toBe('REVERSED');
    const entries = (await coop.treasurer.patronageRun({ id: runId }))!.entries;
    for (const e of entries) {
      const entry = await coop.treasurer.journalEntry({ id: e.id });
      expect(entry!.reversedBy).not.toBeNull();
    }
    book.post([
      ['3900', 'CREDIT', '4000.00'],
      ['3300', 'DEBIT', '3000.00'],
      ['2350', 'DEBIT', '1000.00'],
    ]);
    book.post([
      ['3900', 'CREDIT', '6000.00'],
      ['2300', 'DEBIT', '1200.00'],
      [a.internalCapitalCode, 'DEBIT', '1920.00'],
      [b.internalCapitalCode, 'DEBIT', '1440.00'],
      [c.internalCapitalCode, 'DEBIT', '1440.00'],
    ]);
    await book.check('after the reversal');
    const again = await coop.treasurer.reversePatronageAllocation({
      runId,
      idempotencyKey: newKey('reverse'),
    });
    expect(again.userErrors.map((e) => e.code)).toEqual(['ALREADY_REVERSED']);

    const rerun = await coop.treasurer.commitPatronageAllocation({
      coopId: coop.id,
      fiscalYear: 2025,
      allocatedOn: ALLOCATED_ON,
      idempotencyKey: newKey('rerun'),
    });
    expect(rerun.userErrors).toEqual([]);
    expect(rerun.run!.inputsHash).toBe(inputsHash);
    runId = rerun.run!.id;
    expect(await allocationsOf(coop.treasurer, runId)).toEqual(before);
    book.post([
      ['3900', 'DEBIT', '4000.00'],
      ['3300', 'CREDIT', '3000.00'],
      ['2350', 'CREDIT', '1000.00'],
    ]);
    book.post([
      ['3900', 'DEBIT', '6000.00'],
      ['2300', 'CREDIT', '1200.00'],
      [a.internalCapitalCode, 'CREDIT', '1920.00'],
      [b.internalCapitalCode, 'CREDIT', '1440.00'],
      [c.internalCapitalCode, 'CREDIT', '1440.00'],
    ]);
    await book.check('after the rerun');
  });

  it('pays the cash parts once, clearing patronage payable; then the run can no longer be reversed', async () => {
    const key = newKey('pay');
    const paid = await coop.treasurer.payPatronageCash({
      runId,
      paidOn: '2026-03-01',
      method: 'BANK',
      idempotencyKey: key,
    });
    expect(paid.userErrors).toEqual([]);
    expect(paid.payout!.total).toBe('1200.00');
    expect(paid.payout!.payments.map((p) => [p.memberNumber, p.amount])).toEqual([
      [a.number, '480.00'],
      [b.number, '360.00'],
      [c.number, '360.00'],
    ]);
    book.post([
      ['2300', 'DEBIT', '1200.00'],
      ['1010', 'CREDIT', '1200.00'],
    ]);
    const after = await book.check('after the payout');
    const replay = await coop.treasurer.payPatronageCash({
      runId,
      paidOn: '2026-03-01',
      method: 'BANK',
      idempotencyKey: key,
    });
    expect(replay.replayed).toBe(true);
    const twice = await coop.treasurer.payPatronageCash({
      runId,
      paidOn: '2026-03-01',
      method: 'BANK',
      idempotencyKey: newKey('pay'),
    });
    expect(twice.userErrors.map((e) => e.code)).toEqual(['ALREADY_PAID']);
    const reverse = await coop.treasurer.reversePatronageAllocation({
      runId,
      idempotencyKey: newKey('reverse'),
    });
    expect(reverse.userErrors.map((e) => e.code)).toEqual(['PATRONAGE_RUN_SETTLED']);
    expect(await book.check('after the refusals')).toBe(after);
    expect((await allocationsOf(coop.treasurer, runId)).map(([n]) => n)).toEqual([
      a.number,
      b.number,
      c.number,
    ]);
  });

  it("gives each member a notice as HTML and PDF whose text holds the member's figures", async () => {
    const notice = await coop.treasurer.patronageNotice({ runId, membershipId: a.id });
    expect(notice!.fileName).toBe(`patronage-notice-2025-member-${a.number}.pdf`);
    expect(notice!.html).toContain('2400.00 USD');
    const pdf = await coop.treasurer.patronageNoticePdf({ runId, membershipId: a.id });
    expect(Buffer.from(pdf!.subarray(0, 5)).toString('latin1')).toBe('%PDF-');
    const { text } = await extractText(await getDocumentProxy(pdf!), { mergePages: true });
    const flat = text.replace(/\s+/g, ' ');
    for (const expected of [
      'Written notice of allocation',
      'Ada Worker',
      `member number ${a.number}`,
      'Your patronage allocation: 2400.00 USD',
      'Paid in cash: 480.00 USD',
      'Retained in your internal capital account: 1920.00 USD',
      'Written notice: QUALIFIED',
      "given by the co-op's bylaws",
      'within 90 days of the notice date, that is until 2026-05-16',
      'Patronage: HOURS: 1000.00 HOUR counted',
      'on or after 2030-12-31',
    ])
      expect(flat).toContain(expected);
    expect(flat).not.toContain('Ben Worker');
  });

  it('writes 1099-PATR data: box 1 = cash paid + qualified notices of the year', async () => {
    const { forms, userErrors } = await coop.treasurer.patronageTaxForms({ coopId: coop.id, taxYear: 2026 });
    expect(userErrors).toEqual([]);
    expect(forms!.rows.map((r) => [r.name, r.memberNumbers, r.box1, r.box5])).toEqual([
      ['Ada Worker', [a.number], '2400.00', '0.00'],
      ['Ben Worker', [b.number], '1800.00', '0.00'],
      ['Cleo Worker', [c.number], '1800.00', '0.00'],
    ]);
    expect(forms!.csv.split('\r\n')[1]).toBe(
      `2026,${coop.name},Ada Worker,,,${a.number},2400.00,0.00,0.00,0.00,0.00`,
    );
    const empty = await coop.treasurer.patronageTaxForms({ coopId: coop.id, taxYear: 2025 });
    expect(empty.forms!.rows).toEqual([]);
  });
});

describe('a member leaves after the allocation (PAY_AT_ONCE, the default departing rule)', () => {
  it('the leaving entry redeems their retained allocation with their capital, recorded against the allocation', async () => {
    const left = await coop.treasurer.changeMembershipState({
      membershipId: c.id,
      toState: 'WITHDRAWN',
      effectiveOn: '2026-03-10',
      idempotencyKey: newKey('leave'),
    });
    expect(left.userErrors).toEqual([]);
    // REPAY_NOW by bank: the whole internal capital (the 1,440.00 retained) is paid out.
    expect(left.entry!.lines.map((l) => [l.account.code, l.side, l.amount])).toEqual([
      [c.internalCapitalCode, 'DEBIT', '1440.00'],
      ['1010', 'CREDIT', '1440.00'],
    ]);
    book.post([
      [c.internalCapitalCode, 'DEBIT', '1440.00'],
      ['1010', 'CREDIT', '1440.00'],
    ]);
    await book.check('after C left');
    const run = await coop.treasurer.patronageRun({ id: runId, first: 100 });
    const mine = run!.allocations.edges.find((e) => e.node.memberNumber === c.number)!.node;
    expect([mine.retained, mine.redeemed, mine.outstanding]).toEqual(['1440.00', '1440.00', '0.00']);
    // A qualified notice was income when issued: its redemption is not reported again (box 5 stays 0).
    const { forms } = await coop.treasurer.patronageTaxForms({ coopId: coop.id, taxYear: 2026 });
    expect(forms!.rows.find((r) => r.name === 'Cleo Worker')).toMatchObject({
      box1: '1800.00',
      box5: '0.00',
    });
  });
});

describe('who may see and do what', () => {
  it('a member reads their own allocation and notice, nothing of other members or the run', async () => {
    const token = await memberToken(admin, a.internalCapitalId);
    const member = ledgerClient(server.url, { token });
    const mine = await member.myPatronageAllocations();
    expect(mine.map((m) => [m.memberNumber, m.fiscalYear, m.allocation, m.cashPaid, m.outstanding])).toEqual([
      [a.number, 2025, '2400.00', '480.00', '1920.00'],
    ]);
    expect(await member.patronageNotice({ runId, membershipId: a.id })).not.toBeNull();
    expect(await member.patronageNotice({ runId, membershipId: b.id })).toBeNull();
    expect(await member.patronageRun({ id: runId })).toBeNull();
    expect(await member.patronagePolicy({ coopId: coop.id })).toBeNull();
    const preview = await member.previewPatronageAllocation({ coopId: coop.id, fiscalYear: 2025 });
    expect([preview.preview, preview.userErrors.map((e) => e.code)]).toEqual([null, ['UNKNOWN_COOP']]);
    const commit = await member.commitPatronageAllocation({
      coopId: coop.id,
      fiscalYear: 2024,
      idempotencyKey: newKey('x'),
    });
    expect(commit.userErrors.map((e) => e.code)).toEqual(['UNKNOWN_COOP']);
  });

  it('an analyst and another co-op’s treasurer see nothing and change nothing; ids answer as unknown', async () => {
    const analyst = ledgerClient(server.url, {
      token: (await issueToken(admin, { grants: [{ role: 'CITY_ANALYST', scope: 'Springfield' }] })).token,
    });
    const other = await setupCoop(server.url, admin);
    const before = await book.check('before outsiders');
    for (const outsider of [analyst, other.treasurer]) {
      expect(await outsider.patronageRun({ id: runId })).toBeNull();
      expect(await outsider.patronageNotice({ runId, membershipId: a.id })).toBeNull();
      expect((await outsider.patronageRuns({ coopId: coop.id })).edges).toEqual([]);
      expect(await outsider.verifyPatronageRun({ id: runId })).toBeNull();
      expect(await outsider.myPatronageAllocations()).toEqual([]);
      const tax = await outsider.patronageTaxForms({ coopId: coop.id, taxYear: 2026 });
      expect(tax.userErrors.map((e) => e.code)).toEqual(['UNKNOWN_COOP']);
      const reversed = await outsider.reversePatronageAllocation({ runId, idempotencyKey: newKey('x') });
      expect(reversed.userErrors.map((e) => e.code)).toEqual(['UNKNOWN_PATRONAGE_RUN']);
      const paid = await outsider.payPatronageCash({
        runId,
        paidOn: '2026-03-02',
        method: 'CASH',
        idempotencyKey: newKey('x'),
      });
      expect(paid.userErrors.map((e) => e.code)).toEqual(['UNKNOWN_PATRONAGE_RUN']);
      const policy = await outsider.setPatronagePolicy({
        coopId: coop.id,
        measures: [{ code: 'HOURS', kind: 'HOURS', unit: { code: 'HOUR', scale: 2 }, weight: '1' }],
        reservePercent: '0',
        revolvingYears: 1,
      });
      expect(policy.userErrors.map((e) => e.code)).toEqual(['UNKNOWN_COOP']);
      const records = await outsider.recordPatronage({
        coopId: coop.id,
        idempotencyKey: newKey('x'),
        records: [
          {
            membershipId: a.id,
            measure: 'HOURS',
            periodStart: '2026-01-01',
            periodEnd: '2026-01-31',
            quantity: '1',
          },
        ],
      });
      expect(records.userErrors.map((e) => e.code)).toEqual(['UNKNOWN_COOP']);
    }
    // Another co-op's treasurer using this co-op's membership in their own co-op's records: unknown member.
    await setPolicy(other, {
      measures: [{ code: 'HOURS', kind: 'HOURS', unit: { code: 'HOUR', scale: 2 }, weight: '1' }],
      reservePercent: '0',
      revolvingYears: 1,
    });
    const foreign = await other.treasurer.recordPatronage({
      coopId: other.id,
      idempotencyKey: newKey('x'),
      records: [
        {
          membershipId: a.id,
          measure: 'HOURS',
          periodStart: '2026-01-01',
          periodEnd: '2026-01-31',
          quantity: '1',
        },
      ],
    });
    expect(foreign.userErrors.map((e) => [e.code, e.field])).toEqual([
      ['UNKNOWN_MEMBERSHIP', 'records[0].membershipId'],
    ]);
    expect(await book.check('after outsiders')).toBe(before);
  });
});
