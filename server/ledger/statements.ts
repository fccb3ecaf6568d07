/**
 * Financial statements of a book (issue 17): the income statement for any period and the balance
 * sheet as of any day, per unit, with sub-accounts rolled up to a depth or shown, and a comparison
 * column; the trial balance's roll-up. The arithmetic is server/core/statements.ts; here the
 * accounts and the posted totals are read (one query for every column) and the answer assembled.
 *
 * Days are UTC calendar days, both ends inclusive: an entry counts on the UTC day of its
 * `effectiveAt` (the co-ops' money is dated at 00:00 UTC of its day). Only posted amounts count,
 * as in the trial balance; pending entries do not.
 *
 * Reads check no caller: the schema lets only readers of the book (its treasurers, stewards and
 * admins) ask.
 */
import {
  type BalanceSheetUnit,
  balanceSheet,
  type Comparison,
  comparisonPeriod,
  type IncomeStatementUnit,
  incomeStatement,
  LedgerError,
  type Period,
  rollUpTrialBalance,
  type StatementAccount,
  type Unit,
  validateDate,
  validateDepth,
  validatePeriod,
  ZERO,
} from '../core/index.js';
import type { Queryable } from '../platform/transaction.js';
import type { BookRecord, TrialBalance, TrialBalanceLine } from './records.js';
import { type AccountRow, listAccounts } from './store.js';
import { dayRangeTotals } from './store-statements.js';

export interface StatementRequestOptions {
  /** Roll sub-accounts up into their ancestor at this depth; null shows every account. */
  depth: number | null;
  compare: Comparison;
  omitZero: boolean;
}

export interface IncomeStatementRequest extends StatementRequestOptions {
  from: string;
  to: string;
}

export interface BalanceSheetRequest extends StatementRequestOptions {
  asOf: string;
  /** The first day of the period whose result is shown apart; default 1 January of asOf's year. */
  periodStart: string | null;
}

interface ReportBase {
  book: BookRecord;
  depth: number | null;
  omitZero: boolean;
  /** Every account of the book by id (the lines name them). */
  accounts: Map<string, AccountRow>;
}

export interface IncomeStatementReport extends ReportBase {
  kind: 'INCOME_STATEMENT';
  period: Period;
  comparison: { kind: Exclude<Comparison, 'NONE'>; period: Period } | null;
  units: (Omit<IncomeStatementUnit, 'unitCode'> & { unit: Unit })[];
}

export interface BalanceSheetReport extends ReportBase {
  kind: 'BALANCE_SHEET';
  /** `to` is the day of the balances, `from` the start of the period whose result is shown. */
  period: Period;
  comparison: { kind: Exclude<Comparison, 'NONE'>; period: Period } | null;
  units: (Omit<BalanceSheetUnit, 'unitCode'> & { unit: Unit })[];
}

export type StatementReport = IncomeStatementReport | BalanceSheetReport;

/** Every account of a book, closed ones included, in code order. */
export async function allAccounts(db: Queryable, bookId: string): Promise<AccountRow[]> {
  const accounts: AccountRow[] = [];
  for (let after: string | null = null; ; ) {
    const page = await listAccounts(db, bookId, {
      afterCode: after,
      limit: 5000,
      includeClosed: true,
      type: null,
    });
    accounts.push(...page);
    if (page.length < 5000) return accounts;
    after = page[page.length - 1]!.code;
  }
}

const asStatementAccount = (a: AccountRow): StatementAccount => ({
  id: a.id,
  code: a.code,
  name: a.name,
  type: a.type,
  unitCode: a.unit.code,
  parentId: a.parentId,
});

/** The book's units that hold an account of one of these types, in the book's order. */
function unitsWith(book: BookRecord, accounts: AccountRow[], types: readonly string[]): Unit[] {
  const used = new Set(accounts.filter((a) => types.includes(a.type)).map((a) => a.unit.code));
  return book.units.filter((u) => used.has(u.code));
}

function checkOptions(o: StatementRequestOptions): LedgerError | null {
  return (
    validateDepth(o.depth) ??
    (['NONE', 'PREVIOUS_PERIOD', 'PREVIOUS_YEAR'].includes(o.compare)
      ? null
      : new LedgerError('INVALID_INPUT', 'compare must be NONE, PREVIOUS_PERIOD or PREVIOUS_YEAR', 'compare'))
  );
}

export async function buildIncomeStatement(
  db: Queryable,
  book: BookRecord,
  request: IncomeStatementRequest,
): Promise<IncomeStatementReport | LedgerError> {
  const period = { from: request.from, to: request.to };
  const error = validatePeriod(period) ?? checkOptions(request);
  if (error) return error;
  const comparison =
    request.compare === 'NONE'
      ? null
      : { kind: request.compare, period: comparisonPeriod(period, request.compare) };
  const accounts = await allAccounts(db, book.id);
  const columns = await dayRangeTotals(db, book.id, [period, ...(comparison ? [comparison.period] : [])]);
  const units = unitsWith(book, accounts, ['REVENUE', 'EXPENSE']);
  const figures = incomeStatement(
    accounts.map(asStatementAccount),
    units.map((u) => u.code),
    columns,
    { depth: request.depth, omitZero: request.omitZero },
  );
  return {
    kind: 'INCOME_STATEMENT',
    book,
    period,
    comparison,
    depth: request.depth,
    omitZero: request.omitZero,
    accounts: new Map(accounts.map((a) => [a.id, a])),
    units: figures.map(({ unitCode: _, ...f }, i) => ({ ...f, unit: units[i]! })),
  };
}

export async function buildBalanceSheet(
  db: Queryable,
  book: BookRecord,
  request: BalanceSheetRequest,
): Promise<BalanceSheetReport | LedgerError> {
  const asOfError = validateDate(request.asOf, 'asOf');
  if (asOfError) return asOfError;
  const period = { from: request.periodStart ?? `${request.asOf.slice(0, 4)}-01-01`, to: request.asOf };
  const error = validatePeriod(period, { from: 'periodStart', to: 'asOf' }) ?? checkOptions(request);
  if (error) return error;
  const comparison =
    request.compare === 'NONE'
      ? null
      : { kind: request.compare, period: comparisonPeriod(period, request.compare) };
  const periods = [period, ...(comparison ? [comparison.period] : [])];
  const accounts = await allAccounts(db, book.id);
  // Balances up to each day first, then each period's movements: one query for all of them.
  const totals = await dayRangeTotals(db, book.id, [
    ...periods.map((p) => ({ from: null, to: p.to })),
    ...periods,
  ]);
  const units = unitsWith(book, accounts, ['ASSET', 'LIABILITY', 'EQUITY', 'REVENUE', 'EXPENSE']);
  const figures = balanceSheet(
    accounts.map(asStatementAccount),
    units.map((u) => u.code),
    totals.slice(0, periods.length),
    totals.slice(periods.length),
    { depth: request.depth, omitZero: request.omitZero },
  );
  return {
    kind: 'BALANCE_SHEET',
    book,
    period,
    comparison,
    depth: request.depth,
    omitZero: request.omitZero,
    accounts: new Map(accounts.map((a) => [a.id, a])),
    units: figures.map(({ unitCode: _, ...f }, i) => ({ ...f, unit: units[i]! })),
  };
}

export interface RolledTrialBalanceLine extends TrialBalanceLine {
  /** 1 for an account without a parent. */
  depth: number;
  /** The line includes its sub-accounts (folded at the roll-up depth). */
  rolledUp: boolean;
}

export interface RolledTrialBalance extends Omit<TrialBalance, 'lines'> {
  lines: RolledTrialBalanceLine[];
  /** The roll-up depth asked for; null when every account is its own line. */
  rollupDepth: number | null;
}

/**
 * The trial balance with each line's depth and, with `depth`, sub-accounts below it folded into
 * their ancestor at that depth (their debits and credits added, then netted into one balance).
 * The unit totals are those of the lines shown: netting a subtree lowers both columns alike, so
 * they stay equal.
 */
export function rollTrialBalance(tb: TrialBalance, depth: number | null): RolledTrialBalance {
  const byId = new Map(tb.lines.map((l) => [l.account.id, l]));
  const rows = rollUpTrialBalance(
    tb.lines.map((l) => ({
      accountId: l.account.id,
      parentId: l.account.parentId,
      debits: l.debits,
      credits: l.credits,
    })),
    depth,
  );
  const lines = rows.map((r) => {
    const net = r.debits.minus(r.credits);
    return {
      account: byId.get(r.accountId)!.account,
      depth: r.depth,
      rolledUp: r.folded,
      debits: r.debits,
      credits: r.credits,
      debitBalance: net.gt(ZERO) ? net : ZERO,
      creditBalance: net.lt(ZERO) ? net.negated() : ZERO,
    };
  });
  const units = tb.units.map((u) => {
    let debit = ZERO;
    let credit = ZERO;
    for (const line of lines) {
      if (line.account.unit.code !== u.unit.code) continue;
      debit = debit.plus(line.debitBalance);
      credit = credit.plus(line.creditBalance);
    }
    return {
      unit: u.unit,
      debitBalanceTotal: debit,
      creditBalanceTotal: credit,
      balanced: debit.equals(credit),
    };
  });
  return { ...tb, lines, units, balanced: units.every((u) => u.balanced), rollupDepth: depth };
}
