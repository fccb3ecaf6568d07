/**
 * An outside audit of patronage through real HTTP, the SDK and real PostgreSQL: hand-worked
 * allocations the other tests do not have, each checked against the book (every account's totals
 * through ExpectedBook, so the members' capital accounts agree with the allocation to the cent).
 *
 * 1. Three measures of three kinds and three unit scales (hours at 1 decimal, wages at 2,
 *    purchases at 3), weights 2 / 1 / 1, a tie in the largest remainder, a member whose
 *    patronage is zero, Mondragon's 45/10/45; then a loss year charged to the reserve first and
 *    to members by patronage (written off their retained allocations, the rest carried), and the
 *    carried loss written off the next surplus allocation; one cash payout of both years' cash
 *    parts, and revolving redemptions (a cap reached pro rata, then the rest) that leave every
 *    member's capital account at zero.
 * 2. A co-op keeping its books in a unit of scale 0 (JPY): the largest surplus the ledger takes,
 *    one member, and a three-way tie.
 * 3. A co-op keeping its books in a unit of scale 3.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Decimal } from 'decimal.js';
import pg from 'pg';
import { extractText, getDocumentProxy } from 'unpdf';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { LedgerClient } from '../../client-sdk/index.js';
import { accountNames, type ExportAccount } from '../../scripts/lib/plain-text-export.js';
import { builtArgs } from '../helpers/build.js';
import {
  type CoopFixture,
  changeState,
  createClass,
  ExpectedBook,
  join,
  registerParty,
  setupCoop,
} from '../helpers/coop.js';
import { decodeGlobalId, ledgerClient, newKey } from '../helpers/ledger.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { activeMember, allocationsOf, type Member, record, runEntryLines, setPolicy } from './helpers.js';

let server: TestServer;
let admin: LedgerClient;

beforeAll(async () => {
  server = await startTestServer({ config: { rateLimitPerSecond: 0 } });
  admin = ledgerClient(server.url);
});

afterAll(async () => {
  await server?.stop();
});

/** A co-op in `currency` with a class of no buy-in. */
async function coopIn(currency: {
  code: string;
  scale: number;
}): Promise<{ coop: CoopFixture; classId: string }> {
  const coop = await setupCoop(server.url, admin, { fiscalYearStart: '01-01', baseCurrency: currency });
  const classId = await createClass(coop, {
    code: 'WORKER',
    name: 'Worker-owner',
    buyIn: (0).toFixed(currency.scale),
    voting: true,
  });
  return { coop, classId };
}

async function commit(coop: CoopFixture, fiscalYear: number, surplus: string, key = newKey('run')) {
  const committed = await coop.treasurer.commitPatronageAllocation({
    coopId: coop.id,
    fiscalYear,
    surplus,
    allocatedOn: `${fiscalYear + 1}-01-31`,
    idempotencyKey: key,
  });
  expect(committed.userErrors).toEqual([]);
  return committed.run!;
}

describe('three measures of three kinds and scales, a tie, a zero member, then a loss year', () => {
  let coop: CoopFixture;
  let book: ExpectedBook;
  let a: Member;
  let b: Member;
  let c: Member;
  let d: Member;

  beforeAll(async () => {
    const setup = await coopIn({ code: 'USD', scale: 2 });
    coop = setup.coop;
    book = new ExpectedBook(coop.treasurer, coop.bookId);
    a = await activeMember(coop, setup.classId, 'Ana', '2022-01-01');
    b = await activeMember(coop, setup.classId, 'Bo', '2022-01-01');
    c = await activeMember(coop, setup.classId, 'Cy', '2022-01-01');
    d = await activeMember(coop, setup.classId, 'Di', '2022-01-01');
    await setPolicy(coop, {
      measures: [
        { code: 'HOURS', kind: 'HOURS', unit: { code: 'HOUR', scale: 1 }, weight: '2' },
        { code: 'WAGES', kind: 'WAGES', unit: { code: 'USD', scale: 2 }, weight: '1' },
        { code: 'BUYS', kind: 'PURCHASES', unit: { code: 'KG', scale: 3 }, weight: '1' },
      ],
      reservePercent: '45',
      communityPercent: '10',
      cashPercent: '20',
      // Retained allocations revolve as soon as their year has ended.
      revolvingYears: 0,
    });
    // The same patronage in 2023, 2024 and 2025 (C works no hours, B buys nothing, D records zeros).
    for (const year of [2023, 2024, 2025]) {
      const span = { from: `${year}-01-01`, to: `${year}-12-31` };
      await record(coop, [
        { member: a, measure: 'HOURS', ...span, quantity: '10.0' },
        { member: b, measure: 'HOURS', ...span, quantity: '30.0' },
        { member: d, measure: 'HOURS', ...span, quantity: '0' },
        { member: a, measure: 'WAGES', ...span, quantity: '100.00' },
        { member: b, measure: 'WAGES', ...span, quantity: '100.00' },
        { member: c, measure: 'WAGES', ...span, quantity: '200.00' },
        { member: d, measure: 'WAGES', ...span, quantity: '0.00' },
        { member: a, measure: 'BUYS', ...span, quantity: '1.000' },
        { member: c, measure: 'BUYS', ...span, quantity: '3.000' },
      ]);
    }
    await book.check('after the records');
  });

  it('allocates a surplus by hand: the tie goes to the lower member number, D gets nothing', async () => {
    // Parts of each measure's total:
    //   HOURS (of 40.0): A 10/40 = .25, B 30/40 = .75, C 0, D 0
    //   WAGES (of 400.00): A .25, B .25, C .50, D 0
    //   BUYS (of 4.000): A .25, B 0, C .75, D 0
    // Shares (weights 2, 1, 1 of 4): A (2*.25 + .25 + .25)/4 = .25
    //                                B (2*.75 + .25 + 0)/4 = .4375
    //                                C (0 + .50 + .75)/4 = .3125;  D 0.
    // Surplus 1,000.00: reserve 45% 450.00, community 10% 100.00, members 450.00.
    // Member quotas in cents: A 11,250, B 19,687.5, C 14,062.5, D 0: floors sum to 44,999; the one
    // cent left goes to B and C's equal remainders (.5) in member-number order: B 196.88, C 140.62.
    // Cash 20% rounded up: A 22.50, B 39.376 -> 39.38, C 28.124 -> 28.13 (total 90.01);
    // retained A 90.00, B 157.50, C 112.49.
    const run = await commit(coop, 2023, '1000.00');
    expect([run.reserve, run.community, run.memberPool, run.cashTotal, run.retainedTotal]).toEqual([
      '450.00',
      '100.00',
      '450.00',
      '90.01',
      '359.99',
    ]);
    expect(await allocationsOf(coop.treasurer, run.id)).toEqual([
      [a.number, '112.50', '22.50', '90.00'],
      [b.number, '196.88', '39.38', '157.50'],
      [c.number, '140.62', '28.13', '112.49'],
      [d.number, '0.00', '0.00', '0.00'],
    ]);
    expect(await runEntryLines(coop.treasurer, run.id)).toEqual([
      [
        ['3900', 'DEBIT', '550.00'],
        ['3300', 'CREDIT', '450.00'],
        ['2350', 'CREDIT', '100.00'],
      ],
      [
        ['3900', 'DEBIT', '450.00'],
        ['2300', 'CREDIT', '90.01'],
        [a.internalCapitalCode, 'CREDIT', '90.00'],
        [b.internalCapitalCode, 'CREDIT', '157.50'],
        [c.internalCapitalCode, 'CREDIT', '112.49'],
      ],
    ]);
    book.post([
      ['3900', 'DEBIT', '550.00'],
      ['3300', 'CREDIT', '450.00'],
      ['2350', 'CREDIT', '100.00'],
    ]);
    book.post([
      ['3900', 'DEBIT', '450.00'],
      ['2300', 'CREDIT', '90.01'],
      [a.internalCapitalCode, 'CREDIT', '90.00'],
      [b.internalCapitalCode, 'CREDIT', '157.50'],
      [c.internalCapitalCode, 'CREDIT', '112.49'],
    ]);
    await book.check('after the 2023 run');
  });

  it('charges a loss to the reserve up to its balance, the rest to members by the same shares', async () => {
    // Loss 1,000.00, RESERVE_FIRST: the reserve holds 450.00 (the 2023 run), so it takes 450.00 and
    // members 550.00: quotas A 13,750, B 24,062.5, C 17,187.5 cents; the tie again to B:
    // A 137.50, B 240.63, C 171.87. Each charge is written off the member's retained 2023
    // allocation (A 90.00, B 157.50, C 112.49) and the rest carried (A 47.50, B 83.13, C 59.38).
    const run = await commit(coop, 2024, '-1000.00');
    expect([run.kind, run.reserve, run.memberPool]).toEqual(['LOSS', '-450.00', '-550.00']);
    expect(await allocationsOf(coop.treasurer, run.id)).toEqual([
      [a.number, '-137.50', '0.00', '-137.50'],
      [b.number, '-240.63', '0.00', '-240.63'],
      [c.number, '-171.87', '0.00', '-171.87'],
      [d.number, '0.00', '0.00', '0.00'],
    ]);
    book.post([
      ['3300', 'DEBIT', '450.00'],
      ['3900', 'CREDIT', '450.00'],
    ]);
    book.post([
      [a.internalCapitalCode, 'DEBIT', '137.50'],
      [b.internalCapitalCode, 'DEBIT', '240.63'],
      [c.internalCapitalCode, 'DEBIT', '171.87'],
      ['3900', 'CREDIT', '550.00'],
    ]);
    await book.check('after the 2024 loss');
    expect([
      book.net(a.internalCapitalCode),
      book.net(b.internalCapitalCode),
      book.net(c.internalCapitalCode),
    ]).toEqual(['47.50', '83.13', '59.38']);
    const verified = await coop.treasurer.verifyPatronageRun({ id: run.id });
    expect([verified!.inputsHashMatches, verified!.figuresMatch]).toEqual([true, true]);

    // Reversed, its write-offs are undone and the reserve holds 450.00 again: run again, the
    // same inputs give the same charges (and the same write-offs, which the next test relies on).
    const reversed = await coop.treasurer.reversePatronageAllocation({
      runId: run.id,
      idempotencyKey: newKey('reverse'),
    });
    expect(reversed.userErrors).toEqual([]);
    book.post([
      ['3300', 'CREDIT', '450.00'],
      ['3900', 'DEBIT', '450.00'],
    ]);
    book.post([
      [a.internalCapitalCode, 'CREDIT', '137.50'],
      [b.internalCapitalCode, 'CREDIT', '240.63'],
      [c.internalCapitalCode, 'CREDIT', '171.87'],
      ['3900', 'DEBIT', '550.00'],
    ]);
    await book.check('after the reversal of the loss');
    const again = await commit(coop, 2024, '-1000.00');
    expect(again.inputsHash).toBe(run.inputsHash);
    expect(await allocationsOf(coop.treasurer, again.id)).toEqual(
      await allocationsOf(coop.treasurer, run.id),
    );
    book.post([
      ['3300', 'DEBIT', '450.00'],
      ['3900', 'CREDIT', '450.00'],
    ]);
    book.post([
      [a.internalCapitalCode, 'DEBIT', '137.50'],
      [b.internalCapitalCode, 'DEBIT', '240.63'],
      [c.internalCapitalCode, 'DEBIT', '171.87'],
      ['3900', 'CREDIT', '550.00'],
    ]);
    await book.check('after the loss run again');
  });
  it('writes the carried loss off the next allocation; payout and redemptions empty every account', async () => {
    // 2025 has the same patronage and surplus as 2023: A 112.50 (22.50 cash, 90.00 retained),
    // B 196.88 (39.38, 157.50), C 140.62 (28.13, 112.49). The carried losses are written off the
    // retained parts: A 90.00 - 47.50 = 42.50, B 157.50 - 83.13 = 74.37, C 112.49 - 59.38 = 53.11
    // outstanding (169.98 in all), which is what the capital accounts hold.
    const run = await commit(coop, 2025, '1000.00');
    expect(await allocationsOf(coop.treasurer, run.id)).toEqual([
      [a.number, '112.50', '22.50', '90.00'],
      [b.number, '196.88', '39.38', '157.50'],
      [c.number, '140.62', '28.13', '112.49'],
      [d.number, '0.00', '0.00', '0.00'],
    ]);
    book.post([
      ['3900', 'DEBIT', '550.00'],
      ['3300', 'CREDIT', '450.00'],
      ['2350', 'CREDIT', '100.00'],
    ]);
    book.post([
      ['3900', 'DEBIT', '450.00'],
      ['2300', 'CREDIT', '90.01'],
      [a.internalCapitalCode, 'CREDIT', '90.00'],
      [b.internalCapitalCode, 'CREDIT', '157.50'],
      [c.internalCapitalCode, 'CREDIT', '112.49'],
    ]);
    await book.check('after the 2025 run');
    // Reversed (its write-offs of the carried losses undone) and run again: the same cents.
    const reversed = await coop.treasurer.reversePatronageAllocation({
      runId: run.id,
      idempotencyKey: newKey('reverse'),
    });
    expect(reversed.userErrors).toEqual([]);
    const rerun = await commit(coop, 2025, '1000.00');
    expect(rerun.inputsHash).toBe(run.inputsHash);
    expect(await allocationsOf(coop.treasurer, rerun.id)).toEqual(
      await allocationsOf(coop.treasurer, run.id),
    );
    for (const sign of ['CREDIT', 'DEBIT'] as const) {
      const other = sign === 'CREDIT' ? 'DEBIT' : 'CREDIT';
      book.post([
        ['3900', other, '550.00'],
        ['3300', sign, '450.00'],
        ['2350', sign, '100.00'],
      ]);
      book.post([
        ['3900', other, '450.00'],
        ['2300', sign, '90.01'],
        [a.internalCapitalCode, sign, '90.00'],
        [b.internalCapitalCode, sign, '157.50'],
        [c.internalCapitalCode, sign, '112.49'],
      ]);
    }
    await book.check('after the 2025 run reversed and run again');
    expect([
      book.net(a.internalCapitalCode),
      book.net(b.internalCapitalCode),
      book.net(c.internalCapitalCode),
    ]).toEqual(['-42.50', '-74.37', '-53.11']);

    // One payout clears both years' cash parts: A 22.50 * 2, B 39.38 * 2, C 28.13 * 2 = 180.02.
    const paid = await coop.treasurer.payPatronageCash({
      runId: rerun.id,
      paidOn: '2026-02-15',
      method: 'BANK',
      idempotencyKey: newKey('pay'),
    });
    expect(paid.userErrors).toEqual([]);
    expect(paid.payout!.total).toBe('180.02');
    book.post([
      ['2300', 'DEBIT', '180.02'],
      ['1010', 'CREDIT', '180.02'],
    ]);
    await book.check('after the payout');
    expect(book.net('2300')).toBe('0.00');

    // Redemption capped at 100.00: 2023's allocations were all written off, so 2025 is the year
    // the cap runs out in, pro rata to 42.50 / 74.37 / 53.11 of 169.98: quotas in cents
    // 10,000 * 4,250 / 16,998 = 2,500.29, * 7,437 / 16,998 = 4,375.22, * 5,311 / 16,998 = 3,124.49;
    // floors 9,999, the cent left to the largest remainder (C): A 25.00, B 43.75, C 31.25.
    const capped = await coop.treasurer.redeemRetainedPatronage({
      coopId: coop.id,
      asOf: '2026-03-01',
      cap: '100.00',
      method: 'BANK',
      idempotencyKey: newKey('redeem'),
    });
    expect(capped.userErrors).toEqual([]);
    expect(capped.payout!.payments.map((p) => [p.memberNumber, p.fiscalYear, p.amount])).toEqual([
      [a.number, 2025, '25.00'],
      [b.number, 2025, '43.75'],
      [c.number, 2025, '31.25'],
    ]);
    book.post([
      [a.internalCapitalCode, 'DEBIT', '25.00'],
      [b.internalCapitalCode, 'DEBIT', '43.75'],
      [c.internalCapitalCode, 'DEBIT', '31.25'],
      ['1010', 'CREDIT', '100.00'],
    ]);
    await book.check('after the capped redemption');
    // The rest: A 17.50, B 30.62, C 21.86.
    const rest = await coop.treasurer.redeemRetainedPatronage({
      coopId: coop.id,
      asOf: '2026-03-02',
      method: 'BANK',
      idempotencyKey: newKey('redeem'),
    });
    expect(rest.userErrors).toEqual([]);
    expect(rest.payout!.payments.map((p) => [p.memberNumber, p.fiscalYear, p.amount])).toEqual([
      [a.number, 2025, '17.50'],
      [b.number, 2025, '30.62'],
      [c.number, 2025, '21.86'],
    ]);
    book.post([
      [a.internalCapitalCode, 'DEBIT', '17.50'],
      [b.internalCapitalCode, 'DEBIT', '30.62'],
      [c.internalCapitalCode, 'DEBIT', '21.86'],
      ['1010', 'CREDIT', '69.98'],
    ]);
    await book.check('after the redemption');
    for (const m of [a, b, c, d]) {
      expect(book.net(m.internalCapitalCode)).toBe('0.00');
      expect((await coop.treasurer.membership({ id: m.id }))!.internalCapital).toBe('0.00');
    }

    // 1099-PATR. 2024: the qualified notices of the 2023 run (dated 2024-01-31), their retained
    // parts: A 90.00, B 157.50, C 112.49; D was allocated nothing and gets no form. 2025: the loss
    // run only: no forms. 2026: cash paid (A 45.00, B 78.76, C 56.26) + the 2025 run's qualified
    // notices (dated 2026-01-31, their stated retained parts: 90.00, 157.50, 112.49) = 135.00,
    // 236.26, 168.75; redemptions of qualified notices are not box 5.
    const forms = async (taxYear: number) =>
      (await coop.treasurer.patronageTaxForms({ coopId: coop.id, taxYear })).forms!.rows.map((r) => [
        r.name,
        r.box1,
        r.box5,
      ]);
    expect(await forms(2024)).toEqual([
      ['Ana', '90.00', '0.00'],
      ['Bo', '157.50', '0.00'],
      ['Cy', '112.49', '0.00'],
    ]);
    expect(await forms(2025)).toEqual([]);
    expect(await forms(2026)).toEqual([
      ['Ana', '135.00', '0.00'],
      ['Bo', '236.26', '0.00'],
      ['Cy', '168.75', '0.00'],
    ]);
  });
  it.skipIf(process.env.PLAIN_TEXT_TOOLS === 'unavailable')(
    'exports to hledger and beancount, which accept every entry and recompute each account as the book has it',
    { timeout: 60_000 },
    async () => {
      const run = promisify(execFile);
      const dir = mkdtempSync(path.join(tmpdir(), 'patronage-audit-'));
      try {
        const exported = (format: string) =>
          new Promise<string>((resolve, reject) => {
            const out = path.join(dir, `book.${format}`);
            const child = spawn(
              process.execPath,
              [
                ...builtArgs('scripts/export-ledger.ts'),
                '--book',
                coop.bookId,
                '--format',
                format,
                '--out',
                out,
              ],
              {
                env: { ...process.env, LEDGER_URL: server.url, LEDGER_TOKEN: coop.treasurerToken },
                stdio: ['ignore', 'ignore', 'pipe'],
              },
            );
            let stderr = '';
            child.stderr.on('data', (d) => {
              stderr += d;
            });
            child.on('error', reject);
            child.on('exit', (code) =>
              code === 0 ? resolve(out) : reject(new Error(`export ${code}: ${stderr}`)),
            );
          });
        const journal = await exported('hledger');
        await run('hledger', ['-f', journal, 'check']);
        await run('bean-check', [await exported('beancount')]);
        const { stdout } = await run('hledger', [
          '-f',
          journal,
          'balance',
          '--flat',
          '--no-total',
          '-O',
          'csv',
          '--layout=bare',
        ]);
        const tool: Record<string, string> = {};
        for (const line of stdout.trim().split('\n').slice(1)) {
          const [account, , balance] = line.split(',').map((c) => c.replace(/^"|"$/g, ''));
          if (!new Decimal(balance!).isZero()) tool[account!] = new Decimal(balance!).toFixed(2);
        }
        const accounts: ExportAccount[] = [];
        for await (const a of coop.treasurer.iterateAccounts({ bookId: coop.bookId })) accounts.push(a);
        const names = accountNames(accounts, 'hledger');
        const expected: Record<string, string> = {};
        for (const a of accounts) {
          const net = book.net(a.code);
          if (!new Decimal(net).isZero()) expected[names.get(a.id)!] = net;
        }
        expect(tool).toEqual(expected);
        // Every member's capital account is empty, as the book says.
        for (const m of [a, b, c, d]) expect(tool[names.get(m.internalCapitalId)!]).toBeUndefined();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});

describe('a co-op keeping its books in a unit of scale 0', () => {
  it('allocates the largest surplus the ledger takes to one member, exactly', async () => {
    const { coop, classId } = await coopIn({ code: 'JPY', scale: 0 });
    const book = new ExpectedBook(coop.treasurer, coop.bookId, 0);
    const only = await activeMember(coop, classId, 'Solo', '2024-01-01');
    await setPolicy(coop, {
      measures: [{ code: 'HOURS', kind: 'HOURS', unit: { code: 'HOUR', scale: 0 }, weight: '1' }],
      reservePercent: '10',
      cashPercent: '20',
      revolvingYears: 3,
    });
    await record(coop, [
      { member: only, measure: 'HOURS', from: '2025-01-01', to: '2025-12-31', quantity: '1' },
    ]);
    // 999,999,999,999,999,999 yen: reserve 10% = 99,999,999,999,999,999.9 -> 99,999,999,999,999,999
    // (remainder .9 of a yen) and members 899,999,999,999,999,999.1 -> ...999 (remainder .1); the
    // yen left over goes to the larger remainder, the reserve: 100,000,000,000,000,000 and
    // 899,999,999,999,999,999. Cash 20% of that, rounded up: 179,999,999,999,999,999.8 ->
    // 180,000,000,000,000,000; retained 719,999,999,999,999,999.
    const run = await commit(coop, 2025, '999999999999999999');
    expect([run.reserve, run.memberPool, run.cashTotal, run.retainedTotal]).toEqual([
      '100000000000000000',
      '899999999999999999',
      '180000000000000000',
      '719999999999999999',
    ]);
    book.post([
      ['3900', 'DEBIT', '100000000000000000'],
      ['3300', 'CREDIT', '100000000000000000'],
    ]);
    book.post([
      ['3900', 'DEBIT', '899999999999999999'],
      ['2300', 'CREDIT', '180000000000000000'],
      [only.internalCapitalCode, 'CREDIT', '719999999999999999'],
    ]);
    await book.check('after the run');
  });

  it('shares 100 yen among three equal members: 34, 33, 33, cash rounded up to the yen', async () => {
    const { coop, classId } = await coopIn({ code: 'JPY', scale: 0 });
    const book = new ExpectedBook(coop.treasurer, coop.bookId, 0);
    const members: Member[] = [];
    for (const name of ['X', 'Y', 'Z']) members.push(await activeMember(coop, classId, name, '2024-01-01'));
    await setPolicy(coop, {
      measures: [{ code: 'HOURS', kind: 'HOURS', unit: { code: 'HOUR', scale: 0 }, weight: '1' }],
      reservePercent: '0',
      cashPercent: '20',
      revolvingYears: 3,
    });
    await record(
      coop,
      members.map((m) => ({
        member: m,
        measure: 'HOURS',
        from: '2025-01-01',
        to: '2025-12-31',
        quantity: '7',
      })),
    );
    // 100 / 3 = 33.33...: floors 33 each, the yen left to the lowest member number: 34, 33, 33.
    // Cash 20%: 6.8 -> 7, 6.6 -> 7, 6.6 -> 7; retained 27, 26, 26.
    const run = await commit(coop, 2025, '100');
    expect(await allocationsOf(coop.treasurer, run.id)).toEqual([
      [members[0]!.number, '34', '7', '27'],
      [members[1]!.number, '33', '7', '26'],
      [members[2]!.number, '33', '7', '26'],
    ]);
    book.post([
      ['3900', 'DEBIT', '100'],
      ['2300', 'CREDIT', '21'],
      [members[0]!.internalCapitalCode, 'CREDIT', '27'],
      [members[1]!.internalCapitalCode, 'CREDIT', '26'],
      [members[2]!.internalCapitalCode, 'CREDIT', '26'],
    ]);
    await book.check('after the run');
  });
});

describe('a co-op keeping its books in a unit of scale 3', () => {
  it('shares 10.000 among three equal members to the thousandth', async () => {
    const { coop, classId } = await coopIn({ code: 'KWD', scale: 3 });
    const book = new ExpectedBook(coop.treasurer, coop.bookId, 3);
    const members: Member[] = [];
    for (const name of ['P', 'Q', 'R']) members.push(await activeMember(coop, classId, name, '2024-01-01'));
    await setPolicy(coop, {
      measures: [{ code: 'SALES', kind: 'SALES', unit: { code: 'KWD', scale: 3 }, weight: '1' }],
      reservePercent: '0',
      cashPercent: '20',
      revolvingYears: 3,
    });
    await record(
      coop,
      members.map((m) => ({
        member: m,
        measure: 'SALES',
        from: '2025-01-01',
        to: '2025-12-31',
        quantity: '1.234',
      })),
    );
    // 10.000 / 3: 3.334, 3.333, 3.333; cash 20%: .6668 -> .667, .6666 -> .667; retained 2.667, 2.666, 2.666.
    const run = await commit(coop, 2025, '10.000');
    expect(await allocationsOf(coop.treasurer, run.id)).toEqual([
      [members[0]!.number, '3.334', '0.667', '2.667'],
      [members[1]!.number, '3.333', '0.667', '2.666'],
      [members[2]!.number, '3.333', '0.667', '2.666'],
    ]);
    book.post([
      ['3900', 'DEBIT', '10.000'],
      ['2300', 'CREDIT', '2.001'],
      [members[0]!.internalCapitalCode, 'CREDIT', '2.667'],
      [members[1]!.internalCapitalCode, 'CREDIT', '2.666'],
      [members[2]!.internalCapitalCode, 'CREDIT', '2.666'],
    ]);
    await book.check('after the run');
  });
});

describe('records of one request that overlap', () => {
  it('names every record overlapping an earlier one, not only the next after it', async () => {
    const { coop, classId } = await coopIn({ code: 'USD', scale: 2 });
    const m = await activeMember(coop, classId, 'Overlap', '2024-01-01');
    await setPolicy(coop, {
      measures: [{ code: 'HOURS', kind: 'HOURS', unit: { code: 'HOUR', scale: 2 }, weight: '1' }],
      reservePercent: '0',
      revolvingYears: 3,
    });
    // The year, then February and March inside it: both overlap the year (February does not
    // overlap March, so a check of each record against the one just before it misses March).
    const csv = [
      'member,measure,period_start,period_end,quantity',
      `${m.number},HOURS,2025-01-01,2025-12-31,1000.00`,
      `${m.number},HOURS,2025-02-01,2025-02-28,80.00`,
      `${m.number},HOURS,2025-03-01,2025-03-31,90.00`,
      `${m.number},HOURS,2026-01-01,2026-01-31,10.00`,
    ].join('\n');
    const result = await coop.treasurer.importPatronageCsv({
      coopId: coop.id,
      csv,
      idempotencyKey: newKey('csv'),
    });
    expect([result.imported, result.recorded]).toEqual([false, 0]);
    expect(result.rowErrors.map((e) => [e.row, e.column, e.code, e.message])).toEqual([
      [3, 'period_start', 'PATRONAGE_PERIOD_OVERLAP', expect.stringContaining('2025-01-01 to 2025-12-31')],
      [4, 'period_start', 'PATRONAGE_PERIOD_OVERLAP', expect.stringContaining('2025-01-01 to 2025-12-31')],
    ]);
  });
});

describe('a revolving redemption dated before the allocation', () => {
  it('pays nothing of a run allocated after its date, though its year has revolved', async () => {
    const { coop, classId } = await coopIn({ code: 'USD', scale: 2 });
    const book = new ExpectedBook(coop.treasurer, coop.bookId);
    const m = await activeMember(coop, classId, 'Early', '2024-01-01');
    await setPolicy(coop, {
      measures: [{ code: 'HOURS', kind: 'HOURS', unit: { code: 'HOUR', scale: 2 }, weight: '1' }],
      reservePercent: '0',
      cashPercent: '20',
      revolvingYears: 0,
    });
    await record(coop, [
      { member: m, measure: 'HOURS', from: '2025-01-01', to: '2025-12-31', quantity: '5.00' },
    ]);
    // 100.00 to the one member: cash 20.00, retained 80.00, allocated on 2026-01-31. With no
    // revolving period the year revolves when it ends (2025-12-31), but on 2026-01-15 the
    // allocation had not been made: the capital account held nothing to redeem.
    await commit(coop, 2025, '100.00');
    book.post([
      ['3900', 'DEBIT', '100.00'],
      ['2300', 'CREDIT', '20.00'],
      [m.internalCapitalCode, 'CREDIT', '80.00'],
    ]);
    const early = await coop.treasurer.redeemRetainedPatronage({
      coopId: coop.id,
      asOf: '2026-01-15',
      method: 'BANK',
      idempotencyKey: newKey('redeem'),
    });
    expect(early.userErrors.map((e) => [e.code, e.field])).toEqual([['NOTHING_TO_PAY', 'asOf']]);
    await book.check('after the early redemption');
    const onTime = await coop.treasurer.redeemRetainedPatronage({
      coopId: coop.id,
      asOf: '2026-01-31',
      method: 'BANK',
      idempotencyKey: newKey('redeem'),
    });
    expect(onTime.userErrors).toEqual([]);
    expect(onTime.payout!.payments.map((p) => [p.memberNumber, p.fiscalYear, p.amount])).toEqual([
      [m.number, 2025, '80.00'],
    ]);
    book.post([
      [m.internalCapitalCode, 'DEBIT', '80.00'],
      ['1010', 'CREDIT', '80.00'],
    ]);
    await book.check('after the redemption');
  });
});

describe('a cash payout dated before an earlier year’s late allocation', () => {
  it('pays only the cash parts allocated by its date', async () => {
    const { coop, classId } = await coopIn({ code: 'USD', scale: 2 });
    const book = new ExpectedBook(coop.treasurer, coop.bookId);
    const m = await activeMember(coop, classId, 'Late', '2024-01-01');
    await setPolicy(coop, {
      measures: [{ code: 'HOURS', kind: 'HOURS', unit: { code: 'HOUR', scale: 2 }, weight: '1' }],
      reservePercent: '0',
      cashPercent: '20',
      revolvingYears: 5,
    });
    await record(coop, [
      { member: m, measure: 'HOURS', from: '2024-01-01', to: '2024-12-31', quantity: '5.00' },
      { member: m, measure: 'HOURS', from: '2025-01-01', to: '2025-12-31', quantity: '5.00' },
    ]);
    // 2025 is allocated on 2026-01-31 (cash 20.00 of 100.00); 2024, late, on 2026-03-01 (cash
    // 10.00 of 50.00). A payout of the 2025 run on 2026-02-15 pays 2025's 20.00: 2024's cash
    // part did not exist yet.
    const y2025 = await commit(coop, 2025, '100.00');
    const late = await coop.treasurer.commitPatronageAllocation({
      coopId: coop.id,
      fiscalYear: 2024,
      surplus: '50.00',
      allocatedOn: '2026-03-01',
      idempotencyKey: newKey('run'),
    });
    expect(late.userErrors).toEqual([]);
    book.post([
      ['3900', 'DEBIT', '100.00'],
      ['2300', 'CREDIT', '20.00'],
      [m.internalCapitalCode, 'CREDIT', '80.00'],
    ]);
    book.post([
      ['3900', 'DEBIT', '50.00'],
      ['2300', 'CREDIT', '10.00'],
      [m.internalCapitalCode, 'CREDIT', '40.00'],
    ]);
    const paid = await coop.treasurer.payPatronageCash({
      runId: y2025.id,
      paidOn: '2026-02-15',
      method: 'BANK',
      idempotencyKey: newKey('pay'),
    });
    expect(paid.userErrors).toEqual([]);
    expect(paid.payout!.payments.map((p) => [p.memberNumber, p.fiscalYear, p.amount])).toEqual([
      [m.number, 2025, '20.00'],
    ]);
    book.post([
      ['2300', 'DEBIT', '20.00'],
      ['1010', 'CREDIT', '20.00'],
    ]);
    await book.check('after the 2025 payout');
    const rest = await coop.treasurer.payPatronageCash({
      runId: late.run!.id,
      paidOn: '2026-03-01',
      method: 'BANK',
      idempotencyKey: newKey('pay'),
    });
    expect(rest.userErrors).toEqual([]);
    expect(rest.payout!.total).toBe('10.00');
    book.post([
      ['2300', 'DEBIT', '10.00'],
      ['1010', 'CREDIT', '10.00'],
    ]);
    await book.check('after the 2024 payout');
  });
});

describe('the notice of a loss year', () => {
  it("states the run's own loss rule", async () => {
    const { coop, classId } = await coopIn({ code: 'USD', scale: 2 });
    const m = await activeMember(coop, classId, 'Lossy', '2024-01-01');
    await setPolicy(coop, {
      measures: [{ code: 'HOURS', kind: 'HOURS', unit: { code: 'HOUR', scale: 2 }, weight: '1' }],
      reservePercent: '30',
      revolvingYears: 3,
      lossRule: 'MEMBERS_BY_PATRONAGE',
    });
    await record(coop, [
      { member: m, measure: 'HOURS', from: '2025-01-01', to: '2025-12-31', quantity: '5.00' },
    ]);
    // MEMBERS_BY_PATRONAGE: the whole loss of 100.00 to the one member, nothing to the reserve.
    const run = await commit(coop, 2025, '-100.00');
    expect([run.reserve, run.memberPool]).toEqual(['0.00', '-100.00']);
    const notice = await coop.treasurer.patronageNotice({ runId: run.id, membershipId: m.id });
    expect(notice!.html).toContain('Your share of the loss</th><td>100.00 USD');
    expect(notice!.html).toContain('charges a loss to members by patronage');
    expect(notice!.html).not.toContain('collective reserve first');
  });
});

describe('a loss year committed after a later surplus year', () => {
  it("charges the reserve what it held on the loss's allocation date, not what it holds later", async () => {
    const { coop, classId } = await coopIn({ code: 'USD', scale: 2 });
    const m = await activeMember(coop, classId, 'Order', '2024-01-01');
    await setPolicy(coop, {
      measures: [{ code: 'HOURS', kind: 'HOURS', unit: { code: 'HOUR', scale: 2 }, weight: '1' }],
      reservePercent: '45',
      revolvingYears: 3,
    });
    await record(coop, [
      { member: m, measure: 'HOURS', from: '2024-01-01', to: '2024-12-31', quantity: '5.00' },
      { member: m, measure: 'HOURS', from: '2025-01-01', to: '2025-12-31', quantity: '5.00' },
    ]);
    // 2025's surplus of 1,000.00 puts 450.00 in the reserve on 2026-01-31. 2024's loss of 100.00,
    // committed afterwards but allocated on 2025-06-30, finds the reserve empty on that day
    // (RESERVE_FIRST: up to its balance, which was 0.00): all of it is the member's.
    await commit(coop, 2025, '1000.00');
    const loss = await coop.treasurer.commitPatronageAllocation({
      coopId: coop.id,
      fiscalYear: 2024,
      surplus: '-100.00',
      allocatedOn: '2025-06-30',
      idempotencyKey: newKey('run'),
    });
    expect(loss.userErrors).toEqual([]);
    expect([loss.run!.reserve, loss.run!.memberPool]).toEqual(['0.00', '-100.00']);
    const trial = await coop.treasurer.trialBalance({
      bookId: coop.bookId,
      asOf: '2025-06-30T23:59:59.999Z',
    });
    const reserve = trial!.lines.find((l) => l.account.code === '3300');
    expect(reserve?.debits ?? '0.00').toBe('0.00');
  });
});

describe('commits racing for one year', () => {
  it('post one run: the others are refused, or replay when they carry its key', async () => {
    const { coop, classId } = await coopIn({ code: 'USD', scale: 2 });
    const book = new ExpectedBook(coop.treasurer, coop.bookId);
    const m = await activeMember(coop, classId, 'Race', '2024-01-01');
    await setPolicy(coop, {
      measures: [{ code: 'HOURS', kind: 'HOURS', unit: { code: 'HOUR', scale: 2 }, weight: '1' }],
      reservePercent: '10',
      revolvingYears: 3,
    });
    await record(coop, [
      { member: m, measure: 'HOURS', from: '2025-01-01', to: '2025-12-31', quantity: '5.00' },
    ]);
    const shared = newKey('run');
    const keys = [shared, shared, newKey('run'), newKey('run'), newKey('run'), shared];
    const results = await Promise.all(
      keys.map((idempotencyKey) =>
        coop.treasurer.commitPatronageAllocation({
          coopId: coop.id,
          fiscalYear: 2025,
          surplus: '100.00',
          allocatedOn: '2026-01-31',
          idempotencyKey,
        }),
      ),
    );
    const ok = results.filter((r) => r.userErrors.length === 0);
    const runIds = new Set(ok.map((r) => r.run!.id));
    expect(runIds.size).toBe(1);
    expect(ok.filter((r) => !r.replayed)).toHaveLength(1);
    const winner = keys[results.findIndex((r) => r.userErrors.length === 0 && !r.replayed)]!;
    results.forEach((r, i) => {
      if (r.userErrors.length > 0) {
        expect(keys[i]).not.toBe(winner);
        expect(r.userErrors.map((e) => e.code)).toEqual(['PATRONAGE_RUN_EXISTS']);
      } else expect(keys[i]).toBe(winner);
    });
    // Reserve 10.00; the member 90.00: cash 18.00, retained 72.00. Posted once.
    book.post([
      ['3900', 'DEBIT', '10.00'],
      ['3300', 'CREDIT', '10.00'],
    ]);
    book.post([
      ['3900', 'DEBIT', '90.00'],
      ['2300', 'CREDIT', '18.00'],
      [m.internalCapitalCode, 'CREDIT', '72.00'],
    ]);
    await book.check('after the race');
  });
});

describe('the PDF notice of a member whose name is not in Latin-1', () => {
  it("keeps the member's name and figures readable", async () => {
    const { coop, classId } = await coopIn({ code: 'USD', scale: 2 });
    const name = 'Łucja Żak-Nguyễn Ψ';
    const m = await activeMember(coop, classId, name, '2024-01-01');
    await setPolicy(coop, {
      measures: [{ code: 'HOURS', kind: 'HOURS', unit: { code: 'HOUR', scale: 2 }, weight: '1' }],
      reservePercent: '0',
      revolvingYears: 3,
    });
    await record(coop, [
      { member: m, measure: 'HOURS', from: '2025-01-01', to: '2025-12-31', quantity: '5.00' },
    ]);
    // 100.00 to the one member: cash 20.00, retained 80.00.
    const run = await commit(coop, 2025, '100.00');
    const pdf = await coop.treasurer.patronageNoticePdf({ runId: run.id, membershipId: m.id });
    const { text } = await extractText(await getDocumentProxy(pdf!), { mergePages: true });
    const flat = text.replace(/\s+/g, ' ');
    for (const expected of [
      `Member: ${name} (member number ${m.number})`,
      'Your patronage allocation: 100.00 USD',
      'Paid in cash: 20.00 USD',
      'Retained in your internal capital account: 80.00 USD',
    ])
      expect(flat).toContain(expected);
  });
});

describe('a member who left after the allocation date but before the run was committed', () => {
  it('is paid all in cash under PAY_AT_ONCE: their leaving could not redeem an allocation not yet made', async () => {
    const { coop, classId } = await coopIn({ code: 'USD', scale: 2 });
    const stays = await activeMember(coop, classId, 'Stays', '2024-01-01');
    const leaves = await activeMember(coop, classId, 'Leaves', '2024-01-01', '2026-02-15');
    await setPolicy(coop, {
      measures: [{ code: 'HOURS', kind: 'HOURS', unit: { code: 'HOUR', scale: 2 }, weight: '1' }],
      reservePercent: '0',
      revolvingYears: 3,
    });
    const year = { from: '2025-01-01', to: '2025-12-31' };
    await record(coop, [
      { member: stays, measure: 'HOURS', ...year, quantity: '5.00' },
      { member: leaves, measure: 'HOURS', ...year, quantity: '5.00' },
    ]);
    // Committed now, dated 2026-01-31; the second member left on 2026-02-15 (PAY_AT_ONCE, the
    // default: the leaving entry paid out their capital, which did not yet hold this allocation).
    // 100.00 in halves: the one who stays 50.00 (cash 10.00, retained 40.00), the one who left
    // 50.00 all in cash.
    const run = await commit(coop, 2025, '100.00');
    expect(await allocationsOf(coop.treasurer, run.id)).toEqual([
      [stays.number, '50.00', '10.00', '40.00'],
      [leaves.number, '50.00', '50.00', '0.00'],
    ]);
    expect((await coop.treasurer.membership({ id: leaves.id }))!.internalCapital).toBe('0.00');
  });
});

describe('a co-op of 199 members: entries split at 100 lines', () => {
  it("posts each member's retained part and loss charge to their own account, to the cent", async () => {
    const { coop, classId } = await coopIn({ code: 'USD', scale: 2 });
    const members: Member[] = [];
    for (let i = 0; i < 199; i += 20) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(20, 199 - i) }, (_, j) =>
          activeMember(coop, classId, `Member ${i + j}`, '2023-01-01'),
        ),
      );
      members.push(...batch);
    }
    members.sort((x, y) => x.number - y.number);
    await setPolicy(coop, {
      measures: [{ code: 'HOURS', kind: 'HOURS', unit: { code: 'HOUR', scale: 1 }, weight: '1' }],
      reservePercent: '0',
      cashPercent: '20',
      revolvingYears: 3,
      lossRule: 'MEMBERS_BY_PATRONAGE',
    });
    const rows = ['member,measure,period_start,period_end,quantity'];
    for (const [i, m] of members.entries())
      for (const year of [2024, 2025])
        rows.push(`${m.number},HOURS,${year}-01-01,${year}-12-31,${(i % 7) + 1}.5`);
    const imported = await coop.treasurer.importPatronageCsv({
      coopId: coop.id,
      csv: rows.join('\n'),
      idempotencyKey: newKey('csv'),
    });
    expect([imported.imported, imported.recorded]).toEqual([true, 398]);

    // 2024: a surplus, every member retains a part: entries of 98 retained lines (+ 3900, 2300),
    // 98 and 3. 2025: a loss charged to members, entries of 99 charges (+ 3900), 99 and 1.
    const surplus = await commit(coop, 2024, '12345.67');
    const loss = await commit(coop, 2025, '-7654.32');
    const lineCounts = async (runId: string) =>
      (await runEntryLines(coop.treasurer, runId)).map((e) => e.length);
    expect(await lineCounts(surplus.id)).toEqual([100, 100, 5]);
    expect(await lineCounts(loss.id)).toEqual([100, 100, 2]);
    const all = async (runId: string) => {
      const out: [number, string, string, string][] = [];
      for (let after: string | null = null; ; ) {
        const run = await coop.treasurer.patronageRun({ id: runId, first: 100, after });
        const page = run!.allocations;
        for (const { node: n } of page.edges) out.push([n.memberNumber, n.allocation, n.cash, n.retained]);
        if (!page.pageInfo.hasNextPage) return out;
        after = page.pageInfo.endCursor ?? null;
      }
    };
    const gained = await all(surplus.id);
    const charged = await all(loss.id);
    const cents = (s: string) => BigInt(s.replace('.', ''));
    const sum = (xs: bigint[]) => xs.reduce((s, x) => s + x, 0n);
    expect(gained.map((g) => g[0])).toEqual(members.map((m) => m.number));
    expect(sum(gained.map((g) => cents(g[1])))).toBe(1234567n);
    expect(sum(charged.map((g) => cents(g[1])))).toBe(-765432n);
    const trial = await coop.treasurer.trialBalanceAllLines({ bookId: coop.bookId });
    expect(trial!.balanced).toBe(true);
    const net = new Map(trial!.lines.map((l) => [l.account.code, cents(l.credits) - cents(l.debits)]));
    members.forEach((m, i) => {
      // Credited the 2024 retained part, debited the 2025 charge.
      expect([m.number, net.get(m.internalCapitalCode)]).toEqual([
        m.number,
        cents(gained[i]![3]) + cents(charged[i]![3]),
      ]);
    });
    expect(net.get('2300')).toBe(sum(gained.map((g) => cents(g[2]))));
    expect(net.get('3900')).toBe(-1234567n + 765432n);
  }, 120_000);
});

describe('the minimum allocation and the minimum cheque', () => {
  it('sends small allocations to the reserve and carries small cash parts to a later payout', async () => {
    const { coop, classId } = await coopIn({ code: 'USD', scale: 2 });
    const book = new ExpectedBook(coop.treasurer, coop.bookId);
    const [a, b, c, d] = [
      await activeMember(coop, classId, 'A', '2023-01-01'),
      await activeMember(coop, classId, 'B', '2023-01-01'),
      await activeMember(coop, classId, 'C', '2023-01-01'),
      await activeMember(coop, classId, 'D', '2023-01-01'),
    ] as [Member, Member, Member, Member];
    await setPolicy(coop, {
      measures: [{ code: 'HOURS', kind: 'HOURS', unit: { code: 'HOUR', scale: 0 }, weight: '1' }],
      reservePercent: '0',
      cashPercent: '20',
      revolvingYears: 3,
      minimumAllocation: '5.00',
      minimumCheque: '25.00',
    });
    const records = [];
    for (const year of [2024, 2025]) {
      const span = { from: `${year}-01-01`, to: `${year}-12-31` };
      for (const [m, hours] of [
        [a, '70'],
        [b, '25'],
        [c, '4'],
        [d, '1'],
      ] as const)
        records.push({ member: m, measure: 'HOURS', ...span, quantity: hours });
    }
    await record(coop, records);
    // 2024, surplus 100.00 by hours 70/25/4/1: A 70.00, B 25.00, C 4.00 and D 1.00 are below the
    // minimum of 5.00 and go to the reserve (5.00). Cash 20%: A 14.00, B 5.00; retained 56.00, 20.00.
    const y2024 = await commit(coop, 2024, '100.00');
    expect([y2024.reserve, y2024.memberPool, y2024.cashTotal]).toEqual(['5.00', '100.00', '19.00']);
    expect(await allocationsOf(coop.treasurer, y2024.id)).toEqual([
      [a.number, '70.00', '14.00', '56.00'],
      [b.number, '25.00', '5.00', '20.00'],
      [c.number, '0.00', '0.00', '0.00'],
      [d.number, '0.00', '0.00', '0.00'],
    ]);
    book.post([
      ['3900', 'DEBIT', '5.00'],
      ['3300', 'CREDIT', '5.00'],
    ]);
    book.post([
      ['3900', 'DEBIT', '95.00'],
      ['2300', 'CREDIT', '19.00'],
      [a.internalCapitalCode, 'CREDIT', '56.00'],
      [b.internalCapitalCode, 'CREDIT', '20.00'],
    ]);
    await book.check('after 2024');
    const cNotice = await coop.treasurer.patronageNotice({ runId: y2024.id, membershipId: c.id });
    expect(cNotice!.html).toContain(
      'Your allocation of 4.00 USD was below the co-op&#39;s minimum allocation',
    );
    // Nothing was retained: no right to redeem 0.00 in cash within 90 days.
    expect(cNotice!.html).not.toContain('You may redeem the retained amount');
    const aNotice = await coop.treasurer.patronageNotice({ runId: y2024.id, membershipId: a.id });
    expect(aNotice!.html).toContain('You may redeem the retained amount of 56.00 USD in cash');
    // Both cash parts are below the minimum cheque of 25.00: nothing is paid, both stay payable.
    const none = await coop.treasurer.payPatronageCash({
      runId: y2024.id,
      paidOn: '2025-02-01',
      method: 'BANK',
      idempotencyKey: newKey('pay'),
    });
    expect(none.userErrors.map((e) => e.code)).toEqual(['NOTHING_TO_PAY']);

    // 2025, surplus 200.00: A 140.00 (cash 28.00), B 50.00 (10.00), C 8.00 (1.60), D 2.00 to the
    // reserve. The payout pays A 14.00 + 28.00 = 42.00 (at least 25.00); B's 5.00 + 10.00 = 15.00
    // and C's 1.60 stay payable, carried to a later payout.
    const y2025 = await commit(coop, 2025, '200.00');
    expect(await allocationsOf(coop.treasurer, y2025.id)).toEqual([
      [a.number, '140.00', '28.00', '112.00'],
      [b.number, '50.00', '10.00', '40.00'],
      [c.number, '8.00', '1.60', '6.40'],
      [d.number, '0.00', '0.00', '0.00'],
    ]);
    book.post([
      ['3900', 'DEBIT', '2.00'],
      ['3300', 'CREDIT', '2.00'],
    ]);
    book.post([
      ['3900', 'DEBIT', '198.00'],
      ['2300', 'CREDIT', '39.60'],
      [a.internalCapitalCode, 'CREDIT', '112.00'],
      [b.internalCapitalCode, 'CREDIT', '40.00'],
      [c.internalCapitalCode, 'CREDIT', '6.40'],
    ]);
    const paid = await coop.treasurer.payPatronageCash({
      runId: y2025.id,
      paidOn: '2026-02-15',
      method: 'BANK',
      idempotencyKey: newKey('pay'),
    });
    expect(paid.userErrors).toEqual([]);
    expect(paid.payout!.total).toBe('42.00');
    expect(paid.payout!.payments.map((p) => [p.memberNumber, p.fiscalYear, p.amount])).toEqual([
      [a.number, 2024, '14.00'],
      [a.number, 2025, '28.00'],
    ]);
    expect(paid.payout!.carried.map((p) => [p.memberNumber, p.fiscalYear, p.amount])).toEqual([
      [b.number, 2024, '5.00'],
      [b.number, 2025, '10.00'],
      [c.number, 2025, '1.60'],
    ]);
    book.post([
      ['2300', 'DEBIT', '42.00'],
      ['1010', 'CREDIT', '42.00'],
    ]);
    await book.check('after the 2025 payout');
    expect(book.net('2300')).toBe('-16.60');
  });
});

describe('verifying a run after members leave', () => {
  it('counts a leaving after the run was committed as no change, a backdated one before it as a change', async () => {
    const { coop, classId } = await coopIn({ code: 'USD', scale: 2 });
    const later = await activeMember(coop, classId, 'Later', '2024-01-01');
    const backdated = await activeMember(coop, classId, 'Backdated', '2024-01-01');
    await setPolicy(coop, {
      measures: [{ code: 'HOURS', kind: 'HOURS', unit: { code: 'HOUR', scale: 2 }, weight: '1' }],
      reservePercent: '0',
      revolvingYears: 3,
      departingRule: 'KEEP_UNTIL_REVOLVED',
    });
    const year = { from: '2025-01-01', to: '2025-12-31' };
    await record(coop, [
      { member: later, measure: 'HOURS', ...year, quantity: '5.00' },
      { member: backdated, measure: 'HOURS', ...year, quantity: '5.00' },
    ]);
    const run = await commit(coop, 2025, '100.00');
    // As if the run had been committed on 2026-02-01 (the service's clock is today's): moved
    // back in the run's row, the one place its commit time is kept.
    const db = new pg.Client({ connectionString: inject('databaseUrl') });
    await db.connect();
    try {
      await db.query(`update patronage_run set created_at = '2026-02-01T12:00:00Z' where id = $1`, [
        decodeGlobalId(run.id).id,
      ]);
    } finally {
      await db.end();
    }
    const verify = async () => {
      const v = await coop.treasurer.verifyPatronageRun({ id: run.id });
      return [v!.inputsHashMatches, v!.figuresMatch, v!.recordsUnchanged];
    };
    expect(await verify()).toEqual([true, true, true]);
    // Leaving on 2026-06-01, after the commit: the run's inputs are what they were.
    await changeState(coop, later.id, 'WITHDRAWN', '2026-06-01');
    expect(await verify()).toEqual([true, true, true]);
    // Leaving recorded now but effective 2026-02-01, the day of the commit (a member cannot leave
    // before the allocation's entry, 2026-01-31): counted again, the member had left when the run
    // was made: a change.
    await changeState(coop, backdated.id, 'WITHDRAWN', '2026-02-01');
    expect(await verify()).toEqual([true, true, false]);
  });
});

describe("a CSV member that is one member's number and another's external_ref", () => {
  it('is refused as ambiguous, naming both, rather than credited to the member with that number', async () => {
    const { coop, classId } = await coopIn({ code: 'USD', scale: 2 });
    const first = await activeMember(coop, classId, 'First', '2024-01-01');
    // A member whose own reference is the first member's number, e.g. "1".
    const partyId = await registerParty(coop, { name: 'Second', externalRef: String(first.number) });
    const joined = await join(coop, { classId, appliedOn: '2024-01-01', partyId });
    await changeState(coop, joined.membership.id, 'ACTIVE', '2024-01-01');
    await setPolicy(coop, {
      measures: [{ code: 'HOURS', kind: 'HOURS', unit: { code: 'HOUR', scale: 2 }, weight: '1' }],
      reservePercent: '0',
      revolvingYears: 3,
    });
    const csv = `member,measure,period_start,period_end,quantity\n${first.number},HOURS,2025-01-01,2025-12-31,5.00\n`;
    const result = await coop.treasurer.importPatronageCsv({
      coopId: coop.id,
      csv,
      idempotencyKey: newKey('csv'),
    });
    expect([result.imported, result.recorded]).toEqual([false, 0]);
    expect(result.rowErrors.map((e) => [e.row, e.column, e.code, e.message])).toEqual([
      [
        2,
        'member',
        'INVALID_INPUT',
        `"${first.number}" is both member number ${first.number} and the external_ref of member ${joined.membership.memberNumber}`,
      ],
    ]);
    // The second member's own number names them alone.
    const byRef = await coop.treasurer.importPatronageCsv({
      coopId: coop.id,
      csv: `member,measure,period_start,period_end,quantity\n${joined.membership.memberNumber},HOURS,2025-01-01,2025-12-31,3.00\n`,
      idempotencyKey: newKey('csv'),
    });
    expect([byRef.imported, byRef.recorded]).toEqual([true, 1]);
  });
});

describe('a run the ledger refuses to post', () => {
  it('answers with the ledger’s own reason, not the refusal of the entries beside it', async () => {
    const { coop, classId } = await coopIn({ code: 'USD', scale: 2 });
    const book = new ExpectedBook(coop.treasurer, coop.bookId);
    const m = await activeMember(coop, classId, 'Closed', '2024-01-01');
    await setPolicy(coop, {
      measures: [{ code: 'HOURS', kind: 'HOURS', unit: { code: 'HOUR', scale: 2 }, weight: '1' }],
      reservePercent: '10',
      revolvingYears: 3,
    });
    await record(coop, [
      { member: m, measure: 'HOURS', from: '2025-01-01', to: '2025-12-31', quantity: '5.00' },
    ]);
    // The member's internal capital account closed (it was empty): the members' entry (the
    // second) cannot credit it; the pools' entry (the first) is refused with it, all or nothing.
    expect((await coop.treasurer.closeAccount({ accountId: m.internalCapitalId })).userErrors).toEqual([]);
    const refused = await coop.treasurer.commitPatronageAllocation({
      coopId: coop.id,
      fiscalYear: 2025,
      surplus: '100.00',
      allocatedOn: '2026-01-31',
      idempotencyKey: newKey('run'),
    });
    expect(refused.userErrors.map((e) => [e.code, e.message, e.field])).toEqual([
      ['ACCOUNT_CLOSED', `member ${m.number}'s internal capital account: the account is closed`, null],
    ]);
    expect((await coop.treasurer.patronageRuns({ coopId: coop.id })).edges).toEqual([]);
    await book.check('nothing posted');
  });
});

describe('empty years and a zero surplus', () => {
  it('refuses what has nothing to share, and finds a member by a unicode external_ref', async () => {
    const { coop, classId } = await coopIn({ code: 'USD', scale: 2 });
    const partyId = await registerParty(coop, { name: 'Ñandú', externalRef: 'ñandú-李-7' });
    const joined = await join(coop, { classId, appliedOn: '2024-01-01', partyId });
    await changeState(coop, joined.membership.id, 'ACTIVE', '2024-01-01');
    await setPolicy(coop, {
      measures: [{ code: 'HOURS', kind: 'HOURS', unit: { code: 'HOUR', scale: 2 }, weight: '1' }],
      reservePercent: '10',
      revolvingYears: 3,
    });
    const preview = (fiscalYear: number, surplus: string) =>
      coop.treasurer.previewPatronageAllocation({
        coopId: coop.id,
        fiscalYear,
        surplus,
        allocatedOn: '2026-01-31',
      });
    // 2024 has no records at all: a surplus has no one to go to; a loss beyond the reserve (empty)
    // neither; the reserve's 10% alone would be fine, but the members' 90% is not.
    expect((await preview(2024, '100.00')).userErrors.map((e) => e.code)).toEqual(['NO_ELIGIBLE_PATRONAGE']);
    expect((await preview(2024, '-100.00')).userErrors.map((e) => e.code)).toEqual(['NO_ELIGIBLE_PATRONAGE']);
    const imported = await coop.treasurer.importPatronageCsv({
      coopId: coop.id,
      csv: 'member,measure,period_start,period_end,quantity\n ñandú-李-7 ,HOURS,2025-01-01,2025-12-31,12.50\n',
      idempotencyKey: newKey('csv'),
    });
    expect([imported.imported, imported.recorded]).toEqual([true, 1]);
    // A zero surplus previews as nothing and cannot be committed.
    const zero = await preview(2025, '0.00');
    expect(zero.userErrors).toEqual([]);
    expect([zero.preview!.reserve, zero.preview!.memberPool]).toEqual(['0.00', '0.00']);
    const nothing = await coop.treasurer.commitPatronageAllocation({
      coopId: coop.id,
      fiscalYear: 2025,
      surplus: '0.00',
      allocatedOn: '2026-01-31',
      idempotencyKey: newKey('run'),
    });
    expect(nothing.userErrors.map((e) => e.code)).toEqual(['NOTHING_TO_ALLOCATE']);
    // One cent: the reserve's 10% is 0.1 of a cent, the members' 0.9: the cent is the member's,
    // all in cash (20% of 1 cent rounded up).
    const cent = await commit(coop, 2025, '0.01');
    expect([cent.reserve, cent.memberPool]).toEqual(['0.00', '0.01']);
    expect(await allocationsOf(coop.treasurer, cent.id)).toEqual([
      [joined.membership.memberNumber, '0.01', '0.01', '0.00'],
    ]);
  });
});
