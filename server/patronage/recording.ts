/**
 * Patronage records: a member's hours, wages, purchases, sales or custom measure over a period,
 * entered through the API (recordPatronage) or imported from CSV (importPatronageCsv). Both are
 * all or nothing: every problem is named (the record's index and field, or the file's line and
 * column) and a request with any problem records nothing. The same key and the same request
 * answer the first result again (replayed); another request with the key is IDEMPOTENCY_KEY_REUSED.
 *
 * A record names a measure of the co-op's policy (any version) and is kept in that measure's unit;
 * its period (inclusive dates, at most 366 days, not starting after today) may not overlap another
 * record of the same member and measure, so nothing counts twice.
 *
 * CSV columns (header names in any order, case-insensitive): member (member number or
 * external_ref; digits are the number they spell whatever their leading zeros, "0001" is member 1,
 * unless an external_ref is written exactly so; a text that is one member's number and another's
 * external_ref is refused),
 * measure, period_start, period_end, quantity.
 */

import {
  CsvSyntaxError,
  memberRoster,
  parseCsv,
  type RosterMember,
  todayUtc,
  unknownCoop,
} from '../coops/index.js';
import {
  dayNumber,
  type ErrorCode,
  LedgerError,
  mayWriteBook,
  memberCellReader,
  type Principal,
  parseAmount,
  policyFromJson,
  type Unit,
  validateDate,
  validateIdempotencyKey,
} from '../core/index.js';
import { requestHash } from '../platform/hashing.js';
import { isUuid, uuidv7 } from '../platform/ids.js';
import { withTransaction } from '../platform/transaction.js';
import type { PatronageDeps } from './deps.js';
import { coopOf } from './policy.js';
import {
  type ImportPatronageInput,
  PATRONAGE_PERIOD_DAYS_MAX,
  PATRONAGE_RECORDS_MAX,
  type PatronageRecordInput,
  type PatronageRowError,
  type RecordBatchResult,
  type RecordPatronageInput,
} from './records.js';
import { noPolicy, reusedKey } from './rules.js';
import {
  batchByKey,
  insertBatch,
  insertRecords,
  lockPatronage,
  type NewRecord,
  overlappingRecords,
  policyRows,
} from './store.js';

/** A problem with one record: its index in the request and the field at fault. */
interface RecordProblem {
  index: number;
  field: keyof PatronageRecordInput | null;
  code: ErrorCode;
  message: string;
}

/** How a record names its member: a membership id (API) or a member number / external_ref (CSV). */
type MemberRef = { membershipId: string } | { member: string };

interface Draft {
  member: MemberRef;
  measure: string;
  periodStart: string;
  periodEnd: string;
  quantity: string;
}

/** Measures of every policy version (a measure keeps its unit across versions). */
async function measureUnits(deps: PatronageDeps, bookId: string): Promise<Map<string, Unit> | null> {
  const rows = await policyRows(deps.pool, bookId);
  if (rows.length === 0) return null;
  const units = new Map<string, Unit>();
  for (const row of rows) for (const m of policyFromJson(row.policy).measures) units.set(m.code, m.unit);
  return units;
}

/** Checks every record; the records to insert, or every problem. */
function checkRecords(
  drafts: Draft[],
  units: Map<string, Unit>,
  roster: RosterMember[],
  today: string,
): { rows: NewRecord[]; problems: RecordProblem[] } {
  const byId = new Map(roster.map((m) => [m.membershipId, m]));
  const readMemberCell = memberCellReader(roster, (a, b) => a.membershipId === b.membershipId);
  const problems: RecordProblem[] = [];
  const rows: NewRecord[] = [];
  const indexOf: number[] = [];
  drafts.forEach((d, index) => {
    const before = problems.length;
    const add = (field: RecordProblem['field'], code: ErrorCode, message: string) =>
      problems.push({ index, field, code, message });
    // By id, or by a member number or an external_ref read as the members' payments CSV reads it.
    const named =
      'membershipId' in d.member
        ? { member: byId.get(d.member.membershipId), ambiguous: null }
        : readMemberCell(d.member.member.trim());
    const member = named.member;
    if (named.ambiguous) add('membershipId', 'INVALID_INPUT', named.ambiguous);
    else if (!member) add('membershipId', 'UNKNOWN_MEMBERSHIP', 'no such member of this co-op');
    const unit = units.get(d.measure);
    if (!unit) add('measure', 'UNKNOWN_MEASURE', `no measure ${d.measure} in the co-op's patronage policy`);
    const startError = validateDate(d.periodStart, 'periodStart');
    const endError = validateDate(d.periodEnd, 'periodEnd');
    if (startError) add('periodStart', 'INVALID_DATE', 'expected a date YYYY-MM-DD');
    if (endError) add('periodEnd', 'INVALID_DATE', 'expected a date YYYY-MM-DD');
    if (!startError && !endError) {
      if (d.periodEnd < d.periodStart) add('periodEnd', 'INVALID_DATE', 'the period ends before it starts');
      else if (dayNumber(d.periodEnd) - dayNumber(d.periodStart) + 1 > PATRONAGE_PERIOD_DAYS_MAX)
        add('periodEnd', 'INVALID_DATE', `a period is at most ${PATRONAGE_PERIOD_DAYS_MAX} days`);
      if (d.periodStart > today) add('periodStart', 'INVALID_DATE', 'the period has not begun');
    }
    if (unit) {
      const q = parseAmount(d.quantity, unit, 'quantity', { allowZero: true });
      if (q instanceof LedgerError) add('quantity', q.code, q.message);
    }
    if (problems.length === before) {
      rows.push({
        id: uuidv7(),
        membershipId: member!.membershipId,
        measure: d.measure,
        periodStart: d.periodStart,
        periodEnd: d.periodEnd,
        quantity: d.quantity,
      });
      indexOf.push(index);
    }
  });
  // Overlaps within the request: sorted by member, measure and start, a record overlaps an earlier one
  // when it starts on or before the latest end among them.
  const order = rows.map((_, i) => i);
  order.sort((a, b) => {
    const x = rows[a]!;
    const y = rows[b]!;
    return x.membershipId !== y.membershipId
      ? x.membershipId < y.membershipId
        ? -1
        : 1
      : x.measure !== y.measure
        ? x.measure < y.measure
          ? -1
          : 1
        : x.periodStart < y.periodStart
          ? -1
          : x.periodStart > y.periodStart
            ? 1
            : a - b;
  });
  // `prev` is the record of the same member and measure reaching furthest so far, not only the one
  // just before: a year-long record overlaps both February and March, which do not overlap.
  let prev: NewRecord | null = null;
  for (let k = 0; k < order.length; k++) {
    const cur = rows[order[k]!]!;
    if (prev === null || prev.membershipId !== cur.membershipId || prev.measure !== cur.measure) {
      prev = cur;
      continue;
    }
    const overlapping = cur.periodStart <= prev.periodEnd;
    const earlier = prev;
    if (cur.periodEnd > prev.periodEnd) prev = cur;
    if (overlapping)
      problems.push({
        index: indexOf[order[k]!]!,
        field: 'periodStart',
        code: 'PATRONAGE_PERIOD_OVERLAP',
        message: `overlaps another record of this member and measure in the request (${earlier.periodStart} to ${earlier.periodEnd})`,
      });
  }
  problems.sort((a, b) => a.index - b.index);
  return { rows, problems };
}

type BatchOutcome = RecordBatchResult | LedgerError;

/**
 * The shared path: replay check, validation, then one transaction (under the co-op's patronage
 * lock) that checks overlaps with stored records and inserts. `toRow` maps a problem to the
 * caller's terms.
 */
async function recordBatch(
  deps: PatronageDeps,
  bookId: string,
  key: string,
  hash: string,
  kind: 'RECORDS' | 'CSV',
  drafts: Draft[],
  toRow: (p: RecordProblem) => PatronageRowError,
  actor: string,
): Promise<BatchOutcome> {
  const prior = await batchByKey(deps.pool, bookId, key);
  if (prior)
    return prior.requestHash === hash
      ? { ...(prior.result as RecordBatchResult), replayed: true }
      : reusedKey();
  const units = await measureUnits(deps, bookId);
  if (!units) return noPolicy();
  const roster = await memberRoster(deps.pool, bookId);
  const { rows, problems } = checkRecords(drafts, units, roster, todayUtc(deps.clock()));
  if (problems.length > 0) return { recorded: 0, replayed: false, rowErrors: problems.map(toRow) };
  return withTransaction(deps.pool, async (client) => {
    await lockPatronage(client, bookId);
    const again = await batchByKey(client, bookId, key);
    if (again)
      return again.requestHash === hash
        ? { ...(again.result as RecordBatchResult), replayed: true }
        : reusedKey();
    const overlaps = await overlappingRecords(client, bookId, rows);
    if (overlaps.length > 0) {
      // With no problems every draft became a row, in order: row i is draft i.
      return {
        recorded: 0,
        replayed: false,
        rowErrors: overlaps.map((o) =>
          toRow({
            index: o.index,
            field: 'periodStart',
            code: 'PATRONAGE_PERIOD_OVERLAP',
            message: `overlaps a recorded period of this member and measure (${o.periodStart} to ${o.periodEnd})`,
          }),
        ),
      };
    }
    await insertRecords(client, bookId, key, rows);
    const result: RecordBatchResult = { recorded: rows.length, replayed: false, rowErrors: [] };
    await insertBatch(client, { bookId, key, hash, kind, result, actor });
    return result;
  });
}

export async function recordPatronage(
  deps: PatronageDeps,
  input: RecordPatronageInput,
  actor: Principal,
): Promise<BatchOutcome> {
  if (!mayWriteBook(actor, input.bookId)) return unknownCoop();
  const keyError = validateIdempotencyKey(input.idempotencyKey);
  if (keyError) return keyError;
  if (input.records.length === 0 || input.records.length > PATRONAGE_RECORDS_MAX)
    return new LedgerError('INVALID_INPUT', `1 to ${PATRONAGE_RECORDS_MAX} records per request`, 'records');
  if (!(await coopOf(deps, input.bookId))) return unknownCoop();
  const hash = requestHash('recordPatronage', input);
  const drafts: Draft[] = input.records.map((r) => ({
    member: { membershipId: isUuid(r.membershipId) ? r.membershipId : '' },
    measure: r.measure,
    periodStart: r.periodStart,
    periodEnd: r.periodEnd,
    quantity: r.quantity,
  }));
  return recordBatch(
    deps,
    input.bookId,
    input.idempotencyKey,
    hash,
    'RECORDS',
    drafts,
    (p) => ({ row: p.index, column: p.field, code: p.code, message: p.message }),
    actor.id,
  );
}

const CSV_COLUMNS = ['member', 'measure', 'period_start', 'period_end', 'quantity'] as const;
const CSV_FIELD: Record<(typeof CSV_COLUMNS)[number], keyof PatronageRecordInput> = {
  member: 'membershipId',
  measure: 'measure',
  period_start: 'periodStart',
  period_end: 'periodEnd',
  quantity: 'quantity',
};

export async function importPatronageCsv(
  deps: PatronageDeps,
  input: ImportPatronageInput,
  actor: Principal,
): Promise<BatchOutcome> {
  if (!mayWriteBook(actor, input.bookId)) return unknownCoop();
  const keyError = validateIdempotencyKey(input.idempotencyKey);
  if (keyError) return keyError;
  if (!(await coopOf(deps, input.bookId))) return unknownCoop();
  const hash = requestHash('importPatronageCsv', { bookId: input.bookId, csv: input.csv });
  const parsed = parseFile(input.csv);
  if ('errors' in parsed) return { recorded: 0, replayed: false, rowErrors: parsed.errors };
  const lines = parsed.lines;
  const columnOf = (field: RecordProblem['field']) =>
    field === null ? null : (CSV_COLUMNS.find((c) => CSV_FIELD[c] === field) ?? null);
  return recordBatch(
    deps,
    input.bookId,
    input.idempotencyKey,
    hash,
    'CSV',
    parsed.drafts,
    (p) => ({ row: lines[p.index]!, column: columnOf(p.field), code: p.code, message: p.message }),
    actor.id,
  );
}

/** The file's records as drafts with their line numbers, or the problems of its shape. */
function parseFile(csv: string): { drafts: Draft[]; lines: number[] } | { errors: PatronageRowError[] } {
  let records: { line: number; fields: string[] }[];
  try {
    records = parseCsv(csv);
  } catch (error) {
    if (error instanceof CsvSyntaxError)
      return { errors: [{ row: error.line, column: null, code: 'INVALID_CSV', message: error.message }] };
    throw error;
  }
  if (records.length === 0)
    return {
      errors: [
        {
          row: 1,
          column: null,
          code: 'INVALID_CSV',
          message: 'the file is empty; a header line is expected',
        },
      ],
    };
  const header = records[0]!.fields.map((h) => h.trim().toLowerCase());
  const errors: PatronageRowError[] = [];
  for (const c of CSV_COLUMNS)
    if (!header.includes(c))
      errors.push({
        row: records[0]!.line,
        column: c,
        code: 'INVALID_CSV',
        message: `the header lacks the column ${c}`,
      });
  header.forEach((h, i) => {
    if (!(CSV_COLUMNS as readonly string[]).includes(h))
      errors.push({
        row: records[0]!.line,
        column: h,
        code: 'INVALID_CSV',
        message: `unknown column "${h}"`,
      });
    else if (header.indexOf(h) !== i)
      errors.push({
        row: records[0]!.line,
        column: h,
        code: 'INVALID_CSV',
        message: `column ${h} appears twice`,
      });
  });
  const body = records.slice(1);
  if (body.length === 0)
    errors.push({
      row: records[0]!.line,
      column: null,
      code: 'INVALID_CSV',
      message: 'the file has no data rows',
    });
  if (body.length > PATRONAGE_RECORDS_MAX)
    errors.push({
      row: body[PATRONAGE_RECORDS_MAX]!.line,
      column: null,
      code: 'INVALID_CSV',
      message: `a file holds at most ${PATRONAGE_RECORDS_MAX} rows`,
    });
  if (errors.length > 0) return { errors };
  const at = (name: (typeof CSV_COLUMNS)[number]) => header.indexOf(name);
  for (const r of body)
    if (r.fields.length !== header.length)
      errors.push({
        row: r.line,
        column: null,
        code: 'INVALID_CSV',
        message: `expected ${header.length} fields, found ${r.fields.length}`,
      });
  if (errors.length > 0) return { errors };
  return {
    drafts: body.map((r) => ({
      member: { member: r.fields[at('member')]! },
      measure: r.fields[at('measure')]!.trim(),
      periodStart: r.fields[at('period_start')]!.trim(),
      periodEnd: r.fields[at('period_end')]!.trim(),
      quantity: r.fields[at('quantity')]!.trim(),
    })),
    lines: body.map((r) => r.line),
  };
}
