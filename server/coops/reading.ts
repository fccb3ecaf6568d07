/**
 * Reading memberships: the register of members, their events, balances, instalment schedule and
 * statement, and the voting roll (one member, one vote). Reads check no caller: the schema decides
 * who may see what (treasurers, and the person through their MEMBER grants).
 */
import {
  balanceView,
  type Decimal,
  type Instalment,
  instalmentSchedule,
  isLeaving,
  LedgerError,
  MEMBER_ACCOUNT_ROLES,
  type MembershipState,
  votingRoll as rollOf,
  validateDate,
  ZERO,
} from '../core/index.js';
import { entriesOnAccounts, findAccounts, postedTotalsAsOf } from '../ledger/index.js';
import { isUuid } from '../platform/ids.js';
import type { CoopDeps } from './deps.js';
import {
  type MemberBalances,
  type MemberClassRecord,
  type MemberStatement,
  type MembershipEventRecord,
  type MembershipRecord,
  type PartyRecord,
  STATEMENT_ENTRIES_MAX,
} from './records.js';
import { getMemberClasses, getParties } from './register.js';
import { dayStart, memberBalances, todayUtc } from './rules.js';

type Key = { bookId: string; id: string };
const validKeys = (keys: Key[]) => keys.filter((k) => isUuid(k.bookId) && isUuid(k.id));

export async function getMemberships(deps: CoopDeps, keys: Key[]): Promise<MembershipRecord[]> {
  const valid = validKeys(keys);
  if (valid.length === 0) return [];
  return deps.store.findMemberships(valid);
}

export async function listMemberships(
  deps: CoopDeps,
  bookId: string,
  options: {
    afterNumber: number | null;
    limit: number;
    state: MembershipState | null;
    partyId?: string | null;
  },
): Promise<MembershipRecord[]> {
  if (!isUuid(bookId)) return [];
  return deps.store.listMemberships(bookId, {
    afterNumber: options.afterNumber,
    limit: options.limit,
    state: options.state,
    partyId: options.partyId && isUuid(options.partyId) ? options.partyId : null,
  });
}

/** Memberships that MEMBER grants (`<book>:<account>`, any of the member's accounts) belong to, as `<book>:<membership>`. */
export async function membershipIdsOfAccounts(deps: CoopDeps, keys: Key[]): Promise<string[]> {
  const valid = validKeys(keys);
  return valid.length === 0 ? [] : deps.store.ofAccounts(valid, 'id');
}

/** Parties that MEMBER grants (`<book>:<account>`) belong to, as `<book>:<party>`. */
export async function partyIdsOfAccounts(deps: CoopDeps, keys: Key[]): Promise<string[]> {
  const valid = validKeys(keys);
  return valid.length === 0 ? [] : deps.store.ofAccounts(valid, 'party_id');
}

export async function events(
  deps: CoopDeps,
  bookId: string,
  membershipId: string,
): Promise<MembershipEventRecord[]> {
  if (!isUuid(bookId) || !isUuid(membershipId)) return [];
  return deps.store.membershipEvents(bookId, membershipId);
}

/** The member's accounts over a period (dates inclusive): opening and closing balances and the entries between. */
export async function statement(
  deps: CoopDeps,
  m: MembershipRecord,
  from: string,
  to: string,
): Promise<MemberStatement | LedgerError> {
  const error = validateDate(from, 'from') ?? validateDate(to, 'to');
  if (error) return error;
  if (to < from) return new LedgerError('INVALID_DATE', 'to is before from', 'to');
  const ids = MEMBER_ACCOUNT_ROLES.map((role) => m.accounts[role]);
  const start = dayStart(from);
  const end = new Date(dayStart(to).getTime() + 86_400_000);
  const [rows, opening, closing, entries] = await Promise.all([
    findAccounts(
      deps.pool,
      ids.map((id) => ({ bookId: m.bookId, id })),
    ),
    postedTotalsAsOf(deps.pool, m.bookId, ids, new Date(start.getTime() - 1)),
    postedTotalsAsOf(deps.pool, m.bookId, ids, new Date(end.getTime() - 1)),
    entriesOnAccounts(deps.pool, m.bookId, ids, start, end, STATEMENT_ENTRIES_MAX + 1),
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
    // Movements are what the balances are made of: an entry that only reserves (a pending entry,
    // committed later by an entry of its own, voided, or still open) moves no posted balance, and
    // listing it showed a member credits that never were (opening + movements != closing).
    entries: entries
      .slice(0, STATEMENT_ENTRIES_MAX)
      .filter((e) => e.lines.some((l) => l.phase === 'POSTED' && ids.includes(l.accountId))),
    truncated: entries.length > STATEMENT_ENTRIES_MAX,
  };
}

/** Balances of many memberships, their accounts read in one query. */
export async function balancesOf(
  deps: CoopDeps,
  memberships: readonly MembershipRecord[],
): Promise<MemberBalances[]> {
  const rows = await findAccounts(
    deps.pool,
    memberships.flatMap((m) =>
      MEMBER_ACCOUNT_ROLES.map((role) => ({ bookId: m.bookId, id: m.accounts[role] })),
    ),
  );
  return memberships.map((m) => memberBalances(m, rows));
}

/**
 * The instalment plan of a membership whose class and balances are at hand (no I/O). An instalment
 * not fully paid says when it is owed, whatever part of it was paid (its `paid` tells that part):
 * OVERDUE past its day, DUE on it; PARTLY_PAID is left for a part paid ahead of the day.
 */
export function scheduleOf(
  deps: CoopDeps,
  m: MembershipRecord,
  cls: MemberClassRecord,
  b: MemberBalances,
): Instalment[] {
  const today = todayUtc(deps.clock());
  return instalmentSchedule({
    buyIn: m.subscribed,
    scale: cls.unit.scale,
    count: cls.instalmentCount,
    intervalMonths: cls.instalmentIntervalMonths,
    startOn: m.appliedOn,
    paidTotal: b.paidIn,
    today,
    ended: isLeaving(m.state),
  }).map((i) =>
    i.status !== 'PARTLY_PAID' || i.dueOn > today ? i : { ...i, status: i.dueOn < today ? 'OVERDUE' : 'DUE' },
  );
}

export async function schedule(deps: CoopDeps, m: MembershipRecord): Promise<Instalment[]> {
  const [[cls], [b]] = await Promise.all([
    getMemberClasses(deps, [{ bookId: m.bookId, id: m.classId }]),
    balancesOf(deps, [m]),
  ]);
  return scheduleOf(deps, m, cls!, b!);
}

/**
 * Members entitled to vote on a date: ACTIVE that day, in a voting class; one member, one vote.
 * The whole roll in one answer (a roll is read as a whole; a co-op's members are thousands at most).
 */
export async function votingRoll(
  deps: CoopDeps,
  bookId: string,
  on: string,
): Promise<{ membership: MembershipRecord; party: PartyRecord }[]> {
  if (!isUuid(bookId) || validateDate(on, 'on')) return [];
  const candidates = await deps.store.votingCandidates(bookId, on);
  const memberships = rollOf(
    candidates.map((c) => ({
      partyId: c.membership.partyId,
      voting: c.voting,
      events: c.events,
      item: c.membership,
    })),
    on,
  );
  const parties = await getParties(
    deps,
    memberships.map((m) => ({ bookId, id: m.partyId })),
  );
  const byId = new Map(parties.map((p) => [p.id, p]));
  return memberships.map((membership) => ({ membership, party: byId.get(membership.partyId)! }));
}
