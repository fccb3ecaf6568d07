/**
 * The book exports the real tools accept (issue 17): a book with sub-accounts, two units, a
 * reversal and a pending entry (left out) is exported by scripts/export-ledger.ts (as a child
 * process, through the API), then `hledger check` and `bean-check` must accept the files, and the
 * balances hledger and beancount compute from them must be the API's trial balance, account by
 * account. The CSV format has one row per posted line.
 *
 * The tools are Debian packages that .ci/run installs (apt-get install -y hledger beancount). A
 * machine where they cannot be installed sets PLAIN_TEXT_TOOLS=unavailable (as .ci/run does when
 * the install fails) and the checks are skipped saying so; otherwise a missing tool fails here.
 */

import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Decimal } from 'decimal.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LedgerClient } from '../../client-sdk/index.js';
import { builtArgs } from '../helpers/build.js';
import { createAccount, createBook, ledgerClient, newKey } from '../helpers/ledger.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const run = promisify(execFile);
const unavailable = process.env.PLAIN_TEXT_TOOLS === 'unavailable';
if (unavailable)
  console.warn(
    'PLAIN_TEXT_TOOLS=unavailable: hledger and bean-check could not be installed; their checks are skipped',
  );

let server: TestServer;
let admin: LedgerClient;
let bookId: string;
let dir: string;

beforeAll(async () => {
  server = await startTestServer({ config: { rateLimitPerSecond: 0 } });
  admin = ledgerClient(server.url);
  dir = mkdtempSync(path.join(tmpdir(), 'plain-text-tools-'));
  const book = await createBook(admin, {
    units: [
      { code: 'USD', scale: 2 },
      { code: 'HOUR', scale: 0 },
    ],
    maxBackdateDays: 36_600,
  });
  bookId = book.id;
  await createAccount(admin, bookId, { code: '1010', type: 'ASSET' });
  const receivables = await createAccount(admin, bookId, { code: '1100', type: 'ASSET' });
  await createAccount(admin, bookId, { code: '1100-01', type: 'ASSET', parentId: receivables.id });
  await createAccount(admin, bookId, { code: '3000', type: 'EQUITY', name: 'Capital; "paid"' });
  await createAccount(admin, bookId, { code: 'sales:local', type: 'REVENUE' });
  await createAccount(admin, bookId, { code: '5100', type: 'EXPENSE' });
  await createAccount(admin, bookId, { code: 'H1', type: 'ASSET', unit: 'HOUR' });
  await createAccount(admin, bookId, { code: 'H2', type: 'LIABILITY', unit: 'HOUR' });
  const post = async (day: string, lines: [string, 'DEBIT' | 'CREDIT', string, string][], memo = '') => {
    const posted = await admin.postJournalEntry({
      bookId,
      idempotencyKey: newKey('pt'),
      effectiveAt: `${day}T10:00:00.000Z`,
      memo,
      lines: lines.map(([accountCode, side, amount, unit]) => ({ accountCode, side, amount, unit })),
    });
    expect(posted.userErrors).toEqual([]);
    return posted.entry!.id;
  };
  await post(
    '2025-01-02',
    [
      ['1010', 'DEBIT', '10000.00', 'USD'],
      ['3000', 'CREDIT', '10000.00', 'USD'],
    ],
    'Capital "in"\nline two',
  );
  await post('2025-01-05', [
    ['1100-01', 'DEBIT', '1234.56', 'USD'],
    ['sales:local', 'CREDIT', '1234.56', 'USD'],
  ]);
  const wrong = await post(
    '2025-01-06',
    [
      ['5100', 'DEBIT', '99.99', 'USD'],
      ['1010', 'CREDIT', '99.99', 'USD'],
    ],
    'posted twice',
  );
  expect(
    (await admin.reverseJournalEntry({ entryId: wrong, idempotencyKey: newKey('rev') })).userErrors,
  ).toEqual([]);
  await post('2025-01-07', [
    ['5100', 'DEBIT', '800.00', 'USD'],
    ['1010', 'CREDIT', '800.00', 'USD'],
    ['H1', 'DEBIT', '12', 'HOUR'],
    ['H2', 'CREDIT', '12', 'HOUR'],
  ]);
  const pending = await admin.postPendingEntry({
    bookId,
    idempotencyKey: newKey('pending'),
    lines: [
      { accountCode: '5100', side: 'DEBIT', amount: '5.00', unit: 'USD' },
      { accountCode: '1010', side: 'CREDIT', amount: '5.00', unit: 'USD' },
    ],
  });
  expect(pending.userErrors).toEqual([]);
});

afterAll(async () => {
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Runs the export CLI against the test service, as a treasurer would. */
function exportBook(format: string): Promise<string> {
  const out = path.join(dir, `book.${format}`);
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [...builtArgs('scripts/export-ledger.ts'), '--book', bookId, '--format', format, '--out', out],
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
    child.on('exit', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`export-ledger exited ${code}: ${stderr}`)),
    );
  });
}

/** The API's posted balance per account code and unit (debits less credits), zero balances left out. */
async function apiBalances(): Promise<Map<string, string>> {
  const tb = (await admin.trialBalance({ bookId }))!;
  const out = new Map<string, string>();
  for (const l of tb.lines) {
    const net = new Decimal(l.debits).minus(l.credits);
    if (!net.isZero()) out.set(l.account.code, net.toFixed());
  }
  return out;
}

async function which(tool: string): Promise<boolean> {
  try {
    await run('sh', ['-c', `command -v ${tool}`]);
    return true;
  } catch {
    return false;
  }
}

describe.skipIf(unavailable)('hledger and beancount accept the export and agree with the API', () => {
  it('hledger check passes and hledger balance is the trial balance', { timeout: 60_000 }, async () => {
    expect(
      await which('hledger'),
      'hledger is not installed: .ci/run installs it (apt-get install -y hledger)',
    ).toBe(true);
    const file = await exportBook('hledger');
    await run('hledger', ['-f', file, 'check']);
    const { stdout } = await run('hledger', [
      '-f',
      file,
      'balance',
      '--flat',
      '--no-total',
      '-O',
      'csv',
      '--layout=bare',
    ]);
    const tool = new Map<string, string>();
    for (const line of stdout.trim().split('\n').slice(1)) {
      const [account, commodity, balance] = line.split(',').map((c) => c.replace(/^"|"$/g, ''));
      // hledger names accounts <type>:<code>.
      const code = account!.slice(account!.indexOf(':') + 1);
      if (!new Decimal(balance!).isZero()) tool.set(`${code} ${commodity}`, new Decimal(balance!).toFixed());
    }
    expect(Object.fromEntries(tool)).toEqual(Object.fromEntries(await apiBalancesByUnit()));
  });

  it('bean-check passes and bean-query balances are the trial balance', { timeout: 60_000 }, async () => {
    expect(
      await which('bean-check'),
      'bean-check is not installed: .ci/run installs it (apt-get install -y beancount)',
    ).toBe(true);
    const file = await exportBook('beancount');
    await run('bean-check', [file]);
    const { stdout } = await run('bean-query', [
      '-f',
      'csv',
      file,
      'SELECT account, currency, sum(number) AS balance GROUP BY account, currency ORDER BY account',
    ]);
    const tool = new Map<string, string>();
    for (const line of stdout.trim().split('\n').slice(1)) {
      const [account, currency, balance] = line.split(',').map((c) => c.trim());
      const code = account!.slice(account!.indexOf(':') + 1);
      if (!new Decimal(balance!).isZero()) tool.set(`${code} ${currency}`, new Decimal(balance!).toFixed());
    }
    // beancount names are sanitised (a code starting with a letter gets an X, ':' becomes '-'): compare by that name.
    const expected = new Map(
      [...(await apiBalancesByUnit())].map(([k, v]) => {
        const [code, unit] = k.split(' ');
        const component = code!.replace(/[^A-Za-z0-9-]/g, '-');
        return [`${/^[A-Z0-9]/.test(component) ? component : `X${component}`} ${unit}`, v];
      }),
    );
    expect(Object.fromEntries(tool)).toEqual(Object.fromEntries(expected));
  });
});

/** The API's balances keyed `<code> <unit>`. */
async function apiBalancesByUnit(): Promise<Map<string, string>> {
  const accounts = new Map<string, string>();
  for await (const a of admin.iterateAccounts({ bookId })) accounts.set(a.code, a.unit.code);
  const byCode = await apiBalances();
  return new Map([...byCode].map(([code, v]) => [`${code} ${accounts.get(code)}`, v]));
}

describe('the journal as CSV for spreadsheets', () => {
  it('has a row per posted line, pending entries left out, text guarded', { timeout: 60_000 }, async () => {
    const rows = readFileSync(await exportBook('csv'), 'utf8')
      .trimEnd()
      .split('\r\n');
    expect(rows[0]).toBe(
      'date,effective_at,seq,entry_id,kind,memo,account_code,account_type,unit,debit,credit',
    );
    // 2 + 2 + 2 + 2 (the reversal) + 4 lines; the pending entry's 2 are not posted.
    expect(rows).toHaveLength(13);
    expect(rows[1]).toMatch(
      /^2025-01-02,2025-01-02T10:00:00.000Z,1,[^,]+,STANDARD,"Capital ""in""\nline two",1010,ASSET,USD,10000.00,$/,
    );
    expect(rows.some((r) => r.includes(',REVERSAL,') && r.endsWith(',5100,EXPENSE,USD,,99.99'))).toBe(true);
    const debits = rows.slice(1).reduce((s, r) => s.plus(r.split(',').at(-2) || 0), new Decimal(0));
    const credits = rows.slice(1).reduce((s, r) => s.plus(r.split(',').at(-1) || 0), new Decimal(0));
    expect(debits.equals(credits)).toBe(true);
  });
});
