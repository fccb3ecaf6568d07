/**
 * Bulk import of members and of buy-in payments from CSV, all or nothing per file.
 *
 * Every row is checked first and every problem reported (row = the file's line number, the header
 * is line 1) without touching anything. A file without problems is then applied in ONE
 * transaction: parties, memberships, their accounts and events, and every entry, through the
 * posting engine's submitWith; if the ledger still rejects an entry (a bound, a closed account, a
 * date past the book's backdating limit), the whole file rolls back and that row is reported.
 * The import is idempotent: the same key and the same file answer with the first result. A row's
 * membership and entries are keyed "csv!<file key>#<line>" (rules.importRowKey), a form no other
 * request may take, so a payment or a join keyed like a row never stands for it.
 *
 * MEMBERS columns (header names, any order, case-insensitive):
 *   name (required), class (required: a member class code), applied_on (required: YYYY-MM-DD),
 *   kind (person | organization; default person), email, phone, address,
 *   external_ref (your own id for the member, unique in the co-op; payments files may use it),
 *   status (applicant | candidate | active; default applicant), status_on (default applied_on).
 *   A row whose person (kind, name and a non-empty email, case aside) is on an earlier line or
 *   already holds an open membership is refused (ALREADY_MEMBER): one person, one vote.
 * PAYMENTS columns:
 *   member (required: member number or external_ref; digits are read as a number whatever their
 *   leading zeros, "00001" is member 1, unless an external_ref is written exactly so; a text that
 *   is one member's number and another's external_ref is refused),
 *   paid_on (required: not before the member joined),
 *   amount (required), method (cash | bank; default bank), reference (the entry's memo).
 */
import {
  balanceView,
  type ErrorCode,
  isLeaving,
  LedgerError,
  type MembershipState,
  memberCellReader,
  PARTY_KINDS,
  type PartyKind,
  parseAmount,
  validateDate,
  validateIdempotencyKey,
  ZERO,
} from '../core/index.js';
import { entryOp, findAccounts, type PostOp } from '../ledger/index.js';
import { requestHash } from '../platform/hashing.js';
import { uuidv7 } from '../platform/ids.js';
import type { Queryable, TxClient } from '../platform/transaction.js';
import { CsvSyntaxError, parseCsv } from './csv.js';
import type { CoopDeps } from './deps.js';
import { prepareJoins } from './joining.js';
import { lockBook } from './memberships.js';
import { getMemberships } from './reading.js';
import type { MembershipRecord, PaymentMethod } from './records.js';
import { getCoops, listMemberClasses } from './register.js';
import {
  asInputField,
  importRowKey,
  paymentEntry,
  reusedKey,
  todayUtc,
  unknownCoop,
  validateParty,
} from './rules.js';

export const IMPORT_ROWS_MAX = 5_000;
export const IMPORT_KEY_LENGTH_MAX = 80;

export type ImportKind = 'MEMBERS' | 'PAYMENTS';

export interface RowError {
  row: number;
  column: string | null;
  code: ErrorCode;
  message: string;
}

export interface ImportResult {
  imported: boolean;
  replayed: boolean;
  /** Data rows read (the header and blank lines not counted). */
  rows: number;
  membershipsCreated: number;
  paymentsPosted: number;
  rowErrors: RowError[];
}

export interface ImportInput {
  bookId: string;
  kind: ImportKind;
  csv: string;
  idempotencyKey: string;
}

const COLUMNS: Record<ImportKind, { required: string[]; optional: string[] }> = {
  MEMBERS: {
    required: ['name', 'class', 'applied_on'],
    optional: ['kind', 'email', 'phone', 'address', 'external_ref', 'status', 'status_on'],
  },
  PAYMENTS: { required: ['member', 'paid_on', 'amount'], optional: ['method', 'reference'] },
};

/** The column a row's entry is dated by: a subscription by applied_on, a payment by paid_on. */
const DATE_COLUMN: Record<ImportKind, string> = { MEMBERS: 'applied_on', PAYMENTS: 'paid_on' };

const IMPORT_STATUSES: Record<string, MembershipState> = {
  applicant: 'APPLICANT',
  candidate: 'CANDIDATE',
  active: 'ACTIVE',
};

interface MemberRow {
  line: number;
  name: string;
  classId: string;
  appliedOn: string;
  kind: PartyKind;
  email: string;
  phone: string;
  address: string;
  externalRef: string | null;
  status: MembershipState;
  statusOn: string;
}

interface PaymentRow {
  line: number;
  membership: MembershipRecord;
  paidOn: string;
  amount: string;
  method: PaymentMethod;
  reference: string | null;
}

/** The answer of an earlier import with this key: a replay for the same file, a reuse error for another. */
async function priorImport(
  deps: CoopDeps,
  db: Queryable,
  input: ImportInput,
  hash: string,
): Promise<ImportResult | LedgerError | null> {
  const prior = await deps.store.priorImport(db, input.bookId, input.idempotencyKey);
  if (!prior) return null;
  if (prior.requestHash !== hash) return reusedKey();
  return { ...(prior.result as ImportResult), replayed: true };
}

function invalidCsv(row: number, column: string | null, message: string): RowError {
  return { row, column, code: 'INVALID_CSV', message };
}

function failure(rows: number, rowErrors: RowError[]): ImportResult {
  return { imported: false, replayed: false, rows, membershipsCreated: 0, paymentsPosted: 0, rowErrors };
}

export async function importCsv(
  deps: CoopDeps,
  input: ImportInput,
  actor: string | null,
): Promise<ImportResult | LedgerError> {
  const keyError = validateIdempotencyKey(input.idempotencyKey);
  if (keyError) return keyError;
  if (input.idempotencyKey.length > IMPORT_KEY_LENGTH_MAX)
    return new LedgerError(
      'INVALID_IDEMPOTENCY_KEY',
      `idempotencyKey must be 1 to ${IMPORT_KEY_LENGTH_MAX} characters here`,
      'idempotencyKey',
    );
  if (input.kind !== 'MEMBERS' && input.kind !== 'PAYMENTS')
    return new LedgerError('INVALID_INPUT', 'kind must be MEMBERS or PAYMENTS', 'kind');
  const [coop] = await getCoops(deps, [input.bookId]);
  if (!coop) return unknownCoop();
  const hash = requestHash('importMembersCsv', input);
  const prior = await priorImport(deps, deps.pool, input, hash);
  if (prior) return prior;

  let records: ReturnType<typeof parseCsv>;
  try {
    records = parseCsv(input.csv);
  } catch (error) {
    if (error instanceof CsvSyntaxError) return failure(0, [invalidCsv(error.line, null, error.message)]);
    throw error;
  }
  if (records.length === 0)
    return failure(0, [invalidCsv(1, null, 'the file is empty: a header row is needed')]);
  const [header, ...data] = records;
  const names = header!.fields.map((f) => f.trim().toLowerCase());
  const spec = COLUMNS[input.kind];
  const headerErrors: RowError[] = [];
  for (const [i, name] of names.entries()) {
    if (![...spec.required, ...spec.optional].includes(name))
      headerErrors.push(
        invalidCsv(
          header!.line,
          header!.fields[i] ?? null,
          `unknown column "${header!.fields[i]}" (expected: ${[...spec.required, ...spec.optional].join(', ')})`,
        ),
      );
    else if (names.indexOf(name) !== i)
      headerErrors.push(invalidCsv(header!.line, name, `column ${name} appears twice`));
  }
  for (const name of spec.required) {
    if (!names.includes(name))
      headerErrors.push(invalidCsv(header!.line, name, `the column ${name} is missing`));
  }
  if (headerErrors.length > 0) return failure(data.length, headerErrors);
  if (data.length === 0) return failure(0, [invalidCsv(header!.line, null, 'the file has no data rows')]);
  if (data.length > IMPORT_ROWS_MAX)
    return failure(data.length, [
      invalidCsv(data[IMPORT_ROWS_MAX]!.line, null, `at most ${IMPORT_ROWS_MAX} rows per file`),
    ]);

  const rowErrors: RowError[] = [];
  const today = todayUtc(deps.clock());
  const cells = data.map((record) => {
    if (record.fields.length !== names.length)
      rowErrors.push(
        invalidCsv(record.line, null, `${record.fields.length} fields where the header has ${names.length}`),
      );
    const get = (column: string) => (record.fields[names.indexOf(column)] ?? '').trim();
    return { line: record.line, get };
  });
  if (rowErrors.length > 0) return failure(data.length, rowErrors);
  const add = (row: number, column: string | null, error: LedgerError) =>
    rowErrors.push({ row, column, code: error.code, message: error.message });
  const checkDate = (row: number, column: string, value: string): boolean => {
    const error = validateDate(value, column);
    if (error) add(row, column, error);
    else if (value > today) add(row, column, new LedgerError('INVALID_DATE', `${column} is in the future`));
    return !error && value <= today;
  };

  if (input.kind === 'MEMBERS') {
    const classes = new Map((await listMemberClasses(deps, input.bookId)).map((c) => [c.code, c]));
    const refs = new Map<string, number>();
    const wantedRefs = cells.map((c) => c.get('external_ref')).filter((r) => r !== '');
    const takenRefs = await deps.store.takenExternalRefs(input.bookId, wantedRefs);
    // One person, one open membership (so one vote): a row whose person (kind, name and email,
    // without regard to case and surrounding spaces) already holds one, or is on an earlier line,
    // is refused; a file sent twice under two keys would otherwise make everyone a member twice.
    // Without an email a name alone does not tell two people apart, so such rows are not compared.
    const personKey = (kind: string, name: string, email: string) =>
      email.trim() === ''
        ? null
        : [kind, name.trim().normalize('NFC').toLowerCase(), email.trim().toLowerCase()].join('\u0000');
    const openMembersIn = async (db?: Queryable) =>
      new Map(
        (await deps.store.openMemberPeople(input.bookId, db)).map((p) => [
          personKey(p.kind, p.name, p.email),
          p.memberNumber,
        ]),
      );
    const openMembers = await openMembersIn();
    const people = new Map<string, number>();
    const parsed: MemberRow[] = [];
    for (const { line, get } of cells) {
      const before = rowErrors.length;
      const kindText = get('kind').toUpperCase() || 'PERSON';
      const kind = PARTY_KINDS.find((k) => k === kindText);
      if (!kind) add(line, 'kind', new LedgerError('INVALID_INPUT', 'kind must be person or organization'));
      const party = {
        kind: kind ?? 'PERSON',
        name: get('name'),
        email: get('email'),
        phone: get('phone'),
        address: get('address'),
        externalRef: get('external_ref') || null,
      };
      const partyError = validateParty(party);
      if (partyError) add(line, toColumn(partyError.field), partyError);
      const person = personKey(party.kind, party.name, party.email);
      if (person !== null) {
        const number = openMembers.get(person);
        const earlier = people.get(person);
        if (number !== undefined)
          add(
            line,
            'name',
            new LedgerError('ALREADY_MEMBER', `this person already holds membership ${number}`),
          );
        else if (earlier !== undefined)
          add(line, 'name', new LedgerError('ALREADY_MEMBER', `this person is on line ${earlier} too`));
        else people.set(person, line);
      }
      if (party.externalRef) {
        if (refs.has(party.externalRef))
          add(
            line,
            'external_ref',
            new LedgerError('INVALID_INPUT', `external_ref is also on line ${refs.get(party.externalRef)}`),
          );
        else if (takenRefs.has(party.externalRef))
          add(
            line,
            'external_ref',
            new LedgerError('INVALID_INPUT', 'external_ref is already used in this co-op'),
          );
        refs.set(party.externalRef, line);
      }
      const cls = classes.get(get('class'));
      if (!cls)
        add(
          line,
          'class',
          new LedgerError('UNKNOWN_MEMBER_CLASS', `no member class with code "${get('class')}"`),
        );
      const appliedOn = get('applied_on');
      const appliedOk = checkDate(line, 'applied_on', appliedOn);
      const status = IMPORT_STATUSES[get('status').toLowerCase() || 'applicant'];
      if (!status)
        add(
          line,
          'status',
          new LedgerError('INVALID_INPUT', 'status must be applicant, candidate or active'),
        );
      const statusOn = get('status_on') || appliedOn;
      if (get('status_on') && checkDate(line, 'status_on', statusOn) && appliedOk && statusOn < appliedOn)
        add(line, 'status_on', new LedgerError('INVALID_DATE', 'status_on is before applied_on'));
      if (rowErrors.length === before)
        parsed.push({ line, ...party, kind: kind!, classId: cls!.id, appliedOn, status: status!, statusOn });
    }
    if (rowErrors.length > 0) return failure(data.length, rowErrors);
    return apply(deps, input, hash, actor, data.length, async (client, lineOfOp) => {
      // Checked again under the co-op's lock (every members file and join takes it): a file sent
      // at the same moment, with the same person, may have landed since the check above.
      const openNow = await openMembersIn(client);
      for (const row of parsed) {
        const number = openNow.get(personKey(row.kind, row.name, row.email));
        if (number !== undefined)
          return {
            line: row.line,
            column: 'name',
            error: new LedgerError('ALREADY_MEMBER', `this person already holds membership ${number}`),
          };
      }
      const partyIds = parsed.map(() => uuidv7());
      const inserted = await deps.store.insertParties(
        client,
        input.bookId,
        parsed.map((row, i) => ({ ...row, id: partyIds[i]! })),
      );
      const taken = parsed.findIndex((_, i) => !inserted.has(partyIds[i]!));
      if (taken >= 0)
        return {
          line: parsed[taken]!.line,
          column: 'external_ref',
          error: new LedgerError('INVALID_INPUT', 'external_ref is already used in this co-op'),
        };
      const joined = await prepareJoins(
        deps.store,
        client,
        input.bookId,
        parsed.map((row, i) => ({
          partyId: partyIds[i]!,
          classId: row.classId,
          appliedOn: row.appliedOn,
          idempotencyKey: importRowKey(input.idempotencyKey, row.line),
          requestHash: requestHash('importMembersCsv.row', { hash, line: row.line }),
          note: `imported (file key ${input.idempotencyKey}, line ${row.line})`,
          transitions: row.status === 'APPLICANT' ? [] : [{ toState: row.status, effectiveOn: row.statusOn }],
        })),
        actor,
      );
      if (!Array.isArray(joined)) return { line: parsed[joined.index]!.line, error: joined.error };
      const ops: PostOp[] = [];
      joined.forEach((j, i) => {
        for (const op of j.ops) {
          lineOfOp.push(parsed[i]!.line);
          ops.push(op);
        }
      });
      return { ops, memberships: parsed.length, payments: 0 };
    });
  }

  // PAYMENTS
  const members = await deps.store.memberNumbersAndRefs(input.bookId);
  // An external ref names the party's latest membership (memberCellReader: numbers, leading zeros,
  // a text that is two members' refused).
  const read = memberCellReader(members, (a, b) => a.id === b.id);
  const named = (cell: string) => {
    const r = read(cell);
    return { id: r.member?.id ?? null, ambiguous: r.ambiguous };
  };
  const ids = [
    ...new Set(cells.map((c) => named(c.get('member')).id).filter((id): id is string => id !== null)),
  ];
  const memberships = new Map(
    (
      await getMemberships(
        deps,
        ids.map((id) => ({ bookId: input.bookId, id: id! })),
      )
    ).map((m) => [m.id, m]),
  );
  // What each member still owes, read in one query for the whole file.
  const receivables = await findAccounts(
    deps.pool,
    [...memberships.values()].map((m) => ({ bookId: input.bookId, id: m.accounts.SUBSCRIPTION_RECEIVABLE })),
  );
  const owed = new Map(receivables.map((a) => [a.id, balanceView(a.type, a).posted]));
  const outstanding = new Map<string, ReturnType<typeof ZERO.plus>>();
  for (const m of memberships.values())
    outstanding.set(m.id, owed.get(m.accounts.SUBSCRIPTION_RECEIVABLE) ?? ZERO);
  const parsed: PaymentRow[] = [];
  for (const { line, get } of cells) {
    const before = rowErrors.length;
    const cell = named(get('member'));
    const membership = cell.id ? memberships.get(cell.id) : undefined;
    if (cell.ambiguous) add(line, 'member', new LedgerError('INVALID_INPUT', cell.ambiguous));
    else if (!membership)
      add(
        line,
        'member',
        new LedgerError('UNKNOWN_MEMBERSHIP', `no member with number or external_ref "${get('member')}"`),
      );
    else if (isLeaving(membership.state))
      add(
        line,
        'member',
        new LedgerError('MEMBERSHIP_ENDED', `membership ${membership.memberNumber} is ${membership.state}`),
      );
    const paidOn = get('paid_on');
    // Dated in order, as payInstalment: not before the subscription it pays (the ledger would
    // refuse it anyway, the receivable going below zero, but in its terms, not the file's).
    if (checkDate(line, 'paid_on', paidOn) && membership && paidOn < membership.appliedOn)
      add(
        line,
        'paid_on',
        new LedgerError(
          'INVALID_DATE',
          `paid_on is before membership ${membership.memberNumber} began (${membership.appliedOn})`,
        ),
      );
    const amount = parseAmount(get('amount'), coop.baseCurrency, 'amount');
    if (amount instanceof LedgerError) add(line, 'amount', amount);
    else if (membership) {
      const left = outstanding.get(membership.id)!;
      if (amount.gt(left))
        add(
          line,
          'amount',
          new LedgerError(
            'PAYMENT_EXCEEDS_OUTSTANDING',
            `member ${membership.memberNumber} owes ${left.toFixed(coop.baseCurrency.scale)} at this row`,
          ),
        );
      else outstanding.set(membership.id, left.minus(amount));
    }
    const methodText = get('method').toUpperCase() || 'BANK';
    if (methodText !== 'CASH' && methodText !== 'BANK')
      add(line, 'method', new LedgerError('INVALID_INPUT', 'method must be cash or bank'));
    const reference = get('reference');
    if (reference.length > 1000)
      add(line, 'reference', new LedgerError('INVALID_INPUT', 'reference is over 1000 characters'));
    if (rowErrors.length === before)
      parsed.push({
        line,
        membership: membership!,
        paidOn,
        amount: (amount as ReturnType<typeof ZERO.plus>).toFixed(coop.baseCurrency.scale),
        method: methodText as PaymentMethod,
        reference: reference || null,
      });
  }
  if (rowErrors.length > 0) return failure(data.length, rowErrors);
  return apply(deps, input, hash, actor, data.length, async (_client, lineOfOp) => {
    const ops = parsed.map((row) => {
      lineOfOp.push(row.line);
      const entry = paymentEntry(coop, row.membership, 'INSTALMENT', row.amount, {
        paidOn: row.paidOn,
        method: row.method,
        idempotencyKey: importRowKey(input.idempotencyKey, row.line),
        memo: row.reference,
      });
      return entryOp(input.bookId, 'STANDARD', entry, null, actor);
    });
    return { ops, memberships: 0, payments: parsed.length };
  });
}

function toColumn(field: string | null): string | null {
  if (field === null) return null;
  return { externalRef: 'external_ref' }[field] ?? field;
}

/** Applies a checked file in one transaction; a rejection anywhere rolls all of it back. */
async function apply(
  deps: CoopDeps,
  input: ImportInput,
  hash: string,
  actor: string | null,
  rows: number,
  build: (
    client: TxClient,
    lineOfOp: number[],
  ) => Promise<
    | { ops: PostOp[]; memberships: number; payments: number }
    | { line: number; column?: string; error: LedgerError }
  >,
): Promise<ImportResult | LedgerError> {
  const lineOfOp: number[] = [];
  let failedAt: { line: number; column?: string; error: LedgerError } | null = null;
  const outcome = await deps.ledger.engine.submitWith<ImportResult>(async (client) => {
    if (!(await lockBook(client, input.bookId))) return unknownCoop();
    // A concurrent request with the same key may have finished first: answer as it did.
    const prior = await priorImport(deps, client, input, hash);
    if (prior instanceof LedgerError) return prior;
    if (prior) return { ops: [], value: prior };
    const built = await build(client, lineOfOp);
    if ('error' in built) {
      failedAt = built;
      return built.error;
    }
    const result: ImportResult = {
      imported: true,
      replayed: false,
      rows,
      membershipsCreated: built.memberships,
      paymentsPosted: built.payments,
      rowErrors: [],
    };
    await deps.store.recordImport(client, {
      bookId: input.bookId,
      idempotencyKey: input.idempotencyKey,
      requestHash: hash,
      kind: input.kind,
      result,
      actor,
    });
    return { ops: built.ops, value: result };
  });
  if (outcome instanceof LedgerError) {
    const failed = failedAt as { line: number; column?: string; error: LedgerError } | null;
    if (failed)
      return failure(rows, [
        {
          row: failed.line,
          column: failed.column ?? null,
          code: failed.error.code,
          message: failed.error.message,
        },
      ]);
    return outcome;
  }
  const rejected = outcome.results
    .map((r, i) => ({ r, line: lineOfOp[i]! }))
    .filter(({ r }) => !r.ok && r.error.code !== 'BATCH_ITEM_FAILED');
  if (rejected.length > 0) {
    return failure(
      rows,
      rejected.map(({ r, line }) => {
        // Told in the file's terms: the entry's date is the row's date column; a line of an entry
        // the file never wrote names no column. A payment past the receivable's bound is what the
        // check calls PAYMENT_EXCEEDS_OUTSTANDING: a payment posted since the file was checked.
        const ledgerError = (r as { ok: false; error: LedgerError }).error;
        if (input.kind === 'PAYMENTS' && ledgerError.code === 'BALANCE_BOUND_EXCEEDED')
          return {
            row: line,
            column: 'amount',
            code: 'PAYMENT_EXCEEDS_OUTSTANDING' as const,
            message:
              'the member owes less than this at this row (a payment was posted while the file was checked)',
          };
        const error = asInputField(ledgerError, DATE_COLUMN[input.kind]);
        return { row: line, column: error.field, code: error.code, message: error.message };
      }),
    );
  }
  return outcome.value;
}
