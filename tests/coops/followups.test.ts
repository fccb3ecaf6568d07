/**
 * Follow-ups of the membership audit (issue 5), through real HTTP, the SDK and real PostgreSQL:
 * the keys of CSV import rows, the status of an overdue instalment paid in part, member numbers
 * written with leading zeros, and one person imported by two files at once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LedgerClient } from '../../client-sdk/index.js';
import {
  addDays,
  addMonths,
  type CoopFixture,
  createClass,
  daysAgo,
  join,
  listMemberships,
  setupCoop,
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

const paidIn = async (coop: CoopFixture, id: string) => (await coop.treasurer.membership({ id }))!.paidIn;

describe('the entries of a CSV file are keyed apart from every other request', () => {
  it('a payInstalment keyed "K#2" neither stands for row 2 of file K nor is stood for by it', async () => {
    const coop = await setupCoop(server.url, admin);
    const classId = await createClass(coop, { code: 'W', name: 'Worker', buyIn: '100.00', voting: true });
    const D = daysAgo(30);
    const member = await join(coop, { classId, appliedOn: D });
    const id = member.membership.id;
    const number = member.membership.memberNumber;
    const K = newKey('file');
    // The treasurer's tool keys payments by "<batch>#<line>" too: the same payment as row 2 of K.
    const first = await coop.treasurer.payInstalment({
      membershipId: id,
      amount: '10.00',
      paidOn: addDays(D, 1),
      method: 'BANK',
      idempotencyKey: `${K}#2`,
    });
    expect(first.userErrors).toEqual([]);
    const file = await coop.treasurer.importMembersCsv({
      coopId: coop.id,
      kind: 'PAYMENTS',
      csv: `member,paid_on,amount\n${number},${addDays(D, 1)},10.00\n`,
      idempotencyKey: K,
    });
    expect(file.rowErrors).toEqual([]);
    expect([file.imported, file.replayed, file.paymentsPosted]).toEqual([true, false, 1]);
    // Two payments were made, two are counted.
    expect(await paidIn(coop, id)).toBe('20.00');

    // The other way: a file first, then a payment whose key is the file's row 2.
    const K2 = newKey('file');
    const second = await coop.treasurer.importMembersCsv({
      coopId: coop.id,
      kind: 'PAYMENTS',
      csv: `member,paid_on,amount\n${number},${addDays(D, 2)},5.00\n`,
      idempotencyKey: K2,
    });
    expect(second.rowErrors).toEqual([]);
    const later = await coop.treasurer.payInstalment({
      membershipId: id,
      amount: '5.00',
      paidOn: addDays(D, 2),
      method: 'BANK',
      idempotencyKey: `${K2}#2`,
    });
    expect(later.userErrors).toEqual([]);
    expect(later.replayed).toBe(false);
    expect(await paidIn(coop, id)).toBe('30.00');
    // The file's replay still answers as it did.
    const replay = await coop.treasurer.importMembersCsv({
      coopId: coop.id,
      kind: 'PAYMENTS',
      csv: `member,paid_on,amount\n${number},${addDays(D, 2)},5.00\n`,
      idempotencyKey: K2,
    });
    expect([replay.imported, replay.replayed, replay.paymentsPosted]).toEqual([true, true, 1]);
    expect(await paidIn(coop, id)).toBe('30.00');
  });

  it('a joinCoop keyed "K#2" and row 2 of a members file K make two memberships', async () => {
    const coop = await setupCoop(server.url, admin);
    const classId = await createClass(coop, { code: 'W', name: 'Worker', buyIn: '100.00', voting: true });
    const D = daysAgo(30);
    const K = newKey('file');
    const party = await coop.treasurer.registerParty({ coopId: coop.id, name: 'Ama' });
    const joined = await coop.treasurer.joinCoop({
      coopId: coop.id,
      partyId: party.party!.id,
      memberClassId: classId,
      appliedOn: D,
      idempotencyKey: `${K}#2`,
    });
    expect(joined.userErrors).toEqual([]);
    const file = await coop.treasurer.importMembersCsv({
      coopId: coop.id,
      kind: 'MEMBERS',
      csv: `name,class,applied_on\nBea,W,${D}\n`,
      idempotencyKey: K,
    });
    expect(file.rowErrors).toEqual([]);
    expect([file.imported, file.membershipsCreated]).toEqual([true, 1]);
    expect((await listMemberships(server.url, coop.treasurerToken, coop.id)).length).toBe(2);
  });

  it('a user key in the form reserved for import rows is refused, naming the field', async () => {
    const coop = await setupCoop(server.url, admin);
    const classId = await createClass(coop, { code: 'W', name: 'Worker', buyIn: '100.00', voting: true });
    const member = await join(coop, { classId, appliedOn: daysAgo(5) });
    const paid = await coop.treasurer.payInstalment({
      membershipId: member.membership.id,
      amount: '10.00',
      paidOn: daysAgo(1),
      method: 'BANK',
      idempotencyKey: 'csv!K#2',
    });
    expect(paid.userErrors.map((e) => [e.code, e.field])).toEqual([
      ['INVALID_IDEMPOTENCY_KEY', 'idempotencyKey'],
    ]);
    expect(await paidIn(coop, member.membership.id)).toBe('0.00');
  });
});

describe('an instalment past its due date and paid in part is OVERDUE', () => {
  it('PAID, OVERDUE with its part paid shown, OVERDUE, DUE, UPCOMING', async () => {
    const coop = await setupCoop(server.url, admin);
    const classId = await createClass(coop, {
      code: 'W',
      name: 'Worker',
      buyIn: '500.00',
      instalmentCount: 5,
      instalmentIntervalMonths: 1,
      voting: true,
    });
    // Joined three months ago today: instalments due then, 2 and 1 months ago, today and in a month.
    const today = daysAgo(0);
    const applied = addMonths(today, -3);
    // Only when that day exists three months back (the 31st, say, of a shorter month does not).
    if (addMonths(applied, 3) !== today) return;
    const member = await join(coop, { classId, appliedOn: applied });
    const paid = await coop.treasurer.payInstalment({
      membershipId: member.membership.id,
      amount: '130.00',
      paidOn: addDays(applied, 1),
      method: 'BANK',
      idempotencyKey: newKey('pay'),
    });
    expect(paid.userErrors).toEqual([]);
    const schedule = (await coop.treasurer.membership({ id: member.membership.id }))!.schedule;
    expect(schedule.map((i) => [i.dueOn, i.paid, i.status])).toEqual([
      [applied, '100.00', 'PAID'],
      [addMonths(applied, 1), '30.00', 'OVERDUE'],
      [addMonths(applied, 2), '0.00', 'OVERDUE'],
      [today, '0.00', 'DUE'],
      [addMonths(applied, 4), '0.00', 'UPCOMING'],
    ]);
    // Paid in part and due today: DUE, the part shown; paid in part ahead of its day: PARTLY_PAID.
    const more = await coop.treasurer.payInstalment({
      membershipId: member.membership.id,
      amount: '200.00',
      paidOn: addDays(applied, 2),
      method: 'BANK',
      idempotencyKey: newKey('pay'),
    });
    expect(more.userErrors).toEqual([]);
    const after = (await coop.treasurer.membership({ id: member.membership.id }))!.schedule;
    expect(after.map((i) => [i.paid, i.status])).toEqual([
      ['100.00', 'PAID'],
      ['100.00', 'PAID'],
      ['100.00', 'PAID'],
      ['30.00', 'DUE'],
      ['0.00', 'UPCOMING'],
    ]);
    const ahead = await coop.treasurer.payInstalment({
      membershipId: member.membership.id,
      amount: '80.00',
      paidOn: addDays(applied, 3),
      method: 'BANK',
      idempotencyKey: newKey('pay'),
    });
    expect(ahead.userErrors).toEqual([]);
    const last = (await coop.treasurer.membership({ id: member.membership.id }))!.schedule;
    expect(last.map((i) => [i.paid, i.status]).slice(3)).toEqual([
      ['100.00', 'PAID'],
      ['10.00', 'PARTLY_PAID'],
    ]);
  });
});

describe('a payments file reads a member cell of digits as a member number', () => {
  let coop: CoopFixture;
  const D = daysAgo(40);
  const importCsv = (lines: string[]) =>
    coop.treasurer.importMembersCsv({
      coopId: coop.id,
      kind: 'PAYMENTS',
      csv: [...lines, ''].join('\n'),
      idempotencyKey: newKey('import'),
    });
  let ids: Record<number, string>;

  beforeAll(async () => {
    coop = await setupCoop(server.url, admin);
    await createClass(coop, { code: 'W', name: 'Worker', buyIn: '100.00', voting: true });
    // Member 1 has no reference, member 2's is "007", member 3's is "2".
    const members = await coop.treasurer.importMembersCsv({
      coopId: coop.id,
      kind: 'MEMBERS',
      csv: ['name,class,applied_on,external_ref', `Ama,W,${D},`, `Bea,W,${D},007`, `Cal,W,${D},2`, ''].join(
        '\n',
      ),
      idempotencyKey: newKey('members'),
    });
    expect(members.rowErrors).toEqual([]);
    ids = Object.fromEntries(
      (await listMemberships(server.url, coop.treasurerToken, coop.id)).map((m) => [m.memberNumber, m.id]),
    );
  });

  it('"00001" and "0001" are member 1 (the register prints numbers as 00001)', async () => {
    const file = await importCsv([
      'member,paid_on,amount',
      `00001,${addDays(D, 1)},10.00`,
      `0001,${addDays(D, 1)},1.00`,
    ]);
    expect(file.rowErrors).toEqual([]);
    expect(await paidIn(coop, ids[1]!)).toBe('11.00');
  });

  it('a reference written as the cell wins over the number it spells: "007" is member 2, not member 7', async () => {
    const file = await importCsv(['member,paid_on,amount', `007,${addDays(D, 1)},2.00`]);
    expect(file.rowErrors).toEqual([]);
    expect(await paidIn(coop, ids[2]!)).toBe('2.00');
  });

  it('"02" is member 2 (no reference is "02"); "2" is still refused as both member 2 and member 3’s reference', async () => {
    const ok = await importCsv(['member,paid_on,amount', `02,${addDays(D, 1)},3.00`]);
    expect(ok.rowErrors).toEqual([]);
    expect(await paidIn(coop, ids[2]!)).toBe('5.00');
    const ambiguous = await importCsv(['member,paid_on,amount', `2,${addDays(D, 1)},3.00`]);
    expect(ambiguous.rowErrors.map((e) => [e.row, e.column, e.code])).toEqual([
      [2, 'member', 'INVALID_INPUT'],
    ]);
  });

  it('"0", "00000" and a number of 30 digits name nobody', async () => {
    const file = await importCsv([
      'member,paid_on,amount',
      `0,${addDays(D, 1)},1.00`,
      `00000,${addDays(D, 1)},1.00`,
      `${'9'.repeat(30)},${addDays(D, 1)},1.00`,
    ]);
    expect(file.rowErrors.map((e) => [e.row, e.code])).toEqual([
      [2, 'UNKNOWN_MEMBERSHIP'],
      [3, 'UNKNOWN_MEMBERSHIP'],
      [4, 'UNKNOWN_MEMBERSHIP'],
    ]);
  });
});

describe('one person in two members files sent at once', () => {
  it('lands once: the other file is refused with ALREADY_MEMBER, in every round', async () => {
    const coop = await setupCoop(server.url, admin);
    await createClass(coop, { code: 'W', name: 'Worker', buyIn: '100.00', voting: true });
    const D = daysAgo(10);
    for (let round = 0; round < 4; round++) {
      // Many rows, so the two files' checks are likely to overlap before either transaction.
      const others = (tag: string) =>
        Array.from({ length: 20 }, (_, i) => `Other ${round} ${tag} ${i},W,${D},o${round}${tag}${i}@x.test`);
      const file = (tag: string) =>
        coop.treasurer.importMembersCsv({
          coopId: coop.id,
          kind: 'MEMBERS',
          csv: [
            'name,class,applied_on,email',
            ...others(tag),
            `Dana ${round},W,${D},dana${round}@x.test`,
            '',
          ].join('\n'),
          idempotencyKey: newKey(`people-${tag}`),
        });
      const answers = await Promise.all([file('a'), file('b')]);
      expect(answers.filter((a) => a.imported).length).toBe(1);
      const refused = answers.find((a) => !a.imported)!;
      expect(refused.rowErrors.map((e) => [e.row, e.column, e.code])).toEqual([
        [22, 'name', 'ALREADY_MEMBER'],
      ]);
    }
    const all = await listMemberships(server.url, coop.treasurerToken, coop.id);
    expect(all.length).toBe(4 * 21);
  });
});

describe('a payment that lands while a payments file is checked', () => {
  it('one of the two is refused as PAYMENT_EXCEEDS_OUTSTANDING on amount, whichever came second', async () => {
    const coop = await setupCoop(server.url, admin);
    const classId = await createClass(coop, { code: 'W', name: 'Worker', buyIn: '100.00', voting: true });
    const D = daysAgo(10);
    for (let round = 0; round < 3; round++) {
      const member = await join(coop, { classId, appliedOn: D });
      // 30 rows of 2.00 and one payment of 50.00: each fits the 100.00 owed alone, not together.
      const rows = Array.from(
        { length: 30 },
        () => `${member.membership.memberNumber},${addDays(D, 1)},2.00`,
      );
      const [file, paid] = await Promise.all([
        coop.treasurer.importMembersCsv({
          coopId: coop.id,
          kind: 'PAYMENTS',
          csv: ['member,paid_on,amount', ...rows, ''].join('\n'),
          idempotencyKey: newKey('file'),
        }),
        coop.treasurer.payInstalment({
          membershipId: member.membership.id,
          amount: '50.00',
          paidOn: addDays(D, 1),
          method: 'BANK',
          idempotencyKey: newKey('pay'),
        }),
      ]);
      const paidIn = (await coop.treasurer.membership({ id: member.membership.id }))!.paidIn;
      if (file.imported) {
        expect(paid.userErrors.map((e) => [e.code, e.field])).toEqual([
          ['PAYMENT_EXCEEDS_OUTSTANDING', 'amount'],
        ]);
        expect(paidIn).toBe('60.00');
      } else {
        expect(paid.userErrors).toEqual([]);
        // The 26th row (line 27) is the first past what is owed, however the file found out (its
        // check names every row past it, the posting the first).
        expect(file.rowErrors[0]!.row).toBe(27);
        expect(new Set(file.rowErrors.map((e) => `${e.column} ${e.code}`))).toEqual(
          new Set(['amount PAYMENT_EXCEEDS_OUTSTANDING']),
        );
        expect(paidIn).toBe('50.00');
      }
    }
  });
});

describe('a leaving that redeemed nothing answers no entry, even under a key a payment used', () => {
  it('its replay and its history name no entry, not the payment’s', async () => {
    const coop = await setupCoop(server.url, admin);
    const paying = await createClass(coop, { code: 'W', name: 'Worker', buyIn: '100.00', voting: true });
    const free = await createClass(coop, { code: 'F', name: 'Friend', buyIn: '0.00', voting: false });
    const D = daysAgo(10);
    const payer = await join(coop, { classId: paying, appliedOn: D });
    const friend = await join(coop, { classId: free, appliedOn: D });
    // One ticket number keys both: the payment of one member and the leaving of another.
    const key = newKey('ticket');
    const paid = await coop.treasurer.payInstalment({
      membershipId: payer.membership.id,
      amount: '10.00',
      paidOn: addDays(D, 1),
      method: 'BANK',
      idempotencyKey: key,
    });
    expect(paid.userErrors).toEqual([]);
    const input = {
      membershipId: friend.membership.id,
      toState: 'WITHDRAWN' as const,
      effectiveOn: addDays(D, 2),
      idempotencyKey: key,
    };
    const first = await coop.treasurer.changeMembershipState(input);
    expect(first.userErrors).toEqual([]);
    expect([first.replayed, first.entry]).toEqual([false, null]);
    const again = await coop.treasurer.changeMembershipState(input);
    expect(again.userErrors).toEqual([]);
    expect([again.replayed, again.entry]).toEqual([true, null]);
    const history = (await coop.treasurer.membership({ id: friend.membership.id }))!.history;
    expect(history.map((e) => [e.toState, e.entry])).toEqual([
      ['APPLICANT', null],
      ['WITHDRAWN', null],
    ]);
  });
});
