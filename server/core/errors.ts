/**
 * Domain rejections. Expected failures are values with a stable code (they become `userErrors` in
 * the API); programmer errors and broken invariants throw `InvariantError` instead.
 */
export const ERROR_CODES = [
  'UNBALANCED_ENTRY',
  'UNKNOWN_ACCOUNT',
  'UNKNOWN_BOOK',
  'UNKNOWN_ENTRY',
  'UNKNOWN_UNIT',
  'UNIT_MISMATCH',
  'INVALID_AMOUNT',
  'INVALID_UNIT',
  'INVALID_INPUT',
  'INVALID_METADATA',
  'INVALID_EFFECTIVE_AT',
  'INVALID_IDEMPOTENCY_KEY',
  'INVALID_PARENT',
  'DUPLICATE_CODE',
  'ACCOUNT_CLOSED',
  'ACCOUNT_NOT_EMPTY',
  'BALANCE_BOUND_EXCEEDED',
  'ALREADY_REVERSED',
  'NOT_REVERSIBLE',
  'NOT_PENDING',
  'IDEMPOTENCY_KEY_REUSED',
  'PENDING_ALREADY_RESOLVED',
  'PENDING_EXPIRED',
  'BATCH_ITEM_FAILED',
  'BATCH_TOO_LARGE',
  'UNKNOWN_COOP',
  'UNKNOWN_MEMBER_CLASS',
  'UNKNOWN_PARTY',
  'UNKNOWN_MEMBERSHIP',
  'DUPLICATE_MEMBER_CLASS',
  'ALREADY_MEMBER',
  'ILLEGAL_TRANSITION',
  'INVALID_DATE',
  'MEMBERSHIP_ENDED',
  'PAYMENT_EXCEEDS_OUTSTANDING',
  'NOTHING_OUTSTANDING',
  'NOT_TRANSFERABLE',
  'INSUFFICIENT_SHARES',
  'INVALID_CSV',
  'NO_PATRONAGE_POLICY',
  'NO_ELIGIBLE_PATRONAGE',
  'NOTHING_TO_ALLOCATE',
  'UNKNOWN_PATRONAGE_RUN',
  'PATRONAGE_RUN_EXISTS',
  'PATRONAGE_RUN_SETTLED',
  'PATRONAGE_PERIOD_OVERLAP',
  'UNKNOWN_MEASURE',
  'ALREADY_PAID',
  'NOTHING_TO_PAY',
  'UNKNOWN_NETWORK',
  'UNKNOWN_NETWORK_MEMBER',
  'ALREADY_NETWORK_MEMBER',
  'UNKNOWN_PAYMENT_REQUEST',
  'PAYMENT_REQUEST_NOT_OPEN',
  'PAYMENT_REQUEST_EXPIRED',
  'NOT_OBLIGATION_DEBTOR',
  'DUPLICATE_OBLIGATION',
  'CLEARING_STALE',
  'NOTHING_TO_CLEAR',
  'LIQUIDITY_NOT_AVAILABLE',
  // The treasurer's desk (issue 17): bank statements, matching and reconciliation.
  'INVALID_BANK_ACCOUNT',
  'INVALID_BANK_FILE',
  'BANK_MAPPING_REQUIRED',
  'UNKNOWN_BANK_STATEMENT',
  'UNKNOWN_BANK_LINE',
  'UNKNOWN_BANK_RULE',
  'LINE_ALREADY_MATCHED',
  'ENTRY_ALREADY_MATCHED',
  'MATCH_AMOUNT_MISMATCH',
  'UNKNOWN_RECONCILIATION',
  'RECONCILIATION_PERIOD',
  'STATEMENT_BALANCE_REQUIRED',
  'RECONCILIATION_NOT_BALANCED',
  'RECONCILIATION_CLOSED',
  // City reporting (issue 15).
  'UNKNOWN_RELEASE',
  'NO_RELEASE',
  'RELEASE_UP_TO_DATE',
  'RELEASE_NOT_PROTECTED',
  // Another publish of the city is being computed (by this process or another).
  'RELEASE_IN_PROGRESS',
  'QUERY_TOO_LARGE',
  // An entry of an INDEPENDENT batch the service failed on (the database refused it unexpectedly):
  // that entry alone is not posted, the batch's others are answered as decided.
  'ENTRY_NOT_POSTED',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export class LedgerError {
  readonly code: ErrorCode;
  readonly message: string;
  /** Path of the offending input field, for example `lines[1].amount`; null when not one field. */
  readonly field: string | null;

  constructor(code: ErrorCode, message: string, field: string | null = null) {
    this.code = code;
    this.message = message;
    this.field = field;
  }

  withFieldPrefix(prefix: string): LedgerError {
    const field = this.field ? `${prefix}.${this.field}` : prefix;
    return new LedgerError(this.code, this.message, field);
  }
}

/** A broken invariant: a bug, never a user's mistake. Thrown, never returned. */
export class InvariantError extends Error {
  override name = 'InvariantError';
}

export function invariant(condition: unknown, message: string): asserts condition {
  if (!condition) throw new InvariantError(message);
}

/**
 * A use case was called by a principal it never serves (an admin-only one by a non-admin). The API
 * refuses such callers on the schema (scope-auth) before any use case runs, so through GraphQL this
 * is never reached; a direct caller gets it thrown, like any other programmer error.
 */
export class ForbiddenError extends Error {
  override name = 'ForbiddenError';
  readonly code = 'FORBIDDEN';
}
