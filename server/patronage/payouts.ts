/**
 * Paying out: the cash parts of a run (one payout per run, clearing patronage payable), the
 * revolving redemption of retained allocations (oldest fiscal year first, up to a cap), and a
 * departing member's retained allocations (through the co-ops' leaving flow).
 *
 * Cash payout of a run:  Dr 2300 Patronage payable / Cr 1000 Cash or 1010 Bank (one entry).
 *   Each member is paid their unpaid cash parts of this run and of earlier runs together, when
 *   that total reaches the run's policy's minimum cheque; below it, it stays payable and is
 *   carried to the member's next payout.
 * Revolving redemption:  Dr 3100-n each member's redeemed retained part / Cr 1000 or 1010.
 *   An allocation of fiscal year Y revolves `revolvingYears` years after Y's last day.
 */

import { dayStart, memberStates, todayUtc, unknownCoop } from '../coops/index.js';
import {
  addMonths,
  Decimal,
  type EntryInput,
  fiscalYearSpan,
  fromMinor,
  LedgerError,
  type LineInput,
  mayWriteBook,
  type Principal,
  parseAmount,
  planRedemption,
  policyFromJson,
  toMinor,
  ZERO,
} from '../core/index.js';
import { entryOp, lockBooks, type OpResult, rejection } from '../ledger/index.js';
import { requestHash } from '../platform/hashing.js';
import { isUuid, uuidv7 } from '../platform/ids.js';
import type { TxClient } from '../platform/transaction.js';
import type { PatronageDeps } from './deps.js';
import { coopOf } from './policy.js';
import type { PayCashInput, PaymentLine, PayoutRecord, PayoutResult, RedeemInput } from './records.js';
import { checkRunKey, pastDate, reusedKey, unknownRun } from './rules.js';
import {
  findRuns,
  insertPayments,
  insertPayout,
  type NewPayment,
  outstandingRetained,
  type PayoutRow,
  patronageAccounts,
  paymentsOfSource,
  payoutWhere,
  policyRow,
  unpaidCash,
} from './store.js';

const MEMBER_LINES_PER_ENTRY = 99;

async function payoutRecord(
  deps: PatronageDeps,
  row: PayoutRow,
  carried: PaymentLine[] = [],
): Promise<PayoutRecord> {
  const payments = (await paymentsOfSource(deps.pool, row.bookId, row.id)).map((p) => ({
    membershipId: p.membershipId,
    memberNumber: p.memberNumber,
    runId: p.runId,
    fiscalYear: p.fiscalYear,
    amount: p.amount,
  }));
  const { requestHash: _hash, ...rest } = row;
  return { ...rest, payments, carried };
}

function checkMethod(method: string): LedgerError | null {
  return method === 'CASH' || method === 'BANK'
    ? null
    : new LedgerError('INVALID_INPUT', 'method must be CASH or BANK', 'method');
}

type Decided = { payoutId: string; replayed: boolean; carried: PaymentLine[] };

async function outcomeOf(
  deps: PatronageDeps,
  bookId: string,
  outcome: { results: OpResult[]; value: Decided } | LedgerError,
): Promise<PayoutResult | LedgerError> {
  if (outcome instanceof LedgerError) return outcome;
  const failed = rejection(outcome.results)?.error;
  if (failed)
    return failed.code === 'INVALID_EFFECTIVE_AT'
      ? new LedgerError('INVALID_DATE', failed.message, 'paidOn')
      : failed;
  const row = await payoutWhere(deps.pool, bookId, { id: outcome.value.payoutId });
  return { payout: await payoutRecord(deps, row!, outcome.value.carried), replayed: outcome.value.replayed };
}

/** A replay of a payout key, a reuse error, or null when the key is new. */
async function priorPayout(client: TxClient, bookId: string, key: string, hash: string) {
  const prior = await payoutWhere(client, bookId, { key });
  if (!prior) return null;
  return prior.requestHash === hash
    ? { ops: [], value: { payoutId: prior.id, replayed: true, carried: [] } as Decided }
    : reusedKey();
}

export async function payCash(
  deps: PatronageDeps,
  input: PayCashInput,
  actor: Principal,
): Promise<PayoutResult | LedgerError> {
  if (!mayWriteBook(actor, input.bookId)) return unknownRun();
  const problem =
    checkRunKey(input.idempotencyKey) ??
    checkMethod(input.method) ??
    pastDate(input.paidOn, 'paidOn', todayUtc(deps.clock()));
  if (problem) return problem;
  if (!isUuid(input.bookId) || !isUuid(input.runId)) return unknownRun();
  const coop = await coopOf(deps, input.bookId);
  if (!coop) return unknownRun();
  const scale = coop.baseCurrency.scale;
  const hash = requestHash('payPatronageCash', input);
  const outcome = await deps.ledger.engine.submitWith<Decided>(async (client) => {
    if (!(await lockBooks(client, [coop.id])).has(coop.id)) return unknownRun();
    const prior = await priorPayout(client, coop.id, input.idempotencyKey, hash);
    if (prior) return prior;
    const [run] = await findRuns(client, [{ bookId: coop.id, id: input.runId }]);
    if (!run) return unknownRun();
    if (run.status !== 'COMMITTED')
      return new LedgerError('NOTHING_TO_PAY', 'the run was reversed; nothing of it is payable', 'runId');
    if (await payoutWhere(client, coop.id, { cashOfRun: run.id }))
      return new LedgerError('ALREADY_PAID', "this run's cash parts were already paid out", 'runId');
    if (input.paidOn < run.allocatedOn)
      return new LedgerError(
        'INVALID_DATE',
        `paidOn is before the allocation (${run.allocatedOn})`,
        'paidOn',
      );
    const policy = policyFromJson((await policyRow(client, coop.id, run.policyVersion))!.policy);
    const minimum = toMinor(policy.minimumCheque, scale);
    const unpaid = await unpaidCash(client, coop.id, run.fiscalYear, input.paidOn);
    const byMember = new Map<string, typeof unpaid>();
    for (const u of unpaid) {
      const list = byMember.get(u.membershipId) ?? [];
      list.push(u);
      byMember.set(u.membershipId, list);
    }
    const payments: NewPayment[] = [];
    const carried: PaymentLine[] = [];
    let total = 0n;
    for (const [membershipId, list] of byMember) {
      const owed = list.reduce((s, u) => s + toMinor(u.unpaid, scale), 0n);
      const lines = list.map((u) => ({ ...u, amount: u.unpaid }));
      if (owed < minimum || owed === 0n) {
        carried.push(...lines.map(({ unpaid: _u, ...l }) => l));
        continue;
      }
      total += owed;
      for (const u of list)
        payments.push({
          sourceId: '',
          runId: u.runId,
          membershipId,
          kind: 'CASH',
          amount: u.unpaid.toFixed(scale),
          paidOn: input.paidOn,
        });
    }
    if (total === 0n)
      return new LedgerError(
        'NOTHING_TO_PAY',
        carried.length > 0
          ? `every member's unpaid cash is below the minimum cheque (${policy.minimumCheque.toFixed(scale)}); it stays payable`
          : 'no cash part of this run is unpaid',
        'runId',
      );
    const payoutId = uuidv7();
    const accounts = await patronageAccounts(client, coop.id);
    const amount = fromMinor(total, scale).toFixed(scale);
    const unit = coop.baseCurrency.code;
    const entry: EntryInput = {
      idempotencyKey: `${input.idempotencyKey}:0`,
      effectiveAt: dayStart(input.paidOn),
      memo: `Patronage ${run.fiscalYear}: cash parts paid out`,
      metadata: [
        { key: 'patronage.run', value: run.id },
        { key: 'patronage.event', value: 'CASH_PAYOUT' },
        { key: 'patronage.payout', value: payoutId },
      ],
      lines: [
        { accountId: accounts.PATRONAGE_PAYABLE!, side: 'DEBIT', amount, unit },
        { accountId: coop.accounts[input.method], side: 'CREDIT', amount, unit },
      ],
    };
    await insertPayout(client, {
      bookId: coop.id,
      id: payoutId,
      kind: 'CASH',
      runId: run.id,
      paidOn: input.paidOn,
      method: input.method,
      total: amount,
      cap: null,
      entryCount: 1,
      idempotencyKey: input.idempotencyKey,
      requestHash: hash,
      createdBy: actor.id,
    });
    await insertPayments(
      client,
      coop.id,
      payments.map((p) => ({ ...p, sourceId: payoutId })),
    );
    return {
      ops: [entryOp(coop.id, 'STANDARD', entry, null, actor.id)],
      value: { payoutId, replayed: false, carried },
    };
  });
  return outcomeOf(deps, input.bookId, outcome);
}

/**
 * Pays retained allocations that have revolved by `asOf` (their fiscal year ended `revolvingYears`
 * years before, by the policy of their run, and their run is allocated on or before it), oldest
 * fiscal year first, up to `cap`: whole years while the cap lasts, the year where it runs out pro
 * rata (largest remainder, ties by member number). Former members are paid like current ones.
 */
export async function redeemRetained(
  deps: PatronageDeps,
  input: RedeemInput,
  actor: Principal,
): Promise<PayoutResult | LedgerError> {
  if (!mayWriteBook(actor, input.bookId)) return unknownCoop();
  const problem =
    checkRunKey(input.idempotencyKey) ??
    checkMethod(input.method) ??
    pastDate(input.asOf, 'asOf', todayUtc(deps.clock()));
  if (problem) return problem;
  const coop = await coopOf(deps, input.bookId);
  if (!coop) return unknownCoop();
  const scale = coop.baseCurrency.scale;
  let cap: Decimal | null = null;
  if (input.cap != null) {
    const parsed = parseAmount(input.cap, coop.baseCurrency, 'cap');
    if (parsed instanceof LedgerError) return parsed;
    cap = parsed;
  }
  const hash = requestHash('redeemRetainedPatronage', input);
  const outcome = await deps.ledger.engine.submitWith<Decided>(async (client) => {
    if (!(await lockBooks(client, [coop.id])).has(coop.id)) return unknownCoop();
    const prior = await priorPayout(client, coop.id, input.idempotencyKey, hash);
    if (prior) return prior;
    // Revolved by asOf, and allocated by then: a run is often committed weeks after its year
    // ends (and may be years late), so a year can revolve before its allocation exists; paying it
    // on an earlier date would date the redemption before the credit it redeems.
    const outstanding = (await outstandingRetained(client, coop.id, null)).filter((o) => {
      const end = fiscalYearSpan(coop.fiscalYearStart, o.fiscalYear).end;
      return addMonths(end, 12 * o.revolvingYears) <= input.asOf && o.allocatedOn <= input.asOf;
    });
    const key = (o: { runId: string; membershipId: string }) => `${o.runId}/${o.membershipId}`;
    const byKey = new Map(outstanding.map((o) => [key(o), o]));
    const plan = planRedemption(
      outstanding.map((o) => ({
        key: key(o),
        fiscalYear: o.fiscalYear,
        memberNumber: o.memberNumber,
        outstanding: toMinor(o.outstanding, scale),
      })),
      cap === null ? null : toMinor(cap, scale),
    );
    if (plan.length === 0)
      return new LedgerError(
        'NOTHING_TO_PAY',
        `no retained allocation has revolved by ${input.asOf}`,
        'asOf',
      );
    const members = [...new Set(plan.map((p) => byKey.get(p.key)!.membershipId))];
    const capital = new Map(
      (await memberStates(client, coop.id, members)).map((m) => [m.membershipId, m.internalCapitalAccountId]),
    );
    // One debit per member (their years added), in member-number order, 99 members an entry.
    const perMember = new Map<string, { memberNumber: number; amount: bigint }>();
    for (const p of plan) {
      const o = byKey.get(p.key)!;
      const m = perMember.get(o.membershipId) ?? { memberNumber: o.memberNumber, amount: 0n };
      m.amount += p.amount;
      perMember.set(o.membershipId, m);
    }
    const ordered = [...perMember.entries()].sort((a, b) => a[1].memberNumber - b[1].memberNumber);
    const payoutId = uuidv7();
    const unit = coop.baseCurrency.code;
    const entries: EntryInput[] = [];
    for (let i = 0; i < ordered.length; i += MEMBER_LINES_PER_ENTRY) {
      const chunk = ordered.slice(i, i + MEMBER_LINES_PER_ENTRY);
      const total = chunk.reduce((s, [, m]) => s + m.amount, 0n);
      const lines: LineInput[] = chunk.map(([id, m]) => ({
        accountId: capital.get(id)!,
        side: 'DEBIT',
        amount: fromMinor(m.amount, scale).toFixed(scale),
        unit,
      }));
      lines.push({
        accountId: coop.accounts[input.method],
        side: 'CREDIT',
        amount: fromMinor(total, scale).toFixed(scale),
        unit,
      });
      entries.push({
        idempotencyKey: `${input.idempotencyKey}:${entries.length}`,
        effectiveAt: dayStart(input.asOf),
        memo: `Revolving redemption of retained patronage, members ${chunk[0]![1].memberNumber} to ${chunk.at(-1)![1].memberNumber}`,
        metadata: [
          { key: 'patronage.event', value: 'REDEMPTION' },
          { key: 'patronage.payout', value: payoutId },
        ],
        lines,
      });
    }
    const total = plan.reduce((s, p) => s + p.amount, 0n);
    await insertPayout(client, {
      bookId: coop.id,
      id: payoutId,
      kind: 'REDEMPTION',
      runId: null,
      paidOn: input.asOf,
      method: input.method,
      total: fromMinor(total, scale).toFixed(scale),
      cap: cap === null ? null : cap.toFixed(scale),
      entryCount: entries.length,
      idempotencyKey: input.idempotencyKey,
      requestHash: hash,
      createdBy: actor.id,
    });
    await insertPayments(
      client,
      coop.id,
      plan.map((p) => {
        const o = byKey.get(p.key)!;
        return {
          sourceId: payoutId,
          runId: o.runId,
          membershipId: o.membershipId,
          kind: 'REDEMPTION' as const,
          amount: fromMinor(p.amount, scale).toFixed(scale),
          paidOn: input.asOf,
        };
      }),
    );
    return {
      ops: entries.map((e) => entryOp(coop.id, 'STANDARD', e, null, actor.id)),
      value: { payoutId, replayed: false, carried: [] },
    };
  });
  return outcomeOf(deps, input.bookId, outcome);
}

export async function getPayout(
  deps: PatronageDeps,
  bookId: string,
  id: string,
): Promise<PayoutRecord | null> {
  if (!isUuid(bookId) || !isUuid(id)) return null;
  const row = await payoutWhere(deps.pool, bookId, { id });
  return row ? payoutRecord(deps, row) : null;
}

/** A member leaving, as the co-ops' leaving flow tells it, inside its transaction (book locked). */
export interface LeavingEvent {
  bookId: string;
  membershipId: string;
  effectiveOn: string;
  /** The member's internal capital balance before leaving. */
  internalCapital: Decimal;
  /** The leaving request's idempotency key (names the redemption rows). */
  idempotencyKey: string;
}

/**
 * What the leaving flow keeps on a departing member's internal capital account: under the
 * KEEP_UNTIL_REVOLVED rule, their outstanding retained allocations (at most the positive balance),
 * which the revolving redemption pays when their year revolves; under PAY_AT_ONCE (the default,
 * and with no policy), nothing: the leaving entry redeems the whole balance, and the allocations
 * it covers (oldest first) are recorded as redeemed on leaving.
 */
export async function onLeaving(client: TxClient, e: LeavingEvent): Promise<Decimal> {
  const policy = await policyRow(client, e.bookId, null);
  if (!policy) return ZERO;
  const outstanding = await outstandingRetained(client, e.bookId, [e.membershipId]);
  const total = outstanding.reduce((s, o) => s.plus(o.outstanding), ZERO);
  const available = Decimal.min(Decimal.max(e.internalCapital, ZERO), total);
  if (policyFromJson(policy.policy).departingRule === 'KEEP_UNTIL_REVOLVED') return available;
  let left = available;
  const payments: NewPayment[] = [];
  for (const o of outstanding) {
    if (left.lte(0)) break;
    const amount = Decimal.min(left, o.outstanding);
    left = left.minus(amount);
    payments.push({
      sourceId: `leaving:${e.idempotencyKey}`,
      runId: o.runId,
      membershipId: e.membershipId,
      kind: 'LEAVING',
      amount: amount.toFixed(),
      paidOn: e.effectiveOn,
    });
  }
  await insertPayments(client, e.bookId, payments);
  return ZERO;
}
