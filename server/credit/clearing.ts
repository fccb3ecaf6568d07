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
  formatScaled,
  fromMinor,
  InvariantError,
  LedgerError,
  type LiquidityInput,
  liquidityFactor,
  type Principal,
  planClearingTable,
  type TablePlan,
  toMinor,
  type Unit,
} from '../core/index.js';
import {
  type AccountRow,
  entryOp,
  findAccounts,
  lockAccounts,
  lockBooks,
  type PostOp,
} from '../ledger/index.js';
import { requestHash, sha256Parts } from '../platform/hashing.js';
import { uuidv7 } from '../platform/ids.js';
import { type Queryable, type TxClient, withTransaction } from '../platform/transaction.js';
import type { CreditDeps } from './deps.js';
import { getNetwork } from './networks.js';
import { ensureMemberCurrencyAccounts } from './obligations.js';
import type {
  ClearingFigures,
  ClearingLines,
  ClearingRecord,
  ClearingRequest,
  ClearingResult,
  CommitClearingInput,
  NetworkRecord,
} from './records.js';
import { checkKey, chunkedEntries, groupRefusal, isSteward, reusedKey, unknownNetwork } from './rules.js';
import { allMembers, currencyRows, type MemberRow } from './store.js';
import {
  applyClearingLines,
  type ClearingRow,
  clearingByKey,
  clearingRows,
  insertClearing,
  type OpenObligationTable,
  obligationCount,
  obligationDetails,
  openObligationTable,
  readOnlySnapshot,
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

interface Computed {
  figures: ClearingFigures;
  table: OpenObligationTable;
  plan: TablePlan;
  /** Member rows by the table's member index. */
  members: MemberRow[];
  accounts: Map<string, AccountRow>;
  factor: bigint | null;
}

/** An array literal (`{a,b,...}`) of plain values, joined a block at a time. */
class LiteralBuilder {
  private blocks: string[] = [];
  private block: string[] = [];

  push(value: string): void {
    this.block.push(value);
    if (this.block.length === 4_096) {
      this.blocks.push(this.block.join(','));
      this.block = [];
    }
  }

  literal(): string {
    if (this.block.length > 0) this.blocks.push(this.block.join(','));
    this.block = [];
    return `{${this.blocks.join(',')}}`;
  }
}

/** Rows a snapshot hash feeds at a time (one string each). */
const HASH_ROWS = 4_096;

/**
 * The plan's lines, paged by obligation id without sorting or copying the plan: a page is the
 * `limit` smallest (or largest) ids in range among the rows with something cleared, kept in a small
 * sorted array while the rows are scanned once; then the page's due dates and references are read
 * (they never change, so a later read agrees with the plan).
 */
function planLines(
  db: Queryable,
  bookId: string,
  table: OpenObligationTable,
  plan: TablePlan,
  scale: number,
): ClearingLines {
  const cleared: number[] = [];
  for (let k = 0; k < table.ids.length; k++)
    if (plan.setoff[k]! > 0n || plan.liquidity[k]! > 0n) cleared.push(k);
  return {
    count: cleared.length,
    async page(q) {
      const { ids } = table;
      // Row k before row j in the page's order.
      const before = (k: number, j: number) => (q.backward ? ids.compare(k, j) > 0 : ids.compare(k, j) < 0);
      const best: number[] = [];
      if (q.limit > 0)
        for (const k of cleared) {
          if (q.after !== null || q.before !== null) {
            const id = ids.at(k);
            if ((q.after !== null && id <= q.after) || (q.before !== null && id >= q.before)) continue;
          }
          if (best.length === q.limit && !before(k, best[best.length - 1]!)) continue;
          let i = best.length;
          while (i > 0 && before(k, best[i - 1]!)) i--;
          best.splice(i, 0, k);
          if (best.length > q.limit) best.pop();
        }
      const details = await obligationDetails(
        db,
        bookId,
        best.map((k) => ids.at(k)),
      );
      return best.map((k) => {
        const d = details.get(ids.at(k))!;
        return {
          obligationId: ids.at(k),
          debtorId: table.members[table.debtor[k]!]!,
          creditorId: table.members[table.creditor[k]!]!,
          dueOn: d.dueOn,
          reference: d.reference,
          outstanding: fromMinor(table.outstanding[k]!, scale),
          setoff: fromMinor(plan.setoff[k]!, scale),
          liquidity: fromMinor(plan.liquidity[k]!, scale),
        };
      });
    },
  };
}

/** The plan from what the database holds now (`client` in a transaction: under the book's lock when committing). */
async function compute(
  client: TxClient,
  readDb: Queryable,
  network: NetworkRecord,
  request: ClearingRequest,
  accountsOf: (members: MemberRow[]) => Promise<Map<string, AccountRow>>,
): Promise<Computed | LedgerError> {
  const currency = (await currencyRows(client, network.id)).find((c) => c.code === request.currency);
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
  const table = await openObligationTable(client, network.id, unit.code, unit.scale);
  const byId = new Map((await allMembers(client, network.id)).map((m) => [m.id, m]));
  const members = table.members.map((id) => byId.get(id)!);
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
  const plan = planClearingTable(table, liquidity);
  const scale = unit.scale;
  const d = (v: bigint) => fromMinor(v, scale);
  // The JSON of {currency, mode, obligations: [[id, outstanding]...], liquidity}, the obligations
  // in the table's order (debtor, creditor, due date, id), hashed a few thousand rows at a time.
  const { ids, outstanding } = table;
  const snapshotHash = sha256Parts(
    (function* () {
      yield `{"currency":${JSON.stringify(unit.code)},"mode":${JSON.stringify(request.mode)},"obligations":[`;
      for (let from = 0; from < ids.length; from += HASH_ROWS) {
        let text = '';
        for (let k = from; k < Math.min(ids.length, from + HASH_ROWS); k++)
          text += `${k === 0 ? '' : ','}["${ids.at(k)}","${formatScaled(outstanding[k]!, scale)}"]`;
        yield text;
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
  return {
    table,
    plan,
    members,
    accounts,
    factor,
    figures: {
      bookId: network.id,
      currency: unit,
      mode: request.mode,
      obligationsConsidered: ids.length,
      outstandingBefore: d(plan.outstandingBefore),
      setoffTotal: d(plan.setoffTotal),
      liquidityTotal: d(plan.liquidityTotal),
      outstandingAfter: d(plan.outstandingAfter),
      netInternalDebtBefore: d(plan.netInternalDebtBefore),
      netInternalDebtAfter: d(plan.netInternalDebtAfter),
      liquidityUsed: d(plan.liquidityUsed),
      snapshotHash,
      lines: planLines(readDb, network.id, table, plan, scale),
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
  // One snapshot for the obligations and the balances (a read-only transaction; the cursor needs one).
  const computed = await withTransaction(deps.pool, async (client) => {
    await readOnlySnapshot(client);
    return compute(client, deps.pool, network, request, async (members) => {
      const rows = await findAccounts(
        client,
        members.map((m) => ({ bookId: network.id, id: m.accountId })),
      );
      return new Map(rows.map((a) => [a.id, a]));
    });
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
    const computed = await compute(client, client, network, input, async (members) => {
      const locked = await lockAccounts(
        client,
        members.map((m) => ({ bookId: network.id, id: m.accountId })),
      );
      return new Map([...locked.values()].map((a) => [a.id, a]));
    });
    if (computed instanceof LedgerError) return computed;
    const { figures: f, table, plan, members, accounts, factor } = computed;
    if (input.snapshotHash && input.snapshotHash !== f.snapshotHash)
      return new LedgerError(
        'CLEARING_STALE',
        'the open obligations or balances changed since that preview; preview again',
        'snapshotHash',
      );
    if (plan.setoffTotal + plan.liquidityTotal === 0n)
      return new LedgerError('NOTHING_TO_CLEAR', 'nothing clears among these obligations', 'currency');
    const scale = f.currency.scale;
    const currency = (await currencyRows(client, network.id)).find((c) => c.code === f.currency.code)!;
    const invoiceAccounts = await ensureMemberCurrencyAccounts(client, network.id, f.currency.code, members);
    // Per member (by the table's index): receivables cleared (as creditor), payables cleared (as debtor).
    const received = new Array<bigint>(members.length).fill(0n);
    const paid = new Array<bigint>(members.length).fill(0n);
    // The lines' amounts as array literals, joined a block of rows at a time so that no array of
    // 121,000 small strings lives long enough to be promoted to the old generation.
    const rows: number[] = [];
    const setoffs = new LiteralBuilder();
    const liquidities = new LiteralBuilder();
    for (let k = 0; k < table.ids.length; k++) {
      const s = plan.setoff[k]!;
      const l = plan.liquidity[k]!;
      if (s === 0n && l === 0n) continue;
      rows.push(k);
      setoffs.push(formatScaled(s, scale));
      liquidities.push(formatScaled(l, scale));
      const c = table.creditor[k]!;
      const d = table.debtor[k]!;
      received[c] = received[c]! + s + l;
      paid[d] = paid[d]! + s + l;
    }
    const id = uuidv7();
    let index = 0;
    const keyOf = () => `clear:${input.idempotencyKey}:${index++}`;
    const metadata = [
      { key: 'credit.kind', value: 'CLEARING' },
      { key: 'credit.clearing', value: id },
    ];
    const d = (v: bigint) => fromMinor(v, scale);
    const entries = chunkedEntries(
      [
        ...members.map((m, i) => ({
          accountId: invoiceAccounts.get(m.id)!.payableAccountId,
          side: 'DEBIT' as const,
          amount: d(paid[i]!),
        })),
        ...members.map((m, i) => ({
          accountId: invoiceAccounts.get(m.id)!.receivableAccountId,
          side: 'CREDIT' as const,
          amount: d(received[i]!),
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
        .map((m, i) => ({ m, account: members[i]!.accountId }))
        .filter(({ m }) => !m.networkPayment.isZero())
        .sort((a, b) => b.m.networkPayment.comparedTo(a.m.networkPayment));
      entries.push(
        ...chunkedEntries(
          payments.map(({ m, account }) => ({
            accountId: account,
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
      f.members.map((m, i) => {
        const a = accounts.get(members[i]!.accountId)!;
        return {
          memberId: m.memberId,
          currencyBefore: m.positionBefore.toFixed(scale),
          networkBefore: a.postedCredits.minus(a.postedDebits).toFixed(),
          networkPayment: m.networkPayment.toFixed(scale),
        };
      }),
    );
    await applyClearingLines(client, network.id, id, {
      ids: table.ids.literal(rows),
      count: rows.length,
      setoff: setoffs.literal(),
      liquidity: liquidities.literal(),
    });
    if (entries.length === 0) throw new InvariantError('a clearing that clears something posts entries');
    const ops: PostOp[] = entries.map((e) => entryOp(network.id, 'STANDARD', e, null, actor.id));
    return { ops, value: { id, replayed: false } };
  });
  if (outcome instanceof LedgerError) return outcome;
  const refused = groupRefusal(outcome.results, null);
  if (refused) return refused;
  const [row] = await clearingRows(deps.pool, network.id, [outcome.value.id]);
  const currency = network.currencies.find((c) => c.code === row!.currency)!;
  return { clearing: toClearing(row!, currency), replayed: outcome.value.replayed };
}
