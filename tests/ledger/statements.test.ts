/**
 * The treasurer's desk, ledger side (issue 17), on a hand-worked book through HTTP and the SDK:
 * entries named by account code, `account(bookId, code)`, the income statement and the balance
 * sheet with roll-ups and comparisons, the trial balance rolled up, CSV and PDF.
 *
 * The book (USD, and HOUR for a second unit), its chart:
 *   1000 Cash, 1010 Bank, 1100 Receivables > 1100-01 Customer A, 1100-02 Customer B > 1100-02-X Project X (assets)
 *   2000 Payables (liability), 3000 Capital (equity)
 *   4000 Revenue > 4010 Sales, 4020 Services; 5000 Expenses > 5100 Rent, 5200 Wages
 *   H-ASSET Hours held (asset, HOUR), H-REV Hours earned (revenue, HOUR)
 * Its entries, every line named by code:
 *   2024-12-20  Dr 1000   100.00 / Cr 4010   100.00   a sale the year before
 *   2025-01-02  Dr 1010 10000.00 / Cr 3000 10000.00   capital paid in
 *   2025-01-15  Dr 1100-01 1200.00 / Cr 4010 1200.00  sale on credit to A
 *   2025-01-20  Dr 1100-02-X 800.00 / Cr 4020 800.00  services on credit to B (project X)
 *   2025-01-31  Dr 5100   500.00 / Cr 1010   500.00   January rent
 *   2025-02-01  Dr H-ASSET 10 / Cr H-REV 10           hours earned
 *   2025-02-10  Dr 1010  1000.00 / Cr 1100-01 1000.00 A pays part
 *   2025-02-14  Dr 5200   900.00 / Cr 2000   900.00   wages accrued
 *   2025-02-28  Dr 1000   300.00 / Cr 4010   300.00   cash sale
 *   2025-03-05  Dr 5100   500.00 / Cr 1010   500.00   March rent (after every statement below)
 */
import { extractText, getDocumentProxy } from 'unpdf';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LedgerClient } from '../../client-sdk/index.js';
import { createBook, decodeGlobalId, ledgerClient, newKey, rawGraphQL } from '../helpers/ledger.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { issueToken } from '../helpers/tokens.js';

let server: TestServer;
let admin: LedgerClient;
let treasurer: LedgerClient;
let bookId: string;
const ids: Record<string, string> = {};

const CHART: [
  code: string,
  type: 'ASSET' | 'LIABILITY' | 'EQUITY' | 'REVENUE' | 'EXPENSE',
  parent?: string,
  unit?: string,
][] = [
  ['1000', 'ASSET'],
  ['1010', 'ASSET'],
  ['1100', 'ASSET'],
  ['1100-01', 'ASSET', '1100'],
  ['1100-02', 'ASSET', '1100'],
  ['1100-02-X', 'ASSET', '1100-02'],
  ['2000', 'LIABILITY'],
  ['3000', 'EQUITY'],
  ['4000', 'REVENUE'],
  ['4010', 'REVENUE', '4000'],
  ['4020', 'REVENUE', '4000'],
  ['5000', 'EXPENSE'],
  ['5100', 'EXPENSE', '5000'],
  ['5200', 'EXPENSE', '5000'],
  ['H-ASSET', 'ASSET', undefined, 'HOUR'],
  ['H-REV', 'REVENUE', undefined, 'HOUR'],
];

const ENTRIES: [day: string, debit: string, credit: string, amount: string, unit?: string][] = [
  ['2024-12-20', '1000', '4010', '100.00'],
  ['2025-01-02', '1010', '3000', '10000.00'],
  ['2025-01-15', '1100-01', '4010', '1200.00'],
  ['2025-01-20', '1100-02-X', '4020', '800.00'],
  ['2025-01-31', '5100', '1010', '500.00'],
  ['2025-02-01', 'H-ASSET', 'H-REV', '10', 'HOUR'],
  ['2025-02-10', '1010', '1100-01', '1000.00'],
  ['2025-02-14', '5200', '2000', '900.00'],
  ['2025-02-28', '1000', '4010', '300.00'],
  ['2025-03-05', '5100', '1010', '500.00'],
];

const byCode = (debit: string, credit: string, amount: string, unit = 'USD') => [
  { accountCode: debit, side: 'DEBIT' as const, amount, unit },
  { accountCode: credit, side: 'CREDIT' as const, amount, unit },
];

beforeAll(async () => {
  server = await startTestServer({ config: { rateLimitPerSecond: 0 } });
  admin = ledgerClient(server.url);
  const book = await createBook(admin, {
    units: [
      { code: 'USD', scale: 2 },
      { code: 'HOUR', scale: 0 },
    ],
    maxBackdateDays: 36_600,
  });
  bookId = book.id;
  const issued = await issueToken(admin, {
    grants: [{ role: 'TREASURER', scope: decodeGlobalId(book.id).bookId }],
  });
  treasurer = ledgerClient(server.url, { token: issued.token });
  for (const [code, type, parent, unit] of CHART) {
    const created = await treasurer.createAccount({
      bookId,
      code,
      name: `Account ${code}`,
      type,
      unit: unit ?? 'USD',
      parentId: parent ? ids[parent] : null,
    });
    expect(created.userErrors).toEqual([]);
    ids[code] = created.account!.id;
  }
  for (const [day, debit, credit, amount, unit] of ENTRIES) {
    const posted = await treasurer.postJournalEntry({
      bookId,
      idempotencyKey: newKey('stmt'),
      effectiveAt: `${day}T00:00:00.000Z`,
      memo: `${debit} / ${credit}`,
      lines: byCode(debit, credit, amount, unit),
    });
    expect(posted.userErrors).toEqual([]);
  }
});

afterAll(async () => {
  await server?.stop();
});

/** `code -> amount` of a section's lines (and the depth and roll-up flag when asked). */
function amounts(section: { lines: { account: { code: string }; amount: string }[] }) {
  return Object.fromEntries(section.lines.map((l) => [l.account.code, l.amount]));
}

describe('accounts by code', () => {
  it('finds an account by its book and code, and nothing for another book or code', async () => {
    const account = await treasurer.accountByCode({ bookId, code: '1100-02-X' });
    expect(account?.id).toBe(ids['1100-02-X']);
    expect(await treasurer.accountByCode({ bookId, code: 'nope' })).toBeNull();
    const other = await createBook(admin);
    await admin.createAccount({ bookId: other.id, code: '1000', name: 'x', type: 'ASSET', unit: 'USD' });
    // The treasurer of this book asks another book: null, as for a book that does not exist.
    expect(await treasurer.accountByCode({ bookId: other.id, code: '1000' })).toBeNull();
    expect((await admin.accountByCode({ bookId: other.id, code: '1000' }))?.code).toBe('1000');
  });

  it('refuses an account lookup by both id and code, or by neither', async () => {
    for (const [query, variables] of [
      [
        'query($id: ID!, $b: ID!) { account(id: $id, bookId: $b, code: "1000") { id } }',
        { id: ids['1000'], b: bookId },
      ],
      ['query { account { id } }', {}],
      ['query($b: ID!) { account(bookId: $b) { id } }', { b: bookId }],
    ] as const) {
      const answer = await rawGraphQL(server.url, query, variables);
      expect(answer.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    }
  });

  it('an entry named by code is the entry named by id: the same key replays either way', async () => {
    const key = newKey('by-code');
    const byCodes = await treasurer.postJournalEntry({
      bookId,
      idempotencyKey: key,
      effectiveAt: '2025-03-10T00:00:00.000Z',
      lines: byCode('1000', '1010', '1.00'),
    });
    expect(byCodes.userErrors).toEqual([]);
    expect(byCodes.entry!.lines.map((l) => l.account.id)).toEqual([ids['1000'], ids['1010']]);
    const byIds = await treasurer.postJournalEntry({
      bookId,
      idempotencyKey: key,
      effectiveAt: '2025-03-10T00:00:00.000Z',
      lines: [
        { accountId: ids['1000'], side: 'DEBIT', amount: '1.00', unit: 'USD' },
        { accountId: ids['1010'], side: 'CREDIT', amount: '1.00', unit: 'USD' },
      ],
    });
    expect(byIds).toMatchObject({ replayed: true, entry: { id: byCodes.entry!.id } });
    // Mixed: one line by id, one by code, is the same entry too.
    const mixed = await treasurer.postJournalEntry({
      bookId,
      idempotencyKey: key,
      effectiveAt: '2025-03-10T00:00:00.000Z',
      lines: [
        { accountId: ids['1000'], side: 'DEBIT', amount: '1.00', unit: 'USD' },
        { accountCode: '1010', side: 'CREDIT', amount: '1.00', unit: 'USD' },
      ],
    });
    expect(mixed.replayed).toBe(true);
    // Undo it so the statements below see only the hand-worked entries.
    const reversed = await treasurer.reverseJournalEntry({
      entryId: byCodes.entry!.id,
      idempotencyKey: newKey('undo'),
    });
    expect(reversed.userErrors).toEqual([]);
  });

  it('refuses a line with both id and code, with neither, or with an unknown code, naming the line; nothing posts', async () => {
    const before = (await treasurer.accountBalance({ accountId: ids['1000']! }))!.posted;
    const cases = [
      {
        lines: [
          {
            accountId: ids['1000'],
            accountCode: '1000',
            side: 'DEBIT' as const,
            amount: '1.00',
            unit: 'USD',
          },
          { accountCode: '1010', side: 'CREDIT' as const, amount: '1.00', unit: 'USD' },
        ],
        error: { code: 'INVALID_INPUT', field: 'lines[0]' },
      },
      {
        lines: [
          { side: 'DEBIT' as const, amount: '1.00', unit: 'USD' },
          { accountCode: '1010', side: 'CREDIT' as const, amount: '1.00', unit: 'USD' },
        ],
        error: { code: 'INVALID_INPUT', field: 'lines[0].accountId' },
      },
      {
        lines: [
          { accountCode: '1000', side: 'DEBIT' as const, amount: '1.00', unit: 'USD' },
          { accountCode: '9999', side: 'CREDIT' as const, amount: '1.00', unit: 'USD' },
        ],
        error: { code: 'UNKNOWN_ACCOUNT', field: 'lines[1].accountCode' },
      },
    ];
    for (const c of cases) {
      const key = newKey('bad-code');
      const posted = await treasurer.postJournalEntry({ bookId, idempotencyKey: key, lines: c.lines });
      expect(posted.entry).toBeNull();
      expect(posted.userErrors).toEqual([expect.objectContaining(c.error)]);
      // Not remembered: the key stays free for a corrected request.
      const pending = await treasurer.postPendingEntry({
        bookId,
        idempotencyKey: newKey('p'),
        lines: c.lines,
      });
      expect(pending.userErrors).toEqual([expect.objectContaining(c.error)]);
    }
    expect((await treasurer.accountBalance({ accountId: ids['1000']! }))!.posted).toBe(before);
    // Another book's code is unknown here, even to an admin naming this book.
    const other = await admin.postJournalEntry({
      bookId,
      idempotencyKey: newKey('x'),
      lines: byCode('1000', 'nope', '1.00'),
    });
    expect(other.userErrors[0]).toMatchObject({ code: 'UNKNOWN_ACCOUNT', field: 'lines[1].accountCode' });
  });

  it('batches resolve every code at once: ATOMIC posts none on a bad code, INDEPENDENT posts the others', async () => {
    const entries = (tag: string) => [
      {
        idempotencyKey: newKey(`${tag}0`),
        effectiveAt: '2025-03-11T00:00:00.000Z',
        lines: byCode('1000', '1010', '2.00'),
      },
      {
        idempotencyKey: newKey(`${tag}1`),
        effectiveAt: '2025-03-11T00:00:00.000Z',
        lines: byCode('1000', 'missing', '2.00'),
      },
      {
        idempotencyKey: newKey(`${tag}2`),
        effectiveAt: '2025-03-11T00:00:00.000Z',
        lines: byCode('1010', '1000', '2.00'),
      },
    ];
    const atomic = await treasurer.postJournalEntries({ bookId, mode: 'ATOMIC', entries: entries('a') });
    expect(atomic.postedCount).toBe(0);
    expect(atomic.results.map((r) => [r.userErrors[0]?.code, r.userErrors[0]?.field])).toEqual([
      ['BATCH_ITEM_FAILED', null],
      ['UNKNOWN_ACCOUNT', 'entries[1].lines[1].accountCode'],
      ['BATCH_ITEM_FAILED', null],
    ]);
    const independent = await treasurer.postJournalEntries({
      bookId,
      mode: 'INDEPENDENT',
      entries: entries('i'),
    });
    expect(independent.postedCount).toBe(2);
    expect(independent.results.map((r) => r.userErrors[0]?.code ?? 'ok')).toEqual([
      'ok',
      'UNKNOWN_ACCOUNT',
      'ok',
    ]);
    // The two posted entries cancel out (1000 up 2.00, then down 2.00) and stay after every statement below.
  });
});

describe('income statement', () => {
  it('February 2025 against January: sub-accounts shown under their parents, per unit', async () => {
    const s = (await treasurer.incomeStatement({
      bookId,
      from: '2025-02-01',
      to: '2025-02-28',
      compare: 'PREVIOUS_PERIOD',
    }))!;
    // A whole month compares with the month before.
    expect(s.comparison).toEqual({
      kind: 'PREVIOUS_PERIOD',
      period: { from: '2025-01-01', to: '2025-01-31' },
    });
    const usd = s.units.find((u) => u.unit.code === 'USD')!;
    // Revenue: 4010 300.00 in February (Jan: 1,200.00), 4020 0.00 (Jan: 800.00); 4000 holds both.
    expect(
      usd.revenue.lines.map((l) => [l.account.code, l.depth, l.amount, l.ownAmount, l.comparisonAmount]),
    ).toEqual([
      ['4000', 1, '300.00', '0.00', '2000.00'],
      ['4010', 2, '300.00', '300.00', '1200.00'],
      ['4020', 2, '0.00', '0.00', '800.00'],
    ]);
    expect([usd.revenue.total, usd.revenue.comparisonTotal]).toEqual(['300.00', '2000.00']);
    // Expenses: wages 900.00 in February; rent 500.00 in January.
    expect(amounts(usd.expenses)).toEqual({ '5000': '900.00', '5100': '0.00', '5200': '900.00' });
    expect([usd.expenses.total, usd.expenses.comparisonTotal]).toEqual(['900.00', '500.00']);
    // Result: 300.00 - 900.00 = -600.00 (a loss); January 2,000.00 - 500.00 = 1,500.00.
    expect([usd.result, usd.comparisonResult]).toEqual(['-600.00', '1500.00']);
    const hours = s.units.find((u) => u.unit.code === 'HOUR')!;
    expect([hours.revenue.total, hours.result, hours.comparisonResult]).toEqual(['10', '10', '0']);
  });

  it('rolled up to depth 1, and the same days a year before', async () => {
    const s = (await treasurer.incomeStatement({
      bookId,
      from: '2025-01-01',
      to: '2025-02-28',
      depth: 1,
      compare: 'PREVIOUS_YEAR',
    }))!;
    expect(s.comparison!.period).toEqual({ from: '2024-01-01', to: '2024-02-29' });
    const usd = s.units.find((u) => u.unit.code === 'USD')!;
    // 4000 = 1,200.00 + 800.00 + 300.00; 5000 = 500.00 + 900.00; nothing in early 2024.
    expect(usd.revenue.lines.map((l) => [l.account.code, l.amount, l.rolledUp, l.comparisonAmount])).toEqual([
      ['4000', '2300.00', true, '0.00'],
    ]);
    expect(usd.expenses.lines.map((l) => [l.account.code, l.amount, l.rolledUp])).toEqual([
      ['5000', '1400.00', true],
    ]);
    expect(usd.result).toBe('900.00');
  });

  it('omits accounts at zero in every column when asked', async () => {
    const s = (await treasurer.incomeStatement({
      bookId,
      from: '2025-02-01',
      to: '2025-02-28',
      omitZero: true,
    }))!;
    const usd = s.units.find((u) => u.unit.code === 'USD')!;
    expect(usd.revenue.lines.map((l) => l.account.code)).toEqual(['4000', '4010']);
    expect(usd.expenses.lines.map((l) => l.account.code)).toEqual(['5000', '5200']);
  });

  it('refuses a period that ends before it starts and a depth out of range', async () => {
    for (const variables of [
      { bookId, from: '2025-03-01', to: '2025-02-01' },
      { bookId, from: '2025-01-01', to: '2025-02-01', depth: 0 },
    ]) {
      const answer = await rawGraphQL(
        server.url,
        'query($bookId: ID!, $from: Date!, $to: Date!, $depth: Int) { incomeStatement(bookId: $bookId, from: $from, to: $to, depth: $depth) { units { result } } }',
        variables,
      );
      expect(answer.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    }
  });
});

describe('balance sheet', () => {
  it('as of 2025-02-28 with the result of the year so far and of earlier years', async () => {
    const s = (await treasurer.balanceSheet({ bookId, asOf: '2025-02-28', compare: 'PREVIOUS_PERIOD' }))!;
    expect([s.asOf, s.periodStart]).toEqual(['2025-02-28', '2025-01-01']);
    // Two whole months compare with the two before: November and December 2024.
    expect(s.comparison!.period).toEqual({ from: '2024-11-01', to: '2024-12-31' });
    const usd = s.units.find((u) => u.unit.code === 'USD')!;
    // Cash 100.00 + 300.00; Bank 10,000.00 - 500.00 + 1,000.00; receivables: A 1,200.00 - 1,000.00, B (project X) 800.00.
    expect(usd.assets.lines.map((l) => [l.account.code, l.depth, l.amount, l.comparisonAmount])).toEqual([
      ['1000', 1, '400.00', '100.00'],
      ['1010', 1, '10500.00', '0.00'],
      ['1100', 1, '1000.00', '0.00'],
      ['1100-01', 2, '200.00', '0.00'],
      ['1100-02', 2, '800.00', '0.00'],
      ['1100-02-X', 3, '800.00', '0.00'],
    ]);
    expect([usd.assets.total, usd.assets.comparisonTotal]).toEqual(['11900.00', '100.00']);
    expect(amounts(usd.liabilities)).toEqual({ '2000': '900.00' });
    expect(amounts(usd.equity)).toEqual({ '3000': '10000.00' });
    // Result of 2025 so far: revenue 1,200.00 + 800.00 + 300.00 less expenses 500.00 + 900.00 = 900.00;
    // earlier (2024): 100.00. Equity 10,000.00 + 900.00 + 100.00 = 11,000.00; with liabilities 11,900.00.
    expect({
      resultOfPeriod: usd.resultOfPeriod,
      earlierResults: usd.earlierResults,
      totalEquity: usd.totalEquity,
      totalLiabilitiesAndEquity: usd.totalLiabilitiesAndEquity,
      balanced: usd.balanced,
    }).toEqual({
      resultOfPeriod: '900.00',
      earlierResults: '100.00',
      totalEquity: '11000.00',
      totalLiabilitiesAndEquity: '11900.00',
      balanced: true,
    });
    // December 2024: the 100.00 sale is that period's result; nothing before it.
    expect([
      usd.comparisonResultOfPeriod,
      usd.comparisonEarlierResults,
      usd.comparisonTotalLiabilitiesAndEquity,
    ]).toEqual(['100.00', '0.00', '100.00']);
    const hours = s.units.find((u) => u.unit.code === 'HOUR')!;
    expect([hours.assets.total, hours.resultOfPeriod, hours.balanced]).toEqual(['10', '10', true]);
  });

  it('rolled up to depth 1 against the year before (2024-02-29: a month end stays a month end)', async () => {
    const s = (await treasurer.balanceSheet({
      bookId,
      asOf: '2025-02-28',
      depth: 1,
      compare: 'PREVIOUS_YEAR',
    }))!;
    expect(s.comparison!.period).toEqual({ from: '2024-01-01', to: '2024-02-29' });
    const usd = s.units.find((u) => u.unit.code === 'USD')!;
    expect(usd.assets.lines.map((l) => [l.account.code, l.amount, l.rolledUp])).toEqual([
      ['1000', '400.00', false],
      ['1010', '10500.00', false],
      ['1100', '1000.00', true],
    ]);
    expect(usd.comparisonTotalLiabilitiesAndEquity).toBe('0.00');
  });

  it('downloads as CSV and PDF', async () => {
    const files = (await treasurer.balanceSheetFiles({
      bookId,
      asOf: '2025-02-28',
      compare: 'PREVIOUS_PERIOD',
    }))!;
    expect(files.fileName).toBe('balance-sheet-2025-02-28');
    const rows = files.csv.trimEnd().split('\r\n');
    expect(rows[0]).toBe('unit,section,line_type,code,account,depth,amount,comparison_amount');
    expect(rows).toContain('USD,ASSET,ACCOUNT,1100-02-X,Account 1100-02-X,3,800.00,0.00');
    expect(rows).toContain('USD,ASSET,TOTAL,,Total assets,,11900.00,100.00');
    expect(rows).toContain('USD,EQUITY,RESULT,,Result for the period,,900.00,100.00');
    expect(rows).toContain('USD,EQUITY,RESULT,,Total liabilities and equity,,11900.00,100.00');
    expect(Buffer.from(files.pdf.subarray(0, 5)).toString('latin1')).toBe('%PDF-');
    const { text } = await extractText(await getDocumentProxy(files.pdf), { mergePages: true });
    const flat = text.replace(/\s+/g, ' ');
    for (const expected of [
      'Balance sheet',
      'In USD',
      '1100-02-X Account 1100-02-X',
      '11900.00',
      'Total liabilities and equity',
    ])
      expect(flat).toContain(expected);
    const income = (await treasurer.incomeStatementFiles({ bookId, from: '2025-02-01', to: '2025-02-28' }))!;
    expect(income.csv.split('\r\n')).toContain(
      'USD,RESULT,RESULT,,Result for the period (revenue less expenses),,-600.00',
    );
    const incomeText = (await extractText(await getDocumentProxy(income.pdf), { mergePages: true })).text;
    expect(incomeText.replace(/\s+/g, ' ')).toContain('Income statement');
  });
});

describe('trial balance roll-up', () => {
  it('folds sub-accounts into their ancestor at the depth, and the columns still balance', async () => {
    const full = (await treasurer.rolledTrialBalance({ bookId, asOf: '2025-02-28T23:59:59.999Z' }))!;
    const line = (tb: typeof full, code: string) => tb.lines.find((l) => l.account.code === code)!;
    // Without a depth every account is its own line: 1100 holds nothing itself.
    expect([
      line(full, '1100').debitBalance,
      line(full, '1100').depth,
      line(full, '1100-02-X').depth,
    ]).toEqual(['0.00', 1, 3]);
    const rolled = (await treasurer.rolledTrialBalance({
      bookId,
      asOf: '2025-02-28T23:59:59.999Z',
      rollupDepth: 1,
    }))!;
    expect(rolled.rollupDepth).toBe(1);
    expect(rolled.lines.some((l) => l.account.code === '1100-01')).toBe(false);
    // 1100: debits 1,200.00 + 800.00, credits 1,000.00: a debit balance of 1,000.00.
    expect(line(rolled, '1100')).toMatchObject({
      debits: '2000.00',
      credits: '1000.00',
      debitBalance: '1000.00',
      rolledUp: true,
    });
    // 4000: 1,200.00 + 800.00 + 300.00 + 100.00 (2024) credited.
    expect(line(rolled, '4000')).toMatchObject({ creditBalance: '2400.00', rolledUp: true });
    const usd = rolled.units.find((u) => u.unit.code === 'USD')!;
    expect(usd.balanced).toBe(true);
    expect(usd.debitBalanceTotal).toBe(full.units.find((u) => u.unit.code === 'USD')!.debitBalanceTotal);
    expect(rolled.csv.split('\r\n')).toContain('USD,1100,Account 1100,1,true,2000.00,1000.00,1000.00,0.00');
  });
});
