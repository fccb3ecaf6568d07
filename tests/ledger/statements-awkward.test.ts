/**
 * Statements of a book with awkward content (the treasurer's desk audit, issue 17), through HTTP
 * and the SDK: account and book names in Polish, Hungarian, Czech, Greek and Cyrillic letters and
 * one a spreadsheet would read as a formula, and entries at the edges of a month in UTC (days are
 * UTC calendar days: 23:30 UTC on 31 January is January, 00:00 UTC on 1 February is February).
 *
 * Figures (PLN):
 *   2025-01-31T23:30Z  Dr 1000 Kasa ł 100.00 / Cr 4000 Sprzedaż 100.00
 *   2025-02-01T00:00Z  Dr 1000 Kasa ł  40.00 / Cr 4000 Sprzedaż  40.00
 *   2025-02-28T23:59:59.999Z  Dr 5000 =SUM(A1) 15.00 / Cr 1000 15.00
 * January's revenue 100.00; February's 40.00, expenses 15.00, result 25.00; the balance sheet on
 * 31 January: 1000 at 100.00, on 28 February 125.00.
 */
import { extractText, getDocumentProxy } from 'unpdf';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LedgerClient } from '../../client-sdk/index.js';
import { createAccount, createBook, ledgerClient, newKey } from '../helpers/ledger.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
let admin: LedgerClient;
let bookId: string;

const NAMES = {
  '1000': 'Kasa ł ő č',
  '1100': 'Ταμείο Касса',
  '3000': 'Kapitał',
  '4000': 'Sprzedaż',
  '5000': '=SUM(A1)',
} as const;

beforeAll(async () => {
  server = await startTestServer({ config: { rateLimitPerSecond: 0 } });
  admin = ledgerClient(server.url);
  bookId = (
    await createBook(admin, {
      name: 'Spółdzielnia Łódź',
      units: [{ code: 'PLN', scale: 2 }],
      maxBackdateDays: 36_600,
    })
  ).id;
  const types = {
    '1000': 'ASSET',
    '1100': 'ASSET',
    '3000': 'EQUITY',
    '4000': 'REVENUE',
    '5000': 'EXPENSE',
  } as const;
  for (const [code, name] of Object.entries(NAMES))
    await createAccount(admin, bookId, { code, name, type: types[code as keyof typeof types], unit: 'PLN' });
  for (const [at, debit, credit, amount] of [
    ['2025-01-31T23:30:00.000Z', '1000', '4000', '100.00'],
    ['2025-02-01T00:00:00.000Z', '1000', '4000', '40.00'],
    ['2025-02-28T23:59:59.999Z', '5000', '1000', '15.00'],
  ]) {
    const posted = await admin.postJournalEntry({
      bookId,
      idempotencyKey: newKey('aw'),
      effectiveAt: at!,
      lines: [
        { accountCode: debit!, side: 'DEBIT', amount: amount!, unit: 'PLN' },
        { accountCode: credit!, side: 'CREDIT', amount: amount!, unit: 'PLN' },
      ],
    });
    expect(posted.userErrors).toEqual([]);
  }
});

afterAll(async () => {
  await server?.stop();
});

describe('statements at a month boundary in UTC', () => {
  it('counts 23:30 UTC on the last day in that month and midnight UTC in the next', async () => {
    const s = (await admin.incomeStatement({
      bookId,
      from: '2025-02-01',
      to: '2025-02-28',
      compare: 'PREVIOUS_PERIOD',
    }))!;
    const pln = s.units[0]!;
    expect([pln.revenue.total, pln.revenue.comparisonTotal]).toEqual(['40.00', '100.00']);
    expect([pln.expenses.total, pln.result, pln.comparisonResult]).toEqual(['15.00', '25.00', '100.00']);
    const january = (await admin.balanceSheet({ bookId, asOf: '2025-01-31' }))!.units[0]!;
    expect(january.assets.total).toBe('100.00');
    const february = (await admin.balanceSheet({ bookId, asOf: '2025-02-28' }))!.units[0]!;
    expect(february.assets.total).toBe('125.00');
  });
});

describe('statement files with names in many scripts', () => {
  it('prints every name in the PDF as written, and guards the formula in the CSV', async () => {
    const files = (await admin.balanceSheetFiles({ bookId, asOf: '2025-02-28' }))!;
    const { text } = await extractText(await getDocumentProxy(files.pdf), { mergePages: true });
    const flat = text.replace(/\s+/g, ' ');
    for (const expected of [
      'Spółdzielnia Łódź',
      '1000 Kasa ł ő č',
      '1100 Ταμείο Касса',
      '3000 Kapitał',
      '125.00',
    ])
      expect(flat).toContain(expected);
    expect(files.csv.split('\r\n')).toContain('PLN,ASSET,ACCOUNT,1000,Kasa ł ő č,1,125.00');
    const income = (await admin.incomeStatementFiles({ bookId, from: '2025-02-01', to: '2025-02-28' }))!;
    expect(income.csv.split('\r\n')).toContain("PLN,EXPENSE,ACCOUNT,5000,'=SUM(A1),1,15.00");
    const incomeText = (await extractText(await getDocumentProxy(income.pdf), { mergePages: true })).text;
    expect(incomeText.replace(/\s+/g, ' ')).toContain('4000 Sprzedaż');
  });
});
