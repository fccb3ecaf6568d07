/**
 * Co-op operations racing each other, through real HTTP, the SDK and real PostgreSQL (issue 10):
 * parallel instalments of one member that together exceed what is owed, parallel share transfers
 * of one seller that together exceed what is held, parallel joins, and leaving racing a payment.
 *
 * Every money event of a co-op locks its book first (server/coops/memberships.ts), so racing
 * requests are decided one after another; the test makes sure they really are in flight together:
 * it holds the co-op's book row locked from outside until all of them wait behind it
 * (tests/helpers/locks.ts), then lets them go at once. Where the order matters it queues them in a
 * chosen order (PostgreSQL serves row lock waiters first come, first served), so both orders are
 * exercised, and it races them unordered too.
 *
 * After each race the co-op's book is checked against figures computed by hand here (ExpectedBook:
 * every account's totals, the trial balance, the chain and its entry count), and its stored totals
 * against its lines (checkConsistency).
 */
import { Decimal } from 'decimal.js';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { LedgerClient } from '../../client-sdk/index.js';
import {
  addDays,
  type CoopFixture,
  createClass,
  daysAgo,
  ExpectedBook,
  join,
  type LineTuple,
  linesOf,
  listMemberships,
  pay,
  registerParty,
  setupCoop,
  today,
} from '../helpers/coop.js';
import { ledgerClient, newKey } from '../helpers/ledger.js';
import { allBehind, type BookLock, holdBookLock, queueBehind } from '../helpers/locks.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
let admin: LedgerClient;
const locks: BookLock[] = [];

beforeAll(async () => {
  // Every racing request holds a pooled connection while it waits for the book: room for all.
  server = await startTestServer({ config: { rateLimitPerSecond: 0, dbPoolMax: 30 } });
  admin = ledgerClient(server.url);
});

afterAll(async () => {
  for (const lock of locks) await lock.release();
  await server?.stop();
});

/** Holds the co-op's book locked until `release()` (released at the end whatever happens). */
async function lockBook(coop: CoopFixture): Promise<BookLock> {
  const lock = await holdBookLock(inject('databaseUrl'), coop.bookId);
  locks.push(lock);
  return lock;
}

/** The book's stored totals equal the sums of its lines. */
async function expectConsistent(coop: CoopFixture): Promise<void> {
  expect(await server.services.ledger.checkConsistency(coop.bookUuid)).toMatchObject({
    ok: true,
    mismatches: [],
  });
}

const member = (n: number) => String(n).padStart(5, '0');

/** An instalment's lines: Dr bank / Cr share capital, Dr subscribed unpaid / Cr receivable. */
const instalmentLines = (n: number, amount: string, method: 'CASH' | 'BANK' = 'BANK'): LineTuple[] => [
  [method === 'CASH' ? '1000' : '1010', 'DEBIT', amount],
  [`3000-${member(n)}`, 'CREDIT', amount],
  [`3010-${member(n)}`, 'DEBIT', amount],
  [`1150-${member(n)}`, 'CREDIT', amount],
];

const joinLines = (n: number, buyIn: string): LineTuple[] => [
  [`1150-${member(n)}`, 'DEBIT', buyIn],
  [`3010-${member(n)}`, 'CREDIT', buyIn],
];

/** The running balance of one role of a member's accounts never goes below zero over the statement. */
async function expectNeverBelowZero(coop: CoopFixture, membershipId: string, from: string, roles: string[]) {
  const statement = await coop.treasurer.memberStatement({ membershipId, from, to: today() });
  expect(statement).not.toBeNull();
  for (const role of roles) {
    const account = statement!.accounts.find((a) => a.role === role)!;
    // Balances in the account's normal direction: debit for the receivable, credit for the others.
    const debitNormal = role === 'SUBSCRIPTION_RECEIVABLE';
    let running = new Decimal(account.opening);
    const seen = [running.toFixed(2)];
    for (const movement of statement!.movements) {
      for (const change of movement.changes.filter((c) => c.role === role)) {
        running =
          (change.side === 'DEBIT') === debitNormal
            ? running.plus(change.amount)
            : running.minus(change.amount);
        seen.push(running.toFixed(2));
      }
    }
    expect(
      seen.filter((b) => b.startsWith('-')),
      `${role}: ${seen.join(' ')}`,
    ).toEqual([]);
    expect(running.toFixed(2), role).toBe(account.closing);
  }
  return statement!;
}

describe('parallel instalments of one member that together exceed what is owed', () => {
  it('land exactly as far as they fit; the rest are refused; the receivable never goes below zero', async () => {
    const coop = await setupCoop(server.url, admin);
    const book = new ExpectedBook(coop.treasurer, coop.bookId);
    const classId = await createClass(coop, { code: 'W', name: 'Worker', buyIn: '100.00', voting: true });
    const D = daysAgo(30);
    const m = await join(coop, { classId, appliedOn: D });
    book.post(joinLines(1, '100.00'));

    // Eight instalments of 30.00 against 100.00 owed: three fit (90.00), five do not.
    const lock = await lockBook(coop);
    const sent = await allBehind(
      lock,
      Array.from(
        { length: 8 },
        (_, i) => () =>
          coop.treasurer.payInstalment({
            membershipId: m.membership.id,
            amount: '30.00',
            paidOn: addDays(D, 1 + i),
            method: 'BANK',
            idempotencyKey: newKey('race-pay'),
          }),
      ),
    );
    await lock.release();
    const answers = await Promise.all(sent);
    const landed = answers.filter((a) => a.userErrors.length === 0);
    const refused = answers.filter((a) => a.userErrors.length > 0);
    expect(landed).toHaveLength(3);
    for (const answer of landed) {
      expect(answer.entry).not.toBeNull();
      expect(linesOf(answer.entry!)).toEqual(instalmentLines(1, '30.00'));
      book.post(instalmentLines(1, '30.00'));
    }
    for (const answer of refused) {
      expect(answer.userErrors.map((e) => [e.code, e.field])).toEqual([
        ['PAYMENT_EXCEEDS_OUTSTANDING', 'amount'],
      ]);
      expect(answer.entry).toBeNull();
    }
    expect(await coop.treasurer.membership({ id: m.membership.id })).toMatchObject({
      paidIn: '90.00',
      outstanding: '10.00',
      shareCapital: '90.00',
    });

    // Four more of 10.00 against the 10.00 left: exactly one lands, and nothing is owed.
    const again = await lockBook(coop);
    const last = await allBehind(
      again,
      Array.from(
        { length: 4 },
        () => () =>
          coop.treasurer.payInstalment({
            membershipId: m.membership.id,
            amount: '10.00',
            paidOn: addDays(D, 10),
            method: 'CASH',
            idempotencyKey: newKey('race-pay'),
          }),
      ),
    );
    await again.release();
    const lastAnswers = await Promise.all(last);
    expect(lastAnswers.map((a) => a.userErrors.map((e) => e.code).join()).sort()).toEqual([
      '',
      'PAYMENT_EXCEEDS_OUTSTANDING',
      'PAYMENT_EXCEEDS_OUTSTANDING',
      'PAYMENT_EXCEEDS_OUTSTANDING',
    ]);
    book.post(instalmentLines(1, '10.00', 'CASH'));
    expect(await coop.treasurer.membership({ id: m.membership.id })).toMatchObject({
      paidIn: '100.00',
      outstanding: '0.00',
      shareCapital: '100.00',
    });

    await book.check('after the racing instalments');
    await expectConsistent(coop);
    const statement = await expectNeverBelowZero(coop, m.membership.id, D, [
      'SUBSCRIPTION_RECEIVABLE',
      'SUBSCRIBED_UNPAID',
      'SHARE_CAPITAL',
    ]);
    expect(statement.movements.filter((v) => v.event === 'INSTALMENT')).toHaveLength(4);
  });
});

describe('parallel share transfers of one seller that together exceed what is held', () => {
  it('land exactly as far as the seller holds shares; the rest are refused INSUFFICIENT_SHARES', async () => {
    const coop = await setupCoop(server.url, admin);
    const book = new ExpectedBook(coop.treasurer, coop.bookId);
    const classId = await createClass(coop, {
      code: 'T',
      name: 'Tradable',
      buyIn: '300.00',
      voting: false,
      transferable: true,
    });
    const D = daysAgo(30);
    const members: string[] = [];
    for (let n = 1; n <= 4; n++) {
      const m = await join(coop, { classId, appliedOn: D });
      book.post(joinLines(n, '300.00'));
      members.push(m.membership.id);
    }
    const [seller, ...buyers] = members as [string, string, string, string];
    await pay(coop, seller, '300.00', addDays(D, 1));
    book.post(instalmentLines(1, '300.00'));

    // Seven transfers of 100.00 from a seller holding 300.00, to three buyers: three fit.
    const T = addDays(D, 5);
    const lock = await lockBook(coop);
    const targets = Array.from({ length: 7 }, (_, i) => buyers[i % 3]!);
    const sent = await allBehind(
      lock,
      targets.map(
        (to) => () =>
          coop.treasurer.transferShares({
            fromMembershipId: seller,
            toMembershipId: to,
            amount: '100.00',
            effectiveOn: T,
            idempotencyKey: newKey('race-transfer'),
          }),
      ),
    );
    await lock.release();
    const answers = await Promise.all(sent);
    const landed = answers.flatMap((a, i) => (a.userErrors.length === 0 ? [i] : []));
    expect(landed).toHaveLength(3);
    const bought = new Map<string, Decimal>();
    for (const [i, answer] of answers.entries()) {
      if (landed.includes(i)) {
        const to = members.indexOf(targets[i]!) + 1;
        expect(linesOf(answer.entry!)).toEqual([
          ['3000-00001', 'DEBIT', '100.00'],
          [`3000-${member(to)}`, 'CREDIT', '100.00'],
        ]);
        book.post(linesOf(answer.entry!));
        bought.set(targets[i]!, (bought.get(targets[i]!) ?? new Decimal(0)).plus(100));
      } else {
        expect(answer.userErrors.map((e) => [e.code, e.field])).toEqual([['INSUFFICIENT_SHARES', 'amount']]);
        expect(answer.entry).toBeNull();
      }
    }
    expect((await coop.treasurer.membership({ id: seller }))!.shareCapital).toBe('0.00');
    for (const buyer of buyers) {
      expect((await coop.treasurer.membership({ id: buyer }))!.shareCapital, buyer).toBe(
        (bought.get(buyer) ?? new Decimal(0)).toFixed(2),
      );
    }
    await book.check('after the racing transfers');
    await expectConsistent(coop);
    await expectNeverBelowZero(coop, seller, D, ['SHARE_CAPITAL']);
  });
});

describe('parallel joins', () => {
  it('keep member numbers unique and contiguous; a person joining twice at once gets one membership', async () => {
    const coop = await setupCoop(server.url, admin);
    const book = new ExpectedBook(coop.treasurer, coop.bookId);
    const classId = await createClass(coop, { code: 'W', name: 'Worker', buyIn: '50.00', voting: true });
    const D = daysAgo(10);
    const parties: string[] = [];
    for (let i = 0; i < 12; i++) parties.push(await registerParty(coop, { name: `Racer ${i}` }));
    // Twelve people, and the first of them a second time with another key.
    const joining = [...parties, parties[0]!];
    const lock = await lockBook(coop);
    const sent = await allBehind(
      lock,
      joining.map(
        (partyId) => () =>
          coop.treasurer.joinCoop({
            coopId: coop.id,
            partyId,
            memberClassId: classId,
            appliedOn: D,
            idempotencyKey: newKey('race-join'),
          }),
      ),
    );
    await lock.release();
    const answers = await Promise.all(sent);
    const joined = answers.filter((a) => a.userErrors.length === 0);
    const refused = answers.filter((a) => a.userErrors.length > 0);
    expect(joined).toHaveLength(12);
    expect(refused.map((a) => a.userErrors.map((e) => e.code))).toEqual([['ALREADY_MEMBER']]);
    expect(refused[0]!.membership).toBeNull();
    // One membership per person, numbered 1 to 12 without a gap (the refused join took no number).
    const numbers = joined.map((a) => a.membership!.memberNumber).sort((x, y) => x - y);
    expect(numbers).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    expect(new Set(joined.map((a) => a.membership!.party.id)).size).toBe(12);
    for (const answer of joined) {
      const n = answer.membership!.memberNumber;
      expect(linesOf(answer.entry!)).toEqual(joinLines(n, '50.00'));
      book.post(joinLines(n, '50.00'));
    }
    const listed = await listMemberships(server.url, coop.treasurerToken, coop.id);
    expect(listed.map((m) => m.memberNumber).sort((x, y) => x - y)).toEqual(numbers);
    expect(Object.fromEntries(listed.map((m) => [m.id, m.memberNumber]))).toEqual(
      Object.fromEntries(joined.map((a) => [a.membership!.id, a.membership!.memberNumber])),
    );
    await book.check('after the racing joins');
    await expectConsistent(coop);
  });
});

describe('leaving racing a payment', () => {
  let coop: CoopFixture;
  let book: ExpectedBook;
  let classId: string;
  let nextNumber = 1;
  const D = daysAgo(30);

  beforeAll(async () => {
    coop = await setupCoop(server.url, admin, { redemptionRule: 'REPAY_NOW' });
    book = new ExpectedBook(coop.treasurer, coop.bookId);
    classId = await createClass(coop, { code: 'W', name: 'Worker', buyIn: '100.00', voting: true });
  });

  /** A member owing 100.00 who has paid 40.00 of it. */
  async function memberWhoPaid40() {
    const n = nextNumber++;
    const m = await join(coop, { classId, appliedOn: D });
    expect(m.membership.memberNumber).toBe(n);
    book.post(joinLines(n, '100.00'));
    await pay(coop, m.membership.id, '40.00', addDays(D, 1));
    book.post(instalmentLines(n, '40.00'));
    return { n, id: m.membership.id };
  }

  const payment = (id: string) => () =>
    coop.treasurer.payInstalment({
      membershipId: id,
      amount: '25.00',
      paidOn: today(),
      method: 'CASH',
      idempotencyKey: newKey('race-pay'),
    });
  const leaving = (id: string) => () =>
    coop.treasurer.changeMembershipState({
      membershipId: id,
      toState: 'WITHDRAWN',
      effectiveOn: today(),
      method: 'CASH',
      idempotencyKey: newKey('race-leave'),
    });

  /**
   * Either order is consistent, and no money is lost: the payment lands before the redemption and
   * is redeemed with the rest, or it is refused as MEMBERSHIP_ENDED and posts nothing. Either way
   * the member is paid out exactly what they paid in, and their accounts end at zero.
   */
  async function expectConsistentOutcome(
    n: number,
    id: string,
    paid: Awaited<ReturnType<ReturnType<typeof payment>>>,
    left: Awaited<ReturnType<ReturnType<typeof leaving>>>,
  ): Promise<'payment first' | 'leaving first'> {
    expect(left.userErrors).toEqual([]);
    const paymentLanded = paid.userErrors.length === 0;
    const paidIn = paymentLanded ? '65.00' : '40.00';
    const unpaid = paymentLanded ? '35.00' : '60.00';
    if (paymentLanded) {
      expect(linesOf(paid.entry!)).toEqual(instalmentLines(n, '25.00', 'CASH'));
      book.post(instalmentLines(n, '25.00', 'CASH'));
    } else {
      expect(paid.userErrors.map((e) => [e.code, e.field])).toEqual([['MEMBERSHIP_ENDED', 'membershipId']]);
      expect(paid.entry).toBeNull();
    }
    // The unpaid subscription cancelled, and all the paid-up capital redeemed in cash.
    const redemption: LineTuple[] = [
      [`3010-${member(n)}`, 'DEBIT', unpaid],
      [`1150-${member(n)}`, 'CREDIT', unpaid],
      [`3000-${member(n)}`, 'DEBIT', paidIn],
      ['1000', 'CREDIT', paidIn],
    ];
    expect(linesOf(left.entry!)).toEqual(redemption);
    book.post(redemption);
    expect(await coop.treasurer.membership({ id })).toMatchObject({
      state: 'WITHDRAWN',
      shareCapital: '0.00',
      outstanding: '0.00',
    });
    const statement = await expectNeverBelowZero(coop, id, D, [
      'SUBSCRIPTION_RECEIVABLE',
      'SUBSCRIBED_UNPAID',
      'SHARE_CAPITAL',
    ]);
    expect(statement.accounts.map((a) => [a.role, a.closing])).toEqual(
      statement.accounts.map((a) => [a.role, '0.00']),
    );
    return paymentLanded ? 'payment first' : 'leaving first';
  }

  it('the payment decided first: it lands and is redeemed with the rest', async () => {
    const { n, id } = await memberWhoPaid40();
    const lock = await lockBook(coop);
    const [paid, left] = await queueBehind(lock, [payment(id), leaving(id)]);
    await lock.release();
    expect(await expectConsistentOutcome(n, id, (await paid)!, (await left)!)).toBe('payment first');
    await book.check('after the payment, then the leaving');
    await expectConsistent(coop);
  });

  it('the leaving decided first: the payment is refused as MEMBERSHIP_ENDED and posts nothing', async () => {
    const { n, id } = await memberWhoPaid40();
    const lock = await lockBook(coop);
    const [left, paid] = await queueBehind(lock, [leaving(id), payment(id)]);
    await lock.release();
    expect(await expectConsistentOutcome(n, id, (await paid)!, (await left)!)).toBe('leaving first');
    await book.check('after the leaving, then the payment');
    await expectConsistent(coop);
  });

  it('sent at the same instant, unordered, several times: always one of the two', async () => {
    const members = [];
    for (let i = 0; i < 4; i++) members.push(await memberWhoPaid40());
    const lock = await lockBook(coop);
    const sent = await allBehind(
      lock,
      members.flatMap(({ id }) => [payment(id), leaving(id)]),
    );
    await lock.release();
    const answers = await Promise.all(sent);
    for (const [i, { n, id }] of members.entries()) {
      const paid = answers[2 * i] as Awaited<ReturnType<ReturnType<typeof payment>>>;
      const left = answers[2 * i + 1] as Awaited<ReturnType<ReturnType<typeof leaving>>>;
      await expectConsistentOutcome(n, id, paid, left);
    }
    await book.check('after the unordered races');
    await expectConsistent(coop);
  });
});
