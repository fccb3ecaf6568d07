/**
 * An outside audit of membership money (issue 5), through real HTTP, the SDK and real PostgreSQL:
 * hand-worked cases the other files of tests/coops do not have.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LedgerClient } from '../../client-sdk/index.js';
import {
  addDays,
  type CoopFixture,
  createClass,
  daysAgo,
  ExpectedBook,
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
