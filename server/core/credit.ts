/**
 * Mutual credit (issue 14), the pure rules: a network's credit-limit policy (a default limit for
 * new members, a soft limit that warns before the hard one, a dynamic limit that grows with a
 * member's sales up to a cap), the limit a policy gives a member, and the arithmetic of network
 * statistics. Amounts are decimals at the network unit's scale; nothing here rounds silently:
 * where a rule must round (a dynamic limit from a percentage of sales) it rounds down, toward the
 * smaller credit, and says so.
 *
 * Sign convention: a member's balance is what the network owes it (credit-normal, a LIABILITY
 * account of the network's book); it starts at 0, a payer goes below 0 down to minus its limit,
 * and the balances of a network always sum to 0.
 */

import { LedgerError } from './errors.js';
import { Decimal, parseAmount, type Unit, ZERO } from './money.js';

/** Percent of the hard limit below which a balance draws a warning, when none is given. */
export const SOFT_LIMIT_PERCENT_DEFAULT = 80;
/** Longest window of sales a dynamic limit looks back over (a year, leap years included). */
export const DYNAMIC_WINDOW_DAYS_MAX = 366;

export interface DynamicLimitPolicy {
  /** Percent of the member's sales in the window added to the default limit (0 < p <= 1000). */
  salesPercent: Decimal;
  /** Days of sales counted, 1 to 366, up to now. */
  windowDays: number;
  /** The most a dynamic limit gives; at least the default limit. */
  cap: Decimal;
}

export interface CreditPolicy {
  /** Limit of a new member: above 0, so a new member's first purchase can go through. */
  defaultLimit: Decimal;
  /** Upper bound of a new member's balance (saturation); null for none. */
  defaultUpperBound: Decimal | null;
  /** A payment that leaves the payer below this percent of its limit draws a warning (1..100). */
  softLimitPercent: number;
  dynamic: DynamicLimitPolicy | null;
}

export interface CreditPolicyInput {
  defaultLimit: string;
  defaultUpperBound?: string | null;
  softLimitPercent?: number | null;
  dynamic?: { salesPercent: string; windowDays: number; cap: string } | null;
}

/** Every problem of a policy (fields as named in the input), or the policy. */
export function parseCreditPolicy(
  input: CreditPolicyInput,
  unit: Unit,
  prefix = '',
): CreditPolicy | LedgerError[] {
  const problems: LedgerError[] = [];
  const field = (name: string) => `${prefix}${name}`;
  const amount = (text: string, name: string, allowZero = false) => {
    const parsed = parseAmount(text, unit, field(name), { allowZero });
    if (parsed instanceof LedgerError) {
      problems.push(parsed);
      return null;
    }
    return parsed;
  };
  const defaultLimit = amount(input.defaultLimit, 'defaultLimit');
  const upper =
    input.defaultUpperBound === null || input.defaultUpperBound === undefined
      ? null
      : amount(input.defaultUpperBound, 'defaultUpperBound');
  const soft = input.softLimitPercent ?? SOFT_LIMIT_PERCENT_DEFAULT;
  if (!Number.isInteger(soft) || soft < 1 || soft > 100)
    problems.push(
      new LedgerError(
        'INVALID_INPUT',
        'softLimitPercent must be a whole number from 1 to 100',
        field('softLimitPercent'),
      ),
    );
  let dynamic: DynamicLimitPolicy | null = null;
  if (input.dynamic) {
    const d = input.dynamic;
    let percent: Decimal | null = null;
    if (!/^(0|[1-9][0-9]{0,3})(\.[0-9]{1,4})?$/.test(d.salesPercent))
      problems.push(
        new LedgerError(
          'INVALID_INPUT',
          'dynamic.salesPercent must be a plain decimal with at most 4 decimals',
          field('dynamic.salesPercent'),
        ),
      );
    else {
      percent = new Decimal(d.salesPercent);
      if (percent.lte(0) || percent.gt(1000)) {
        problems.push(
          new LedgerError(
            'INVALID_INPUT',
            'dynamic.salesPercent must be above 0 and at most 1000',
            field('dynamic.salesPercent'),
          ),
        );
        percent = null;
      }
    }
    if (!Number.isInteger(d.windowDays) || d.windowDays < 1 || d.windowDays > DYNAMIC_WINDOW_DAYS_MAX)
      problems.push(
        new LedgerError(
          'INVALID_INPUT',
          `dynamic.windowDays must be a whole number from 1 to ${DYNAMIC_WINDOW_DAYS_MAX}`,
          field('dynamic.windowDays'),
        ),
      );
    const cap = amount(d.cap, 'dynamic.cap');
    if (cap && defaultLimit && cap.lt(defaultLimit))
      problems.push(
        new LedgerError(
          'INVALID_INPUT',
          'dynamic.cap must be at least the default limit',
          field('dynamic.cap'),
        ),
      );
    if (percent && cap && problems.length === 0)
      dynamic = { salesPercent: percent, windowDays: d.windowDays, cap };
  }
  if (problems.length > 0 || !defaultLimit) return problems;
  return { defaultLimit, defaultUpperBound: upper, softLimitPercent: soft, dynamic };
}

export function creditPolicyToJson(p: CreditPolicy): Record<string, unknown> {
  return {
    defaultLimit: p.defaultLimit.toFixed(),
    defaultUpperBound: p.defaultUpperBound?.toFixed() ?? null,
    softLimitPercent: p.softLimitPercent,
    dynamic: p.dynamic
      ? {
          salesPercent: p.dynamic.salesPercent.toFixed(),
          windowDays: p.dynamic.windowDays,
          cap: p.dynamic.cap.toFixed(),
        }
      : null,
  };
}

export function creditPolicyFromJson(json: Record<string, unknown>): CreditPolicy {
  const d = json.dynamic as { salesPercent: string; windowDays: number; cap: string } | null;
  return {
    defaultLimit: new Decimal(json.defaultLimit as string),
    defaultUpperBound: json.defaultUpperBound === null ? null : new Decimal(json.defaultUpperBound as string),
    softLimitPercent: Number(json.softLimitPercent),
    dynamic: d
      ? { salesPercent: new Decimal(d.salesPercent), windowDays: d.windowDays, cap: new Decimal(d.cap) }
      : null,
  };
}

/**
 * The limit a dynamic policy gives a member with these sales in its window: the default limit plus
 * the policy's percent of the sales, rounded down to the unit's scale, at most the cap. A dynamic
 * limit only grows: it never takes a member below the limit it has (lowering one is a steward's
 * decision). Null when the policy has no dynamic part or the limit would not change.
 */
export function grownLimit(
  policy: CreditPolicy,
  sales: Decimal,
  current: Decimal,
  scale: number,
): Decimal | null {
  if (!policy.dynamic) return null;
  const raw = policy.defaultLimit.plus(sales.times(policy.dynamic.salesPercent).div(100));
  const capped = Decimal.min(policy.dynamic.cap, raw.toDecimalPlaces(scale, Decimal.ROUND_DOWN));
  return capped.gt(current) ? capped : null;
}

/** Why a dynamic limit changed, in words for the limit log. */
export function grownLimitReason(
  policy: CreditPolicy,
  sales: Decimal,
  limit: Decimal,
  scale: number,
): string {
  const d = policy.dynamic!;
  return (
    `dynamic limit: ${policy.defaultLimit.toFixed(scale)} + ${d.salesPercent.toFixed()}% of sales ` +
    `${sales.toFixed(scale)} in the last ${d.windowDays} days` +
    (limit.eq(d.cap) ? `, capped at ${d.cap.toFixed(scale)}` : '')
  );
}

/** The balance below which a member is warned: minus the soft percent of its limit (rounded toward zero). */
export function softFloor(limit: Decimal, softLimitPercent: number, scale: number): Decimal {
  return limit.times(softLimitPercent).div(100).toDecimalPlaces(scale, Decimal.ROUND_DOWN).neg();
}

/** A warning when a balance lies below the soft floor of its limit (null otherwise). */
export function softLimitWarning(
  balance: Decimal,
  limit: Decimal,
  softLimitPercent: number,
  scale: number,
): string | null {
  const floor = softFloor(limit, softLimitPercent, scale);
  if (!balance.lt(floor)) return null;
  return (
    `balance ${balance.toFixed(scale)} is below ${softLimitPercent}% of the credit limit ` +
    `(${floor.toFixed(scale)} of -${limit.toFixed(scale)})`
  );
}

// ---------- statistics ----------

export const BALANCE_BANDS = [
  'ABOVE_ZERO',
  'ZERO',
  'USING_CREDIT',
  'NEAR_LIMIT',
  'AT_OR_BEYOND_LIMIT',
] as const;
export type BalanceBand = (typeof BALANCE_BANDS)[number];

/**
 * Where a balance lies: above zero, zero, using credit, near the limit (below the soft floor), at
 * or beyond it (a limit lowered below a balance leaves it beyond).
 */
export function balanceBand(
  balance: Decimal,
  limit: Decimal,
  softLimitPercent: number,
  scale: number,
): BalanceBand {
  if (balance.gt(0)) return 'ABOVE_ZERO';
  if (balance.isZero()) return 'ZERO';
  if (balance.lte(limit.neg())) return 'AT_OR_BEYOND_LIMIT';
  if (balance.lt(softFloor(limit, softLimitPercent, scale))) return 'NEAR_LIMIT';
  return 'USING_CREDIT';
}

/** Velocity of a period: its payment volume over the sum of positive balances (null when none are). */
export function velocity(volume: Decimal, positiveBalances: Decimal): Decimal | null {
  return positiveBalances.isZero()
    ? null
    : volume.div(positiveBalances).toDecimalPlaces(6, Decimal.ROUND_HALF_EVEN);
}

export interface BalanceSummary {
  accounts: number;
  sum: Decimal;
  positive: Decimal;
  negative: Decimal;
}

/** Sum, positive and negative parts of a set of balances; a network's sum is zero. */
export function summariseBalances(balances: readonly Decimal[]): BalanceSummary {
  let positive = ZERO;
  let negative = ZERO;
  for (const b of balances) {
    if (b.gt(0)) positive = positive.plus(b);
    else negative = negative.plus(b);
  }
  return { accounts: balances.length, sum: positive.plus(negative), positive, negative };
}

/** Calendar months `YYYY-MM` from `from` to `to` inclusive. */
export function monthsBetween(from: string, to: string): string[] {
  const out: string[] = [];
  let [y, m] = from.split('-').map(Number) as [number, number];
  const [ty, tm] = to.split('-').map(Number) as [number, number];
  while (y < ty || (y === ty && m <= tm)) {
    out.push(`${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}`);
    m++;
    if (m === 13) {
      m = 1;
      y++;
    }
  }
  return out;
}

/**
 * Liquidity mode amounts converted between the obligations' currency and the network unit: only
 * for a unit pegged 1:1 to that currency whose scale is at least the currency's, so every amount
 * converts exactly. The factor is 10^(unit scale - currency scale). Null when not convertible.
 */
export function liquidityFactor(
  peg: { currency: string; rate: Decimal } | null,
  unit: Unit,
  currency: Unit,
): bigint | null {
  if (!peg || peg.currency !== currency.code || !peg.rate.eq(1) || unit.scale < currency.scale) return null;
  return 10n ** BigInt(unit.scale - currency.scale);
}
