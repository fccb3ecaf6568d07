/** The records and inputs of the patronage domain: what its use cases take and answer. No logic. */
import type {
  Decimal,
  DepartingRule,
  LossRule,
  NoticeType,
  PatronageMeasureKind,
  PatronagePolicy,
  PatronagePolicyInput,
  Unit,
} from '../core/index.js';

/** Longest idempotency key of a run or payout: its entries' keys add a suffix within the ledger's 128. */
export const PATRONAGE_KEY_LENGTH_MAX = 100;
/** Records per recordPatronage request, and rows per imported CSV file. */
export const PATRONAGE_RECORDS_MAX = 20_000;
/** A record's period is at most this many days (one year, leap years included). */
export const PATRONAGE_PERIOD_DAYS_MAX = 366;

export interface PolicyRecord {
  bookId: string;
  version: number;
  policy: PatronagePolicy;
  createdAt: Date;
  createdBy: string | null;
}

export interface SetPolicyInput extends PatronagePolicyInput {
  bookId: string;
  idempotencyKey?: string | null;
}

export interface PatronageRecordInput {
  membershipId: string;
  measure: string;
  periodStart: string;
  periodEnd: string;
  quantity: string;
}

export interface RecordPatronageInput {
  bookId: string;
  idempotencyKey: string;
  records: PatronageRecordInput[];
}

export interface ImportPatronageInput {
  bookId: string;
  idempotencyKey: string;
  csv: string;
}

export interface PatronageRowError {
  /** Line number in the file (the header is line 1); for recordPatronage the record's index. */
  row: number;
  column: string | null;
  code: string;
  message: string;
}

export interface RecordBatchResult {
  recorded: number;
  replayed: boolean;
  rowErrors: PatronageRowError[];
}

export interface StoredPatronageRecord {
  bookId: string;
  id: string;
  membershipId: string;
  memberNumber: number;
  measure: string;
  periodStart: string;
  periodEnd: string;
  quantity: Decimal;
  createdAt: Date;
}

export type ConsentStatus = 'BYLAW' | 'WRITTEN' | 'NONE';

export interface SetConsentInput {
  bookId: string;
  membershipId: string;
  consented: boolean;
  effectiveOn: string;
}

export interface ConsentRecord {
  bookId: string;
  membershipId: string;
  consented: boolean;
  effectiveOn: string;
  recordedAt: Date;
  recordedBy: string | null;
}

// ---------- runs ----------

export interface RunRequest {
  bookId: string;
  fiscalYear: number;
  /** The net surplus to allocate (negative: a loss); null: from the book (revenue less expenses). */
  surplus?: string | null;
  /** The notices' date and the entries' effective date; default today. */
  allocatedOn?: string | null;
}

export interface CommitRunInput extends RunRequest {
  idempotencyKey: string;
}

export interface MeasureFigure {
  measure: string;
  unit: Unit;
  /** Counted as a member (day-weighted), at the measure's scale (rounded half-even for display). */
  counted: Decimal;
  /** Recorded on days outside membership in the fiscal year: reported, not counted. */
  excluded: Decimal;
}

export interface AllocationLine {
  bookId: string;
  membershipId: string;
  memberNumber: number;
  classCode: string;
  /** The member had left when the run was computed (by its allocation date, or since, before it was committed). */
  former: boolean;
  patronage: MeasureFigure[];
  /** The member's share of the member pool, rounded to 10 decimals for display (the cents use it exactly). */
  share: string;
  allocation: Decimal;
  cash: Decimal;
  retained: Decimal;
  /** The allocation that was not made for being below the policy's minimum (it went to the reserve). */
  belowMinimum: Decimal;
  qualified: boolean;
  consent: ConsentStatus;
  /** Settled so far (stored runs only; zero in a preview). */
  cashPaid: Decimal;
  redeemed: Decimal;
  writtenOff: Decimal;
}

/**
 * A line's fields as a plain object (what a spread copies): a computed run's lines make their
 * Decimals when first read (getters), which `{ ...line }` would leave out.
 */
export function allocationFields(l: AllocationLine): AllocationLine {
  return {
    bookId: l.bookId,
    membershipId: l.membershipId,
    memberNumber: l.memberNumber,
    classCode: l.classCode,
    former: l.former,
    patronage: l.patronage,
    share: l.share,
    allocation: l.allocation,
    cash: l.cash,
    retained: l.retained,
    belowMinimum: l.belowMinimum,
    qualified: l.qualified,
    consent: l.consent,
    cashPaid: l.cashPaid,
    redeemed: l.redeemed,
    writtenOff: l.writtenOff,
  };
}

export interface RunMeasure {
  code: string;
  kind: PatronageMeasureKind;
  unit: Unit;
  weight: Decimal;
  /** Total counted over all members (before class multipliers). */
  total: Decimal;
}

export interface RunFigures {
  bookId: string;
  fiscalYear: number;
  periodStart: string;
  periodEnd: string;
  currency: Unit;
  kind: 'SURPLUS' | 'LOSS';
  surplus: Decimal;
  surplusSource: 'BOOK' | 'GIVEN';
  reserve: Decimal;
  community: Decimal;
  memberPool: Decimal;
  belowMinimum: Decimal;
  cashTotal: Decimal;
  retainedTotal: Decimal;
  allocatedOn: string;
  policyVersion: number;
  noticeType: NoticeType;
  revolvingYears: number;
  lossRule: LossRule;
  departingRule: DepartingRule;
  measures: RunMeasure[];
  /** SHA-256 of the canonical inputs: the same hash always gives the same cents. */
  inputsHash: string;
  /** Every member with patronage recorded in the year, in member-number order. */
  lines: AllocationLine[];
}

export interface RunRecord extends Omit<RunFigures, 'lines'> {
  id: string;
  status: 'COMMITTED' | 'REVERSED';
  idempotencyKey: string;
  entryCount: number;
  createdAt: Date;
  createdBy: string | null;
  reversedAt: Date | null;
  reversedBy: string | null;
  reversalKey: string | null;
  /** Members with an allocation row. */
  memberCount: number;
}

export interface RunResult {
  run: RunRecord;
  replayed: boolean;
}

export interface ReverseRunInput {
  bookId: string;
  runId: string;
  idempotencyKey: string;
}

export interface RunVerification {
  runId: string;
  /** The stored inputs still hash to the stored hash. */
  inputsHashMatches: boolean;
  /** Recomputing from the stored inputs gives the stored pools and every member's cents. */
  figuresMatch: boolean;
  /**
   * Counting the year's records and days of membership again gives the stored inputs (false when
   * records or membership history changed since the run: the run stands as committed).
   */
  recordsUnchanged: boolean;
  mismatches: string[];
}

// ---------- paying out ----------

export type PayMethod = 'CASH' | 'BANK';

export interface PayCashInput {
  bookId: string;
  runId: string;
  paidOn: string;
  method: PayMethod;
  idempotencyKey: string;
}

export interface RedeemInput {
  bookId: string;
  asOf: string;
  /** At most this much in total (in the co-op's currency); null: everything that has revolved. */
  cap?: string | null;
  method: PayMethod;
  idempotencyKey: string;
}

export interface PaymentLine {
  membershipId: string;
  memberNumber: number;
  runId: string;
  fiscalYear: number;
  amount: Decimal;
}

export interface PayoutRecord {
  bookId: string;
  id: string;
  kind: 'CASH' | 'REDEMPTION';
  runId: string | null;
  paidOn: string;
  method: PayMethod;
  total: Decimal;
  cap: Decimal | null;
  entryCount: number;
  idempotencyKey: string;
  createdAt: Date;
  createdBy: string | null;
  payments: PaymentLine[];
  /** Cash parts left payable because the member's total was below the minimum cheque. */
  carried: PaymentLine[];
}

export interface PayoutResult {
  payout: PayoutRecord;
  replayed: boolean;
}

// ---------- documents ----------

export interface NoticeDocument {
  runId: string;
  membershipId: string;
  fileName: string;
  html: string;
  pdf: Buffer;
}

export interface TaxFormRow {
  partyId: string;
  name: string;
  address: string;
  memberNumbers: number[];
  /** Box 1: patronage dividends paid (cash paid in the year + qualified notices issued in it). */
  box1: Decimal;
  /** Box 5: redemptions of non-qualified notices paid in the year. */
  box5: Decimal;
}
