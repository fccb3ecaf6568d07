/**
 * Pure rules of the co-ops domain that need no I/O: field checks, the answers to unknown or
 * foreign ids, a member's balances from their accounts, the entry of a payment.
 */
import {
  balanceView,
  COOP_KINDS,
  type EntryInput,
  isMonthDay,
  LedgerError,
  type LineInput,
  type MemberAccountRole,
  PARTY_KINDS,
  REDEMPTION_RULES,
  validateDate,
  ZERO,
} from '../core/index.js';
import type { AccountRow } from '../ledger/index.js';
import type {
  CoopProfileInput,
  CoopRecord,
  MemberBalances,
  MembershipRecord,
  PaymentMethod,
  RegisterPartyInput,
} from './records.js';

/** Entry effective instant for a calendar date: 00:00 UTC of that day (deterministic, so a retried request hashes the same). */
export function dayStart(date: string): Date {
  return new Date(`${date}T00:00:00.000Z`);
}

export function todayUtc(now: Date = new Date()): string {
  return now.toISOString().slice(0, 10);
}

/** A trimmed text field of `min` to `max` characters without control characters (tabs and newlines allowed). */
export function text(
  value: string | null | undefined,
  field: string,
  max: number,
  min = 0,
): LedgerError | null {
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

/** Checks a party's fields (also each row of a members file): the first problem, or null. */
export function validateParty(input: Omit<RegisterPartyInput, 'bookId'>): LedgerError | null {
  return partyProblems(input)[0] ?? null;
}

/** Every problem with a party's fields, in field order (registerParty reports them all at once). */
export function partyProblems(input: Omit<RegisterPartyInput, 'bookId'>): LedgerError[] {
  const problems: (LedgerError | null)[] = [
    input.kind != null && !PARTY_KINDS.includes(input.kind)
      ? new LedgerError('INVALID_INPUT', `kind must be one of ${PARTY_KINDS.join(', ')}`, 'kind')
      : null,
    text(input.name, 'name', 200, 1),
    text(input.email, 'email', 254) ??
      (input.email && !/^[^\s@]+@[^\s@]+$/.test(input.email.trim())
        ? new LedgerError('INVALID_INPUT', 'email must look like name@host', 'email')
        : null),
    text(input.phone, 'phone', 50),
    text(input.address, 'address', 500),
    input.externalRef != null ? text(input.externalRef, 'externalRef', 100, 1) : null,
  ];
  return problems.filter((p): p is LedgerError => p !== null);
}

/**
 * Several problems of one request, answered at once: it is the first problem (a LedgerError, so
 * every caller that handles one handles this), and `all` lists every one in field order, which
 * the API returns as `userErrors`.
 */
export class InputProblems extends LedgerError {
  readonly all: readonly LedgerError[];

  constructor(problems: readonly LedgerError[]) {
    const first = problems[0]!;
    super(first.code, first.message, first.field);
    this.all = problems;
  }
}

// The answers to an actor who may not write the co-op: those of an unknown co-op or membership.
export const unknownCoop = (field = 'coopId') => new LedgerError('UNKNOWN_COOP', 'no such co-op', field);
export const unknownMembership = (field = 'membershipId') =>
  new LedgerError('UNKNOWN_MEMBERSHIP', 'no such membership', field);
export const unknownParty = () =>
  new LedgerError('UNKNOWN_PARTY', 'no such person or organisation', 'partyId');
export const unknownClass = () => new LedgerError('UNKNOWN_MEMBER_CLASS', 'no such member class', 'classId');

/**
 * A ledger rejection of an entry this module built, told in the caller's terms: the entry's date
 * is the request's date field; line-level fields name nothing the caller sent.
 */
export function asInputField(error: LedgerError, dateField: string): LedgerError {
  if (error.field === 'effectiveAt') return new LedgerError(error.code, error.message, dateField);
  if (error.field?.startsWith('lines')) return new LedgerError(error.code, error.message, null);
  return error;
}

/**
 * What the rows of a CSV import are keyed by: "csv!<file key>#<line>" (its membership, its payment
 * entry; a subscription entry adds ":subscription"). No other request of a co-op may take a key
 * that begins with "csv!" (reservedKey), so a row's key is never one a payment, a join, a state
 * change or a transfer already holds, nor can one of them later take a row's. Files imported
 * before this form keyed their rows "<file key>#<line>": their replays answer from the import's
 * own record, never from those keys, so nothing reads the old form back.
 */
export const IMPORT_ROW_KEY_PREFIX = 'csv!';

export function importRowKey(fileKey: string, line: number): string {
  return `${IMPORT_ROW_KEY_PREFIX}${fileKey}#${line}`;
}

/** The refusal of a request's key in the form kept for CSV import rows, or null. */
export function reservedKey(key: string, field = 'idempotencyKey'): LedgerError | null {
  return typeof key === 'string' && key.startsWith(IMPORT_ROW_KEY_PREFIX)
    ? new LedgerError(
        'INVALID_IDEMPOTENCY_KEY',
        `an idempotencyKey may not begin with "${IMPORT_ROW_KEY_PREFIX}" (kept for the rows of CSV imports)`,
        field,
      )
    : null;
}

export function reusedKey(): LedgerError {
  return new LedgerError(
    'IDEMPOTENCY_KEY_REUSED',
    'this idempotencyKey was already used with a different request',
    'idempotencyKey',
  );
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
