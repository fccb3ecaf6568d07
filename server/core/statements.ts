/**
 * Financial statements as pure arithmetic (issue 17): the income statement (revenue and expenses
 * over a period), the balance sheet (assets, liabilities and equity as of a day, with the result
 * of the period and of earlier periods that no closing entry has moved to equity yet), sub-account
 * roll-ups to any depth, comparison periods, and the trial balance's roll-up. The caller supplies
 * the accounts and their posted debit and credit totals (one map per column: the period, and the
 * comparison period when there is one); nothing here reads a database or a clock.
 *
 * Every figure is a sum of accounts' own posted totals, so each one reconciles with the trial
 * balance over the same days: a line's amount is its account's own balance plus every account
 * below it in the statement (shown under it or folded into it), and a section's total is the sum
 * of its top-level lines, which is the sum of every account of the section exactly once.
 *
 * Within a statement an account sits under its nearest ancestor of the same type (a sub-account of
 * another type is a top-level line of its own section), so a section never mixes types.
 */
import { type AccountType, normalSide } from './accounts.js';
import { invariant, LedgerError } from './errors.js';
import { addMonths, validateDate } from './membership.js';
import { type Decimal, ZERO } from './money.js';
import { addDaysTo, dayNumber } from './patronage.js';

export interface StatementAccount {
  id: string;
  code: string;
  name: string;
  type: AccountType;
  unitCode: string;
  parentId: string | null;
}

export interface DebitCredit {
  debits: Decimal;
  credits: Decimal;
}

/** Posted debits and credits per account id over one column's days; a missing account moved nothing. */
export type Column = ReadonlyMap<string, DebitCredit>;

export interface StatementLine {
  accountId: string;
  /** 1 for a top-level line of its section, 2 below it, ... */
  depth: number;
  /** Per column: the account's balance with everything below it (shown or folded), normal side positive. */
  amounts: Decimal[];
  /** Per column: the account's own balance. */
  ownAmounts: Decimal[];
  /** Sub-accounts are folded into this line (the depth limit), not shown under it. */
  folded: boolean;
}

export interface StatementSection {
  type: AccountType;
  lines: StatementLine[];
  /** Per column: the sum of every account of the section. */
  totals: Decimal[];
}

export interface StatementOptions {
  /** Show accounts down to this depth, folding deeper ones into their ancestor; null shows every account. */
  depth: number | null;
  /** Leave out lines whose accounts (with everything below) are zero in every column. */
  omitZero: boolean;
}

/** The deepest roll-up a request may ask for; deeper charts are shown in full with `depth: null`. */
export const STATEMENT_DEPTH_MAX = 100;

export function validateDepth(depth: number | null, field = 'depth'): LedgerError | null {
  return depth === null || (Number.isInteger(depth) && depth >= 1 && depth <= STATEMENT_DEPTH_MAX)
    ? null
    : new LedgerError('INVALID_INPUT', `depth must be 1 to ${STATEMENT_DEPTH_MAX}`, field);
}

/** An account's balance on its normal side (debit for assets and expenses, credit for the others). */
export function normalAmount(type: AccountType, t: DebitCredit | undefined): Decimal {
  if (!t) return ZERO;
  return normalSide(type) === 'DEBIT' ? t.debits.minus(t.credits) : t.credits.minus(t.debits);
}

/** Each account's parent within statements: its nearest ancestor of the same type and unit. */
export function statementParents(accounts: readonly StatementAccount[]): Map<string, string | null> {
  const byId = new Map(accounts.map((a) => [a.id, a]));
  const out = new Map<string, string | null>();
  for (const a of accounts) {
    let parent: string | null = null;
    let p = a.parentId;
    // A chart has no cycles (a parent exists before its children); the step limit only guards that.
    for (let steps = 0; p !== null && steps <= accounts.length; steps++) {
      const pa = byId.get(p);
      if (!pa) break;
      if (pa.type === a.type && pa.unitCode === a.unitCode) {
        parent = pa.id;
        break;
      }
      p = pa.parentId;
    }
    out.set(a.id, parent);
  }
  return out;
}

const byCode = (x: StatementAccount, y: StatementAccount) => (x.code < y.code ? -1 : x.code > y.code ? 1 : 0);

/** One section (the accounts of one type in one unit) over any number of columns. */
export function section(
  type: AccountType,
  unitCode: string,
  accounts: readonly StatementAccount[],
  columns: readonly Column[],
  options: StatementOptions,
  parents: Map<string, string | null> = statementParents(accounts),
): StatementSection {
  const members = accounts.filter((a) => a.type === type && a.unitCode === unitCode).sort(byCode);
  const children = new Map<string | null, StatementAccount[]>();
  for (const a of members) {
    const p = parents.get(a.id) ?? null;
    children.set(p, [...(children.get(p) ?? []), a]);
  }
  const own = new Map(members.map((a) => [a.id, columns.map((c) => normalAmount(type, c.get(a.id)))]));
  const incl = new Map<string, Decimal[]>();
  const nonZero = new Map<string, boolean>();
  const total = (a: StatementAccount): Decimal[] => {
    const known = incl.get(a.id);
    if (known) return known;
    let sums = own.get(a.id)!;
    let any = sums.some((x) => !x.isZero());
    for (const c of children.get(a.id) ?? []) {
      const below = total(c);
      sums = sums.map((x, i) => x.plus(below[i]!));
      any ||= nonZero.get(c.id)!;
    }
    incl.set(a.id, sums);
    nonZero.set(a.id, any);
    return sums;
  };
  const roots = children.get(null) ?? [];
  for (const r of roots) total(r);
  const lines: StatementLine[] = [];
  const shown = (a: StatementAccount) => !options.omitZero || nonZero.get(a.id)!;
  const walk = (a: StatementAccount, depth: number) => {
    if (!shown(a)) return;
    const kids = (children.get(a.id) ?? []).filter(shown);
    const atLimit = options.depth !== null && depth >= options.depth;
    lines.push({
      accountId: a.id,
      depth,
      amounts: incl.get(a.id)!,
      ownAmounts: own.get(a.id)!,
      folded: atLimit && kids.length > 0,
    });
    if (!atLimit) for (const k of kids) walk(k, depth + 1);
  };
  for (const r of roots) walk(r, 1);
  const totals = columns.map((_, i) => roots.reduce((s, r) => s.plus(incl.get(r.id)![i]!), ZERO));
  // Every account of the section counted once: the roots' roll-ups add up to the members' own.
  invariant(
    totals.every((t, i) => t.equals(members.reduce((s, a) => s.plus(own.get(a.id)![i]!), ZERO))),
    'statement section totals must equal the sum of its accounts',
  );
  return { type, lines, totals };
}

export interface IncomeStatementUnit {
  unitCode: string;
  revenue: StatementSection;
  expenses: StatementSection;
  /** Per column: revenue less expenses (a loss is negative). */
  results: Decimal[];
}

/** Revenue and expenses of each unit; `columns` hold the movements of each period. */
export function incomeStatement(
  accounts: readonly StatementAccount[],
  unitCodes: readonly string[],
  columns: readonly Column[],
  options: StatementOptions,
): IncomeStatementUnit[] {
  const parents = statementParents(accounts);
  return unitCodes.map((unitCode) => {
    const revenue = section('REVENUE', unitCode, accounts, columns, options, parents);
    const expenses = section('EXPENSE', unitCode, accounts, columns, options, parents);
    return {
      unitCode,
      revenue,
      expenses,
      results: revenue.totals.map((r, i) => r.minus(expenses.totals[i]!)),
    };
  });
}

export interface BalanceSheetUnit {
  unitCode: string;
  assets: StatementSection;
  liabilities: StatementSection;
  equity: StatementSection;
  /** Per column: revenue less expenses from the period's start to the day. */
  periodResults: Decimal[];
  /** Per column: revenue less expenses before the period (not moved to equity by a closing entry). */
  earlierResults: Decimal[];
  /** Per column: equity accounts plus both results. */
  totalEquity: Decimal[];
  totalLiabilitiesAndEquity: Decimal[];
  /** Per column: assets equal liabilities plus equity (always true of a balanced book). */
  balanced: boolean[];
}

/**
 * Assets, liabilities and equity of each unit. `balances` hold each column's totals up to its day
 * (every entry ever posted up to it), `periodMovements` those of its period alone (for the
 * period's result).
 */
export function balanceSheet(
  accounts: readonly StatementAccount[],
  unitCodes: readonly string[],
  balances: readonly Column[],
  periodMovements: readonly Column[],
  options: StatementOptions,
): BalanceSheetUnit[] {
  invariant(balances.length === periodMovements.length, 'one period column per balance column');
  const parents = statementParents(accounts);
  return unitCodes.map((unitCode) => {
    const assets = section('ASSET', unitCode, accounts, balances, options, parents);
    const liabilities = section('LIABILITY', unitCode, accounts, balances, options, parents);
    const equity = section('EQUITY', unitCode, accounts, balances, options, parents);
    const result = (columns: readonly Column[]) =>
      columns.map((column) =>
        accounts
          .filter((a) => a.unitCode === unitCode && (a.type === 'REVENUE' || a.type === 'EXPENSE'))
          .reduce(
            (s, a) =>
              a.type === 'REVENUE'
                ? s.plus(normalAmount(a.type, column.get(a.id)))
                : s.minus(normalAmount(a.type, column.get(a.id))),
            ZERO,
          ),
      );
    const cumulative = result(balances);
    const periodResults = result(periodMovements);
    const earlierResults = cumulative.map((c, i) => c.minus(periodResults[i]!));
    const totalEquity = equity.totals.map((e, i) => e.plus(cumulative[i]!));
    const totalLiabilitiesAndEquity = liabilities.totals.map((l, i) => l.plus(totalEquity[i]!));
    return {
      unitCode,
      assets,
      liabilities,
      equity,
      periodResults,
      earlierResults,
      totalEquity,
      totalLiabilitiesAndEquity,
      balanced: assets.totals.map((a, i) => a.equals(totalLiabilitiesAndEquity[i]!)),
    };
  });
}

// ---------- periods ----------

export const COMPARISONS = ['NONE', 'PREVIOUS_PERIOD', 'PREVIOUS_YEAR'] as const;
export type Comparison = (typeof COMPARISONS)[number];

/** Inclusive calendar days. */
export interface Period {
  from: string;
  to: string;
}

const isMonthEnd = (date: string) => addDaysTo(date, 1).endsWith('-01');

/** The same day a year earlier; the last day of a month stays the last (2025-02-28 -> 2024-02-29). */
export function yearBefore(date: string): string {
  const back = addMonths(date, -12);
  return isMonthEnd(date) ? addDaysTo(addMonths(addDaysTo(date, 1), -12), -1) : back;
}

/**
 * The period a comparison column covers. PREVIOUS_PERIOD: the period just before, as long; whole
 * calendar months compare with as many months before (March with February, a quarter with the
 * quarter before), other periods with as many days before. PREVIOUS_YEAR: the same days a year
 * earlier (month ends kept).
 */
export function comparisonPeriod(period: Period, comparison: Exclude<Comparison, 'NONE'>): Period {
  if (comparison === 'PREVIOUS_YEAR') return { from: addMonths(period.from, -12), to: yearBefore(period.to) };
  if (period.from.endsWith('-01') && isMonthEnd(period.to)) {
    const months =
      (Number(period.to.slice(0, 4)) - Number(period.from.slice(0, 4))) * 12 +
      Number(period.to.slice(5, 7)) -
      Number(period.from.slice(5, 7)) +
      1;
    return { from: addMonths(period.from, -months), to: addDaysTo(period.from, -1) };
  }
  const days = dayNumber(period.to) - dayNumber(period.from) + 1;
  return { from: addDaysTo(period.from, -days), to: addDaysTo(period.from, -1) };
}

/** A period's dates: both calendar days, `from` not after `to`. */
export function validatePeriod(period: Period, fields = { from: 'from', to: 'to' }): LedgerError | null {
  return (
    validateDate(period.from, fields.from) ??
    validateDate(period.to, fields.to) ??
    (period.from > period.to
      ? new LedgerError('INVALID_DATE', `${fields.from} must not be after ${fields.to}`, fields.from)
      : null)
  );
}

// ---------- the trial balance's roll-up ----------

export interface TrialRow {
  accountId: string;
  parentId: string | null;
  debits: Decimal;
  credits: Decimal;
}

export interface RolledTrialRow {
  accountId: string;
  /** 1 for an account without a parent, following the chart's parent links. */
  depth: number;
  debits: Decimal;
  credits: Decimal;
  /** Sub-accounts are included in this row (the depth limit). */
  folded: boolean;
}

/**
 * The trial balance's rows with depths; with `depth`, only accounts down to that depth, each
 * account at the limit carrying the debits and credits of everything below it (shallower accounts
 * keep their own, their sub-accounts being rows of their own), so the columns still add up to the
 * book's totals. Rows stay in the order given.
 */
export function rollUpTrialBalance(rows: readonly TrialRow[], depth: number | null): RolledTrialRow[] {
  const byId = new Map(rows.map((r) => [r.accountId, r]));
  const depthOf = new Map<string, number>();
  const depthFor = (id: string): number => {
    const known = depthOf.get(id);
    if (known !== undefined) return known;
    // Iterative: a chart may be deep.
    const chain: string[] = [];
    let cur: string | null = id;
    let base = 0;
    while (cur !== null) {
      const d = depthOf.get(cur);
      if (d !== undefined) {
        base = d;
        break;
      }
      chain.push(cur);
      const parent: string | null = byId.get(cur)?.parentId ?? null;
      cur = parent !== null && byId.has(parent) && chain.length <= rows.length ? parent : null;
    }
    for (let i = chain.length - 1; i >= 0; i--) depthOf.set(chain[i]!, base + (chain.length - i));
    return depthOf.get(id)!;
  };
  for (const r of rows) depthFor(r.accountId);
  if (depth === null)
    return rows.map((r) => ({
      accountId: r.accountId,
      depth: depthOf.get(r.accountId)!,
      debits: r.debits,
      credits: r.credits,
      folded: false,
    }));
  // Each account's ancestor at the limit (itself when it is at the limit or above).
  const sums = new Map<string, DebitCredit & { any: boolean }>();
  for (const r of rows) {
    let cur = r.accountId;
    while (depthOf.get(cur)! > depth) cur = byId.get(cur)!.parentId!;
    const s = sums.get(cur) ?? { debits: ZERO, credits: ZERO, any: false };
    sums.set(cur, {
      debits: s.debits.plus(r.debits),
      credits: s.credits.plus(r.credits),
      any: s.any || cur !== r.accountId,
    });
  }
  return rows
    .filter((r) => depthOf.get(r.accountId)! <= depth)
    .map((r) => {
      const s = sums.get(r.accountId)!;
      return {
        accountId: r.accountId,
        depth: depthOf.get(r.accountId)!,
        debits: s.debits,
        credits: s.credits,
        folded: s.any,
      };
    });
}
