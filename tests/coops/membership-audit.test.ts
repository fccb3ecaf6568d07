/**
 * An outside audit of membership money (issue 5), through real HTTP, the SDK and real PostgreSQL:
 * hand-worked cases the other files of tests/coops do not have.
 */
import { execFile, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { promisify } from 'node:util';
import { Decimal } from 'decimal.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LedgerClient } from '../../client-sdk/index.js';
import { builtArgs } from '../helpers/build.js';
import {
  addDays,
  type CoopFixture,
  changeState,
  createClass,
  daysAgo,
  ExpectedBook,
  join,
  listMemberships,
  pay,
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

describe('a payments file names its members without ambiguity and dates them in order', () => {
  let coop: CoopFixture;
  let book: ExpectedBook;
  const D = daysAgo(60);
  const importCsv = (kind: 'MEMBERS' | 'PAYMENTS', lines: string[]) =>
    coop.treasurer.importMembersCsv({
      coopId: coop.id,
      kind,
      csv: [...lines, ''].join('\n'),
      idempotencyKey: newKey('import'),
    });
  const paidIn = async () => {
    const found: Record<number, string> = {};
    for (const m of await listMemberships(server.url, coop.treasurerToken, coop.id))
      found[m.memberNumber] = (await coop.treasurer.membership({ id: m.id }))!.paidIn;
    return found;
  };

  beforeAll(async () => {
    coop = await setupCoop(server.url, admin);
    book = new ExpectedBook(coop.treasurer, coop.bookId);
    await createClass(coop, { code: 'W', name: 'Worker', buyIn: '100.00', instalmentCount: 3, voting: true });
    // The co-op's own references are numbers: member 1's is "2", member 2's is "1"; member 3's
    // reference is its own number.
    const members = await importCsv('MEMBERS', [
      'name,class,applied_on,external_ref',
      `Ama,W,${D},2`,
      `Bea,W,${addDays(D, 10)},1`,
      `Cal,W,${D},3`,
    ]);
    expect(members.rowErrors).toEqual([]);
    expect(members.membershipsCreated).toBe(3);
    for (const n of ['00001', '00002', '00003'])
      book.post([
        [`1150-${n}`, 'DEBIT', '100.00'],
        [`3010-${n}`, 'CREDIT', '100.00'],
      ]);
  });

  it('a cell that is one member’s number and another’s external_ref is refused, naming both; the file lands nothing', async () => {
    const before = await book.check('before');
    const answer = await importCsv('PAYMENTS', [
      'member,paid_on,amount',
      `1,${addDays(D, 20)},10.00`,
      `2,${addDays(D, 20)},20.00`,
      `3,${addDays(D, 20)},30.00`,
    ]);
    expect(answer.imported).toBe(false);
    expect(answer.rowErrors.map((e) => [e.row, e.column, e.code])).toEqual([
      [2, 'member', 'INVALID_INPUT'],
      [3, 'member', 'INVALID_INPUT'],
    ]);
    expect(answer.rowErrors[0]!.message).toContain('member number 1');
    expect(answer.rowErrors[0]!.message).toContain('external_ref of member 2');
    expect(await paidIn()).toEqual({ 1: '0.00', 2: '0.00', 3: '0.00' });
    expect(await book.check('after')).toEqual(before);
  });

  it('a payment dated before the member joined is INVALID_DATE on paid_on, like payInstalment', async () => {
    const before = await book.check('before');
    // Member 3 joined on D: a first row on D + 1 is fine, a second on D - 1 is not.
    const answer = await importCsv('PAYMENTS', [
      'member,paid_on,amount',
      `3,${addDays(D, 1)},30.00`,
      `3,${addDays(D, -1)},10.00`,
    ]);
    expect(answer.imported).toBe(false);
    expect(answer.rowErrors.map((e) => [e.row, e.column, e.code])).toEqual([[3, 'paid_on', 'INVALID_DATE']]);
    expect(answer.rowErrors[0]!.message).toContain(D);
    expect(await paidIn()).toEqual({ 1: '0.00', 2: '0.00', 3: '0.00' });
    expect(await book.check('after')).toEqual(before);
  });

  it('an unambiguous file lands: a member named by its own number and reference alike', async () => {
    const answer = await importCsv('PAYMENTS', [
      'member,paid_on,amount',
      `3,${D},30.00`,
      `3,${addDays(D, 1)},70.00`,
    ]);
    expect(answer.rowErrors).toEqual([]);
    expect(answer.paymentsPosted).toBe(2);
    for (const amount of ['30.00', '70.00'])
      book.post([
        ['1010', 'DEBIT', amount],
        ['3000-00003', 'CREDIT', amount],
        ['3010-00003', 'DEBIT', amount],
        ['1150-00003', 'CREDIT', amount],
      ]);
    await book.check('landed');
    expect(await paidIn()).toEqual({ 1: '0.00', 2: '0.00', 3: '100.00' });
  });
});

describe('a member statement: opening + movements = closing on every account, to the cent', () => {
  it('pending entries on a member account are not movements until committed (a voided or open one never)', async () => {
    const coop = await setupCoop(server.url, admin);
    const classId = await createClass(coop, { code: 'W', name: 'Worker', buyIn: '100.00', voting: true });
    const D = daysAgo(10);
    const member = await join(coop, { classId, appliedOn: D });
    const internalCapital = member.membership.accounts.internalCapital!.id;
    await pay(coop, member.membership.id, '40.00', addDays(D, 1));
    // Internal capital credited against expenses: 5.00 reserved on D+1 and committed on D+2,
    // 7.00 reserved and voided, 3.00 reserved and still open, 2.50 posted at the last instant of
    // D+3 and 1.00 at the first of D+4.
    const credit = (amount: string) => [
      { accountId: coop.chart['5000']!, side: 'DEBIT' as const, amount, unit: 'USD' },
      { accountId: internalCapital, side: 'CREDIT' as const, amount, unit: 'USD' },
    ];
    const pending = async (amount: string, at: string) => {
      const answer = await coop.treasurer.postPendingEntry({
        bookId: coop.bookId,
        idempotencyKey: newKey('pending'),
        effectiveAt: at,
        lines: credit(amount),
      });
      expect(answer.userErrors).toEqual([]);
      return answer.entry!.id;
    };
    const posted = async (amount: string, at: string) => {
      const answer = await coop.treasurer.postJournalEntry({
        bookId: coop.bookId,
        idempotencyKey: newKey('posted'),
        effectiveAt: at,
        lines: credit(amount),
      });
      expect(answer.userErrors).toEqual([]);
    };
    const committed = await pending('5.00', `${addDays(D, 1)}T10:00:00.000Z`);
    const voided = await pending('7.00', `${addDays(D, 1)}T11:00:00.000Z`);
    await pending('3.00', `${addDays(D, 3)}T09:00:00.000Z`);
    const commit = await coop.treasurer.commitPendingEntry({
      entryId: committed,
      idempotencyKey: newKey('commit'),
      effectiveAt: `${addDays(D, 2)}T10:00:00.000Z`,
    });
    expect(commit.userErrors).toEqual([]);
    const voiding = await coop.treasurer.voidPendingEntry({
      entryId: voided,
      idempotencyKey: newKey('void'),
    });
    expect(voiding.userErrors).toEqual([]);
    await posted('2.50', `${addDays(D, 3)}T23:59:59.999Z`);
    await posted('1.00', `${addDays(D, 4)}T00:00:00.000Z`);

    const statement = async (from: string, to: string) => {
      const s = (await coop.treasurer.memberStatement({ membershipId: member.membership.id, from, to }))!;
      // Independently: each account's opening plus its movements' lines, signed by the account's
      // normal side (assets debit, equity and liabilities credit), is its closing balance.
      for (const a of s.accounts) {
        const debitNormal = a.role === 'SUBSCRIPTION_RECEIVABLE';
        const moved = s.movements
          .flatMap((m) => m.changes)
          .filter((c) => c.role === a.role)
          .reduce(
            (sum, c) => sum.plus((c.side === 'DEBIT') === debitNormal ? c.amount : `-${c.amount}`),
            new Decimal(0),
          );
        expect(new Decimal(a.opening).plus(moved).toFixed(2), `${from}..${to} ${a.role}`).toBe(a.closing);
      }
      const ic = s.accounts.find((a) => a.role === 'INTERNAL_CAPITAL')!;
      const icMovements = s.movements
        .filter((m) => m.changes.some((c) => c.role === 'INTERNAL_CAPITAL'))
        .map((m) => [m.effectiveAt, m.changes.map((c) => `${c.side} ${c.amount}`).join(' ')]);
      return { opening: ic.opening, closing: ic.closing, movements: icMovements };
    };
    expect(await statement(D, addDays(D, 3))).toEqual({
      opening: '0.00',
      closing: '7.50',
      movements: [
        [`${addDays(D, 2)}T10:00:00.000Z`, 'CREDIT 5.00'],
        [`${addDays(D, 3)}T23:59:59.999Z`, 'CREDIT 2.50'],
      ],
    });
    expect(await statement(addDays(D, 4), today())).toEqual({
      opening: '7.50',
      closing: '8.50',
      movements: [[`${addDays(D, 4)}T00:00:00.000Z`, 'CREDIT 1.00']],
    });
    expect((await coop.treasurer.membership({ id: member.membership.id }))!.internalCapital).toBe('8.50');
  });
});

describe('an external_ref is kept as it is checked: trimmed', () => {
  it('registerParty with spaces around its externalRef stores it trimmed, so it is unique and a payments file names it', async () => {
    const coop = await setupCoop(server.url, admin);
    const classId = await createClass(coop, { code: 'W', name: 'Worker', buyIn: '100.00', voting: true });
    const ann = await coop.treasurer.registerParty({
      coopId: coop.id,
      name: 'Ann Ívarsdóttir',
      externalRef: ' Ä-1 ',
    });
    expect(ann.userErrors).toEqual([]);
    expect(ann.party!.externalRef).toBe('Ä-1');
    // Another person cannot take the same reference written without the spaces.
    const other = await coop.treasurer.registerParty({
      coopId: coop.id,
      name: 'Someone else',
      externalRef: 'Ä-1',
    });
    expect(other.userErrors.map((e) => [e.code, e.field])).toEqual([['INVALID_INPUT', 'externalRef']]);
    const member = await join(coop, { classId, appliedOn: daysAgo(5), partyId: ann.party!.id });
    const paid = await coop.treasurer.importMembersCsv({
      coopId: coop.id,
      kind: 'PAYMENTS',
      csv: `member,paid_on,amount\nÄ-1,${daysAgo(1)},12.34\n`,
      idempotencyKey: newKey('import'),
    });
    expect(paid.rowErrors).toEqual([]);
    expect((await coop.treasurer.membership({ id: member.membership.id }))!.paidIn).toBe('12.34');
  });
});

describe('a ledger refusal of an imported row names the file’s column', () => {
  it('a member who applied before the book’s backdating window: INVALID_EFFECTIVE_AT on applied_on, nothing lands', async () => {
    const coop = await setupCoop(server.url, admin);
    await createClass(coop, { code: 'W', name: 'Worker', buyIn: '100.00', voting: true });
    const answer = await coop.treasurer.importMembersCsv({
      coopId: coop.id,
      kind: 'MEMBERS',
      csv: `name,class,applied_on\nRecent,W,${daysAgo(30)}\nFounder,W,${daysAgo(3700)}\n`,
      idempotencyKey: newKey('import'),
    });
    expect(answer.imported).toBe(false);
    expect(answer.rowErrors.map((e) => [e.row, e.column, e.code])).toEqual([
      [3, 'applied_on', 'INVALID_EFFECTIVE_AT'],
    ]);
    expect(await listMemberships(server.url, coop.treasurerToken, coop.id)).toEqual([]);
  });
});

describe('two members files at once that give one external_ref to two people', () => {
  it('one lands, the other is a row error on external_ref (no internal error), and the reference names one person', async () => {
    const coop = await setupCoop(server.url, admin);
    await createClass(coop, { code: 'W', name: 'Worker', buyIn: '100.00', voting: true });
    // Enough rows that both files are checked before either is applied.
    for (let round = 0; round < 3; round++) {
      const file = (who: string) =>
        [
          'name,class,applied_on,external_ref',
          ...Array.from(
            { length: 30 },
            (_, i) => `${who} ${round}-${i},W,${daysAgo(3)},${who}-${round}-${i}`,
          ),
          `${who} shared,W,${daysAgo(3)},SHARED-${round}`,
          '',
        ].join('\n');
      const answers = await Promise.all(
        ['A', 'B'].map((who) =>
          coop.treasurer.importMembersCsv({
            coopId: coop.id,
            kind: 'MEMBERS',
            csv: file(who),
            idempotencyKey: newKey('import'),
          }),
        ),
      );
      expect(answers.map((a) => a.imported).sort()).toEqual([false, true]);
      const refused = answers.find((a) => !a.imported)!;
      expect(refused.rowErrors.map((e) => [e.row, e.column, e.code])).toEqual([
        [32, 'external_ref', 'INVALID_INPUT'],
      ]);
    }
    const members = await listMemberships(server.url, coop.treasurerToken, coop.id);
    expect(members.length).toBe(3 * 31);
    expect(new Set(members.map((m) => m.party.externalRef)).size).toBe(3 * 31);
  });
});

describe('a members file does not make one person two members (one member, one vote)', () => {
  it('a row that repeats another row’s person, or a person already holding an open membership, is refused', async () => {
    const coop = await setupCoop(server.url, admin);
    await createClass(coop, { code: 'W', name: 'Worker', buyIn: '10.00', voting: true });
    const D = daysAgo(20);
    const header = 'name,class,applied_on,email,status,status_on';
    const first = await coop.treasurer.importMembersCsv({
      coopId: coop.id,
      kind: 'MEMBERS',
      csv: [header, `Ana Ruiz,W,${D},ana@example.org,active,${D}`, `Ben Ode,W,${D},,active,${D}`, ''].join(
        '\n',
      ),
      idempotencyKey: newKey('import'),
    });
    expect(first.rowErrors).toEqual([]);
    // The same people again under another key (the file sent twice), and a file naming one person
    // twice: each repeat is refused by line; people who only share a name or an email are not.
    const again = await coop.treasurer.importMembersCsv({
      coopId: coop.id,
      kind: 'MEMBERS',
      csv: [
        header,
        `Ana Ruiz,W,${D},ana@example.org,active,${D}`,
        `Cy Moss,W,${D},cy@example.org,,`,
        ` cy moss ,W,${addDays(D, 1)},CY@example.org,,`,
        `Ana Ruiz,W,${D},other@example.org,,`,
        `Dee Moss,W,${D},cy@example.org,,`,
        '',
      ].join('\n'),
      idempotencyKey: newKey('import'),
    });
    expect(again.imported).toBe(false);
    expect(again.rowErrors.map((e) => [e.row, e.column, e.code])).toEqual([
      [2, 'name', 'ALREADY_MEMBER'],
      [4, 'name', 'ALREADY_MEMBER'],
    ]);
    expect(again.rowErrors[0]!.message).toContain('membership 1');
    expect(again.rowErrors[1]!.message).toContain('line 3');
    const roll = await coop.treasurer.votingRoll({ coopId: coop.id, on: D });
    expect(roll!.votes).toBe(2);
  });
});

describe('leaving while a pending entry reserves on the member’s accounts', () => {
  it('is refused with a reason until the entry is committed or voided; then the redemption takes what is posted', async () => {
    const coop = await setupCoop(server.url, admin, { redemptionRule: 'HOLD' });
    const classId = await createClass(coop, { code: 'W', name: 'Worker', buyIn: '100.00', voting: true });
    const D = daysAgo(10);
    const member = await join(coop, { classId, appliedOn: D });
    await pay(coop, member.membership.id, '40.00', addDays(D, 1));
    const accounts = member.membership.accounts;
    const pending = async (lines: { accountId: string; side: 'DEBIT' | 'CREDIT'; amount: string }[]) => {
      const answer = await coop.treasurer.postPendingEntry({
        bookId: coop.bookId,
        idempotencyKey: newKey('pending'),
        effectiveAt: `${addDays(D, 2)}T10:00:00.000Z`,
        lines: lines.map((l) => ({ ...l, unit: 'USD' })),
      });
      expect(answer.userErrors).toEqual([]);
      return answer.entry!.id;
    };
    // 30.00 of the share capital reserved for a refund by hand, 6.00 of internal capital on its way.
    const refund = await pending([
      { accountId: accounts.shareCapital!.id, side: 'DEBIT', amount: '30.00' },
      { accountId: coop.chart['1000']!, side: 'CREDIT', amount: '30.00' },
    ]);
    const credit = await pending([
      { accountId: coop.chart['5000']!, side: 'DEBIT', amount: '6.00' },
      { accountId: accounts.internalCapital!.id, side: 'CREDIT', amount: '6.00' },
    ]);
    const leave = () =>
      coop.treasurer.changeMembershipState({
        membershipId: member.membership.id,
        toState: 'WITHDRAWN',
        effectiveOn: addDays(D, 3),
        idempotencyKey: newKey('leave'),
      });
    for (const entryId of [refund, credit]) {
      const refused = await leave();
      expect(refused.userErrors.map((e) => [e.code, e.field])).toEqual([['INVALID_INPUT', 'membershipId']]);
      expect(refused.userErrors[0]!.message).toContain('pending');
      const resolved =
        entryId === refund
          ? await coop.treasurer.voidPendingEntry({ entryId, idempotencyKey: newKey('void') })
          : await coop.treasurer.commitPendingEntry({
              entryId,
              idempotencyKey: newKey('commit'),
              effectiveAt: `${addDays(D, 2)}T12:00:00.000Z`,
            });
      expect(resolved.userErrors).toEqual([]);
    }
    const left = await leave();
    expect(left.userErrors).toEqual([]);
    expect(left.entry!.lines.map((l) => [l.account.code, l.side, l.amount])).toEqual([
      ['3010-00001', 'DEBIT', '60.00'],
      ['1150-00001', 'CREDIT', '60.00'],
      ['3000-00001', 'DEBIT', '40.00'],
      ['2100-00001', 'CREDIT', '40.00'],
      ['3100-00001', 'DEBIT', '6.00'],
      ['2100-00001', 'CREDIT', '6.00'],
    ]);
    expect((await coop.treasurer.membership({ id: member.membership.id }))!.redemptionPayable).toBe('46.00');
  });
});

describe.skipIf(process.env.PLAIN_TEXT_TOOLS === 'unavailable')(
  'a membership’s life checked by hledger',
  () => {
    it('uneven instalments, a transfer in, leaving under HOLD and a part repayment: hledger’s balances are the hand-worked ones', {
      timeout: 60_000,
    }, async () => {
      const coop = await setupCoop(server.url, admin, { redemptionRule: 'HOLD' });
      const classId = await createClass(coop, {
        code: 'W',
        name: 'Worker',
        buyIn: '100.00',
        instalmentCount: 3,
        voting: true,
        transferable: true,
      });
      const D = daysAgo(40);
      const ann = await join(coop, { classId, appliedOn: D });
      const bob = await join(coop, { classId, appliedOn: D });
      await pay(coop, ann.membership.id, '33.34', addDays(D, 1));
      await pay(coop, ann.membership.id, '20.00', addDays(D, 2), 'CASH');
      await pay(coop, bob.membership.id, '100.00', addDays(D, 2));
      const moved = await coop.treasurer.transferShares({
        fromMembershipId: bob.membership.id,
        toMembershipId: ann.membership.id,
        amount: '25.00',
        effectiveOn: addDays(D, 3),
        idempotencyKey: newKey('transfer'),
      });
      expect(moved.userErrors).toEqual([]);
      // Ann leaves owing 46.66 (cancelled) and holding 53.34 paid + 25.00 bought = 78.34 (held).
      await changeState(coop, ann.membership.id, 'WITHDRAWN', addDays(D, 4));
      const repaid = await coop.treasurer.repayRedemption({
        membershipId: ann.membership.id,
        amount: '50.00',
        paidOn: addDays(D, 5),
        method: 'BANK',
        idempotencyKey: newKey('repay'),
      });
      expect(repaid.userErrors).toEqual([]);
      const file = `${tmpdir()}/coop-${newKey('book')}.journal`;
      await new Promise<void>((resolve, reject) => {
        const child = spawn(
          process.execPath,
          [
            ...builtArgs('scripts/export-ledger.ts'),
            '--book',
            coop.bookId,
            '--format',
            'hledger',
            '--out',
            file,
          ],
          {
            env: { ...process.env, LEDGER_URL: server.url, LEDGER_TOKEN: server.adminToken },
            stdio: ['ignore', 'ignore', 'pipe'],
          },
        );
        let stderr = '';
        child.stderr.on('data', (d) => {
          stderr += d;
        });
        child.on('error', reject);
        child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`export-ledger: ${stderr}`))));
      });
      const run = promisify(execFile);
      const { stdout } = await run('hledger', ['-f', file, 'check', '--strict', 'ordereddates'])
        .then(() =>
          run('hledger', ['-f', file, 'balance', '--flat', '--no-total', '-O', 'csv', '--layout=bare']),
        )
        .finally(() => rmSync(file, { force: true }));
      const balances = stdout
        .trim()
        .split('\n')
        .slice(1)
        .map((line) => line.split(',').map((c) => c.replace(/^"|"$/g, '')));
      expect(balances).toEqual([
        ['asset:1000', 'USD', '20.00'],
        ['asset:1010', 'USD', '83.34'],
        ['equity:3000-00002', 'USD', '-75.00'],
        ['liability:2100-00001', 'USD', '-28.34'],
      ]);
      const m = (await coop.treasurer.membership({ id: ann.membership.id }))!;
      expect([m.paidIn, m.outstanding, m.shareCapital, m.redemptionPayable]).toEqual([
        '53.34',
        '0.00',
        '0.00',
        '28.34',
      ]);
    });
  },
);

describe('the voting roll does not depend on money', () => {
  it('an ACTIVE member who has paid nothing votes, a fully paid CANDIDATE does not, and twice the shares (or none, sold) is still one vote', async () => {
    const coop = await setupCoop(server.url, admin);
    const classId = await createClass(coop, {
      code: 'W',
      name: 'Worker',
      buyIn: '100.00',
      instalmentCount: 24,
      voting: true,
      transferable: true,
    });
    const D = daysAgo(30);
    const unpaid = await join(coop, { classId, appliedOn: D, name: 'Una Unpaid' });
    const paid = await join(coop, { classId, appliedOn: D, name: 'Cato Candidate' });
    const rich = await join(coop, { classId, appliedOn: D, name: 'Rita Rich' });
    const seller = await join(coop, { classId, appliedOn: D, name: 'Sol Seller' });
    await changeState(coop, unpaid.membership.id, 'ACTIVE', addDays(D, 1));
    await pay(coop, paid.membership.id, '100.00', addDays(D, 1));
    await changeState(coop, paid.membership.id, 'CANDIDATE', addDays(D, 1));
    for (const m of [rich, seller]) {
      await pay(coop, m.membership.id, '100.00', addDays(D, 1));
      await changeState(coop, m.membership.id, 'ACTIVE', addDays(D, 1));
    }
    const moved = await coop.treasurer.transferShares({
      fromMembershipId: seller.membership.id,
      toMembershipId: rich.membership.id,
      amount: '100.00',
      effectiveOn: addDays(D, 2),
      idempotencyKey: newKey('transfer'),
    });
    expect(moved.userErrors).toEqual([]);
    const roll = (await coop.treasurer.votingRoll({ coopId: coop.id, on: addDays(D, 2) }))!;
    expect(roll.entries.map((e) => [e.memberNumber, e.party.name]).sort()).toEqual([
      [1, 'Una Unpaid'],
      [3, 'Rita Rich'],
      [4, 'Sol Seller'],
    ]);
    expect(roll.votes).toBe(3);
    const una = (await coop.treasurer.membership({ id: unpaid.membership.id }))!;
    expect([una.paidIn, una.outstanding]).toEqual(['0.00', '100.00']);
    const rita = (await coop.treasurer.membership({ id: rich.membership.id }))!;
    expect(rita.shareCapital).toBe('200.00');
  });
});

describe('a replayed state change answers as the first answer did', () => {
  it('a state change that posted nothing replays with no entry, even when its key names a payment’s entry', async () => {
    const coop = await setupCoop(server.url, admin);
    const classId = await createClass(coop, { code: 'W', name: 'Worker', buyIn: '100.00', voting: true });
    const D = daysAgo(10);
    const member = await join(coop, { classId, appliedOn: D });
    // The treasurer's tool derives keys from a ticket number: the payment and the activation of
    // ticket 42 share one. They are different operations in different key spaces.
    const key = newKey('ticket-42');
    const paid = await coop.treasurer.payInstalment({
      membershipId: member.membership.id,
      amount: '10.00',
      paidOn: addDays(D, 1),
      method: 'BANK',
      idempotencyKey: key,
    });
    expect(paid.userErrors).toEqual([]);
    const input = {
      membershipId: member.membership.id,
      toState: 'ACTIVE' as const,
      effectiveOn: addDays(D, 2),
      idempotencyKey: key,
    };
    const first = await coop.treasurer.changeMembershipState(input);
    expect(first.userErrors).toEqual([]);
    expect([first.replayed, first.entry]).toEqual([false, null]);
    const again = await coop.treasurer.changeMembershipState(input);
    expect(again.userErrors).toEqual([]);
    expect([again.replayed, again.entry]).toEqual([true, null]);
  });
});
