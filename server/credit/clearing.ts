/**
 * Multilateral clearing of a network's obligations in one currency (stewards): preview computes
 * the exact plan (server/core/clearing.ts) from the open obligations, commit computes it again
 * under the network's lock and applies it in one transaction:
 *   - each obligation's outstanding lowered by what clears of it (never raised: a trigger);
 *   - the members' invoice accounts moved per member (Dr payable of what it owed and was cleared,
 *     Cr receivable of what it was owed and was cleared), through the currency's clearing account;
 *   - in the liquidity mode, the network payments in the unit (Dr the payers, Cr the payees),
 *     through the network's clearing account, within limits (the ledger checks every bound);
 *   - the clearing, its lines and every member's position before it, checked at COMMIT by a
 *     deferred constraint trigger (see the migration) besides the core's own assertions.
 * Keys: the clearing's `idempotencyKey`, its entries `clear:<key>:<n>`. A preview's `snapshotHash`
 * given to commit refuses (CLEARING_STALE) a plan computed from other obligations or balances.
 */
import {
  Decimal,
  fromMinor,
  InvariantError,
  LedgerError,
  type LiquidityInput,
  liquidityFactor,
  type Principal,
  planClearing,
  toMinor,
  type Unit,
} from '../core/index.js';
import { type AccountRow, entryOp, lockAccounts, lockBooks, type PostOp } from '../ledger/index.js';
import { requestHash, sha256Parts } from '../platform/hashing.js';
import { uuidv7 } from '../platform/ids.js';
import type { Queryable } from '../platform/transaction.js';
import type { CreditDeps } from './deps.js';
import { getNetwork } from './networks.js';
import { ensureMemberCurrencyAccounts } from './obligations.js';
import type {
  ClearingFigures,
  ClearingLine,
  ClearingRecord,
  ClearingRequest,
  ClearingResult,
  CommitClearingInput,
  NetworkRecord,
} from './records.js';
import { checkKey, chunkedEntries, isSteward, reusedKey, unknownNetwork } from './rules.js';
import { allMembers, currencyRows, type MemberRow } from './store.js';
import {
  type ClearingRow,
  clearingByKey,
  clearingRows,
  insertClearing,
  type OpenObligation,
  obligationCount,
  openObligations,
  reduceOutstanding,
} from './store-clearing.js';

export function toClearing(row: ClearingRow, currency: Unit): ClearingRecord {
  return {
    bookId: row.bookId,
    id: row.id,
    currency,
    mode: row.mode,
    obligationsConsidered: row.obligationsConsidered,
    outstandingBefore: row.outstandingBefore,
    setoffTotal: row.setoffTotal,
    liquidityTotal: row.liquidityTotal,
    outstandingAfter: row.outstandingAfter,
    netInternalDebtBefore: row.nidBefore,
    netInternalDebtAfter: row.nidAfter,
    liquidityUsed: row.liquidityUsed,
    snapshotHash: row.snapshotHash,
    entryCount: row.entryCount,
    committedAt: row.committedAt,
    committedBy: row.committedBy,
  };
}

/**
 * A line of a plan, its amounts kept as bigint minor units and made Decimals only when read: a
 * plan of 140,000 lines held three Decimals a line, more than the service's default heap allows
 * beside the rest of a preview.
 */
class PlanLine implements ClearingLine {
  constructor(
    private readonly o: OpenObligation,
    private readonly setoffMinor: bigint,
    private readonly liquidityMinor: bigint,
    private readonly scale: number,
  ) {}

  get obligationId(): string {
    return this.o.id;
  }
  get debtorId(): string {
    return this.o.debtor;
  }
  get creditorId(): string {
    return this.o.creditor;
  }
  get dueOn(): string {
    return this.o.dueOn;
  }
  get reference(): string {
    return this.o.reference;
  }
  get outstanding(): Decimal {
    return fromMinor(this.o.outstanding, this.scale);
  }
  get setoff(): Decimal {
    return fromMinor(this.setoffMinor, this.scale);
  }
  get liquidity(): Decimal {
    return fromMinor(this.liquidityMinor, this.scale);
  }
}

interface Computed {
  figures: ClearingFigures;
  obligations: OpenObligation[];
  members: MemberRow[];
  accounts: Map<string, AccountRow>;
  factor: bigint | null;
}

/** The plan from what the database holds now (inside a transaction when committing). */
async function compute(
  db: Queryable,
  network: NetworkRecord,
  request: ClearingRequest,
  accountsOf: (members: MemberRow[]) => Promise<Map<string, AccountRow>>,
): Promise<Computed | LedgerError> {
  const currency = (await currencyRows(db, network.id)).find((c) => c.code === request.currency);
  if (!currency)
    return new LedgerError(
      'UNKNOWN_UNIT',
      `the network keeps no obligations in ${request.currency}`,
      'currency',
    );
  const unit: Unit = { code: currency.code, scale: currency.scale };
  let factor: bigint | null = null;
  if (request.mode === 'SETOFF_AND_LIQUIDITY') {
    factor = liquidityFactor(network.peg, network.unit, unit);
    if (factor === null)
      return new LedgerError(
        'LIQUIDITY_NOT_AVAILABLE',
        `network credit pays ${unit.code} obligations only when the unit is pegged 1:1 to ${unit.code} and has at least its decimals`,
        'mode',
      );
  }
  const obligations = await openObligations(db, network.id, unit.code, unit.scale);
  const involved = new Set<string>();
  for (const o of obligations) involved.add(o.debtor).add(o.creditor);
  const members = (await allMembers(db, network.id)).filter((m) => involved.has(m.id));
  const accounts = await accountsOf(members);
  let liquidity: LiquidityInput[] | null = null;
  if (factor !== null) {
    liquidity = members.map((m) => {
      const a = accounts.get(m.accountId)!;
      const posted = a.postedCredits.minus(a.postedDebits);
      const available = posted.minus(a.pendingDebits);
      const projected = posted.plus(a.pendingCredits);
      const pay = a.lowerBound === null ? new Decimal(0) : Decimal.max(0, available.minus(a.lowerBound));
      const receive = a.upperBound === null ? null : Decimal.max(0, a.upperBound.minus(projected));
      // Unit minor units down to whole currency minor units (what can be paid exactly).
      return {
        member: m.id,
        payMax: toMinor(pay, network.unit.scale) / factor!,
        receiveMax: receive === null ? null : toMinor(receive, network.unit.scale) / factor!,
      };
    });
  }
  const plan = planClearing(obligations, liquidity);
  const scale = unit.scale;
  const d = (v: bigint) => fromMinor(v, scale);
  // The JSON of {currency, mode, obligations: [[id, outstanding]...], liquidity}, hashed piece by
  // piece rather than built whole (140,000 obligations made arrays and a string of megabytes).
  const snapshotHash = sha256Parts(
    (function* () {
      yield `{"currency":${JSON.stringify(unit.code)},"mode":${JSON.stringify(request.mode)},"obligations":[`;
      for (let i = 0; i < obligations.length; i++) {
        const o = obligations[i]!;
        yield `${i === 0 ? '' : ','}[${JSON.stringify(o.id)},${JSON.stringify(d(o.outstanding).toFixed(scale))}]`;
      }
      yield `],"liquidity":${JSON.stringify(
        liquidity?.map((l) => [
          l.member,
          String(l.payMax),
          l.receiveMax === null ? null : String(l.receiveMax),
        ]) ?? null,
      )}}`;
    })(),
  );
  // plan.obligations lists every obligation in input order.
  const lines: ClearingLine[] = [];
  plan.obligations.forEach((l, i) => {
    if (l.setoff > 0n || l.liquidity > 0n)
      lines.push(new PlanLine(obligations[i]!, l.setoff, l.liquidity, scale));
  });
  return {
    obligations,
    members,
    accounts,
    factor,
    figures: {
      bookId: network.id,
      currency: unit,
      mode: request.mode,
      obligationsConsidered: obligations.length,
      outstandingBefore: d(plan.outstandingBefore),
      setoffTotal: d(plan.setoffTotal),
      liquidityTotal: d(plan.liquidityTotal),
      outstandingAfter: d(plan.outstandingAfter),
      netInternalDebtBefore: d(plan.netInternalDebtBefore),
      netInternalDebtAfter: d(plan.netInternalDebtAfter),
      liquidityUsed: d(plan.liquidityUsed),
      snapshotHash,
      lines,
      members: plan.members.map((m) => ({
        memberId: m.member,
        positionBefore: d(m.positionBefore),
        positionAfter: d(m.positionAfter),
        networkPayment: d(m.networkPayment),
      })),
    },
  };
}

function checkRequest(request: ClearingRequest): LedgerError | null {
  return request.mode === 'SETOFF' || request.mode === 'SETOFF_AND_LIQUIDITY'
    ? null
    : new LedgerError('INVALID_INPUT', 'mode is SETOFF or SETOFF_AND_LIQUIDITY', 'mode');
}

export async function previewClearing(
  deps: CreditDeps,
  request: ClearingRequest,
  actor: Principal,
): Promise<ClearingFigures | LedgerError> {
  if (!isSteward(actor, request.bookId)) return unknownNetwork();
  const network = await getNetwork(deps, request.bookId);
  if (!network) return unknownNetwork();
  const bad = checkRequest(request);
  if (bad) return bad;
  const computed = await compute(deps.pool, network, request, async (members) => {
    const rows = await deps.ledger.getAccounts(members.map((m) => ({ bookId: network.id, id: m.accountId })));
    return new Map(rows.map((a) => [a.id, a]));
  });
  return computed instanceof LedgerError ? computed : computed.figures;
}

export async function commitClearing(
  deps: CreditDeps,
  input: CommitClearingInput,
  actor: Principal,
): Promise<ClearingResult | LedgerError> {
  if (!isSteward(actor, input.bookId)) return unknownNetwork();
  const network = await getNetwork(deps, input.bookId);
  if (!network) return unknownNetwork();
  const bad = checkRequest(input) ?? checkKey(input.idempotencyKey);
  if (bad) return bad;
  const hash = requestHash('commitClearing', input);
  const outcome = await deps.ledger.engine.submitWith<{ id: string; replayed: boolean }>(async (client) => {
    await lockBooks(client, [network.id]);
    const prior = await clearingByKey(client, network.id, input.idempotencyKey);
    if (prior)
      return prior.requestHash === hash ? { ops: [], value: { id: prior.id, replayed: true } } : reusedKey();
    const computed = await compute(client, network, input, async (members) => {
      const locked = await lockAccounts(
        client,
        members.map((m) => ({ bookId: network.id, id: m.accountId })),
      );
      return new Map([...locked.values()].map((a) => [a.id, a]));
    });
    if (computed instanceof LedgerError) return computed;
    const { figures: f, members, accounts, factor } = computed;
    if (input.snapshotHash && input.snapshotHash !== f.snapshotHash)
      return new LedgerError(
        'CLEARING_STALE',
        'the open obligations or balances changed since that preview; preview again',
        'snapshotHash',
      );
    if (f.setoffTotal.plus(f.liquidityTotal).isZero())
      return new LedgerError('NOTHING_TO_CLEAR', 'nothing clears among these obligations', 'currency');
    const scale = f.currency.scale;
    const currency = (await currencyRows(client, network.id)).find((c) => c.code === f.currency.code)!;
    const memberById = new Map(members.map((m) => [m.id, m]));
    const invoiceAccounts = await ensureMemberCurrencyAccounts(client, network.id, f.currency.code, members);
    await reduceOutstanding(
      client,
      network.id,
      f.lines.map((l) => ({ id: l.obligationId, by: l.setoff.plus(l.liquidity).toFixed(scale) })),
    );
    // Per member: receivables cleared (as creditor) and payables cleared (as debtor).
    const received = new Map<string, Decimal>();
    const paid = new Map<string, Decimal>();
    for (const l of f.lines) {
      const cleared = l.setoff.plus(l.liquidity);
      received.set(l.creditorId, (received.get(l.creditorId) ?? new Decimal(0)).plus(cleared));
      paid.set(l.debtorId, (paid.get(l.debtorId) ?? new Decimal(0)).plus(cleared));
    }
    const id = uuidv7();
    let index = 0;
    const keyOf = () => `clear:${input.idempotencyKey}:${index++}`;
    const metadata = [
      { key: 'credit.kind', value: 'CLEARING' },
      { key: 'credit.clearing', value: id },
    ];
    const entries = chunkedEntries(
      [
        ...[...paid].map(([m, amount]) => ({
          accountId: invoiceAccounts.get(m)!.payableAccountId,
          side: 'DEBIT' as const,
          amount,
        })),
        ...[...received].map(([m, amount]) => ({
          accountId: invoiceAccounts.get(m)!.receivableAccountId,
          side: 'CREDIT' as const,
          amount,
        })),
      ],
      currency.clearingAccountId,
      f.currency,
      keyOf,
      `Clearing of ${f.currency.code} obligations`,
      metadata,
    );
    if (factor !== null) {
      // Network payments of the liquidity mode: payers first (their limits), then payees.
      const payments = f.members
        .filter((m) => !m.networkPayment.isZero())
        .sort((a, b) => b.networkPayment.comparedTo(a.networkPayment));
      entries.push(
        ...chunkedEntries(
          payments.map((m) => ({
            accountId: memberById.get(m.memberId)!.accountId,
            side: m.networkPayment.gt(0) ? ('DEBIT' as const) : ('CREDIT' as const),
            amount: m.networkPayment.abs(),
          })),
          network.clearingAccountId,
          network.unit,
          keyOf,
          `Clearing of ${f.currency.code} obligations paid in ${network.unit.code}`,
          [...metadata, { key: 'credit.liquidity', value: 'true' }],
        ),
      );
    }
    await insertClearing(
      client,
      {
        bookId: network.id,
        id,
        currency: f.currency.code,
        mode: f.mode,
        obligationsConsidered: f.obligationsConsidered,
        obligationCount: await obligationCount(client, network.id),
        outstandingBefore: f.outstandingBefore.toFixed(scale),
        setoffTotal: f.setoffTotal.toFixed(scale),
        liquidityTotal: f.liquidityTotal.toFixed(scale),
        outstandingAfter: f.outstandingAfter.toFixed(scale),
        nidBefore: f.netInternalDebtBefore.toFixed(scale),
        nidAfter: f.netInternalDebtAfter.toFixed(scale),
        liquidityUsed: f.liquidityUsed.toFixed(scale),
        snapshotHash: f.snapshotHash,
        entryCount: entries.length,
        key: input.idempotencyKey,
        hash,
        actor: actor.id,
      },
      f.lines.map((l) => ({
        obligationId: l.obligationId,
        setoff: l.setoff.toFixed(scale),
        liquidity: l.liquidity.toFixed(scale),
      })),
      f.members.map((m) => {
        const a = accounts.get(memberById.get(m.memberId)!.accountId)!;
        return {
          memberId: m.memberId,
          currencyBefore: m.positionBefore.toFixed(scale),
          networkBefore: a.postedCredits.minus(a.postedDebits).toFixed(),
          networkPayment: m.networkPayment.toFixed(scale),
        };
      }),
    );
    if (entries.length === 0) throw new InvariantError('a clearing that clears something posts entries');
    const ops: PostOp[] = entries.map((e) => entryOp(network.id, 'STANDARD', e, null, actor.id));
    return { ops, value: { id, replayed: false } };
  });
  if (outcome instanceof LedgerError) return outcome;
  const failed = outcome.results.find((r) => !r.ok);
  if (failed && !failed.ok) return failed.error;
  const [row] = await clearingRows(deps.pool, network.id, [outcome.value.id]);
  const currency = network.currencies.find((c) => c.code === row!.currency)!;
  return { clearing: toClearing(row!, currency), replayed: outcome.value.replayed };
}
