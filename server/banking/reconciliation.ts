/**
 * Reconciliations (issue 17): a bank account's statement period set against its books.
 *
 *   statement balance   the bank's closing balance for the period's last day (given, or the
 *                       closing balance of an imported statement ending that day)
 *   book balance        the account's posted balance at the end of that day (money in positive)
 *   matched             the period's statement lines matched to entries dated up to its end
 *   unmatched lines     the period's statement lines not so matched: not in the books yet
 *   outstanding entries entries on the account since the account's first reconciliation began,
 *                       up to the period's end, not matched to a line dated up to its end
 *                       (cheques not yet cashed, deposits in transit; earlier entries are in the
 *                       opening balance the bank and the books agreed on)
 *   difference          statement balance - (book balance - outstanding + unmatched lines)
 *
 * It agrees when every statement line is matched and the statement balance equals the book
 * balance less the outstanding entries; only then can it be closed. Closing stores these figures
 * (with the ids behind them), after which the reconciliation never changes: the database refuses
 * to update or delete it, and the matches of the lines it covers, and imports refuse new lines
 * dated inside it. Periods of an account follow each other without gaps or overlaps; one is open
 * at a time.
 */
import { type Decimal, LedgerError, type Principal, parseAmount, validateDate, ZERO } from '../core/index.js';
import { mayChangeBook, postedTotalsAsOf } from '../ledger/index.js';
import { isUuid, uuidv7 } from '../platform/ids.js';
import { type Queryable, withTransaction } from '../platform/transaction.js';
import type { BankingDeps } from './deps.js';
import { entriesOnAccount, entryAmountOn, entryDay } from './matching.js';
import type { ReconciliationFigures, ReconciliationRecord, StartReconciliationInput } from './records.js';
import { bankAccountOf, unknownAccount, withUnits } from './rules-common.js';
import {
  allLines,
  closingBalanceOn,
  findReconciliations,
  insertReconciliation,
  lockBankAccount,
  markClosed,
  matchedEntries,
  type ReconciliationRow,
  reconciliationBounds,
} from './store.js';

const unknownReconciliation = () =>
  new LedgerError('UNKNOWN_RECONCILIATION', 'no such reconciliation', 'reconciliationId');
const nextDay = (day: string) =>
  new Date(Date.parse(`${day}T00:00:00.000Z`) + 86_400_000).toISOString().slice(0, 10);

/** The figures of a period as the books and the imported lines stand now. */
async function computeFigures(
  deps: BankingDeps,
  db: Queryable,
  rec: ReconciliationRow,
  since: string,
): Promise<ReconciliationFigures> {
  const { bookId, accountId, periodStart, periodEnd } = rec;
  const totals = (
    await postedTotalsAsOf(db, bookId, [accountId], new Date(`${periodEnd}T23:59:59.999Z`))
  ).get(accountId);
  const bookBalance = totals ? totals.debits.minus(totals.credits) : ZERO;
  const lines = await allLines(db, {
    bookId,
    accountId,
    statementId: null,
    status: null,
    from: periodStart,
    to: periodEnd,
  });
  const entries = await entriesOnAccount(deps, bookId, accountId, since, periodEnd);
  const byId = new Map(entries.map((e) => [e.id, e]));
  // Entries of matched lines dated before `since` are read too (their day decides).
  const missing = lines.flatMap((l) =>
    l.match && !byId.has(l.match.entryId) ? [{ bookId, id: l.match.entryId }] : [],
  );
  for (const e of missing.length > 0 ? await deps.ledger.getEntries(missing) : []) byId.set(e.id, e);
  const matchedLineIds: string[] = [];
  const unmatchedLineIds: string[] = [];
  let matchedTotal = ZERO;
  let unmatchedLinesTotal = ZERO;
  for (const l of lines) {
    const entry = l.match ? byId.get(l.match.entryId) : undefined;
    if (entry && entryDay(entry) <= periodEnd) {
      matchedLineIds.push(l.id);
      matchedTotal = matchedTotal.plus(l.amount);
    } else {
      unmatchedLineIds.push(l.id);
      unmatchedLinesTotal = unmatchedLinesTotal.plus(l.amount);
    }
  }
  const clearedBy = await matchedEntries(db, bookId, accountId);
  const outstandingEntryIds: string[] = [];
  let outstandingTotal = ZERO;
  for (const e of entries) {
    const lineDay = clearedBy.get(e.id);
    if (lineDay !== undefined && lineDay <= periodEnd) continue;
    const amount = entryAmountOn(e, accountId);
    if (amount === null || amount.isZero()) continue;
    outstandingEntryIds.push(e.id);
    outstandingTotal = outstandingTotal.plus(amount);
  }
  const difference = rec.statementBalance.minus(
    bookBalance.minus(outstandingTotal).plus(unmatchedLinesTotal),
  );
  return {
    statementBalance: rec.statementBalance,
    bookBalance,
    matchedLineIds,
    matchedTotal,
    unmatchedLineIds,
    unmatchedLinesTotal,
    outstandingEntryIds,
    outstandingTotal,
    difference,
    agrees: unmatchedLineIds.length === 0 && rec.statementBalance.equals(bookBalance.minus(outstandingTotal)),
  };
}

async function toRecord(
  deps: BankingDeps,
  db: Queryable,
  row: ReconciliationRow,
): Promise<ReconciliationRecord> {
  const [withUnit] = await withUnits(deps, [row]);
  const since = (await reconciliationBounds(db, row.bookId, row.accountId)).firstStart ?? row.periodStart;
  return {
    bookId: row.bookId,
    id: row.id,
    accountId: row.accountId,
    periodStart: row.periodStart,
    periodEnd: row.periodEnd,
    status: row.status,
    unit: withUnit!.unit,
    figures: row.figures ?? (await computeFigures(deps, db, row, since)),
    createdAt: row.createdAt,
    createdBy: row.createdBy,
    closedAt: row.closedAt,
    closedBy: row.closedBy,
  };
}

/** Reconciliations by id: closed ones with their stored figures, open ones as they stand now. */
export async function getReconciliations(
  deps: BankingDeps,
  keys: { bookId: string; id: string }[],
): Promise<ReconciliationRecord[]> {
  const rows = await findReconciliations(
    deps.pool,
    keys.filter((k) => isUuid(k.bookId) && isUuid(k.id)),
  );
  return Promise.all(rows.map((r) => toRecord(deps, deps.pool, r)));
}

export async function startReconciliation(
  deps: BankingDeps,
  input: StartReconciliationInput,
  actor: Principal,
): Promise<ReconciliationRecord | LedgerError> {
  if (!(await mayChangeBook(deps.pool, actor, input.bookId))) return unknownAccount();
  const account = await bankAccountOf(deps, input.bookId, input.accountId);
  if (account instanceof LedgerError) return account;
  const dateError =
    validateDate(input.periodStart, 'periodStart') ?? validateDate(input.periodEnd, 'periodEnd');
  if (dateError) return dateError;
  if (input.periodEnd < input.periodStart)
    return new LedgerError('INVALID_DATE', 'periodEnd must not be before periodStart', 'periodEnd');
  let balance: Decimal | null = null;
  if (input.statementBalance !== null) {
    const parsed = parseAmount(input.statementBalance, account.unit, 'statementBalance', {
      allowNegative: true,
      allowZero: true,
    });
    if (parsed instanceof LedgerError) return parsed;
    balance = parsed;
  } else {
    balance = await closingBalanceOn(deps.pool, input.bookId, input.accountId, input.periodEnd);
    if (balance === null)
      return new LedgerError(
        'STATEMENT_BALANCE_REQUIRED',
        `no imported statement of this account ends on ${input.periodEnd} with a closing balance: give statementBalance`,
        'statementBalance',
      );
  }
  const id = uuidv7();
  const outcome = await withTransaction(deps.pool, async (client) => {
    await lockBankAccount(client, input.bookId, input.accountId);
    const bounds = await reconciliationBounds(client, input.bookId, input.accountId);
    if (bounds.openId !== null)
      return new LedgerError(
        'RECONCILIATION_PERIOD',
        'this account has an open reconciliation: close it first',
        'periodStart',
      );
    if (bounds.lastEnd !== null && input.periodStart !== nextDay(bounds.lastEnd))
      return new LedgerError(
        'RECONCILIATION_PERIOD',
        `the next period of this account starts on ${nextDay(bounds.lastEnd)}, the day after the last one ended`,
        'periodStart',
      );
    await insertReconciliation(client, {
      bookId: input.bookId,
      id,
      accountId: input.accountId,
      periodStart: input.periodStart,
      periodEnd: input.periodEnd,
      statementBalance: balance!.toFixed(account.unit.scale),
      actor: actor.id,
    });
    return null;
  });
  if (outcome instanceof LedgerError) return outcome;
  return (await getReconciliations(deps, [{ bookId: input.bookId, id }]))[0]!;
}

export async function closeReconciliation(
  deps: BankingDeps,
  input: { bookId: string; reconciliationId: string },
  actor: Principal,
): Promise<ReconciliationRecord | LedgerError> {
  if (
    !(await mayChangeBook(deps.pool, actor, input.bookId)) ||
    !isUuid(input.bookId) ||
    !isUuid(input.reconciliationId)
  )
    return unknownReconciliation();
  const [row] = await findReconciliations(deps.pool, [{ bookId: input.bookId, id: input.reconciliationId }]);
  if (!row) return unknownReconciliation();
  const outcome = await withTransaction(deps.pool, async (client) => {
    await lockBankAccount(client, input.bookId, row.accountId);
    const [current] = await findReconciliations(client, [
      { bookId: input.bookId, id: input.reconciliationId },
    ]);
    if (current!.status === 'CLOSED')
      return new LedgerError(
        'RECONCILIATION_CLOSED',
        'the reconciliation is already closed',
        'reconciliationId',
      );
    const since =
      (await reconciliationBounds(client, input.bookId, row.accountId)).firstStart ?? row.periodStart;
    const figures = await computeFigures(deps, client, current!, since);
    if (!figures.agrees) {
      const [unit] = await withUnits(deps, [row]);
      const scale = unit!.unit.scale;
      const parts = [
        `statement ${figures.statementBalance.toFixed(scale)}, books less outstanding ${figures.bookBalance.minus(figures.outstandingTotal).toFixed(scale)}`,
      ];
      if (figures.unmatchedLineIds.length > 0)
        parts.push(`${figures.unmatchedLineIds.length} statement line(s) not matched`);
      parts.push(
        `difference ${figures.statementBalance.minus(figures.bookBalance.minus(figures.outstandingTotal)).toFixed(scale)}`,
      );
      return new LedgerError(
        'RECONCILIATION_NOT_BALANCED',
        `does not agree: ${parts.join('; ')}`,
        'reconciliationId',
      );
    }
    await markClosed(client, input.bookId, input.reconciliationId, figures, actor.id);
    return null;
  });
  if (outcome instanceof LedgerError) return outcome;
  return (await getReconciliations(deps, [{ bookId: input.bookId, id: input.reconciliationId }]))[0]!;
}
