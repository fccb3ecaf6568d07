/**
 * Cooperatives and their members: the pure rules. No I/O, no clock: dates are calendar dates
 * written `YYYY-MM-DD` (a membership changes state on a day, not at an instant), and "today" is
 * always passed in.
 *
 * The money side of a membership, in the co-op's book (each member has their own sub-accounts):
 * - subscribing to the class's buy-in:   Dr subscriptions receivable (member) / Cr subscribed capital unpaid (member)
 * - each instalment paid:                 Dr cash or bank / Cr share capital (member)
 *                                         Dr subscribed capital unpaid (member) / Cr subscriptions receivable (member)
 *   so the member's share capital is their paid-up capital and the receivable is what is still owed;
 * - leaving (withdrawn or terminated):    the unpaid subscription is cancelled, and the paid-up share
 *   capital plus the internal capital account are repaid now (Cr cash or bank) or held as a
 *   redemption payable to the former member (Cr redemptions payable (member)), per the co-op's rule;
 * - a share transfer:                     Dr share capital (seller) / Cr share capital (buyer).
 */
import { LedgerError } from './errors.js';
import { Decimal, ZERO } from './money.js';

export const COOP_KINDS = [
  'WORKER',
  'CONSUMER',
  'PRODUCER',
  'MULTI_STAKEHOLDER',
  'HOUSING',
  'PLATFORM',
  'CREDIT_UNION',
  'OTHER',
] as const;
export type CoopKind = (typeof COOP_KINDS)[number];

export const REDEMPTION_RULES = ['REPAY_NOW', 'HOLD'] as const;
export type RedemptionRule = (typeof REDEMPTION_RULES)[number];

export const PARTY_KINDS = ['PERSON', 'ORGANIZATION'] as const;
export type PartyKind = (typeof PARTY_KINDS)[number];

export const MEMBERSHIP_STATES = ['APPLICANT', 'CANDIDATE', 'ACTIVE', 'WITHDRAWN', 'TERMINATED'] as const;
export type MembershipState = (typeof MEMBERSHIP_STATES)[number];

/** States a membership may move to from each state. WITHDRAWN and TERMINATED are final. */
export const TRANSITIONS: Readonly<Record<MembershipState, readonly MembershipState[]>> = {
  APPLICANT: ['CANDIDATE', 'ACTIVE', 'WITHDRAWN', 'TERMINATED'],
  CANDIDATE: ['ACTIVE', 'WITHDRAWN', 'TERMINATED'],
  ACTIVE: ['WITHDRAWN', 'TERMINATED'],
  WITHDRAWN: [],
  TERMINATED: [],
};

export function isFinalState(state: MembershipState): boolean {
  return TRANSITIONS[state].length === 0;
}

export function isLeaving(state: MembershipState): boolean {
  return state === 'WITHDRAWN' || state === 'TERMINATED';
}

/**
 * Purposes of the accounts every co-op's book starts with. Each maps to one account of the default
 * chart; the per-member purposes are parents whose children are the members' own accounts.
 */
export const COOP_ACCOUNT_PURPOSES = [
  'CASH',
  'BANK',
  'RECEIVABLES',
  'SUBSCRIPTIONS_RECEIVABLE',
  'PAYABLES',
  'REDEMPTIONS_PAYABLE',
  'MEMBER_SHARE_CAPITAL',
  'SUBSCRIBED_CAPITAL_UNPAID',
  'MEMBER_INTERNAL_CAPITAL',
  'RETAINED_PATRONAGE',
  'COLLECTIVE_RESERVE',
  'REVENUE',
  'EXPENSES',
] as const;
export type CoopAccountPurpose = (typeof COOP_ACCOUNT_PURPOSES)[number];

export type AccountKind = 'ASSET' | 'LIABILITY' | 'EQUITY' | 'REVENUE' | 'EXPENSE';

export interface ChartAccount {
  purpose: CoopAccountPurpose;
  code: string;
  name: string;
  type: AccountKind;
}

/** The default chart of a co-op's book. The treasurer may add accounts; these codes stay. */
export const DEFAULT_CHART: readonly ChartAccount[] = [
  { purpose: 'CASH', code: '1000', name: 'Cash', type: 'ASSET' },
  { purpose: 'BANK', code: '1010', name: 'Bank', type: 'ASSET' },
  { purpose: 'RECEIVABLES', code: '1100', name: 'Accounts receivable', type: 'ASSET' },
  {
    purpose: 'SUBSCRIPTIONS_RECEIVABLE',
    code: '1150',
    name: 'Share subscriptions receivable',
    type: 'ASSET',
  },
  { purpose: 'PAYABLES', code: '2000', name: 'Accounts payable', type: 'LIABILITY' },
  {
    purpose: 'REDEMPTIONS_PAYABLE',
    code: '2100',
    name: 'Share redemptions payable to former members',
    type: 'LIABILITY',
  },
  { purpose: 'MEMBER_SHARE_CAPITAL', code: '3000', name: 'Member share capital (paid up)', type: 'EQUITY' },
  {
    purpose: 'SUBSCRIBED_CAPITAL_UNPAID',
    code: '3010',
    name: 'Subscribed share capital not yet paid',
    type: 'EQUITY',
  },
  {
    purpose: 'MEMBER_INTERNAL_CAPITAL',
    code: '3100',
    name: "Members' internal capital accounts",
    type: 'EQUITY',
  },
  { purpose: 'RETAINED_PATRONAGE', code: '3200', name: 'Retained patronage', type: 'EQUITY' },
  {
    purpose: 'COLLECTIVE_RESERVE',
    code: '3300',
    name: 'Collective (indivisible) reserve',
    type: 'EQUITY',
  },
  { purpose: 'REVENUE', code: '4000', name: 'Revenue', type: 'REVENUE' },
  { purpose: 'EXPENSES', code: '5000', name: 'Expenses', type: 'EXPENSE' },
];

/** A member's own accounts: children of the chart's per-member parents. */
export const MEMBER_ACCOUNT_ROLES = [
  'SHARE_CAPITAL',
  'SUBSCRIPTION_RECEIVABLE',
  'SUBSCRIBED_UNPAID',
  'INTERNAL_CAPITAL',
  'REDEMPTION_PAYABLE',
] as const;
export type MemberAccountRole = (typeof MEMBER_ACCOUNT_ROLES)[number];

export const MEMBER_ACCOUNT_PARENT: Readonly<Record<MemberAccountRole, CoopAccountPurpose>> = {
  SHARE_CAPITAL: 'MEMBER_SHARE_CAPITAL',
  SUBSCRIPTION_RECEIVABLE: 'SUBSCRIPTIONS_RECEIVABLE',
  SUBSCRIBED_UNPAID: 'SUBSCRIBED_CAPITAL_UNPAID',
  INTERNAL_CAPITAL: 'MEMBER_INTERNAL_CAPITAL',
  REDEMPTION_PAYABLE: 'REDEMPTIONS_PAYABLE',
};

/** Account code of a member's account: the parent's code and the member number, e.g. `3000-00042`. */
export function memberAccountCode(role: MemberAccountRole, memberNumber: number): string {
  const parent = DEFAULT_CHART.find((a) => a.purpose === MEMBER_ACCOUNT_PARENT[role])!;
  return `${parent.code}-${String(memberNumber).padStart(5, '0')}`;
}

export function memberAccountName(role: MemberAccountRole, memberNumber: number): string {
  const label: Record<MemberAccountRole, string> = {
    SHARE_CAPITAL: 'Share capital',
    SUBSCRIPTION_RECEIVABLE: 'Subscription receivable',
    SUBSCRIBED_UNPAID: 'Subscribed capital unpaid',
    INTERNAL_CAPITAL: 'Internal capital account',
    REDEMPTION_PAYABLE: 'Redemption payable',
  };
  return `${label[role]}, member ${memberNumber}`;
}

export function memberAccountType(role: MemberAccountRole): AccountKind {
  return role === 'SUBSCRIPTION_RECEIVABLE'
    ? 'ASSET'
    : role === 'REDEMPTION_PAYABLE'
      ? 'LIABILITY'
      : 'EQUITY';
}

// ---------- calendar dates ----------

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** A valid calendar date `YYYY-MM-DD` from 1900-01-01 to 2999-12-31. */
export function isCalendarDate(text: string): boolean {
  const m = DATE.exec(text);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (y < 1900 || y > 2999 || mo < 1 || mo > 12 || d < 1) return false;
  return d <= daysInMonth(y, mo);
}

function daysInMonth(year: number, month: number): number {
  return [
    31,
    year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28,
    31,
    30,
    31,
    30,
    31,
    31,
    30,
    31,
    30,
    31,
  ][month - 1]!;
}

export function validateDate(text: string, field: string): LedgerError | null {
  return isCalendarDate(text) ? null : new LedgerError('INVALID_DATE', 'expected a date YYYY-MM-DD', field);
}

/** The date `months` calendar months after `date`, clamped to the month's last day (Jan 31 + 1 = Feb 28/29). */
export function addMonths(date: string, months: number): string {
  const m = DATE.exec(date)!;
  const total = Number(m[1]) * 12 + (Number(m[2]) - 1) + months;
  const year = Math.floor(total / 12);
  const month = (total % 12) + 1;
  const day = Math.min(Number(m[3]), daysInMonth(year, month));
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

/** `MM-DD` of a fiscal-year start; 02-29 is refused (it does not exist every year). */
export function isMonthDay(text: string): boolean {
  const m = /^(\d{2})-(\d{2})$/.exec(text);
  if (!m) return false;
  const [mo, d] = [Number(m[1]), Number(m[2])];
  return mo >= 1 && mo <= 12 && d >= 1 && d <= daysInMonth(2001, mo);
}

// ---------- state machine ----------

export interface StateEvent {
  toState: MembershipState;
  effectiveOn: string;
  /** Order of recording: breaks ties between events on the same day. */
  seq: number;
}

/**
 * Checks a transition. The date may not be before the membership's last transition (history is
 * written in order) nor after `today`.
 */
export function checkTransition(
  from: MembershipState,
  to: MembershipState,
  lastEffectiveOn: string,
  effectiveOn: string,
  today: string,
): LedgerError | null {
  if (!TRANSITIONS[from].includes(to)) {
    return new LedgerError(
      'ILLEGAL_TRANSITION',
      isFinalState(from)
        ? `the membership is ${from}, which is final`
        : `a membership cannot move from ${from} to ${to} (allowed: ${TRANSITIONS[from].join(', ')})`,
      'toState',
    );
  }
  if (effectiveOn < lastEffectiveOn) {
    return new LedgerError(
      'INVALID_DATE',
      `the transition cannot be dated before the membership's last change (${lastEffectiveOn})`,
      'effectiveOn',
    );
  }
  if (effectiveOn > today) return new LedgerError('INVALID_DATE', 'the date is in the future', 'effectiveOn');
  return null;
}

/** The state on a date (at the end of that day); null when the membership had not begun. */
export function stateOn(events: readonly StateEvent[], date: string): MembershipState | null {
  let state: MembershipState | null = null;
  let best: StateEvent | null = null;
  for (const e of events) {
    if (e.effectiveOn > date) continue;
    if (
      !best ||
      e.effectiveOn > best.effectiveOn ||
      (e.effectiveOn === best.effectiveOn && e.seq > best.seq)
    ) {
      best = e;
      state = e.toState;
    }
  }
  return state;
}

export interface RollCandidate<T> {
  partyId: string;
  voting: boolean;
  events: readonly StateEvent[];
  item: T;
}

/**
 * The voting roll on a date: members ACTIVE on that day in a class that votes. One member, one
 * vote: a party appears once, whatever shares or memberships it holds.
 */
export function votingRoll<T>(candidates: readonly RollCandidate<T>[], date: string): T[] {
  const seen = new Set<string>();
  const roll: T[] = [];
  for (const c of candidates) {
    if (!c.voting || stateOn(c.events, date) !== 'ACTIVE' || seen.has(c.partyId)) continue;
    seen.add(c.partyId);
    roll.push(c.item);
  }
  return roll;
}

// ---------- buy-in schedule ----------

/**
 * Splits `amount` into `parts` amounts at `scale` decimal places that sum exactly to it: each part
 * is the amount divided evenly and cut to the scale, and the cents left over go one each to the
 * first parts (so no instalment differs from another by more than one smallest unit).
 */
export function splitEvenly(amount: Decimal, parts: number, scale: number): Decimal[] {
  if (!Number.isInteger(parts) || parts < 1) throw new RangeError('parts must be a positive integer');
  const step = new Decimal(10).pow(-scale);
  const base = amount.div(parts).toDecimalPlaces(scale, Decimal.ROUND_DOWN);
  let leftover = amount.minus(base.times(parts)).div(step).toNumber();
  return Array.from({ length: parts }, () => {
    if (leftover > 0) {
      leftover--;
      return base.plus(step);
    }
    return base;
  });
}

export type InstalmentStatus = 'PAID' | 'PARTLY_PAID' | 'DUE' | 'OVERDUE' | 'UPCOMING' | 'CANCELLED';

export interface Instalment {
  number: number;
  dueOn: string;
  amount: Decimal;
  paid: Decimal;
  status: InstalmentStatus;
}

/**
 * The buy-in's instalment plan and how far it is paid: payments (in total `paidTotal`) settle the
 * instalments in order. `today` decides DUE (due today) and OVERDUE (due before today, unpaid);
 * a membership that has ended has its unpaid instalments CANCELLED.
 */
export function instalmentSchedule(input: {
  buyIn: Decimal;
  scale: number;
  count: number;
  intervalMonths: number;
  startOn: string;
  paidTotal: Decimal;
  today: string;
  ended: boolean;
}): Instalment[] {
  if (input.buyIn.isZero()) return [];
  let remaining = input.paidTotal;
  return splitEvenly(input.buyIn, input.count, input.scale).map((amount, i) => {
    const dueOn = addMonths(input.startOn, i * input.intervalMonths);
    const paid = remaining.lt(amount) ? Decimal.max(remaining, ZERO) : amount;
    remaining = remaining.minus(paid);
    const status: InstalmentStatus = paid.eq(amount)
      ? 'PAID'
      : input.ended
        ? 'CANCELLED'
        : paid.gt(ZERO)
          ? 'PARTLY_PAID'
          : dueOn < input.today
            ? 'OVERDUE'
            : dueOn === input.today
              ? 'DUE'
              : 'UPCOMING';
    return { number: i + 1, dueOn, amount, paid, status };
  });
}

export const MEMBER_CLASS_LIMITS = {
  instalmentCountMax: 240,
  instalmentIntervalMonthsMax: 24,
  classesPerCoopMax: 50,
} as const;

/** What a member cell of a file names: a member, or a text that is two members' (never taken). */
export type MemberNamed<T> = { member: T | undefined; ambiguous: string | null };

/**
 * How a file's member column is read (the members' payments CSV, patronage records): a member
 * number or an external_ref. A text of digits is also the number it spells, leading zeros aside
 * ("00001", as a register printing padded numbers writes member 1), unless an external_ref is
 * written exactly as the text: then it names that member. A text that is one member's number and
 * another's external_ref names neither (`ambiguous` says why): taking the number would credit one
 * member with the other's money.
 */
export function memberCellReader<T extends { memberNumber: number; externalRef: string | null }>(
  members: readonly T[],
  same: (a: T, b: T) => boolean,
): (text: string) => MemberNamed<T> {
  const byNumber = new Map(members.map((m) => [String(m.memberNumber), m]));
  const byRef = new Map(members.filter((m) => m.externalRef !== null).map((m) => [m.externalRef!, m]));
  return (text) => {
    const r = byRef.get(text);
    const n =
      byNumber.get(text) ??
      (r === undefined && /^[0-9]+$/.test(text) ? byNumber.get(text.replace(/^0+(?=[0-9])/, '')) : undefined);
    if (n && r && !same(n, r))
      return {
        member: undefined,
        ambiguous: `"${text}" is both member number ${n.memberNumber} and the external_ref of member ${r.memberNumber}`,
      };
    return { member: n ?? r, ambiguous: null };
  };
}
