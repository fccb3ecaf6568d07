/**
 * Memberships and their money: joining (with the subscription to the class's buy-in), state
 * changes (leaving redeems), buy-in instalments, repayment of held redemptions and share transfers.
 * Every money event is a balanced entry in the co-op's book, posted through the posting engine in
 * the same transaction as the membership rows it goes with (PostingEngine.submitWith), so a
 * membership and its money never disagree.
 *
 * Lock order, as everywhere: the book row (chain head) first, then the co-op row, then accounts.
 * A principal who may not write the co-op gets the answer of an unknown co-op or membership.
 * Membership events and entries record the actor's id (`recordedBy`, `postedBy`).
 */
import {
  type EntryInput,
  isLeaving,
  LedgerError,
  mayWriteBook,
  type Principal,
  parseAmount,
  validateDate,
  validateIdempotencyKey,
} from '../core/index.js';
import { entryIdByKey, entryOp, latestLineDay, lockBooks, type OpResult } from '../ledger/index.js';
import { requestHash } from '../platform/hashing.js';
import { isUuid } from '../platform/ids.js';
import type { TxClient } from '../platform/transaction.js';
import type { CoopDeps } from './deps.js';
import { prepareJoins, prepareTransition } from './joining.js';
import { getMemberships } from './reading.js';
import {
  type ChangeStateInput,
  JOIN_KEY_LENGTH_MAX,
  type JoinInput,
  type MembershipResult,
  type PaymentInput,
  type TransferInput,
} from './records.js';
import { getCoops } from './register.js';
import {
  asInputField,
  dayStart,
  InputProblems,
  paymentEntry,
  reservedKey,
  reusedKey,
  text,
  todayUtc,
  unknownClass,
  unknownCoop,
  unknownMembership,
  unknownParty,
} from './rules.js';

/** What a membership transaction answers: the membership, and the key of its entry on a replay. */
interface Outcome {
  id: string;
  replayed: boolean;
  entryKey: string | null;
}

/** The book's chain-head lock: every writer of a book takes it first. */
export async function lockBook(client: TxClient, bookId: string): Promise<boolean> {
  return isUuid(bookId) && (await lockBooks(client, [bookId])).has(bookId);
}

/** Joins a party to the co-op as an APPLICANT of a class, subscribing to the class's buy-in. */
export async function join(
  deps: CoopDeps,
  input: JoinInput,
  actor: Principal,
): Promise<MembershipResult | LedgerError> {
  if (!mayWriteBook(actor, input.bookId)) return unknownCoop();
  // Every problem found without the database, at once (the ids' existence is checked below, both
  // together too).
  const problems: (LedgerError | null)[] = [
    validateIdempotencyKey(input.idempotencyKey) ??
      reservedKey(input.idempotencyKey) ??
      // The subscription entry's key is this key + ":subscription", which must fit the ledger's 128.
      (input.idempotencyKey.length > JOIN_KEY_LENGTH_MAX
        ? new LedgerError(
            'INVALID_IDEMPOTENCY_KEY',
            `idempotencyKey must be 1 to ${JOIN_KEY_LENGTH_MAX} characters here`,
            'idempotencyKey',
          )
        : null),
    isUuid(input.partyId) ? null : unknownParty(),
    isUuid(input.classId) ? null : unknownClass(),
    validateDate(input.appliedOn, 'appliedOn') ??
      (input.appliedOn > todayUtc(deps.clock())
        ? new LedgerError('INVALID_DATE', 'appliedOn is in the future', 'appliedOn')
        : null),
    text(input.note, 'note', 1000),
  ];
  const found = problems.filter((p): p is LedgerError => p !== null);
  if (found.length > 0) return found.length === 1 ? found[0]! : new InputProblems(found);
  const hash = requestHash('joinCoop', input);
  const outcome = await deps.ledger.engine.submitWith<Outcome>(async (client) => {
    await lockBook(client, input.bookId);
    const existing = await deps.store.membershipByKey(client, input.bookId, input.idempotencyKey);
    if (existing) {
      if (existing.hash !== hash) return reusedKey();
      return {
        ops: [],
        value: { id: existing.id, replayed: true, entryKey: `${input.idempotencyKey}:subscription` },
      };
    }
    const prepared = await prepareJoins(
      deps.store,
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
  return membershipOutcome(deps, input.bookId, outcome, 'appliedOn');
}

async function membershipOutcome(
  deps: CoopDeps,
  bookId: string,
  outcome: { results: OpResult[]; value: Outcome } | LedgerError,
  dateField: string,
): Promise<MembershipResult | LedgerError> {
  if (outcome instanceof LedgerError) return outcome;
  const failed = outcome.results.find((r) => !r.ok);
  if (failed && !failed.ok) return asInputField(failed.error, dateField);
  const [membership] = await getMemberships(deps, [{ bookId, id: outcome.value.id }]);
  const entry = outcome.results[0];
  const entryId =
    outcome.value.entryKey !== null
      ? await deps.store.membershipEntryIdByKey(deps.pool, bookId, outcome.value.entryKey, outcome.value.id)
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
export async function changeState(
  deps: CoopDeps,
  input: ChangeStateInput,
  actor: Principal,
): Promise<MembershipResult | LedgerError> {
  if (!mayWriteBook(actor, input.bookId)) return unknownMembership();
  const keyError = validateIdempotencyKey(input.idempotencyKey) ?? reservedKey(input.idempotencyKey);
  if (keyError) return keyError;
  const dateError = validateDate(input.effectiveOn, 'effectiveOn');
  if (dateError) return dateError;
  const noteError = text(input.note, 'note', 1000);
  if (noteError) return noteError;
  if (!isUuid(input.bookId) || !isUuid(input.membershipId)) return unknownMembership();
  const hash = requestHash('changeMembershipState', input);
  const today = todayUtc(deps.clock());
  const outcome = await deps.ledger.engine.submitWith<Outcome>(async (client) => {
    await lockBook(client, input.bookId);
    const prior = await deps.store.eventRequestHash(client, input.bookId, input.idempotencyKey);
    if (prior !== null) {
      if (prior !== hash) return reusedKey();
      // Only leaving posts an entry under the request's key; another state change posted none,
      // and an entry under the same key is another request's (a payment's), not this answer's.
      const entryKey = isLeaving(input.toState) ? input.idempotencyKey : null;
      return { ops: [], value: { id: input.membershipId, replayed: true, entryKey } };
    }
    const prepared = await prepareTransition(deps.store, client, {
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
      onLeaving: deps.leaving,
    });
    if (prepared instanceof LedgerError) return prepared;
    return { ops: prepared, value: { id: input.membershipId, replayed: false, entryKey: null } };
  });
  return membershipOutcome(deps, input.bookId, outcome, 'effectiveOn');
}

/** A buy-in instalment: cash or bank against the member's share capital. */
export async function payInstalment(
  deps: CoopDeps,
  input: PaymentInput,
  actor: Principal,
): Promise<MembershipResult | LedgerError> {
  if (!mayWriteBook(actor, input.bookId)) return unknownMembership();
  return payment(deps, input, actor.id, 'INSTALMENT');
}

/** Pays out (part of) a redemption held for a former member under the HOLD rule. */
export async function repayRedemption(
  deps: CoopDeps,
  input: PaymentInput,
  actor: Principal,
): Promise<MembershipResult | LedgerError> {
  if (!mayWriteBook(actor, input.bookId)) return unknownMembership();
  return payment(deps, input, actor.id, 'REDEMPTION');
}

/** `actor` is the id of a principal already allowed to write the book. */
async function payment(
  deps: CoopDeps,
  input: PaymentInput,
  actor: string,
  kind: 'INSTALMENT' | 'REDEMPTION',
): Promise<MembershipResult | LedgerError> {
  const keyError = reservedKey(input.idempotencyKey);
  if (keyError) return keyError;
  const dateError = validateDate(input.paidOn, 'paidOn');
  if (dateError) return dateError;
  if (input.method !== 'CASH' && input.method !== 'BANK')
    return new LedgerError('INVALID_INPUT', 'method must be CASH or BANK', 'method');
  const [coop] = await getCoops(deps, [input.bookId]);
  if (!coop) return unknownMembership();
  const amount = parseAmount(input.amount, coop.baseCurrency, 'amount');
  if (amount instanceof LedgerError) return amount;
  const outcome = await deps.ledger.engine.submitWith<string>(async (client) => {
    await lockBook(client, input.bookId);
    const [m] = isUuid(input.membershipId)
      ? await deps.store.lockMemberships(client, input.bookId, [input.membershipId])
      : [];
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
  return entryOutcome(
    deps,
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
async function entryOutcome(
  deps: CoopDeps,
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
  const [fresh] = await getMemberships(deps, [{ bookId, id: outcome.value }]);
  return { membership: fresh!, entryId: result.entry.id, replayed: result.replayed };
}

/** Moves paid-up share capital from one member to another, where both classes allow it. */
export async function transferShares(
  deps: CoopDeps,
  input: TransferInput,
  actor: Principal,
): Promise<MembershipResult | LedgerError> {
  if (!mayWriteBook(actor, input.bookId)) return unknownMembership('fromMembershipId');
  const keyError = reservedKey(input.idempotencyKey);
  if (keyError) return keyError;
  const dateError = validateDate(input.effectiveOn, 'effectiveOn');
  if (dateError) return dateError;
  if (input.fromMembershipId === input.toMembershipId)
    return new LedgerError(
      'INVALID_INPUT',
      'a member cannot transfer shares to themselves',
      'toMembershipId',
    );
  const [coop] = await getCoops(deps, [input.bookId]);
  if (!coop) return unknownMembership('fromMembershipId');
  const amount = parseAmount(input.amount, coop.baseCurrency, 'amount');
  if (amount instanceof LedgerError) return amount;
  const outcome = await deps.ledger.engine.submitWith<string>(async (client) => {
    await lockBook(client, input.bookId);
    const ids = [input.fromMembershipId, input.toMembershipId].filter(isUuid);
    const found = ids.length > 0 ? await deps.store.lockMemberships(client, input.bookId, ids) : [];
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
      if (!(await deps.store.classesTransferable(client, input.bookId, [from.classId, to.classId])))
        return new LedgerError(
          'NOT_TRANSFERABLE',
          'a member class involved does not allow share transfers',
          'amount',
        );
      // Not before anything already on the seller's share capital (so the shares sold were held
      // on that day and on every later one) nor before the buyer joined.
      const latest = await latestLineDay(client, input.bookId, [from.accounts.SHARE_CAPITAL]);
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
  return entryOutcome(
    deps,
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
