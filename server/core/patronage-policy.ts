/**
 * A co-op's patronage policy: which measures count and with what weights, how the surplus is split
 * (collective reserve, community fund, members), how allocations are paid (cash share, qualified or
 * non-qualified notices, revolving period, minimums), how a loss is charged and what happens to a
 * departing member's retained allocations. Pure: parsing and validation of the wire input into a
 * policy, and its canonical form (what is stored, versioned and hashed into every run).
 */
import { LedgerError } from './errors.js';
import { Decimal, parseAmount, type Unit, validateUnit } from './money.js';
import { LOSS_RULES, type LossRule } from './patronage.js';

export const PATRONAGE_MEASURE_KINDS = ['HOURS', 'WAGES', 'PURCHASES', 'SALES', 'CUSTOM'] as const;
export type PatronageMeasureKind = (typeof PATRONAGE_MEASURE_KINDS)[number];
export const NOTICE_TYPES = ['QUALIFIED', 'NON_QUALIFIED'] as const;
export type NoticeType = (typeof NOTICE_TYPES)[number];
export const DEPARTING_RULES = ['PAY_AT_ONCE', 'KEEP_UNTIL_REVOLVED'] as const;
export type DepartingRule = (typeof DEPARTING_RULES)[number];

export const PATRONAGE_LIMITS = {
  measuresMax: 10,
  classMultipliersMax: 50,
  /** Decimal places of weights and class multipliers. */
  factorScaleMax: 6,
  /** Decimal places of percentages ("33.3333"). */
  percentScaleMax: 4,
  /** Units of measures have at most this many decimals. */
  measureScaleMax: 6,
  revolvingYearsMax: 50,
  /** Subchapter T: a qualified written notice needs at least 20% of the allocation paid in money. */
  qualifiedCashPercentMin: 20,
  multiplierMax: 1000,
  weightMax: 1_000_000,
} as const;

const MEASURE_CODE = /^[A-Z][A-Z0-9_]{0,31}$/;

export interface PolicyMeasure {
  code: string;
  kind: PatronageMeasureKind;
  unit: Unit;
  weight: Decimal;
}

export interface PatronagePolicy {
  measures: PolicyMeasure[];
  /** Member class code -> multiplier of its members' patronage (1 when absent). */
  classMultipliers: { classCode: string; multiplier: Decimal }[];
  reservePercent: Decimal;
  communityPercent: Decimal;
  /** The share of each allocation paid in cash, rounded up to the minor unit. */
  cashPercent: Decimal;
  noticeType: NoticeType;
  /** Members consent to take qualified notices into income by a bylaw (Subchapter T consent). */
  consentByBylaw: boolean;
  revolvingYears: number;
  /** Allocations below this are not made (they go to the collective reserve). */
  minimumAllocation: Decimal;
  /** Cash payouts below this wait (stay payable) until a later payout brings them to it. */
  minimumCheque: Decimal;
  lossRule: LossRule;
  departingRule: DepartingRule;
}

/** What the API takes: amounts and factors as decimal strings. */
export interface PatronagePolicyInput {
  measures: { code: string; kind: PatronageMeasureKind; unit: Unit; weight: string }[];
  classMultipliers?: { classCode: string; multiplier: string }[] | null;
  reservePercent: string;
  communityPercent?: string | null;
  cashPercent?: string | null;
  noticeType?: NoticeType | null;
  consentByBylaw?: boolean | null;
  revolvingYears: number;
  minimumAllocation?: string | null;
  minimumCheque?: string | null;
  lossRule?: LossRule | null;
  departingRule?: DepartingRule | null;
}

/** A non-negative factor (weight, multiplier, percentage) with at most `scale` decimals, never rounded. */
function factor(
  text: string,
  scale: number,
  max: number,
  field: string,
  problems: LedgerError[],
  { positive = false } = {},
): Decimal {
  const parsed = parseAmount(text, { code: 'FACTOR', scale }, field, { allowZero: true });
  if (parsed instanceof LedgerError) {
    problems.push(
      new LedgerError('INVALID_INPUT', `${field} must be a decimal with at most ${scale} decimals`, field),
    );
    return new Decimal(0);
  }
  if (parsed.gt(max) || (positive && parsed.isZero())) {
    problems.push(
      new LedgerError(
        'INVALID_INPUT',
        `${field} must be ${positive ? 'above 0' : 'from 0'} and at most ${max}`,
        field,
      ),
    );
  }
  return parsed;
}

/**
 * Parses and checks a policy against the co-op's currency. Every problem at once (the API lists
 * them all); the policy when there are none.
 */
export function parsePolicy(input: PatronagePolicyInput, currency: Unit): PatronagePolicy | LedgerError[] {
  const problems: LedgerError[] = [];
  const L = PATRONAGE_LIMITS;
  if (input.measures.length < 1 || input.measures.length > L.measuresMax)
    problems.push(
      new LedgerError('INVALID_INPUT', `a policy has 1 to ${L.measuresMax} measures`, 'measures'),
    );
  const codes = new Set<string>();
  const measures = input.measures.map((m, i) => {
    const field = `measures[${i}]`;
    if (!MEASURE_CODE.test(m.code))
      problems.push(
        new LedgerError(
          'INVALID_INPUT',
          'a measure code is 1 to 32 of A-Z, 0-9 and _, starting with a letter',
          `${field}.code`,
        ),
      );
    else if (codes.has(m.code))
      problems.push(new LedgerError('INVALID_INPUT', `measure ${m.code} is listed twice`, `${field}.code`));
    codes.add(m.code);
    if (!PATRONAGE_MEASURE_KINDS.includes(m.kind))
      problems.push(
        new LedgerError(
          'INVALID_INPUT',
          `kind must be one of ${PATRONAGE_MEASURE_KINDS.join(', ')}`,
          `${field}.kind`,
        ),
      );
    const unitError = validateUnit(m.unit, `${field}.unit`);
    if (unitError) problems.push(unitError);
    else if (m.unit.scale > L.measureScaleMax)
      problems.push(
        new LedgerError(
          'INVALID_UNIT',
          `a measure's unit has at most ${L.measureScaleMax} decimals`,
          `${field}.unit.scale`,
        ),
      );
    const weight = factor(m.weight, L.factorScaleMax, L.weightMax, `${field}.weight`, problems);
    return { code: m.code, kind: m.kind, unit: { code: m.unit.code, scale: m.unit.scale }, weight };
  });
  if (measures.length > 0 && measures.every((m) => m.weight.isZero()))
    problems.push(
      new LedgerError('INVALID_INPUT', 'at least one measure needs a weight above 0', 'measures'),
    );
  const classCodes = new Set<string>();
  const multipliers = input.classMultipliers ?? [];
  if (multipliers.length > L.classMultipliersMax)
    problems.push(
      new LedgerError(
        'INVALID_INPUT',
        `at most ${L.classMultipliersMax} class multipliers`,
        'classMultipliers',
      ),
    );
  const classMultipliers = multipliers.map((c, i) => {
    const field = `classMultipliers[${i}]`;
    if (classCodes.has(c.classCode))
      problems.push(
        new LedgerError('INVALID_INPUT', `class ${c.classCode} is listed twice`, `${field}.classCode`),
      );
    classCodes.add(c.classCode);
    const multiplier = factor(
      c.multiplier,
      L.factorScaleMax,
      L.multiplierMax,
      `${field}.multiplier`,
      problems,
      {
        positive: true,
      },
    );
    return { classCode: c.classCode, multiplier };
  });
  const reservePercent = factor(input.reservePercent, L.percentScaleMax, 100, 'reservePercent', problems);
  const communityPercent = factor(
    input.communityPercent ?? '0',
    L.percentScaleMax,
    100,
    'communityPercent',
    problems,
  );
  if (reservePercent.plus(communityPercent).gt(100))
    problems.push(
      new LedgerError(
        'INVALID_INPUT',
        'reservePercent and communityPercent together exceed 100',
        'communityPercent',
      ),
    );
  const noticeType = input.noticeType ?? 'QUALIFIED';
  if (!NOTICE_TYPES.includes(noticeType))
    problems.push(
      new LedgerError('INVALID_INPUT', `noticeType must be one of ${NOTICE_TYPES.join(', ')}`, 'noticeType'),
    );
  const cashPercent = factor(
    input.cashPercent ?? String(L.qualifiedCashPercentMin),
    L.percentScaleMax,
    100,
    'cashPercent',
    problems,
  );
  if (noticeType === 'QUALIFIED' && cashPercent.lt(L.qualifiedCashPercentMin))
    problems.push(
      new LedgerError(
        'INVALID_INPUT',
        `a qualified notice needs at least ${L.qualifiedCashPercentMin}% of each allocation paid in cash (Subchapter T)`,
        'cashPercent',
      ),
    );
  if (
    !Number.isInteger(input.revolvingYears) ||
    input.revolvingYears < 0 ||
    input.revolvingYears > L.revolvingYearsMax
  )
    problems.push(
      new LedgerError(
        'INVALID_INPUT',
        `revolvingYears must be a whole number from 0 to ${L.revolvingYearsMax}`,
        'revolvingYears',
      ),
    );
  const money = (text: string | null | undefined, field: string): Decimal => {
    const parsed = parseAmount(text ?? '0', currency, field, { allowZero: true });
    if (parsed instanceof LedgerError) {
      problems.push(parsed);
      return new Decimal(0);
    }
    return parsed;
  };
  const minimumAllocation = money(input.minimumAllocation, 'minimumAllocation');
  const minimumCheque = money(input.minimumCheque, 'minimumCheque');
  const lossRule = input.lossRule ?? 'RESERVE_FIRST';
  if (!LOSS_RULES.includes(lossRule))
    problems.push(
      new LedgerError('INVALID_INPUT', `lossRule must be one of ${LOSS_RULES.join(', ')}`, 'lossRule'),
    );
  const departingRule = input.departingRule ?? 'PAY_AT_ONCE';
  if (!DEPARTING_RULES.includes(departingRule))
    problems.push(
      new LedgerError(
        'INVALID_INPUT',
        `departingRule must be one of ${DEPARTING_RULES.join(', ')}`,
        'departingRule',
      ),
    );
  if (problems.length > 0) return problems;
  return {
    measures,
    classMultipliers,
    reservePercent,
    communityPercent,
    cashPercent,
    noticeType,
    consentByBylaw: input.consentByBylaw ?? true,
    revolvingYears: input.revolvingYears,
    minimumAllocation,
    minimumCheque,
    lossRule,
    departingRule,
  };
}

/** The policy as plain JSON (decimals as strings): what is stored and hashed into each run. */
export function policyToJson(p: PatronagePolicy): Record<string, unknown> {
  return {
    measures: p.measures.map((m) => ({
      code: m.code,
      kind: m.kind,
      unit: m.unit,
      weight: m.weight.toFixed(),
    })),
    classMultipliers: p.classMultipliers.map((c) => ({
      classCode: c.classCode,
      multiplier: c.multiplier.toFixed(),
    })),
    reservePercent: p.reservePercent.toFixed(),
    communityPercent: p.communityPercent.toFixed(),
    cashPercent: p.cashPercent.toFixed(),
    noticeType: p.noticeType,
    consentByBylaw: p.consentByBylaw,
    revolvingYears: p.revolvingYears,
    minimumAllocation: p.minimumAllocation.toFixed(),
    minimumCheque: p.minimumCheque.toFixed(),
    lossRule: p.lossRule,
    departingRule: p.departingRule,
  };
}

/** The inverse of policyToJson, for policies read back from storage (already validated). */
export function policyFromJson(json: Record<string, unknown>): PatronagePolicy {
  const j = json as {
    measures: { code: string; kind: PatronageMeasureKind; unit: Unit; weight: string }[];
    classMultipliers: { classCode: string; multiplier: string }[];
    reservePercent: string;
    communityPercent: string;
    cashPercent: string;
    noticeType: NoticeType;
    consentByBylaw: boolean;
    revolvingYears: number;
    minimumAllocation: string;
    minimumCheque: string;
    lossRule: LossRule;
    departingRule: DepartingRule;
  };
  return {
    measures: j.measures.map((m) => ({ ...m, weight: new Decimal(m.weight) })),
    classMultipliers: j.classMultipliers.map((c) => ({
      classCode: c.classCode,
      multiplier: new Decimal(c.multiplier),
    })),
    reservePercent: new Decimal(j.reservePercent),
    communityPercent: new Decimal(j.communityPercent),
    cashPercent: new Decimal(j.cashPercent),
    noticeType: j.noticeType,
    consentByBylaw: j.consentByBylaw,
    revolvingYears: j.revolvingYears,
    minimumAllocation: new Decimal(j.minimumAllocation),
    minimumCheque: new Decimal(j.minimumCheque),
    lossRule: j.lossRule,
    departingRule: j.departingRule,
  };
}
