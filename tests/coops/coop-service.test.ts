/**
 * The membership use cases against real PostgreSQL, below the API: every money event is a balanced
 * entry in the co-op's book, and the book stays consistent (stored balances equal the lines, the
 * trial balance holds, the chain verifies) after each step, including rejected and replayed ones.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CoopRecord, MemberClassRecord, MembershipRecord } from '../../server/coops/index.js';
import { Decimal, LedgerError, systemPrincipal } from '../../server/core/index.js';
import { ReadTurn } from '../../server/ledger/index.js';
import { daysAgo } from '../helpers/coop.js';
import { orThrow as ok, uniqueSuffix } from '../helpers/ledger.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
const run = uniqueSuffix();
/** The use cases are called directly, on nobody's behalf: as a system principal (an ADMIN). */
const TESTER = systemPrincipal('tester');

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.stop();
});

async function consistent(bookId: string): Promise<void> {
  const ledger = server.services.ledger;
  const report = await ledger.checkConsistency(bookId);
  expect(report.mismatches).toEqual([]);
  const trial = await ok(await ledger.trialBalance(bookId, null)).summary(new ReadTurn(false));
  expect(trial.balanced).toBe(true);
  for (const unit of trial.units) expect(unit.debitBalanceTotal.eq(unit.creditBalanceTotal)).toBe(true);
  expect(ok(await ledger.verifyChain(bookId)).ok).toBe(true);
}

async function newCoop(
  overrides: Partial<Parameters<TestServer['services']['coops']['createCoop']>[0]> = {},
) {
  return ok(
    await server.services.coops.createCoop(
      {
        name: `Bakery ${run}`,
        kind: 'WORKER',
        naicsCode: '311811',
        city: 'Springfield',
        neighbourhood: 'Riverside',
        foundedOn: '2019-05-01',
        legalForm: 'LCA cooperative',
        baseCurrency: { code: 'USD', scale: 2 },
        ...overrides,
      },
      TESTER,
    ),
  );
}

describe('co-op membership use cases', () => {
  let coop: CoopRecord;
  let workerClass: MemberClassRecord;
  let membership: MembershipRecord;
  const coops = () => server.services.coops;

  beforeAll(async () => {
    coop = await newCoop();
    workerClass = ok(
      await coops().createMemberClass(
        {
          bookId: coop.id,
          code: 'WORKER',
          name: 'Worker-owner',
          buyIn: '1000.00',
          instalmentCount: 3,
          instalmentIntervalMonths: 1,
          voting: true,
          transferable: true,
        },
        TESTER,
      ),
    );
  });

  it('creates the book with the default chart of accounts', async () => {
    expect(Object.keys(coop.accounts).sort()).toContain('COLLECTIVE_RESERVE');
    const [book] = await server.services.ledger.getBooks([coop.id]);
    expect(book?.units).toEqual([{ code: 'USD', scale: 2 }]);
    const accounts = await server.services.ledger.listAccounts(coop.id, {
      afterCode: null,
      limit: 100,
      includeClosed: false,
      type: null,
    });
    expect(accounts.map((a) => a.code)).toEqual(
      expect.arrayContaining([
        '1000',
        '1010',
        '1150',
        '2000',
        '3000',
        '3100',
        '3200',
        '3300',
        '4000',
        '5000',
      ]),
    );
    await consistent(coop.id);
  });

  it('joins, pays instalments, activates, and leaves with redemption', async () => {
    const party = ok(
      await coops().registerParty({ bookId: coop.id, name: 'Ada Baker', email: 'ada@example.org' }, TESTER),
    );
    const joined = ok(
      await coops().join(
        {
          bookId: coop.id,
          partyId: party.id,
          classId: workerClass.id,
          appliedOn: daysAgo(70),
          idempotencyKey: `join-${run}`,
        },
        TESTER,
      ),
    );
    membership = joined.membership;
    expect(joined.entryId).not.toBeNull();
    expect(membership.state).toBe('APPLICANT');
    expect((await coops().balances(membership)).subscriptionOutstanding.toFixed(2)).toBe('1000.00');
    await consistent(coop.id);

    const schedule = await coops().schedule(membership);
    expect(schedule.map((i) => i.amount.toFixed(2))).toEqual(['333.34', '333.33', '333.33']);

    const again = ok(
      await coops().join(
        {
          bookId: coop.id,
          partyId: party.id,
          classId: workerClass.id,
          appliedOn: daysAgo(70),
          idempotencyKey: `join-${run}`,
        },
        TESTER,
      ),
    );
    expect(again.replayed).toBe(true);
    expect(again.membership.id).toBe(membership.id);
    expect(again.entryId).toBe(joined.entryId);

    const second = await coops().join(
      {
        bookId: coop.id,
        partyId: party.id,
        classId: workerClass.id,
        appliedOn: daysAgo(70),
        idempotencyKey: `join2-${run}`,
      },
      TESTER,
    );
    expect(second instanceof LedgerError && second.code).toBe('ALREADY_MEMBER');

    const pay = (amount: string, key: string, paidOn = daysAgo(30)) =>
      coops().payInstalment(
        { bookId: coop.id, membershipId: membership.id, amount, paidOn, method: 'BANK', idempotencyKey: key },
        TESTER,
      );
    ok(await pay('333.34', `p1-${run}`));
    expect((await pay('333.34', `p1-${run}`)) as { replayed: boolean }).toMatchObject({ replayed: true });
    const reused = await pay('333.35', `p1-${run}`);
    expect(reused instanceof LedgerError && reused.code).toBe('IDEMPOTENCY_KEY_REUSED');
    const over = await pay('700.00', `p-over-${run}`);
    expect(over instanceof LedgerError && over.code).toBe('PAYMENT_EXCEEDS_OUTSTANDING');
    const badScale = await pay('1.001', `p-scale-${run}`);
    expect(badScale instanceof LedgerError && badScale.code).toBe('INVALID_AMOUNT');
    ok(await pay('100.00', `p2-${run}`, daysAgo(5)));
    await consistent(coop.id);
    const paidSchedule = await coops().schedule(membership);
    // The second, past its day and paid in part, is OVERDUE like the third.
    expect(paidSchedule.map((i) => i.status)).toEqual(['PAID', 'OVERDUE', 'OVERDUE']);

    const illegal = await coops().changeState(
      {
        bookId: coop.id,
        membershipId: membership.id,
        toState: 'APPLICANT',
        effectiveOn: daysAgo(4),
        idempotencyKey: `s0-${run}`,
      },
      TESTER,
    );
    expect(illegal instanceof LedgerError && illegal.code).toBe('ILLEGAL_TRANSITION');
    ok(
      await coops().changeState(
        {
          bookId: coop.id,
          membershipId: membership.id,
          toState: 'CANDIDATE',
          effectiveOn: daysAgo(20),
          idempotencyKey: `s1-${run}`,
        },
        TESTER,
      ),
    );
    const backdated = await coops().changeState(
      {
        bookId: coop.id,
        membershipId: membership.id,
        toState: 'ACTIVE',
        effectiveOn: daysAgo(25),
        idempotencyKey: `s2x-${run}`,
      },
      TESTER,
    );
    expect(backdated instanceof LedgerError && backdated.code).toBe('INVALID_DATE');
    ok(
      await coops().changeState(
        {
          bookId: coop.id,
          membershipId: membership.id,
          toState: 'ACTIVE',
          effectiveOn: daysAgo(10),
          idempotencyKey: `s2-${run}`,
        },
        TESTER,
      ),
    );
    expect((await coops().votingRoll(coop.id, daysAgo(15))).map((r) => r.membership.id)).toEqual([]);
    expect((await coops().votingRoll(coop.id, daysAgo(10))).map((r) => r.membership.id)).toEqual([
      membership.id,
    ]);

    const left = ok(
      await coops().changeState(
        {
          bookId: coop.id,
          membershipId: membership.id,
          toState: 'WITHDRAWN',
          effectiveOn: daysAgo(1),
          idempotencyKey: `s3-${run}`,
          method: 'CASH',
        },
        TESTER,
      ),
    );
    expect(left.entryId).not.toBeNull();
    const balances = await coops().balances(left.membership);
    expect(balances.shareCapital.isZero()).toBe(true);
    expect(balances.subscriptionOutstanding.isZero()).toBe(true);
    expect(balances.paidIn.toFixed(2)).toBe('433.34');
    expect((await coops().schedule(left.membership)).map((i) => i.status)).toEqual([
      'PAID',
      'CANCELLED',
      'CANCELLED',
    ]);
    expect((await coops().votingRoll(coop.id, daysAgo(1))).length).toBe(0);
    expect((await coops().votingRoll(coop.id, daysAgo(2))).length).toBe(1);
    const events = await coops().events(coop.id, membership.id);
    expect(events.map((e) => e.toState)).toEqual(['APPLICANT', 'CANDIDATE', 'ACTIVE', 'WITHDRAWN']);
    expect(events[0]!.entryId).toBe(joined.entryId);
    expect(events[3]!.entryId).toBe(left.entryId);

    const rejoinEarly = await coops().join(
      {
        bookId: coop.id,
        partyId: party.id,
        classId: workerClass.id,
        appliedOn: daysAgo(2),
        idempotencyKey: `rejoin-${run}`,
      },
      TESTER,
    );
    expect(rejoinEarly instanceof LedgerError && [rejoinEarly.code, rejoinEarly.field]).toEqual([
      'INVALID_DATE',
      'appliedOn',
    ]);
    const statement = ok(await coops().statement(left.membership, daysAgo(80), daysAgo(0)));
    expect(statement.entries.length).toBe(4);
    expect(statement.capitalOpening.isZero()).toBe(true);
    expect(statement.capitalClosing.isZero()).toBe(true);
    const mid = ok(await coops().statement(left.membership, daysAgo(80), daysAgo(6)));
    expect(mid.capitalClosing.toFixed(2)).toBe('333.34');
    await consistent(coop.id);
  });

  it('imports a good members file completely and a bad one not at all', async () => {
    const good = [
      'name,class,applied_on,email,external_ref,status,status_on',
      `Bo Baker,WORKER,${daysAgo(20)},bo@example.org,EXT-1,active,${daysAgo(3)}`,
      `"Cy ""The Oven"" Baker",WORKER,${daysAgo(10)},,EXT-2,,`,
    ].join('\n');
    const result = ok(
      await coops().importCsv(
        { bookId: coop.id, kind: 'MEMBERS', csv: good, idempotencyKey: `imp-${run}` },
        TESTER,
      ),
    );
    expect(result).toMatchObject({ imported: true, membershipsCreated: 2, rowErrors: [] });
    const replay = ok(
      await coops().importCsv(
        { bookId: coop.id, kind: 'MEMBERS', csv: good, idempotencyKey: `imp-${run}` },
        TESTER,
      ),
    );
    expect(replay.replayed).toBe(true);
    const before = await coops().listMemberships(coop.id, { afterNumber: null, limit: 100, state: null });
    expect(before.length).toBe(3);

    const bad = [
      'name,class,applied_on',
      `Di Baker,WORKER,${daysAgo(2)}`,
      `Ed Baker,NOPE,${daysAgo(2)}`,
      `Fa Baker,WORKER,2999-01-01`,
    ].join('\n');
    const rejected = ok(
      await coops().importCsv(
        { bookId: coop.id, kind: 'MEMBERS', csv: bad, idempotencyKey: `imp-bad-${run}` },
        TESTER,
      ),
    );
    expect(rejected.imported).toBe(false);
    expect(rejected.rowErrors.map((e) => [e.row, e.column, e.code])).toEqual([
      [3, 'class', 'UNKNOWN_MEMBER_CLASS'],
      [4, 'applied_on', 'INVALID_DATE'],
    ]);
    expect(
      (await coops().listMemberships(coop.id, { afterNumber: null, limit: 100, state: null })).length,
    ).toBe(3);

    const payments = [
      'member,paid_on,amount,method',
      `EXT-1,${daysAgo(1)},500.00,cash`,
      `EXT-2,${daysAgo(1)},1.00,`,
    ].join('\n');
    const paid = ok(
      await coops().importCsv(
        { bookId: coop.id, kind: 'PAYMENTS', csv: payments, idempotencyKey: `pay-${run}` },
        TESTER,
      ),
    );
    expect(paid).toMatchObject({ imported: true, paymentsPosted: 2 });
    const overpaid = ok(
      await coops().importCsv(
        {
          bookId: coop.id,
          kind: 'PAYMENTS',
          csv: ['member,paid_on,amount', `EXT-1,${daysAgo(1)},400.00`, `EXT-1,${daysAgo(1)},200.00`].join(
            '\n',
          ),
          idempotencyKey: `pay-over-${run}`,
        },
        TESTER,
      ),
    );
    expect(overpaid.rowErrors.map((e) => [e.row, e.code])).toEqual([[3, 'PAYMENT_EXCEEDS_OUTSTANDING']]);
    const bo = before.find((m) => m.memberNumber === 2)!;
    expect((await coops().balances(bo)).shareCapital.toFixed(2)).toBe('500.00');
    await consistent(coop.id);
    // The refused file left the member's debt as the good one made it: 1000.00 - 500.00.
    expect((await coops().balances(bo)).subscriptionOutstanding.eq(new Decimal('500.00'))).toBe(true);
  });
});
