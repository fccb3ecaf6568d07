/**
 * Patronage: the pure arithmetic of allocating a co-op's surplus (or charging its loss) to its
 * members in proportion to their patronage. No I/O, no clock. Money is handled in integer minor
 * units (`bigint`: cents for USD), so nothing is ever rounded except where a rule says how.
 *
 * The steps, each exact:
 *  1. Patronage per member and measure, day-weighted (`measurePatronage`): a record counts for the
 *     days of its period that fall in the fiscal year and on which the member was ACTIVE; the rest
 *     of its days in the year are reported as excluded, never counted. Values are exact rationals
 *     over one common denominator, never decimals rounded along the way.
 *  2. Each member's share (`shareWeights`): the weighted sum over measures of the member's part of
 *     that measure's total, times their class multiplier: share_i = sum_m w_m * (c_i q_im / T_m)
 *     / sum_m w_m, over measures with a positive weight and total. As integers over one
 *     denominator D, so the shares sum to exactly 1.
 *  3. Pools (`allocate`): the surplus split into reserve, community fund and member pool by the
 *     policy's percentages, then the member pool split among members by their shares, both by the
 *     largest-remainder method (Hamilton): everyone gets the floor of their exact quota and the
 *     minor units left over go one each to the largest remainders.
 *     Tie-break (documented): equal remainders go in the order the parts are given: reserve,
 *     community, members for pools; ascending member number for members.
 *  4. Allocations below the policy's minimum are not made; their cents go to the collective reserve.
 *  5. Cash and retained: cash is the policy's cash share of the allocation rounded UP to the minor
 *     unit (so it is never below the minimum Subchapter T asks of a qualified allocation), retained
 *     is the rest; a member whose retained part must be paid at once (a former member under the
 *     PAY_AT_ONCE rule) gets it all in cash.
 *  A loss (negative surplus) is charged by the policy's loss rule: to the collective reserve first
 *  (up to its balance) and the rest to members by patronage, or all to members, or all to the
 *  reserve. Members' charges are apportioned by the same largest-remainder method.
 */
import { InvariantError, invariant, LedgerError } from './errors.js';
import { Decimal } from './money.js';

// ---------- minor units ----------

/** An amount in minor units of a unit of `scale` decimals; it must be exact at that scale. */
export function toMinor(value: Decimal, scale: number): bigint {
  const scaled = value.times(new Decimal(10).pow(scale));
  if (!scaled.isInteger()) throw new InvariantError(`${value.toFixed()} has more than ${scale} decimals`);
  return BigInt(scaled.toFixed(0));
}

export function fromMinor(minor: bigint, scale: number): Decimal {
  return new Decimal(formatScaled(minor, scale));
}

/** A decimal as an integer over 10^scale, with `scale` at least `minScale` and exact. */
function scaledInteger(value: Decimal, scale: number): bigint {
  return toMinor(value, scale);
}

/** Decimal places a decimal needs (0 for 12, 2 for 1.25). */
export function decimalPlaces(value: Decimal): number {
  return value.decimalPlaces();
}

// ---------- the largest-remainder method ----------

/**
 * Splits `total` minor units in proportion to `weights` (non-negative, not all zero) by the
 * largest-remainder method: each part gets floor(total * w_i / W), then the units left over go
 * one each to the parts with the largest remainders; equal remainders go to the earlier part in
 * the given order. The parts sum exactly to `total`, and each differs from its exact quota by
 * less than one unit.
 */
export function largestRemainder(total: bigint, weights: readonly bigint[]): bigint[] {
  invariant(total >= 0n, 'largestRemainder: total must not be negative');
  let sum = 0n;
  for (const w of weights) {
    invariant(w >= 0n, 'largestRemainder: weights must not be negative');
    sum += w;
  }
  invariant(sum > 0n, 'largestRemainder: at least one weight must be positive');
  const parts: bigint[] = new Array(weights.length);
  const remainders: bigint[] = new Array(weights.length);
  let given = 0n;
  for (let i = 0; i < weights.length; i++) {
    const product = total * weights[i]!;
    parts[i] = product / sum;
    remainders[i] = product % sum;
    given += parts[i]!;
  }
  let left = total - given;
  invariant(
    left >= 0n && left < BigInt(Math.max(weights.length, 1)),
    'largestRemainder: leftover out of range',
  );
  if (left > 0n) {
    const order = weights.map((_, i) => i);
    order.sort((a, b) => {
      const ra = remainders[a]!;
      const rb = remainders[b]!;
      return ra === rb ? a - b : ra > rb ? -1 : 1;
    });
    for (const i of order) {
      if (left === 0n) break;
      parts[i] = parts[i]! + 1n;
      left--;
    }
  }
  return parts;
}

/** ceil(a * num / den) for a >= 0, num >= 0, den > 0. */
export function ceilDiv(a: bigint, num: bigint, den: bigint): bigint {
  const product = a * num;
  return (product + den - 1n) / den;
}

// ---------- calendar days (pure: no Date) ----------

/** Days since 1970-01-01 of a date `YYYY-MM-DD` (proleptic Gregorian). */
export function dayNumber(date: string): number {
  let y = Number(date.slice(0, 4));
  const m = Number(date.slice(5, 7));
  const d = Number(date.slice(8, 10));
  // Howard Hinnant's days_from_civil.
  y -= m <= 2 ? 1 : 0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/** The date `YYYY-MM-DD` of a day number (inverse of dayNumber). */
export function dateOfDay(day: number): string {
  const z = day + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp + (mp < 10 ? 3 : -9);
  const y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  return `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
}

export function addDaysTo(date: string, days: number): string {
  return dateOfDay(dayNumber(date) + days);
}

/** A span of days, `from` and `to` inclusive, as day numbers. */
export interface DaySpan {
  from: number;
  to: number;
}

/**
 * Fiscal year `year` of a co-op whose fiscal year starts on `startMonthDay` (`MM-DD`): it begins on
 * that day of calendar year `year` (the IRS names a fiscal year by the year it begins in) and ends
 * the day before the next one begins. With `01-01` it is the calendar year.
 */
export function fiscalYearSpan(startMonthDay: string, year: number): { start: string; end: string } {
  const start = `${String(year).padStart(4, '0')}-${startMonthDay}`;
  const next = `${String(year + 1).padStart(4, '0')}-${startMonthDay}`;
  return { start, end: addDaysTo(next, -1) };
}

export interface DayEvent {
  toState: string;
  effectiveOn: string;
  seq: number;
}

/**
 * Events by day, then by seq. At module level, as are the other helpers of per-member hot paths:
 * a function made inside one is made again at each call (and, under tsx, named again by
 * esbuild's __name helper: 30 to 60 ms of a 10,000-member preview in the service's profile).
 */
function eventOrder(a: DayEvent, b: DayEvent): number {
  return a.effectiveOn === b.effectiveOn ? a.seq - b.seq : a.effectiveOn < b.effectiveOn ? -1 : 1;
}

/**
 * The spans of days on which a membership was ACTIVE at the end of the day (the state `stateOn`
 * gives): from the day it became ACTIVE (inclusive) to the day before it left. `lastDay` closes a
 * span still open.
 */
export function activeSpans(events: readonly DayEvent[], lastDay: number): DaySpan[] {
  // Events usually come in order (a roster reads them so): sorted copies only when they do not.
  let inOrder = true;
  for (let i = 1; i < events.length && inOrder; i++) inOrder = eventOrder(events[i - 1]!, events[i]!) <= 0;
  const sorted = inOrder ? events : [...events].sort(eventOrder);
  // The state at the end of each day that has events: the last event of the day.
  const byDay: { day: number; state: string }[] = [];
  for (const e of sorted) {
    const day = dayNumber(e.effectiveOn);
    if (byDay.length > 0 && byDay.at(-1)!.day === day) byDay.at(-1)!.state = e.toState;
    else byDay.push({ day, state: e.toState });
  }
  const spans: DaySpan[] = [];
  let openFrom: number | null = null;
  for (const { day, state } of byDay) {
    if (state === 'ACTIVE' && openFrom === null) openFrom = day;
    else if (state !== 'ACTIVE' && openFrom !== null) {
      if (day - 1 >= openFrom) spans.push({ from: openFrom, to: day - 1 });
      openFrom = null;
    }
  }
  if (openFrom !== null && openFrom <= lastDay) spans.push({ from: openFrom, to: lastDay });
  return spans;
}

// ---------- patronage per member ----------

export interface MeasureSpec {
  code: string;
  /** Decimal places of the measure's unit; quantities are exact at this scale. */
  scale: number;
  weight: Decimal;
}

export interface PatronageRecordInput {
  measure: string;
  /** Inclusive dates. */
  periodStart: string;
  periodEnd: string;
  /** The same as day numbers (dayNumber), when the caller has them: no date parsing then. */
  startDay?: number;
  endDay?: number;
  /** A decimal at most at the measure's scale (a Decimal, or its plain string). */
  quantity: Decimal | string;
}

export interface MemberPatronageInput {
  memberNumber: number;
  multiplier: Decimal;
  active: readonly DaySpan[];
  records: readonly PatronageRecordInput[];
}

/** An exact non-negative rational. */
export interface Rational {
  num: bigint;
  den: bigint;
}

export interface MemberPatronage {
  memberNumber: number;
  /** Per measure code: the patronage counted (days as a member) and excluded (days outside membership). */
  counted: Record<string, Rational>;
  excluded: Record<string, Rational>;
  /** The member's share numerator: share = weight / PatronageShares.denominator. */
  weight: bigint;
}

export interface PatronageShares {
  members: MemberPatronage[];
  /** Sum of the members' weights (0 when nobody has countable patronage). */
  denominator: bigint;
  /** Measures that count: positive weight and a positive total. */
  measuresCounted: string[];
  /** Per measure, the total counted (before multipliers). */
  totals: Record<string, Rational>;
}

function gcd(a: bigint, b: bigint): bigint {
  let x = a < 0n ? -a : a;
  let y = b < 0n ? -b : b;
  while (y !== 0n) [x, y] = [y, x % y];
  return x;
}

function lcm(a: bigint, b: bigint): bigint {
  return (a / gcd(a, b)) * b;
}

const PLAIN_DECIMAL = /^(0|[1-9][0-9]*)(?:\.([0-9]+))?$/;

/**
 * A non-negative plain decimal string as an integer over 10^scale ("12.3" at scale 2 is 1230n),
 * by string operations (thousands of times faster than decimal arithmetic on a hot path).
 * More decimals than `scale` (or anything but a plain decimal) is a programmer error.
 */
export function scaledFromString(text: string, scale: number): bigint {
  const m = PLAIN_DECIMAL.exec(text);
  if (!m) throw new InvariantError(`"${text}" is not a plain non-negative decimal`);
  const fraction = m[2] ?? '';
  if (fraction.length > scale) {
    if (!/^0*$/.test(fraction.slice(scale)))
      throw new InvariantError(`"${text}" has more than ${scale} decimals`);
  }
  return BigInt(m[1]! + fraction.slice(0, scale).padEnd(scale, '0'));
}

/** Minor units as a plain decimal string at `scale` (-1230n at 2 is "-12.30"). */
export function formatScaled(minor: bigint, scale: number): string {
  const negative = minor < 0n;
  const digits = (negative ? -minor : minor).toString().padStart(scale + 1, '0');
  const body = scale === 0 ? digits : `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
  return negative ? `-${body}` : body;
}

/** A rational rounded half-even to `places` decimals, as a plain decimal string (for display). */
export function rationalToFixed(r: Rational, places: number): string {
  if (r.den === 0n) return formatScaled(0n, places);
  const scaled = r.num * 10n ** BigInt(places);
  let q = scaled / r.den;
  const rem = scaled % r.den;
  const twice = 2n * rem;
  if (twice > r.den || (twice === r.den && q % 2n === 1n)) q += 1n;
  return formatScaled(q, places);
}

/** A rational as a decimal rounded half-even to `places` (for display only). */
export function rationalToDecimal(r: Rational, places: number): Decimal {
  return new Decimal(rationalToFixed(r, places));
}

function quantityScaled(q: Decimal | string, scale: number): bigint {
  return typeof q === 'string' ? scaledFromString(q, scale) : toMinor(q, scale);
}

/** Step 1 of a year's patronage: what each member's records count, exactly. */
export interface CountedPatronage {
  /** Per measure, the common denominator of every member's counted and excluded numerators. */
  denominators: Record<string, bigint>;
  members: {
    memberNumber: number;
    /** Per measure code, numerators over `denominators[code]`. */
    counted: Record<string, bigint>;
    excluded: Record<string, bigint>;
  }[];
}

/**
 * Each member's counted and excluded patronage per measure for a fiscal year. A record's quantity
 * counts for (its days in the year on which the member was ACTIVE) / (its days); the rest of its
 * days in the year are excluded. Kept exact over one denominator per measure: the least common
 * multiple of the records' lengths times 10^scale.
 */
export function countPatronage(
  year: { start: string; end: string },
  measures: readonly { code: string; scale: number }[],
  members: readonly Omit<MemberPatronageInput, 'multiplier'>[],
): CountedPatronage {
  const day = (r: PatronageRecordInput) => ({
    from: r.startDay ?? dayNumber(r.periodStart),
    to: r.endDay ?? dayNumber(r.periodEnd),
  });
  const lengths = new Set<number>();
  for (const m of members)
    for (const r of m.records) {
      const d = day(r);
      lengths.add(d.to - d.from + 1);
    }
  const counter = new PatronageCounter(year, measures, [...lengths]);
  members.forEach((m, i) => {
    for (const r of m.records) {
      const d = day(r);
      counter.add(i, m.active, r.measure, d.from, d.to, r.quantity);
    }
  });
  return {
    denominators: counter.denominators(),
    members: members.map((m, i) => ({ memberNumber: m.memberNumber, ...counter.member(i) })),
  };
}

/**
 * countPatronage one record at a time, for a caller that streams a year's records (a large co-op
 * has hundreds of thousands) without holding them all: the lengths of every record are given
 * first (they make the common denominator), then records are added for member indexes.
 */
export class PatronageCounter {
  private readonly fy: DaySpan;
  private readonly lengths: bigint;
  private readonly scales: Map<string, number>;
  private readonly perLength = new Map<number, bigint>();
  private readonly counted: Record<string, bigint>[] = [];
  private readonly excluded: Record<string, bigint>[] = [];

  constructor(
    year: { start: string; end: string },
    private readonly measures: readonly { code: string; scale: number }[],
    recordLengths: readonly number[],
  ) {
    this.fy = { from: dayNumber(year.start), to: dayNumber(year.end) };
    this.scales = new Map(measures.map((m) => [m.code, m.scale]));
    let l = 1n;
    for (const days of new Set(recordLengths)) l = lcm(l, BigInt(days));
    this.lengths = l;
  }

  /** Per measure, the common denominator: the lengths' least common multiple times 10^scale. */
  denominators(): Record<string, bigint> {
    return Object.fromEntries(this.measures.map((s) => [s.code, this.lengths * 10n ** BigInt(s.scale)]));
  }

  private slot(list: Record<string, bigint>[], index: number): Record<string, bigint> {
    let v = list[index];
    if (v === undefined) {
      v = Object.fromEntries(this.measures.map((s) => [s.code, 0n]));
      list[index] = v;
    }
    return v;
  }

  /** A record of member `index` (active: their ACTIVE days), from day `from` to `to` inclusive. */
  add(
    index: number,
    active: readonly DaySpan[],
    measure: string,
    from: number,
    to: number,
    quantity: Decimal | string,
  ) {
    const scale = this.scales.get(measure);
    if (scale === undefined) return;
    const start = Math.max(from, this.fy.from);
    const end = Math.min(to, this.fy.to);
    if (start > end) return;
    const q = quantityScaled(quantity, scale);
    let activeDays = 0;
    for (const a of active) {
      const f = Math.max(start, a.from);
      const t = Math.min(end, a.to);
      if (f <= t) activeDays += t - f + 1;
    }
    const days = to - from + 1;
    const counted = this.slot(this.counted, index);
    // The common case, a whole record within membership: one multiplication.
    if (activeDays === days) {
      counted[measure] = counted[measure]! + q * this.lengths;
      return;
    }
    let per = this.perLength.get(days);
    if (per === undefined) {
      invariant(this.lengths % BigInt(days) === 0n, `record length ${days} was not announced to the counter`);
      per = this.lengths / BigInt(days);
      this.perLength.set(days, per);
    }
    const perDay = q * per;
    if (activeDays > 0) counted[measure] = counted[measure]! + perDay * BigInt(activeDays);
    const yearDays = end - start + 1;
    if (yearDays > activeDays) {
      const excluded = this.slot(this.excluded, index);
      excluded[measure] = excluded[measure]! + perDay * BigInt(yearDays - activeDays);
    }
  }

  /**
   * Records of member `index` lying wholly within their ACTIVE days (and so within the year),
   * added at once: their quantities' sum counts in full (what `add` does for each of them).
   */
  addWhole(index: number, measure: string, quantitySum: Decimal | string): void {
    const scale = this.scales.get(measure);
    if (scale === undefined) return;
    const counted = this.slot(this.counted, index);
    counted[measure] = counted[measure]! + quantityScaled(quantitySum, scale) * this.lengths;
  }

  /** Member `index`'s numerators (zeros when nothing was added for them). */
  member(index: number): { counted: Record<string, bigint>; excluded: Record<string, bigint> } {
    return { counted: this.slot(this.counted, index), excluded: this.slot(this.excluded, index) };
  }
}

/** Per measure, a member's numerator over the measure's denominator (zero when absent). */
function rationalsOf(
  measures: readonly { code: string }[],
  values: Record<string, bigint>,
  denominators: Record<string, bigint>,
): Record<string, Rational> {
  const out: Record<string, Rational> = {};
  for (const s of measures) out[s.code] = { num: values[s.code] ?? 0n, den: denominators[s.code]! };
  return out;
}

/**
 * Step 2: each member's share of the member pool from their counted patronage: the weighted
 * sum over measures of their part of that measure's (multiplied) total, as integer numerators
 * over one denominator, so the shares sum to exactly 1.
 */
export function shareWeights(
  measures: readonly { code: string; weight: Decimal }[],
  counted: CountedPatronage,
  multipliers: readonly Decimal[],
): PatronageShares {
  const multiplierScale = Math.max(0, ...multipliers.map((m) => decimalPlaces(m)));
  const weightScale = Math.max(0, ...measures.map((m) => decimalPlaces(m.weight)));
  // Members mostly share a few multipliers: scale each distinct one once.
  const scaledMultipliers = new Map<string, bigint>();
  const k = multipliers.map((m) => {
    const key = m.toFixed();
    let v = scaledMultipliers.get(key);
    if (v === undefined) {
      v = scaledInteger(m, multiplierScale);
      scaledMultipliers.set(key, v);
    }
    return v;
  });
  const totals: Record<string, Rational> = {};
  const weighted = new Map<string, bigint>();
  for (const spec of measures) {
    let total = 0n;
    let weightedTotal = 0n;
    counted.members.forEach((m, i) => {
      const c = m.counted[spec.code] ?? 0n;
      total += c;
      weightedTotal += c * k[i]!;
    });
    totals[spec.code] = { num: total, den: counted.denominators[spec.code]! };
    weighted.set(spec.code, weightedTotal);
  }
  const measuresCounted = measures
    .filter((s) => s.weight.gt(0) && weighted.get(s.code)! > 0n)
    .map((s) => s.code);
  // N_i = sum over counted measures m of W_m * P_im * prod_{k != m} T_k, where P_im is the
  // member's multiplied patronage and T_k the multiplied total of measure k. Then sum_i N_i =
  // sum_m W_m * prod_k T_k, and share_i = N_i / that sum, exactly the weighted mean of the parts.
  const others = new Map<string, bigint>();
  for (const code of measuresCounted) {
    let product = 1n;
    for (const kk of measuresCounted) if (kk !== code) product *= weighted.get(kk)!;
    others.set(code, product * scaledInteger(measures.find((s) => s.code === code)!.weight, weightScale));
  }
  let denominator = 0n;
  const members = counted.members.map((m, i) => {
    let weight = 0n;
    for (const code of measuresCounted) weight += (m.counted[code] ?? 0n) * k[i]! * others.get(code)!;
    denominator += weight;
    return {
      memberNumber: m.memberNumber,
      counted: rationalsOf(measures, m.counted, counted.denominators),
      excluded: rationalsOf(measures, m.excluded, counted.denominators),
      weight,
    };
  });
  return { members, denominator, measuresCounted, totals };
}

/**
 * Each member's patronage and share for a fiscal year (countPatronage, then shareWeights).
 */
export function measurePatronage(
  year: { start: string; end: string },
  measures: readonly MeasureSpec[],
  members: readonly MemberPatronageInput[],
): PatronageShares {
  return shareWeights(
    measures,
    countPatronage(year, measures, members),
    members.map((m) => m.multiplier),
  );
}

// ---------- allocation ----------

export const LOSS_RULES = ['RESERVE_FIRST', 'MEMBERS_BY_PATRONAGE', 'RESERVE_ONLY'] as const;
export type LossRule = (typeof LOSS_RULES)[number];

export interface AllocationMember {
  memberNumber: number;
  /** Share numerator (PatronageShares member weight). */
  weight: bigint;
  /** Pay the whole allocation in cash (a former member under the PAY_AT_ONCE rule). */
  payAllCash: boolean;
}

export interface AllocationInput {
  /** Net surplus in minor units; negative for a loss. */
  surplusMinor: bigint;
  reservePercent: Decimal;
  communityPercent: Decimal;
  cashPercent: Decimal;
  minimumAllocationMinor: bigint;
  lossRule: LossRule;
  /** The collective reserve's balance before the run (minor units), for RESERVE_FIRST. */
  reserveBalanceMinor: bigint;
  /** In tie-break order: ascending member number. */
  members: readonly AllocationMember[];
}

export interface MemberAllocation {
  memberNumber: number;
  /** Negative for a loss charge. */
  allocation: bigint;
  cash: bigint;
  /** allocation - cash; negative for a loss charge. */
  retained: bigint;
  /** The allocation was below the policy's minimum and went to the reserve instead (its amount). */
  belowMinimum: bigint;
}

export interface AllocationResult {
  kind: 'SURPLUS' | 'LOSS';
  surplus: bigint;
  /** To the collective reserve: its percentage plus allocations below the minimum (negative: a loss charged to it). */
  reserve: bigint;
  community: bigint;
  /** The member pool (negative: the loss charged to members). */
  memberPool: bigint;
  /** Sum of allocations not made for being below the minimum (included in `reserve`). */
  belowMinimum: bigint;
  members: MemberAllocation[];
}

const PERCENT_SCALE = 6;

function percentUnits(p: Decimal): bigint {
  return scaledInteger(p, PERCENT_SCALE);
}

const HUNDRED_PERCENT = 100n * 10n ** BigInt(PERCENT_SCALE);

/**
 * The run's figures from its surplus, policy and members' shares. A LedgerError when it cannot be
 * done: a surplus or loss for members with no member patronage to share it by.
 */
export function allocate(input: AllocationInput): AllocationResult | LedgerError {
  const members = input.members;
  for (let i = 1; i < members.length; i++)
    invariant(
      members[i - 1]!.memberNumber < members[i]!.memberNumber,
      'members must be in member-number order',
    );
  const weightTotal = members.reduce((s, m) => s + m.weight, 0n);
  const noPatronage = () =>
    new LedgerError(
      'NO_ELIGIBLE_PATRONAGE',
      'no member has patronage counted in this fiscal year (as an ACTIVE member, in a measure with a positive weight)',
      'fiscalYear',
    );
  const byShares = (total: bigint) =>
    weightTotal === 0n
      ? members.map(() => 0n)
      : largestRemainder(
          total,
          members.map((m) => m.weight),
        );

  if (input.surplusMinor < 0n) {
    const loss = -input.surplusMinor;
    const reserveCharge =
      input.lossRule === 'RESERVE_ONLY'
        ? loss
        : input.lossRule === 'MEMBERS_BY_PATRONAGE'
          ? 0n
          : loss < input.reserveBalanceMinor
            ? loss
            : input.reserveBalanceMinor > 0n
              ? input.reserveBalanceMinor
              : 0n;
    const memberCharge = loss - reserveCharge;
    if (memberCharge > 0n && weightTotal === 0n) return noPatronage();
    const charges = memberCharge > 0n ? byShares(memberCharge) : members.map(() => 0n);
    const result: AllocationResult = {
      kind: 'LOSS',
      surplus: input.surplusMinor,
      reserve: -reserveCharge,
      community: 0n,
      memberPool: -memberCharge,
      belowMinimum: 0n,
      members: members.map((m, i) => ({
        memberNumber: m.memberNumber,
        allocation: -charges[i]!,
        cash: 0n,
        retained: -charges[i]!,
        belowMinimum: 0n,
      })),
    };
    checkAllocation(result, input);
    return result;
  }

  const reservePart = percentUnits(input.reservePercent);
  const communityPart = percentUnits(input.communityPercent);
  const memberPart = HUNDRED_PERCENT - reservePart - communityPart;
  invariant(memberPart >= 0n, 'reserve and community percentages exceed 100');
  const [reserve0, community, memberPool] = largestRemainder(input.surplusMinor, [
    reservePart,
    communityPart,
    memberPart,
  ]) as [bigint, bigint, bigint];
  if (memberPool > 0n && weightTotal === 0n) return noPatronage();
  const shares = byShares(memberPool);
  const cashPart = percentUnits(input.cashPercent);
  let belowMinimum = 0n;
  const allocations = members.map((m, i) => {
    let allocation = shares[i]!;
    let below = 0n;
    if (allocation > 0n && allocation < input.minimumAllocationMinor) {
      below = allocation;
      belowMinimum += allocation;
      allocation = 0n;
    }
    const cash = m.payAllCash ? allocation : ceilDiv(allocation, cashPart, HUNDRED_PERCENT);
    return {
      memberNumber: m.memberNumber,
      allocation,
      cash,
      retained: allocation - cash,
      belowMinimum: below,
    };
  });
  const result: AllocationResult = {
    kind: 'SURPLUS',
    surplus: input.surplusMinor,
    reserve: reserve0 + belowMinimum,
    community,
    memberPool,
    belowMinimum,
    members: allocations,
  };
  checkAllocation(result, input);
  return result;
}

/** The invariants every run holds; a violation is a bug (thrown), never a result. */
function checkAllocation(r: AllocationResult, input: AllocationInput): void {
  const allocated = r.members.reduce((s, m) => s + m.allocation, 0n);
  invariant(
    r.reserve + r.community + allocated === r.surplus,
    'pools and allocations must sum to the surplus',
  );
  invariant(allocated + r.belowMinimum === r.memberPool, 'allocations must sum to the member pool');
  const cashPart = percentUnits(input.cashPercent);
  for (const m of r.members) {
    invariant(m.cash + m.retained === m.allocation, 'cash + retained must equal the allocation');
    if (r.kind === 'SURPLUS') {
      invariant(m.cash >= 0n && m.retained >= 0n, 'a surplus allocation has no negative part');
      invariant(m.cash >= ceilDiv(m.allocation, cashPart, HUNDRED_PERCENT), 'cash below the minimum share');
    } else {
      invariant(m.cash === 0n && m.allocation <= 0n, 'a loss charge pays no cash');
    }
  }
}

// ---------- revolving redemption and loss write-offs ----------

export interface OutstandingAllocation {
  /** The caller's key of the allocation (run and membership). */
  key: string;
  fiscalYear: number;
  memberNumber: number;
  outstanding: bigint;
}

/**
 * Which retained allocations a revolving redemption pays, oldest fiscal year first (FIFO), up to
 * `cap` minor units (null: no cap). Years are paid whole while the cap lasts; the year where it
 * runs out is paid pro rata to what each member is owed for it (largest remainder, ties by member
 * number), so members of one year are treated alike. Later years get nothing.
 */
export function planRedemption(
  items: readonly OutstandingAllocation[],
  cap: bigint | null,
): { key: string; amount: bigint }[] {
  invariant(cap === null || cap >= 0n, 'cap must not be negative');
  const sorted = items
    .filter((i) => i.outstanding > 0n)
    .sort((a, b) =>
      a.fiscalYear !== b.fiscalYear
        ? a.fiscalYear - b.fiscalYear
        : a.memberNumber !== b.memberNumber
          ? a.memberNumber - b.memberNumber
          : a.key < b.key
            ? -1
            : a.key > b.key
              ? 1
              : 0,
    );
  const out: { key: string; amount: bigint }[] = [];
  let left = cap;
  let i = 0;
  while (i < sorted.length) {
    const year = sorted[i]!.fiscalYear;
    const group: OutstandingAllocation[] = [];
    while (i < sorted.length && sorted[i]!.fiscalYear === year) group.push(sorted[i++]!);
    const total = group.reduce((s, g) => s + g.outstanding, 0n);
    if (left === null || left >= total) {
      for (const g of group) out.push({ key: g.key, amount: g.outstanding });
      if (left !== null) left -= total;
      continue;
    }
    if (left > 0n) {
      const parts = largestRemainder(
        left,
        group.map((g) => g.outstanding),
      );
      group.forEach((g, j) => {
        if (parts[j]! > 0n) out.push({ key: g.key, amount: parts[j]! });
      });
    }
    break;
  }
  return out;
}

/**
 * A member's loss charge written off against their outstanding retained allocations, oldest
 * first (`items` in that order). What they cannot absorb is returned as `carried`.
 */
export function planWriteOff(
  charge: bigint,
  items: readonly { key: string; outstanding: bigint }[],
): { writeOffs: { key: string; amount: bigint }[]; carried: bigint } {
  invariant(charge >= 0n, 'a charge is not negative');
  let left = charge;
  const writeOffs: { key: string; amount: bigint }[] = [];
  for (const item of items) {
    if (left === 0n) break;
    // biome-ignore lint/complexity/useMathMinMax: bigint, which Math.min does not take
    const amount = item.outstanding < left ? item.outstanding : left;
    if (amount > 0n) {
      writeOffs.push({ key: item.key, amount });
      left -= amount;
    }
  }
  return { writeOffs, carried: left };
}

/** 1099-PATR: a recipient is reported when paid at least $10 in the year (box 1 + box 5). */
export const FORM_1099_PATR_THRESHOLD_MINOR = 1000n;
