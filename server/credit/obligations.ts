/**
 * Obligations between members outside the network's unit: invoices in a currency (debtor,
 * creditor, amount, due date, reference), recorded one by one or from CSV, all or nothing.
 *
 * Who records: the debtor's treasurer (a co-op acknowledges what it owes) or a steward (importing
 * from an invoicing system). A creditor cannot record what another co-op owes it: clearing treats
 * every recorded obligation as real, so a claim nobody acknowledged would cancel real debts.
 *
 * Each obligation is kept in the network's book too, per member and currency: Dr "invoices
 * receivable" of the creditor, Cr "invoices payable" of the debtor (accounts `M00001.EUR.R`,
 * `M00001.EUR.P`, made when a member first owes or is owed in that currency, bounded below by 0).
 * A batch posts its movements per member, in entries of at most 99 lines balanced through the
 * currency's clearing account. A reference is unique per creditor and currency (an invoice is
 * recorded once).
 */
import { type CsvRecord, CsvSyntaxError, parseCsv } from '../coops/index.js';
import { Decimal, LedgerError, type Principal, parseAmount, validateDate } from '../core/index.js';
import { entryOp, insertAccounts, lockBooks } from '../ledger/index.js';
import { requestHash } from '../platform/hashing.js';
import { isUuid, uuidv7 } from '../platform/ids.js';
import type { TxClient } from '../platform/transaction.js';
import type { CreditDeps } from './deps.js';
import { memberCode } from './members.js';
import { mayReadNetwork } from './payments.js';
import {
  type ImportObligationsInput,
  OBLIGATIONS_PER_REQUEST_MAX,
  type ObligationInputRow,
  type ObligationRowError,
  type RecordObligationsInput,
  type RecordObligationsResult,
} from './records.js';
import {
  actsFor,
  checkKey,
  chunkedEntries,
  groupRefusal,
  isSteward,
  reusedKey,
  unknownNetwork,
} from './rules.js';
import {
  allMembers,
  currencyRows,
  insertMemberCurrencies,
  type MemberCurrencyRow,
  type MemberRow,
  memberCurrencyAccounts,
  memberRows,
} from './store.js';
import {
  batchByKey,
  insertBatch,
  insertObligations,
  type NewObligation,
  takenReferences,
} from './store-clearing.js';

const REFERENCE_LENGTH_MAX = 200;

/** Receivable and payable accounts of these members in a currency, made where missing. */
export async function ensureMemberCurrencyAccounts(
  client: TxClient,
  bookId: string,
  currency: string,
  members: MemberRow[],
): Promise<Map<string, MemberCurrencyRow>> {
  const have = await memberCurrencyAccounts(client, bookId, currency);
  const missing = members.filter((m) => !have.has(m.id));
  if (missing.length === 0) return have;
  const rows = missing.map((m) => ({
    memberId: m.id,
    receivableAccountId: uuidv7(),
    payableAccountId: uuidv7(),
  }));
  await insertAccounts(
    client,
    bookId,
    currency,
    missing.flatMap((m, i) => [
      {
        id: rows[i]!.receivableAccountId,
        code: `${memberCode(m.number)}.${currency}.R`,
        name: `Member ${m.number}: invoices receivable (${currency})`,
        type: 'ASSET' as const,
        lowerBound: '0',
      },
      {
        id: rows[i]!.payableAccountId,
        code: `${memberCode(m.number)}.${currency}.P`,
        name: `Member ${m.number}: invoices payable (${currency})`,
        type: 'LIABILITY' as const,
        lowerBound: '0',
      },
    ]),
  );
  await insertMemberCurrencies(client, bookId, currency, rows);
  for (const r of rows) have.set(r.memberId, r);
  return have;
}

function rowError(row: number, column: string | null, error: LedgerError): ObligationRowError {
  return { row, column, code: error.code, message: error.message };
}

/** Records obligations, all or nothing; every problem is reported by row and field. */
export async function recordObligations(
  deps: CreditDeps,
  input: RecordObligationsInput,
  actor: Principal,
  rowNumber: (index: number) => number = (i) => i,
): Promise<RecordObligationsResult | LedgerError> {
  if (!(await mayReadNetwork(deps, actor, input.bookId))) return unknownNetwork();
  const keyError = checkKey(input.idempotencyKey);
  if (keyError) return keyError;
  if (input.obligations.length === 0 || input.obligations.length > OBLIGATIONS_PER_REQUEST_MAX)
    return new LedgerError(
      'INVALID_INPUT',
      `a request records 1 to ${OBLIGATIONS_PER_REQUEST_MAX} obligations`,
      'obligations',
    );
  const steward = isSteward(actor, input.bookId);
  const ids = [...new Set(input.obligations.flatMap((o) => [o.debtorId, o.creditorId]).filter(isUuid))];
  const members = new Map(
    (
      await memberRows(
        deps.pool,
        ids.map((id) => ({ bookId: input.bookId, id })),
      )
    ).map((m) => [m.id, m]),
  );
  const currencies = new Map((await currencyRows(deps.pool, input.bookId)).map((c) => [c.code, c]));
  const errors: ObligationRowError[] = [];
  const rows: NewObligation[] = [];
  const seen = new Map<string, number>();
  input.obligations.forEach((o, i) => {
    const n = rowNumber(i);
    const before = errors.length;
    const debtor = members.get(o.debtorId);
    const creditor = members.get(o.creditorId);
    if (!debtor)
      errors.push({
        row: n,
        column: 'debtorId',
        code: 'UNKNOWN_NETWORK_MEMBER',
        message: 'no such member of this network',
      });
    else if (!steward && !actsFor(actor, debtor))
      errors.push({
        row: n,
        column: 'debtorId',
        code: 'NOT_OBLIGATION_DEBTOR',
        message: "only the debtor's treasurer or a steward records what the debtor owes",
      });
    if (!creditor)
      errors.push({
        row: n,
        column: 'creditorId',
        code: 'UNKNOWN_NETWORK_MEMBER',
        message: 'no such member of this network',
      });
    if (debtor && creditor && debtor.id === creditor.id)
      errors.push({
        row: n,
        column: 'creditorId',
        code: 'INVALID_INPUT',
        message: 'a member does not owe itself',
      });
    const currency = currencies.get(o.currency);
    if (!currency)
      errors.push({
        row: n,
        column: 'currency',
        code: 'UNKNOWN_UNIT',
        message: `the network keeps no obligations in ${o.currency} (addNetworkCurrency first)`,
      });
    else {
      const amount = parseAmount(o.amount, { code: currency.code, scale: currency.scale }, 'amount');
      if (amount instanceof LedgerError) errors.push(rowError(n, 'amount', amount));
    }
    const dateError = validateDate(o.dueOn, 'dueOn');
    if (dateError) errors.push(rowError(n, 'dueOn', dateError));
    if (o.reference.trim().length === 0 || o.reference.length > REFERENCE_LENGTH_MAX)
      errors.push({
        row: n,
        column: 'reference',
        code: 'INVALID_INPUT',
        message: `reference must be 1 to ${REFERENCE_LENGTH_MAX} characters`,
      });
    const dupKey = `${o.creditorId}\u0000${o.currency}\u0000${o.reference}`;
    const first = seen.get(dupKey);
    if (first !== undefined)
      errors.push({
        row: n,
        column: 'reference',
        code: 'DUPLICATE_OBLIGATION',
        message: `the creditor's reference ${o.reference} is already in row ${first}`,
      });
    seen.set(dupKey, n);
    if (errors.length === before)
      rows.push({
        id: uuidv7(),
        debtorId: o.debtorId,
        creditorId: o.creditorId,
        currency: o.currency,
        amount: new Decimal(o.amount).toFixed(currency!.scale),
        dueOn: o.dueOn,
        reference: o.reference,
      });
  });
  if (errors.length > 0) return { recorded: 0, replayed: false, rowErrors: errors };
  const hash = requestHash('recordObligations', { bookId: input.bookId, obligations: input.obligations });
  const outcome = await deps.ledger.engine.submitWith<RecordObligationsResult>(async (client) => {
    await lockBooks(client, [input.bookId]);
    const prior = await batchByKey(client, input.bookId, input.idempotencyKey);
    if (prior)
      return prior.requestHash === hash
        ? { ops: [], value: { recorded: prior.recorded, replayed: true, rowErrors: [] } }
        : reusedKey();
    const taken = await takenReferences(client, input.bookId, rows);
    if (taken.length > 0)
      return new LedgerError(
        'DUPLICATE_OBLIGATION',
        `the creditor already recorded reference ${rows[taken[0]!]!.reference} in ${rows[taken[0]!]!.currency}`,
        `obligations[${taken[0]}].reference`,
      );
    await insertObligations(client, input.bookId, rows, input.idempotencyKey, actor.id);
    await insertBatch(client, {
      bookId: input.bookId,
      key: input.idempotencyKey,
      hash,
      recorded: rows.length,
      actor: actor.id,
    });
    const ops = [];
    let index = 0;
    for (const code of [...new Set(rows.map((r) => r.currency))].sort()) {
      const currency = currencies.get(code)!;
      const ofCurrency = rows.filter((r) => r.currency === code);
      const involved = [...new Set(ofCurrency.flatMap((r) => [r.debtorId, r.creditorId]))].map(
        (id) => members.get(id)!,
      );
      const accounts = await ensureMemberCurrencyAccounts(client, input.bookId, code, involved);
      const receivable = new Map<string, Decimal>();
      const payable = new Map<string, Decimal>();
      for (const r of ofCurrency) {
        receivable.set(r.creditorId, (receivable.get(r.creditorId) ?? new Decimal(0)).plus(r.amount));
        payable.set(r.debtorId, (payable.get(r.debtorId) ?? new Decimal(0)).plus(r.amount));
      }
      const entries = chunkedEntries(
        [
          ...[...receivable].map(([m, amount]) => ({
            accountId: accounts.get(m)!.receivableAccountId,
            side: 'DEBIT' as const,
            amount,
          })),
          ...[...payable].map(([m, amount]) => ({
            accountId: accounts.get(m)!.payableAccountId,
            side: 'CREDIT' as const,
            amount,
          })),
        ],
        currency.clearingAccountId,
        { code, scale: currency.scale },
        () => `obl:${input.idempotencyKey}:${index++}`,
        `Obligations recorded (${code})`,
        [
          { key: 'credit.kind', value: 'OBLIGATIONS' },
          { key: 'credit.batch', value: input.idempotencyKey },
        ],
      );
      ops.push(...entries.map((e) => entryOp(input.bookId, 'STANDARD', e, null, actor.id)));
    }
    return { ops, value: { recorded: rows.length, replayed: false, rowErrors: [] } };
  });
  if (outcome instanceof LedgerError) return outcome;
  return groupRefusal(outcome.results, 'obligations') ?? outcome.value;
}

const CSV_COLUMNS = ['debtor', 'creditor', 'currency', 'amount', 'due_on', 'reference'] as const;

/**
 * A CSV file of obligations: header line first (any order, case-insensitive) with debtor, creditor
 * (member numbers), currency, amount, due_on, reference. Errors name the file's line and column.
 */
export async function importObligationsCsv(
  deps: CreditDeps,
  input: ImportObligationsInput,
  actor: Principal,
): Promise<RecordObligationsResult | LedgerError> {
  if (!(await mayReadNetwork(deps, actor, input.bookId))) return unknownNetwork();
  let records: CsvRecord[];
  try {
    records = parseCsv(input.csv);
  } catch (error) {
    if (error instanceof CsvSyntaxError)
      return {
        recorded: 0,
        replayed: false,
        rowErrors: [{ row: error.line, column: null, code: 'INVALID_CSV', message: error.message }],
      };
    throw error;
  }
  const [header, ...body] = records;
  if (!header) return new LedgerError('INVALID_CSV', 'the file is empty', 'csv');
  const names = header.fields.map((f) => f.trim().toLowerCase());
  const missing = CSV_COLUMNS.filter((c) => !names.includes(c));
  if (missing.length > 0)
    return new LedgerError('INVALID_CSV', `the header lacks ${missing.join(', ')}`, 'csv');
  if (body.length === 0 || body.length > OBLIGATIONS_PER_REQUEST_MAX)
    return new LedgerError('INVALID_CSV', `a file holds 1 to ${OBLIGATIONS_PER_REQUEST_MAX} rows`, 'csv');
  const col = (r: CsvRecord, name: (typeof CSV_COLUMNS)[number]) =>
    (r.fields[names.indexOf(name)] ?? '').trim();
  const byNumber = new Map((await allMembers(deps.pool, input.bookId)).map((m) => [String(m.number), m.id]));
  const errors: ObligationRowError[] = [];
  const rows: ObligationInputRow[] = body.map((r) => {
    const member = (column: 'debtor' | 'creditor') => {
      const id = byNumber.get(col(r, column));
      if (!id)
        errors.push({
          row: r.line,
          column,
          code: 'UNKNOWN_NETWORK_MEMBER',
          message: `no member number ${col(r, column)}`,
        });
      return id ?? '';
    };
    return {
      debtorId: member('debtor'),
      creditorId: member('creditor'),
      currency: col(r, 'currency'),
      amount: col(r, 'amount'),
      dueOn: col(r, 'due_on'),
      reference: col(r, 'reference'),
    };
  });
  if (errors.length > 0) return { recorded: 0, replayed: false, rowErrors: errors };
  const result = await recordObligations(
    deps,
    { bookId: input.bookId, obligations: rows, idempotencyKey: input.idempotencyKey },
    actor,
    (i) => body[i]!.line,
  );
  if (result instanceof LedgerError || result.rowErrors.length === 0) return result;
  const columns: Record<string, string> = {
    debtorId: 'debtor',
    creditorId: 'creditor',
    dueOn: 'due_on',
  };
  return {
    ...result,
    rowErrors: result.rowErrors.map((e) => ({
      ...e,
      column: e.column ? (columns[e.column] ?? e.column) : null,
    })),
  };
}
