/**
 * Journal entries imported from a CSV file (issue 17), all or nothing: every problem is named by
 * the file's line and column and a file with any problem posts nothing.
 *
 * Columns (a header line first; names in any order, any case): `entry` (rows with the same value
 * are the lines of one entry), `date` (YYYY-MM-DD, the entry counts at 00:00 UTC of that day, or
 * an instant with its time zone), `account_code` (or `account`) or `account_id` (the account's
 * API id; exactly one of them per row), `debit` and `credit` (exactly one of them per row, a
 * positive amount at most the unit's scale), and optionally `unit` (default: the account's) and
 * `memo` (the entry's: the first one given among its rows).
 *
 * The file is posted as one atomic batch through the posting engine. Entry n (in order of first
 * appearance) is keyed `<idempotencyKey>:<n>` and carries the file's SHA-256 in its metadata
 * (`import.sha256`), so the same key and file replay every entry (nothing new is posted), while
 * the same key with another file is IDEMPOTENCY_KEY_REUSED. Account codes are resolved with one
 * query for the whole file before the engine sees anything.
 */
import {
  type EntryInput,
  type ErrorCode,
  LedgerError,
  LIMITS,
  type Principal,
  validateIdempotencyKey,
} from '../core/index.js';
import { sha256 } from '../platform/hashing.js';
import { type EntryDraft, resolveAccountCodes } from './codes.js';
import { CsvFileError, readCsv } from './csv.js';
import type { PostingEngine, PostOp } from './posting.js';
import { type EntryRecord, findAccounts, type Queryable } from './store.js';
import { mayChangeBook } from './write-access.js';

/** Rows per file: a batch's 1,000 entries of a few lines each. */
export const JOURNAL_CSV_ROWS_MAX = 10_000;
/** Room for `:<n>` after the key in each entry's key. */
export const JOURNAL_IMPORT_KEY_LENGTH_MAX = 100;

export interface ImportJournalInput {
  bookId: string;
  csv: string;
  idempotencyKey: string;
  /** The raw id of an `account_id` value of this book, or null (the API decodes its global ids). */
  decodeAccountId: (text: string) => string | null;
}

export interface JournalRowError {
  /** The file's line (the header is line 1). */
  row: number;
  column: string | null;
  code: ErrorCode;
  message: string;
}

export interface JournalImportResult {
  /** Every entry of the file was posted (now or by the first request with this key). */
  imported: boolean;
  replayed: boolean;
  entries: EntryRecord[];
  rowErrors: JournalRowError[];
}

const COLUMNS = [
  'entry',
  'date',
  'account_code',
  'account',
  'account_id',
  'debit',
  'credit',
  'unit',
  'memo',
] as const;
type ColumnName = (typeof COLUMNS)[number];

const rejected = (rowErrors: JournalRowError[]): JournalImportResult => ({
  imported: false,
  replayed: false,
  entries: [],
  rowErrors,
});

const DATE = /^\d{4}-\d{2}-\d{2}$/;

function parseDate(text: string): Date | null {
  const t = text.trim();
  if (DATE.test(t)) {
    const d = new Date(`${t}T00:00:00.000Z`);
    return Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== t ? null : d;
  }
  // An instant must say its time zone (Z or an offset), as the DateTime scalar requires.
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/.test(t)) return null;
  const d = new Date(t);
  return Number.isNaN(d.getTime()) ? null : d;
}

interface DraftLine {
  row: number;
  /** Where the line's account came from, for error columns. */
  accountColumn: ColumnName;
  amountColumn: 'debit' | 'credit';
  unitGiven: boolean;
}

/** What an import stands on: the pool, the engine, and how a standard entry becomes an op (service.ts). */
export interface JournalImportDeps {
  db: Queryable;
  engine: PostingEngine;
  entryOp: (bookId: string, entry: EntryInput, postedBy: string) => PostOp;
}

export async function importJournalCsv(
  deps: JournalImportDeps,
  input: ImportJournalInput,
  actor: Principal,
): Promise<JournalImportResult | LedgerError> {
  const { db, engine } = deps;
  if (!(await mayChangeBook(db, actor, input.bookId)))
    return new LedgerError('UNKNOWN_BOOK', 'no such book', 'bookId');
  const keyError =
    validateIdempotencyKey(input.idempotencyKey) ??
    (input.idempotencyKey.length > JOURNAL_IMPORT_KEY_LENGTH_MAX
      ? new LedgerError(
          'INVALID_IDEMPOTENCY_KEY',
          `idempotencyKey must be 1 to ${JOURNAL_IMPORT_KEY_LENGTH_MAX} characters here`,
          'idempotencyKey',
        )
      : null);
  if (keyError) return keyError;

  let records: { line: number; fields: string[] }[];
  try {
    records = readCsv(input.csv);
  } catch (error) {
    if (error instanceof CsvFileError)
      return rejected([{ row: error.line, column: null, code: 'INVALID_CSV', message: error.message }]);
    throw error;
  }
  const errors: JournalRowError[] = [];
  const fail = (row: number, column: string | null, code: ErrorCode, message: string) =>
    errors.push({ row, column, code, message });
  if (records.length < 2)
    return rejected([
      { row: 1, column: null, code: 'INVALID_CSV', message: 'the file has a header line and no rows' },
    ]);
  const headerLine = records[0]!.line;
  const header = records[0]!.fields.map((h) => h.trim().toLowerCase());
  header.forEach((h, i) => {
    if (!(COLUMNS as readonly string[]).includes(h))
      fail(headerLine, h, 'INVALID_CSV', `unknown column "${h}"`);
    else if (header.indexOf(h) !== i) fail(headerLine, h, 'INVALID_CSV', `column ${h} appears twice`);
  });
  for (const c of ['entry', 'date', 'debit', 'credit'] as const)
    if (!header.includes(c)) fail(headerLine, c, 'INVALID_CSV', `the header lacks the column ${c}`);
  const codeColumn: ColumnName | null = header.includes('account_code')
    ? 'account_code'
    : header.includes('account')
      ? 'account'
      : null;
  if (header.includes('account_code') && header.includes('account'))
    fail(headerLine, 'account', 'INVALID_CSV', 'give account_code or account, not both');
  if (codeColumn === null && !header.includes('account_id'))
    fail(
      headerLine,
      null,
      'INVALID_CSV',
      'the header lacks an account column: account_code (or account) or account_id',
    );
  const body = records.slice(1);
  if (body.length > JOURNAL_CSV_ROWS_MAX)
    fail(
      body[JOURNAL_CSV_ROWS_MAX]!.line,
      null,
      'INVALID_CSV',
      `a file holds at most ${JOURNAL_CSV_ROWS_MAX} rows`,
    );
  if (errors.length > 0) return rejected(errors);

  const at = (r: { fields: string[] }, c: ColumnName) => {
    const i = header.indexOf(c);
    return i < 0 ? '' : (r.fields[i] ?? '').trim();
  };
  // Entries in order of first appearance, each with its rows.
  const groups = new Map<string, { row: number; fields: string[] }[]>();
  for (const r of body) {
    if (r.fields.length !== header.length) {
      fail(r.line, null, 'INVALID_CSV', `expected ${header.length} fields, found ${r.fields.length}`);
      continue;
    }
    const label = at(r, 'entry');
    if (label === '' || label.length > 100) {
      fail(
        r.line,
        'entry',
        'INVALID_INPUT',
        'entry must be 1 to 100 characters (rows with the same entry are one entry)',
      );
      continue;
    }
    groups.set(label, [...(groups.get(label) ?? []), { row: r.line, fields: r.fields }]);
  }
  if (groups.size > LIMITS.entriesPerBatchMax)
    fail(headerLine, 'entry', 'BATCH_TOO_LARGE', `a file holds at most ${LIMITS.entriesPerBatchMax} entries`);

  const hash = sha256(input.csv);
  const drafts: EntryDraft[] = [];
  const lineInfo: DraftLine[][] = [];
  let n = 0;
  for (const [label, rows] of groups) {
    n++;
    const lines: EntryDraft['lines'] = [];
    const info: DraftLine[] = [];
    const dateText = at(rows[0]!, 'date');
    const effectiveAt = parseDate(dateText);
    if (!effectiveAt)
      fail(
        rows[0]!.row,
        'date',
        'INVALID_DATE',
        'expected a date YYYY-MM-DD or an instant with its time zone',
      );
    let memo: string | null = null;
    for (const r of rows) {
      if (at(r, 'date') !== dateText)
        fail(r.row, 'date', 'INVALID_DATE', `every line of entry "${label}" must have the same date`);
      const code = codeColumn ? at(r, codeColumn) : '';
      const idText = at(r, 'account_id');
      if ((code === '') === (idText === '')) {
        fail(
          r.row,
          codeColumn ?? 'account_id',
          'INVALID_INPUT',
          'give the account by code or by id, exactly one of the two',
        );
        continue;
      }
      const debit = at(r, 'debit');
      const credit = at(r, 'credit');
      if ((debit === '') === (credit === '')) {
        fail(r.row, 'debit', 'INVALID_AMOUNT', 'give a debit or a credit amount, exactly one of the two');
        continue;
      }
      const unit = at(r, 'unit');
      memo ??= at(r, 'memo') || null;
      lines.push({
        accountId: idText === '' ? null : (input.decodeAccountId(idText) ?? ''),
        accountCode: code === '' ? null : code,
        side: debit !== '' ? 'DEBIT' : 'CREDIT',
        amount: debit !== '' ? debit : credit,
        unit,
      });
      info.push({
        row: r.row,
        accountColumn: code === '' ? 'account_id' : codeColumn!,
        amountColumn: debit !== '' ? 'debit' : 'credit',
        unitGiven: unit !== '',
      });
    }
    drafts.push({
      idempotencyKey: `${input.idempotencyKey}:${n}`,
      lines,
      effectiveAt: effectiveAt ?? new Date(0),
      memo,
      metadata: [
        { key: 'import.entry', value: label },
        { key: 'import.sha256', value: hash },
      ],
    });
    lineInfo.push(info);
  }
  if (errors.length > 0) return rejected(errors.sort((a, b) => a.row - b.row));

  const resolved = await resolveAccountCodes(db, input.bookId, drafts);
  resolved.forEach((r, i) => {
    if (r instanceof LedgerError) fail(...rowOf(r, lineInfo[i]!, groups, i));
  });
  if (errors.length > 0) return rejected(errors);
  let entries = resolved as EntryInput[];
  // A line without a unit takes its account's (one query for the file's accounts).
  if (lineInfo.some((info) => info.some((l) => !l.unitGiven))) {
    const ids = [
      ...new Set(entries.flatMap((e) => e.lines.map((l) => l.accountId)).filter((id) => id !== '')),
    ];
    const units = new Map(
      (
        await findAccounts(
          db,
          ids.map((id) => ({ bookId: input.bookId, id })),
        )
      ).map((a) => [a.id, a.unit.code]),
    );
    entries = entries.map((e) => ({
      ...e,
      lines: e.lines.map((l) => (l.unit === '' ? { ...l, unit: units.get(l.accountId) ?? '' } : l)),
    }));
  }
  const results = await engine.submit(
    entries.map((e) => deps.entryOp(input.bookId, e, actor.id)),
    true,
  );
  const failed = results.findIndex((r) => !r.ok && r.error.code !== 'BATCH_ITEM_FAILED');
  if (failed >= 0) {
    const error = (results[failed] as { ok: false; error: LedgerError }).error;
    // Errors of the request itself (the book, the key) are the request's, not a row's.
    if (error.code === 'UNKNOWN_BOOK' || error.code === 'IDEMPOTENCY_KEY_REUSED')
      return new LedgerError(
        error.code,
        error.code === 'IDEMPOTENCY_KEY_REUSED'
          ? 'this idempotencyKey was already used with a different file'
          : error.message,
        error.code === 'UNKNOWN_BOOK' ? 'bookId' : 'idempotencyKey',
      );
    return rejected(
      [rowOf(error, lineInfo[failed]!, groups, failed)].map(([row, column, code, message]) => ({
        row,
        column,
        code,
        message,
      })),
    );
  }
  const posted = results.map((r) => r as { ok: true; entry: EntryRecord; replayed: boolean });
  return {
    imported: true,
    replayed: posted.every((r) => r.replayed),
    entries: posted.map((r) => r.entry),
    rowErrors: [],
  };
}

/** The file's line and column of an entry's error (`lines[j].amount`, `effectiveAt`, ...). */
function rowOf(
  error: LedgerError,
  info: DraftLine[],
  groups: Map<string, { row: number }[]>,
  index: number,
): [number, string | null, ErrorCode, string] {
  const first = [...groups.values()][index]![0]!.row;
  const m = /^lines\[(\d+)\](?:\.(\w+))?/.exec(error.field ?? '');
  if (m) {
    const line = info[Number(m[1])];
    const column =
      m[2] === 'amount' ? line?.amountColumn : m[2] === 'unit' ? 'unit' : m[2] ? line?.accountColumn : null;
    return [line?.row ?? first, column ?? null, error.code, error.message];
  }
  const column =
    error.field === 'effectiveAt'
      ? 'date'
      : error.field === 'memo'
        ? 'memo'
        : error.field === 'lines'
          ? 'entry'
          : null;
  return [first, column, error.code, error.message];
}
