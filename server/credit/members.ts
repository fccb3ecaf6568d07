/**
 * Members and their limits. A steward adds a co-op: it gets an account in the network's unit
 * (`M00001`, a LIABILITY of the network: its balance is what the network owes it) whose lower
 * bound is minus its credit limit and whose upper bound, when the policy or the steward sets one,
 * caps what it may hold. The ledger enforces both on every entry (BALANCE_BOUND_EXCEEDED).
 *
 * Every change of a limit is logged with who, when and why: joining (JOIN), a steward (STEWARD,
 * which pins the member's limit: MANUAL), the policy's dynamic growth (POLICY, for members whose
 * limit follows the policy). A limit only grows by policy; lowering one is a steward's decision and
 * may leave a balance beyond it (the member then cannot pay until it is back within).
 */
import type { CoopRecord } from '../coops/index.js';
import {
  balanceView,
  type CreditPolicy,
  Decimal,
  grownLimit,
  grownLimitReason,
  LedgerError,
  type Principal,
  parseAmount,
  type Unit,
} from '../core/index.js';
import {
  type AccountRow,
  insertAccounts,
  lockAccounts,
  lockBooks,
  setAccountBounds,
} from '../ledger/index.js';
import { requestHash } from '../platform/hashing.js';
import { isUuid, uuidv7 } from '../platform/ids.js';
import { type TxClient, withTransaction } from '../platform/transaction.js';
import type { CreditDeps } from './deps.js';
import { currentPolicies, getNetwork } from './networks.js';
import type { JoinNetworkInput, LimitChangeRecord, MemberRecord, SetLimitInput } from './records.js';
import {
  checkKey,
  checkText,
  isSteward,
  rejected,
  reusedKey,
  unknownMember,
  unknownNetwork,
} from './rules.js';
import {
  allMembers,
  insertLimitChanges,
  insertMember,
  type LimitChangeRow,
  limitChangeByKey,
  type MemberRow,
  memberRows,
  memberWhere,
  type NewLimitChange,
  nextMemberNumber,
  setLimitMode,
} from './store.js';
import { salesOf } from './store-clearing.js';

const REASON_LENGTH_MAX = 500;

export const memberCode = (n: number) => `M${String(n).padStart(5, '0')}`;

export function toLimitChange(r: LimitChangeRow): LimitChangeRecord {
  return { ...r };
}

/** Members with their accounts' state and their co-ops' names. */
export async function memberRecords(deps: CreditDeps, rows: MemberRow[]): Promise<MemberRecord[]> {
  if (rows.length === 0) return [];
  const accounts = await deps.ledger.getAccounts(rows.map((m) => ({ bookId: m.bookId, id: m.accountId })));
  const byId = new Map(accounts.map((a) => [a.id, a]));
  const coops = await deps.coops.getCoops([...new Set(rows.map((m) => m.coopBookId))]);
  const names = new Map(coops.map((c) => [c.id, c.name]));
  return rows.map((m) => {
    const account = byId.get(m.accountId)!;
    const view = balanceView(account.type, account);
    return {
      bookId: m.bookId,
      id: m.id,
      number: m.number,
      coopId: m.coopBookId,
      coopName: names.get(m.coopBookId) ?? '',
      accountId: m.accountId,
      accountCode: account.code,
      limit: account.lowerBound ? account.lowerBound.neg() : new Decimal(0),
      upperBound: account.upperBound,
      limitMode: m.limitMode,
      balance: view.posted,
      available: view.available,
      projected: view.projected,
      joinedAt: m.joinedAt,
      joinedBy: m.joinedBy,
    };
  });
}

export async function getMembers(
  deps: CreditDeps,
  keys: { bookId: string; id: string }[],
): Promise<MemberRecord[]> {
  const rows = await memberRows(
    deps.pool,
    keys.filter((k) => isUuid(k.bookId) && isUuid(k.id)),
  );
  return memberRecords(deps, rows);
}

function limitOf(text: string, unit: Unit, field: string): Decimal | LedgerError {
  return parseAmount(text, unit, field);
}

function upperOf(text: string, unit: Unit, field: string): Decimal | LedgerError {
  return parseAmount(text, unit, field, { allowZero: true });
}

/** Adds a co-op to the network (stewards). */
export async function joinNetwork(
  deps: CreditDeps,
  input: JoinNetworkInput,
  actor: Principal,
): Promise<{ member: MemberRecord; replayed: boolean } | LedgerError> {
  if (!isSteward(actor, input.bookId)) return unknownNetwork();
  const network = await getNetwork(deps, input.bookId);
  if (!network) return unknownNetwork();
  const problems: LedgerError[] = [];
  const coop: CoopRecord | undefined = isUuid(input.coopId)
    ? (await deps.coops.getCoops([input.coopId]))[0]
    : undefined;
  if (!coop) problems.push(new LedgerError('UNKNOWN_COOP', 'no such co-op', 'coopId'));
  const policy = (await currentPolicies(deps, [input.bookId])).get(input.bookId)!.policy;
  let limit = policy.defaultLimit;
  let upper = policy.defaultUpperBound;
  if (input.limit !== null && input.limit !== undefined) {
    const parsed = limitOf(input.limit, network.unit, 'limit');
    if (parsed instanceof LedgerError) problems.push(parsed);
    else limit = parsed;
  }
  if (input.upperBound !== null && input.upperBound !== undefined) {
    const parsed = upperOf(input.upperBound, network.unit, 'upperBound');
    if (parsed instanceof LedgerError) problems.push(parsed);
    else upper = parsed;
  }
  const key = input.idempotencyKey ?? null;
  if (key !== null) {
    const keyError = checkKey(key);
    if (keyError) problems.push(keyError);
  }
  if (problems.length > 0 || !coop) return rejected(problems);
  const hash = requestHash('joinCreditNetwork', input);
  const manual = input.limit !== null && input.limit !== undefined;
  const result = await withTransaction(deps.pool, async (client) => {
    await lockBooks(client, [input.bookId]);
    if (key !== null) {
      const prior = await memberWhere(client, input.bookId, { key });
      if (prior) return prior.requestHash === hash ? { id: prior.id, replayed: true } : reusedKey();
    }
    if (await memberWhere(client, input.bookId, { coopBookId: coop.id }))
      return new LedgerError(
        'ALREADY_NETWORK_MEMBER',
        `${coop.name} is already a member of this network`,
        'coopId',
      );
    const number = await nextMemberNumber(client, input.bookId);
    const id = uuidv7();
    const accountId = uuidv7();
    await insertAccounts(client, input.bookId, network.unit.code, [
      {
        id: accountId,
        code: memberCode(number),
        name: `Member ${number}: ${coop.name}`.slice(0, 200),
        type: 'LIABILITY',
        lowerBound: limit.neg().toFixed(),
      },
    ]);
    if (upper !== null)
      await setAccountBounds(client, input.bookId, accountId, limit.neg().toFixed(), upper.toFixed());
    await insertMember(client, {
      bookId: input.bookId,
      id,
      number,
      coopBookId: coop.id,
      accountId,
      limitMode: manual ? 'MANUAL' : 'POLICY',
      key,
      hash: key ? hash : null,
      joinedBy: actor.id,
    });
    await insertLimitChanges(client, [
      {
        bookId: input.bookId,
        id: uuidv7(),
        memberId: id,
        limitBefore: null,
        limitAfter: limit.toFixed(),
        upperBefore: null,
        upperAfter: upper?.toFixed() ?? null,
        source: 'JOIN',
        reason: manual ? 'joined with a limit set by a steward' : "joined with the policy's default limit",
        key: null,
        hash: null,
        actor: actor.id,
      },
    ]);
    return { id, replayed: false };
  });
  if (result instanceof LedgerError) return result;
  const [member] = await getMembers(deps, [{ bookId: input.bookId, id: result.id }]);
  return { member: member!, replayed: result.replayed };
}

/** Sales of members' accounts over the policy's window up to now. */
async function salesInWindow(
  deps: CreditDeps,
  client: TxClient,
  bookId: string,
  policy: CreditPolicy,
  accountIds: string[],
): Promise<Map<string, Decimal>> {
  if (!policy.dynamic) return new Map();
  const now = deps.clock();
  const from = new Date(now.getTime() - policy.dynamic.windowDays * 86_400_000);
  return salesOf(client, bookId, accountIds, from, new Date(now.getTime() + 1));
}

/** Sets (or, with `limit: null`, returns to the policy) a member's limit and upper bound (stewards). */
export async function setCreditLimit(
  deps: CreditDeps,
  input: SetLimitInput,
  actor: Principal,
): Promise<{ member: MemberRecord; change: LimitChangeRecord; replayed: boolean } | LedgerError> {
  if (!isSteward(actor, input.bookId)) return unknownNetwork();
  const network = await getNetwork(deps, input.bookId);
  if (!network) return unknownNetwork();
  const problems: LedgerError[] = [];
  let limit: Decimal | null = null;
  if (input.limit !== null) {
    const parsed = limitOf(input.limit, network.unit, 'limit');
    if (parsed instanceof LedgerError) problems.push(parsed);
    else limit = parsed;
  }
  let upper: Decimal | null | undefined;
  if (input.upperBound === null) upper = null;
  else if (input.upperBound !== undefined) {
    const parsed = upperOf(input.upperBound, network.unit, 'upperBound');
    if (parsed instanceof LedgerError) problems.push(parsed);
    else upper = parsed;
  }
  const reasonError = checkText(input.reason, 'reason', REASON_LENGTH_MAX);
  if (reasonError) problems.push(reasonError);
  const keyError = checkKey(input.idempotencyKey);
  if (keyError) problems.push(keyError);
  if (!isUuid(input.memberId)) problems.push(unknownMember('memberId'));
  if (problems.length > 0) return rejected(problems);
  const hash = requestHash('setCreditLimit', input);
  const result = await withTransaction(deps.pool, async (client) => {
    await lockBooks(client, [input.bookId]);
    const prior = await limitChangeByKey(client, input.bookId, input.idempotencyKey);
    if (prior)
      return prior.requestHash === hash && prior.memberId === input.memberId
        ? { change: prior, replayed: true }
        : reusedKey();
    const [member] = await memberRows(client, [{ bookId: input.bookId, id: input.memberId }]);
    if (!member) return unknownMember('memberId');
    const account = (await lockAccounts(client, [{ bookId: input.bookId, id: member.accountId }])).get(
      `${input.bookId}/${member.accountId}`,
    )!;
    let newLimit = limit;
    if (newLimit === null) {
      // Back to the policy: its default, grown by its dynamic part.
      const policy = (await currentPolicies(deps, [input.bookId])).get(input.bookId)!.policy;
      const sales = (await salesInWindow(deps, client, input.bookId, policy, [member.accountId])).get(
        member.accountId,
      );
      newLimit =
        grownLimit(policy, sales ?? new Decimal(0), policy.defaultLimit, network.unit.scale) ??
        policy.defaultLimit;
    }
    const newUpper = upper === undefined ? account.upperBound : upper;
    await setAccountBounds(
      client,
      input.bookId,
      member.accountId,
      newLimit.neg().toFixed(),
      newUpper?.toFixed() ?? null,
    );
    await setLimitMode(client, input.bookId, member.id, limit === null ? 'POLICY' : 'MANUAL');
    const change: NewLimitChange = {
      bookId: input.bookId,
      id: uuidv7(),
      memberId: member.id,
      limitBefore: account.lowerBound?.neg().toFixed() ?? null,
      limitAfter: newLimit.toFixed(),
      upperBefore: account.upperBound?.toFixed() ?? null,
      upperAfter: newUpper?.toFixed() ?? null,
      source: 'STEWARD',
      reason: input.reason.trim(),
      key: input.idempotencyKey,
      hash,
      actor: actor.id,
    };
    await insertLimitChanges(client, [change]);
    return { change: (await limitChangeByKey(client, input.bookId, input.idempotencyKey))!, replayed: false };
  });
  if (result instanceof LedgerError) return result;
  const [member] = await getMembers(deps, [{ bookId: input.bookId, id: input.memberId }]);
  return { member: member!, change: toLimitChange(result.change), replayed: result.replayed };
}

/** The principal the policy's own growth is logged under when it follows a sale, not a steward's call. */
export const POLICY_ACTOR_ID = 'system:credit-policy';

/**
 * The policy's dynamic growth of these members' limits (those following the policy), inside the
 * caller's transaction with their accounts locked: default + salesPercent of each one's sales in
 * the window, up to the cap, where that is more than it has. Returns the changes, logged.
 */
async function growLimits(
  deps: CreditDeps,
  client: TxClient,
  bookId: string,
  policy: CreditPolicy,
  members: MemberRow[],
  scale: number,
  actorId: string,
): Promise<NewLimitChange[]> {
  const following = members.filter((m) => m.limitMode === 'POLICY');
  if (!policy.dynamic || following.length === 0) return [];
  const accounts = await lockAccounts(
    client,
    following.map((m) => ({ bookId, id: m.accountId })),
  );
  // Read again under the accounts' locks: a steward's pin (setCreditLimit locks the account too)
  // committed while this waited would otherwise be overwritten by growth decided on a stale mode.
  const rows = (
    await memberRows(
      client,
      following.map((m) => ({ bookId, id: m.id })),
    )
  ).filter((m) => m.limitMode === 'POLICY');
  if (rows.length === 0) return [];
  const sales = await salesInWindow(
    deps,
    client,
    bookId,
    policy,
    rows.map((m) => m.accountId),
  );
  const out: NewLimitChange[] = [];
  for (const m of rows) {
    const account: AccountRow = accounts.get(`${bookId}/${m.accountId}`)!;
    const current = account.lowerBound ? account.lowerBound.neg() : new Decimal(0);
    const s = sales.get(m.accountId) ?? new Decimal(0);
    const grown = grownLimit(policy, s, current, scale);
    if (!grown) continue;
    await setAccountBounds(
      client,
      bookId,
      m.accountId,
      grown.neg().toFixed(),
      account.upperBound?.toFixed() ?? null,
    );
    out.push({
      bookId,
      id: uuidv7(),
      memberId: m.id,
      limitBefore: current.toFixed(),
      limitAfter: grown.toFixed(),
      upperBefore: account.upperBound?.toFixed() ?? null,
      upperAfter: account.upperBound?.toFixed() ?? null,
      source: 'POLICY',
      reason: grownLimitReason(policy, s, grown, scale),
      key: null,
      hash: null,
      actor: actorId,
    });
  }
  await insertLimitChanges(client, out);
  return out;
}

/**
 * The dynamic policy applied as members sell: called after a payment to them has posted (a
 * payment, an accepted request, a completed hold), so a payee's limit grows with its sales without
 * a steward calling applyCreditPolicy. Sales only rise with such payments and growth never lowers a
 * limit, so this keeps every limit where applyCreditPolicy would put it. It locks only the payees'
 * accounts (not the book: payments between other members go on); the changes are logged as POLICY
 * under POLICY_ACTOR_ID. Nothing is done (and nothing read) when the policy has no dynamic part.
 */
export async function growWithSales(
  deps: CreditDeps,
  bookId: string,
  policy: CreditPolicy,
  scale: number,
  memberIds: string[],
): Promise<number> {
  if (!policy.dynamic || memberIds.length === 0) return 0;
  const changes = await withTransaction(deps.pool, async (client) => {
    const rows = await memberRows(
      client,
      memberIds.map((id) => ({ bookId, id })),
    );
    return growLimits(deps, client, bookId, policy, rows, scale, POLICY_ACTOR_ID);
  });
  return changes.length;
}

/**
 * Applies the policy's dynamic growth to every member whose limit follows the policy: each gets
 * the default limit plus the policy's percent of its sales in the window, up to the cap, when that
 * is more than it has. Each change is logged (POLICY, with the figures in the reason). Payments
 * already apply it to their payees (growWithSales); stewards run it after changing the policy (a
 * new percent or cap applies to past sales too). It is idempotent by nature.
 */
export async function applyCreditPolicy(
  deps: CreditDeps,
  bookId: string,
  actor: Principal,
): Promise<LimitChangeRecord[] | LedgerError> {
  if (!isSteward(actor, bookId)) return unknownNetwork();
  const network = await getNetwork(deps, bookId);
  if (!network) return unknownNetwork();
  const changes = await withTransaction(deps.pool, async (client) => {
    await lockBooks(client, [bookId]);
    const policy = (await currentPolicies(deps, [bookId])).get(bookId)!.policy;
    return growLimits(
      deps,
      client,
      bookId,
      policy,
      await allMembers(client, bookId),
      network.unit.scale,
      actor.id,
    );
  });
  return changes.map((c) => ({
    bookId: c.bookId,
    id: c.id,
    memberId: c.memberId,
    limitBefore: c.limitBefore === null ? null : new Decimal(c.limitBefore),
    limitAfter: new Decimal(c.limitAfter),
    upperBefore: c.upperBefore === null ? null : new Decimal(c.upperBefore),
    upperAfter: c.upperAfter === null ? null : new Decimal(c.upperAfter),
    source: c.source,
    reason: c.reason,
    changedAt: deps.clock(),
    changedBy: c.actor,
  }));
}
