/**
 * The posting engine's rules in integer minor units (see minor.ts): line resolution, the effect of
 * lines on account totals with the bound and size checks, and bounds at every instant. The same
 * rules, checks, order and messages as resolveLines / applyLines (entries.ts), balanceView and
 * signedAmount (accounts.ts) and firstBoundBreach (history.ts); tests/core/minor-money.test.ts
 * holds each pair equal on random inputs. balanceView and signedAmount still serve decimal.js
 * callers (patronage, credit, co-op import); resolveLines, applyLines and firstBoundBreach have no
 * caller left in the service since the posting engine moved to minor units: they stay as the
 * decimal reference those property tests (and tests/core's older tests of the rules) check against.
 */
import { type AccountType, normalSide, type Side } from './accounts.js';
import type { LineInput, Movement } from './entries.js';
import { invariant, LedgerError } from './errors.js';
import { formatMinor, parseMinor, totalLimitMinor } from './minor.js';
import type { Unit } from './money.js';

/** An account's four running totals in minor units of its unit. */
export interface MinorTotals {
  postedDebits: bigint;
  postedCredits: bigint;
  pendingDebits: bigint;
  pendingCredits: bigint;
}

/** AccountState in minor units (totals and bounds). */
export interface MinorAccount extends MinorTotals {
  id: string;
  bookId: string;
  type: AccountType;
  unit: Unit;
  lowerBound: bigint | null;
  upperBound: bigint | null;
  closed: boolean;
}

/** A resolved line, its amount in minor units of its unit. */
export interface MinorLine {
  accountId: string;
  side: Side;
  minor: bigint;
  unitCode: string;
  scale: number;
}

export interface MinorBalanceView {
  posted: bigint;
  available: bigint;
  projected: bigint;
}

export function balanceViewMinor(type: AccountType, t: MinorTotals): MinorBalanceView {
  const debitNormal = normalSide(type) === 'DEBIT';
  const posted = debitNormal ? t.postedDebits - t.postedCredits : t.postedCredits - t.postedDebits;
  const pendingIncrease = debitNormal ? t.pendingDebits : t.pendingCredits;
  const pendingDecrease = debitNormal ? t.pendingCredits : t.pendingDebits;
  return { posted, available: posted - pendingDecrease, projected: posted + pendingIncrease };
}

/** Signed effect of one movement on the normal-direction balance. */
export function signedMinor(type: AccountType, side: Side, minor: bigint): bigint {
  return side === normalSide(type) ? minor : -minor;
}

/** resolveLines in minor units. */
export function resolveLinesMinor(
  lines: readonly LineInput[],
  accounts: { get(id: string): MinorAccount | undefined },
  options: { allowClosed?: boolean } = {},
): MinorLine[] | LedgerError {
  const resolved: MinorLine[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const account = accounts.get(line.accountId);
    if (!account)
      return new LedgerError('UNKNOWN_ACCOUNT', 'no such account in this book', `lines[${i}].accountId`);
    if (line.unit !== account.unit.code) {
      return new LedgerError(
        'UNIT_MISMATCH',
        `line is in ${line.unit} but the account holds ${account.unit.code}`,
        `lines[${i}].unit`,
      );
    }
    const minor = parseMinor(line.amount, account.unit, `lines[${i}].amount`);
    if (minor instanceof LedgerError) return minor;
    if (account.closed && !options.allowClosed) {
      return new LedgerError('ACCOUNT_CLOSED', 'the account is closed', `lines[${i}].accountId`);
    }
    resolved.push({
      accountId: account.id,
      side: line.side,
      minor,
      unitCode: account.unit.code,
      scale: account.unit.scale,
    });
  }
  // Two lines of one unit moving one amount from one side to the other (most entries) balance:
  // no map of the units to say so.
  const a = resolved[0];
  const b = resolved[1];
  const balanced =
    resolved.length === 2 && a!.unitCode === b!.unitCode && a!.side !== b!.side && a!.minor === b!.minor;
  const imbalance = balanced ? null : unitImbalancesMinor(resolved);
  if (imbalance !== null && imbalance.size > 0) {
    const scaleOf = new Map(resolved.map((l) => [l.unitCode, l.scale]));
    const detail = [...imbalance.entries()]
      .map(([unit, diff]) =>
        diff > 0n
          ? `${unit}: debits exceed credits by ${formatMinor(diff, scaleOf.get(unit)!)}`
          : `${unit}: credits exceed debits by ${formatMinor(-diff, scaleOf.get(unit)!)}`,
      )
      .join('; ');
    return new LedgerError(
      'UNBALANCED_ENTRY',
      `debits must equal credits for every unit (${detail})`,
      'lines',
    );
  }
  return resolved;
}

/** Debits minus credits per unit, for units where they differ. */
export function unitImbalancesMinor(
  lines: readonly { side: Side; minor: bigint; unitCode: string }[],
): Map<string, bigint> {
  const net = new Map<string, bigint>();
  if (lines.length === 2) {
    const [a, b] = lines as [(typeof lines)[0], (typeof lines)[0]];
    if (a.unitCode === b.unitCode && a.side !== b.side && a.minor === b.minor) return net;
  }
  for (const line of lines) {
    const signed = line.side === 'DEBIT' ? line.minor : -line.minor;
    net.set(line.unitCode, (net.get(line.unitCode) ?? 0n) + signed);
  }
  for (const [unit, value] of net) if (value === 0n) net.delete(unit);
  return net;
}

/** moveTotals in minor units: new totals, the input untouched. */
export function moveTotalsMinor(
  totals: MinorTotals,
  movement: Movement,
  side: Side,
  minor: bigint,
): MinorTotals {
  const debit = side === 'DEBIT';
  const next: MinorTotals = {
    postedDebits: totals.postedDebits,
    postedCredits: totals.postedCredits,
    pendingDebits: totals.pendingDebits,
    pendingCredits: totals.pendingCredits,
  };
  switch (movement) {
    case 'POST':
      if (debit) next.postedDebits += minor;
      else next.postedCredits += minor;
      break;
    case 'RESERVE':
      if (debit) next.pendingDebits += minor;
      else next.pendingCredits += minor;
      break;
    case 'COMMIT':
      if (debit) {
        next.pendingDebits -= minor;
        next.postedDebits += minor;
      } else {
        next.pendingCredits -= minor;
        next.postedCredits += minor;
      }
      break;
    case 'RELEASE':
      if (debit) next.pendingDebits -= minor;
      else next.pendingCredits -= minor;
      break;
  }
  invariant(
    next.pendingDebits >= 0n && next.pendingCredits >= 0n,
    'pending totals must never go below zero: a pending entry was resolved twice',
  );
  return next;
}

/** crossesBound in minor units. */
export function crossesBoundMinor(account: MinorAccount, before: MinorTotals, after: MinorTotals): boolean {
  if (account.lowerBound === null && account.upperBound === null) return false;
  const b = balanceViewMinor(account.type, before);
  const a = balanceViewMinor(account.type, after);
  if (account.lowerBound !== null && a.available < account.lowerBound && a.available < b.available)
    return true;
  if (account.upperBound !== null && a.projected > account.upperBound && a.projected > b.projected)
    return true;
  return false;
}

/** applyLines in minor units: the new totals of every touched account, or the first refusal. */
export function applyLinesMinor(
  accounts: { get(id: string): MinorAccount | undefined },
  lines: readonly { accountId: string; side: Side; minor: bigint }[],
  movement: Movement,
): Map<string, MinorTotals> | LedgerError {
  const next = new Map<string, MinorTotals>();
  for (const line of lines) {
    const account = accounts.get(line.accountId);
    invariant(account, `account ${line.accountId} must be loaded before applying lines`);
    const current = next.get(line.accountId) ?? account;
    next.set(line.accountId, moveTotalsMinor(current, movement, line.side, line.minor));
  }
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const account = accounts.get(line.accountId)!;
    const after = next.get(line.accountId)!;
    const limit = totalLimitMinor(account.unit.scale);
    if (
      after.postedDebits >= limit ||
      after.postedCredits >= limit ||
      after.pendingDebits >= limit ||
      after.pendingCredits >= limit
    ) {
      return new LedgerError(
        'INVALID_AMOUNT',
        "the entry would take the account's running totals past 10^20, the largest amount the ledger holds",
        `lines[${i}].amount`,
      );
    }
    if (crossesBoundMinor(account, account, after)) {
      return new LedgerError(
        'BALANCE_BOUND_EXCEEDED',
        'the entry would take the account outside its balance bounds',
        `lines[${i}].accountId`,
      );
    }
  }
  return next;
}

/** BalanceMovement in minor units. */
export interface MinorMovement {
  atMs: number;
  seq: bigint;
  delta: bigint;
}

export interface MinorBoundBreach {
  atMs: number;
  balance: bigint;
  bound: 'lower' | 'upper';
  limit: bigint;
}

/** compareMovements: instant, then entry number. */
export function compareMinorMovements(a: MinorMovement, b: MinorMovement): number {
  if (a.atMs !== b.atMs) return a.atMs - b.atMs;
  return a.seq < b.seq ? -1 : a.seq > b.seq ? 1 : 0;
}

/** firstBoundBreach in minor units. */
export function firstBoundBreachMinor(
  bounds: { lowerBound: bigint | null; upperBound: bigint | null },
  current: bigint,
  later: readonly MinorMovement[],
  atMs: number,
  delta: bigint,
): MinorBoundBreach | null {
  const limit = delta < 0n ? bounds.lowerBound : delta > 0n ? bounds.upperBound : null;
  if (limit === null || delta === 0n) return null;
  const lower = delta < 0n;
  const outside = (balance: bigint) => (lower ? balance < limit : balance > limit);
  let balance = current;
  for (const m of later) balance -= m.delta;
  balance += delta;
  if (outside(balance)) return { atMs, balance, bound: lower ? 'lower' : 'upper', limit };
  for (const m of later) {
    balance += m.delta;
    if (outside(balance)) return { atMs: m.atMs, balance, bound: lower ? 'lower' : 'upper', limit };
  }
  return null;
}
