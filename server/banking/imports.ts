/**
 * Bank statement imports (issue 17), all or nothing: the file is parsed (CSV through the account's
 * remembered column mapping, OFX, camt.053), every line checked against the account's unit
 * (currency, scale, not zero) and against closed reconciliations, and every problem is named by the
 * file's line; a file with any problem imports nothing.
 *
 * Duplicates: each line gets a key, `ref:<bank reference>|<date>|<amount>` when the bank gives a
 * reference, else `day:<date>|<amount>|<description>#<n>` where n counts identical lines within
 * the file (two coffees of 3.50 on one day are two lines). A reference alone is not the line: a
 * direct debit's mandate reference comes back every month, and a bank may give a batch's lines
 * one reference (keyed by the reference alone, the second of them was skipped as a duplicate).
 * A line whose key the account already holds is a duplicate and is skipped, so the same file twice
 * (or two overlapping exports) imports nothing new. Lines imported before the date and amount were
 * part of the key hold `ref:<bank reference>`; a line with that reference counts as one of them.
 * The import is recorded as a statement with its counts either way.
 *
 * The same key and request answer the first import again (`replayed`); another request under the
 * key is IDEMPOTENCY_KEY_REUSED. Keys and files are scoped to the book.
 */
import {
  type Decimal,
  LedgerError,
  type Principal,
  parseAmount,
  validateIdempotencyKey,
  ZERO,
} from '../core/index.js';
import { mayChangeBook } from '../ledger/index.js';
import { requestHash, sha256 } from '../platform/hashing.js';
import { uuidv7 } from '../platform/ids.js';
import { withTransaction } from '../platform/transaction.js';
import type { BankingDeps } from './deps.js';
import { parseCamt053Statement, parseCsvStatement, parseOfxStatement } from './parsers.js';
import {
  BANK_FORMATS,
  type BankRowError,
  type BankStatementRecord,
  CSV_DATE_FORMATS,
  type CsvMapping,
  type ImportStatementInput,
  type ImportStatementResult,
  type ParsedStatement,
} from './records.js';
import { bankAccountOf, reusedKey, unknownAccount, withUnits } from './rules-common.js';
import {
  bankAccountRow,
  closedDays,
  existingLineKeys,
  findStatements,
  insertLines,
  insertStatement,
  lockBankAccount,
  type NewLine,
  statementByKey,
  upsertBankAccount,
} from './store.js';

const COLUMN_LENGTH_MAX = 100;

/** The mapping's problems (field paths under `csvMapping`), or null. */
export function checkMapping(m: CsvMapping, field = 'csvMapping'): LedgerError | null {
  const bad = (path: string, message: string) =>
    new LedgerError('INVALID_INPUT', message, `${field}.${path}`);
  if (![',', ';', '\t'].includes(m.delimiter))
    return bad('delimiter', 'delimiter must be a comma, a semicolon or a tab');
  if (!(CSV_DATE_FORMATS as readonly string[]).includes(m.dateFormat))
    return bad('dateFormat', `dateFormat must be one of ${CSV_DATE_FORMATS.join(', ')}`);
  const columns: [string, string | null][] = [
    ['dateColumn', m.dateColumn],
    ['amountColumn', m.amountColumn],
    ['moneyInColumn', m.moneyInColumn],
    ['moneyOutColumn', m.moneyOutColumn],
    ['referenceColumn', m.referenceColumn],
    ['counterpartyColumn', m.counterpartyColumn],
    ['balanceColumn', m.balanceColumn],
    ...m.descriptionColumns.map((c, i) => [`descriptionColumns[${i}]`, c] as [string, string]),
  ];
  for (const [path, c] of columns)
    if (c !== null && (c.trim() === '' || c.length > COLUMN_LENGTH_MAX))
      return bad(path, `a column name is 1 to ${COLUMN_LENGTH_MAX} characters`);
  if (m.dateColumn === null || m.dateColumn === undefined) return bad('dateColumn', 'dateColumn is required');
  const single = m.amountColumn !== null;
  const pair = m.moneyInColumn !== null && m.moneyOutColumn !== null;
  if (single === pair || (!single && (m.moneyInColumn === null) !== (m.moneyOutColumn === null)))
    return bad('amountColumn', 'give amountColumn (signed), or moneyInColumn and moneyOutColumn, not both');
  if (m.descriptionColumns.length === 0 || m.descriptionColumns.length > 5)
    return bad('descriptionColumns', 'name 1 to 5 description columns');
  return null;
}

function parse(
  input: ImportStatementInput,
  mapping: CsvMapping | null,
): ParsedStatement | { errors: BankRowError[] } {
  if (input.format === 'CSV') return parseCsvStatement(input.content, mapping!);
  if (input.format === 'OFX') return parseOfxStatement(input.content);
  return parseCamt053Statement(input.content);
}

const normalise = (s: string) => s.trim().toLowerCase().replace(/\s+/g, ' ');

/** Each line's duplicate key (see the header). */
export function lineKeys(
  lines: { bookedOn: string; amount: Decimal; description: string; reference: string | null }[],
  scale: number,
): string[] {
  const seen = new Map<string, number>();
  return lines.map((l) => {
    if (l.reference) return `${legacyRefKey(l.reference)}|${l.bookedOn}|${l.amount.toFixed(scale)}`;
    const base = `day:${l.bookedOn}|${l.amount.toFixed(scale)}|${normalise(l.description)}`;
    const n = (seen.get(base) ?? 0) + 1;
    seen.set(base, n);
    return `${base}#${n}`;
  });
}

/** The key of a referenced line before the date and amount were part of it (see the header). */
const legacyRefKey = (reference: string) => `ref:${reference.trim()}`;

type Outcome = ImportStatementResult | LedgerError;

const rejected = (rowErrors: BankRowError[]): ImportStatementResult => ({
  statement: null,
  replayed: false,
  rowErrors,
});

/** What the transaction decided: a statement (new or replayed), a refusal of rows, or an error. */
type Decided = { statementId: string; replayed: boolean } | ImportStatementResult | LedgerError;

export async function importStatement(
  deps: BankingDeps,
  input: ImportStatementInput,
  actor: Principal,
): Promise<Outcome> {
  const decided = await decide(deps, input, actor);
  if (decided instanceof LedgerError || !('statementId' in decided)) return decided;
  const [stored] = await findStatements(deps.pool, [{ bookId: input.bookId, id: decided.statementId }]);
  const [statement] = await withUnits<BankStatementRecord>(deps, [stored!]);
  return { statement: statement!, replayed: decided.replayed, rowErrors: [] };
}

async function decide(deps: BankingDeps, input: ImportStatementInput, actor: Principal): Promise<Decided> {
  if (!(await mayChangeBook(deps.pool, actor, input.bookId))) return unknownAccount();
  const keyError = validateIdempotencyKey(input.idempotencyKey);
  if (keyError) return keyError;
  if (!(BANK_FORMATS as readonly string[]).includes(input.format))
    return new LedgerError('INVALID_INPUT', `format must be one of ${BANK_FORMATS.join(', ')}`, 'format');
  if (input.fileName !== null && input.fileName.length > 200)
    return new LedgerError('INVALID_INPUT', 'fileName is at most 200 characters', 'fileName');
  const account = await bankAccountOf(deps, input.bookId, input.accountId);
  if (account instanceof LedgerError) return account;
  const hash = requestHash('importBankStatement', input);
  const replay = (prior: { id: string; requestHash: string }): Decided =>
    prior.requestHash === hash ? { statementId: prior.id, replayed: true } : reusedKey();
  const prior = await statementByKey(deps.pool, input.bookId, input.idempotencyKey);
  if (prior) return replay(prior);
  if (account.closed) return new LedgerError('ACCOUNT_CLOSED', 'the account is closed', 'accountId');
  let mapping: CsvMapping | null = null;
  if (input.format === 'CSV') {
    mapping =
      input.csvMapping ??
      (await bankAccountRow(deps.pool, input.bookId, input.accountId))?.csvMapping ??
      null;
    if (!mapping)
      return new LedgerError(
        'BANK_MAPPING_REQUIRED',
        'this account has no CSV column mapping yet: give csvMapping once (it is remembered)',
        'csvMapping',
      );
    const mappingError = checkMapping(mapping);
    if (mappingError) return mappingError;
  } else if (input.csvMapping) {
    return new LedgerError('INVALID_INPUT', `csvMapping is for CSV files, not ${input.format}`, 'csvMapping');
  }
  // U+FFFD is what a decoder writes for bytes it could not read: the file was read in another
  // encoding than its own (a bank's Windows-1252 export read as UTF-8), and its names and texts
  // would be stored, matched by rules and shown with the letters lost.
  const undecoded = input.content.indexOf('\uFFFD');
  if (undecoded >= 0)
    return rejected([
      {
        row: input.content.slice(0, undecoded).split('\n').length,
        column: null,
        code: 'INVALID_BANK_FILE',
        message:
          'the file holds U+FFFD, a character its reader could not decode: read it in its own encoding (banks often write Windows-1252 or ISO-8859-1) and send it again',
      },
    ]);
  const parsed = parse(input, mapping);
  if ('errors' in parsed) return rejected(parsed.errors);
  const unit = account.unit;
  if (parsed.currency !== null && parsed.currency !== unit.code)
    return rejected([
      {
        row: 1,
        column: null,
        code: 'UNIT_MISMATCH',
        message: `the statement is in ${parsed.currency}; the account holds ${unit.code}`,
      },
    ]);
  if (parsed.lines.length === 0)
    return rejected([
      { row: 1, column: null, code: 'INVALID_BANK_FILE', message: 'the file holds no transactions' },
    ]);
  const errors: BankRowError[] = [];
  const amounts = parsed.lines.map((l) => {
    const a = parseAmount(l.amount, unit, 'amount', { allowNegative: true });
    if (a instanceof LedgerError)
      errors.push({ row: l.lineNo, column: 'amount', code: a.code, message: a.message });
    return a instanceof LedgerError ? ZERO : a;
  });
  const balance = (text: string | null, what: string): Decimal | null => {
    if (text === null) return null;
    const b = parseAmount(text, unit, what, { allowNegative: true, allowZero: true });
    if (b instanceof LedgerError) {
      errors.push({ row: 1, column: what, code: b.code, message: `${what}: ${b.message}` });
      return null;
    }
    return b;
  };
  const closing = balance(parsed.closingBalance, 'closingBalance');
  // Without an opening balance in the file, the closing balance less the file's lines.
  const opening =
    balance(parsed.openingBalance, 'openingBalance') ??
    (closing ? amounts.reduce((s, a) => s.minus(a), closing) : null);
  if (errors.length > 0) return rejected(errors);
  const lines = parsed.lines.map((l, i) => ({ ...l, amount: amounts[i]! }));
  const keys = lineKeys(lines, unit.scale);
  return withTransaction(deps.pool, async (client): Promise<Decided> => {
    await lockBankAccount(client, input.bookId, input.accountId);
    const again = await statementByKey(client, input.bookId, input.idempotencyKey);
    if (again) return replay(again);
    const legacy = lines.map((l) => (l.reference ? legacyRefKey(l.reference) : null));
    const existing = await existingLineKeys(client, input.bookId, input.accountId, [
      ...keys,
      ...legacy.filter((k) => k !== null),
    ]);
    const seen = new Set<string>();
    const fresh: NewLine[] = [];
    lines.forEach((l, i) => {
      const key = keys[i]!;
      const old = legacy[i];
      if (existing.has(key) || (old && existing.has(old)) || seen.has(key)) return;
      seen.add(key);
      fresh.push({
        id: uuidv7(),
        lineNo: l.lineNo,
        bookedOn: l.bookedOn,
        valueOn: l.valueOn,
        amount: l.amount.toFixed(unit.scale),
        description: l.description.slice(0, 1000),
        reference: l.reference?.slice(0, 200) ?? null,
        counterparty: l.counterparty?.slice(0, 200) ?? null,
        dedupeKey: key,
      });
    });
    // A new line inside a closed reconciliation would change what was closed.
    const closed = await closedDays(
      client,
      input.bookId,
      input.accountId,
      fresh.map((l) => l.bookedOn),
    );
    const inClosed = fresh.filter((l) => closed.has(l.bookedOn));
    if (inClosed.length > 0)
      return rejected(
        inClosed.map((l) => ({
          row: l.lineNo,
          column: null,
          code: 'RECONCILIATION_CLOSED' as const,
          message: `a new line dated ${l.bookedOn}, inside a closed reconciliation of this account`,
        })),
      );
    const id = uuidv7();
    await insertStatement(client, {
      bookId: input.bookId,
      id,
      accountId: input.accountId,
      format: input.format,
      fileName: input.fileName ?? '',
      fileSha256: sha256(input.content),
      idempotencyKey: input.idempotencyKey,
      requestHash: hash,
      periodStart: parsed.periodStart,
      periodEnd: parsed.periodEnd,
      openingBalance: opening?.toFixed(unit.scale) ?? null,
      closingBalance: closing?.toFixed(unit.scale) ?? null,
      lineCount: lines.length,
      importedCount: fresh.length,
      duplicateCount: lines.length - fresh.length,
      actor: actor.id,
    });
    await insertLines(client, input.bookId, input.accountId, id, fresh);
    if (input.csvMapping)
      await upsertBankAccount(client, {
        bookId: input.bookId,
        accountId: input.accountId,
        csvMapping: input.csvMapping,
        matchWindowDays: null,
        actor: actor.id,
      });
    return { statementId: id, replayed: false };
  });
}

/** Remembers an account's CSV mapping and its matching window (days either side of a line's date). */
export async function setBankAccountOptions(
  deps: BankingDeps,
  input: { bookId: string; accountId: string; csvMapping: CsvMapping | null; matchWindowDays: number | null },
  actor: Principal,
): Promise<LedgerError | null> {
  if (!(await mayChangeBook(deps.pool, actor, input.bookId))) return unknownAccount();
  const account = await bankAccountOf(deps, input.bookId, input.accountId);
  if (account instanceof LedgerError) return account;
  if (input.csvMapping) {
    const error = checkMapping(input.csvMapping);
    if (error) return error;
  }
  if (
    input.matchWindowDays !== null &&
    !(Number.isInteger(input.matchWindowDays) && input.matchWindowDays >= 0 && input.matchWindowDays <= 31)
  )
    return new LedgerError('INVALID_INPUT', 'matchWindowDays must be 0 to 31', 'matchWindowDays');
  await upsertBankAccount(deps.pool, { ...input, actor: actor.id });
  return null;
}
