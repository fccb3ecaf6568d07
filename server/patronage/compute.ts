/**
 * A run's inputs and figures. `gatherInputs` reads everything a run depends on (the year's records,
 * the members' days of membership and consents, the policy version, the surplus from the book or
 * as given, the reserve's balance) and counts each member's patronage exactly (countPatronage:
 * day-weighted, as integer numerators over one denominator per measure) into one canonical
 * object; `computeFigures` turns those inputs into every pool and every member's cents with the
 * pure arithmetic of server/core/patronage.ts, and nothing else. So the same inputs always give
 * the same cents, and the SHA-256 of the canonical inputs stored with a run proves what it was
 * computed from. The inputs keep each member's exactly counted patronage and days of membership
 * and the number of records counted (every record would make a run's stored inputs tens of
 * megabytes); verifyRun recomputes the cents from the stored inputs, and counts the records
 * again to tell whether they changed since.
 */

import { createHash } from 'node:crypto';
import { type CoopRecord, dayStart, memberStates, todayUtc } from '../coops/index.js';
import {
  activeSpans,
  allocate,
  balanceView,
  type CountedPatronage,
  Decimal,
  dateOfDay,
  dayNumber,
  fiscalYearSpan,
  formatScaled,
  fromMinor,
  isLeaving,
  LedgerError,
  PatronageCounter,
  type PatronagePolicy,
  parseAmount,
  policyFromJson,
  type Rational,
  rationalToDecimal,
  rationalToFixed,
  shareWeights,
  toMinor,
  type Unit,
  ZERO,
} from '../core/index.js';
import { findAccounts, postedTotalsAsOf } from '../ledger/index.js';
import type { Queryable } from '../platform/transaction.js';
import type { PatronageDeps } from './deps.js';
import type { AllocationLine, ConsentStatus, MeasureFigure, RunFigures } from './records.js';
import { consents, type PolicyRow, recordGroups, recordsOfGroups } from './store.js';

export interface InputMember {
  membershipId: string;
  memberNumber: number;
  classCode: string;
  multiplier: string;
  /** Days ACTIVE within the fiscal year, as inclusive date pairs. */
  active: [string, string][];
  /** Had left when the run was computed (on or before the allocation date, or after it). */
  former: boolean;
  consent: ConsentStatus;
  /** Per measure: numerators over RunInputs.denominators of the patronage counted and excluded. */
  counted: Record<string, string>;
  excluded: Record<string, string>;
}

export interface RunInputs {
  format: 2;
  coopId: string;
  fiscalYear: number;
  periodStart: string;
  periodEnd: string;
  currency: Unit;
  surplus: string;
  surplusSource: 'BOOK' | 'GIVEN';
  /** The collective reserve's posted balance at the end of allocatedOn (RESERVE_FIRST draws on it). */
  reserveBalance: string;
  allocatedOn: string;
  policyVersion: number;
  policy: Record<string, unknown>;
  /** Per measure, the common denominator of the members' counted and excluded numerators. */
  denominators: Record<string, string>;
  /** How many records were counted (verifyRun counts them again and compares every member). */
  records: number;
  /** In member-number order. */
  members: InputMember[];
}

/**
 * Besides the inputs: their numerators as the counter made them (the integers the inputs' strings
 * were written from, so computeFigures need not parse them back) and what posting needs: each
 * member's internal capital account.
 */
export interface Gathered {
  inputs: RunInputs;
  counted: CountedPatronage;
  capitalAccounts: Map<string, string>;
}

const DAY_MS = 86_400_000;

/**
 * The year's surplus from the book: the co-op's revenue accounts (credit balance) less its expense
 * accounts (debit balance), in its currency, over entries effective in the fiscal year.
 */
async function bookSurplus(
  deps: PatronageDeps,
  db: Queryable,
  coop: CoopRecord,
  span: { start: string; end: string },
): Promise<Decimal> {
  const accounts = [
    ...(await deps.ledger.listAccounts(coop.id, {
      afterCode: null,
      limit: 100_000,
      includeClosed: true,
      type: 'REVENUE',
    })),
    ...(await deps.ledger.listAccounts(coop.id, {
      afterCode: null,
      limit: 100_000,
      includeClosed: true,
      type: 'EXPENSE',
    })),
  ].filter((a) => a.unit.code === coop.baseCurrency.code);
  if (accounts.length === 0) return ZERO;
  const ids = accounts.map((a) => a.id);
  const endAt = new Date(dayStart(span.end).getTime() + DAY_MS - 1);
  const beforeAt = new Date(dayStart(span.start).getTime() - 1);
  const [end, before] = await Promise.all([
    postedTotalsAsOf(db, coop.id, ids, endAt),
    postedTotalsAsOf(db, coop.id, ids, beforeAt),
  ]);
  let surplus = ZERO;
  for (const a of accounts) {
    const e = end.get(a.id);
    const b = before.get(a.id);
    const credits = (e?.credits ?? ZERO).minus(b?.credits ?? ZERO);
    const debits = (e?.debits ?? ZERO).minus(b?.debits ?? ZERO);
    surplus = surplus.plus(credits.minus(debits));
  }
  return surplus;
}

/** Reads a run's inputs; `db` is the commit's transaction (under the book's lock) or the pool (preview). */
export async function gatherInputs(
  deps: PatronageDeps,
  db: Queryable,
  coop: CoopRecord,
  request: {
    fiscalYear: number;
    surplus: string | null;
    allocatedOn: string;
    /**
     * A member who had left by this day counts as former (default today: a preview or a commit);
     * verifyRun counts again as of the day the run was committed.
     */
    leftBy?: string;
  },
  policy: PolicyRow,
): Promise<Gathered | LedgerError> {
  const span = fiscalYearSpan(coop.fiscalYearStart, request.fiscalYear);
  const leftBy = request.leftBy ?? todayUtc(deps.clock());
  const p = policyFromJson(policy.policy);
  const currency = coop.baseCurrency;
  let given: Decimal | null = null;
  if (request.surplus !== null) {
    const parsed = parseAmount(request.surplus, currency, 'surplus', {
      allowNegative: true,
      allowZero: true,
    });
    if (parsed instanceof LedgerError) return parsed;
    given = parsed;
  }
  // One after another, also on the pool (a preview). Read side by side on several pooled
  // connections, the service kept 11 to 25 MB more heap between requests (measured after a forced
  // GC; likely each connection holding on to its last large result) and a 10,000-member
  // verification after a commit ran out of its 128 MB heap.
  const surplus = given ?? (await bookSurplus(deps, db, coop, span));
  const [reserveRow] = await findAccounts(db, [{ bookId: coop.id, id: coop.accounts.COLLECTIVE_RESERVE }]);
  const { count, lengths, groups } = await recordGroups(db, coop.id, span.start, span.end);
  const roster = count === 0 ? [] : await memberStates(db, coop.id);
  // The reserve's balance at the end of the allocation date, not today's: a run may be committed
  // after a later one (a loss year committed late, after the next year's surplus went to the
  // reserve), and a loss charged on that date can only draw on what the reserve held then.
  const reserveTotals = reserveRow
    ? (
        await postedTotalsAsOf(
          db,
          coop.id,
          [reserveRow.id],
          new Date(dayStart(request.allocatedOn).getTime() + DAY_MS - 1),
        )
      ).get(reserveRow.id)
    : undefined;
  const reserveBalance =
    reserveRow && reserveTotals
      ? balanceView(reserveRow.type, {
          postedDebits: reserveTotals.debits,
          postedCredits: reserveTotals.credits,
          pendingDebits: ZERO,
          pendingCredits: ZERO,
        }).posted
      : ZERO;
  const fyFrom = dayNumber(span.start);
  const fyTo = dayNumber(span.end);
  const spans = roster.map((m) =>
    activeSpans(m.events, fyTo)
      .map((s) => ({ from: Math.max(s.from, fyFrom), to: Math.min(s.to, fyTo) }))
      .filter((s) => s.from <= s.to),
  );
  const counter = new PatronageCounter(
    span,
    p.measures.map((m) => ({ code: m.code, scale: m.unit.scale })),
    lengths,
  );
  const indexOf = new Map(roster.map((m, i) => [m.membershipId, i]));
  const withRecords = new Set<number>();
  // The year's records summed per member and measure: a member whose records of a measure all lie
  // within their one ACTIVE span counts the sum in full (most members); the records of the other
  // groups are read again one by one to be weighed by their days (PatronageCounter.add counts a
  // record lying wholly within membership exactly as addWhole does).
  const detail: { membershipId: string; measure: string }[] = [];
  for (const [, membershipId, measure, , , from, to, quantity] of groups) {
    const i = indexOf.get(membershipId);
    if (i === undefined) continue;
    withRecords.add(i);
    const one = spans[i]!.length === 1 ? spans[i]![0]! : null;
    if (one && from >= one.from && to <= one.to) counter.addWhole(i, measure, quantity);
    else detail.push({ membershipId, measure });
  }
  for (const r of await recordsOfGroups(db, coop.id, span.start, span.end, detail)) {
    const i = indexOf.get(r.membershipId)!;
    counter.add(i, spans[i]!, r.measure, r.startDay, r.endDay, r.quantity);
  }
  const included = roster.map((_, i) => i).filter((i) => withRecords.has(i));
  const members0 = included.map((i) => roster[i]!);
  const written = p.consentByBylaw
    ? new Map<string, { consented: boolean; effectiveOn: string }>()
    : new Map(
        (
          await consents(
            db,
            coop.id,
            members0.map((m) => m.membershipId),
          )
        ).map((c) => [c.membershipId, c]),
      );
  const multipliers = new Map(p.classMultipliers.map((c) => [c.classCode, c.multiplier.toFixed()]));
  const capitalAccounts = new Map<string, string>();
  const strings = (values: Record<string, bigint>) =>
    Object.fromEntries(Object.entries(values).map(([k, v]) => [k, v.toString()]));
  // Most members share their first and last day of membership in the year: one string each.
  const dates = new Map<number, string>();
  const date = (day: number) => {
    let d = dates.get(day);
    if (d === undefined) {
      d = dateOfDay(day);
      dates.set(day, d);
    }
    return d;
  };
  const counted: CountedPatronage['members'] = [];
  const members: InputMember[] = included.map((i) => {
    const m = roster[i]!;
    capitalAccounts.set(m.membershipId, m.internalCapitalAccountId);
    const consent = written.get(m.membershipId);
    const numbers = counter.member(i);
    counted.push({ memberNumber: m.memberNumber, ...numbers });
    return {
      membershipId: m.membershipId,
      memberNumber: m.memberNumber,
      classCode: m.classCode,
      multiplier: multipliers.get(m.classCode) ?? '1',
      active: spans[i]!.map((s): [string, string] => [date(s.from), date(s.to)]),
      // Left by the allocation date, or since (a run is often committed, backdated, after its
      // allocation date): either way their leaving came before this allocation was made, so it
      // could not redeem it, and under PAY_AT_ONCE it is paid all in cash now.
      former: isLeaving(m.state) && m.stateSince <= leftBy,
      consent: p.consentByBylaw
        ? 'BYLAW'
        : consent?.consented && consent.effectiveOn <= request.allocatedOn
          ? 'WRITTEN'
          : 'NONE',
      counted: strings(numbers.counted),
      excluded: strings(numbers.excluded),
    };
  });
  return {
    inputs: {
      format: 2,
      coopId: coop.id,
      fiscalYear: request.fiscalYear,
      periodStart: span.start,
      periodEnd: span.end,
      currency: { code: currency.code, scale: currency.scale },
      surplus: surplus.toFixed(currency.scale),
      surplusSource: request.surplus !== null ? 'GIVEN' : 'BOOK',
      reserveBalance: reserveBalance.toFixed(currency.scale),
      allocatedOn: request.allocatedOn,
      policyVersion: policy.version,
      policy: policy.policy,
      denominators: strings(counter.denominators()),
      records: count,
      members,
    },
    counted: { denominators: counter.denominators(), members: counted },
    capitalAccounts,
  };
}

/** JSON with object keys sorted at every level, so inputs read back from storage hash the same. */
function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const o = value as Record<string, unknown>;
  const keys = Object.keys(o)
    .filter((k) => o[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`).join(',')}}`;
}

/** Keys in the order `Array.prototype.sort` gives them (UTF-16 code units), sorting only if needed. */
function sortedKeys(values: Record<string, string>): string[] {
  const keys = Object.keys(values);
  for (let i = 1; i < keys.length; i++) if (keys[i - 1]! > keys[i]!) return keys.sort();
  return keys;
}

/** Per-measure values as canonical JSON (keys sorted). */
function measuresJson(values: Record<string, string>): string {
  let out = '{';
  for (const k of sortedKeys(values))
    out += `${out.length > 1 ? ',' : ''}${JSON.stringify(k)}:${JSON.stringify(values[k])}`;
  return `${out}}`;
}

/** A member's inputs as canonical JSON, written out by hand (the hot path of hashing a large run). */
function memberJson(m: InputMember): string {
  return (
    `{"active":${JSON.stringify(m.active)},"classCode":${JSON.stringify(m.classCode)},` +
    `"consent":${JSON.stringify(m.consent)},"counted":${measuresJson(m.counted)},"excluded":${measuresJson(m.excluded)},` +
    `"former":${m.former},"memberNumber":${m.memberNumber},"membershipId":${JSON.stringify(m.membershipId)},` +
    `"multiplier":${JSON.stringify(m.multiplier)}}`
  );
}

/**
 * SHA-256 of the canonical inputs (object keys sorted at every level), the same for inputs read
 * back from storage (jsonb reorders keys).
 */
export function inputsHash(inputs: RunInputs): string {
  const { members, ...rest } = inputs;
  const head = canonicalJson(rest);
  // The same bytes as hashing `${head without its "}"},"members":[${members joined by ","}]}` at once,
  // fed a member at a time: a 10,000-member run's text (megabytes, in the large-object space that
  // brings on full collections) is never made.
  const hash = createHash('sha256').update(`${head.slice(0, -1)},"members":[`);
  members.forEach((m, i) => {
    hash.update(i === 0 ? memberJson(m) : `,${memberJson(m)}`);
  });
  return hash.update(']}').digest('hex');
}

/** A run's figures as computeFigures makes them: each line a FigureLine (its cents in minor units). */
export type ComputedFigures = Omit<RunFigures, 'lines'> & { lines: FigureLine[] };

const moneyOf = (minor: bigint, scale: number) => (minor === 0n ? ZERO : fromMinor(minor, scale));
const figureOf = (r: Rational, places: number) => (r.num === 0n ? ZERO : rationalToDecimal(r, places));

/**
 * A member's line of a computed run: its cents in minor units (`minor`) and its patronage as exact
 * rationals, the Decimals of AllocationLine made only when first read. A preview of 10,000
 * members shows a page of them and a commit writes their text (formatScaled), so the 50,000 or so
 * Decimals the lines would hold are mostly never made: making them all was 60% of computeFigures
 * (about 170 of 290 ms here, most of it the garbage collector's).
 */
export class FigureLine implements AllocationLine {
  readonly membershipId: string;
  readonly memberNumber: number;
  readonly classCode: string;
  readonly former: boolean;
  readonly consent: ConsentStatus;
  /** Settled so far: nothing, in a computed run. */
  readonly cashPaid = ZERO;
  readonly redeemed = ZERO;
  readonly writtenOff = ZERO;
  private decimals: { allocation: Decimal; cash: Decimal; retained: Decimal; belowMinimum: Decimal } | null =
    null;
  private figures: MeasureFigure[] | null = null;

  constructor(
    readonly bookId: string,
    member: InputMember,
    readonly share: string,
    readonly qualified: boolean,
    /** The currency's scale. */
    readonly scale: number,
    /** The member's cents in minor units. */
    readonly minor: { allocation: bigint; cash: bigint; retained: bigint; belowMinimum: bigint },
    /** Per measure: counted and excluded, exact. */
    readonly measures: { measure: string; unit: Unit; counted: Rational; excluded: Rational }[],
  ) {
    this.membershipId = member.membershipId;
    this.memberNumber = member.memberNumber;
    this.classCode = member.classCode;
    this.former = member.former;
    this.consent = member.consent;
  }

  private money() {
    if (this.decimals === null) {
      const { allocation, cash, retained, belowMinimum } = this.minor;
      this.decimals = {
        allocation: moneyOf(allocation, this.scale),
        cash: moneyOf(cash, this.scale),
        retained: moneyOf(retained, this.scale),
        belowMinimum: moneyOf(belowMinimum, this.scale),
      };
    }
    return this.decimals;
  }

  get allocation(): Decimal {
    return this.money().allocation;
  }
  get cash(): Decimal {
    return this.money().cash;
  }
  get retained(): Decimal {
    return this.money().retained;
  }
  get belowMinimum(): Decimal {
    return this.money().belowMinimum;
  }

  /** Counted and excluded at each measure's scale, rounded half-even for display. */
  get patronage(): MeasureFigure[] {
    this.figures ??= this.measures.map((m) => ({
      measure: m.measure,
      unit: m.unit,
      counted: figureOf(m.counted, m.unit.scale),
      excluded: figureOf(m.excluded, m.unit.scale),
    }));
    return this.figures;
  }

  /** An amount of this line (minor units) as text at the currency's scale. */
  text(minor: bigint): string {
    return formatScaled(minor, this.scale);
  }
}

/** Every figure of a run from its inputs alone. */
export function computeFigures(inputs: RunInputs, counted?: CountedPatronage): ComputedFigures | LedgerError {
  const policy: PatronagePolicy = policyFromJson(inputs.policy);
  const scale = inputs.currency.scale;
  const bigints = (values: Record<string, string>) =>
    Object.fromEntries(Object.entries(values).map(([k, v]) => [k, BigInt(v)]));
  // Members mostly share a few multipliers: one Decimal each.
  const multipliers = new Map<string, Decimal>();
  const multiplier = (text: string) => {
    let d = multipliers.get(text);
    if (d === undefined) {
      d = new Decimal(text);
      multipliers.set(text, d);
    }
    return d;
  };
  const shares = shareWeights(
    policy.measures,
    // The counter's integers when the inputs were just gathered (the inputs' strings are written
    // from them), else parsed from the inputs (a stored run being verified).
    counted ?? {
      denominators: bigints(inputs.denominators),
      members: inputs.members.map((m) => ({
        memberNumber: m.memberNumber,
        counted: bigints(m.counted),
        excluded: bigints(m.excluded),
      })),
    },
    inputs.members.map((m) => multiplier(m.multiplier)),
  );
  const result = allocate({
    surplusMinor: toMinor(new Decimal(inputs.surplus), scale),
    reservePercent: policy.reservePercent,
    communityPercent: policy.communityPercent,
    cashPercent: policy.cashPercent,
    minimumAllocationMinor: toMinor(policy.minimumAllocation, scale),
    lossRule: policy.lossRule,
    reserveBalanceMinor: toMinor(new Decimal(inputs.reserveBalance), scale),
    members: inputs.members.map((m, i) => ({
      memberNumber: m.memberNumber,
      weight: shares.members[i]!.weight,
      payAllCash: m.former && policy.departingRule === 'PAY_AT_ONCE',
    })),
  });
  if (result instanceof LedgerError) return result;
  // Zeros (most members' below-minimum and excluded figures) share one immutable Decimal.
  const money = (minor: bigint) => (minor === 0n ? ZERO : fromMinor(minor, scale));
  const denominator = shares.denominator;
  const qualifiedRun = policy.noticeType === 'QUALIFIED' && result.kind === 'SURPLUS';
  let cashTotal = 0n;
  let retainedTotal = 0n;
  const lines = inputs.members.map((m, i) => {
    const s = shares.members[i]!;
    const a = result.members[i]!;
    cashTotal += a.cash;
    retainedTotal += a.retained;
    return new FigureLine(
      inputs.coopId,
      m,
      // The same string as rationalToDecimal(...).toFixed(10), without a Decimal per member.
      denominator === 0n ? '0.0000000000' : rationalToFixed({ num: s.weight, den: denominator }, 10),
      qualifiedRun && m.consent !== 'NONE',
      scale,
      a,
      policy.measures.map((spec) => ({
        measure: spec.code,
        unit: spec.unit,
        counted: s.counted[spec.code]!,
        excluded: s.excluded[spec.code]!,
      })),
    );
  });
  return {
    bookId: inputs.coopId,
    fiscalYear: inputs.fiscalYear,
    periodStart: inputs.periodStart,
    periodEnd: inputs.periodEnd,
    currency: inputs.currency,
    kind: result.kind,
    surplus: money(result.surplus),
    surplusSource: inputs.surplusSource,
    reserve: money(result.reserve),
    community: money(result.community),
    memberPool: money(result.memberPool),
    belowMinimum: money(result.belowMinimum),
    cashTotal: money(cashTotal),
    retainedTotal: money(retainedTotal),
    allocatedOn: inputs.allocatedOn,
    policyVersion: inputs.policyVersion,
    noticeType: policy.noticeType,
    revolvingYears: policy.revolvingYears,
    lossRule: policy.lossRule,
    departingRule: policy.departingRule,
    measures: policy.measures.map((m) => ({
      code: m.code,
      kind: m.kind,
      unit: m.unit,
      weight: m.weight,
      total: rationalToDecimal(shares.totals[m.code]!, m.unit.scale),
    })),
    inputsHash: inputsHash(inputs),
    lines,
  };
}
