/**
 * `npm run statements` (issue 17): the CLI prints its help, writes the income statement as CSV and
 * PDF and the balance sheet and trial balance as text, from a service found through LEDGER_URL and
 * LEDGER_TOKEN, and says why when a book cannot be read or the usage is wrong.
 */

import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LedgerClient } from '../../client-sdk/index.js';
import { builtArgs } from '../helpers/build.js';
import { createAccount, createBook, ledgerClient, newKey } from '../helpers/ledger.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
let admin: LedgerClient;
let bookId: string;
let dir: string;

beforeAll(async () => {
  server = await startTestServer({ config: { rateLimitPerSecond: 0 } });
  admin = ledgerClient(server.url);
  dir = mkdtempSync(path.join(tmpdir(), 'statements-cli-'));
  bookId = (await createBook(admin, { name: 'CLI co-op', maxBackdateDays: 36_600 })).id;
  for (const [code, type] of [
    ['1010', 'ASSET'],
    ['4000', 'REVENUE'],
  ] as const)
    await createAccount(admin, bookId, { code, type, name: code === '1010' ? 'Bank' : 'Sales' });
  const posted = await admin.postJournalEntry({
    bookId,
    idempotencyKey: newKey('cli'),
    effectiveAt: '2025-02-10T00:00:00.000Z',
    lines: [
      { accountCode: '1010', side: 'DEBIT', amount: '420.00', unit: 'USD' },
      { accountCode: '4000', side: 'CREDIT', amount: '420.00', unit: 'USD' },
    ],
  });
  expect(posted.userErrors).toEqual([]);
});

afterAll(async () => {
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
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

describe('npm run statements', () => {
  it('has --help naming LEDGER_URL and LEDGER_TOKEN', { timeout: 60_000 }, async () => {
    const help = await cli(['--help']);
    expect(help.code, help.stderr).toBe(0);
    expect(help.stdout).toContain('LEDGER_URL');
    expect(help.stdout).toContain('LEDGER_TOKEN');
    const bad = await cli(['income', '--book', bookId]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('income needs --from and --to');
  });

  it('writes the income statement as CSV and PDF, the balance sheet and trial balance as text', {
    timeout: 90_000,
  }, async () => {
    const csv = await cli(['income', '--book', bookId, '--from', '2025-02-01', '--to', '2025-02-28']);
    expect(csv.code).toBe(0);
    expect(csv.stdout.split('\r\n')).toContain('USD,REVENUE,ACCOUNT,4000,Sales,1,420.00');
    const pdfPath = path.join(dir, 'income.pdf');
    const pdf = await cli([
      'income',
      '--book',
      bookId,
      '--from',
      '2025-02-01',
      '--to',
      '2025-02-28',
      '--format',
      'pdf',
      '--out',
      pdfPath,
    ]);
    expect(pdf.code).toBe(0);
    expect(readFileSync(pdfPath).subarray(0, 5).toString('latin1')).toBe('%PDF-');
    const sheet = await cli(['balance', '--book', bookId, '--as-of', '2025-02-28', '--format', 'text']);
    expect(sheet.stdout).toMatch(/1010 Bank\s+420\.00/);
    expect(sheet.stdout).toMatch(/Result for the period\s+420\.00/);
    const trial = await cli(['trial', '--book', bookId, '--as-of', '2025-02-28', '--format', 'text']);
    expect(trial.stdout).toMatch(/Total USD\s+420\.00\s+420\.00/);
    const other = await cli(['income', '--book', 'nope', '--from', '2025-02-01', '--to', '2025-02-28']);
    expect(other.code).toBe(1);
    expect(other.stderr).toContain('that this token may read');
  });
});
