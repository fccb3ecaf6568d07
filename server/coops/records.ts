/**
 * The records and inputs of the co-ops domain: what its use cases take and answer. No logic.
 */
import type {
  CoopAccountPurpose,
  CoopKind,
  Decimal,
  MemberAccountRole,
  MembershipState,
  PartyKind,
  RedemptionRule,
  Unit,
} from '../core/index.js';
import type { EntryRecord } from '../ledger/index.js';

export const COOP_BOOK_BACKDATE_DAYS_DEFAULT = 3660;
/** Member tokens listed for a co-op at most (oldest first), as apiTokens lists at most 1,000. */
export const MEMBER_TOKENS_MAX = 1000;
export const JOIN_KEY_LENGTH_MAX = 100;

export interface CoopRecord {
  id: string;
  name: string;
  kind: CoopKind;
  naicsCode: string;
  city: string;
  neighbourhood: string;
  latitude: string | null;
  longitude: string | null;
  foundedOn: string;
  legalForm: string;
  fiscalYearStart: string;
  baseCurrency: Unit;
  redemptionRule: RedemptionRule;
  dataSharingConsent: boolean;
  dataSharingConsentAt: Date | null;
  publicListing: boolean;
  description: string;
  website: string;
  createdAt: Date;
  updatedAt: Date;
  /** The chart's accounts by purpose. */
  accounts: Record<CoopAccountPurpose, string>;
}

export interface CoopProfileInput {
  name?: string | null;
  kind?: CoopKind | null;
  naicsCode?: string | null;
  city?: string | null;
  neighbourhood?: string | null;
  latitude?: string | null;
  longitude?: string | null;
  foundedOn?: string | null;
  legalForm?: string | null;
  fiscalYearStart?: string | null;
  redemptionRule?: RedemptionRule | null;
  dataSharingConsent?: boolean | null;
  publicListing?: boolean | null;
  description?: string | null;
  website?: string | null;
}

export interface CreateCoopInput extends CoopProfileInput {
  name: string;
  kind: CoopKind;
  naicsCode: string;
  city: string;
  foundedOn: string;
  legalForm: string;
  baseCurrency: Unit;
  maxBackdateDays?: number | null;
  /**
   * The day data-sharing consent was given, when it was given before the co-op is recorded here (a
   * signed form); with dataSharingConsent only, not before foundedOn, not in the future. Default now.
   */
  dataSharingConsentOn?: string | null;
}

export interface MemberClassRecord {
  bookId: string;
  id: string;
  code: string;
  name: string;
  buyIn: Decimal;
  unit: Unit;
  instalmentCount: number;
  instalmentIntervalMonths: number;
  voting: boolean;
  transferable: boolean;
  createdAt: Date;
}

export interface CreateMemberClassInput {
  bookId: string;
  code: string;
  name: string;
  buyIn: string;
  instalmentCount?: number | null;
  instalmentIntervalMonths?: number | null;
  voting: boolean;
  transferable?: boolean | null;
  /** Optional: the same key and input answer the first class again (replayed); other input IDEMPOTENCY_KEY_REUSED. */
  idempotencyKey?: string | null;
}

export interface PartyRecord {
  bookId: string;
  id: string;
  kind: PartyKind;
  name: string;
  email: string;
  phone: string;
  address: string;
  organizationCoopId: string | null;
  externalRef: string | null;
  createdAt: Date;
}

export interface RegisterPartyInput {
  bookId: string;
  kind?: PartyKind | null;
  name: string;
  email?: string | null;
  phone?: string | null;
  address?: string | null;
  organizationCoopId?: string | null;
  externalRef?: string | null;
  /** Optional: the same key and input answer the first party again (replayed); other input IDEMPOTENCY_KEY_REUSED. */
  idempotencyKey?: string | null;
}

export interface MembershipRecord {
  bookId: string;
  id: string;
  memberNumber: number;
  partyId: string;
  classId: string;
  state: MembershipState;
  stateSince: string;
  appliedOn: string;
  subscribed: Decimal;
  subscriptionCancelled: Decimal;
  accounts: Record<MemberAccountRole, string>;
  createdAt: Date;
}

export interface MembershipEventRecord {
  seq: number;
  fromState: MembershipState | null;
  toState: MembershipState;
  effectiveOn: string;
  recordedAt: Date;
  recordedBy: string | null;
  note: string;
  entryId: string | null;
}

export type PaymentMethod = 'CASH' | 'BANK';

export interface JoinInput {
  bookId: string;
  partyId: string;
  classId: string;
  appliedOn: string;
  idempotencyKey: string;
  note?: string | null;
}

export interface ChangeStateInput {
  bookId: string;
  membershipId: string;
  toState: MembershipState;
  effectiveOn: string;
  idempotencyKey: string;
  note?: string | null;
  /** How a REPAY_NOW redemption is paid; BANK when absent. */
  method?: PaymentMethod | null;
}

export interface PaymentInput {
  bookId: string;
  membershipId: string;
  amount: string;
  paidOn: string;
  method: PaymentMethod;
  idempotencyKey: string;
  memo?: string | null;
}

export interface TransferInput {
  bookId: string;
  fromMembershipId: string;
  toMembershipId: string;
  amount: string;
  effectiveOn: string;
  idempotencyKey: string;
  memo?: string | null;
}

export interface MembershipResult {
  membership: MembershipRecord;
  entryId: string | null;
  replayed: boolean;
}

export interface StatementAccount {
  role: MemberAccountRole;
  accountId: string;
  /** Posted balance at the start of `from` (00:00 UTC), in the account's normal direction. */
  opening: Decimal;
  /** Posted balance at the end of `to` (24:00 UTC). */
  closing: Decimal;
}

export interface MemberStatement {
  from: string;
  to: string;
  accounts: StatementAccount[];
  /** The member's capital: paid-up share capital plus internal capital account. */
  capitalOpening: Decimal;
  capitalClosing: Decimal;
  /** Entries touching any of the member's accounts, effective within the period, oldest first. */
  entries: EntryRecord[];
  /** True when the period holds more than STATEMENT_ENTRIES_MAX entries (only the first are listed). */
  truncated: boolean;
}

export const STATEMENT_ENTRIES_MAX = 1000;

export interface MemberBalances {
  shareCapital: Decimal;
  subscriptionOutstanding: Decimal;
  internalCapital: Decimal;
  redemptionPayable: Decimal;
  /** Paid towards the subscription: subscribed less outstanding less cancelled. */
  paidIn: Decimal;
}

// ---------- member tokens ----------

/** A co-op's member token as its treasurers see it: no secret, no grants, no principal name. */
export interface MemberTokenRecord {
  bookId: string;
  /** The token id (as in ApiToken.id and Viewer.tokenId). */
  id: string;
  label: string;
  /** The membership whose accounts the token's grants name; null when they name none or several. */
  membershipId: string | null;
  createdAt: Date;
  expiresAt: Date | null;
  revokedAt: Date | null;
  lastUsedAt: Date | null;
}

export interface IssueMemberTokenInput {
  bookId: string;
  membershipId: string;
  /** What the token is for (up to 200 characters); default `issued by <issuing principal id>`. */
  label?: string | null;
  expiresAt?: Date | null;
}

export interface RevokeMemberTokenInput {
  bookId: string;
  tokenId: string;
}
