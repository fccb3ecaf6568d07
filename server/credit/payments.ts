/**
 * Payments between members, and payment requests.
 *
 * `payInNetwork` posts one balanced entry (Dr the payer's account, Cr the payee's) through the
 * posting engine's groups like any entry, keyed `pay:<idempotencyKey>`: the ledger refuses it with
 * BALANCE_BOUND_EXCEEDED when it would take the payer below its limit or the payee above its upper
 * bound, and remembers its first decision under the key (a replay answers it again). A payment that
 * leaves the payer below the soft limit succeeds with a warning.
 *
 * Requests: the payee's treasurer requests, the payer's treasurer accepts (the payment, or with
 * `hold` a PENDING entry that reserves the payer's credit until the payee completes it or releases
 * it, or it expires) or declines; the payee may cancel an open request. An open request expires at
 * its `expiresAt` (default 30 days); a hold at its `holdExpiresAt` (default 7 days, the ledger's
 * expiry sweep then voids its entry). Each step is one transaction with the request row locked.
 * Each step's key keeps its first decision, as a payment's does: a step the ledger refused (a
 * payer past its limit) is remembered under its key, and the same step sent again answers that
 * refusal even once the payer has credit; a new key is a new decision.
 */
import {
  type CreditPolicy,
  type ErrorCode,
  LedgerError,
  type MetadataEntry,
  type Principal,
  parseAmount,
  softLimitWarning,
  type Unit,
  validateMemo,
} from '../core/index.js';
import { type EntryRecord, entryIdByKey, entryOp, lockBooks, type PostOp } from '../ledger/index.js';
import { requestHash } from '../platform/hashing.js';
import { isUuid, uuidv7 } from '../platform/ids.js';
import { type TxClient, withTransaction } from '../platform/transaction.js';
import type { CreditDeps } from './deps.js';
import { growWithSales } from './members.js';
import { currentPolicies, getNetwork } from './networks.js';
import {
  type CreateRequestInput,
  HOLD_DAYS_DEFAULT,
  HOLD_DAYS_MAX,
  type PayInput,
  type PaymentRequestRecord,
  type PaymentResult,
  REQUEST_DAYS_DEFAULT,
  REQUEST_DAYS_MAX,
  type RequestActionInput,
  type RequestResult,
} from './records.js';
import {
  actsFor,
  checkKey,
  checkText,
  isSteward,
  rejected,
  reusedKey,
  treasuryOf,
  unknownMember,
  unknownNetwork,
  unknownRequest,
} from './rules.js';
import {
  decideRequest,
  insertRequest,
  insertRequestRefusal,
  type MemberRow,
  memberRows,
  membersOfCoops,
  type RequestRow,
  type RequestStep,
  requestRefusal,
  requestRows,
  requestWhere,
  resolveRequest,
} from './store.js';

const DAY_MS = 86_400_000;

export function toRequest(row: RequestRow, now: Date): PaymentRequestRecord {
  const {
    storedStatus,
    requestHash: _h,
    decisionKey: _d,
    decisionHash: _dh,
    resolveKey: _r,
    resolveHash: _rh,
    ...rest
  } = row;
  const expired =
    (storedStatus === 'OPEN' && row.expiresAt <= now) ||
    (storedStatus === 'HELD' && row.holdExpiresAt !== null && row.holdExpiresAt <= now);
  return { ...rest, status: expired ? 'EXPIRED' : storedStatus };
}

/**
 * Whether the actor may see this network at all: a steward, or a treasurer of one of its members.
 * A steward's grant names a book, and an admin's every book: a book that is no network (a co-op's,
 * or none) is no network to read, so the use cases answer UNKNOWN_NETWORK as for a made-up id
 * instead of going on to read a network that is not there.
 */
export async function mayReadNetwork(
  deps: CreditDeps,
  actor: Principal | null,
  bookId: string,
): Promise<boolean> {
  if (!isUuid(bookId)) return false;
  if (isSteward(actor, bookId)) return (await getNetwork(deps, bookId)) !== null;
  const own = await membersOfCoops(deps.pool, treasuryOf(actor));
  return own.some((m) => m.bookId === bookId);
}

function paymentMetadata(
  kind: 'PAYMENT' | 'HOLD',
  payer: MemberRow,
  payee: MemberRow,
  extra: MetadataEntry[] = [],
) {
  return [
    { key: 'credit.kind', value: kind },
    { key: 'credit.payer', value: payer.id },
    { key: 'credit.payee', value: payee.id },
    ...extra,
  ];
}

/**
 * After a payment to `payeeId` posted: the payee's limit grows with its sales when the policy is
 * dynamic (members.ts, growWithSales), then the payer's soft-limit warning, if any.
 */
async function afterPayment(
  deps: CreditDeps,
  payer: MemberRow,
  payeeId: string | null,
  scale: number,
): Promise<string | null> {
  const policy = (await currentPolicies(deps, [payer.bookId])).get(payer.bookId)!.policy;
  // The payee's limit and the payer's warning touch different accounts: read and written at once.
  const [, warning] = await Promise.all([
    payeeId !== null ? growWithSales(deps, payer.bookId, policy, scale, [payeeId]) : null,
    warningFor(deps, payer, policy),
  ]);
  return warning;
}

/** A network's unit never changes: kept per network once read (every payment needs it). */
const networkUnits = new Map<string, Unit>();
const NETWORK_UNITS_KEPT = 10_000;

async function networkUnit(deps: CreditDeps, bookId: string): Promise<Unit | null> {
  const known = networkUnits.get(bookId);
  if (known) return known;
  const network = await getNetwork(deps, bookId);
  if (!network) return null;
  if (networkUnits.size >= NETWORK_UNITS_KEPT) networkUnits.clear();
  networkUnits.set(bookId, network.unit);
  return network.unit;
}

async function warningFor(deps: CreditDeps, payer: MemberRow, policy: CreditPolicy): Promise<string | null> {
  const [account] = await deps.ledger.getAccounts([{ bookId: payer.bookId, id: payer.accountId }]);
  if (!account?.lowerBound) return null;
  const balance = account.postedCredits.minus(account.postedDebits).minus(account.pendingDebits);
  return softLimitWarning(balance, account.lowerBound.neg(), policy.softLimitPercent, account.unit.scale);
}

export async function payInNetwork(
  deps: CreditDeps,
  input: PayInput,
  actor: Principal,
): Promise<PaymentResult | LedgerError> {
  if (!isUuid(input.bookId)) return unknownNetwork();
  const [unit, members] = await Promise.all([
    networkUnit(deps, input.bookId),
    memberRows(
      deps.pool,
      [input.payerId, input.payeeId].filter(isUuid).map((id) => ({ bookId: input.bookId, id })),
    ),
  ]);
  const payer = members.find((m) => m.id === input.payerId);
  const payee = members.find((m) => m.id === input.payeeId);
  // Who may see the network, as mayReadNetwork decides, without its query when the caller acts for
  // the payer (a treasurer of a member sees the network): nothing read is answered before this.
  if (!unit || !((payer && actsFor(actor, payer)) || (await mayReadNetwork(deps, actor, input.bookId))))
    return unknownNetwork();
  const problems: LedgerError[] = [];
  const keyError = checkKey(input.idempotencyKey);
  if (keyError) problems.push(keyError);
  const amount = parseAmount(input.amount, unit, 'amount');
  if (amount instanceof LedgerError) problems.push(amount);
  const memoError = validateMemo(input.memo ?? null);
  if (memoError) problems.push(memoError);
  // A payer the caller does not act for answers as an unknown member.
  if (!payer || !actsFor(actor, payer)) problems.push(unknownMember('payerId'));
  if (!payee) problems.push(unknownMember('payeeId'));
  if (payer && payee && payer.id === payee.id)
    problems.push(new LedgerError('INVALID_INPUT', 'a member does not pay itself', 'payeeId'));
  if (problems.length > 0 || !payer || !payee || amount instanceof LedgerError) return rejected(problems);
  const entry = {
    idempotencyKey: `pay:${input.idempotencyKey}`,
    effectiveAt: null,
    memo: input.memo ?? null,
    metadata: paymentMetadata('PAYMENT', payer, payee),
    lines: [
      {
        accountId: payer.accountId,
        side: 'DEBIT' as const,
        amount: amount.toFixed(unit.scale),
        unit: unit.code,
      },
      {
        accountId: payee.accountId,
        side: 'CREDIT' as const,
        amount: amount.toFixed(unit.scale),
        unit: unit.code,
      },
    ],
  };
  const [result] = await deps.ledger.engine.submit(
    [entryOp(input.bookId, 'STANDARD', entry, null, actor.id)],
    true,
  );
  if (!result!.ok) return amountField(result!.error);
  const warning = await afterPayment(deps, payer, result!.replayed ? null : payee.id, unit.scale);
  return { entry: result!.entry, replayed: result!.replayed, warning };
}

/** A refusal about one of the entry's lines is about the payment's amount. */
function amountField(error: LedgerError): LedgerError {
  return error.field?.startsWith('lines') ? new LedgerError(error.code, error.message, 'amount') : error;
}

// ---------- requests ----------

export async function createRequest(
  deps: CreditDeps,
  input: CreateRequestInput,
  actor: Principal,
): Promise<{ request: PaymentRequestRecord; replayed: boolean } | LedgerError> {
  if (!(await mayReadNetwork(deps, actor, input.bookId))) return unknownNetwork();
  const unit = (await networkUnit(deps, input.bookId))!;
  const now = deps.clock();
  const problems: LedgerError[] = [];
  const keyError = checkKey(input.idempotencyKey);
  if (keyError) problems.push(keyError);
  const amount = parseAmount(input.amount, unit, 'amount');
  if (amount instanceof LedgerError) problems.push(amount);
  const memoError = validateMemo(input.memo ?? null);
  if (memoError) problems.push(memoError);
  const expiresAt = input.expiresAt ?? new Date(now.getTime() + REQUEST_DAYS_DEFAULT * DAY_MS);
  if (expiresAt <= now || expiresAt.getTime() > now.getTime() + REQUEST_DAYS_MAX * DAY_MS)
    problems.push(
      new LedgerError(
        'INVALID_INPUT',
        `expiresAt must be in the future, at most ${REQUEST_DAYS_MAX} days ahead`,
        'expiresAt',
      ),
    );
  const members = await memberRows(
    deps.pool,
    [input.payerId, input.payeeId].filter(isUuid).map((id) => ({ bookId: input.bookId, id })),
  );
  const payee = members.find((m) => m.id === input.payeeId);
  const payer = members.find((m) => m.id === input.payerId);
  if (!payee || !actsFor(actor, payee)) problems.push(unknownMember('payeeId'));
  if (!payer) problems.push(unknownMember('payerId'));
  if (payer && payee && payer.id === payee.id)
    problems.push(new LedgerError('INVALID_INPUT', 'a member does not request from itself', 'payerId'));
  if (problems.length > 0 || !payer || !payee || amount instanceof LedgerError) return rejected(problems);
  const hash = requestHash('createPaymentRequest', input);
  const result = await withTransaction(deps.pool, async (client) => {
    const prior = await requestWhere(client, input.bookId, { key: input.idempotencyKey });
    if (prior) return prior.requestHash === hash ? { id: prior.id, replayed: true } : reusedKey();
    const id = uuidv7();
    await insertRequest(client, {
      bookId: input.bookId,
      id,
      payerId: payer.id,
      payeeId: payee.id,
      amount: amount.toFixed(unit.scale),
      memo: input.memo ?? '',
      expiresAt,
      key: input.idempotencyKey,
      hash,
      actor: actor.id,
    });
    return { id, replayed: false };
  });
  if (result instanceof LedgerError) return result;
  const [row] = await requestRows(deps.pool, [{ bookId: input.bookId, id: result.id }]);
  return { request: toRequest(row!, deps.clock()), replayed: result.replayed };
}

type Action = 'ACCEPT' | 'DECLINE' | 'CANCEL' | 'COMPLETE' | 'RELEASE';

/** Who may take an action: the payer accepts and declines; the payee cancels and completes; the payee or a steward releases a hold. */
function mayAct(
  action: Action,
  actor: Principal,
  row: RequestRow,
  payer: MemberRow,
  payee: MemberRow,
): boolean {
  switch (action) {
    case 'ACCEPT':
    case 'DECLINE':
      return actsFor(actor, payer);
    case 'CANCEL':
    case 'COMPLETE':
      return actsFor(actor, payee);
    case 'RELEASE':
      return actsFor(actor, payee) || isSteward(actor, row.bookId);
  }
}

const notOpen = (row: RequestRow) =>
  new LedgerError('PAYMENT_REQUEST_NOT_OPEN', `the request is ${row.storedStatus}`, 'requestId');

export async function actOnRequest(
  deps: CreditDeps,
  action: Action,
  input: RequestActionInput,
  actor: Principal,
): Promise<RequestResult | LedgerError> {
  if (!(await mayReadNetwork(deps, actor, input.bookId))) return unknownNetwork();
  const unit = (await networkUnit(deps, input.bookId))!;
  const now = deps.clock();
  const problems: LedgerError[] = [];
  const keyError = checkKey(input.idempotencyKey);
  if (keyError) problems.push(keyError);
  if (action === 'DECLINE' || action === 'CANCEL' || action === 'RELEASE') {
    const reasonError = input.reason ? checkText(input.reason, 'reason', 500) : null;
    if (reasonError) problems.push(reasonError);
  }
  const hold = action === 'ACCEPT' && input.hold === true;
  const holdExpiresAt = hold
    ? (input.holdExpiresAt ?? new Date(now.getTime() + HOLD_DAYS_DEFAULT * DAY_MS))
    : null;
  if (
    holdExpiresAt &&
    (holdExpiresAt <= now || holdExpiresAt.getTime() > now.getTime() + HOLD_DAYS_MAX * DAY_MS)
  )
    problems.push(
      new LedgerError(
        'INVALID_INPUT',
        `holdExpiresAt must be in the future, at most ${HOLD_DAYS_MAX} days ahead`,
        'holdExpiresAt',
      ),
    );
  if (!isUuid(input.requestId)) problems.push(unknownRequest());
  if (problems.length > 0) return rejected(problems);
  const hash = requestHash(`paymentRequest:${action}`, input);
  const decision = action === 'ACCEPT' || action === 'DECLINE' || action === 'CANCEL';
  const step: RequestStep = decision ? 'DECISION' : 'RESOLUTION';
  const outcome = await deps.ledger.engine.submitWith<{ replayed: boolean; entryKey: string | null }>(
    async (client) => {
      await lockBooks(client, [input.bookId]);
      // Who may take this step comes first, the key second: a key is no password, and a caller who
      // may not act on the request must not read the answer remembered under someone else's key.
      const [row] = await requestRows(client, [{ bookId: input.bookId, id: input.requestId }], true);
      if (!row) return unknownRequest();
      const parties = await memberRows(client, [
        { bookId: input.bookId, id: row.payerId },
        { bookId: input.bookId, id: row.payeeId },
      ]);
      const payer = parties.find((m) => m.id === row.payerId)!;
      const payee = parties.find((m) => m.id === row.payeeId)!;
      if (!mayAct(action, actor, row, payer, payee)) return unknownRequest();
      const prior = await requestWhere(
        client,
        input.bookId,
        decision ? { decisionKey: input.idempotencyKey } : { resolveKey: input.idempotencyKey },
      );
      if (prior) {
        const same =
          prior.id === input.requestId && (decision ? prior.decisionHash : prior.resolveHash) === hash;
        return same ? { ops: [], value: { replayed: true, entryKey: prior.entryKey } } : reusedKey();
      }
      // A key the ledger refused answers that refusal again, whatever has changed since.
      const refusal = await requestRefusal(client, input.bookId, step, input.idempotencyKey);
      if (refusal)
        return refusal.requestId === input.requestId && refusal.requestHash === hash
          ? new LedgerError(refusal.code as ErrorCode, refusal.message, refusal.field)
          : reusedKey();
      const base = { bookId: input.bookId, id: row.id, key: input.idempotencyKey, hash, actor: actor.id };
      if (decision) {
        if (row.storedStatus !== 'OPEN') return notOpen(row);
        if (action === 'ACCEPT' && row.expiresAt <= now)
          return new LedgerError(
            'PAYMENT_REQUEST_EXPIRED',
            'the request expired; ask for a new one',
            'requestId',
          );
        if (action !== 'ACCEPT') {
          await decideRequest(client, {
            ...base,
            status: action === 'DECLINE' ? 'DECLINED' : 'CANCELLED',
            reason: input.reason?.trim() || null,
            entryKey: null,
            holdExpiresAt: null,
          });
          return { ops: [], value: { replayed: false, entryKey: null } };
        }
        const entryKey = `request:${row.id}`;
        const amount = row.amount.toFixed(unit.scale);
        const entry = {
          idempotencyKey: entryKey,
          effectiveAt: null,
          memo: row.memo || null,
          metadata: paymentMetadata(hold ? 'HOLD' : 'PAYMENT', payer, payee, [
            { key: 'credit.request', value: row.id },
          ]),
          lines: [
            { accountId: payer.accountId, side: 'DEBIT' as const, amount, unit: unit.code },
            { accountId: payee.accountId, side: 'CREDIT' as const, amount, unit: unit.code },
          ],
        };
        await decideRequest(client, {
          ...base,
          status: hold ? 'HELD' : 'PAID',
          reason: null,
          entryKey,
          holdExpiresAt,
        });
        const op = entryOp(input.bookId, hold ? 'PENDING' : 'STANDARD', entry, holdExpiresAt, actor.id);
        return { ops: [op], value: { replayed: false, entryKey } };
      }
      if (row.storedStatus !== 'HELD') return notOpen(row);
      const pendingId = await entryIdByKey(client, input.bookId, row.entryKey!);
      const kind = action === 'COMPLETE' ? 'COMMIT' : 'VOID';
      const ref = {
        bookId: input.bookId,
        entryId: pendingId!,
        idempotencyKey: `${kind === 'COMMIT' ? 'complete' : 'release'}:${row.id}`,
        effectiveAt: null,
        memo: kind === 'VOID' ? input.reason?.trim() || 'released' : null,
        metadata:
          kind === 'COMMIT'
            ? paymentMetadata('PAYMENT', payer, payee, [{ key: 'credit.request', value: row.id }])
            : [{ key: 'credit.request', value: row.id }],
      };
      const op: PostOp = {
        kind,
        bookId: input.bookId,
        targetId: ref.entryId,
        idempotencyKey: ref.idempotencyKey,
        effectiveAt: null,
        memo: ref.memo,
        metadata: ref.metadata,
        postedBy: actor.id,
        requestHash: requestHash(kind === 'COMMIT' ? 'commitPendingEntry' : 'voidPendingEntry', ref),
      };
      await resolveRequest(client, { ...base, status: action === 'COMPLETE' ? 'COMPLETED' : 'RELEASED' });
      return { ops: [op], value: { replayed: false, entryKey: ref.idempotencyKey } };
    },
  );
  if (outcome instanceof LedgerError) return outcome;
  const failed = outcome.results.find((r) => !r.ok);
  if (failed && !failed.ok) {
    // The ledger refused the step's entry and the transaction rolled back, the request's change
    // with it: the refusal is remembered under the key, so that the same step sent again (a
    // retry, a replay) answers it instead of posting once the payer has credit.
    const refused = amountField(failed.error);
    await withTransaction(deps.pool, (client: TxClient) =>
      insertRequestRefusal(client, {
        bookId: input.bookId,
        step,
        key: input.idempotencyKey,
        requestId: input.requestId,
        hash,
        code: refused.code,
        message: refused.message,
        field: refused.field,
        actor: actor.id,
      }),
    );
    return refused;
  }
  const [row] = await requestRows(deps.pool, [{ bookId: input.bookId, id: input.requestId }]);
  let entry: EntryRecord | null = outcome.results[0]?.ok ? outcome.results[0].entry : null;
  if (!entry && outcome.value.entryKey) {
    const id = await entryIdByKey(deps.pool, input.bookId, outcome.value.entryKey);
    entry = id ? ((await deps.ledger.getEntries([{ bookId: input.bookId, id }]))[0] ?? null) : null;
  }
  let warning: string | null = null;
  // A payment reached the payee now: an accepted request paid at once, or a hold completed.
  const paid = !outcome.value.replayed && ((action === 'ACCEPT' && !hold) || action === 'COMPLETE');
  if (action === 'ACCEPT' || paid) {
    const [payer] = await memberRows(deps.pool, [{ bookId: input.bookId, id: row!.payerId }]);
    const afterwards = await afterPayment(deps, payer!, paid ? row!.payeeId : null, unit.scale);
    if (action === 'ACCEPT') warning = afterwards;
  }
  return { request: toRequest(row!, deps.clock()), entry, replayed: outcome.value.replayed, warning };
}
