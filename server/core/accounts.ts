/**
 * Accounts and their balances. Balances are kept as four running totals (posted and pending,
 * debits and credits) like TigerBeetle's accounts; everything users see is derived from them in the
 * account's normal direction (debit for assets and expenses, credit for the rest).
 */
import { LedgerError } from './errors.js';
import { type Decimal, parseAmount, type Unit, ZERO } from './money.js';

export const ACCOUNT_TYPES = ['ASSET', 'LIABILITY', 'EQUITY', 'REVENUE', 'EXPENSE'] as const;
export type AccountType = (typeof ACCOUNT_TYPES)[number];
export const SIDES = ['DEBIT', 'CREDIT'] as const;
export type Side = (typeof SIDES)[number];

export function normalSide(type: AccountType): Side {
  return type === 'ASSET' || type === 'EXPENSE' ? 'DEBIT' : 'CREDIT';
}

export function oppositeSide(side: Side): Side {
  return side === 'DEBIT' ? 'CREDIT' : 'DEBIT';
}

export interface AccountTotals {
  postedDebits: Decimal;
  postedCredits: Decimal;
  pendingDebits: Decimal;
  pendingCredits: Decimal;
}

export interface AccountState extends AccountTotals {
  id: string;
  bookId: string;
  type: AccountType;
  unit: Unit;
  /** Lowest the balance may go, in the normal direction. A credit limit is a bound below zero. */
  lowerBound: Decimal | null;
  upperBound: Decimal | null;
  closed: boolean;
}

export const ZERO_TOTALS: AccountTotals = {
  postedDebits: ZERO,
  postedCredits: ZERO,
  pendingDebits: ZERO,
  pendingCredits: ZERO,
};

export interface BalanceView {
  /** Posted balance in the account's normal direction. */
  posted: Decimal;
  /** Pending movement that would raise the balance if it posts. */
  pendingIncrease: Decimal;
  /** Pending movement that would lower the balance if it posts. */
  pendingDecrease: Decimal;
  /** Posted less every pending decrease: the lowest the balance can go if all pending entries post. */
  available: Decimal;
  /** Posted plus every pending increase: the highest the balance can go. */
  projected: Decimal;
}

export function balanceView(type: AccountType, totals: AccountTotals): BalanceView {
  const debitNormal = normalSide(type) === 'DEBIT';
  const posted = debitNormal
    ? totals.postedDebits.minus(totals.postedCredits)
    : totals.postedCredits.minus(totals.postedDebits);
  const pendingIncrease = debitNormal ? totals.pendingDebits : totals.pendingCredits;
  const pendingDecrease = debitNormal ? totals.pendingCredits : totals.pendingDebits;
  return {
    posted,
    pendingIncrease,
    pendingDecrease,
    available: posted.minus(pendingDecrease),
    projected: posted.plus(pendingIncrease),
  };
}

/** Signed effect of one movement on the normal-direction balance. */
export function signedAmount(type: AccountType, side: Side, amount: Decimal): Decimal {
  return side === normalSide(type) ? amount : amount.negated();
}

export interface AccountDraft {
  code: string;
  name: string;
  type: AccountType;
  unit: Unit;
  lowerBound: string | null;
  upperBound: string | null;
}

const ACCOUNT_CODE = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/;
export const ACCOUNT_NAME_LENGTH_MAX = 200;

/** Validates a new account; returns the parsed bounds or the first problem. */
export function validateAccountDraft(
  draft: AccountDraft,
): { lowerBound: Decimal | null; upperBound: Decimal | null } | LedgerError {
  if (!ACCOUNT_CODE.test(draft.code)) {
    return new LedgerError(
      'INVALID_INPUT',
      'account code must be 1 to 64 characters of letters, digits and _ . : - starting with a letter or digit',
      'code',
    );
  }
  const name = draft.name.trim();
  if (name.length === 0 || draft.name.length > ACCOUNT_NAME_LENGTH_MAX) {
    return new LedgerError(
      'INVALID_INPUT',
      `account name must be 1 to ${ACCOUNT_NAME_LENGTH_MAX} characters`,
      'name',
    );
  }
  if (!ACCOUNT_TYPES.includes(draft.type)) {
    return new LedgerError(
      'INVALID_INPUT',
      `account type must be one of ${ACCOUNT_TYPES.join(', ')}`,
      'type',
    );
  }
  let lowerBound: Decimal | null = null;
  let upperBound: Decimal | null = null;
  if (draft.lowerBound !== null) {
    const parsed = parseAmount(draft.lowerBound, draft.unit, 'lowerBound', {
      allowNegative: true,
      allowZero: true,
    });
    if (parsed instanceof LedgerError) return parsed;
    lowerBound = parsed;
  }
  if (draft.upperBound !== null) {
    const parsed = parseAmount(draft.upperBound, draft.unit, 'upperBound', {
      allowNegative: true,
      allowZero: true,
    });
    if (parsed instanceof LedgerError) return parsed;
    upperBound = parsed;
  }
  if (lowerBound && upperBound && lowerBound.greaterThan(upperBound)) {
    return new LedgerError('INVALID_INPUT', 'lowerBound must not be greater than upperBound', 'lowerBound');
  }
  // A new account starts at zero, so its bounds must admit zero.
  if (lowerBound?.greaterThan(0) || upperBound?.lessThan(0)) {
    return new LedgerError(
      'INVALID_INPUT',
      'bounds must admit a zero balance (lowerBound <= 0 <= upperBound) since accounts open at zero',
      lowerBound?.greaterThan(0) ? 'lowerBound' : 'upperBound',
    );
  }
  return { lowerBound, upperBound };
}
