/**
 * A membership's whole life through real HTTP, the SDK and real PostgreSQL (issue 5): join, pay
 * the buy-in in instalments, become active, leave with the redemption, under both redemption rules
 * (REPAY_NOW by cash or bank; HOLD, then repaid in parts), and share transfers between members.
 *
 * After every step the co-op's book is checked through the API against figures computed by hand
 * here (ExpectedBook: every account's debits and credits, the trial balance per unit, the chain and
 * its entry count), and the member's figures (paid in, outstanding, schedule, statement, history)
 * against hand-computed values. Refused requests (illegal transitions, overpayments, reused keys)
 * must leave the trial balance exactly as it was; replays must post nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LedgerClient } from '../../client-sdk/index.js';
import {
  addDays,
  addMonths,
  type CoopFixture,
  changeState,
  createClass,
  daysAgo,
  ExpectedBook,
  join,
  linesOf,
  listMemberships,
  pay,
  registerParty,
  setupCoop,
  today,
} from '../helpers/coop.js';
import { ledgerClient, newKey } from '../helpers/ledger.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
let admin: LedgerClient;

beforeAll(async () => {
  server = await startTestServer({ config: { rateLimitPerSecond: 0 } });
  admin = ledgerClient(server.url);
});

afterAll(async () => {
  await server?.stop();
});

type Status = 'PAID' | 'PARTLY_PAID' | 'DUE' | 'OVERDUE' | 'UPCOMING' | 'CANCELLED';

async function membershipOf(fixture: CoopFixture, id: string) {
  const m = await fixture.treasurer.membership({ id });
  expect(m).not.toBeNull();
  return m!;
}

async function historyOf(fixture: CoopFixture, id: string) {
  return (await membershipOf(fixture, id)).history.map((e) => [
    e.fromState,
    e.toState,
    e.effectiveOn,
    e.recordedBy,
  ]);
}

describe('REPAY_NOW: join, instalments, active, leave paid out in cash; a second member paid out by bank', () => {
  let coop: CoopFixture;
  let book: ExpectedBook;
  let classId: string;
  let aliceId: string;
  let aliceJoinKey: string;
  let alicePartyId: string;
  const A = daysAgo(200);
  const due = [A, addMonths(A, 1), addMonths(A, 2)];
  // 1000.00 in 3 instalments: 333.33 each and the cent left over to the first.
  const instalments = ['333.34', '333.33', '333.33'];
  const by = () => coop.treasurerPrincipalId;

  const payLines = (
    member: string,
    amount: string,
    method: 'CASH' | 'BANK',
  ): [string, 'DEBIT' | 'CREDIT', string][] => [
    [method === 'CASH' ? '1000' : '1010', 'DEBIT', amount],
    [`3000-${member}`, 'CREDIT', amount],
    [`3010-${member}`, 'DEBIT', amount],
    [`1150-${member}`, 'CREDIT', amount],
  ];

  async function expectMoney(
    id: string,
    figures: { paidIn: string; outstanding: string; shareCapital: string },
    schedule: [string, Status][],
  ) {
    const m = await membershipOf(coop, id);
    expect({ paidIn: m.paidIn, outstanding: m.outstanding, shareCapital: m.shareCapital }).toEqual(figures);
    expect(m.schedule.map((i) => [i.number, i.dueOn, i.amount, i.paid, i.status])).toEqual(
      schedule.map(([paid, status], i) => [i + 1, due[i], instalments[i], paid, status]),
    );
    return m;
  }

  beforeAll(async () => {
    coop = await setupCoop(server.url, admin, { redemptionRule: 'REPAY_NOW' });
    book = new ExpectedBook(coop.treasurer, coop.bookId);
    classId = await createClass(coop, {
      code: 'WORKER',
      name: 'Worker-owner',
      buyIn: '1000.00',
      instalmentCount: 3,
      instalmentIntervalMonths: 1,
      voting: true,
    });
  });

  it('a new co-op’s book is empty and balanced', async () => {
    await book.check('empty');
  });

  it('joining posts the subscription: Dr receivable / Cr subscribed unpaid; replays post nothing', async () => {
    alicePartyId = await registerParty(coop, { name: 'Alice Example', email: 'alice@example.org' });
    aliceJoinKey = newKey('join');
    const input = {
      coopId: coop.id,
      partyId: alicePartyId,
      memberClassId: classId,
      appliedOn: A,
      idempotencyKey: aliceJoinKey,
      note: 'application received',
    };
    const joined = await coop.treasurer.joinCoop(input);
    expect(joined.userErrors).toEqual([]);
    expect(joined.replayed).toBe(false);
    aliceId = joined.membership!.id;
    expect(joined.membership).toMatchObject({
      memberNumber: 1,
      state: 'APPLICANT',
      stateSince: A,
      appliedOn: A,
    });
    expect(linesOf(joined.entry!)).toEqual([
      ['1150-00001', 'DEBIT', '1000.00'],
      ['3010-00001', 'CREDIT', '1000.00'],
    ]);
    expect(joined.entry!.effectiveAt).toBe(`${A}T00:00:00.000Z`);
    book.post(linesOf(joined.entry!));
    const before = await book.check('after joining');

    await expectMoney(aliceId, { paidIn: '0.00', outstanding: '1000.00', shareCapital: '0.00' }, [
      ['0.00', 'OVERDUE'],
      ['0.00', 'OVERDUE'],
      ['0.00', 'OVERDUE'],
    ]);
    expect(await historyOf(coop, aliceId)).toEqual([[null, 'APPLICANT', A, by()]]);
    const m = await membershipOf(coop, aliceId);
    expect(m.history[0]!.note).toBe('application received');
    expect(m.history[0]!.entry?.id).toBe(joined.entry!.id);

    const replay = await coop.treasurer.joinCoop(input);
    expect(replay).toMatchObject({ replayed: true, userErrors: [], membership: { id: aliceId } });
    expect(replay.entry?.id).toBe(joined.entry!.id);
    const reused = await coop.treasurer.joinCoop({ ...input, appliedOn: addDays(A, 1) });
    expect(reused.userErrors.map((e) => [e.code, e.field])).toEqual([
      ['IDEMPOTENCY_KEY_REUSED', 'idempotencyKey'],
    ]);
    expect(reused.membership).toBeNull();
    expect(await book.check('after the join replay')).toBe(before);
    expect(await listMemberships(server.url, coop.treasurerToken, coop.id)).toMatchObject([
      { id: aliceId, memberNumber: 1, state: 'APPLICANT', party: { name: 'Alice Example' } },
    ]);
  });

  it('APPLICANT -> CANDIDATE is recorded; CANDIDATE -> APPLICANT is illegal and changes nothing', async () => {
    await changeState(coop, aliceId, 'CANDIDATE', addDays(A, 5));
    const before = await book.check('after CANDIDATE');
    const back = await coop.treasurer.changeMembershipState({
      membershipId: aliceId,
      toState: 'APPLICANT',
      effectiveOn: addDays(A, 6),
      idempotencyKey: newKey('state'),
    });
    expect(back.userErrors.map((e) => [e.code, e.field])).toEqual([['ILLEGAL_TRANSITION', 'toState']]);
    expect(back.membership).toBeNull();
    expect(await book.check('after the refused transition')).toBe(before);
    expect(await historyOf(coop, aliceId)).toEqual([
      [null, 'APPLICANT', A, by()],
      ['APPLICANT', 'CANDIDATE', addDays(A, 5), by()],
    ]);
    expect((await membershipOf(coop, aliceId)).state).toBe('CANDIDATE');
  });

  it('the first instalment (bank): Dr bank / Cr share capital and the receivable goes down; replay and reuse', async () => {
    const input = {
      membershipId: aliceId,
      amount: instalments[0]!,
      paidOn: addDays(A, 1),
      method: 'BANK' as const,
      idempotencyKey: newKey('pay'),
    };
    const paid = await coop.treasurer.payInstalment(input);
    expect(paid.userErrors).toEqual([]);
    expect(paid.replayed).toBe(false);
    expect(linesOf(paid.entry!)).toEqual(payLines('00001', '333.34', 'BANK'));
    book.post(payLines('00001', '333.34', 'BANK'));
    const after = await book.check('after the first instalment');
    expect(paid.membership).toMatchObject({
      paidIn: '333.34',
      outstanding: '666.66',
      shareCapital: '333.34',
    });
    await expectMoney(aliceId, { paidIn: '333.34', outstanding: '666.66', shareCapital: '333.34' }, [
      ['333.34', 'PAID'],
      ['0.00', 'OVERDUE'],
      ['0.00', 'OVERDUE'],
    ]);

    const replay = await coop.treasurer.payInstalment(input);
    expect(replay).toMatchObject({ replayed: true, userErrors: [], entry: { id: paid.entry!.id } });
    expect(replay.membership?.paidIn).toBe('333.34');
    for (const changed of [{ amount: '333.35' }, { method: 'CASH' as const }, { paidOn: addDays(A, 2) }]) {
      const reused = await coop.treasurer.payInstalment({ ...input, ...changed });
      expect(
        reused.userErrors.map((e) => e.code),
        JSON.stringify(changed),
      ).toEqual(['IDEMPOTENCY_KEY_REUSED']);
      expect(reused.entry).toBeNull();
    }
    expect(await book.check('after the replays')).toBe(after);
  });

  it('the second instalment (cash) and a part of the third', async () => {
    const second = await pay(coop, aliceId, '333.33', addDays(A, 31), 'CASH');
    expect(linesOf(second.entry!)).toEqual(payLines('00001', '333.33', 'CASH'));
    book.post(payLines('00001', '333.33', 'CASH'));
    await book.check('after the second instalment');
    await expectMoney(aliceId, { paidIn: '666.67', outstanding: '333.33', shareCapital: '666.67' }, [
      ['333.34', 'PAID'],
      ['333.33', 'PAID'],
      ['0.00', 'OVERDUE'],
    ]);

    const part = await pay(coop, aliceId, '100.00', addDays(A, 61), 'BANK');
    book.post(linesOf(part.entry!));
    expect(linesOf(part.entry!)).toEqual(payLines('00001', '100.00', 'BANK'));
    await book.check('after a part of the third');
    await expectMoney(aliceId, { paidIn: '766.67', outstanding: '233.33', shareCapital: '766.67' }, [
      ['333.34', 'PAID'],
      ['333.33', 'PAID'],
      // Past its day and paid in part: still OVERDUE, the part shown.
      ['100.00', 'OVERDUE'],
    ]);
  });

  it('CANDIDATE -> ACTIVE; a replay of it; the same key for another transition is refused', async () => {
    const input = {
      membershipId: aliceId,
      toState: 'ACTIVE' as const,
      effectiveOn: addDays(A, 62),
      idempotencyKey: newKey('state'),
      note: 'probation passed',
    };
    const active = await coop.treasurer.changeMembershipState(input);
    expect(active.userErrors).toEqual([]);
    expect(active.replayed).toBe(false);
    expect(active.entry).toBeNull();
    expect(active.membership).toMatchObject({ state: 'ACTIVE', stateSince: addDays(A, 62) });
    const after = await book.check('after ACTIVE');
    const replay = await coop.treasurer.changeMembershipState(input);
    expect(replay).toMatchObject({ replayed: true, userErrors: [], membership: { state: 'ACTIVE' } });
    const reused = await coop.treasurer.changeMembershipState({ ...input, toState: 'WITHDRAWN' });
    expect(reused.userErrors.map((e) => e.code)).toEqual(['IDEMPOTENCY_KEY_REUSED']);
    expect(await book.check('after the replay')).toBe(after);
    expect((await membershipOf(coop, aliceId)).state).toBe('ACTIVE');
    const history = await membershipOf(coop, aliceId);
    expect(history.history.map((e) => [e.fromState, e.toState, e.effectiveOn, e.recordedBy, e.note])).toEqual(
      [
        [null, 'APPLICANT', A, by(), 'application received'],
        ['APPLICANT', 'CANDIDATE', addDays(A, 5), by(), ''],
        ['CANDIDATE', 'ACTIVE', addDays(A, 62), by(), 'probation passed'],
      ],
    );
  });

  it('an overpayment is refused and changes nothing; the rest pays the buy-in off', async () => {
    const before = await book.check('before the overpayment');
    const over = await coop.treasurer.payInstalment({
      membershipId: aliceId,
      amount: '233.34',
      paidOn: addDays(A, 90),
      method: 'BANK',
      idempotencyKey: newKey('pay'),
    });
    expect(over.userErrors.map((e) => [e.code, e.field])).toEqual([
      ['PAYMENT_EXCEEDS_OUTSTANDING', 'amount'],
    ]);
    expect(over.entry).toBeNull();
    expect(await book.check('after the overpayment')).toBe(before);

    const last = await pay(coop, aliceId, '233.33', addDays(A, 90), 'BANK');
    book.post(payLines('00001', '233.33', 'BANK'));
    expect(linesOf(last.entry!)).toEqual(payLines('00001', '233.33', 'BANK'));
    await book.check('after paying off');
    await expectMoney(aliceId, { paidIn: '1000.00', outstanding: '0.00', shareCapital: '1000.00' }, [
      ['333.34', 'PAID'],
      ['333.33', 'PAID'],
      ['333.33', 'PAID'],
    ]);
    const nothingLeft = await coop.treasurer.payInstalment({
      membershipId: aliceId,
      amount: '0.01',
      paidOn: today(),
      method: 'CASH',
      idempotencyKey: newKey('pay'),
    });
    expect(nothingLeft.userErrors.map((e) => e.code)).toEqual(['PAYMENT_EXCEEDS_OUTSTANDING']);
    await book.check('after paying 0.01 too much');
  });

  it('ACTIVE -> CANDIDATE and ACTIVE -> APPLICANT are illegal and change nothing', async () => {
    const before = await book.check('before');
    for (const toState of ['CANDIDATE', 'APPLICANT'] as const) {
      const refused = await coop.treasurer.changeMembershipState({
        membershipId: aliceId,
        toState,
        effectiveOn: addDays(A, 100),
        idempotencyKey: newKey('state'),
      });
      expect(
        refused.userErrors.map((e) => [e.code, e.field]),
        toState,
      ).toEqual([['ILLEGAL_TRANSITION', 'toState']]);
    }
    expect(await book.check('after')).toBe(before);
    expect((await historyOf(coop, aliceId)).length).toBe(3);
  });

  it('the member statement shows each entry with its amounts, and opening and closing capital by period', async () => {
    const all = await coop.treasurer.memberStatement({ membershipId: aliceId, from: A, to: today() });
    expect(all).not.toBeNull();
    expect(
      all!.movements.map((v) => [
        v.event,
        v.effectiveAt.slice(0, 10),
        v.changes.map((c) => [c.role, c.side, c.amount]),
      ]),
    ).toEqual([
      [
        'SUBSCRIPTION',
        A,
        [
          ['SUBSCRIPTION_RECEIVABLE', 'DEBIT', '1000.00'],
          ['SUBSCRIBED_UNPAID', 'CREDIT', '1000.00'],
        ],
      ],
      ...[
        [addDays(A, 1), '333.34'],
        [addDays(A, 31), '333.33'],
        [addDays(A, 61), '100.00'],
        [addDays(A, 90), '233.33'],
      ].map(([on, amount]) => [
        'INSTALMENT',
        on,
        [
          ['SHARE_CAPITAL', 'CREDIT', amount],
          ['SUBSCRIBED_UNPAID', 'DEBIT', amount],
          ['SUBSCRIPTION_RECEIVABLE', 'CREDIT', amount],
        ],
      ]),
    ]);
    expect(all!.entries!.map((e) => linesOf(e))).toEqual([
      [
        ['1150-00001', 'DEBIT', '1000.00'],
        ['3010-00001', 'CREDIT', '1000.00'],
      ],
      payLines('00001', '333.34', 'BANK'),
      payLines('00001', '333.33', 'CASH'),
      payLines('00001', '100.00', 'BANK'),
      payLines('00001', '233.33', 'BANK'),
    ]);
    expect([all!.capitalOpening, all!.capitalClosing]).toEqual(['0.00', '1000.00']);
    expect(
      Object.fromEntries(all!.accounts.map((a) => [a.role, [a.account?.code, a.opening, a.closing]])),
    ).toEqual({
      SHARE_CAPITAL: ['3000-00001', '0.00', '1000.00'],
      SUBSCRIPTION_RECEIVABLE: ['1150-00001', '0.00', '0.00'],
      SUBSCRIBED_UNPAID: ['3010-00001', '0.00', '0.00'],
      INTERNAL_CAPITAL: ['3100-00001', '0.00', '0.00'],
      REDEMPTION_PAYABLE: ['2100-00001', '0.00', '0.00'],
    });

    // A period inside: from the day after the first instalment to the day of the second.
    const part = await coop.treasurer.memberStatement({
      membershipId: aliceId,
      from: addDays(A, 2),
      to: addDays(A, 31),
    });
    expect(part!.movements.map((v) => [v.event, v.effectiveAt.slice(0, 10)])).toEqual([
      ['INSTALMENT', addDays(A, 31)],
    ]);
    expect([part!.capitalOpening, part!.capitalClosing]).toEqual(['333.34', '666.67']);
    const receivable = part!.accounts.find((a) => a.role === 'SUBSCRIPTION_RECEIVABLE')!;
    expect([receivable.opening, receivable.closing]).toEqual(['666.66', '333.33']);
  });

  it('leaving (WITHDRAWN, REPAY_NOW, cash): Dr share capital / Cr cash; a replay; the same key reused', async () => {
    const W = addDays(A, 120);
    const input = {
      membershipId: aliceId,
      toState: 'WITHDRAWN' as const,
      effectiveOn: W,
      idempotencyKey: newKey('leave'),
      method: 'CASH' as const,
    };
    const left = await coop.treasurer.changeMembershipState(input);
    expect(left.userErrors).toEqual([]);
    expect(left.replayed).toBe(false);
    expect(linesOf(left.entry!)).toEqual([
      ['3000-00001', 'DEBIT', '1000.00'],
      ['1000', 'CREDIT', '1000.00'],
    ]);
    book.post(linesOf(left.entry!));
    const after = await book.check('after leaving');
    expect(left.membership).toMatchObject({
      state: 'WITHDRAWN',
      stateSince: W,
      shareCapital: '0.00',
      outstanding: '0.00',
      paidIn: '1000.00',
      redemptionPayable: '0.00',
    });
    // Cash: 333.33 in, 1000.00 out; bank: 333.34 + 100.00 + 233.33 in.
    expect(book.net('1000')).toBe('-666.67');
    expect(book.net('1010')).toBe('666.67');

    const replay = await coop.treasurer.changeMembershipState(input);
    expect(replay).toMatchObject({ replayed: true, userErrors: [], entry: { id: left.entry!.id } });
    const reused = await coop.treasurer.changeMembershipState({ ...input, method: 'BANK' });
    expect(reused.userErrors.map((e) => e.code)).toEqual(['IDEMPOTENCY_KEY_REUSED']);
    expect(await book.check('after the replay')).toBe(after);

    const m = await membershipOf(coop, aliceId);
    expect(m.history.map((e) => [e.fromState, e.toState, e.effectiveOn, e.recordedBy])).toEqual([
      [null, 'APPLICANT', A, by()],
      ['APPLICANT', 'CANDIDATE', addDays(A, 5), by()],
      ['CANDIDATE', 'ACTIVE', addDays(A, 62), by()],
      ['ACTIVE', 'WITHDRAWN', W, by()],
    ]);
    expect(m.history[3]!.entry?.id).toBe(left.entry!.id);
    expect(m.history[2]!.entry).toBeNull();

    const statement = await coop.treasurer.memberStatement({ membershipId: aliceId, from: A, to: today() });
    expect(statement!.movements.at(-1)).toMatchObject({
      event: 'REDEMPTION',
      changes: [{ role: 'SHARE_CAPITAL', side: 'DEBIT', amount: '1000.00' }],
    });
    expect([statement!.capitalOpening, statement!.capitalClosing]).toEqual(['0.00', '0.00']);
  });

  it('nothing moves a WITHDRAWN membership: every transition is illegal, payments are refused', async () => {
    const before = await book.check('before');
    for (const toState of ['APPLICANT', 'CANDIDATE', 'ACTIVE', 'WITHDRAWN', 'TERMINATED'] as const) {
      const refused = await coop.treasurer.changeMembershipState({
        membershipId: aliceId,
        toState,
        effectiveOn: today(),
        idempotencyKey: newKey('state'),
      });
      expect(
        refused.userErrors.map((e) => e.code),
        toState,
      ).toEqual(['ILLEGAL_TRANSITION']);
    }
    const payment = await coop.treasurer.payInstalment({
      membershipId: aliceId,
      amount: '1.00',
      paidOn: today(),
      method: 'BANK',
      idempotencyKey: newKey('pay'),
    });
    expect(payment.userErrors.map((e) => e.code)).toEqual(['MEMBERSHIP_ENDED']);
    // REPAY_NOW paid everything out: nothing is held.
    const repay = await coop.treasurer.repayRedemption({
      membershipId: aliceId,
      amount: '0.01',
      paidOn: today(),
      method: 'BANK',
      idempotencyKey: newKey('repay'),
    });
    expect(repay.userErrors.map((e) => e.code)).toEqual(['PAYMENT_EXCEEDS_OUTSTANDING']);
    expect(await book.check('after')).toBe(before);
    expect((await historyOf(coop, aliceId)).length).toBe(4);
  });

  it('the same person may join again: a new membership with its own number and accounts', async () => {
    const again = await join(coop, { classId, appliedOn: addDays(A, 150), partyId: alicePartyId });
    expect(again.membership).toMatchObject({ memberNumber: 2, state: 'APPLICANT', outstanding: '1000.00' });
    expect(again.membership.party.id).toBe(alicePartyId);
    book.post([
      ['1150-00002', 'DEBIT', '1000.00'],
      ['3010-00002', 'CREDIT', '1000.00'],
    ]);
    await book.check('after rejoining');
    const party = await coop.treasurer.party({ id: alicePartyId });
    expect(party!.memberships.map((m) => [m.memberNumber, m.state])).toEqual([
      [1, 'WITHDRAWN'],
      [2, 'APPLICANT'],
    ]);
    // The first membership's replay still answers with the first membership.
    const replay = await coop.treasurer.joinCoop({
      coopId: coop.id,
      partyId: alicePartyId,
      memberClassId: classId,
      appliedOn: A,
      idempotencyKey: aliceJoinKey,
      note: 'application received',
    });
    expect(replay).toMatchObject({ replayed: true, membership: { id: aliceId, state: 'WITHDRAWN' } });
    await book.check('after the old replay');
  });

  it('a partly paid member with internal capital is TERMINATED (bank by default): unpaid subscription cancelled, capital paid out', async () => {
    const B = addDays(A, 10);
    const bob = await join(coop, { classId, appliedOn: B, name: 'Bob Example' });
    expect(bob.membership.memberNumber).toBe(3);
    book.post([
      ['1150-00003', 'DEBIT', '1000.00'],
      ['3010-00003', 'CREDIT', '1000.00'],
    ]);
    await pay(coop, bob.membership.id, '400.00', addDays(B, 1), 'BANK');
    book.post(payLines('00003', '400.00', 'BANK'));
    await changeState(coop, bob.membership.id, 'ACTIVE', addDays(B, 2));
    await book.check('bob active');

    // Patronage allocated to Bob's internal capital account by the treasurer (a plain entry).
    const internal = bob.membership.accounts.internalCapital!;
    expect(internal.code).toBe('3100-00003');
    const allocated = await coop.treasurer.postJournalEntry({
      bookId: coop.bookId,
      idempotencyKey: newKey('patronage'),
      effectiveAt: `${addDays(B, 3)}T00:00:00.000Z`,
      memo: 'patronage allocation',
      lines: [
        { accountId: coop.chart['3200']!, side: 'DEBIT', amount: '25.50', unit: 'USD' },
        { accountId: internal.id, side: 'CREDIT', amount: '25.50', unit: 'USD' },
      ],
    });
    expect(allocated.userErrors).toEqual([]);
    book.post([
      ['3200', 'DEBIT', '25.50'],
      ['3100-00003', 'CREDIT', '25.50'],
    ]);
    await book.check('after the allocation');
    expect((await membershipOf(coop, bob.membership.id)).internalCapital).toBe('25.50');

    const T = addDays(B, 20);
    const ended = await coop.treasurer.changeMembershipState({
      membershipId: bob.membership.id,
      toState: 'TERMINATED',
      effectiveOn: T,
      idempotencyKey: newKey('terminate'),
      note: 'expelled',
    });
    expect(ended.userErrors).toEqual([]);
    expect(linesOf(ended.entry!)).toEqual([
      ['3010-00003', 'DEBIT', '600.00'],
      ['1150-00003', 'CREDIT', '600.00'],
      ['3000-00003', 'DEBIT', '400.00'],
      ['1010', 'CREDIT', '400.00'],
      ['3100-00003', 'DEBIT', '25.50'],
      ['1010', 'CREDIT', '25.50'],
    ]);
    book.post(linesOf(ended.entry!));
    await book.check('after terminating');
    const m = await membershipOf(coop, bob.membership.id);
    expect(m).toMatchObject({
      state: 'TERMINATED',
      paidIn: '400.00',
      outstanding: '0.00',
      shareCapital: '0.00',
      internalCapital: '0.00',
    });
    expect(m.schedule.map((i) => [i.amount, i.paid, i.status])).toEqual([
      ['333.34', '333.34', 'PAID'],
      ['333.33', '66.66', 'CANCELLED'],
      ['333.33', '0.00', 'CANCELLED'],
    ]);
    expect(m.history.map((e) => [e.fromState, e.toState, e.effectiveOn, e.recordedBy, e.note])).toEqual([
      [null, 'APPLICANT', B, by(), ''],
      ['APPLICANT', 'ACTIVE', addDays(B, 2), by(), ''],
      ['ACTIVE', 'TERMINATED', T, by(), 'expelled'],
    ]);
    const statement = await coop.treasurer.memberStatement({
      membershipId: bob.membership.id,
      from: B,
      to: T,
    });
    expect(statement!.movements.map((v) => v.event)).toEqual([
      'SUBSCRIPTION',
      'INSTALMENT',
      null,
      'REDEMPTION',
    ]);
    expect([statement!.capitalOpening, statement!.capitalClosing]).toEqual(['0.00', '0.00']);
    const beforeT = await coop.treasurer.memberStatement({
      membershipId: bob.membership.id,
      from: B,
      to: addDays(T, -1),
    });
    expect(beforeT!.capitalClosing).toBe('425.50');
    const refused = await coop.treasurer.changeMembershipState({
      membershipId: bob.membership.id,
      toState: 'ACTIVE',
      effectiveOn: today(),
      idempotencyKey: newKey('state'),
    });
    expect(refused.userErrors.map((e) => e.code)).toEqual(['ILLEGAL_TRANSITION']);
    await book.check('at the end');
  });

  it('a transition may not be dated before the last change nor in the future', async () => {
    const carol = await join(coop, { classId, appliedOn: addDays(A, 30) });
    book.post([
      ['1150-00004', 'DEBIT', '1000.00'],
      ['3010-00004', 'CREDIT', '1000.00'],
    ]);
    const before = await book.check('carol joined');
    for (const effectiveOn of [addDays(A, 29), addDays(today(), 1)]) {
      const refused = await coop.treasurer.changeMembershipState({
        membershipId: carol.membership.id,
        toState: 'WITHDRAWN',
        effectiveOn,
        idempotencyKey: newKey('state'),
      });
      expect(
        refused.userErrors.map((e) => [e.code, e.field]),
        effectiveOn,
      ).toEqual([['INVALID_DATE', 'effectiveOn']]);
    }
    expect(await book.check('after')).toBe(before);
    expect((await membershipOf(coop, carol.membership.id)).state).toBe('APPLICANT');
  });
});

describe('the SDK', () => {
  // A regression guard: the SDK's CoopMemberships document was once refused by the depth limit
  // (12), which counted its fragment spreads as levels (13); depth now counts fields only
  // (server/platform/http/app.ts), and this keeps the SDK's own documents within it.
  it("lists a co-op's memberships (coopMemberships, iterateMemberships)", async () => {
    const coop = await setupCoop(server.url, admin);
    const classId = await createClass(coop, { code: 'W', name: 'Worker', buyIn: '10.00', voting: true });
    const first = await join(coop, { classId, appliedOn: daysAgo(3) });
    const second = await join(coop, { classId, appliedOn: daysAgo(2) });
    const page = await coop.treasurer.coopMemberships({ coopId: coop.id, first: 10 });
    expect(page?.edges.map((e) => e.node.id)).toEqual([first.membership.id, second.membership.id]);
    const all: number[] = [];
    for await (const m of coop.treasurer.iterateMemberships({ coopId: coop.id, first: 1 }))
      all.push(m.memberNumber);
    expect(all).toEqual([1, 2]);
  });
});

describe('dated money events keep every member account within its bounds on every date', () => {
  // A member's accounts have a lower bound of zero, but a bound is checked on the current balance:
  // a payment dated before the member joined, a leaving dated before a later-dated payment, or a
  // transfer dated before the seller paid would leave an account below zero on earlier dates (they
  // once were accepted). Money events are now dated in order (README, "Co-ops and members") and
  // such dates are refused with INVALID_DATE, posting nothing: no member account is below zero on
  // any date.
  const BOUNDED = ['SHARE_CAPITAL', 'SUBSCRIPTION_RECEIVABLE', 'SUBSCRIBED_UNPAID', 'REDEMPTION_PAYABLE'];
  let coop: CoopFixture;
  let classId: string;
  let tradable: string;
  const D = daysAgo(100);

  async function expectNoNegativeBalance(membershipId: string, dates: string[]) {
    for (const to of dates) {
      const statement = await coop.treasurer.memberStatement({ membershipId, from: addDays(D, -90), to });
      const negative = statement!.accounts
        .filter((a) => BOUNDED.includes(a.role) && a.closing.startsWith('-'))
        .map((a) => `${a.role} ${a.closing}`);
      expect(negative, `balances at the end of ${to}`).toEqual([]);
    }
  }

  beforeAll(async () => {
    coop = await setupCoop(server.url, admin);
    classId = await createClass(coop, { code: 'W', name: 'Worker', buyIn: '500.00', voting: true });
    tradable = await createClass(coop, {
      code: 'T',
      name: 'Investor',
      buyIn: '100.00',
      voting: false,
      transferable: true,
    });
  });

  it('a payment dated before the member joined', async () => {
    const m = await join(coop, { classId, appliedOn: D });
    const paid = await coop.treasurer.payInstalment({
      membershipId: m.membership.id,
      amount: '100.00',
      paidOn: addDays(D, -50),
      method: 'BANK',
      idempotencyKey: newKey('pay'),
    });
    expect(paid.userErrors.map((e) => [e.code, e.field])).toEqual([['INVALID_DATE', 'paidOn']]);
    expect(paid.entry).toBeNull();
    await expectNoNegativeBalance(m.membership.id, [addDays(D, -50), addDays(D, -1), D, today()]);
  });

  it('leaving dated before a later-dated payment', async () => {
    const m = await join(coop, { classId, appliedOn: D });
    await pay(coop, m.membership.id, '400.00', addDays(D, 30));
    const left = await coop.treasurer.changeMembershipState({
      membershipId: m.membership.id,
      toState: 'WITHDRAWN',
      effectiveOn: addDays(D, 10),
      idempotencyKey: newKey('leave'),
    });
    expect(left.userErrors.map((e) => [e.code, e.field])).toEqual([['INVALID_DATE', 'effectiveOn']]);
    expect(left.entry).toBeNull();
    await expectNoNegativeBalance(m.membership.id, [addDays(D, 10), addDays(D, 20), addDays(D, 30), today()]);
  });

  it('a share transfer dated before the seller paid', async () => {
    const seller = await join(coop, { classId: tradable, appliedOn: D });
    const buyer = await join(coop, { classId: tradable, appliedOn: D });
    await pay(coop, seller.membership.id, '100.00', addDays(D, 50));
    const moved = await coop.treasurer.transferShares({
      fromMembershipId: seller.membership.id,
      toMembershipId: buyer.membership.id,
      amount: '100.00',
      effectiveOn: addDays(D, 5),
      idempotencyKey: newKey('transfer'),
    });
    expect(moved.userErrors.map((e) => [e.code, e.field])).toEqual([['INVALID_DATE', 'effectiveOn']]);
    expect(moved.entry).toBeNull();
    await expectNoNegativeBalance(seller.membership.id, [addDays(D, 5), addDays(D, 49), today()]);
  });
});

describe('HOLD: the redemption is held for the former member and repaid in parts', () => {
  let coop: CoopFixture;
  let book: ExpectedBook;
  let memberId: string;
  let activeMemberId: string;
  const J = daysAgo(300);
  const W = addDays(J, 200);

  beforeAll(async () => {
    coop = await setupCoop(server.url, admin, { redemptionRule: 'HOLD' });
    book = new ExpectedBook(coop.treasurer, coop.bookId);
    const classId = await createClass(coop, {
      code: 'CONSUMER',
      name: 'Consumer member',
      buyIn: '500.00',
      instalmentCount: 3,
      instalmentIntervalMonths: 2,
      voting: true,
    });
    const joined = await join(coop, { classId, appliedOn: J, name: 'Dana Holder' });
    memberId = joined.membership.id;
    book.post([
      ['1150-00001', 'DEBIT', '500.00'],
      ['3010-00001', 'CREDIT', '500.00'],
    ]);
    // 500.00 in 3: 166.67, 166.67, 166.66.
    for (const [i, amount] of ['166.67', '166.67', '166.66'].entries()) {
      await pay(coop, memberId, amount, addMonths(J, 2 * i), i === 1 ? 'CASH' : 'BANK');
      book.post([
        [i === 1 ? '1000' : '1010', 'DEBIT', amount],
        ['3000-00001', 'CREDIT', amount],
        ['3010-00001', 'DEBIT', amount],
        ['1150-00001', 'CREDIT', amount],
      ]);
    }
    await changeState(coop, memberId, 'ACTIVE', addDays(J, 1));
    const other = await join(coop, { classId, appliedOn: J, name: 'Eli Stays' });
    activeMemberId = other.membership.id;
    book.post([
      ['1150-00002', 'DEBIT', '500.00'],
      ['3010-00002', 'CREDIT', '500.00'],
    ]);
  });

  it('the buy-in is paid off in three instalments two months apart', async () => {
    await book.check('paid off');
    const m = (await coop.treasurer.membership({ id: memberId }))!;
    expect(m.schedule.map((i) => [i.dueOn, i.amount, i.paid, i.status])).toEqual([
      [J, '166.67', '166.67', 'PAID'],
      [addMonths(J, 2), '166.67', '166.67', 'PAID'],
      [addMonths(J, 4), '166.66', '166.66', 'PAID'],
    ]);
    expect(m).toMatchObject({
      paidIn: '500.00',
      outstanding: '0.00',
      shareCapital: '500.00',
      state: 'ACTIVE',
    });
  });

  it('repaying a member who has not left is refused', async () => {
    const before = await book.check('before');
    const refused = await coop.treasurer.repayRedemption({
      membershipId: activeMemberId,
      amount: '1.00',
      paidOn: today(),
      method: 'BANK',
      idempotencyKey: newKey('repay'),
    });
    expect(refused.userErrors.map((e) => e.code)).toEqual(['NOTHING_OUTSTANDING']);
    expect(await book.check('after')).toBe(before);
  });

  it('leaving holds the capital: Dr share capital / Cr the member’s redemption payable (not cash)', async () => {
    const left = await coop.treasurer.changeMembershipState({
      membershipId: memberId,
      toState: 'WITHDRAWN',
      effectiveOn: W,
      idempotencyKey: newKey('leave'),
      method: 'CASH',
    });
    expect(left.userErrors).toEqual([]);
    expect(linesOf(left.entry!)).toEqual([
      ['3000-00001', 'DEBIT', '500.00'],
      ['2100-00001', 'CREDIT', '500.00'],
    ]);
    book.post(linesOf(left.entry!));
    await book.check('after leaving');
    expect(left.membership).toMatchObject({
      state: 'WITHDRAWN',
      shareCapital: '0.00',
      redemptionPayable: '500.00',
    });
    expect(book.net('1000')).toBe('166.67');
  });

  it('repaid in parts: a replay, a reused key, an over-repayment, then the rest', async () => {
    const input = {
      membershipId: memberId,
      amount: '200.00',
      paidOn: addDays(W, 30),
      method: 'BANK' as const,
      idempotencyKey: newKey('repay'),
    };
    const first = await coop.treasurer.repayRedemption(input);
    expect(first.userErrors).toEqual([]);
    expect(first.replayed).toBe(false);
    expect(linesOf(first.entry!)).toEqual([
      ['2100-00001', 'DEBIT', '200.00'],
      ['1010', 'CREDIT', '200.00'],
    ]);
    book.post(linesOf(first.entry!));
    const after = await book.check('after the first repayment');
    expect(first.membership?.redemptionPayable).toBe('300.00');

    const replay = await coop.treasurer.repayRedemption(input);
    expect(replay).toMatchObject({ replayed: true, userErrors: [], entry: { id: first.entry!.id } });
    expect(replay.membership?.redemptionPayable).toBe('300.00');
    const reused = await coop.treasurer.repayRedemption({ ...input, amount: '199.99' });
    expect(reused.userErrors.map((e) => e.code)).toEqual(['IDEMPOTENCY_KEY_REUSED']);
    const over = await coop.treasurer.repayRedemption({
      ...input,
      amount: '300.01',
      idempotencyKey: newKey('repay'),
    });
    expect(over.userErrors.map((e) => [e.code, e.field])).toEqual([
      ['PAYMENT_EXCEEDS_OUTSTANDING', 'amount'],
    ]);
    expect(await book.check('after the refusals')).toBe(after);
    expect((await coop.treasurer.membership({ id: memberId }))!.redemptionPayable).toBe('300.00');

    const rest = await coop.treasurer.repayRedemption({
      ...input,
      amount: '300.00',
      method: 'CASH',
      paidOn: addDays(W, 60),
      idempotencyKey: newKey('repay'),
    });
    expect(rest.userErrors).toEqual([]);
    expect(linesOf(rest.entry!)).toEqual([
      ['2100-00001', 'DEBIT', '300.00'],
      ['1000', 'CREDIT', '300.00'],
    ]);
    book.post(linesOf(rest.entry!));
    const done = await book.check('after the rest');
    expect(rest.membership?.redemptionPayable).toBe('0.00');
    const more = await coop.treasurer.repayRedemption({
      ...input,
      amount: '0.01',
      idempotencyKey: newKey('repay'),
    });
    expect(more.userErrors.map((e) => e.code)).toEqual(['PAYMENT_EXCEEDS_OUTSTANDING']);
    expect(await book.check('after repaying too much')).toBe(done);

    const statement = await coop.treasurer.memberStatement({ membershipId: memberId, from: J, to: today() });
    expect(statement!.movements.map((v) => v.event)).toEqual([
      'SUBSCRIPTION',
      'INSTALMENT',
      'INSTALMENT',
      'INSTALMENT',
      'REDEMPTION',
      'REDEMPTION_REPAID',
      'REDEMPTION_REPAID',
    ]);
    const payable = statement!.accounts.find((a) => a.role === 'REDEMPTION_PAYABLE')!;
    expect([payable.account?.code, payable.opening, payable.closing]).toEqual(['2100-00001', '0.00', '0.00']);
    const mid = await coop.treasurer.memberStatement({
      membershipId: memberId,
      from: W,
      to: addDays(W, 45),
    });
    const held = mid!.accounts.find((a) => a.role === 'REDEMPTION_PAYABLE')!;
    expect([held.opening, held.closing]).toEqual(['0.00', '300.00']);
    expect(mid!.movements.map((v) => v.changes.map((c) => [c.role, c.side, c.amount]))).toEqual([
      [
        ['SHARE_CAPITAL', 'DEBIT', '500.00'],
        ['REDEMPTION_PAYABLE', 'CREDIT', '500.00'],
      ],
      [['REDEMPTION_PAYABLE', 'DEBIT', '200.00']],
    ]);
  });
});

describe('share transfers between members', () => {
  let coop: CoopFixture;
  let book: ExpectedBook;
  const J = daysAgo(100);
  let seller: string;
  let buyer: string;
  let fixed: string;
  let unpaid: string;

  beforeAll(async () => {
    coop = await setupCoop(server.url, admin, { redemptionRule: 'REPAY_NOW' });
    book = new ExpectedBook(coop.treasurer, coop.bookId);
    const tradable = await createClass(coop, {
      code: 'INVESTOR',
      name: 'Investor member',
      buyIn: '300.00',
      voting: false,
      transferable: true,
    });
    const worker = await createClass(coop, { code: 'WORKER', name: 'Worker', buyIn: '300.00', voting: true });
    const members: string[] = [];
    for (const [i, classId] of [tradable, tradable, worker, tradable].entries()) {
      const n = `0000${i + 1}`;
      const m = await join(coop, { classId, appliedOn: J });
      book.post([
        [`1150-${n}`, 'DEBIT', '300.00'],
        [`3010-${n}`, 'CREDIT', '300.00'],
      ]);
      if (i < 3) {
        await pay(coop, m.membership.id, '300.00', addDays(J, 1));
        book.post([
          ['1010', 'DEBIT', '300.00'],
          [`3000-${n}`, 'CREDIT', '300.00'],
          [`3010-${n}`, 'DEBIT', '300.00'],
          [`1150-${n}`, 'CREDIT', '300.00'],
        ]);
      }
      await changeState(coop, m.membership.id, 'ACTIVE', addDays(J, 2));
      members.push(m.membership.id);
    }
    [seller, buyer, fixed, unpaid] = members as [string, string, string, string];
  });

  it('moves paid-up capital: Dr seller’s share capital / Cr buyer’s; a replay; a reused key', async () => {
    await book.check('before');
    const input = {
      fromMembershipId: seller,
      toMembershipId: buyer,
      amount: '120.00',
      effectiveOn: addDays(J, 10),
      idempotencyKey: newKey('transfer'),
    };
    const moved = await coop.treasurer.transferShares(input);
    expect(moved.userErrors).toEqual([]);
    expect(moved.replayed).toBe(false);
    expect(linesOf(moved.entry!)).toEqual([
      ['3000-00001', 'DEBIT', '120.00'],
      ['3000-00002', 'CREDIT', '120.00'],
    ]);
    book.post(linesOf(moved.entry!));
    const after = await book.check('after the transfer');
    expect(moved.membership).toMatchObject({ id: seller, shareCapital: '180.00' });
    expect((await coop.treasurer.membership({ id: buyer }))!.shareCapital).toBe('420.00');

    const replay = await coop.treasurer.transferShares(input);
    expect(replay).toMatchObject({ replayed: true, userErrors: [], entry: { id: moved.entry!.id } });
    const reused = await coop.treasurer.transferShares({ ...input, amount: '120.01' });
    expect(reused.userErrors.map((e) => e.code)).toEqual(['IDEMPOTENCY_KEY_REUSED']);
    expect(await book.check('after the replay')).toBe(after);
    expect((await coop.treasurer.membership({ id: seller }))!.shareCapital).toBe('180.00');

    const sellerStatement = await coop.treasurer.memberStatement({
      membershipId: seller,
      from: J,
      to: today(),
    });
    expect(sellerStatement!.movements.at(-1)).toMatchObject({
      event: 'SHARE_TRANSFER',
      changes: [{ role: 'SHARE_CAPITAL', side: 'DEBIT', amount: '120.00' }],
    });
    expect(sellerStatement!.capitalClosing).toBe('180.00');
  });

  it('INSUFFICIENT_SHARES when the seller holds less; NOT_TRANSFERABLE for a class that does not allow it', async () => {
    const before = await book.check('before');
    const transfer = (from: string, to: string, amount: string) =>
      coop.treasurer.transferShares({
        fromMembershipId: from,
        toMembershipId: to,
        amount,
        effectiveOn: addDays(J, 11),
        idempotencyKey: newKey('transfer'),
      });
    const tooMuch = await transfer(seller, buyer, '180.01');
    expect(tooMuch.userErrors.map((e) => [e.code, e.field])).toEqual([['INSUFFICIENT_SHARES', 'amount']]);
    // A member who has paid nothing holds no shares to sell.
    expect((await transfer(unpaid, buyer, '0.01')).userErrors.map((e) => e.code)).toEqual([
      'INSUFFICIENT_SHARES',
    ]);
    expect((await transfer(seller, fixed, '10.00')).userErrors.map((e) => e.code)).toEqual([
      'NOT_TRANSFERABLE',
    ]);
    expect((await transfer(fixed, seller, '10.00')).userErrors.map((e) => e.code)).toEqual([
      'NOT_TRANSFERABLE',
    ]);
    expect(await book.check('after the refusals')).toBe(before);
  });

  it('a buyer who leaves is paid out all the capital they hold, bought shares included', async () => {
    const left = await changeState(coop, buyer, 'WITHDRAWN', addDays(J, 20), 'BANK');
    expect(linesOf(left.entry!)).toEqual([
      ['3000-00002', 'DEBIT', '420.00'],
      ['1010', 'CREDIT', '420.00'],
    ]);
    book.post(linesOf(left.entry!));
    await book.check('after the buyer left');
    const refused = await coop.treasurer.transferShares({
      fromMembershipId: seller,
      toMembershipId: buyer,
      amount: '1.00',
      effectiveOn: addDays(J, 21),
      idempotencyKey: newKey('transfer'),
    });
    expect(refused.userErrors.map((e) => [e.code, e.field])).toEqual([
      ['MEMBERSHIP_ENDED', 'toMembershipId'],
    ]);
    await book.check('after the refusal');
  });
});
