/** The records and inputs of the mutual-credit domain: what its use cases take and answer. No logic. */
import type { CreditPolicy, CreditPolicyInput, Decimal, Unit } from '../core/index.js';
import type { EntryRecord } from '../ledger/index.js';

/** Longest idempotency key of a request whose entries' keys add a suffix (within the ledger's 128). */
export const CREDIT_KEY_LENGTH_MAX = 100;
/** Obligations per recordObligations request, and rows per imported CSV file. */
export const OBLIGATIONS_PER_REQUEST_MAX = 20_000;
/** A payment request is open at most this long (and by default 30 days). */
export const REQUEST_DAYS_MAX = 366;
export const REQUEST_DAYS_DEFAULT = 30;
/** A hold (a request accepted through a two-phase entry) lasts at most this long (default 7 days). */
export const HOLD_DAYS_MAX = 90;
export const HOLD_DAYS_DEFAULT = 7;
/** Months one statistics request spans at most. */
export const STATISTICS_MONTHS_MAX = 36;

export interface Peg {
  currency: string;
  /** Value of one unit in the currency. */
  rate: Decimal;
}

export interface CreditPolicyRecord {
  bookId: string;
  version: number;
  policy: CreditPolicy;
  reason: string;
  createdAt: Date;
  createdBy: string;
}

export interface NetworkRecord {
  /** The network's book id. */
  id: string;
  name: string;
  unit: Unit;
  peg: Peg | null;
  /** Currencies obligations may be recorded in. */
  currencies: Unit[];
  clearingAccountId: string;
  memberCount: number;
  createdAt: Date;
  createdBy: string;
}

export interface CreateNetworkInput {
  name: string;
  unit: Unit;
  peg?: { currency: string; rate: string } | null;
  currencies?: Unit[] | null;
  policy: CreditPolicyInput;
  idempotencyKey?: string | null;
}

export interface MemberRecord {
  bookId: string;
  id: string;
  number: number;
  coopId: string;
  coopName: string;
  accountId: string;
  accountCode: string;
  /** The credit limit: the balance may go down to minus this. */
  limit: Decimal;
  upperBound: Decimal | null;
  limitMode: 'POLICY' | 'MANUAL';
  balance: Decimal;
  /** Balance less pending payments out (holds). */
  available: Decimal;
  projected: Decimal;
  joinedAt: Date;
  joinedBy: string;
}

export interface JoinNetworkInput {
  bookId: string;
  coopId: string;
  /** Default: the policy's default limit. */
  limit?: string | null;
  upperBound?: string | null;
  idempotencyKey?: string | null;
}

export interface SetLimitInput {
  bookId: string;
  memberId: string;
  /** null: back to the policy (its default, or its dynamic limit). */
  limit: string | null;
  upperBound?: string | null;
  reason: string;
  idempotencyKey: string;
}

export type LimitSource = 'JOIN' | 'STEWARD' | 'POLICY';

export interface LimitChangeRecord {
  bookId: string;
  id: string;
  memberId: string;
  limitBefore: Decimal | null;
  limitAfter: Decimal;
  upperBefore: Decimal | null;
  upperAfter: Decimal | null;
  source: LimitSource;
  reason: string;
  changedAt: Date;
  changedBy: string;
}

export interface SetPolicyInput {
  bookId: string;
  policy: CreditPolicyInput;
  reason: string;
  idempotencyKey?: string | null;
}

export interface PayInput {
  bookId: string;
  payerId: string;
  payeeId: string;
  amount: string;
  memo?: string | null;
  idempotencyKey: string;
}

export interface PaymentResult {
  entry: EntryRecord;
  replayed: boolean;
  /** Set when the payment left the payer below its soft limit. */
  warning: string | null;
}

export type RequestStatus =
  | 'OPEN'
  | 'PAID'
  | 'HELD'
  | 'COMPLETED'
  | 'RELEASED'
  | 'DECLINED'
  | 'CANCELLED'
  | 'EXPIRED';

export interface PaymentRequestRecord {
  bookId: string;
  id: string;
  payerId: string;
  payeeId: string;
  amount: Decimal;
  memo: string;
  /** EXPIRED: open past its expiry (or held past the hold's). */
  status: RequestStatus;
  expiresAt: Date;
  holdExpiresAt: Date | null;
  /** Key of the payment (or hold) entry once accepted. */
  entryKey: string | null;
  createdAt: Date;
  createdBy: string;
  decidedAt: Date | null;
  decidedBy: string | null;
  decisionReason: string | null;
  resolvedAt: Date | null;
  resolvedBy: string | null;
}

export interface CreateRequestInput {
  bookId: string;
  payeeId: string;
  payerId: string;
  amount: string;
  memo?: string | null;
  expiresAt?: Date | null;
  idempotencyKey: string;
}

export interface RequestActionInput {
  bookId: string;
  requestId: string;
  idempotencyKey: string;
  /** accept: through a two-phase hold. */
  hold?: boolean | null;
  holdExpiresAt?: Date | null;
  /** decline, cancel, release: why. */
  reason?: string | null;
}

export interface RequestResult {
  request: PaymentRequestRecord;
  entry: EntryRecord | null;
  replayed: boolean;
  warning: string | null;
}

export interface ObligationInputRow {
  debtorId: string;
  creditorId: string;
  currency: string;
  amount: string;
  dueOn: string;
  reference: string;
}

export interface RecordObligationsInput {
  bookId: string;
  obligations: ObligationInputRow[];
  idempotencyKey: string;
}

export interface ImportObligationsInput {
  bookId: string;
  csv: string;
  idempotencyKey: string;
}

export interface ObligationRowError {
  /** Index in the request, or the CSV line (header = 1). */
  row: number;
  column: string | null;
  code: string;
  message: string;
}

export interface RecordObligationsResult {
  recorded: number;
  replayed: boolean;
  rowErrors: ObligationRowError[];
}

export interface ObligationRecord {
  bookId: string;
  id: string;
  debtorId: string;
  creditorId: string;
  currency: Unit;
  amount: Decimal;
  outstanding: Decimal;
  dueOn: string;
  reference: string;
  recordedAt: Date;
  recordedBy: string;
}

export type ClearingMode = 'SETOFF' | 'SETOFF_AND_LIQUIDITY';

export interface ClearingRequest {
  bookId: string;
  currency: string;
  mode: ClearingMode;
}

export interface CommitClearingInput extends ClearingRequest {
  idempotencyKey: string;
  /** The preview's snapshotHash: refuse (CLEARING_STALE) when the open obligations changed since. */
  snapshotHash?: string | null;
}

export interface ClearingLine {
  obligationId: string;
  debtorId: string;
  creditorId: string;
  dueOn: string;
  reference: string;
  outstanding: Decimal;
  setoff: Decimal;
  liquidity: Decimal;
}

/**
 * A plan's lines, paged by obligation id: a plan of 140,000 obligations is held as columns, and a
 * page's lines are made (due dates and references read) only when asked for.
 */
export interface ClearingLines {
  /** Obligations with something cleared. */
  count: number;
  /** Lines with ids after `after` and before `before` (exclusive), at most `limit`; descending when `backward`. */
  page(q: {
    after: string | null;
    before: string | null;
    limit: number;
    backward: boolean;
  }): Promise<ClearingLine[]>;
}

export interface ClearingMemberLine {
  memberId: string;
  positionBefore: Decimal;
  positionAfter: Decimal;
  /** Paid in the network unit by the liquidity mode (negative: received), in the currency. */
  networkPayment: Decimal;
}

export interface ClearingFigures {
  bookId: string;
  currency: Unit;
  mode: ClearingMode;
  obligationsConsidered: number;
  outstandingBefore: Decimal;
  setoffTotal: Decimal;
  liquidityTotal: Decimal;
  outstandingAfter: Decimal;
  netInternalDebtBefore: Decimal;
  netInternalDebtAfter: Decimal;
  liquidityUsed: Decimal;
  /** SHA-256 of the open obligations the figures were computed from. */
  snapshotHash: string;
  /** Obligations with something cleared, read a page at a time. */
  lines: ClearingLines;
  members: ClearingMemberLine[];
}

export interface ClearingRecord extends Omit<ClearingFigures, 'lines' | 'members'> {
  id: string;
  entryCount: number;
  committedAt: Date;
  committedBy: string;
}

export interface ClearingResult {
  clearing: ClearingRecord;
  replayed: boolean;
}

export interface BalanceProof {
  bookId: string;
  asOf: Date;
  unit: Unit;
  accounts: number;
  sum: Decimal;
  positive: Decimal;
  negative: Decimal;
  holds: boolean;
}

export interface MonthStatistics {
  month: string;
  payments: number;
  volume: Decimal;
  activeAccounts: number;
  /** Volume over the sum of positive balances at the month's end (null when none are positive). */
  velocity: Decimal | null;
  positiveBalancesAtEnd: Decimal;
}

export interface NetworkStatistics {
  bookId: string;
  unit: Unit;
  from: string;
  to: string;
  months: MonthStatistics[];
  paymentsTotal: number;
  volumeTotal: Decimal;
  members: number;
  balances: { band: string; count: number }[];
  positiveBalances: Decimal;
  negativeBalances: Decimal;
  clearings: { currency: string; count: number; setoff: Decimal; liquidity: Decimal }[];
}

export interface CreditTransaction {
  entry: EntryRecord;
  /** The member's net movement in the entry (received positive). */
  amount: Decimal;
  /** The other member of a two-party payment; null for clearing entries and holds' voids. */
  counterpartyId: string | null;
}
