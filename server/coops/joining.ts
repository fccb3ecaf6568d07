/**
 * The membership steps every path shares (a single join or state change, and the CSV import), run
 * inside a transaction that holds the book's lock: they write the membership rows and return the
 * entries to post with them (PostingEngine.submitWith posts those in the same transaction).
 */
import {
  checkTransition,
  type Decimal,
  type EntryInput,
  isLeaving,
  LedgerError,
  type LineInput,
  MEMBER_ACCOUNT_PARENT,
  MEMBER_ACCOUNT_ROLES,
  type MemberAccountRole,
  type MembershipState,
  memberAccountCode,
  memberAccountName,
  memberAccountType,
  ZERO,
} from '../core/index.js';
import { entryOp, insertAccounts, latestLineDay, lockAccounts, type PostOp } from '../ledger/index.js';
import { isUuid, uuidv7 } from '../platform/ids.js';
import type { TxClient } from '../platform/transaction.js';
import type { LeavingHook } from './deps.js';
import type { PaymentMethod } from './records.js';
import {
  dayStart,
  InputProblems,
  memberBalances,
  unknownClass,
  unknownCoop,
  unknownMembership,
  unknownParty,
} from './rules.js';
import type { CoopStore } from './store.js';

/** null for no problem, the problem itself for one, an InputProblems carrying all for several. */
function oneOrAll(problems: (LedgerError | null)[]): LedgerError | null {
  const found = problems.filter((p): p is LedgerError => p !== null);
  return found.length === 0 ? null : found.length === 1 ? found[0]! : new InputProblems(found);
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
  store: CoopStore,
  client: TxClient,
  bookId: string,
  joins: PrepareJoin[],
  actor: string | null,
): Promise<PreparedJoin[] | { index: number; error: LedgerError }> {
  for (const [index, j] of joins.entries()) {
    const unknown = [isUuid(j.partyId) ? null : unknownParty(), isUuid(j.classId) ? null : unknownClass()];
    const error = oneOrAll(unknown);
    if (error) return { index, error };
  }
  const partyIds = [...new Set(joins.map((j) => j.partyId))];
  const coop = await store.reserveMemberNumbers(client, bookId, joins.length);
  const knownParties = await store.existingParties(client, bookId, partyIds);
  const buyIns = await store.classBuyIns(client, bookId, [...new Set(joins.map((j) => j.classId))]);
  const before = await store.partyHistory(client, bookId, partyIds);
  if (!coop) return { index: 0, error: unknownCoop() };
  const seen = new Set<string>();
  for (const [index, j] of joins.entries()) {
    const unknown = oneOrAll([
      knownParties.has(j.partyId) ? null : unknownParty(),
      buyIns.has(j.classId) ? null : unknownClass(),
    ]);
    if (unknown) return { index, error: unknown };
    const h = before.get(j.partyId);
    if (h?.openNumber != null || seen.has(j.partyId))
      return {
        index,
        error: new LedgerError(
          'ALREADY_MEMBER',
          h?.openNumber != null
            ? `this person or organisation already holds membership ${h.openNumber}`
            : 'this person or organisation joins twice',
          'partyId',
        ),
      };
    seen.add(j.partyId);
    // A rejoining member's new membership begins after the previous one ended, so no day has two.
    if (h?.endedOn && j.appliedOn < h.endedOn)
      return {
        index,
        error: new LedgerError(
          'INVALID_DATE',
          `appliedOn is before this member's previous membership ended (${h.endedOn})`,
          'appliedOn',
        ),
      };
  }
  const { unit, accounts: parents } = coop;
  const prepared = joins.map((j, i) => {
    const memberNumber = coop.firstNumber + i;
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
  // Every member account but internal capital has a lower bound of zero: the ledger itself then
  // refuses an overpayment, an over-redemption or a transfer of shares the member does not hold.
  await insertAccounts(
    client,
    bookId,
    unit,
    prepared.flatMap((m) =>
      MEMBER_ACCOUNT_ROLES.map((role) => ({
        id: m.accounts[role],
        code: memberAccountCode(role, m.memberNumber),
        name: memberAccountName(role, m.memberNumber),
        type: memberAccountType(role),
        parentId: parents[MEMBER_ACCOUNT_PARENT[role]],
        lowerBound: role === 'INTERNAL_CAPITAL' ? null : '0',
      })),
    ),
  );
  await store.insertMemberships(
    client,
    bookId,
    prepared.map((m) => ({
      id: m.id,
      memberNumber: m.memberNumber,
      partyId: m.j.partyId,
      classId: m.j.classId,
      state: m.events.at(-1)!.toState,
      stateSince: m.events.at(-1)!.effectiveOn,
      appliedOn: m.j.appliedOn,
      subscribed: buyIns.get(m.j.classId)!.toFixed(),
      accounts: m.accounts,
      idempotencyKey: m.j.idempotencyKey,
      requestHash: m.j.requestHash,
    })),
  );
  await store.insertJoinEvents(
    client,
    bookId,
    actor,
    prepared.flatMap((m) =>
      m.events.map((e, i) => ({
        membershipId: m.id,
        seq: i + 1,
        fromState: e.fromState,
        toState: e.toState,
        effectiveOn: e.effectiveOn,
        note: i === 0 ? m.j.note : '',
      })),
    ),
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

export interface PrepareTransition {
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
  onLeaving?: LeavingHook;
}

/**
 * A state change inside a transaction holding the book lock: checks it, records it and returns the
 * entry of a leaving member (the unpaid subscription cancelled, share capital and positive internal
 * capital redeemed by the co-op's rule).
 */
export async function prepareTransition(
  store: CoopStore,
  client: TxClient,
  p: PrepareTransition,
): Promise<PostOp[] | LedgerError> {
  const found = await store.membershipForTransition(client, p.bookId, p.membershipId);
  if (!found) return unknownMembership();
  const m = found.membership;
  const error = checkTransition(m.state, p.toState, found.lastOn, p.effectiveOn, p.today);
  if (error) return error;
  const ops: PostOp[] = [];
  let cancelled: Decimal = ZERO;
  if (isLeaving(p.toState)) {
    // The redemption takes the balances as they finally are; dated before a later movement, it
    // would redeem capital the member did not yet hold on that day.
    const latest = await latestLineDay(client, m.bookId, Object.values(m.accounts));
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
    // A pending entry on the member's accounts (one a treasurer posted by hand) would be settled
    // after the redemption took the posted balances: a reserved debit made the redemption fail on
    // the bound with no reason given, a reserved credit landed later on the account of a member
    // who had gone, never redeemed. It is to be committed or voided first.
    if ([...locked.values()].some((a) => !a.pendingDebits.isZero() || !a.pendingCredits.isZero()))
      return new LedgerError(
        'INVALID_INPUT',
        `a pending entry reserves amounts on member ${m.memberNumber}'s accounts: commit or void it before the member leaves`,
        'membershipId',
      );
    const b = memberBalances(m, [...locked.values()]);
    const unit = found.baseCurrency;
    const payTo =
      found.redemptionRule === 'HOLD'
        ? m.accounts.REDEMPTION_PAYABLE
        : found.coopAccounts[p.method === 'CASH' ? 'CASH' : 'BANK'];
    const lines: LineInput[] = [];
    const pair = (debit: string, credit: string, amount: Decimal) => {
      if (amount.lte(ZERO)) return;
      lines.push({ accountId: debit, side: 'DEBIT', amount: amount.toFixed(), unit });
      lines.push({ accountId: credit, side: 'CREDIT', amount: amount.toFixed(), unit });
    };
    pair(m.accounts.SUBSCRIBED_UNPAID, m.accounts.SUBSCRIPTION_RECEIVABLE, b.subscriptionOutstanding);
    pair(m.accounts.SHARE_CAPITAL, payTo, b.shareCapital);
    // Part of a positive internal capital may stay for another domain's rule (see LeavingHook).
    const kept = p.onLeaving
      ? await p.onLeaving(client, {
          bookId: m.bookId,
          membershipId: m.id,
          effectiveOn: p.effectiveOn,
          internalCapital: b.internalCapital,
          idempotencyKey: p.idempotencyKey,
        })
      : ZERO;
    pair(m.accounts.INTERNAL_CAPITAL, payTo, b.internalCapital.minus(kept));
    cancelled = b.subscriptionOutstanding;
    if (lines.length > 0) {
      const entry: EntryInput = {
        idempotencyKey: p.idempotencyKey,
        effectiveAt: dayStart(p.effectiveOn),
        memo: `Membership ${m.memberNumber} ${p.toState === 'WITHDRAWN' ? 'withdrawn' : 'terminated'}: ${
          found.redemptionRule === 'HOLD' ? 'redemption held for the former member' : 'shares redeemed'
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
  await store.recordTransition(client, {
    bookId: m.bookId,
    membershipId: m.id,
    seq: found.lastSeq + 1,
    fromState: m.state,
    toState: p.toState,
    effectiveOn: p.effectiveOn,
    cancelled: cancelled.toFixed(),
    actor: p.actor,
    note: p.note,
    idempotencyKey: p.idempotencyKey,
    requestHash: p.requestHash,
  });
  return ops;
}
