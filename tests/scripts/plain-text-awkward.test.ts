/**
 * The book exports under awkward content (the treasurer's desk audit, issue 17): units of scale 0,
 * 3 and 18 whose codes beancount does not take as they are (a trailing `_`), account codes that
 * collide once sanitised for beancount (`a.b`, `a_b`, `a-b`, `a:b`) and a code that is the parent
 * of another in hledger's naming (`a` and `a:b`), memos with quotes, backslashes, semicolons, tabs,
 * newlines, unicode and leading parentheses, entries of one day posted in reverse order, one at
 * 23:30 UTC on the last day of a month, a reversal, a committed, a voided and an open pending entry.
 * `hledger check --strict ordereddates` (every account and commodity declared, dates in order) and
 * `bean-check` must accept each export, and the balances the tools compute
 * must be the API's trial balance to the last decimal, account by account and unit by unit. An
 * empty book exports to files both tools accept, and hledger's revenue and expenses of each month
 * are the API's income statement.
 *
 * The tools are Debian packages that .ci/run installs; PLAIN_TEXT_TOOLS=unavailable skips these
 * checks as in plain-text-tools.test.ts.
 */

import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Decimal as Decimal20 } from 'decimal.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LedgerClient } from '../../client-sdk/index.js';
import { accountNames, type ExportAccount } from '../../scripts/lib/plain-text-export.js';
import { builtArgs } from '../helpers/build.js';
import { createAccount, createBook, ledgerClient, newKey } from '../helpers/ledger.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const run = promisify(execFile);
// decimal.js rounds to 20 digits by default: the 18-decimal unit's balances need more.
const Decimal = Decimal20.clone({ precision: 80, toExpNeg: -80, toExpPos: 80 });
const unavailable = process.env.PLAIN_TEXT_TOOLS === 'unavailable';

let server: TestServer;
let admin: LedgerClient;
let bookId: string;
let emptyBookId: string;
let dir: string;

type Line = [code: string, side: 'DEBIT' | 'CREDIT', amount: string, unit: string];

beforeAll(async () => {
  server = await startTestServer({ config: { rateLimitPerSecond: 0 } });
  admin = ledgerClient(server.url);
  dir = mkdtempSync(path.join(tmpdir(), 'plain-text-awkward-'));
  emptyBookId = (await createBook(admin, { units: [{ code: 'EUR_', scale: 2 }] })).id;
  const book = await createBook(admin, {
    name: 'Café "Ünïcode"; the \\ book',
    units: [
      { code: 'USD', scale: 2 },
      { code: 'KG_', scale: 3 },
      { code: 'HR', scale: 0 },
      { code: 'TOKEN_', scale: 18 },
    ],
    maxBackdateDays: 36_600,
  });
  bookId = book.id;
  const accounts: [string, 'ASSET' | 'LIABILITY' | 'EQUITY' | 'REVENUE' | 'EXPENSE', string, string][] = [
    ['1010', 'ASSET', 'USD', 'Bank "Süd"; Konto'],
    ['3000', 'EQUITY', 'USD', 'Capital'],
    ['a', 'REVENUE', 'USD', 'Sales'],
    ['a.b', 'REVENUE', 'USD', 'Sales ö'],
    ['a_b', 'REVENUE', 'USD', 'Sales ä'],
    ['a-b', 'REVENUE', 'USD', 'Sales ü'],
    ['a:b', 'REVENUE', 'USD', 'Sales :'],
    ['Xa-b', 'REVENUE', 'USD', 'Sales X'],
    ['5100', 'EXPENSE', 'USD', 'Rent'],
    ['S1', 'ASSET', 'KG_', 'Stock'],
    ['S2', 'EQUITY', 'KG_', 'Stock in'],
    ['T1', 'ASSET', 'TOKEN_', 'Tokens'],
    ['T2', 'LIABILITY', 'TOKEN_', 'Tokens owed'],
    ['H1', 'ASSET', 'HR', 'Hours given'],
    ['H2', 'LIABILITY', 'HR', 'Hours owed'],
  ];
  for (const [code, type, unit, name] of accounts)
    await createAccount(admin, bookId, { code, type, unit, name });
  const post = async (at: string, lines: Line[], memo: string) => {
    const posted = await admin.postJournalEntry({
      bookId,
      idempotencyKey: newKey('pa'),
      effectiveAt: at,
      memo,
      lines: lines.map(([accountCode, side, amount, unit]) => ({ accountCode, side, amount, unit })),
    });
    expect(posted.userErrors).toEqual([]);
    return posted.entry!.id;
  };
  // One day's entries posted latest first; one at 23:30 UTC on the last day of January.
  await post(
    '2025-01-31T23:30:00.000Z',
    [
      ['1010', 'DEBIT', '0.01', 'USD'],
      ['a', 'CREDIT', '0.01', 'USD'],
    ],
    '(late) sale | café ☕ 日本',
  );
  await post(
    '2025-01-31T08:00:00.000Z',
    [
      ['1010', 'DEBIT', '1234567.89', 'USD'],
      ['3000', 'CREDIT', '1234567.89', 'USD'],
    ],
    'Capital "in"; \\ back\tslash\r\nline two',
  );
  await post(
    '2025-01-15T12:00:00.000Z',
    [
      ['1010', 'DEBIT', '60.00', 'USD'],
      ['a.b', 'CREDIT', '10.00', 'USD'],
      ['a_b', 'CREDIT', '20.00', 'USD'],
      ['a-b', 'CREDIT', '30.00', 'USD'],
    ],
    '  ;  ',
  );
  await post(
    '2025-02-01T00:00:00.000Z',
    [
      ['1010', 'DEBIT', '7.77', 'USD'],
      ['a:b', 'CREDIT', '3.33', 'USD'],
      ['Xa-b', 'CREDIT', '4.44', 'USD'],
    ],
    '!important * ; not a comment',
  );
  await post(
    '2025-02-02T10:00:00.000Z',
    [
      ['S1', 'DEBIT', '1.000', 'KG_'],
      ['S2', 'CREDIT', '1.000', 'KG_'],
      ['T1', 'DEBIT', '12345678.123456789012345678', 'TOKEN_'],
      ['T2', 'CREDIT', '12345678.123456789012345678', 'TOKEN_'],
      ['H1', 'DEBIT', '1000', 'HR'],
      ['H2', 'CREDIT', '1000', 'HR'],
    ],
    'units',
  );
  await post(
    '2025-02-02T11:00:00.000Z',
    [
      ['S1', 'DEBIT', '1000', 'KG_'],
      ['S2', 'CREDIT', '1000', 'KG_'],
    ],
    'a thousand kilos',
  );
  const wrong = await post(
    '2025-02-03T10:00:00.000Z',
    [
      ['5100', 'DEBIT', '800.00', 'USD'],
      ['1010', 'CREDIT', '800.00', 'USD'],
    ],
    'rent, posted twice',
  );
  expect(
    (await admin.reverseJournalEntry({ entryId: wrong, idempotencyKey: newKey('rev') })).userErrors,
  ).toEqual([]);
  const pending = async (amount: string) => {
    const p = await admin.postPendingEntry({
      bookId,
      idempotencyKey: newKey('pend'),
      memo: `hold ${amount}`,
      lines: [
        { accountCode: '5100', side: 'DEBIT', amount, unit: 'USD' },
        { accountCode: '1010', side: 'CREDIT', amount, unit: 'USD' },
      ],
    });
    expect(p.userErrors).toEqual([]);
    return p.entry!.id;
  };
  const committed = await pending('11.11');
  const voided = await pending('22.22');
  await pending('33.33');
  expect(
    (await admin.commitPendingEntry({ entryId: committed, idempotencyKey: newKey('commit') })).userErrors,
  ).toEqual([]);
  expect(
    (await admin.voidPendingEntry({ entryId: voided, idempotencyKey: newKey('void') })).userErrors,
  ).toEqual([]);
});

afterAll(async () => {
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function exportBook(book: string, format: string): Promise<string> {
  const out = path.join(dir, `${book === bookId ? 'book' : 'empty'}.${format}`);
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [...builtArgs('scripts/export-ledger.ts'), '--book', book, '--format', format, '--out', out],
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

/** The API's posted balance (debits less credits) per exported account name and unit, zeros left out. */
async function apiBalances(format: 'hledger' | 'beancount'): Promise<Record<string, string>> {
  const accounts: (ExportAccount & { unit: { code: string } })[] = [];
  for await (const a of admin.iterateAccounts({ bookId })) accounts.push(a);
  const names = accountNames(accounts, format);
  expect(new Set(names.values()).size).toBe(accounts.length);
  const byCode = new Map(accounts.map((a) => [a.code, a]));
  const tb = (await admin.trialBalance({ bookId }))!;
  const out: Record<string, string> = {};
  for (const l of tb.lines) {
    const net = new Decimal(l.debits).minus(l.credits);
    const a = byCode.get(l.account.code)!;
    if (!net.isZero()) out[`${names.get(a.id)} ${a.unit.code}`] = net.toFixed();
  }
  return out;
}

describe.skipIf(unavailable)('awkward books exported to hledger and beancount', () => {
  it('hledger accepts the export and its balances are the API trial balance', {
    timeout: 60_000,
  }, async () => {
    const file = await exportBook(bookId, 'hledger');
    // Strict: every account and commodity declared; entries in date order though posted out of it.
    await run('hledger', ['-f', file, 'check', '--strict', 'ordereddates']);
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
    const tool: Record<string, string> = {};
    for (const line of stdout.trim().split('\n').slice(1)) {
      const [account, commodity, balance] = line.split(',').map((c) => c.replace(/^"|"$/g, ''));
      if (!new Decimal(balance!).isZero()) tool[`${account} ${commodity}`] = new Decimal(balance!).toFixed();
    }
    expect(tool).toEqual(await apiBalances('hledger'));
  });

  it('hledger gives each month the income statement the API gives, across the 23:30 UTC entry', {
    timeout: 60_000,
  }, async () => {
    const file = await exportBook(bookId, 'hledger');
    for (const [from, to, end] of [
      ['2025-01-01', '2025-01-31', '2025-02-01'],
      ['2025-02-01', '2025-02-28', '2025-03-01'],
    ] as const) {
      const { stdout } = await run('hledger', [
        '-f',
        file,
        'balance',
        '-b',
        from,
        '-e',
        end,
        '--flat',
        '--no-total',
        '-O',
        'csv',
        '--layout=bare',
        '^(revenue|expense):',
      ]);
      const tool = { revenue: new Decimal(0), expense: new Decimal(0) };
      for (const line of stdout.trim().split('\n').slice(1)) {
        const [account, commodity, balance] = line.split(',').map((c) => c.replace(/^"|"$/g, ''));
        if (commodity !== 'USD') continue;
        const kind = account!.startsWith('revenue:') ? 'revenue' : 'expense';
        tool[kind] = tool[kind].plus(balance!);
      }
      const api = (await admin.incomeStatement({ bookId, from, to }))!.units.find(
        (u) => u.unit.code === 'USD',
      )!;
      // January by hand: 10.00 + 20.00 + 30.00 on the 15th and 0.01 at 23:30 UTC on the 31st.
      if (from === '2025-01-01') expect(api.revenue.total).toBe('60.01');
      // hledger's revenue is a credit balance (negative); the statement shows it positive.
      expect([tool.revenue.negated().toFixed(2), tool.expense.toFixed(2)]).toEqual([
        api.revenue.total,
        api.expenses.total,
      ]);
    }
  });

  it('bean-check accepts the export and bean-query balances are the API trial balance', {
    timeout: 60_000,
  }, async () => {
    const file = await exportBook(bookId, 'beancount');
    await run('bean-check', [file]);
    const units = new Map<string, string>();
    // A unit code beancount does not take is written as another commodity, declared with the unit's code.
    for (const m of readFileSync(file, 'utf8').matchAll(/^\S+ commodity (\S+)\n {2}unit: "(.+)"$/gm))
      units.set(m[1]!, m[2]!);
    const { stdout: currencies } = await run('bean-query', ['-f', 'csv', file, 'SELECT DISTINCT currency']);
    const tool: Record<string, string> = {};
    // One query per currency: bean-query renders a column at one precision (18-decimal sums at 2).
    for (const currency of currencies
      .trim()
      .split('\n')
      .slice(1)
      .map((c) => c.trim())) {
      expect(currency).toMatch(/^[A-Z][A-Z0-9]*$/);
      const { stdout } = await run('bean-query', [
        '-f',
        'csv',
        file,
        `SELECT account, sum(number) AS balance WHERE currency = '${currency}' GROUP BY account ORDER BY account`,
      ]);
      for (const line of stdout.trim().split('\n').slice(1)) {
        const [account, balance] = line.split(',').map((c) => c.trim());
        if (!new Decimal(balance!).isZero())
          tool[`${account} ${units.get(currency) ?? currency}`] = new Decimal(balance!).toFixed();
      }
    }
    expect(tool).toEqual(await apiBalances('beancount'));
  });

  it('an empty book exports to files both tools accept', { timeout: 60_000 }, async () => {
    await run('hledger', ['-f', await exportBook(emptyBookId, 'hledger'), 'check', '--strict']);
    await run('bean-check', [await exportBook(emptyBookId, 'beancount')]);
  });
});
