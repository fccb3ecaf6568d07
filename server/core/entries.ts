/**
 * Journal entries: validation of what a client sends, resolution against the accounts it names,
 * and the effect on account totals with bound checks. Pure: the caller supplies the accounts and
 * the clock.
 */
import {
  type AccountState,
  type AccountTotals,
  balanceView,
  oppositeSide,
  SIDES,
  type Side,
} from './accounts.js';
import { invariant, LedgerError } from './errors.js';
import { type Decimal, formatAmount, parseAmount, TOTAL_LIMIT, ZERO } from './money.js';

export const ENTRY_KINDS = ['STANDARD', 'REVERSAL', 'PENDING', 'COMMIT', 'VOID'] as const;
export type EntryKind = (typeof ENTRY_KINDS)[number];

/** How an entry's lines move account totals. */
export type Movement = 'POST' | 'RESERVE' | 'COMMIT' | 'RELEASE';

export const LIMITS = {
  linesPerEntryMin: 2,
  linesPerEntryMax: 100,
  memoLengthMax: 1000,
  metadataKeysMax: 50,
  metadataKeyLengthMax: 40,
  metadataValueLengthMax: 500,
  idempotencyKeyLengthMax: 128,
  /** Entries may be future-dated by at most this much, to absorb clock skew between clients. */
  effectiveAtFutureToleranceMs: 60_000,
  /** Pending entries expire at most this far ahead. */
  pendingTimeoutMaxMs: 366 * 24 * 3600 * 1000,
  entriesPerBatchMax: 1000,
} as const;

export interface LineInput {
  accountId: string;
  side: Side;
  amount: string;
  unit: string;
}

export interface MetadataEntry {
  key: string;
  value: string;
}

export interface EntryInput {
  idempotencyKey: string;
  lines: LineInput[];
  effectiveAt: Date | null;
  memo: string | null;
  metadata: MetadataEntry[] | null;
}

export interface ResolvedLine {
  accountId: string;
  side: Side;
  amount: Decimal;
  unitCode: string;
  scale: number;
}

const IDEMPOTENCY_KEY = /^[\x21-\x7e]+$/;
const METADATA_KEY = /^[A-Za-z0-9_.:-]+$/;

export function validateIdempotencyKey(key: string, field = 'idempotencyKey'): LedgerError | null {
  if (typeof key !== 'string' || key.length === 0 || key.length > LIMITS.idempotencyKeyLengthMax) {
    return new LedgerError(
      'INVALID_IDEMPOTENCY_KEY',
      `idempotencyKey must be 1 to ${LIMITS.idempotencyKeyLengthMax} characters`,
      field,
    );
  }
  if (!IDEMPOTENCY_KEY.test(key)) {
    return new LedgerError(
      'INVALID_IDEMPOTENCY_KEY',
      'idempotencyKey must be printable ASCII without spaces',
      field,
    );
  }
  return null;
}

export function validateMemo(memo: string | null, field = 'memo'): LedgerError | null {
  if (memo !== null && memo.length > LIMITS.memoLengthMax) {
    return new LedgerError('INVALID_INPUT', `memo must be at most ${LIMITS.memoLengthMax} characters`, field);
  }
  return null;
}

/** Metadata is a string map: at most 50 keys of 1-40 characters, values of at most 500. */
export function validateMetadata(
  metadata: MetadataEntry[] | null,
  field = 'metadata',
): Record<string, string> | LedgerError {
  // A Map, then Object.fromEntries: plain assignment would send a "__proto__" key to the setter.
  if (metadata === null) return {};
  const result = new Map<string, string>();
  if (metadata.length > LIMITS.metadataKeysMax) {
    return new LedgerError(
      'INVALID_METADATA',
      `metadata may have at most ${LIMITS.metadataKeysMax} keys`,
      field,
    );
  }
  for (const [i, { key, value }] of metadata.entries()) {
    if (key.length === 0 || key.length > LIMITS.metadataKeyLengthMax || !METADATA_KEY.test(key)) {
      return new LedgerError(
        'INVALID_METADATA',
        `metadata keys must be 1 to ${LIMITS.metadataKeyLengthMax} characters of letters, digits and _ . : -`,
        `${field}[${i}].key`,
      );
    }
    if (value.length > LIMITS.metadataValueLengthMax) {
      return new LedgerError(
        'INVALID_METADATA',
        `metadata values must be at most ${LIMITS.metadataValueLengthMax} characters`,
        `${field}[${i}].value`,
      );
    }
    if (result.has(key)) {
      return new LedgerError('INVALID_METADATA', `metadata key "${key}" appears twice`, `${field}[${i}].key`);
    }
    result.set(key, value);
  }
  return Object.fromEntries(result);
}

/**
 * When an entry may count: not before the book's backdating window, not meaningfully in the future
 * (an entry counts in the current balance the moment it is posted).
 */
export function validateEffectiveAt(
  effectiveAt: Date,
  now: Date,
  maxBackdateDays: number,
  field = 'effectiveAt',
): LedgerError | null {
  const t = effectiveAt.getTime();
  if (Number.isNaN(t))
    return new LedgerError('INVALID_EFFECTIVE_AT', 'effectiveAt is not a valid instant', field);
  if (t > now.getTime() + LIMITS.effectiveAtFutureToleranceMs) {
    return new LedgerError('INVALID_EFFECTIVE_AT', 'effectiveAt must not be in the future', field);
  }
  const earliest = now.getTime() - maxBackdateDays * 24 * 3600 * 1000;
  if (t < earliest) {
    return new LedgerError(
      'INVALID_EFFECTIVE_AT',
      `effectiveAt may be at most ${maxBackdateDays} days in the past for this book`,
      field,
    );
  }
  return null;
}

export function validateExpiresAt(
  expiresAt: Date | null,
  now: Date,
  field = 'expiresAt',
): LedgerError | null {
  if (expiresAt === null) return null;
  const t = expiresAt.getTime();
  if (Number.isNaN(t) || t <= now.getTime()) {
    return new LedgerError('INVALID_INPUT', 'expiresAt must be in the future', field);
  }
  if (t > now.getTime() + LIMITS.pendingTimeoutMaxMs) {
    return new LedgerError('INVALID_INPUT', 'expiresAt must be within 366 days', field);
  }
  return null;
}

/** Checks what can be checked without the accounts: counts, sides, lengths, key format. */
export function validateEntryShape(input: EntryInput): LedgerError | null {
  const keyError = validateIdempotencyKey(input.idempotencyKey);
  if (keyError) return keyError;
  if (input.lines.length < LIMITS.linesPerEntryMin || input.lines.length > LIMITS.linesPerEntryMax) {
    return new LedgerError(
      'INVALID_INPUT',
      `an entry has ${LIMITS.linesPerEntryMin} to ${LIMITS.linesPerEntryMax} lines`,
      'lines',
    );
  }
  for (let i = 0; i < input.lines.length; i++) {
    const line = input.lines[i]!;
    if (!SIDES.includes(line.side)) {
      return new LedgerError('INVALID_INPUT', 'side must be DEBIT or CREDIT', `lines[${i}].side`);
    }
  }
  const memoError = validateMemo(input.memo);
  if (memoError) return memoError;
  const metadata = validateMetadata(input.metadata);
  if (metadata instanceof LedgerError) return metadata;
  return null;
}

/**
 * Resolves lines against their accounts: every account known and open, units as stated, amounts
 * positive and within the unit's scale, debits equal to credits for every unit.
 */
export function resolveLines(
  lines: LineInput[],
  accounts: ReadonlyMap<string, AccountState>,
  options: { allowClosed?: boolean } = {},
): ResolvedLine[] | LedgerError {
  const resolved: ResolvedLine[] = [];
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
    const amount = parseAmount(line.amount, account.unit, `lines[${i}].amount`);
    if (amount instanceof LedgerError) return amount;
    if (account.closed && !options.allowClosed) {
      return new LedgerError('ACCOUNT_CLOSED', 'the account is closed', `lines[${i}].accountId`);
    }
    resolved.push({
      accountId: account.id,
      side: line.side,
      amount,
      unitCode: account.unit.code,
      scale: account.unit.scale,
    });
  }
  const imbalance = unitImbalances(resolved);
  if (imbalance.size > 0) {
    // Amounts in messages are written at their unit's scale, as everywhere ("1.00", not "1").
    const scaleOf = new Map(resolved.map((l) => [l.unitCode, l.scale]));
    const detail = [...imbalance.entries()]
      .map(([unit, diff]) =>
        diff.isPositive()
          ? `${unit}: debits exceed credits by ${formatAmount(diff, scaleOf.get(unit)!)}`
          : `${unit}: credits exceed debits by ${formatAmount(diff.negated(), scaleOf.get(unit)!)}`,
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

/**
 * An account on both sides of one entry moves by the difference only: the entry would show
 * movements that never happened (and a reversal would mirror them), so it is refused, naming the
 * line that puts the account on its other side; post the net amount on one side. Several lines on
 * the same side of one account are fine (a split). Checked on resolved lines, once every account
 * is known to exist.
 */
export function accountOnBothSides(lines: readonly { accountId: string; side: Side }[]): LedgerError | null {
  const sideOf = new Map<string, Side>();
  for (const [i, line] of lines.entries()) {
    const other = sideOf.get(line.accountId);
    if (other !== undefined && other !== line.side) {
      return new LedgerError(
        'INVALID_INPUT',
        'an account is on both sides of this entry: post its net amount on one side',
        `lines[${i}].accountId`,
      );
    }
    sideOf.set(line.accountId, line.side);
  }
  return null;
}

/** Debits minus credits per unit, for units where they differ. */
export function unitImbalances(
  lines: readonly { side: Side; amount: Decimal; unitCode: string }[],
): Map<string, Decimal> {
  const net = new Map<string, Decimal>();
  // Two lines of one unit on opposite sides (most entries): balanced when the amounts are equal,
  // decided without summing (no Decimal made).
  if (lines.length === 2) {
    const [a, b] = lines as [(typeof lines)[0], (typeof lines)[0]];
    if (a.unitCode === b.unitCode && a.side !== b.side && a.amount.eq(b.amount)) return net;
  }
  for (const line of lines) {
    const signed = line.side === 'DEBIT' ? line.amount : line.amount.negated();
    net.set(line.unitCode, (net.get(line.unitCode) ?? ZERO).plus(signed));
  }
  for (const [unit, value] of net) if (value.isZero()) net.delete(unit);
  return net;
}

/** The lines of a reversal: every line of the original on the other side. */
export function reversalLines<T extends { side: Side }>(lines: readonly T[]): T[] {
  return lines.map((line) => ({ ...line, side: oppositeSide(line.side) }));
}

/** Applies one movement of one line to totals, returning new totals. */
export function moveTotals(
  totals: AccountTotals,
  movement: Movement,
  side: Side,
  amount: Decimal,
): AccountTotals {
  const debit = side === 'DEBIT';
  // The four totals only (a caller may pass a whole account row).
  const next: AccountTotals = {
    postedDebits: totals.postedDebits,
    postedCredits: totals.postedCredits,
    pendingDebits: totals.pendingDebits,
    pendingCredits: totals.pendingCredits,
  };
  switch (movement) {
    case 'POST':
      if (debit) next.postedDebits = next.postedDebits.plus(amount);
      else next.postedCredits = next.postedCredits.plus(amount);
      break;
    case 'RESERVE':
      if (debit) next.pendingDebits = next.pendingDebits.plus(amount);
      else next.pendingCredits = next.pendingCredits.plus(amount);
      break;
    case 'COMMIT':
      if (debit) {
        next.pendingDebits = next.pendingDebits.minus(amount);
        next.postedDebits = next.postedDebits.plus(amount);
      } else {
        next.pendingCredits = next.pendingCredits.minus(amount);
        next.postedCredits = next.postedCredits.plus(amount);
      }
      break;
    case 'RELEASE':
      if (debit) next.pendingDebits = next.pendingDebits.minus(amount);
      else next.pendingCredits = next.pendingCredits.minus(amount);
      break;
  }
  invariant(
    !next.pendingDebits.isNegative() && !next.pendingCredits.isNegative(),
    'pending totals must never go below zero: a pending entry was resolved twice',
  );
  return next;
}

/**
 * True when `after` takes the account outside a bound in a direction `before` was not already in.
 * Bounds apply to the worst case: the lower bound to the balance if every pending decrease posts,
 * the upper bound to the balance if every pending increase posts. A movement that does not make
 * the worst case worse is never rejected, so releasing or committing a reservation always succeeds.
 */
export function crossesBound(account: AccountState, before: AccountTotals, after: AccountTotals): boolean {
  // No bound, nothing to cross (most accounts): no balances computed.
  if (account.lowerBound === null && account.upperBound === null) return false;
  const b = balanceView(account.type, before);
  const a = balanceView(account.type, after);
  if (
    account.lowerBound !== null &&
    a.available.lessThan(account.lowerBound) &&
    a.available.lessThan(b.available)
  ) {
    return true;
  }
  if (
    account.upperBound !== null &&
    a.projected.greaterThan(account.upperBound) &&
    a.projected.greaterThan(b.projected)
  ) {
    return true;
  }
  return false;
}

/**
 * Applies an entry's lines to the accounts' current totals. Returns the new totals of every touched
 * account, or BALANCE_BOUND_EXCEEDED naming the first account pushed past a bound. Never mutates
 * its inputs, so a caller can drop a rejected entry and keep going.
 */
export function applyLines(
  accounts: ReadonlyMap<string, AccountState>,
  lines: readonly { accountId: string; side: Side; amount: Decimal }[],
  movement: Movement,
): Map<string, AccountTotals> | LedgerError {
  const next = new Map<string, AccountTotals>();
  for (const line of lines) {
    const account = accounts.get(line.accountId);
    invariant(account, `account ${line.accountId} must be loaded before applying lines`);
    const current = next.get(line.accountId) ?? account;
    next.set(line.accountId, moveTotals(current, movement, line.side, line.amount));
  }
  for (const [i, line] of lines.entries()) {
    const account = accounts.get(line.accountId)!;
    const after = next.get(line.accountId)!;
    if (
      after.postedDebits.gte(TOTAL_LIMIT) ||
      after.postedCredits.gte(TOTAL_LIMIT) ||
      after.pendingDebits.gte(TOTAL_LIMIT) ||
      after.pendingCredits.gte(TOTAL_LIMIT)
    ) {
      return new LedgerError(
        'INVALID_AMOUNT',
        "the entry would take the account's running totals past 10^20, the largest amount the ledger holds",
        `lines[${i}].amount`,
      );
    }
    if (crossesBound(account, account, after)) {
      return new LedgerError(
        'BALANCE_BOUND_EXCEEDED',
        'the entry would take the account outside its balance bounds',
        `lines[${i}].accountId`,
      );
    }
  }
  return next;
}

export function movementForKind(kind: EntryKind): Movement | null {
  switch (kind) {
    case 'STANDARD':
    case 'REVERSAL':
      return 'POST';
    case 'PENDING':
      return 'RESERVE';
    case 'COMMIT':
      return 'COMMIT';
    case 'VOID':
      return 'RELEASE';
  }
}
