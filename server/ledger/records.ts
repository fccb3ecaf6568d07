/** The records and inputs of the ledger's use cases. No logic. */
import type { AccountType, Decimal, MetadataEntry, Unit } from '../core/index.js';
import type { AccountRow } from './store.js';

export interface BookRecord {
  id: string;
  name: string;
  description: string;
  maxBackdateDays: number;
  entryCount: string;
  lastHash: string;
  createdAt: Date;
  units: Unit[];
}

export interface CreateBookInput {
  name: string;
  description: string | null;
  units: Unit[];
  maxBackdateDays: number | null;
}

export interface CreateAccountInput {
  bookId: string;
  code: string;
  name: string;
  type: AccountType;
  unit: string;
  parentId: string | null;
  lowerBound: string | null;
  upperBound: string | null;
}

export interface RefInput {
  bookId: string;
  entryId: string;
  idempotencyKey: string;
  effectiveAt: Date | null;
  memo: string | null;
  metadata: MetadataEntry[] | null;
}

export interface BalanceRecord {
  account: AccountRow;
  asOf: Date | null;
  debits: Decimal;
  credits: Decimal;
  posted: Decimal;
  /** Null for a historical balance: pending state is only known for now. */
  pendingDebits: Decimal | null;
  pendingCredits: Decimal | null;
  available: Decimal | null;
  projected: Decimal | null;
}

export interface TrialBalanceLine {
  account: AccountRow;
  debits: Decimal;
  credits: Decimal;
  /** Net balance on the debit side (debits > credits), else zero. */
  debitBalance: Decimal;
  creditBalance: Decimal;
}

export interface TrialBalanceUnit {
  unit: Unit;
  debitBalanceTotal: Decimal;
  creditBalanceTotal: Decimal;
  balanced: boolean;
}

export interface TrialBalance {
  bookId: string;
  asOf: Date | null;
  lines: TrialBalanceLine[];
  units: TrialBalanceUnit[];
  balanced: boolean;
}

export interface ChainVerification {
  bookId: string;
  ok: boolean;
  entriesChecked: number;
  headHash: string;
  firstMismatch: { entryId: string | null; seq: string; reason: string } | null;
}

export interface ConsistencyReport {
  ok: boolean;
  accountsChecked: number;
  mismatches: { accountId: string; field: string; stored: string; fromLines: string }[];
}

/** What an audit compares: an account's four running totals, or one UTC day's posted movement. */
export type AuditField =
  | 'POSTED_DEBITS'
  | 'POSTED_CREDITS'
  | 'PENDING_DEBITS'
  | 'PENDING_CREDITS'
  | 'DAY_DEBITS'
  | 'DAY_CREDITS';

export interface AuditMismatch {
  account: AccountRow;
  field: AuditField;
  /** The UTC day (YYYY-MM-DD) of a day total; null for the account's running totals. */
  day: string | null;
  stored: Decimal;
  recomputed: Decimal;
}

export type OpenPendingMismatchKind = 'MISSING_ROW' | 'EXTRA_ROW' | 'WRONG_EXPIRES_AT';

/** A difference between the open-pending table (pending_open) and the journal. */
export interface OpenPendingMismatch {
  kind: OpenPendingMismatchKind;
  entryId: string;
  seq: string;
  /** The row's expires_at (null: no row, or a row with none). */
  stored: Date | null;
  /** The pending entry's expires_at in the journal (null: not an open pending entry, or none). */
  fromJournal: Date | null;
}

export interface BookAudit {
  bookId: string;
  /** The chain verifies, every stored total equals what the lines make, and the open-pending table the journal. */
  ok: boolean;
  chain: ChainVerification;
  accountsChecked: number;
  dayTotalsChecked: number;
  /** Every mismatch found; `mismatches` lists the first AUDIT_MISMATCHES_MAX of them. */
  mismatchCount: number;
  mismatches: AuditMismatch[];
  /** Pending entries compared: open by the journal or with a row in the open-pending table. */
  openPendingChecked: number;
  /** Every open-pending difference; `openPendingMismatches` lists the first AUDIT_MISMATCHES_MAX. */
  openPendingMismatchCount: number;
  openPendingMismatches: OpenPendingMismatch[];
}
