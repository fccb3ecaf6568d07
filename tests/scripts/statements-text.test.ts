/**
 * `npm run statements -- trial --format text` is a table a person can read: a title, column
 * headers (Account, Debit, Credit), and columns that stay apart whatever is in them. Hand-worked:
 * one sale of 999,999,999,999,999.99 (18 characters, wider than the 16 the columns had) to an
 * account whose name is longer than the 50 characters the first column had; the totals row holds
 * two such amounts, which ran together as one number. The income statement and the balance sheet
 * as text had the same columns: they now have the same table, headed by their periods.
 */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LedgerClient } from '../../client-sdk/index.js';
import { builtArgs } from '../helpers/build.js';
import { createAccount, createBook, ledgerClient, newKey } from '../helpers/ledger.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
let admin: LedgerClient;
let bookId: string;
const LONG_NAME = 'Sales of bread, pastries and coffee to the Old Mill neighbourhood market';
const HUGE = '999999999999999.99';

beforeAll(async () => {
  server = await startTestServer({ config: { rateLimitPerSecond: 0 } });
  admin = ledgerClient(server.url);
  bookId = (await createBook(admin, { name: 'Text co-op', maxBackdateDays: 36_600 })).id;
  await createAccount(admin, bookId, { code: '1010', type: 'ASSET', name: 'Bank' });
  await createAccount(admin, bookId, { code: '4000', type: 'REVENUE', name: LONG_NAME });
  const posted = await admin.postJournalEntry({
    bookId,
    idempotencyKey: newKey('text'),
    effectiveAt: '2025-02-10T00:00:00.000Z',
    lines: [
      { accountCode: '1010', side: 'DEBIT', amount: HUGE, unit: 'USD' },
      { accountCode: '4000', side: 'CREDIT', amount: HUGE, unit: 'USD' },
    ],
  });
  expect(posted.userErrors).toEqual([]);
});

afterAll(async () => {
  await server?.stop();
});

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...builtArgs('scripts/statements.ts'), ...args], {
      env: { ...process.env, LEDGER_URL: server.url, LEDGER_TOKEN: server.adminToken },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('npm run statements -- <statement> --format text', () => {
  it('prints column headers, and columns apart under them', { timeout: 90_000 }, async () => {
    const trial = await cli(['trial', '--book', bookId, '--as-of', '2025-02-28', '--format', 'text']);
    expect(trial.code, trial.stderr).toBe(0);
    const lines = trial.stdout.trimEnd().split('\n');
    const header = lines.find((l) => l.startsWith('Account'));
    expect(header, trial.stdout).toMatch(/^Account\s+Debit\s+Credit$/);
    const debitEnd = header!.indexOf('Debit') + 'Debit'.length;
    const creditEnd = header!.length;
    const rows = lines.slice(lines.indexOf(header!) + 1);
    // Each row: the label, then the debit ending under "Debit", the credit under "Credit".
    const cells = rows.map((row) => ({
      label: row.slice(0, debitEnd - HUGE.length - 2).trimEnd(),
      gap: row.slice(debitEnd - HUGE.length - 2, debitEnd - HUGE.length),
      debit: row.slice(debitEnd - HUGE.length, debitEnd).trim(),
      credit: row.slice(debitEnd, creditEnd).trim(),
    }));
    expect(cells).toEqual([
      { label: '1010 Bank', gap: '  ', debit: HUGE, credit: '0.00' },
      { label: `4000 ${LONG_NAME}`, gap: '  ', debit: '0.00', credit: HUGE },
      { label: 'Total USD', gap: '  ', debit: HUGE, credit: HUGE },
    ]);
    expect(lines[0]).toMatch(/^Trial balance as of 2025-02-28T23:59:59\.999Z/);
  });

  it('prints the income statement and the balance sheet as text the same way', {
    timeout: 90_000,
  }, async () => {
    const cells = (text: string, start: string) =>
      text
        .split('\n')
        .find((l) => l.startsWith(start))
        ?.split(/ {2,}/);
    const income = await cli([
      'income',
      '--book',
      bookId,
      '--from',
      '2025-02-01',
      '--to',
      '2025-02-28',
      '--compare',
      'previous-period',
      '--format',
      'text',
    ]);
    expect(income.code, income.stderr).toBe(0);
    expect(income.stdout).toMatch(
      /^Account {2,}2025-02-01 to 2025-02-28 {2,}\d{4}-\d\d-\d\d to \d{4}-\d\d-\d\d$/m,
    );
    expect(cells(income.stdout, '4000')).toEqual([`4000 ${LONG_NAME}`, HUGE, '0.00']);
    expect(cells(income.stdout, 'Result')).toEqual(['Result', HUGE, '0.00']);
    const sheet = await cli(['balance', '--book', bookId, '--as-of', '2025-02-28', '--format', 'text']);
    expect(sheet.code, sheet.stderr).toBe(0);
    expect(sheet.stdout).toMatch(/^Account {2,}2025-02-28$/m);
    expect(cells(sheet.stdout, '1010')).toEqual(['1010 Bank', HUGE]);
    expect(cells(sheet.stdout, 'Total liabilities and equity')).toEqual([
      'Total liabilities and equity',
      HUGE,
    ]);
  });
});
