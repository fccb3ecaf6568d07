/**
 * The measures of city reporting (issue 15) and the measure-period dimension they make: what each
 * counts, whether it is a flow (a quarter is the sum of its months) or a stock (a quarter is its
 * last month), whether it is money (whole minor units of the release's currency) or people/co-ops,
 * and the relations between them that an attacker could use (and protection therefore keeps).
 */
import type { MeasureDef, MeasureSum, StockIdentity } from '../core/disclosure-periods.js';

export const GENDERS = ['WOMEN', 'MEN', 'NON_BINARY', 'UNDISCLOSED'] as const;
export type Gender = (typeof GENDERS)[number];
export const RACES = [
  'ASIAN',
  'BLACK',
  'HISPANIC_LATINO',
  'INDIGENOUS',
  'MIDDLE_EASTERN_NORTH_AFRICAN',
  'PACIFIC_ISLANDER',
  'WHITE',
  'MULTIRACIAL',
  'OTHER',
  'UNDISCLOSED',
] as const;
export type Race = (typeof RACES)[number];

export interface ReportingMeasure extends MeasureDef {
  money: boolean;
  description: string;
  /**
   * May be negative (a net flow): an attacker knows no lower bound for it, so protection, its
   * certificates and the LP audit take none (-Infinity) instead of the 0 of the other measures. A
   * measure that can be negative must say so: with the bound 0 its negative cells have no room
   * downwards and cells beside them cannot be protected (the demo city's release was refused).
   */
  signed?: boolean;
}

const m = (
  code: string,
  temporal: 'FLOW' | 'STOCK',
  money: boolean,
  description: string,
  grain: 'MONTH' | 'YEAR' = 'MONTH',
  signed = false,
): ReportingMeasure => ({ code, temporal, grain, money, description, ...(signed ? { signed } : {}) });

export const MEASURES: readonly ReportingMeasure[] = [
  m('COOPS', 'STOCK', false, 'Co-ops founded and not closed by the end of the period that share data'),
  m('FOUNDED', 'FLOW', false, 'Co-ops founded in the period'),
  m('CLOSED', 'FLOW', false, "Co-ops closed in the period (the treasurer's latest report gives the day)"),
  m('MEMBERS', 'STOCK', false, 'Active memberships at the end of the period'),
  m('MEMBERSHIPS_STARTED', 'FLOW', false, 'Memberships that became active in the period'),
  m(
    'MEMBERSHIPS_ENDED',
    'FLOW',
    false,
    'Active memberships that ended (withdrawn or terminated) in the period',
  ),
  m('WORKER_OWNERS', 'STOCK', false, "Worker-owners at the end of the period (treasurer's latest report)"),
  m(
    'WORKERS_NOT_MEMBERS',
    'STOCK',
    false,
    "Workers who are not members at the end of the period (treasurer's latest report)",
  ),
  m('JOBS', 'STOCK', false, 'Jobs: worker-owners plus workers who are not members'),
  m(
    'JOBS_CREATED_AT_FOUNDING',
    'FLOW',
    false,
    'Jobs created at founding or conversion, counted in the founding month',
  ),
  m(
    'CITY_CONTRACTS_AWARDED',
    'FLOW',
    false,
    'City contracts awarded, counted in the month of the report that gives them',
  ),
  m('CITY_CONTRACTS_VALUE', 'FLOW', true, 'Value of city contracts awarded, in minor units'),
  m('REVENUE', 'FLOW', true, 'Revenue: credits less debits on revenue accounts, in minor units'),
  m(
    'WAGES',
    'FLOW',
    true,
    'Wages paid: debits less credits on expense accounts coded 51xx or named for wages, salaries or payroll',
  ),
  m(
    'PATRONAGE_ALLOCATED',
    'FLOW',
    true,
    "Patronage allocated to members (committed runs' member pool), in the month allocated",
  ),
  m('PATRONAGE_PAID_IN_CASH', 'FLOW', true, 'Patronage paid to members in cash'),
  m('SHARE_CAPITAL_RAISED', 'FLOW', true, 'Member share capital paid up, net of redemptions', 'MONTH', true),
  m(
    'CREDIT_VOLUME',
    'FLOW',
    true,
    "Mutual-credit payments made by the co-op (networks in the release's currency or pegged to it)",
  ),
  m(
    'LIQUIDITY_SAVED',
    'FLOW',
    true,
    "Liquidity saved by clearing: the co-op's mutual-credit obligations set off in committed clearings (settled with no payment), in the month committed",
  ),
  m(
    'CREDIT_OUTSTANDING',
    'STOCK',
    true,
    'Mutual credit the co-op owes its networks at the end of the period',
  ),
  ...GENDERS.map((g) =>
    m(
      `WORKER_OWNERS_${g}`,
      'STOCK',
      false,
      `Worker-owners at the end of the year, gender ${g.toLowerCase()} (self-reported)`,
      'YEAR',
    ),
  ),
  ...RACES.map((r) =>
    m(
      `WORKER_OWNERS_RACE_${r}`,
      'STOCK',
      false,
      `Worker-owners at the end of the year, race/ethnicity ${r.toLowerCase()} (self-reported)`,
      'YEAR',
    ),
  ),
];

export const MEASURE_CODES = new Set(MEASURES.map((x) => x.code));

/**
 * Money measures the rollup keeps in minor units of the co-op's mutual-credit networks' unit (the
 * finest of them), not of its base currency as every other money measure: a release cannot bring
 * them to its own minor unit, so they read right only where the networks' unit has the release's
 * decimal places (left as it was; the rollup would have to keep them in the co-op's unit).
 */
export const NETWORK_UNIT_MEASURES: ReadonlySet<string> = new Set([
  'CREDIT_VOLUME',
  'LIQUIDITY_SAVED',
  'CREDIT_OUTSTANDING',
]);

export const MEASURE_SUMS: readonly MeasureSum[] = [
  { total: 'JOBS', parts: ['WORKER_OWNERS', 'WORKERS_NOT_MEMBERS'] },
  { total: 'WORKER_OWNERS', parts: GENDERS.map((g) => `WORKER_OWNERS_${g}`) },
  { total: 'WORKER_OWNERS', parts: RACES.map((r) => `WORKER_OWNERS_RACE_${r}`) },
];

export const STOCK_IDENTITIES: readonly StockIdentity[] = [
  { stock: 'MEMBERS', inflows: ['MEMBERSHIPS_STARTED'], outflows: ['MEMBERSHIPS_ENDED'] },
  { stock: 'COOPS', inflows: ['FOUNDED'], outflows: ['CLOSED'] },
];
