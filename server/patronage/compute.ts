/**
 * A run's inputs and figures. `gatherInputs` reads everything a run depends on (the year's records,
 * the members' days of membership and consents, the policy version, the surplus from the book or
 * as given, the reserve's balance) into one canonical object; `computeFigures` turns those inputs
 * into every pool and every member's cents with the pure arithmetic of server/core/patronage.ts,
 * and nothing else. So the same inputs always give the same cents, and the SHA-256 of the
 * canonical inputs stored with a run proves what it was computed from (verifyRun recomputes it).
 */

import { type CoopRecord, dayStart, memberRoster } from '../coops/index.js';
import {
  activeSpans,
  allocate,
  balanceView,
  type DaySpan,
  Decimal,
  dateOfDay,
  dayNumber,
  fiscalYearSpan,
  fromMinor,
  isLeaving,
  LedgerError,
  measurePatronage,
  type PatronagePolicy,
  parseAmount,
  policyFromJson,
  rationalToDecimal,
  toMinor,
  type Unit,
  ZERO,
} from '../core/index.js';
import { findAccounts, postedTotalsAsOf } from '../ledger/index.js';
import { requestHash } from '../platform/hashing.js';
import type { Queryable } from '../platform/transaction.js';
import type { PatronageDeps } from './deps.js';
import type { AllocationLine, ConsentStatus, RunFigures } from './records.js';
import { consents, type PolicyRow, recordsTouching } from './store.js';

export interface InputMember {
  membershipId: string;
  memberNumber: number;
  classCode: string;
  multiplier: string;
  /** Days ACTIVE within the fiscal year, as inclusive date pairs. */
  active: [string, string][];
  /** Had left on or before the allocation date. */
  former: boolean;
  consent: ConsentStatus;
  /** [measure, period start, period end, quantity] of every record touching the year. */
  records: [string, string, string, string][];
}

export interface RunInputs {
  format: 1;
  coopId: string;
  fiscalYear: number;
  periodStart: string;
  periodEnd: string;
  currency: Unit;
  surplus: string;
  surplusSource: 'BOOK' | 'GIVEN';
  reserveBalance: string;
  allocatedOn: string;
  policyVersion: number;
  policy: Record<string, unknown>;
  /** In member-number order. */
  members: InputMember[];
}

/** Besides the inputs, what posting needs: each member's internal capital account. */
export interface Gathered {
  inputs: RunInputs;
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
  request: { fiscalYear: number; surplus: string | null; allocatedOn: string },
  policy: PolicyRow,
): Promise<Gathered | LedgerError> {
  const span = fiscalYearSpan(coop.fiscalYearStart, request.fiscalYear);
  const p = policyFromJson(policy.policy);
  const currency = coop.baseCurrency;
  let surplus: Decimal;
  if (request.surplus !== null) {
    const parsed = parseAmount(request.surplus, currency, 'surplus', {
      allowNegative: true,
      allowZero: true,
    });
    if (parsed instanceof LedgerError) return parsed;
    surplus = parsed;
  } else {
    surplus = await bookSurplus(deps, db, coop, span);
  }
  const [reserveRow] = await findAccounts(db, [{ bookId: coop.id, id: coop.accounts.COLLECTIVE_RESERVE }]);
  const reserveBalance = reserveRow ? balanceView(reserveRow.type, reserveRow).posted : ZERO;
  const records = await recordsTouching(db, coop.id, span.start, span.end);
  const byMember = new Map<string, [string, string, string, string][]>();
  for (const r of records) {
    const list = byMember.get(r.membershipId) ?? [];
    byMember.set(r.membershipId, list);
    list.push([r.measure, r.periodStart, r.periodEnd, r.quantity]);
  }
  const roster = byMember.size === 0 ? [] : await memberRoster(db, coop.id, [...byMember.keys()]);
  const written = p.consentByBylaw
    ? new Map<string, { consented: boolean; effectiveOn: string }>()
    : new Map((await consents(db, coop.id, [...byMember.keys()])).map((c) => [c.membershipId, c]));
  const multipliers = new Map(p.classMultipliers.map((c) => [c.classCode, c.multiplier.toFixed()]));
  const fyFrom = dayNumber(span.start);
  const fyTo = dayNumber(span.end);
  const capitalAccounts = new Map<string, string>();
  const members: InputMember[] = roster.map((m) => {
    capitalAccounts.set(m.membershipId, m.internalCapitalAccountId);
    const spans = activeSpans(m.events, fyTo)
      .map((s) => ({ from: Math.max(s.from, fyFrom), to: Math.min(s.to, fyTo) }))
      .filter((s) => s.from <= s.to);
    const consent = written.get(m.membershipId);
    return {
      membershipId: m.membershipId,
      memberNumber: m.memberNumber,
      classCode: m.classCode,
      multiplier: multipliers.get(m.classCode) ?? '1',
      active: spans.map((s): [string, string] => [dateOfDay(s.from), dateOfDay(s.to)]),
      former: isLeaving(m.state) && m.stateSince <= request.allocatedOn,
      consent: p.consentByBylaw
        ? 'BYLAW'
        : consent?.consented && consent.effectiveOn <= request.allocatedOn
          ? 'WRITTEN'
          : 'NONE',
      records: byMember.get(m.membershipId)!,
    };
  });
  return {
    inputs: {
      format: 1,
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
      members,
    },
    capitalAccounts,
  };
}

/** SHA-256 of the canonical inputs (sorted keys), the same for inputs read back from storage. */
export function inputsHash(inputs: RunInputs): string {
  return requestHash('patronageRunInputs', inputs);
}

/** Every figure of a run from its inputs alone. */
export function computeFigures(inputs: RunInputs): RunFigures | LedgerError {
  const policy: PatronagePolicy = policyFromJson(inputs.policy);
  const scale = inputs.currency.scale;
  const year = { start: inputs.periodStart, end: inputs.periodEnd };
  const specs = policy.measures.map((m) => ({ code: m.code, scale: m.unit.scale, weight: m.weight }));
  const shares = measurePatronage(
    year,
    specs,
    inputs.members.map((m) => ({
      memberNumber: m.memberNumber,
      multiplier: new Decimal(m.multiplier),
      active: m.active.map(([from, to]): DaySpan => ({ from: dayNumber(from), to: dayNumber(to) })),
      records: m.records.map(([measure, periodStart, periodEnd, quantity]) => ({
        measure,
        periodStart,
        periodEnd,
        quantity: new Decimal(quantity),
      })),
    })),
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
  const money = (minor: bigint) => fromMinor(minor, scale);
  const denominator = shares.denominator;
  let cashTotal = 0n;
  let retainedTotal = 0n;
  const lines: AllocationLine[] = inputs.members.map((m, i) => {
    const s = shares.members[i]!;
    const a = result.members[i]!;
    cashTotal += a.cash;
    retainedTotal += a.retained;
    return {
      bookId: inputs.coopId,
      membershipId: m.membershipId,
      memberNumber: m.memberNumber,
      classCode: m.classCode,
      former: m.former,
      patronage: policy.measures.map((spec) => ({
        measure: spec.code,
        unit: spec.unit,
        counted: rationalToDecimal(s.counted[spec.code]!, spec.unit.scale),
        excluded: rationalToDecimal(s.excluded[spec.code]!, spec.unit.scale),
      })),
      share:
        denominator === 0n
          ? '0.0000000000'
          : rationalToDecimal({ num: s.weight, den: denominator }, 10).toFixed(10),
      allocation: money(a.allocation),
      cash: money(a.cash),
      retained: money(a.retained),
      belowMinimum: money(a.belowMinimum),
      qualified: policy.noticeType === 'QUALIFIED' && m.consent !== 'NONE' && result.kind === 'SURPLUS',
      consent: m.consent,
      cashPaid: ZERO,
      redeemed: ZERO,
      writtenOff: ZERO,
    };
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
