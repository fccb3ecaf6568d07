/**
 * Cooperatives and their members: the use cases. A co-op is its book (same id): creating one
 * creates the book, its unit (the base currency) and the default chart of accounts in one
 * transaction. Every money event of a membership is a balanced entry in that book, posted through
 * the posting engine in the same transaction as the membership rows it goes with
 * (PostingEngine.submitWith), so a membership and its money never disagree.
 *
 * Lock order, as everywhere: the book row (chain head) first, then the co-op row, then accounts.
 *
 * Every write takes the acting principal (`actor`, last) and checks it before anything else:
 * creating a co-op is for admins; everything else for the co-op's treasurers (and admins). A
 * principal who may not write the co-op gets the answer of an unknown co-op or membership
 * (UNKNOWN_COOP, UNKNOWN_MEMBERSHIP), so nothing reveals another tenant's ids. Membership events and
 * entries record the actor's id (`recordedBy`, `postedBy`).
 *
 * Member tokens: a treasurer invites a member by issuing a token whose MEMBER grants name the
 * member's five accounts, so the person reads their own membership, party, schedule and statement
 * without an admin. The token is issued through AuthService (admins only) as the system principal
 * `coop-invite`, after the treasurer check here; the label records who issued it.
 */
import type { Pool, PoolClient } from 'pg';
import { type AuthService, unknownToken } from '../auth/index.js';
import {
  balanceView,
  COOP_KINDS,
  type CoopAccountPurpose,
  type CoopKind,
  checkTransition,
  DEFAULT_CHART,
  Decimal,
  type EntryInput,
  GENESIS_HASH,
  type Instalment,
  instalmentSchedule,
  isLeaving,
  isMonthDay,
  LedgerError,
  type LineInput,
  MEMBER_ACCOUNT_PARENT,
  MEMBER_ACCOUNT_ROLES,
  MEMBER_CLASS_LIMITS,
  type MemberAccountRole,
  type MembershipState,
  mayWriteBook,
  memberAccountCode,
  memberAccountName,
  memberAccountType,
  PARTY_KINDS,
  type PartyKind,
  type Principal,
  parseAmount,
  REDEMPTION_RULES,
  type RedemptionRule,
  requireAdmin,
  type StateEvent,
  systemPrincipal,
  type Unit,
  validateDate,
  validateIdempotencyKey,
  validateUnit,
  votingRoll,
  ZERO,
} from '../core/index.js';
import type { OpResult, PostOp } from '../ledger/posting.js';
import { checkMaxBackdateDays, entryOp, type LedgerService } from '../ledger/service.js';
import {
  type AccountRow,
  ENTRY_COLUMNS,
  type EntryRecord,
  entryFromRow,
  findAccounts,
  LINES_JSON,
  lockAccounts,
  lockBooks,
} from '../ledger/store.js';
import { postedTotalsAsOf } from '../ledger/store-reads.js';
import { requestHash } from '../platform/hashing.js';
import { isUuid, uuidv7 } from '../platform/ids.js';
import { withTransaction } from '../platform/transaction.js';
import { type ImportInput, type ImportResult, importCsv } from './import.js';

export const COOP_BOOK_BACKDATE_DAYS_DEFAULT = 3660;
/** Member tokens listed for a co-op at most (oldest first), as apiTokens lists at most 1,000. */
export const MEMBER_TOKENS_MAX = 1000;
export const JOIN_KEY_LENGTH_MAX = 100;

/** What a membership transaction answers: the membership, and the key of its entry on a replay. */
interface Outcome {
  id: string;
  replayed: boolean;
  entryKey: string | null;
}

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

/** Entry effective instant for a calendar date: 00:00 UTC of that day (deterministic, so a retried request hashes the same). */
export function dayStart(date: string): Date {
  return new Date(`${date}T00:00:00.000Z`);
}

export function todayUtc(now: Date = new Date()): string {
  return now.toISOString().slice(0, 10);
}

const COOP_COLUMNS = `c.book_id, c.name, c.kind, c.naics_code, c.city, c.neighbourhood, c.latitude::text as latitude,
  c.longitude::text as longitude, to_char(c.founded_on, 'YYYY-MM-DD') as founded_on, c.legal_form, c.fiscal_year_start,
  c.base_currency, u.scale as base_scale, c.redemption_rule, c.data_sharing_consent, c.data_sharing_consent_at,
  c.public_listing, c.description, c.website, c.created_at, c.updated_at,
  (select json_object_agg(a.purpose, a.account_id) from coop_account a where a.book_id = c.book_id) as accounts`;
const COOP_FROM = 'coop c join book_unit u on u.book_id = c.book_id and u.code = c.base_currency';

function coopFromRow(r: Record<string, unknown>): CoopRecord {
  return {
    id: r.book_id as string,
    name: r.name as string,
    kind: r.kind as CoopKind,
    naicsCode: r.naics_code as string,
    city: r.city as string,
    neighbourhood: r.neighbourhood as string,
    latitude: (r.latitude as string | null) ?? null,
    longitude: (r.longitude as string | null) ?? null,
    foundedOn: r.founded_on as string,
    legalForm: r.legal_form as string,
    fiscalYearStart: r.fiscal_year_start as string,
    baseCurrency: { code: r.base_currency as string, scale: Number(r.base_scale) },
    redemptionRule: r.redemption_rule as RedemptionRule,
    dataSharingConsent: r.data_sharing_consent as boolean,
    dataSharingConsentAt: r.data_sharing_consent_at ? new Date(r.data_sharing_consent_at as string) : null,
    publicListing: r.public_listing as boolean,
    description: r.description as string,
    website: r.website as string,
    createdAt: new Date(r.created_at as string),
    updatedAt: new Date(r.updated_at as string),
    accounts: r.accounts as Record<CoopAccountPurpose, string>,
  };
}

const CLASS_COLUMNS = `m.book_id, m.id, m.code, m.name, m.buy_in::text as buy_in, c.base_currency, u.scale,
  m.instalment_count, m.instalment_interval_months, m.voting, m.transferable, m.created_at`;
const CLASS_FROM = `member_class m join coop c on c.book_id = m.book_id
  join book_unit u on u.book_id = c.book_id and u.code = c.base_currency`;

function classFromRow(r: Record<string, unknown>): MemberClassRecord {
  return {
    bookId: r.book_id as string,
    id: r.id as string,
    code: r.code as string,
    name: r.name as string,
    buyIn: new Decimal(r.buy_in as string),
    unit: { code: r.base_currency as string, scale: Number(r.scale) },
    instalmentCount: Number(r.instalment_count),
    instalmentIntervalMonths: Number(r.instalment_interval_months),
    voting: r.voting as boolean,
    transferable: r.transferable as boolean,
    createdAt: new Date(r.created_at as string),
  };
}

function partyFromRow(r: Record<string, unknown>): PartyRecord {
  return {
    bookId: r.book_id as string,
    id: r.id as string,
    kind: r.kind as PartyKind,
    name: r.name as string,
    email: r.email as string,
    phone: r.phone as string,
    address: r.address as string,
    organizationCoopId: (r.organization_coop_id as string | null) ?? null,
    externalRef: (r.external_ref as string | null) ?? null,
    createdAt: new Date(r.created_at as string),
  };
}

const MEMBERSHIP_COLUMNS = `m.book_id, m.id, m.member_number, m.party_id, m.class_id, m.state,
  to_char(m.state_since, 'YYYY-MM-DD') as state_since, to_char(m.applied_on, 'YYYY-MM-DD') as applied_on,
  m.subscribed::text as subscribed, m.subscription_cancelled::text as subscription_cancelled,
  m.share_capital_account_id, m.subscription_receivable_account_id, m.subscribed_unpaid_account_id,
  m.internal_capital_account_id, m.redemption_payable_account_id, m.idempotency_key, m.request_hash, m.created_at`;

const ACCOUNT_COLUMN_OF: Record<MemberAccountRole, string> = {
  SHARE_CAPITAL: 'share_capital_account_id',
  SUBSCRIPTION_RECEIVABLE: 'subscription_receivable_account_id',
  SUBSCRIBED_UNPAID: 'subscribed_unpaid_account_id',
  INTERNAL_CAPITAL: 'internal_capital_account_id',
  REDEMPTION_PAYABLE: 'redemption_payable_account_id',
};

/** A membership's five account columns, for `account in (...)` tests. */
const MEMBER_ACCOUNT_COLUMNS = MEMBER_ACCOUNT_ROLES.map((role) => `m.${ACCOUNT_COLUMN_OF[role]}`).join(', ');

function membershipFromRow(r: Record<string, unknown>): MembershipRecord {
  return {
    bookId: r.book_id as string,
    id: r.id as string,
    memberNumber: Number(r.member_number),
    partyId: r.party_id as string,
    classId: r.class_id as string,
    state: r.state as MembershipState,
    stateSince: r.state_since as string,
    appliedOn: r.applied_on as string,
    subscribed: new Decimal(r.subscribed as string),
    subscriptionCancelled: new Decimal(r.subscription_cancelled as string),
    accounts: Object.fromEntries(
      MEMBER_ACCOUNT_ROLES.map((role) => [role, r[ACCOUNT_COLUMN_OF[role]] as string]),
    ) as Record<MemberAccountRole, string>,
    createdAt: new Date(r.created_at as string),
  };
}

function text(value: string | null | undefined, field: string, max: number, min = 0): LedgerError | null {
  const v = (value ?? '').trim();
  if (v.length < min || v.length > max) {
    return new LedgerError(
      'INVALID_INPUT',
      min > 0 ? `${field} must be ${min} to ${max} characters` : `${field} must be at most ${max} characters`,
      field,
    );
  }
  if ([...v].some((c) => c.charCodeAt(0) < 32 && c !== '\n' && c !== '\r' && c !== '\t'))
    return new LedgerError('INVALID_INPUT', `${field} holds control characters`, field);
  return null;
}

const NAICS = /^[0-9]{2,6}$/;
const COORD = /^-?[0-9]{1,3}(\.[0-9]{1,6})?$/;

/** Checks a co-op's profile fields that are present. */
export function validateCoopProfile(input: CoopProfileInput): LedgerError | null {
  if (input.name != null) {
    const e = text(input.name, 'name', 200, 1);
    if (e) return e;
  }
  if (input.kind != null && !COOP_KINDS.includes(input.kind))
    return new LedgerError('INVALID_INPUT', `kind must be one of ${COOP_KINDS.join(', ')}`, 'kind');
  if (input.naicsCode != null && !NAICS.test(input.naicsCode))
    return new LedgerError('INVALID_INPUT', 'naicsCode must be a NAICS code of 2 to 6 digits', 'naicsCode');
  if (input.city != null) {
    const e = text(input.city, 'city', 100, 1);
    if (e) return e;
  }
  for (const field of ['neighbourhood', 'legalForm'] as const) {
    const value = input[field];
    if (value != null) {
      const e = text(value, field, 100, field === 'legalForm' ? 1 : 0);
      if (e) return e;
    }
  }
  if ((input.latitude == null) !== (input.longitude == null))
    return new LedgerError('INVALID_INPUT', 'give both latitude and longitude, or neither', 'latitude');
  if (input.latitude != null) {
    if (!COORD.test(input.latitude) || Math.abs(Number(input.latitude)) > 90)
      return new LedgerError(
        'INVALID_INPUT',
        'latitude must be a decimal from -90 to 90, up to 6 places',
        'latitude',
      );
    if (!COORD.test(input.longitude!) || Math.abs(Number(input.longitude)) > 180)
      return new LedgerError(
        'INVALID_INPUT',
        'longitude must be a decimal from -180 to 180, up to 6 places',
        'longitude',
      );
  }
  if (input.foundedOn != null) {
    const e = validateDate(input.foundedOn, 'foundedOn');
    if (e) return e;
  }
  if (input.fiscalYearStart != null && !isMonthDay(input.fiscalYearStart))
    return new LedgerError('INVALID_INPUT', 'fiscalYearStart must be MM-DD (not 02-29)', 'fiscalYearStart');
  if (input.redemptionRule != null && !REDEMPTION_RULES.includes(input.redemptionRule))
    return new LedgerError(
      'INVALID_INPUT',
      `redemptionRule must be one of ${REDEMPTION_RULES.join(', ')}`,
      'redemptionRule',
    );
  if (input.description != null) {
    const e = text(input.description, 'description', 2000);
    if (e) return e;
  }
  if (input.website != null && input.website !== '') {
    if (input.website.length > 500 || !/^https?:\/\/[^\s]+$/.test(input.website))
      return new LedgerError(
        'INVALID_INPUT',
        'website must be an http(s) URL of at most 500 characters',
        'website',
      );
  }
  return null;
}

// The answers to an actor who may not write the co-op: those of an unknown co-op or membership.
export const unknownCoop = (field = 'coopId') => new LedgerError('UNKNOWN_COOP', 'no such co-op', field);
const unknownMembership = (field = 'membershipId') =>
  new LedgerError('UNKNOWN_MEMBERSHIP', 'no such membership', field);

export class CoopService {
  constructor(
    private readonly pool: Pool,
    private readonly ledger: LedgerService,
    private readonly auth: AuthService,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  // ---------- co-ops ----------

  /** Admins only; the co-op's treasurers then get a TREASURER grant on it. */
  async createCoop(input: CreateCoopInput, actor: Principal): Promise<CoopRecord | LedgerError> {
    requireAdmin(actor, 'create a co-op');
    const profile = validateCoopProfile(input);
    if (profile) return profile;
    const unitError = validateUnit(input.baseCurrency, 'baseCurrency');
    if (unitError) return unitError;
    const backdate = input.maxBackdateDays ?? COOP_BOOK_BACKDATE_DAYS_DEFAULT;
    const backdateError = checkMaxBackdateDays(backdate);
    if (backdateError) return backdateError;
    if (input.foundedOn > todayUtc(this.clock()))
      return new LedgerError('INVALID_DATE', 'foundedOn is in the future', 'foundedOn');
    const id = uuidv7();
    const unit = input.baseCurrency;
    await withTransaction(this.pool, async (client) => {
      await client.query(
        `insert into book (id, name, description, max_backdate_days, entry_seq, last_hash, created_at)
         values ($1, $2, $3, $4, 0, $5, now())`,
        [id, input.name.trim(), `Books of the co-op ${input.name.trim()}`, backdate, GENESIS_HASH],
      );
      await client.query('insert into book_unit (book_id, code, scale) values ($1, $2, $3)', [
        id,
        unit.code,
        unit.scale,
      ]);
      const consent = input.dataSharingConsent ?? false;
      await client.query(
        `insert into coop (book_id, name, kind, naics_code, city, neighbourhood, latitude, longitude, founded_on,
           legal_form, fiscal_year_start, base_currency, redemption_rule, data_sharing_consent, data_sharing_consent_at,
           public_listing, description, website, created_at, updated_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, case when $14 then now() end, $15, $16, $17, now(), now())`,
        [
          id,
          input.name.trim(),
          input.kind,
          input.naicsCode,
          input.city.trim(),
          (input.neighbourhood ?? '').trim(),
          input.latitude ?? null,
          input.longitude ?? null,
          input.foundedOn,
          input.legalForm.trim(),
          input.fiscalYearStart ?? '01-01',
          unit.code,
          input.redemptionRule ?? 'REPAY_NOW',
          consent,
          input.publicListing ?? false,
          (input.description ?? '').trim(),
          input.website ?? '',
        ],
      );
      const ids = DEFAULT_CHART.map(() => uuidv7());
      await client.query(
        `insert into account (book_id, id, code, name, type, unit_code, created_at)
         select $1, i, c, n, t, $2, now() from unnest($3::uuid[], $4::text[], $5::text[], $6::text[]) as x(i, c, n, t)`,
        [
          id,
          unit.code,
          ids,
          DEFAULT_CHART.map((a) => a.code),
          DEFAULT_CHART.map((a) => a.name),
          DEFAULT_CHART.map((a) => a.type),
        ],
      );
      await client.query(
        `insert into coop_account (book_id, purpose, account_id)
         select $1, p, a from unnest($2::text[], $3::uuid[]) as x(p, a)`,
        [id, DEFAULT_CHART.map((a) => a.purpose), ids],
      );
    });
    return (await this.getCoops([id]))[0]!;
  }

  async updateCoop(
    bookId: string,
    input: CoopProfileInput,
    actor: Principal,
  ): Promise<CoopRecord | LedgerError> {
    if (!mayWriteBook(actor, bookId)) return unknownCoop();
    const error = validateCoopProfile(input);
    if (error) return error;
    if (input.foundedOn != null && input.foundedOn > todayUtc(this.clock()))
      return new LedgerError('INVALID_DATE', 'foundedOn is in the future', 'foundedOn');
    if (!isUuid(bookId)) return unknownCoop();
    const sets: string[] = [];
    const params: unknown[] = [bookId];
    const set = (column: string, value: unknown) => {
      params.push(value);
      sets.push(`${column} = $${params.length}`);
    };
    if (input.name != null) set('name', input.name.trim());
    if (input.kind != null) set('kind', input.kind);
    if (input.naicsCode != null) set('naics_code', input.naicsCode);
    if (input.city != null) set('city', input.city.trim());
    if (input.neighbourhood != null) set('neighbourhood', input.neighbourhood.trim());
    if (input.latitude != null) {
      set('latitude', input.latitude);
      set('longitude', input.longitude);
    }
    if (input.foundedOn != null) set('founded_on', input.foundedOn);
    if (input.legalForm != null) set('legal_form', input.legalForm.trim());
    if (input.fiscalYearStart != null) set('fiscal_year_start', input.fiscalYearStart);
    if (input.redemptionRule != null) set('redemption_rule', input.redemptionRule);
    if (input.publicListing != null) set('public_listing', input.publicListing);
    if (input.description != null) set('description', input.description.trim());
    if (input.website != null) set('website', input.website);
    if (input.dataSharingConsent != null) {
      set('data_sharing_consent', input.dataSharingConsent);
      // The date the consent was given; kept when it is re-affirmed, cleared when withdrawn.
      sets.push(
        `data_sharing_consent_at = case when $${params.length} then coalesce(case when data_sharing_consent then data_sharing_consent_at end, now()) end`,
      );
    }
    const { rowCount } = await this.pool.query(
      `update coop set ${[...sets, 'updated_at = now()'].join(', ')} where book_id = $1`,
      params,
    );
    if (!rowCount) return unknownCoop();
    return (await this.getCoops([bookId]))[0]!;
  }

  async getCoops(ids: string[]): Promise<CoopRecord[]> {
    const valid = ids.filter(isUuid);
    if (valid.length === 0) return [];
    const { rows } = await this.pool.query(
      `select ${COOP_COLUMNS} from ${COOP_FROM} where c.book_id = any($1::uuid[])`,
      [valid],
    );
    return rows.map(coopFromRow);
  }

  /** Co-ops in id (creation) order; `onlyIds` restricts them to those (a caller's tenants). */
  async listCoops(afterId: string | null, limit: number, onlyIds: string[] | null): Promise<CoopRecord[]> {
    const { rows } = await this.pool.query(
      `select ${COOP_COLUMNS} from ${COOP_FROM}
        where ($1::uuid is null or c.book_id > $1::uuid) and ($3::uuid[] is null or c.book_id = any($3::uuid[]))
        order by c.book_id limit $2`,
      [afterId && isUuid(afterId) ? afterId : null, limit, onlyIds === null ? null : onlyIds.filter(isUuid)],
    );
    return rows.map(coopFromRow);
  }

  /** The public directory: co-ops that opted in to being listed, by name. */
  async listDirectory(
    after: { name: string; id: string } | null,
    limit: number,
    filter: { city?: string | null; kind?: CoopKind | null },
  ): Promise<CoopRecord[]> {
    const { rows } = await this.pool.query(
      `select ${COOP_COLUMNS} from ${COOP_FROM}
        where c.public_listing
          and ($1::text is null or (c.name, c.book_id) > ($1::text, $2::uuid))
          and ($4::text is null or lower(c.city) = lower($4)) and ($5::text is null or c.kind = $5)
        order by c.name, c.book_id limit $3`,
      [after?.name ?? null, after?.id ?? null, limit, filter.city ?? null, filter.kind ?? null],
    );
    return rows.map(coopFromRow);
  }

  // ---------- member classes ----------

  async createMemberClass(
    input: CreateMemberClassInput,
    actor: Principal,
  ): Promise<MemberClassRecord | LedgerError> {
    if (!mayWriteBook(actor, input.bookId)) return unknownCoop();
    const [coop] = await this.getCoops([input.bookId]);
    if (!coop) return unknownCoop();
    if (!/^[A-Za-z0-9_-]{1,40}$/.test(input.code))
      return new LedgerError('INVALID_INPUT', 'code must be 1 to 40 of A-Z, a-z, 0-9, _ and -', 'code');
    const nameError = text(input.name, 'name', 200, 1);
    if (nameError) return nameError;
    const buyIn = parseAmount(input.buyIn, coop.baseCurrency, 'buyIn', { allowZero: true });
    if (buyIn instanceof LedgerError) return buyIn;
    const count = input.instalmentCount ?? 1;
    if (!Number.isInteger(count) || count < 1 || count > MEMBER_CLASS_LIMITS.instalmentCountMax)
      return new LedgerError(
        'INVALID_INPUT',
        `instalmentCount must be 1 to ${MEMBER_CLASS_LIMITS.instalmentCountMax}`,
        'instalmentCount',
      );
    const interval = input.instalmentIntervalMonths ?? 1;
    if (
      !Number.isInteger(interval) ||
      interval < 1 ||
      interval > MEMBER_CLASS_LIMITS.instalmentIntervalMonthsMax
    )
      return new LedgerError(
        'INVALID_INPUT',
        `instalmentIntervalMonths must be 1 to ${MEMBER_CLASS_LIMITS.instalmentIntervalMonthsMax}`,
        'instalmentIntervalMonths',
      );
    const step = new Decimal(10).pow(-coop.baseCurrency.scale);
    if (buyIn.gt(ZERO) && buyIn.lt(step.times(count)))
      return new LedgerError(
        'INVALID_INPUT',
        'the buy-in is too small to split into that many instalments',
        'instalmentCount',
      );
    const id = uuidv7();
    const { rows } = await this.pool.query(
      `insert into member_class (book_id, id, code, name, buy_in, instalment_count, instalment_interval_months, voting, transferable, created_at)
       select $1, $2, $3, $4, $5, $6, $7, $8, $9, now()
        where (select count(*) from member_class where book_id = $1) < $10
       on conflict (book_id, code) do nothing
       returning id`,
      [
        input.bookId,
        id,
        input.code,
        input.name.trim(),
        buyIn.toFixed(),
        count,
        interval,
        input.voting,
        input.transferable ?? false,
        MEMBER_CLASS_LIMITS.classesPerCoopMax,
      ],
    );
    if (rows.length === 0) {
      const { rows: existing } = await this.pool.query(
        'select 1 from member_class where book_id = $1 and code = $2',
        [input.bookId, input.code],
      );
      return existing.length > 0
        ? new LedgerError('DUPLICATE_MEMBER_CLASS', `a member class with code ${input.code} exists`, 'code')
        : new LedgerError(
            'INVALID_INPUT',
            `a co-op has at most ${MEMBER_CLASS_LIMITS.classesPerCoopMax} member classes`,
            'code',
          );
    }
    return (await this.getMemberClasses([{ bookId: input.bookId, id }]))[0]!;
  }

  async getMemberClasses(keys: { bookId: string; id: string }[]): Promise<MemberClassRecord[]> {
    const valid = keys.filter((k) => isUuid(k.bookId) && isUuid(k.id));
    if (valid.length === 0) return [];
    const { rows } = await this.pool.query(
      `select ${CLASS_COLUMNS} from ${CLASS_FROM} where (m.book_id, m.id) in (select * from unnest($1::uuid[], $2::uuid[]))`,
      [valid.map((k) => k.bookId), valid.map((k) => k.id)],
    );
    return rows.map(classFromRow);
  }

  async listMemberClasses(bookId: string): Promise<MemberClassRecord[]> {
    if (!isUuid(bookId)) return [];
    const { rows } = await this.pool.query(
      `select ${CLASS_COLUMNS} from ${CLASS_FROM} where m.book_id = $1 order by m.code`,
      [bookId],
    );
    return rows.map(classFromRow);
  }

  // ---------- parties (people and organisations) ----------

  /** Checks a party's fields (also each row of a members file). */
  validateParty(input: Omit<RegisterPartyInput, 'bookId'>): LedgerError | null {
    if (input.kind != null && !PARTY_KINDS.includes(input.kind))
      return new LedgerError('INVALID_INPUT', `kind must be one of ${PARTY_KINDS.join(', ')}`, 'kind');
    return (
      text(input.name, 'name', 200, 1) ??
      text(input.email, 'email', 254) ??
      (input.email && !/^[^\s@]+@[^\s@]+$/.test(input.email.trim())
        ? new LedgerError('INVALID_INPUT', 'email must look like name@host', 'email')
        : null) ??
      text(input.phone, 'phone', 50) ??
      text(input.address, 'address', 500) ??
      (input.externalRef != null ? text(input.externalRef, 'externalRef', 100, 1) : null)
    );
  }

  async registerParty(input: RegisterPartyInput, actor: Principal): Promise<PartyRecord | LedgerError> {
    if (!mayWriteBook(actor, input.bookId)) return unknownCoop();
    // '' is what the API makes of a co-op id it cannot decode: no co-op, answered before the rest.
    if (input.organizationCoopId === '') return unknownCoop('organizationCoopId');
    const error = this.validateParty(input);
    if (error) return error;
    const [coop] = await this.getCoops([input.bookId]);
    if (!coop) return unknownCoop();
    if (input.organizationCoopId != null) {
      if ((input.kind ?? 'PERSON') !== 'ORGANIZATION')
        return new LedgerError('INVALID_INPUT', 'only an ORGANIZATION can be a co-op', 'organizationCoopId');
      if (!isUuid(input.organizationCoopId) || (await this.getCoops([input.organizationCoopId])).length === 0)
        return unknownCoop('organizationCoopId');
    }
    const id = uuidv7();
    try {
      await insertParties(this.pool, input.bookId, [{ ...input, id }]);
    } catch (e) {
      if ((e as { code?: string }).code === '23505')
        return new LedgerError('INVALID_INPUT', 'externalRef is already used in this co-op', 'externalRef');
      throw e;
    }
    return (await this.getParties([{ bookId: input.bookId, id }]))[0]!;
  }

  async getParties(keys: { bookId: string; id: string }[]): Promise<PartyRecord[]> {
    const valid = keys.filter((k) => isUuid(k.bookId) && isUuid(k.id));
    if (valid.length === 0) return [];
    const { rows } = await this.pool.query(
      'select * from party where (book_id, id) in (select * from unnest($1::uuid[], $2::uuid[]))',
      [valid.map((k) => k.bookId), valid.map((k) => k.id)],
    );
    return rows.map(partyFromRow);
  }

  async listParties(bookId: string, afterId: string | null, limit: number): Promise<PartyRecord[]> {
    if (!isUuid(bookId)) return [];
    const { rows } = await this.pool.query(
      `select * from party where book_id = $1 and ($2::uuid is null or id > $2::uuid) order by id limit $3`,
      [bookId, afterId && isUuid(afterId) ? afterId : null, limit],
    );
    return rows.map(partyFromRow);
  }

  // ---------- memberships ----------

  async getMemberships(keys: { bookId: string; id: string }[]): Promise<MembershipRecord[]> {
    const valid = keys.filter((k) => isUuid(k.bookId) && isUuid(k.id));
    if (valid.length === 0) return [];
    const { rows } = await this.pool.query(
      `select ${MEMBERSHIP_COLUMNS} from membership m
        where (m.book_id, m.id) in (select * from unnest($1::uuid[], $2::uuid[]))`,
      [valid.map((k) => k.bookId), valid.map((k) => k.id)],
    );
    return rows.map(membershipFromRow);
  }

  async listMemberships(
    bookId: string,
    options: {
      afterNumber: number | null;
      limit: number;
      state: MembershipState | null;
      partyId?: string | null;
    },
  ): Promise<MembershipRecord[]> {
    if (!isUuid(bookId)) return [];
    const { rows } = await this.pool.query(
      `select ${MEMBERSHIP_COLUMNS} from membership m
        where m.book_id = $1 and ($2::int is null or m.member_number > $2) and ($4::text is null or m.state = $4)
          and ($5::uuid is null or m.party_id = $5::uuid)
        order by m.member_number limit $3`,
      [
        bookId,
        options.afterNumber,
        options.limit,
        options.state,
        options.partyId && isUuid(options.partyId) ? options.partyId : null,
      ],
    );
    return rows.map(membershipFromRow);
  }

  /** Memberships that MEMBER grants (`<book>:<account>`, any of the member's accounts) belong to, as `<book>:<membership>`. */
  membershipIdsOfAccounts(keys: { bookId: string; id: string }[]): Promise<string[]> {
    return this.ofAccounts(keys, 'id');
  }

  /** Parties that MEMBER grants (`<book>:<account>`) belong to, as `<book>:<party>`. */
  partyIdsOfAccounts(keys: { bookId: string; id: string }[]): Promise<string[]> {
    return this.ofAccounts(keys, 'party_id');
  }

  private async ofAccounts(
    keys: { bookId: string; id: string }[],
    column: 'id' | 'party_id',
  ): Promise<string[]> {
    const valid = keys.filter((k) => isUuid(k.bookId) && isUuid(k.id));
    if (valid.length === 0) return [];
    const { rows } = await this.pool.query(
      `select distinct m.book_id, m.${column} as id from membership m join unnest($1::uuid[], $2::uuid[]) as k(b, a) on m.book_id = k.b
        and k.a in (${MEMBER_ACCOUNT_COLUMNS})`,
      [valid.map((k) => k.bookId), valid.map((k) => k.id)],
    );
    return rows.map((r) => `${r.book_id}:${r.id}`);
  }

  async events(bookId: string, membershipId: string): Promise<MembershipEventRecord[]> {
    if (!isUuid(bookId) || !isUuid(membershipId)) return [];
    const { rows } = await this.pool.query(
      `select e.seq, e.from_state, e.to_state, to_char(e.effective_on, 'YYYY-MM-DD') as effective_on, e.recorded_at,
              e.recorded_by, e.note, j.id as entry_id
         from membership_event e join membership m on m.book_id = e.book_id and m.id = e.membership_id
         left join journal_entry j on j.book_id = e.book_id
          and j.idempotency_key = coalesce(e.idempotency_key, case when e.seq = 1 then m.idempotency_key || ':subscription' end)
        where e.book_id = $1 and e.membership_id = $2 order by e.seq`,
      [bookId, membershipId],
    );
    return rows.map((r) => ({
      seq: Number(r.seq),
      fromState: r.from_state,
      toState: r.to_state,
      effectiveOn: r.effective_on,
      recordedAt: new Date(r.recorded_at),
      recordedBy: r.recorded_by,
      note: r.note,
      entryId: r.entry_id,
    }));
  }

  /** The member's accounts over a period (dates inclusive): opening and closing balances and the entries between. */
  async statement(m: MembershipRecord, from: string, to: string): Promise<MemberStatement | LedgerError> {
    const error = validateDate(from, 'from') ?? validateDate(to, 'to');
    if (error) return error;
    if (to < from) return new LedgerError('INVALID_DATE', 'to is before from', 'to');
    const ids = MEMBER_ACCOUNT_ROLES.map((role) => m.accounts[role]);
    const start = dayStart(from);
    const end = new Date(dayStart(to).getTime() + 86_400_000);
    const [rows, opening, closing, entries] = await Promise.all([
      findAccounts(
        this.pool,
        ids.map((id) => ({ bookId: m.bookId, id })),
      ),
      postedTotalsAsOf(this.pool, m.bookId, ids, new Date(start.getTime() - 1)),
      postedTotalsAsOf(this.pool, m.bookId, ids, new Date(end.getTime() - 1)),
      this.pool.query(
        `select ${ENTRY_COLUMNS}, ${LINES_JSON} from journal_entry e
          where e.book_id = $1 and e.effective_at >= $3 and e.effective_at < $4
            and exists (select 1 from journal_line l where l.book_id = e.book_id and l.entry_id = e.id and l.account_id = any($2::uuid[]))
          order by e.effective_at, e.seq limit $5`,
        [m.bookId, ids, start, end, STATEMENT_ENTRIES_MAX + 1],
      ),
    ]);
    const typeOf = new Map(rows.map((r) => [r.id, r.type]));
    const posted = (totals: Map<string, { debits: Decimal; credits: Decimal }>, id: string) => {
      const t = totals.get(id) ?? { debits: ZERO, credits: ZERO };
      return balanceView(typeOf.get(id)!, {
        postedDebits: t.debits,
        postedCredits: t.credits,
        pendingDebits: ZERO,
        pendingCredits: ZERO,
      }).posted;
    };
    const accounts = MEMBER_ACCOUNT_ROLES.map((role) => ({
      role,
      accountId: m.accounts[role],
      opening: posted(opening, m.accounts[role]),
      closing: posted(closing, m.accounts[role]),
    }));
    const capital = (pick: 'opening' | 'closing') =>
      accounts
        .filter((a) => a.role === 'SHARE_CAPITAL' || a.role === 'INTERNAL_CAPITAL')
        .reduce((sum, a) => sum.plus(a[pick]), ZERO);
    return {
      from,
      to,
      accounts,
      capitalOpening: capital('opening'),
      capitalClosing: capital('closing'),
      entries: entries.rows.slice(0, STATEMENT_ENTRIES_MAX).map(entryFromRow),
      truncated: entries.rows.length > STATEMENT_ENTRIES_MAX,
    };
  }

  async balances(m: MembershipRecord): Promise<MemberBalances> {
    return (await this.balancesOf([m]))[0]!;
  }

  /** Balances of many memberships, their accounts read in one query. */
  async balancesOf(memberships: readonly MembershipRecord[]): Promise<MemberBalances[]> {
    const rows = await findAccounts(
      this.pool,
      memberships.flatMap((m) =>
        MEMBER_ACCOUNT_ROLES.map((role) => ({ bookId: m.bookId, id: m.accounts[role] })),
      ),
    );
    return memberships.map((m) => memberBalances(m, rows));
  }

  async schedule(m: MembershipRecord): Promise<Instalment[]> {
    const [[cls], b] = await Promise.all([
      this.getMemberClasses([{ bookId: m.bookId, id: m.classId }]),
      this.balances(m),
    ]);
    return this.scheduleOf(m, cls!, b);
  }

  /** The instalment plan of a membership whose class and balances are at hand (no I/O). */
  scheduleOf(m: MembershipRecord, cls: MemberClassRecord, b: MemberBalances): Instalment[] {
    return instalmentSchedule({
      buyIn: m.subscribed,
      scale: cls.unit.scale,
      count: cls.instalmentCount,
      intervalMonths: cls.instalmentIntervalMonths,
      startOn: m.appliedOn,
      paidTotal: b.paidIn,
      today: todayUtc(this.clock()),
      ended: isLeaving(m.state),
    });
  }

  /** Joins a party to the co-op as an APPLICANT of a class, subscribing to the class's buy-in. */
  async join(input: JoinInput, actor: Principal): Promise<MembershipResult | LedgerError> {
    if (!mayWriteBook(actor, input.bookId)) return unknownCoop();
    const keyError = validateIdempotencyKey(input.idempotencyKey);
    if (keyError) return keyError;
    // The subscription entry's key is this key + ":subscription", which must fit the ledger's 128.
    if (input.idempotencyKey.length > JOIN_KEY_LENGTH_MAX)
      return new LedgerError(
        'INVALID_IDEMPOTENCY_KEY',
        `idempotencyKey must be 1 to ${JOIN_KEY_LENGTH_MAX} characters here`,
        'idempotencyKey',
      );
    const dateError = validateDate(input.appliedOn, 'appliedOn');
    if (dateError) return dateError;
    if (input.appliedOn > todayUtc(this.clock()))
      return new LedgerError('INVALID_DATE', 'appliedOn is in the future', 'appliedOn');
    const noteError = text(input.note, 'note', 1000);
    if (noteError) return noteError;
    const hash = requestHash('joinCoop', input);
    const outcome = await this.ledger.engine.submitWith<Outcome>(async (client) => {
      await lockBook(client, input.bookId);
      const existing = await membershipByKey(client, input.bookId, input.idempotencyKey);
      if (existing) {
        if (existing.hash !== hash) return reusedKey();
        return {
          ops: [],
          value: { id: existing.id, replayed: true, entryKey: `${input.idempotencyKey}:subscription` },
        };
      }
      const prepared = await prepareJoins(
        client,
        input.bookId,
        [
          {
            partyId: input.partyId,
            classId: input.classId,
            appliedOn: input.appliedOn,
            idempotencyKey: input.idempotencyKey,
            requestHash: hash,
            note: input.note ?? '',
          },
        ],
        actor.id,
      );
      if (!Array.isArray(prepared)) return prepared.error;
      const [joined] = prepared;
      return { ops: joined!.ops, value: { id: joined!.membershipId, replayed: false, entryKey: null } };
    });
    return this.membershipOutcome(input.bookId, outcome, 'appliedOn');
  }

  private async membershipOutcome(
    bookId: string,
    outcome: { results: OpResult[]; value: Outcome } | LedgerError,
    dateField: string,
  ): Promise<MembershipResult | LedgerError> {
    if (outcome instanceof LedgerError) return outcome;
    const failed = outcome.results.find((r) => !r.ok);
    if (failed && !failed.ok) return asInputField(failed.error, dateField);
    const [membership] = await this.getMemberships([{ bookId, id: outcome.value.id }]);
    const entry = outcome.results[0];
    const entryId =
      outcome.value.entryKey !== null
        ? await entryIdByKey(this.pool, bookId, outcome.value.entryKey)
        : entry?.ok
          ? entry.entry.id
          : null;
    return { membership: membership!, entryId, replayed: outcome.value.replayed };
  }

  /**
   * Moves a membership to another state, recording who did it and when. Leaving (WITHDRAWN or
   * TERMINATED) cancels the unpaid subscription and redeems the member's paid-up share capital and
   * positive internal capital by the co-op's rule, in one balanced entry.
   */
  async changeState(input: ChangeStateInput, actor: Principal): Promise<MembershipResult | LedgerError> {
    if (!mayWriteBook(actor, input.bookId)) return unknownMembership();
    const keyError = validateIdempotencyKey(input.idempotencyKey);
    if (keyError) return keyError;
    const dateError = validateDate(input.effectiveOn, 'effectiveOn');
    if (dateError) return dateError;
    const noteError = text(input.note, 'note', 1000);
    if (noteError) return noteError;
    if (!isUuid(input.bookId) || !isUuid(input.membershipId)) return unknownMembership();
    const hash = requestHash('changeMembershipState', input);
    const today = todayUtc(this.clock());
    const outcome = await this.ledger.engine.submitWith<Outcome>(async (client) => {
      await lockBook(client, input.bookId);
      const { rows: prior } = await client.query(
        'select request_hash from membership_event where book_id = $1 and idempotency_key = $2',
        [input.bookId, input.idempotencyKey],
      );
      if (prior[0]) {
        if (prior[0].request_hash !== hash) return reusedKey();
        return { ops: [], value: { id: input.membershipId, replayed: true, entryKey: input.idempotencyKey } };
      }
      const prepared = await prepareTransition(client, {
        bookId: input.bookId,
        membershipId: input.membershipId,
        toState: input.toState,
        effectiveOn: input.effectiveOn,
        today,
        note: input.note ?? '',
        method: input.method ?? 'BANK',
        idempotencyKey: input.idempotencyKey,
        requestHash: hash,
        actor: actor.id,
      });
      if (prepared instanceof LedgerError) return prepared;
      return { ops: prepared, value: { id: input.membershipId, replayed: false, entryKey: null } };
    });
    return this.membershipOutcome(input.bookId, outcome, 'effectiveOn');
  }

  /** A buy-in instalment: cash or bank against the member's share capital. */
  async payInstalment(input: PaymentInput, actor: Principal): Promise<MembershipResult | LedgerError> {
    if (!mayWriteBook(actor, input.bookId)) return unknownMembership();
    return this.payment(input, actor.id, 'INSTALMENT');
  }

  /** Pays out (part of) a redemption held for a former member under the HOLD rule. */
  async repayRedemption(input: PaymentInput, actor: Principal): Promise<MembershipResult | LedgerError> {
    if (!mayWriteBook(actor, input.bookId)) return unknownMembership();
    return this.payment(input, actor.id, 'REDEMPTION');
  }

  /** `actor` is the id of a principal already allowed to write the book. */
  private async payment(
    input: PaymentInput,
    actor: string,
    kind: 'INSTALMENT' | 'REDEMPTION',
  ): Promise<MembershipResult | LedgerError> {
    const dateError = validateDate(input.paidOn, 'paidOn');
    if (dateError) return dateError;
    if (input.method !== 'CASH' && input.method !== 'BANK')
      return new LedgerError('INVALID_INPUT', 'method must be CASH or BANK', 'method');
    const [coop] = await this.getCoops([input.bookId]);
    if (!coop) return unknownMembership();
    const amount = parseAmount(input.amount, coop.baseCurrency, 'amount');
    if (amount instanceof LedgerError) return amount;
    const outcome = await this.ledger.engine.submitWith<string>(async (client) => {
      await lockBook(client, input.bookId);
      const [m] = await lockMemberships(client, input.bookId, [input.membershipId]);
      if (!m) return unknownMembership();
      // A retry of a request that was posted answers as a replay, whatever has happened since.
      if ((await entryIdByKey(client, input.bookId, input.idempotencyKey)) === null) {
        if (kind === 'INSTALMENT' && isLeaving(m.state))
          return new LedgerError('MEMBERSHIP_ENDED', `the membership is ${m.state}`, 'membershipId');
        if (kind === 'REDEMPTION' && !isLeaving(m.state))
          return new LedgerError(
            'NOTHING_OUTSTANDING',
            'the member has not left; nothing is held for them',
            'membershipId',
          );
        // Dated in order, so no member account is ever below zero on any date: an instalment not
        // before the subscription, a repayment not before the redemption it pays.
        const earliest = kind === 'INSTALMENT' ? m.appliedOn : m.stateSince;
        if (input.paidOn < earliest)
          return new LedgerError(
            'INVALID_DATE',
            kind === 'INSTALMENT'
              ? `paidOn is before the membership began (${earliest})`
              : `paidOn is before the member left (${earliest})`,
            'paidOn',
          );
      }
      const entry = paymentEntry(coop, m, kind, amount.toFixed(coop.baseCurrency.scale), input);
      return { ops: [entryOp(input.bookId, 'STANDARD', entry, null, actor)], value: m.id };
    });
    return this.entryOutcome(
      input.bookId,
      outcome,
      'paidOn',
      () =>
        new LedgerError(
          'PAYMENT_EXCEEDS_OUTSTANDING',
          kind === 'INSTALMENT'
            ? 'the payment is more than the subscription still outstanding'
            : 'the payment is more than the redemption still held',
          'amount',
        ),
    );
  }

  /** The answer to a request that posts one entry for a membership (`value` is its id). */
  private async entryOutcome(
    bookId: string,
    outcome: { results: OpResult[]; value: string } | LedgerError,
    dateField: string,
    boundExceeded: () => LedgerError,
  ): Promise<MembershipResult | LedgerError> {
    if (outcome instanceof LedgerError) return outcome;
    const result = outcome.results[0]!;
    if (!result.ok) {
      // The bounds of the member's accounts (zero) are what a too-large amount runs into.
      if (result.error.code === 'BALANCE_BOUND_EXCEEDED') return boundExceeded();
      return asInputField(result.error, dateField);
    }
    const [fresh] = await this.getMemberships([{ bookId, id: outcome.value }]);
    return { membership: fresh!, entryId: result.entry.id, replayed: result.replayed };
  }

  /** Moves paid-up share capital from one member to another, where both classes allow it. */
  async transferShares(input: TransferInput, actor: Principal): Promise<MembershipResult | LedgerError> {
    if (!mayWriteBook(actor, input.bookId)) return unknownMembership('fromMembershipId');
    const dateError = validateDate(input.effectiveOn, 'effectiveOn');
    if (dateError) return dateError;
    if (input.fromMembershipId === input.toMembershipId)
      return new LedgerError(
        'INVALID_INPUT',
        'a member cannot transfer shares to themselves',
        'toMembershipId',
      );
    const [coop] = await this.getCoops([input.bookId]);
    if (!coop) return unknownMembership('fromMembershipId');
    const amount = parseAmount(input.amount, coop.baseCurrency, 'amount');
    if (amount instanceof LedgerError) return amount;
    const outcome = await this.ledger.engine.submitWith<string>(async (client) => {
      await lockBook(client, input.bookId);
      const found = await lockMemberships(client, input.bookId, [
        input.fromMembershipId,
        input.toMembershipId,
      ]);
      const from = found.find((m) => m.id === input.fromMembershipId);
      const to = found.find((m) => m.id === input.toMembershipId);
      if (!from) return unknownMembership('fromMembershipId');
      if (!to) return unknownMembership('toMembershipId');
      if ((await entryIdByKey(client, input.bookId, input.idempotencyKey)) === null) {
        for (const [m, field] of [
          [from, 'fromMembershipId'],
          [to, 'toMembershipId'],
        ] as const) {
          if (isLeaving(m.state))
            return new LedgerError('MEMBERSHIP_ENDED', `the membership is ${m.state}`, field);
        }
        const { rows: classes } = await client.query(
          'select bool_and(transferable) as ok from member_class where book_id = $1 and id = any($2::uuid[])',
          [input.bookId, [from.classId, to.classId]],
        );
        if (!classes[0]?.ok)
          return new LedgerError(
            'NOT_TRANSFERABLE',
            'a member class involved does not allow share transfers',
            'amount',
          );
        // Not before anything already on the seller's share capital (so the shares sold were held
        // on that day and on every later one) nor before the buyer joined.
        const latest = await latestEntryDate(client, input.bookId, [from.accounts.SHARE_CAPITAL]);
        const earliest = [latest, from.appliedOn, to.appliedOn]
          .filter((d): d is string => d !== null)
          .sort()
          .pop()!;
        if (input.effectiveOn < earliest)
          return new LedgerError(
            'INVALID_DATE',
            `effectiveOn must be on or after ${earliest} (the members' latest share movement or joining)`,
            'effectiveOn',
          );
      }
      const value = amount.toFixed(coop.baseCurrency.scale);
      const unit = coop.baseCurrency.code;
      const entry: EntryInput = {
        idempotencyKey: input.idempotencyKey,
        effectiveAt: dayStart(input.effectiveOn),
        memo: input.memo ?? `Share transfer from member ${from.memberNumber} to member ${to.memberNumber}`,
        metadata: [{ key: 'coop.event', value: 'SHARE_TRANSFER' }],
        lines: [
          { accountId: from.accounts.SHARE_CAPITAL, side: 'DEBIT', amount: value, unit },
          { accountId: to.accounts.SHARE_CAPITAL, side: 'CREDIT', amount: value, unit },
        ],
      };
      return { ops: [entryOp(input.bookId, 'STANDARD', entry, null, actor.id)], value: from.id };
    });
    return this.entryOutcome(
      input.bookId,
      outcome,
      'effectiveOn',
      () =>
        new LedgerError(
          'INSUFFICIENT_SHARES',
          'the seller holds less paid-up share capital than that',
          'amount',
        ),
    );
  }

  /** Bulk import of members or payments from CSV, all or nothing per file (see coop-import.ts). */
  async importCsv(input: ImportInput, actor: Principal): Promise<ImportResult | LedgerError> {
    if (!mayWriteBook(actor, input.bookId)) return unknownCoop();
    return importCsv(
      { pool: this.pool, ledger: this.ledger, coops: this, clock: this.clock },
      input,
      actor.id,
    );
  }

  /**
   * Members entitled to vote on a date: ACTIVE that day, in a voting class; one member, one vote.
   * The whole roll in one answer (a roll is read as a whole; a co-op's members are thousands at most).
   */
  async votingRoll(
    bookId: string,
    on: string,
  ): Promise<{ membership: MembershipRecord; party: PartyRecord }[]> {
    if (!isUuid(bookId) || validateDate(on, 'on')) return [];
    const { rows } = await this.pool.query(
      `select ${MEMBERSHIP_COLUMNS}, c.voting,
              (select json_agg(json_build_array(e.to_state, to_char(e.effective_on, 'YYYY-MM-DD'), e.seq) order by e.seq)
                 from membership_event e where e.book_id = m.book_id and e.membership_id = m.id) as events
         from membership m join member_class c on c.book_id = m.book_id and c.id = m.class_id
        where m.book_id = $1 and m.applied_on <= $2::date and c.voting
          -- a membership that had ended by that day cannot be on the roll
          and not (m.state in ('WITHDRAWN', 'TERMINATED') and m.state_since <= $2::date)
        order by m.member_number`,
      [bookId, on],
    );
    const memberships = votingRoll(
      rows.map((r) => ({
        partyId: r.party_id as string,
        voting: r.voting as boolean,
        events: (r.events as [MembershipState, string, number][]).map(
          ([toState, effectiveOn, seq]): StateEvent => ({ toState, effectiveOn, seq }),
        ),
        item: membershipFromRow(r),
      })),
      on,
    );
    const parties = await this.getParties(memberships.map((m) => ({ bookId, id: m.partyId })));
    const byId = new Map(parties.map((p) => [p.id, p]));
    return memberships.map((membership) => ({ membership, party: byId.get(membership.partyId)! }));
  }

  // ---------- member tokens ----------

  /**
   * A treasurer invites a member: a new principal, named without personal data
   * (`member <number> of <co-op>`), with MEMBER grants on each of the member's five accounts, and
   * a token for it. The token is in the answer only (shown once). Any membership state is accepted:
   * a former member still reads their statement and the capital held for them.
   */
  async issueMemberToken(
    input: IssueMemberTokenInput,
    actor: Principal,
  ): Promise<{ token: string; memberToken: MemberTokenRecord } | LedgerError> {
    if (!mayWriteBook(actor, input.bookId)) return unknownMembership();
    const labelError = text(input.label, 'label', 200);
    if (labelError) return labelError;
    const [membership] = await this.getMemberships([{ bookId: input.bookId, id: input.membershipId }]);
    if (!membership) return unknownMembership();
    const [coop] = await this.getCoops([input.bookId]);
    if (!coop) return unknownMembership();
    const prefix = `member ${membership.memberNumber} of `;
    const issued = await this.auth.issueToken(
      {
        // A principal name is at most 200 characters; a long co-op name is cut.
        principalName: `${prefix}${coop.name}`.slice(0, 200),
        grants: MEMBER_ACCOUNT_ROLES.map((role) => ({
          role: 'MEMBER' as const,
          scope: `${membership.bookId}:${membership.accounts[role]}`,
        })),
        label: input.label?.trim() || `issued by ${actor.id}`,
        expiresAt: input.expiresAt ?? null,
      },
      INVITER,
    );
    if (issued instanceof LedgerError) return issued;
    const [memberToken] = await this.memberTokenRecords(input.bookId, issued.record.id);
    return { token: issued.token, memberToken: memberToken! };
  }

  /**
   * Revokes a member token of the co-op: one whose grants are all MEMBER grants on accounts of this
   * book. Any other token (an admin's, a treasurer's, another co-op's member's), an unknown one, or
   * a co-op the actor may not write answers like an unknown token in AuthService.revokeToken, so
   * token ids cannot be probed. Revoking again keeps the first revocation time.
   */
  async revokeMemberToken(
    input: RevokeMemberTokenInput,
    actor: Principal,
  ): Promise<MemberTokenRecord | LedgerError> {
    if (!mayWriteBook(actor, input.bookId)) return unknownToken();
    if (!isUuid(input.bookId) || !isUuid(input.tokenId)) return unknownToken();
    const [found] = await this.memberTokenRecords(input.bookId, input.tokenId);
    if (!found) return unknownToken();
    // Grants never change after a token is issued, so the check above still holds here.
    const revoked = await this.auth.revokeToken(input.tokenId, INVITER);
    if (revoked instanceof LedgerError) return revoked;
    return (await this.memberTokenRecords(input.bookId, input.tokenId))[0]!;
  }

  /** The co-op's member tokens, oldest first (at most MEMBER_TOKENS_MAX); empty for anyone who may not write it. */
  async memberTokens(bookId: string, actor: Principal): Promise<MemberTokenRecord[]> {
    if (!mayWriteBook(actor, bookId) || !isUuid(bookId)) return [];
    return this.memberTokenRecords(bookId, null);
  }

  private async memberTokenRecords(bookId: string, tokenId: string | null): Promise<MemberTokenRecord[]> {
    const { rows } = await this.pool.query(MEMBER_TOKENS_SQL, [bookId, tokenId, MEMBER_TOKENS_MAX]);
    const date = (v: unknown) => (v === null ? null : new Date(v as string));
    return rows.map((r) => ({
      bookId,
      id: r.id,
      label: r.label,
      membershipId: r.membership_id ?? null,
      createdAt: new Date(r.created_at),
      expiresAt: date(r.expires_at),
      revokedAt: date(r.revoked_at),
      lastUsedAt: date(r.last_used_at),
    }));
  }
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

/**
 * Who issues and revokes member tokens in AuthService (which takes admins only): the system, on
 * behalf of a treasurer CoopService has checked first.
 */
const INVITER = systemPrincipal('coop-invite');

/**
 * A co-op's member tokens: tokens whose grants are all MEMBER grants on accounts of the book (at
 * least one), with the membership they name. `$1` is a checked uuid, so `like $1::text || ':%'` holds
 * no wildcard but the suffix one.
 */
const MEMBER_TOKENS_SQL = `
with tokens as (
  select t.id, t.principal_id, t.label, t.created_at, t.expires_at, t.revoked_at, t.last_used_at
    from api_token t
   where t.principal_id in (select g.principal_id from role_grant g where g.role = 'MEMBER' and g.scope_id like $1::text || ':%')
     and not exists (select 1 from role_grant g where g.principal_id = t.principal_id
                      and (g.role <> 'MEMBER' or g.scope_id not like $1::text || ':%'))
     and ($2::uuid is null or t.id = $2::uuid)
   order by t.created_at, t.id limit $3
), member_accounts as (
  select m.id::text as membership_id, a.account_id::text as account_id
    from membership m
   cross join lateral unnest(array[${MEMBER_ACCOUNT_COLUMNS}]) as a(account_id)
   where m.book_id = $1::uuid
), owners as (
  select k.id, min(a.membership_id) as membership_id, count(distinct a.membership_id) as memberships
    from tokens k join role_grant g on g.principal_id = k.principal_id
    join member_accounts a on a.account_id = split_part(g.scope_id, ':', 2)
   group by k.id
)
select k.id, k.label, k.created_at, k.expires_at, k.revoked_at, k.last_used_at,
       case when o.memberships = 1 then o.membership_id end as membership_id
  from tokens k left join owners o on o.id = k.id
 order by k.created_at, k.id`;

// ---------- building blocks shared with the CSV import ----------

/**
 * A ledger rejection of an entry this module built, told in the caller's terms: the entry's date
 * is the request's date field; line-level fields name nothing the caller sent.
 */
function asInputField(error: LedgerError, dateField: string): LedgerError {
  if (error.field === 'effectiveAt') return new LedgerError(error.code, error.message, dateField);
  if (error.field?.startsWith('lines')) return new LedgerError(error.code, error.message, null);
  return error;
}

export function reusedKey(): LedgerError {
  return new LedgerError(
    'IDEMPOTENCY_KEY_REUSED',
    'this idempotencyKey was already used with a different request',
    'idempotencyKey',
  );
}

/** The book's chain-head lock: every writer of a book takes it first. */
export async function lockBook(client: PoolClient, bookId: string): Promise<boolean> {
  return isUuid(bookId) && (await lockBooks(client, [bookId])).has(bookId);
}

/** Locks memberships (in id order, like every writer) and reads them; unknown ids are left out. */
async function lockMemberships(
  client: PoolClient,
  bookId: string,
  ids: string[],
): Promise<MembershipRecord[]> {
  const valid = ids.filter(isUuid);
  if (!isUuid(bookId) || valid.length === 0) return [];
  const { rows } = await client.query(
    `select ${MEMBERSHIP_COLUMNS} from membership m where m.book_id = $1 and m.id = any($2::uuid[])
      order by m.id for no key update`,
    [bookId, valid],
  );
  return rows.map(membershipFromRow);
}

/** The entry posted with this idempotency key in the book, if any. */
async function entryIdByKey(db: Pool | PoolClient, bookId: string, key: string): Promise<string | null> {
  const { rows } = await db.query(
    'select id from journal_entry where book_id = $1 and idempotency_key = $2',
    [bookId, key],
  );
  return rows[0]?.id ?? null;
}

/** The UTC day of the latest posted line on these accounts (null when there is none). */
async function latestEntryDate(
  client: PoolClient,
  bookId: string,
  accountIds: string[],
): Promise<string | null> {
  const { rows } = await client.query(
    `select to_char(max(effective_at) at time zone 'UTC', 'YYYY-MM-DD') as day from journal_line
      where book_id = $1 and account_id = any($2::uuid[])`,
    [bookId, accountIds],
  );
  return rows[0]?.day ?? null;
}

async function membershipByKey(
  client: PoolClient,
  bookId: string,
  key: string,
): Promise<{ id: string; hash: string } | null> {
  const { rows } = await client.query(
    'select id, request_hash from membership where book_id = $1 and idempotency_key = $2',
    [bookId, key],
  );
  return rows[0] ? { id: rows[0].id, hash: rows[0].request_hash } : null;
}

/** Inserts parties with one statement (the CSV import brings thousands). */
export async function insertParties(
  db: Pool | PoolClient,
  bookId: string,
  parties: (Omit<RegisterPartyInput, 'bookId'> & { id: string })[],
): Promise<void> {
  const column = (f: (p: (typeof parties)[number]) => unknown) => parties.map(f);
  await db.query(
    `insert into party (book_id, id, kind, name, email, phone, address, organization_coop_id, external_ref, created_at)
     select $1, i, k, n, e, ph, a, o, r, now()
       from unnest($2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::uuid[], $9::text[])
         as x(i, k, n, e, ph, a, o, r)`,
    [
      bookId,
      column((p) => p.id),
      column((p) => p.kind ?? 'PERSON'),
      column((p) => p.name.trim()),
      column((p) => (p.email ?? '').trim()),
      column((p) => (p.phone ?? '').trim()),
      column((p) => (p.address ?? '').trim()),
      column((p) => p.organizationCoopId ?? null),
      column((p) => p.externalRef ?? null),
    ],
  );
}

export interface PrepareJoin {
  partyId: string;
  classId: string;
  appliedOn: string;
  idempotencyKey: string;
  requestHash: string;
  note: string;
  /** Further transitions recorded right after joining (the CSV import's status column). */
  transitions?: { toState: MembershipState; effectiveOn: string }[];
}

export interface PreparedJoin {
  membershipId: string;
  memberNumber: number;
  /** The subscription entry to post (none when the buy-in is zero). */
  ops: PostOp[];
}

/**
 * Inside a transaction holding the book lock, for any number of joins at once with a fixed number
 * of statements (set-based, so an import of thousands of members stays a few round trips): the
 * membership rows, each member's accounts, the APPLICANT events (and any further transitions),
 * and the subscription entries to post. The first join that cannot be made answers, by its index.
 */
export async function prepareJoins(
  client: PoolClient,
  bookId: string,
  joins: PrepareJoin[],
  actor: string | null,
): Promise<PreparedJoin[] | { index: number; error: LedgerError }> {
  for (const [index, j] of joins.entries()) {
    if (!isUuid(j.partyId))
      return { index, error: new LedgerError('UNKNOWN_PARTY', 'no such person or organisation', 'partyId') };
    if (!isUuid(j.classId))
      return { index, error: new LedgerError('UNKNOWN_MEMBER_CLASS', 'no such member class', 'classId') };
  }
  const partyIds = [...new Set(joins.map((j) => j.partyId))];
  const [coopRows, parties, classes, history] = [
    (
      await client.query(
        `update coop set member_seq = member_seq + $2 where book_id = $1
         returning member_seq, base_currency, (select json_object_agg(purpose, account_id) from coop_account where book_id = $1) as accounts`,
        [bookId, joins.length],
      )
    ).rows,
    (
      await client.query('select id from party where book_id = $1 and id = any($2::uuid[])', [
        bookId,
        partyIds,
      ])
    ).rows,
    (
      await client.query(
        'select id, buy_in::text as buy_in from member_class where book_id = $1 and id = any($2::uuid[])',
        [bookId, [...new Set(joins.map((j) => j.classId))]],
      )
    ).rows,
    (
      await client.query(
        `select party_id, min(member_number) filter (where state not in ('WITHDRAWN', 'TERMINATED')) as open_number,
                to_char(max(state_since), 'YYYY-MM-DD') as ended_on
           from membership where book_id = $1 and party_id = any($2::uuid[]) group by party_id`,
        [bookId, partyIds],
      )
    ).rows,
  ];
  const coop = coopRows[0];
  if (!coop) return { index: 0, error: unknownCoop() };
  const knownParties = new Set(parties.map((r) => r.id as string));
  const buyIns = new Map(classes.map((r) => [r.id as string, new Decimal(r.buy_in as string)]));
  const before = new Map(history.map((r) => [r.party_id as string, r]));
  const seen = new Set<string>();
  for (const [index, j] of joins.entries()) {
    if (!knownParties.has(j.partyId))
      return { index, error: new LedgerError('UNKNOWN_PARTY', 'no such person or organisation', 'partyId') };
    if (!buyIns.has(j.classId))
      return { index, error: new LedgerError('UNKNOWN_MEMBER_CLASS', 'no such member class', 'classId') };
    const h = before.get(j.partyId);
    if (h?.open_number != null || seen.has(j.partyId))
      return {
        index,
        error: new LedgerError(
          'ALREADY_MEMBER',
          h?.open_number != null
            ? `this person or organisation already holds membership ${h.open_number}`
            : 'this person or organisation joins twice',
          'partyId',
        ),
      };
    seen.add(j.partyId);
    // A rejoining member's new membership begins after the previous one ended, so no day has two.
    if (h?.ended_on && j.appliedOn < h.ended_on)
      return {
        index,
        error: new LedgerError(
          'INVALID_DATE',
          `appliedOn is before this member's previous membership ended (${h.ended_on})`,
          'appliedOn',
        ),
      };
  }
  const firstNumber = Number(coop.member_seq) - joins.length + 1;
  const unit = coop.base_currency as string;
  const parents = coop.accounts as Record<CoopAccountPurpose, string>;
  const prepared = joins.map((j, i) => {
    const memberNumber = firstNumber + i;
    const accounts = Object.fromEntries(MEMBER_ACCOUNT_ROLES.map((r) => [r, uuidv7()])) as Record<
      MemberAccountRole,
      string
    >;
    const steps = j.transitions ?? [];
    const events: { fromState: MembershipState | null; toState: MembershipState; effectiveOn: string }[] = [
      { fromState: null, toState: 'APPLICANT', effectiveOn: j.appliedOn },
    ];
    for (const step of steps) events.push({ fromState: events.at(-1)!.toState, ...step });
    return { j, memberNumber, accounts, events, id: uuidv7() };
  });
  const memberAccounts = prepared.flatMap((m) =>
    MEMBER_ACCOUNT_ROLES.map((role) => ({ role, id: m.accounts[role], memberNumber: m.memberNumber })),
  );
  // Every member account but internal capital has a lower bound of zero: the ledger itself then
  // refuses an overpayment, an over-redemption or a transfer of shares the member does not hold.
  await client.query(
    `insert into account (book_id, id, code, name, type, unit_code, parent_id, lower_bound, created_at)
     select $1, i, c, n, t, $2, pa, lb, now()
       from unnest($3::uuid[], $4::text[], $5::text[], $6::text[], $7::uuid[], $8::numeric[]) as x(i, c, n, t, pa, lb)`,
    [
      bookId,
      unit,
      memberAccounts.map((a) => a.id),
      memberAccounts.map((a) => memberAccountCode(a.role, a.memberNumber)),
      memberAccounts.map((a) => memberAccountName(a.role, a.memberNumber)),
      memberAccounts.map((a) => memberAccountType(a.role)),
      memberAccounts.map((a) => parents[MEMBER_ACCOUNT_PARENT[a.role]]),
      memberAccounts.map((a) => (a.role === 'INTERNAL_CAPITAL' ? null : '0')),
    ],
  );
  const column = (f: (m: (typeof prepared)[number]) => unknown) => prepared.map(f);
  await client.query(
    `insert into membership (book_id, id, member_number, party_id, class_id, state, state_since, applied_on, subscribed,
       share_capital_account_id, subscription_receivable_account_id, subscribed_unpaid_account_id,
       internal_capital_account_id, redemption_payable_account_id, idempotency_key, request_hash, created_at)
     select $1, id, n, p, c, s, ss, ao, b, a1, a2, a3, a4, a5, k, h, now()
       from unnest($2::uuid[], $3::int[], $4::uuid[], $5::uuid[], $6::text[], $7::date[], $8::date[], $9::numeric[],
                   $10::uuid[], $11::uuid[], $12::uuid[], $13::uuid[], $14::uuid[], $15::text[], $16::text[])
         as x(id, n, p, c, s, ss, ao, b, a1, a2, a3, a4, a5, k, h)`,
    [
      bookId,
      column((m) => m.id),
      column((m) => m.memberNumber),
      column((m) => m.j.partyId),
      column((m) => m.j.classId),
      column((m) => m.events.at(-1)!.toState),
      column((m) => m.events.at(-1)!.effectiveOn),
      column((m) => m.j.appliedOn),
      column((m) => buyIns.get(m.j.classId)!.toFixed()),
      column((m) => m.accounts.SHARE_CAPITAL),
      column((m) => m.accounts.SUBSCRIPTION_RECEIVABLE),
      column((m) => m.accounts.SUBSCRIBED_UNPAID),
      column((m) => m.accounts.INTERNAL_CAPITAL),
      column((m) => m.accounts.REDEMPTION_PAYABLE),
      column((m) => m.j.idempotencyKey),
      column((m) => m.j.requestHash),
    ],
  );
  const events = prepared.flatMap((m) => m.events.map((e, i) => ({ ...e, m, seq: i + 1 })));
  await client.query(
    `insert into membership_event (book_id, membership_id, seq, from_state, to_state, effective_on, recorded_at, recorded_by, note)
     select $1, m, s, f, t, d, now(), $2, n
       from unnest($3::uuid[], $4::int[], $5::text[], $6::text[], $7::date[], $8::text[]) as x(m, s, f, t, d, n)`,
    [
      bookId,
      actor,
      events.map((e) => e.m.id),
      events.map((e) => e.seq),
      events.map((e) => e.fromState),
      events.map((e) => e.toState),
      events.map((e) => e.effectiveOn),
      events.map((e) => (e.seq === 1 ? e.m.j.note : '')),
    ],
  );
  return prepared.map((m) => {
    const buyIn = buyIns.get(m.j.classId)!;
    const ops: PostOp[] = [];
    if (buyIn.gt(ZERO)) {
      const amount = buyIn.toFixed();
      ops.push(
        entryOp(
          bookId,
          'STANDARD',
          {
            idempotencyKey: `${m.j.idempotencyKey}:subscription`,
            effectiveAt: dayStart(m.j.appliedOn),
            memo: `Share subscription, member ${m.memberNumber}`,
            metadata: [
              { key: 'coop.event', value: 'SUBSCRIPTION' },
              { key: 'coop.membership', value: m.id },
            ],
            lines: [
              { accountId: m.accounts.SUBSCRIPTION_RECEIVABLE, side: 'DEBIT', amount, unit },
              { accountId: m.accounts.SUBSCRIBED_UNPAID, side: 'CREDIT', amount, unit },
            ],
          },
          null,
          actor,
        ),
      );
    }
    return { membershipId: m.id, memberNumber: m.memberNumber, ops };
  });
}

interface PrepareTransition {
  bookId: string;
  membershipId: string;
  toState: MembershipState;
  effectiveOn: string;
  today: string;
  note: string;
  method: PaymentMethod;
  idempotencyKey: string;
  requestHash: string;
  actor: string | null;
}

async function prepareTransition(client: PoolClient, p: PrepareTransition): Promise<PostOp[] | LedgerError> {
  const { rows } = await client.query(
    `select ${MEMBERSHIP_COLUMNS}, c.base_currency, c.redemption_rule,
            (select json_object_agg(purpose, account_id) from coop_account where book_id = m.book_id) as coop_accounts,
            (select to_char(max(effective_on), 'YYYY-MM-DD') from membership_event e where e.book_id = m.book_id and e.membership_id = m.id) as last_on,
            (select max(seq) from membership_event e where e.book_id = m.book_id and e.membership_id = m.id) as last_seq
       from membership m join coop c on c.book_id = m.book_id
      where m.book_id = $1 and m.id = $2 for no key update of m`,
    [p.bookId, p.membershipId],
  );
  if (!rows[0]) return unknownMembership();
  const m = membershipFromRow(rows[0]);
  const error = checkTransition(m.state, p.toState, rows[0].last_on, p.effectiveOn, p.today);
  if (error) return error;
  const ops: PostOp[] = [];
  let cancelled = ZERO;
  if (isLeaving(p.toState)) {
    // The redemption takes the balances as they finally are; dated before a later movement, it
    // would redeem capital the member did not yet hold on that day.
    const latest = await latestEntryDate(client, m.bookId, Object.values(m.accounts));
    if (latest !== null && p.effectiveOn < latest)
      return new LedgerError(
        'INVALID_DATE',
        `a member cannot leave before the latest entry on their accounts (${latest})`,
        'effectiveOn',
      );
    const locked = await lockAccounts(
      client,
      MEMBER_ACCOUNT_ROLES.map((role) => ({ bookId: m.bookId, id: m.accounts[role] })),
    );
    const b = memberBalances(m, [...locked.values()]);
    const unit = rows[0].base_currency as string;
    const coopAccounts = rows[0].coop_accounts as Record<CoopAccountPurpose, string>;
    const payTo =
      rows[0].redemption_rule === 'HOLD'
        ? m.accounts.REDEMPTION_PAYABLE
        : coopAccounts[p.method === 'CASH' ? 'CASH' : 'BANK'];
    const lines: LineInput[] = [];
    const pair = (debit: string, credit: string, amount: Decimal) => {
      if (amount.lte(ZERO)) return;
      lines.push({ accountId: debit, side: 'DEBIT', amount: amount.toFixed(), unit });
      lines.push({ accountId: credit, side: 'CREDIT', amount: amount.toFixed(), unit });
    };
    pair(m.accounts.SUBSCRIBED_UNPAID, m.accounts.SUBSCRIPTION_RECEIVABLE, b.subscriptionOutstanding);
    pair(m.accounts.SHARE_CAPITAL, payTo, b.shareCapital);
    pair(m.accounts.INTERNAL_CAPITAL, payTo, b.internalCapital);
    cancelled = b.subscriptionOutstanding;
    if (lines.length > 0) {
      const entry: EntryInput = {
        idempotencyKey: p.idempotencyKey,
        effectiveAt: dayStart(p.effectiveOn),
        memo: `Membership ${m.memberNumber} ${p.toState === 'WITHDRAWN' ? 'withdrawn' : 'terminated'}: ${
          rows[0].redemption_rule === 'HOLD' ? 'redemption held for the former member' : 'shares redeemed'
        }`,
        metadata: [
          { key: 'coop.event', value: 'REDEMPTION' },
          { key: 'coop.membership', value: m.id },
        ],
        lines,
      };
      ops.push(entryOp(m.bookId, 'STANDARD', entry, null, p.actor));
    }
  }
  await client.query(
    `update membership set state = $3, state_since = $4, subscription_cancelled = subscription_cancelled + $5
      where book_id = $1 and id = $2`,
    [m.bookId, m.id, p.toState, p.effectiveOn, cancelled.toFixed()],
  );
  await client.query(
    `insert into membership_event (book_id, membership_id, seq, from_state, to_state, effective_on, recorded_at, recorded_by, note, idempotency_key, request_hash)
     values ($1, $2, $3, $4, $5, $6, now(), $7, $8, $9, $10)`,
    [
      m.bookId,
      m.id,
      Number(rows[0].last_seq) + 1,
      m.state,
      p.toState,
      p.effectiveOn,
      p.actor,
      p.note,
      p.idempotencyKey,
      p.requestHash,
    ],
  );
  return ops;
}

export function memberBalances(m: MembershipRecord, rows: AccountRow[]): MemberBalances {
  const byId = new Map(rows.map((r) => [r.id, r]));
  const posted = (role: MemberAccountRole) => {
    const row = byId.get(m.accounts[role]);
    return row ? balanceView(row.type, row).posted : ZERO;
  };
  const outstanding = posted('SUBSCRIPTION_RECEIVABLE');
  return {
    shareCapital: posted('SHARE_CAPITAL'),
    subscriptionOutstanding: outstanding,
    internalCapital: posted('INTERNAL_CAPITAL'),
    redemptionPayable: posted('REDEMPTION_PAYABLE'),
    paidIn: m.subscribed.minus(outstanding).minus(m.subscriptionCancelled),
  };
}

export function paymentEntry(
  coop: CoopRecord,
  m: MembershipRecord,
  kind: 'INSTALMENT' | 'REDEMPTION',
  amount: string,
  input: { paidOn: string; method: PaymentMethod; idempotencyKey: string; memo?: string | null },
): EntryInput {
  const unit = coop.baseCurrency.code;
  const money = coop.accounts[input.method === 'CASH' ? 'CASH' : 'BANK'];
  const lines: LineInput[] =
    kind === 'INSTALMENT'
      ? [
          { accountId: money, side: 'DEBIT', amount, unit },
          { accountId: m.accounts.SHARE_CAPITAL, side: 'CREDIT', amount, unit },
          { accountId: m.accounts.SUBSCRIBED_UNPAID, side: 'DEBIT', amount, unit },
          { accountId: m.accounts.SUBSCRIPTION_RECEIVABLE, side: 'CREDIT', amount, unit },
        ]
      : [
          { accountId: m.accounts.REDEMPTION_PAYABLE, side: 'DEBIT', amount, unit },
          { accountId: money, side: 'CREDIT', amount, unit },
        ];
  return {
    idempotencyKey: input.idempotencyKey,
    effectiveAt: dayStart(input.paidOn),
    memo:
      input.memo ??
      (kind === 'INSTALMENT'
        ? `Buy-in instalment, member ${m.memberNumber}`
        : `Redemption repaid to former member ${m.memberNumber}`),
    metadata: [
      { key: 'coop.event', value: kind === 'INSTALMENT' ? 'INSTALMENT' : 'REDEMPTION_REPAID' },
      { key: 'coop.membership', value: m.id },
    ],
    lines,
  };
}
