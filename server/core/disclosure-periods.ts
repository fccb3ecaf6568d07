/**
 * The time-and-measure dimension of a protected table (issue 15): each code is one measure in one
 * period (`MEMBERS@2026-03`, `REVENUE@2026-Q1`, `WORKER_OWNERS_WOMEN@2026`), with the relations
 * that tie them:
 * - flows: a quarter is the sum of its months, a year the sum of its quarters;
 * - stocks (values at the end of a period): a quarter is its last month, a year its last quarter;
 * - sums between measures in the same period (jobs = worker-owners + workers who are not members;
 *   worker-owners = the sum of their gender categories = the sum of their race/ethnicity categories);
 * - stock-flow identities: a stock at the end of a month is the previous month's plus its inflows
 *   less its outflows (members = last month's + memberships started - memberships ended). These hold
 *   where every co-op of a slice reported both months; they are conditional (see Dimension).
 *
 * Periods are calendar months (UTC), quarters and years. The months run from January of the first
 * year to the last month of the table; a quarter or year is a code only once it is complete, so an
 * unfinished quarter or a year to date is never a cell (a year-to-date total would tell a month by
 * difference). Measures of grain `YEAR` have year codes only.
 *
 * Pure.
 */
import { Dimension, type Term } from './disclosure-dimensions.js';
import { invariant } from './errors.js';

export type PeriodGranularity = 'MONTH' | 'QUARTER' | 'YEAR';

export interface Period {
  /** `2026-03`, `2026-Q1` or `2026`. */
  code: string;
  granularity: PeriodGranularity;
  /** First day, `YYYY-MM-DD`. */
  start: string;
  /** Last day, `YYYY-MM-DD`. */
  end: string;
}

const MONTH = /^(\d{4})-(0[1-9]|1[0-2])$/;

/** `YYYY-MM` of a valid month, or null. */
export function parseMonth(text: string): { year: number; month: number } | null {
  const m = MONTH.exec(text);
  return m ? { year: Number(m[1]), month: Number(m[2]) } : null;
}

export function monthCode(year: number, month: number): string {
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}`;
}

/** The month after (or `n` months after) a `YYYY-MM`. */
export function addMonths(code: string, n: number): string {
  const p = parseMonth(code);
  invariant(p !== null, `not a month: ${code}`);
  const index = p.year * 12 + (p.month - 1) + n;
  return monthCode(Math.floor(index / 12), (index % 12) + 1);
}

/** Months from `from` to `to`, both included. */
export function monthRange(from: string, to: string): string[] {
  const out: string[] = [];
  for (let m = from; m <= to; m = addMonths(m, 1)) out.push(m);
  return out;
}

function lastDay(year: number, month: number): string {
  const day = new Date(Date.UTC(year, month, 0)).getUTCDate();
  return `${monthCode(year, month)}-${String(day).padStart(2, '0')}`;
}

export function monthPeriod(code: string): Period {
  const p = parseMonth(code)!;
  return { code, granularity: 'MONTH', start: `${code}-01`, end: lastDay(p.year, p.month) };
}

export function quarterPeriod(year: number, quarter: number): Period {
  const first = (quarter - 1) * 3 + 1;
  return {
    code: `${year}-Q${quarter}`,
    granularity: 'QUARTER',
    start: `${monthCode(year, first)}-01`,
    end: lastDay(year, first + 2),
  };
}

export function yearPeriod(year: number): Period {
  return { code: String(year), granularity: 'YEAR', start: `${year}-01-01`, end: `${year}-12-31` };
}

/** The period a code names (`2026-03`, `2026-Q1`, `2026`), or null. */
export function parsePeriod(code: string): Period | null {
  if (parseMonth(code)) return monthPeriod(code);
  const q = /^(\d{4})-Q([1-4])$/.exec(code);
  if (q) return quarterPeriod(Number(q[1]), Number(q[2]));
  if (/^\d{4}$/.test(code)) return yearPeriod(Number(code));
  return null;
}

/** The months of a period, in order. */
export function monthsOf(period: Period): string[] {
  return monthRange(period.start.slice(0, 7), period.end.slice(0, 7));
}

/**
 * The periods of a table whose months run from January of `firstYear` to `lastMonth`: every month,
 * the complete quarters and the complete years, in time order (a quarter after its last month, a
 * year after its last quarter).
 */
export function tablePeriods(firstYear: number, lastMonth: string): Period[] {
  const last = parseMonth(lastMonth);
  invariant(last !== null && last.year >= firstYear, 'the last month is before the first year');
  const out: Period[] = [];
  for (const m of monthRange(monthCode(firstYear, 1), lastMonth)) {
    out.push(monthPeriod(m));
    const { year, month } = parseMonth(m)!;
    if (month % 3 === 0) out.push(quarterPeriod(year, month / 3));
    if (month === 12) out.push(yearPeriod(year));
  }
  return out;
}

export type Temporal = 'FLOW' | 'STOCK';

export interface MeasureDef {
  code: string;
  temporal: Temporal;
  /** MONTH: months, quarters and years; YEAR: years only (a stock at the end of the year). */
  grain: 'MONTH' | 'YEAR';
}

export interface MeasureSum {
  /** total = the sum of parts, in every period where they all have a code. */
  total: string;
  parts: readonly string[];
}

export interface StockIdentity {
  /** stock(month) = stock(previous month) + inflows(month) - outflows(month). */
  stock: string;
  inflows: readonly string[];
  outflows: readonly string[];
}

export interface MeasurePeriodSpec {
  name: string;
  measures: readonly MeasureDef[];
  periods: readonly Period[];
  sums?: readonly MeasureSum[];
  identities?: readonly StockIdentity[];
}

/** The code of a measure in a period: `MEMBERS@2026-03`. */
export function cellCode(measure: string, period: string): string {
  return `${measure}@${period}`;
}

export function splitCellCode(code: string): { measure: string; period: string } {
  const at = code.lastIndexOf('@');
  return { measure: code.slice(0, at), period: code.slice(at + 1) };
}

/** Builds the measure-and-period dimension: codes, relations and which of them are conditional. */
export function measurePeriodDimension(spec: MeasurePeriodSpec): Dimension {
  const codes: string[] = [];
  const index = new Map<string, number>();
  const measures = new Map(spec.measures.map((m) => [m.code, m]));
  const add = (measure: string, period: string) => {
    index.set(cellCode(measure, period), codes.length);
    codes.push(cellCode(measure, period));
  };
  for (const m of spec.measures) {
    for (const p of spec.periods) {
      if (m.grain === 'YEAR' && p.granularity !== 'YEAR') continue;
      add(m.code, p.code);
    }
  }
  const at = (measure: string, period: string) => index.get(cellCode(measure, period));
  const relations: Term[][] = [];
  const conditional: boolean[] = [];
  const relate = (terms: Term[], isConditional = false) => {
    relations.push(terms);
    conditional.push(isConditional);
  };
  const quarters = spec.periods.filter((p) => p.granularity === 'QUARTER');
  const years = spec.periods.filter((p) => p.granularity === 'YEAR');
  for (const m of spec.measures) {
    if (m.grain !== 'MONTH') continue;
    for (const q of quarters) {
      const months = monthsOf(q);
      const parent = at(m.code, q.code)!;
      if (m.temporal === 'FLOW') {
        relate([{ code: parent, coef: 1 }, ...months.map((c) => ({ code: at(m.code, c)!, coef: -1 }))]);
      } else {
        relate([
          { code: parent, coef: 1 },
          { code: at(m.code, months[2]!)!, coef: -1 },
        ]);
      }
    }
    for (const y of years) {
      const parent = at(m.code, y.code)!;
      const year = Number(y.code);
      if (m.temporal === 'FLOW') {
        relate([
          { code: parent, coef: 1 },
          ...[1, 2, 3, 4].map((q) => ({ code: at(m.code, `${year}-Q${q}`)!, coef: -1 })),
        ]);
      } else {
        relate([
          { code: parent, coef: 1 },
          { code: at(m.code, `${year}-Q4`)!, coef: -1 },
        ]);
      }
    }
  }
  for (const s of spec.sums ?? []) {
    for (const part of s.parts) invariant(measures.has(part), `${spec.name}: unknown measure ${part}`);
    for (const p of spec.periods) {
      const total = at(s.total, p.code);
      const parts = s.parts.map((part) => at(part, p.code));
      if (total === undefined || parts.some((c) => c === undefined)) continue;
      relate([{ code: total, coef: 1 }, ...parts.map((c) => ({ code: c!, coef: -1 }))]);
    }
  }
  const months = spec.periods.filter((p) => p.granularity === 'MONTH');
  for (const id of spec.identities ?? []) {
    for (let i = 1; i < months.length; i++) {
      const now = months[i]!.code;
      const before = months[i - 1]!.code;
      relate(
        [
          { code: at(id.stock, now)!, coef: 1 },
          { code: at(id.stock, before)!, coef: -1 },
          ...id.inflows.map((f) => ({ code: at(f, now)!, coef: -1 })),
          ...id.outflows.map((f) => ({ code: at(f, now)!, coef: 1 })),
        ],
        true,
      );
    }
  }
  // Pivots: totals of sums first, then years, quarters, and stocks from the latest month back, so
  // the basis vector of a month's flow is that flow with its quarter and year.
  const pivotOrder: number[] = [];
  const rankOf = (code: string): number => {
    const { measure, period } = splitCellCode(code);
    const p = spec.periods.findIndex((x) => x.code === period);
    const isTotal = (spec.sums ?? []).some((s) => s.total === measure) ? 0 : 1;
    const g = spec.periods[p]!.granularity;
    const level = g === 'YEAR' ? 0 : g === 'QUARTER' ? 1 : 2;
    const stock = measures.get(measure)!.temporal === 'STOCK' ? 0 : 1;
    return ((isTotal * 3 + level) * 2 + stock) * 100_000 + (100_000 - p);
  };
  const ranked = codes.map((c, i) => ({ i, r: rankOf(c) })).sort((a, b) => a.r - b.r || a.i - b.i);
  for (const { i } of ranked) pivotOrder.push(i);
  return new Dimension({ name: spec.name, codes, relations, conditional, pivotOrder });
}
