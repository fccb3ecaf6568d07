/**
 * Reading a network: a member's history (the entries on its account, as a connection), the proof
 * that the network's balances sum to zero at any instant, and statistics reconciled with the
 * journal. Access is decided by the caller (the schema): stewards read everything, a member
 * co-op's treasurer its own account, history and requests and the network's totals.
 */
import {
  BALANCE_BANDS,
  balanceBand,
  Decimal,
  monthsBetween,
  summariseBalances,
  velocity,
} from '../core/index.js';
import { type EntryRecord, pages, postedTotalsAsOf } from '../ledger/index.js';
import type { CreditDeps } from './deps.js';
import { currentPolicies, getNetwork } from './networks.js';
import type { BalanceProof, CreditTransaction, MonthStatistics, NetworkStatistics } from './records.js';
import { STATISTICS_MONTHS_MAX } from './records.js';
import { allMembers, type MemberRow } from './store.js';
import { clearingTotals, monthlyPayments } from './store-clearing.js';

/** A member's view of an entry: its net movement and, for a payment between two, the other member. */
export function asTransaction(
  entry: EntryRecord,
  member: MemberRow,
  accountToMember: Map<string, string>,
): CreditTransaction {
  let amount = new Decimal(0);
  const others = new Set<string>();
  for (const l of entry.lines) {
    if (l.accountId === member.accountId)
      amount = l.side === 'CREDIT' ? amount.plus(l.amount) : amount.minus(l.amount);
    else {
      const other = accountToMember.get(l.accountId);
      if (other) others.add(other);
    }
  }
  return { entry, amount, counterpartyId: others.size === 1 ? [...others][0]! : null };
}

export async function accountOwners(deps: CreditDeps, bookId: string): Promise<Map<string, string>> {
  return new Map((await allMembers(deps.pool, bookId)).map((m) => [m.accountId, m.id]));
}

/** A page of the entries on a member's account, in (effectiveAt, seq) order, both ways. */
export function historyPage(
  deps: CreditDeps,
  member: MemberRow,
  q: pages.PageQuery<pages.EntryCursor>,
): Promise<EntryRecord[]> {
  return pages.entryPage(
    deps.ledger,
    { bookId: member.bookId, accountId: member.accountId, from: null, to: null, kinds: null },
    q,
  );
}

export function historyCount(deps: CreditDeps, member: MemberRow): Promise<number> {
  return pages.entryCount(deps.ledger, {
    bookId: member.bookId,
    accountId: member.accountId,
    from: null,
    to: null,
    kinds: null,
  });
}

/** Network-unit accounts: every member's and the network's clearing account. */
async function unitAccounts(deps: CreditDeps, bookId: string, clearingAccountId: string): Promise<string[]> {
  return [...(await allMembers(deps.pool, bookId)).map((m) => m.accountId), clearingAccountId];
}

/**
 * The balances of the network's unit as of an instant (inclusive), from the ledger's per-day
 * totals and that day's lines: their sum, positive and negative parts. `holds` is the invariant:
 * the sum is zero.
 */
export async function balanceProof(
  deps: CreditDeps,
  bookId: string,
  asOf: Date,
): Promise<BalanceProof | null> {
  const network = await getNetwork(deps, bookId);
  if (!network) return null;
  const ids = await unitAccounts(deps, bookId, network.clearingAccountId);
  const totals = await postedTotalsAsOf(deps.pool, bookId, ids, asOf);
  const balances = ids.map((id) => {
    const t = totals.get(id);
    return t ? t.credits.minus(t.debits) : new Decimal(0);
  });
  const s = summariseBalances(balances);
  return {
    bookId,
    asOf,
    unit: network.unit,
    accounts: s.accounts,
    sum: s.sum,
    positive: s.positive,
    negative: s.negative,
    holds: s.sum.isZero() && s.positive.eq(s.negative.neg()),
  };
}

const monthStart = (month: string) => new Date(`${month}-01T00:00:00.000Z`);
const nextMonth = (month: string) => {
  const d = monthStart(month);
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1));
};

/**
 * Statistics of months `from` to `to` (YYYY-MM, inclusive): payments (count and volume), active
 * accounts, velocity (volume over the positive balances at the month's end); the members' balances
 * now by band (near the limit: below the soft limit); what clearing cleared per currency.
 */
export async function statistics(
  deps: CreditDeps,
  bookId: string,
  from: string,
  to: string,
): Promise<NetworkStatistics | null> {
  const network = await getNetwork(deps, bookId);
  if (!network) return null;
  const months = monthsBetween(from, to).slice(0, STATISTICS_MONTHS_MAX);
  const members = await allMembers(deps.pool, bookId);
  const ids = members.map((m) => m.accountId);
  const rows = months.length
    ? await monthlyPayments(
        deps.pool,
        bookId,
        network.unit.code,
        monthStart(months[0]!),
        nextMonth(months.at(-1)!),
      )
    : [];
  const byMonth = new Map(rows.map((r) => [r.month, r]));
  const out: MonthStatistics[] = [];
  for (const month of months) {
    const end = new Date(nextMonth(month).getTime() - 1);
    const totals = ids.length ? await postedTotalsAsOf(deps.pool, bookId, ids, end) : new Map();
    const positive = summariseBalances(
      [...totals.values()].map((t: { debits: Decimal; credits: Decimal }) => t.credits.minus(t.debits)),
    ).positive;
    const r = byMonth.get(month);
    const volume = r?.volume ?? new Decimal(0);
    out.push({
      month,
      payments: r?.payments ?? 0,
      volume,
      activeAccounts: r?.active ?? 0,
      velocity: velocity(volume, positive),
      positiveBalancesAtEnd: positive,
    });
  }
  const policy = (await currentPolicies(deps, [bookId])).get(bookId)!.policy;
  const accounts = await deps.ledger.getAccounts(ids.map((id) => ({ bookId, id })));
  const bands = new Map<string, number>(BALANCE_BANDS.map((b) => [b, 0]));
  const balances: Decimal[] = [];
  for (const a of accounts) {
    const balance = a.postedCredits.minus(a.postedDebits);
    balances.push(balance);
    const limit = a.lowerBound ? a.lowerBound.neg() : new Decimal(0);
    const band = balanceBand(balance, limit, policy.softLimitPercent, network.unit.scale);
    bands.set(band, bands.get(band)! + 1);
  }
  const summary = summariseBalances(balances);
  return {
    bookId,
    unit: network.unit,
    from: months[0] ?? from,
    to: months.at(-1) ?? to,
    months: out,
    paymentsTotal: out.reduce((s, m) => s + m.payments, 0),
    volumeTotal: out.reduce((s, m) => s.plus(m.volume), new Decimal(0)),
    members: members.length,
    balances: [...bands].map(([band, count]) => ({ band, count })),
    positiveBalances: summary.positive,
    negativeBalances: summary.negative,
    clearings: await clearingTotals(deps.pool, bookId),
  };
}
