/**
 * The banking domain's SQL (issue 17). Lines arrive by the thousand (one `unnest` insert per file);
 * everything else is a row at a time. Amounts travel as text and become decimal.js here; days as
 * `YYYY-MM-DD` text. Every banking write on an account first takes the account's advisory lock
 * (lockBankAccount), so imports, matches and reconciliations of one account never interleave.
 */
import { Decimal } from '../core/index.js';
import type { Queryable, TxClient } from '../platform/transaction.js';
import type {
  BankFormat,
  BankLineRecord,
  BankMatchRecord,
  BankRuleRecord,
  BankStatementRecord,
  CsvMapping,
  MatchHow,
  ReconciliationFigures,
  ReconciliationStatus,
  RuleDirection,
} from './records.js';

const D = (v: unknown) => new Decimal(String(v));
const day = (col: string) => `to_char(${col}, 'YYYY-MM-DD')`;
const ms = (col: string) => `(extract(epoch from ${col}) * 1000)::bigint::text`;
const toDate = (v: unknown) => (v === null || v === undefined ? null : new Date(Number(v)));

export async function lockBankAccount(client: TxClient, bookId: string, accountId: string): Promise<void> {
  await client.query('select pg_advisory_xact_lock(hashtextextended($1, 17))', [
    `bank:${bookId}:${accountId}`,
  ]);
}

// ---------- bank accounts ----------

export interface BankAccountRow {
  csvMapping: CsvMapping | null;
  matchWindowDays: number;
}

export async function bankAccountRow(
  db: Queryable,
  bookId: string,
  accountId: string,
): Promise<BankAccountRow | null> {
  const { rows } = await db.query(
    'select csv_mapping, match_window_days from bank_account where book_id = $1 and account_id = $2',
    [bookId, accountId],
  );
  return rows[0]
    ? {
        csvMapping: (rows[0].csv_mapping as CsvMapping | null) ?? null,
        matchWindowDays: Number(rows[0].match_window_days),
      }
    : null;
}

/** Sets what is given (null leaves a field as it is), creating the row with defaults. */
export async function upsertBankAccount(
  db: Queryable,
  a: {
    bookId: string;
    accountId: string;
    csvMapping: CsvMapping | null;
    matchWindowDays: number | null;
    actor: string;
  },
): Promise<void> {
  await db.query(
    `insert into bank_account (book_id, account_id, csv_mapping, match_window_days, updated_at, updated_by)
     values ($1, $2, $3::jsonb, coalesce($4::int, 3), now(), $5)
     on conflict (book_id, account_id) do update
       set csv_mapping = coalesce(excluded.csv_mapping, bank_account.csv_mapping),
           match_window_days = coalesce($4::int, bank_account.match_window_days),
           updated_at = now(), updated_by = excluded.updated_by`,
    [
      a.bookId,
      a.accountId,
      a.csvMapping === null ? null : JSON.stringify(a.csvMapping),
      a.matchWindowDays,
      a.actor,
    ],
  );
}

// ---------- statements and lines ----------

const STATEMENT_COLUMNS = `s.book_id, s.id, s.account_id, s.format, s.file_name, s.file_sha256, s.idempotency_key,
  s.request_hash, ${day('s.period_start')} as period_start, ${day('s.period_end')} as period_end,
  s.opening_balance::text as opening_balance, s.closing_balance::text as closing_balance,
  s.line_count, s.imported_count, s.duplicate_count, ${ms('s.created_at')} as created_at, s.created_by`;

function statementFromRow(r: Record<string, unknown>): Stored<BankStatementRecord> & { requestHash: string } {
  return {
    bookId: r.book_id as string,
    id: r.id as string,
    accountId: r.account_id as string,
    format: r.format as BankFormat,
    fileName: r.file_name as string,
    fileSha256: r.file_sha256 as string,
    idempotencyKey: r.idempotency_key as string,
    requestHash: r.request_hash as string,
    periodStart: (r.period_start as string | null) ?? null,
    periodEnd: (r.period_end as string | null) ?? null,
    openingBalance: r.opening_balance === null ? null : D(r.opening_balance),
    closingBalance: r.closing_balance === null ? null : D(r.closing_balance),
    lineCount: Number(r.line_count),
    importedCount: Number(r.imported_count),
    duplicateCount: Number(r.duplicate_count),
    createdAt: toDate(r.created_at)!,
    createdBy: r.created_by as string,
  };
}

/** Rows as stored: the use cases add the account's unit (from the ledger). */
export type Stored<T> = Omit<T, 'unit'>;

export async function statementByKey(
  db: Queryable,
  bookId: string,
  key: string,
): Promise<(Stored<BankStatementRecord> & { requestHash: string }) | null> {
  const { rows } = await db.query(
    `select ${STATEMENT_COLUMNS} from bank_statement s
      where s.book_id = $1 and s.idempotency_key = $2`,
    [bookId, key],
  );
  return rows[0] ? statementFromRow(rows[0]) : null;
}

export async function findStatements(
  db: Queryable,
  keys: { bookId: string; id: string }[],
): Promise<Stored<BankStatementRecord>[]> {
  if (keys.length === 0) return [];
  const { rows } = await db.query(
    `select ${STATEMENT_COLUMNS} from bank_statement s
      where s.book_id = any($1::uuid[]) and s.id = any($2::uuid[])`,
    [[...new Set(keys.map((k) => k.bookId))], [...new Set(keys.map((k) => k.id))]],
  );
  return rows.map((r) => statementFromRow(r));
}

export interface Page<K> {
  after: K | null;
  before: K | null;
  limit: number;
  backward: boolean;
}

/** Statements of an account in import (id) order. */
export async function listStatements(
  db: Queryable,
  bookId: string,
  accountId: string,
  page: Page<string>,
): Promise<Stored<BankStatementRecord>[]> {
  const { rows } = await db.query(
    `select ${STATEMENT_COLUMNS} from bank_statement s
      where s.book_id = $1 and s.account_id = $2
        and ($3::uuid is null or s.id > $3) and ($4::uuid is null or s.id < $4)
      order by s.id ${page.backward ? 'desc' : 'asc'} limit $5`,
    [bookId, accountId, page.after, page.before, page.limit],
  );
  const out = rows.map((r) => statementFromRow(r));
  return page.backward ? out.reverse() : out;
}

export async function countStatements(db: Queryable, bookId: string, accountId: string): Promise<number> {
  const { rows } = await db.query(
    'select count(*)::int as n from bank_statement where book_id = $1 and account_id = $2',
    [bookId, accountId],
  );
  return rows[0].n;
}

/** The newest closing balance a statement of the account gives for a day. */
export async function closingBalanceOn(
  db: Queryable,
  bookId: string,
  accountId: string,
  onDay: string,
): Promise<Decimal | null> {
  const { rows } = await db.query(
    `select closing_balance::text as b from bank_statement
      where book_id = $1 and account_id = $2 and period_end = $3::date and closing_balance is not null
      order by id desc limit 1`,
    [bookId, accountId, onDay],
  );
  return rows[0] ? D(rows[0].b) : null;
}

/** Which of these line keys the account already holds. */
export async function existingLineKeys(
  db: Queryable,
  bookId: string,
  accountId: string,
  keys: string[],
): Promise<Set<string>> {
  if (keys.length === 0) return new Set();
  const { rows } = await db.query(
    'select dedupe_key from bank_line where book_id = $1 and account_id = $2 and dedupe_key = any($3::text[])',
    [bookId, accountId, keys],
  );
  return new Set(rows.map((r) => r.dedupe_key as string));
}

export interface NewStatement {
  bookId: string;
  id: string;
  accountId: string;
  format: BankFormat;
  fileName: string;
  fileSha256: string;
  idempotencyKey: string;
  requestHash: string;
  periodStart: string | null;
  periodEnd: string | null;
  openingBalance: string | null;
  closingBalance: string | null;
  lineCount: number;
  importedCount: number;
  duplicateCount: number;
  actor: string;
}

export async function insertStatement(client: TxClient, s: NewStatement): Promise<void> {
  await client.query(
    `insert into bank_statement (book_id, id, account_id, format, file_name, file_sha256, idempotency_key, request_hash,
       period_start, period_end, opening_balance, closing_balance, line_count, imported_count, duplicate_count, created_at, created_by)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9::date, $10::date, $11::numeric, $12::numeric, $13, $14, $15, now(), $16)`,
    [
      s.bookId,
      s.id,
      s.accountId,
      s.format,
      s.fileName,
      s.fileSha256,
      s.idempotencyKey,
      s.requestHash,
      s.periodStart,
      s.periodEnd,
      s.openingBalance,
      s.closingBalance,
      s.lineCount,
      s.importedCount,
      s.duplicateCount,
      s.actor,
    ],
  );
}

export interface NewLine {
  id: string;
  lineNo: number;
  bookedOn: string;
  valueOn: string | null;
  amount: string;
  description: string;
  reference: string | null;
  counterparty: string | null;
  dedupeKey: string;
}

export async function insertLines(
  client: TxClient,
  bookId: string,
  accountId: string,
  statementId: string,
  lines: NewLine[],
): Promise<void> {
  if (lines.length === 0) return;
  await client.query(
    `insert into bank_line (book_id, id, account_id, statement_id, line_no, booked_on, value_on, amount, description,
       reference, counterparty, dedupe_key, created_at)
     select $1, x.id, $2, $3, x.line_no, x.booked_on, x.value_on, x.amount, x.description, x.reference, x.counterparty, x.dedupe_key, now()
       from unnest($4::uuid[], $5::int[], $6::date[], $7::date[], $8::numeric[], $9::text[], $10::text[], $11::text[], $12::text[])
         as x(id, line_no, booked_on, value_on, amount, description, reference, counterparty, dedupe_key)`,
    [
      bookId,
      accountId,
      statementId,
      lines.map((l) => l.id),
      lines.map((l) => l.lineNo),
      lines.map((l) => l.bookedOn),
      lines.map((l) => l.valueOn),
      lines.map((l) => l.amount),
      lines.map((l) => l.description),
      lines.map((l) => l.reference),
      lines.map((l) => l.counterparty),
      lines.map((l) => l.dedupeKey),
    ],
  );
}

const LINE_COLUMNS = `l.book_id, l.id, l.account_id, l.statement_id, l.line_no, ${day('l.booked_on')} as booked_on,
  ${day('l.value_on')} as value_on, l.amount::text as amount, l.description, l.reference, l.counterparty,
  m.entry_id as m_entry_id, m.how as m_how, m.rule_id as m_rule_id, ${ms('m.matched_at')} as m_matched_at, m.matched_by as m_matched_by`;
const LINE_FROM = `bank_line l
  left join bank_match m on m.book_id = l.book_id and m.line_id = l.id`;

function lineFromRow(r: Record<string, unknown>): Stored<BankLineRecord> {
  return {
    bookId: r.book_id as string,
    id: r.id as string,
    accountId: r.account_id as string,
    statementId: r.statement_id as string,
    lineNo: Number(r.line_no),
    bookedOn: r.booked_on as string,
    valueOn: (r.value_on as string | null) ?? null,
    amount: D(r.amount),
    description: r.description as string,
    reference: (r.reference as string | null) ?? null,
    counterparty: (r.counterparty as string | null) ?? null,
    match:
      r.m_entry_id === null || r.m_entry_id === undefined
        ? null
        : {
            lineId: r.id as string,
            entryId: r.m_entry_id as string,
            how: r.m_how as MatchHow,
            ruleId: (r.m_rule_id as string | null) ?? null,
            matchedAt: toDate(r.m_matched_at)!,
            matchedBy: r.m_matched_by as string,
          },
  };
}

export async function findLines(
  db: Queryable,
  bookId: string,
  ids: string[],
): Promise<Stored<BankLineRecord>[]> {
  if (ids.length === 0) return [];
  const { rows } = await db.query(
    `select ${LINE_COLUMNS} from ${LINE_FROM} where l.book_id = $1 and l.id = any($2::uuid[])`,
    [bookId, ids],
  );
  return rows.map(lineFromRow);
}

export interface LineFilter {
  bookId: string;
  accountId: string | null;
  statementId: string | null;
  /** MATCHED, UNMATCHED or null for both. */
  status: 'MATCHED' | 'UNMATCHED' | null;
  from: string | null;
  to: string | null;
}

const lineWhere = `l.book_id = $1 and ($2::uuid is null or l.account_id = $2) and ($3::uuid is null or l.statement_id = $3)
  and ($4::text is null or ($4 = 'MATCHED') = (m.line_id is not null))
  and ($5::date is null or l.booked_on >= $5) and ($6::date is null or l.booked_on <= $6)`;
const lineParams = (f: LineFilter) => [f.bookId, f.accountId, f.statementId, f.status, f.from, f.to];

/** Lines in (booked_on, id) order: the order a statement reads in. */
export async function listLines(
  db: Queryable,
  f: LineFilter,
  page: Page<[string, string]>,
): Promise<Stored<BankLineRecord>[]> {
  const { rows } = await db.query(
    `select ${LINE_COLUMNS} from ${LINE_FROM}
      where ${lineWhere}
        and ($7::date is null or (l.booked_on, l.id) > ($7::date, $8::uuid))
        and ($9::date is null or (l.booked_on, l.id) < ($9::date, $10::uuid))
      order by l.booked_on ${page.backward ? 'desc' : 'asc'}, l.id ${page.backward ? 'desc' : 'asc'} limit $11`,
    [
      ...lineParams(f),
      page.after?.[0] ?? null,
      page.after?.[1] ?? null,
      page.before?.[0] ?? null,
      page.before?.[1] ?? null,
      page.limit,
    ],
  );
  const out = rows.map(lineFromRow);
  return page.backward ? out.reverse() : out;
}

export async function countLines(db: Queryable, f: LineFilter): Promise<number> {
  const { rows } = await db.query(
    `select count(*)::int as n from ${LINE_FROM} where ${lineWhere}`,
    lineParams(f),
  );
  return rows[0].n;
}

/** Every line of the filter (for matching and reconciliation: at most a few thousand per account and period). */
export async function allLines(db: Queryable, f: LineFilter): Promise<Stored<BankLineRecord>[]> {
  const { rows } = await db.query(
    `select ${LINE_COLUMNS} from ${LINE_FROM} where ${lineWhere} order by l.booked_on, l.id`,
    lineParams(f),
  );
  return rows.map(lineFromRow);
}

// ---------- matches ----------

/** Entries of the account already matched to a line, with the day of that line (of `onlyEntryIds` when given). */
export async function matchedEntries(
  db: Queryable,
  bookId: string,
  accountId: string,
  onlyEntryIds: string[] | null = null,
): Promise<Map<string, string>> {
  const { rows } = await db.query(
    `select m.entry_id, ${day('l.booked_on')} as booked_on from bank_match m
       join bank_line l on l.book_id = m.book_id and l.id = m.line_id
      where m.book_id = $1 and m.account_id = $2 and ($3::uuid[] is null or m.entry_id = any($3::uuid[]))`,
    [bookId, accountId, onlyEntryIds],
  );
  return new Map(rows.map((r) => [r.entry_id as string, r.booked_on as string]));
}

export async function insertMatches(
  client: TxClient,
  bookId: string,
  accountId: string,
  matches: { lineId: string; entryId: string; how: MatchHow; ruleId: string | null }[],
  actor: string,
): Promise<void> {
  if (matches.length === 0) return;
  await client.query(
    `insert into bank_match (book_id, line_id, account_id, entry_id, how, rule_id, matched_at, matched_by)
     select $1, x.line_id, $2, x.entry_id, x.how, x.rule_id, now(), $7
       from unnest($3::uuid[], $4::uuid[], $5::text[], $6::uuid[]) as x(line_id, entry_id, how, rule_id)
     on conflict do nothing`,
    [
      bookId,
      accountId,
      matches.map((m) => m.lineId),
      matches.map((m) => m.entryId),
      matches.map((m) => m.how),
      matches.map((m) => m.ruleId),
      actor,
    ],
  );
}

export async function deleteMatch(
  client: TxClient,
  bookId: string,
  lineId: string,
): Promise<BankMatchRecord | null> {
  const { rows } = await client.query(
    `delete from bank_match where book_id = $1 and line_id = $2
     returning line_id, entry_id, how, rule_id, ${ms('matched_at')} as matched_at, matched_by`,
    [bookId, lineId],
  );
  return rows[0]
    ? {
        lineId: rows[0].line_id,
        entryId: rows[0].entry_id,
        how: rows[0].how,
        ruleId: rows[0].rule_id,
        matchedAt: toDate(rows[0].matched_at)!,
        matchedBy: rows[0].matched_by,
      }
    : null;
}

// ---------- rules ----------

const RULE_COLUMNS = `book_id, id, account_id, priority, description_contains, direction, counter_account_id, memo,
  ${ms('created_at')} as created_at, created_by`;

function ruleFromRow(r: Record<string, unknown>): BankRuleRecord {
  return {
    bookId: r.book_id as string,
    id: r.id as string,
    accountId: r.account_id as string,
    priority: Number(r.priority),
    descriptionContains: r.description_contains as string,
    direction: r.direction as RuleDirection,
    counterAccountId: r.counter_account_id as string,
    memo: (r.memo as string | null) ?? null,
    createdAt: toDate(r.created_at)!,
    createdBy: r.created_by as string,
  };
}

/** An account's rules in the order they are tried: priority, then creation. */
export async function listRules(db: Queryable, bookId: string, accountId: string): Promise<BankRuleRecord[]> {
  const { rows } = await db.query(
    `select ${RULE_COLUMNS} from bank_rule where book_id = $1 and account_id = $2 order by priority, id`,
    [bookId, accountId],
  );
  return rows.map(ruleFromRow);
}

export async function findRules(db: Queryable, bookId: string, ids: string[]): Promise<BankRuleRecord[]> {
  if (ids.length === 0) return [];
  const { rows } = await db.query(
    `select ${RULE_COLUMNS} from bank_rule where book_id = $1 and id = any($2::uuid[])`,
    [bookId, ids],
  );
  return rows.map(ruleFromRow);
}

export async function insertRule(db: Queryable, r: Omit<BankRuleRecord, 'createdAt'>): Promise<void> {
  await db.query(
    `insert into bank_rule (book_id, id, account_id, priority, description_contains, direction, counter_account_id, memo, created_at, created_by)
     values ($1, $2, $3, $4, $5, $6, $7, $8, now(), $9)`,
    [
      r.bookId,
      r.id,
      r.accountId,
      r.priority,
      r.descriptionContains,
      r.direction,
      r.counterAccountId,
      r.memo,
      r.createdBy,
    ],
  );
}

export async function nextRulePriority(db: Queryable, bookId: string, accountId: string): Promise<number> {
  const { rows } = await db.query(
    'select coalesce(max(priority), 0) + 10 as p from bank_rule where book_id = $1 and account_id = $2',
    [bookId, accountId],
  );
  return Number(rows[0].p);
}

export async function deleteRule(db: Queryable, bookId: string, id: string): Promise<boolean> {
  const { rowCount } = await db.query('delete from bank_rule where book_id = $1 and id = $2', [bookId, id]);
  return (rowCount ?? 0) > 0;
}

// ---------- reconciliations ----------

const REC_COLUMNS = `r.book_id, r.id, r.account_id, ${day('r.period_start')} as period_start, ${day('r.period_end')} as period_end,
  r.statement_balance::text as statement_balance, r.status, r.figures, ${ms('r.created_at')} as created_at, r.created_by,
  ${ms('r.closed_at')} as closed_at, r.closed_by`;

export interface ReconciliationRow {
  bookId: string;
  id: string;
  accountId: string;
  periodStart: string;
  periodEnd: string;
  statementBalance: Decimal;
  status: ReconciliationStatus;
  /** Stored when closed: the figures at closing. */
  figures: ReconciliationFigures | null;
  createdAt: Date;
  createdBy: string;
  closedAt: Date | null;
  closedBy: string | null;
}

function figuresFromJson(j: Record<string, unknown> | null): ReconciliationFigures | null {
  if (!j) return null;
  return {
    statementBalance: D(j.statementBalance),
    bookBalance: D(j.bookBalance),
    matchedLineIds: j.matchedLineIds as string[],
    matchedTotal: D(j.matchedTotal),
    unmatchedLineIds: j.unmatchedLineIds as string[],
    unmatchedLinesTotal: D(j.unmatchedLinesTotal),
    outstandingEntryIds: j.outstandingEntryIds as string[],
    outstandingTotal: D(j.outstandingTotal),
    difference: D(j.difference),
    agrees: j.agrees as boolean,
  };
}

export function figuresToJson(f: ReconciliationFigures): string {
  return JSON.stringify({
    ...f,
    statementBalance: f.statementBalance.toFixed(),
    bookBalance: f.bookBalance.toFixed(),
    matchedTotal: f.matchedTotal.toFixed(),
    unmatchedLinesTotal: f.unmatchedLinesTotal.toFixed(),
    outstandingTotal: f.outstandingTotal.toFixed(),
    difference: f.difference.toFixed(),
  });
}

function recFromRow(r: Record<string, unknown>): ReconciliationRow {
  return {
    bookId: r.book_id as string,
    id: r.id as string,
    accountId: r.account_id as string,
    periodStart: r.period_start as string,
    periodEnd: r.period_end as string,
    statementBalance: D(r.statement_balance),
    status: r.status as ReconciliationStatus,
    figures: figuresFromJson(r.figures as Record<string, unknown> | null),
    createdAt: toDate(r.created_at)!,
    createdBy: r.created_by as string,
    closedAt: toDate(r.closed_at),
    closedBy: (r.closed_by as string | null) ?? null,
  };
}

export async function findReconciliations(
  db: Queryable,
  keys: { bookId: string; id: string }[],
): Promise<ReconciliationRow[]> {
  if (keys.length === 0) return [];
  const { rows } = await db.query(
    `select ${REC_COLUMNS} from bank_reconciliation r
      where r.book_id = any($1::uuid[]) and r.id = any($2::uuid[])`,
    [[...new Set(keys.map((k) => k.bookId))], [...new Set(keys.map((k) => k.id))]],
  );
  return rows.map(recFromRow);
}

/** An account's reconciliations by period start (unique per account). */
export async function listReconciliations(
  db: Queryable,
  bookId: string,
  accountId: string,
  status: ReconciliationStatus | null,
  page: Page<string>,
): Promise<ReconciliationRow[]> {
  const { rows } = await db.query(
    `select ${REC_COLUMNS} from bank_reconciliation r
      where r.book_id = $1 and r.account_id = $2 and ($3::text is null or r.status = $3)
        and ($4::date is null or r.period_start > $4::date) and ($5::date is null or r.period_start < $5::date)
      order by r.period_start ${page.backward ? 'desc' : 'asc'} limit $6`,
    [bookId, accountId, status, page.after, page.before, page.limit],
  );
  const out = rows.map(recFromRow);
  return page.backward ? out.reverse() : out;
}

export async function countReconciliations(
  db: Queryable,
  bookId: string,
  accountId: string,
  status: ReconciliationStatus | null,
): Promise<number> {
  const { rows } = await db.query(
    `select count(*)::int as n from bank_reconciliation where book_id = $1 and account_id = $2 and ($3::text is null or status = $3)`,
    [bookId, accountId, status],
  );
  return rows[0].n;
}

/** The account's reconciliation summary: the first start, the latest end, the open one. */
export async function reconciliationBounds(
  db: Queryable,
  bookId: string,
  accountId: string,
): Promise<{ firstStart: string | null; lastEnd: string | null; openId: string | null }> {
  const { rows } = await db.query(
    `select ${day('min(period_start)')} as first_start, ${day('max(period_end)')} as last_end,
            (select id from bank_reconciliation where book_id = $1 and account_id = $2 and status = 'OPEN' limit 1) as open_id
       from bank_reconciliation where book_id = $1 and account_id = $2`,
    [bookId, accountId],
  );
  return {
    firstStart: rows[0]?.first_start ?? null,
    lastEnd: rows[0]?.last_end ?? null,
    openId: rows[0]?.open_id ?? null,
  };
}

/** Days (of these) inside a closed reconciliation of the account. */
export async function closedDays(
  db: Queryable,
  bookId: string,
  accountId: string,
  days: string[],
): Promise<Set<string>> {
  if (days.length === 0) return new Set();
  const { rows } = await db.query(
    `select distinct ${day('d')} as d from unnest($3::date[]) as d
      where exists (select 1 from bank_reconciliation r where r.book_id = $1 and r.account_id = $2 and r.status = 'CLOSED'
                      and d between r.period_start and r.period_end)`,
    [bookId, accountId, [...new Set(days)]],
  );
  return new Set(rows.map((r) => r.d as string));
}

export async function insertReconciliation(
  client: TxClient,
  r: {
    bookId: string;
    id: string;
    accountId: string;
    periodStart: string;
    periodEnd: string;
    statementBalance: string;
    actor: string;
  },
): Promise<void> {
  await client.query(
    `insert into bank_reconciliation (book_id, id, account_id, period_start, period_end, statement_balance, status, created_at, created_by)
     values ($1, $2, $3, $4::date, $5::date, $6::numeric, 'OPEN', now(), $7)`,
    [r.bookId, r.id, r.accountId, r.periodStart, r.periodEnd, r.statementBalance, r.actor],
  );
}

export async function markClosed(
  client: TxClient,
  bookId: string,
  id: string,
  figures: ReconciliationFigures,
  actor: string,
): Promise<void> {
  await client.query(
    `update bank_reconciliation set status = 'CLOSED', figures = $3::jsonb, closed_at = now(), closed_by = $4
      where book_id = $1 and id = $2 and status = 'OPEN'`,
    [bookId, id, figuresToJson(figures), actor],
  );
}

// ---------- idempotent requests ----------

export async function requestByKey(
  db: Queryable,
  bookId: string,
  key: string,
): Promise<{ operation: string; requestHash: string; result: unknown } | null> {
  const { rows } = await db.query(
    'select operation, request_hash, result from bank_request where book_id = $1 and idempotency_key = $2',
    [bookId, key],
  );
  return rows[0]
    ? { operation: rows[0].operation, requestHash: rows[0].request_hash, result: rows[0].result }
    : null;
}

export async function insertRequest(
  db: Queryable,
  r: { bookId: string; key: string; operation: string; requestHash: string; result: unknown; actor: string },
): Promise<void> {
  await db.query(
    `insert into bank_request (book_id, idempotency_key, operation, request_hash, result, created_at, created_by)
     values ($1, $2, $3, $4, $5::jsonb, now(), $6) on conflict do nothing`,
    [r.bookId, r.key, r.operation, r.requestHash, JSON.stringify(r.result), r.actor],
  );
}
