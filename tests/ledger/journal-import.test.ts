/**
 * Journal entries from CSV (issue 17) through HTTP and the SDK: accounts named by code or id,
 * all or nothing with every problem named by line and column, the same key and file replaying,
 * another file under the key refused, and the trial balance moving exactly by the file.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LedgerClient } from '../../client-sdk/index.js';
import { createAccounts, createBook, decodeGlobalId, ledgerClient, newKey } from '../helpers/ledger.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { issueToken } from '../helpers/tokens.js';

let server: TestServer;
let admin: LedgerClient;
let treasurer: LedgerClient;
let bookId: string;
let accounts: Record<'1010' | '4000' | '5100' | '2000' | 'H1', { id: string }>;

beforeAll(async () => {
  server = await startTestServer({ config: { rateLimitPerSecond: 0 } });
  admin = ledgerClient(server.url);
  const book = await createBook(admin, {
    units: [
      { code: 'USD', scale: 2 },
      { code: 'HOUR', scale: 0 },
    ],
  });
  bookId = book.id;
  const issued = await issueToken(admin, {
    grants: [{ role: 'TREASURER', scope: decodeGlobalId(book.id).bookId }],
  });
  treasurer = ledgerClient(server.url, { token: issued.token });
  accounts = await createAccounts(treasurer, bookId, [
    { code: '1010', type: 'ASSET' },
    { code: '4000', type: 'REVENUE' },
    { code: '5100', type: 'EXPENSE' },
    { code: '2000', type: 'LIABILITY' },
    { code: 'H1', type: 'ASSET', unit: 'HOUR' },
  ]);
});

afterAll(async () => {
  await server?.stop();
});

const today = () => new Date().toISOString().slice(0, 10);

async function balances(): Promise<Record<string, string>> {
  const tb = (await treasurer.trialBalance({ bookId }))!;
  return Object.fromEntries(tb.lines.map((l) => [l.account.code, `${l.debitBalance}/${l.creditBalance}`]));
}

describe('importJournalCsv', () => {
  it('posts every entry of a file, by code or by id, and replays it under the same key', async () => {
    const csv = [
      'Entry,Date,Account_Code,Account_ID,Debit,Credit,Memo',
      `sale-1,${today()},1010,,120.50,,Market day`,
      `sale-1,${today()},4000,,,120.50,`,
      `rent,${today()},,${accounts['5100'].id},800.00,,"Rent, December"`,
      `rent,${today()},1010,,,800.00,`,
      '',
      // A date with a time of day, at midnight UTC: never in the future, whenever the test runs
      // (T12:00 was refused as a future date by runs between midnight and noon UTC).
      `sale-1b,${today()}T00:00:00Z,1010,,9.50,,`,
      `sale-1b,${today()}T00:00:00Z,4000,,,9.50,`,
    ].join('\r\n');
    const key = newKey('journal');
    const first = await treasurer.importJournalCsv({ bookId, csv, idempotencyKey: key });
    expect(first).toMatchObject({
      imported: true,
      replayed: false,
      postedCount: 3,
      rowErrors: [],
      userErrors: [],
    });
    expect(first.entries.map((e) => [e.memo, e.idempotencyKey, e.lines.length])).toEqual([
      ['Market day', `${key}:1`, 2],
      ['Rent, December', `${key}:2`, 2],
      ['', `${key}:3`, 2],
    ]);
    expect(first.entries[1]!.lines[0]!.account.id).toBe(accounts['5100'].id);
    expect(first.entries[0]!.metadata).toEqual(
      expect.arrayContaining([{ key: 'import.entry', value: 'sale-1' }]),
    );
    // 120.50 + 9.50 - 800.00 in the bank.
    expect(await balances()).toMatchObject({
      '1010': '0.00/670.00',
      '4000': '0.00/130.00',
      '5100': '800.00/0.00',
    });
    const again = await treasurer.importJournalCsv({ bookId, csv, idempotencyKey: key });
    expect(again).toMatchObject({ imported: true, replayed: true, postedCount: 0 });
    expect(again.entries.map((e) => e.id)).toEqual(first.entries.map((e) => e.id));
    expect(await balances()).toMatchObject({ '1010': '0.00/670.00' });
    // Another file under the key: refused, nothing posted.
    const other = await treasurer.importJournalCsv({
      bookId,
      csv: csv.replace('120.50', '121.50').replace('120.50', '121.50'),
      idempotencyKey: key,
    });
    expect(other.imported).toBe(false);
    expect(other.userErrors).toEqual([
      expect.objectContaining({ code: 'IDEMPOTENCY_KEY_REUSED', field: 'idempotencyKey' }),
    ]);
    expect(await balances()).toMatchObject({ '1010': '0.00/670.00' });
  });

  it('names every problem by line and column and posts nothing', async () => {
    const before = await balances();
    const csv = [
      'entry,date,account,debit,credit,unit',
      `a,${today()},1010,10.00,,`, // line 2: fine
      `a,${today()},9999,,10.00,`, // line 3: no account 9999
      `b,2026-02-30,1010,5.00,,`, // line 4: no such day
      `b,2026-02-30,4000,,5.00,`,
      `c,${today()},1010,1.00,1.00,`, // line 6: both debit and credit
      `c,${today()},4000,,1.00,`,
      `d,${today()},,1.00,,`, // line 8: no account
      `d,${today()},4000,,1.00,`,
    ].join('\n');
    const result = await treasurer.importJournalCsv({ bookId, csv, idempotencyKey: newKey('bad') });
    expect(result.imported).toBe(false);
    expect(result.rowErrors.map((e) => [e.row, e.column, e.code])).toEqual([
      [4, 'date', 'INVALID_DATE'],
      [6, 'debit', 'INVALID_AMOUNT'],
      [8, 'account', 'INVALID_INPUT'],
    ]);
    // With those fixed, the unknown code is named (found with every code of the file at once).
    const fixed = csv
      .replaceAll('2026-02-30', today())
      .replace(`c,${today()},1010,1.00,1.00,`, `c,${today()},1010,1.00,,`)
      .replace(`d,${today()},,1.00,,`, `d,${today()},1010,1.00,,`);
    const unknown = await treasurer.importJournalCsv({ bookId, csv: fixed, idempotencyKey: newKey('bad') });
    expect(unknown.rowErrors.map((e) => [e.row, e.column, e.code])).toEqual([
      [3, 'account', 'UNKNOWN_ACCOUNT'],
    ]);
    // Errors the engine finds (an amount finer than the unit, a wrong unit, an unbalanced entry) come back by line too.
    const engine = [
      'entry,date,account,debit,credit,unit',
      `a,${today()},1010,10.001,,`,
      `a,${today()},4000,,10.001,`,
    ].join('\n');
    const scale = await treasurer.importJournalCsv({ bookId, csv: engine, idempotencyKey: newKey('bad') });
    expect(scale.rowErrors.map((e) => [e.row, e.column, e.code])).toEqual([[2, 'debit', 'INVALID_AMOUNT']]);
    const unit = await treasurer.importJournalCsv({
      bookId,
      csv: [
        'entry,date,account,debit,credit,unit',
        `a,${today()},1010,1.00,,HOUR`,
        `a,${today()},H1,,1,`,
      ].join('\n'),
      idempotencyKey: newKey('bad'),
    });
    expect(unit.rowErrors[0]).toMatchObject({ row: 2, code: 'UNIT_MISMATCH' });
    const unbalanced = await treasurer.importJournalCsv({
      bookId,
      csv: ['entry,date,account,debit,credit', `a,${today()},1010,2.00,`, `a,${today()},4000,,1.00`].join(
        '\n',
      ),
      idempotencyKey: newKey('bad'),
    });
    expect(unbalanced.rowErrors[0]).toMatchObject({ row: 2, code: 'UNBALANCED_ENTRY' });
    expect(await balances()).toEqual(before);
  });

  it('refuses a file without the columns it needs, and a broken CSV by line', async () => {
    const noAccount = await treasurer.importJournalCsv({
      bookId,
      csv: 'entry,date,debit,credit\na,2026-01-01,1,\n',
      idempotencyKey: newKey('bad'),
    });
    expect(noAccount.rowErrors[0]).toMatchObject({ row: 1, code: 'INVALID_CSV' });
    const quote = await treasurer.importJournalCsv({
      bookId,
      csv: `entry,date,account,debit,credit\na,${today()},1010,1.00,\nb,${today()},"4000,,1.00\n`,
      idempotencyKey: newKey('bad'),
    });
    expect(quote.rowErrors).toEqual([expect.objectContaining({ row: 3, code: 'INVALID_CSV' })]);
  });

  it('another tenant gets the answer of an unknown book', async () => {
    const other = await createBook(admin);
    const result = await treasurer.importJournalCsv({
      bookId: other.id,
      csv: `entry,date,account,debit,credit\na,${today()},1010,1.00,\n`,
      idempotencyKey: newKey('x'),
    });
    expect(result.userErrors).toEqual([expect.objectContaining({ code: 'UNKNOWN_BOOK' })]);
  });
});
