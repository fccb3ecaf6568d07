/**
 * Hand-written, set-based SQL of the ledger. Every statement takes whole arrays (unnest) so a
 * group of entries costs a fixed number of round trips whatever its size. Numbers and instants are
 * read as text / epoch milliseconds so nothing passes through a JavaScript float.
 */
import pg, { type PoolClient } from 'pg';
import type { AccountState, AccountType, EntryKind, MinorAccount, Side } from '../core/index.js';
import { Decimal, formatMinor, minorFromNumeric } from '../core/index.js';
import { isConnectionError, isRetryable } from '../platform/errors.js';

export type { Queryable } from '../platform/transaction.js';

import type { Queryable } from '../platform/transaction.js';

const { escapeLiteral } = pg;

export interface BookHead {
  id: string;
  entrySeq: bigint;
  lastHash: string;
  maxBackdateDays: number;
  /** The book's version: every write of the posting engine adds one, compare-and-set. */
  version: bigint;
}

const bookFromRow = (row: Record<string, unknown>): BookHead => ({
  id: row.id as string,
  entrySeq: BigInt(row.entry_seq as string),
  lastHash: row.last_hash as string,
  maxBackdateDays: Number(row.max_backdate_days),
  version: BigInt(row.version as string),
});

const BOOK_COLUMNS =
  'id, entry_seq::text as entry_seq, last_hash, max_backdate_days, version::text as version';

export interface LineRecord {
  lineNo: number;
  accountId: string;
  side: Side;
  amount: Decimal;
  unitCode: string;
  scale: number;
  phase: 'POSTED' | 'PENDING';
}

export interface EntryRecord {
  bookId: string;
  id: string;
  seq: string;
  kind: EntryKind;
  idempotencyKey: string;
  requestHash: string;
  effectiveAt: Date;
  recordedAt: Date;
  memo: string;
  metadata: Record<string, string>;
  reversesId: string | null;
  pendingId: string | null;
  expiresAt: Date | null;
  postedBy: string | null;
  prevHash: string;
  hash: string;
  lines: LineRecord[];
}

export interface AccountRow extends AccountState {
  code: string;
  name: string;
  parentId: string | null;
  closedAt: Date | null;
  createdAt: Date;
}

export const ms = (col: string) => `(extract(epoch from ${col}) * 1000)::bigint::text`;

const ACCOUNT_COLUMNS = `a.book_id, a.id, a.code, a.name, a.type, a.unit_code, u.scale, a.parent_id,
  a.lower_bound::text as lower_bound, a.upper_bound::text as upper_bound,
  ${ms('a.closed_at')} as closed_at, ${ms('a.created_at')} as created_at,
  a.posted_debits::text as posted_debits, a.posted_credits::text as posted_credits,
  a.pending_debits::text as pending_debits, a.pending_credits::text as pending_credits`;

/**
 * An account as the posting engine reads it: the state it decides against, totals and bounds in
 * minor units of the account's unit (see core/minor.ts), none of the names and dates it does not
 * use.
 */
export type PostingAccount = MinorAccount;

// trim_scale: '12.5' rather than '12.500000000000000000' (NUMERIC(38,18)): the same value in
// fewer bytes to send, parse and convert; a digit beyond the unit's scale still shows.
const POSTING_ACCOUNT_COLUMNS = `a.book_id, a.id, a.type, a.unit_code, u.scale,
  trim_scale(a.lower_bound)::text as lower_bound, trim_scale(a.upper_bound)::text as upper_bound,
  a.closed_at is not null as closed,
  trim_scale(a.posted_debits)::text as posted_debits, trim_scale(a.posted_credits)::text as posted_credits,
  trim_scale(a.pending_debits)::text as pending_debits, trim_scale(a.pending_credits)::text as pending_credits`;

/**
 * A posting account as read, which also keeps the text PostgreSQL sent for its totals and bounds:
 * the compare-and-set of the write (writeEntries) sends that text back as the expected value
 * instead of writing it again from minor units (numerically the same NUMERIC). Kept in private
 * fields, so a copy of the account (`{ ...account, ...totals }`) does not carry them, and used
 * only while the value still is the one read (readText).
 */
export class PostingAccountRow implements PostingAccount {
  readonly bookId: string;
  readonly id: string;
  readonly type: AccountType;
  readonly unit: { code: string; scale: number };
  readonly lowerBound: bigint | null;
  readonly upperBound: bigint | null;
  readonly closed: boolean;
  readonly postedDebits: bigint;
  readonly postedCredits: bigint;
  readonly pendingDebits: bigint;
  readonly pendingCredits: bigint;
  readonly #postedDebits: string;
  readonly #postedCredits: string;
  readonly #pendingDebits: string;
  readonly #pendingCredits: string;
  readonly #lowerBound: string | null;
  readonly #upperBound: string | null;

  constructor(row: Record<string, unknown>) {
    const scale = Number(row.scale);
    this.bookId = row.book_id as string;
    this.id = row.id as string;
    this.type = row.type as AccountType;
    this.unit = { code: row.unit_code as string, scale };
    this.#lowerBound = row.lower_bound as string | null;
    this.#upperBound = row.upper_bound as string | null;
    this.lowerBound = this.#lowerBound === null ? null : minorFromNumeric(this.#lowerBound, scale);
    this.upperBound = this.#upperBound === null ? null : minorFromNumeric(this.#upperBound, scale);
    // A boolean from a prepared statement or JSON, 't' / 'f' should a driver hand over the text.
    this.closed = row.closed === true || row.closed === 't';
    this.#postedDebits = row.posted_debits as string;
    this.#postedCredits = row.posted_credits as string;
    this.#pendingDebits = row.pending_debits as string;
    this.#pendingCredits = row.pending_credits as string;
    this.postedDebits = minorFromNumeric(this.#postedDebits, scale);
    this.postedCredits = minorFromNumeric(this.#postedCredits, scale);
    this.pendingDebits = minorFromNumeric(this.#pendingDebits, scale);
    this.pendingCredits = minorFromNumeric(this.#pendingCredits, scale);
  }

  /**
   * The text of a total or bound as read, when `value` is still the value read (null otherwise,
   * and for a bound that is null).
   */
  readText(
    field:
      | 'postedDebits'
      | 'postedCredits'
      | 'pendingDebits'
      | 'pendingCredits'
      | 'lowerBound'
      | 'upperBound',
    value: bigint | null,
  ): string | null {
    if (value !== this[field]) return null;
    switch (field) {
      case 'postedDebits':
        return this.#postedDebits;
      case 'postedCredits':
        return this.#postedCredits;
      case 'pendingDebits':
        return this.#pendingDebits;
      case 'pendingCredits':
        return this.#pendingCredits;
      case 'lowerBound':
        return this.#lowerBound;
      case 'upperBound':
        return this.#upperBound;
    }
  }
}

function postingAccountFromRow(row: Record<string, unknown>): PostingAccount {
  return new PostingAccountRow(row);
}

/** Posting accounts by `book/id`. */
function postingAccountsOf(rows: Record<string, unknown>[]): Map<string, PostingAccount> {
  const out = new Map<string, PostingAccount>();
  for (const row of rows) out.set(`${row.book_id}/${row.id}`, postingAccountFromRow(row));
  return out;
}

/**
 * The instant of a bounded account's latest line (ms text; null for an account without bounds or
 * lines): the posting engine checks an entry against the balances after it only when the account
 * has a line later than the entry (see firstBoundBreach). One backward probe of the line index.
 */
const LATEST_LINE_COLUMN = `case when a.lower_bound is not null or a.upper_bound is not null then
    (select ${ms('max(l.effective_at)')} from journal_line l where l.book_id = a.book_id and l.account_id = a.id)
  end as latest_line_at`;

/** The posting engine's read of accounts (POSTING_ACCOUNT_COLUMNS and the latest line); add a where. */
const POSTING_ACCOUNTS_SELECT = `select ${POSTING_ACCOUNT_COLUMNS}, ${LATEST_LINE_COLUMN}
  from account a join book_unit u on u.book_id = a.book_id and u.code = a.unit_code`;

/** Latest-line instants (ms) of the bounded accounts among lock rows, by `book/id`. */
function latestLinesOf(rows: Record<string, unknown>[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const row of rows) {
    if (row.latest_line_at !== null && row.latest_line_at !== undefined)
      out.set(`${row.book_id}/${row.id}`, Number(row.latest_line_at));
  }
  return out;
}

/**
 * Distinct book ids and ids of a key list. Lookups use `book_id = any($1) and id = any($2)`, which
 * PostgreSQL answers with index scans whatever its statistics say (a join against unnest() can
 * turn into a hash join over the whole table). Ids are UUIDv7, unique across books in practice,
 * and callers look results up by the exact (book, id) pair, so a cross combination costs nothing.
 */
function anyKeys(keys: { bookId: string; id: string }[]): [string[], string[]] {
  return [[...new Set(keys.map((k) => k.bookId))], [...new Set(keys.map((k) => k.id))]];
}

function toDate(text: string | null): Date | null {
  return text === null ? null : new Date(Number(text));
}

export function accountFromRow(row: Record<string, string | number | null>): AccountRow {
  const closedAt = toDate(row.closed_at as string | null);
  return {
    bookId: row.book_id as string,
    id: row.id as string,
    code: row.code as string,
    name: row.name as string,
    type: row.type as AccountType,
    unit: { code: row.unit_code as string, scale: Number(row.scale) },
    parentId: (row.parent_id as string | null) ?? null,
    lowerBound: row.lower_bound === null ? null : new Decimal(row.lower_bound as string),
    upperBound: row.upper_bound === null ? null : new Decimal(row.upper_bound as string),
    closed: closedAt !== null,
    closedAt,
    createdAt: toDate(row.created_at as string)!,
    postedDebits: new Decimal(row.posted_debits as string),
    postedCredits: new Decimal(row.posted_credits as string),
    pendingDebits: new Decimal(row.pending_debits as string),
    pendingCredits: new Decimal(row.pending_credits as string),
  };
}

/** Locks the books' chain heads in id order. Every writer of a book goes through this lock. */
export async function lockBooks(db: Queryable, bookIds: string[]): Promise<Map<string, BookHead>> {
  const { rows } = await db.query(
    `select ${BOOK_COLUMNS} from book where id = any($1::uuid[]) order by id for no key update`,
    [bookIds],
  );
  return new Map(rows.map((r) => [r.id, bookFromRow(r)]));
}

/** Locks accounts in (book, id) order, the one order every writer uses, and reads their state. */
export async function lockAccounts(
  db: Queryable,
  keys: { bookId: string; id: string }[],
): Promise<Map<string, AccountRow>> {
  if (keys.length === 0) return new Map();
  const { rows } = await db.query(
    `select ${ACCOUNT_COLUMNS}
       from account a join book_unit u on u.book_id = a.book_id and u.code = a.unit_code
      where a.book_id = any($1::uuid[]) and a.id = any($2::uuid[])
      order by a.book_id, a.id
      for no key update of a`,
    anyKeys(keys),
  );
  return new Map(rows.map((r) => [`${r.book_id}/${r.id}`, accountFromRow(r)]));
}

/** lockAccounts for the posting engine: also the instant of each bounded account's latest line. */
export async function lockAccountsForPosting(
  db: Queryable,
  keys: { bookId: string; id: string }[],
): Promise<{ accounts: Map<string, PostingAccount>; latestLineAt: Map<string, number> }> {
  if (keys.length === 0) return { accounts: new Map(), latestLineAt: new Map() };
  const { rows } = await db.query(
    `${POSTING_ACCOUNTS_SELECT}
      where a.book_id = any($1::uuid[]) and a.id = any($2::uuid[])
      order by a.book_id, a.id
      for no key update of a`,
    anyKeys(keys),
  );
  return {
    accounts: postingAccountsOf(rows),
    latestLineAt: latestLinesOf(rows),
  };
}

/**
 * Every account of a book as the posting engine reads it (see PostingCache's preload), or null when
 * the book has more than `limit`. One statement: one snapshot.
 */
export async function readBookAccountsForPosting(
  db: Queryable,
  bookId: string,
  limit: number,
): Promise<{ accounts: Map<string, PostingAccount>; latestLineAt: Map<string, number> } | null> {
  const { rows } = await db.query(
    `${POSTING_ACCOUNTS_SELECT}
      where a.book_id = $1 limit $2`,
    [bookId, limit + 1],
  );
  if (rows.length > limit) return null;
  return { accounts: postingAccountsOf(rows), latestLineAt: latestLinesOf(rows) };
}

/** A posted movement of an account by one entry: net debits (debits less credits) of its lines. */
export interface LineMovement {
  bookId: string;
  accountId: string;
  atMs: number;
  seq: bigint;
  /** NUMERIC text, converted by the caller at the account's scale. */
  netDebit: string;
}

/**
 * Posted movements of accounts after an instant each (exclusive), one per entry, in (effective
 * instant, seq) order: what the posting engine checks a backdated entry against. Only called
 * for bounded accounts that have a line later than an entry being posted.
 */
export async function laterMovements(
  db: Queryable,
  wanted: { bookId: string; accountId: string; afterMs: number }[],
): Promise<LineMovement[]> {
  if (wanted.length === 0) return [];
  const { rows } = await db.query(
    `select l.book_id, l.account_id, ${ms('l.effective_at')} as at, l.seq::text as seq,
            sum(case when l.side = 'DEBIT' then l.amount else -l.amount end)::text as net_debit
       from unnest($1::uuid[], $2::uuid[], $3::bigint[]) as c(b, a, t)
       join journal_line l
         on l.book_id = c.b and l.account_id = c.a
        and l.effective_at > (timestamptz 'epoch' + c.t * interval '1 millisecond')
      where l.phase = 'POSTED'
      group by l.book_id, l.account_id, l.effective_at, l.seq
      order by l.book_id, l.account_id, l.effective_at, l.seq`,
    [wanted.map((w) => w.bookId), wanted.map((w) => w.accountId), wanted.map((w) => String(w.afterMs))],
  );
  return rows.map((r) => ({
    bookId: r.book_id,
    accountId: r.account_id,
    atMs: Number(r.at),
    seq: BigInt(r.seq),
    netDebit: r.net_debit,
  }));
}

export async function findAccounts(
  db: Queryable,
  keys: { bookId: string; id: string }[],
): Promise<AccountRow[]> {
  if (keys.length === 0) return [];
  const { rows } = await db.query(
    `select ${ACCOUNT_COLUMNS}
       from account a join book_unit u on u.book_id = a.book_id and u.code = a.unit_code
      where a.book_id = any($1::uuid[]) and a.id = any($2::uuid[])`,
    anyKeys(keys),
  );
  return rows.map(accountFromRow);
}

export interface AccountListOptions {
  afterCode: string | null;
  limit: number;
  includeClosed: boolean;
  type: AccountType | null;
  /** When given, only children of this account (null: only top-level accounts). */
  parentId?: string | null;
}

export async function listAccounts(
  db: Queryable,
  bookId: string,
  options: AccountListOptions,
): Promise<AccountRow[]> {
  const params: unknown[] = [bookId, options.afterCode, options.limit, options.includeClosed, options.type];
  let parentFilter = '';
  if (options.parentId !== undefined) {
    params.push(options.parentId);
    parentFilter = `and a.parent_id is not distinct from $${params.length}::uuid`;
  }
  const { rows } = await db.query(
    `select ${ACCOUNT_COLUMNS}
       from account a join book_unit u on u.book_id = a.book_id and u.code = a.unit_code
      where a.book_id = $1 and ($2::text is null or a.code > $2)
        and ($4 or a.closed_at is null) and ($5::text is null or a.type = $5) ${parentFilter}
      order by a.code limit $3`,
    params,
  );
  return rows.map(accountFromRow);
}

export const ENTRY_COLUMNS = `e.book_id, e.id, e.seq::text as seq, e.kind, e.idempotency_key, e.request_hash,
  ${ms('e.effective_at')} as effective_at, ${ms('e.recorded_at')} as recorded_at, e.memo, e.metadata,
  e.reverses_id, e.pending_id, ${ms('e.expires_at')} as expires_at, e.posted_by, e.prev_hash, e.hash`;

export const LINES_JSON = `coalesce((select json_agg(json_build_array(l.line_no, l.account_id, l.side, l.amount::text, l.unit_code, u.scale, l.phase) order by l.line_no)
    from journal_line l join book_unit u on u.book_id = l.book_id and u.code = l.unit_code
   where l.book_id = e.book_id and l.entry_id = e.id), '[]'::json) as lines`;

type RawLine = [number, string, Side, string, string, number, 'POSTED' | 'PENDING'];

export function entryFromRow(row: Record<string, unknown>): EntryRecord {
  const lines = (row.lines as RawLine[]).map(([lineNo, accountId, side, amount, unitCode, scale, phase]) => ({
    lineNo,
    accountId,
    side,
    amount: new Decimal(amount),
    unitCode,
    scale,
    phase,
  }));
  return {
    bookId: row.book_id as string,
    id: row.id as string,
    seq: row.seq as string,
    kind: row.kind as EntryKind,
    idempotencyKey: row.idempotency_key as string,
    requestHash: row.request_hash as string,
    effectiveAt: toDate(row.effective_at as string)!,
    recordedAt: toDate(row.recorded_at as string)!,
    memo: row.memo as string,
    metadata: row.metadata as Record<string, string>,
    reversesId: (row.reverses_id as string | null) ?? null,
    pendingId: (row.pending_id as string | null) ?? null,
    expiresAt: toDate(row.expires_at as string | null),
    postedBy: (row.posted_by as string | null) ?? null,
    prevHash: row.prev_hash as string,
    hash: row.hash as string,
    lines,
  };
}

export async function findEntries(
  db: Queryable,
  keys: { bookId: string; id: string }[],
): Promise<EntryRecord[]> {
  if (keys.length === 0) return [];
  const { rows } = await db.query(
    `select ${ENTRY_COLUMNS}, ${LINES_JSON}
       from journal_entry e
      where e.book_id = any($1::uuid[]) and e.id = any($2::uuid[])`,
    anyKeys(keys),
  );
  return rows.map(entryFromRow);
}

export interface EntryLinks {
  reversedBy: string | null;
  resolvedBy: string | null;
  resolutionKind: 'COMMIT' | 'VOID' | null;
}

/** Entries that reverse or resolve the entries in `ids` (SQL expressions of uuid arrays). */
function linksSql(bookIds: string, ids: string): string {
  return `select r.book_id, coalesce(r.reverses_id, r.pending_id) as target, r.id, r.kind
       from journal_entry r
      where r.book_id = any(${bookIds}) and (r.reverses_id = any(${ids}) or r.pending_id = any(${ids}))`;
}

function linksFromRows(
  keys: { bookId: string; id: string }[],
  rows: Record<string, unknown>[],
): Map<string, EntryLinks> {
  const out = new Map<string, EntryLinks>();
  for (const k of keys)
    out.set(`${k.bookId}/${k.id}`, { reversedBy: null, resolvedBy: null, resolutionKind: null });
  for (const r of rows) {
    const links = out.get(`${r.book_id}/${r.target}`);
    if (!links) continue;
    if (r.kind === 'REVERSAL') links.reversedBy = r.id as string;
    else {
      links.resolvedBy = r.id as string;
      links.resolutionKind = r.kind as 'COMMIT' | 'VOID';
    }
  }
  return out;
}

/** Which entries reverse or resolve the given ones (the other half of the two-way links). */
export async function findEntryLinks(
  db: Queryable,
  keys: { bookId: string; id: string }[],
): Promise<Map<string, EntryLinks>> {
  if (keys.length === 0) return new Map();
  const { rows } = await db.query(linksSql('$1::uuid[]', '$2::uuid[]'), anyKeys(keys));
  return linksFromRows(keys, rows);
}

/**
 * A line decided by the posting engine: a LineRecord that also says when it counts and holds its
 * amount in minor units of its unit (`minor`), which is what the engine computes and writes with.
 */
export interface NewLine extends LineRecord {
  effectiveAt: Date;
  minor: bigint;
  /** The amount at its unit's scale, as formatMinor(minor, scale) writes it. */
  amountText: string;
}

export interface NewEntry extends Omit<EntryRecord, 'lines'> {
  lines: NewLine[];
}

export interface AccountUpdate {
  bookId: string;
  id: string;
  /** New totals, in minor units of the account's unit. */
  postedDebits: bigint;
  postedCredits: bigint;
  pendingDebits: bigint;
  pendingCredits: bigint;
  /** The account as it was read: the write changes it only if it still is (compare-and-set). */
  expected: PostingAccount;
}

/** A book as a write expects to find it: its version and its chain head's hash. */
export interface ExpectedHead {
  version: bigint;
  hash: string;
}

/**
 * A book's new chain head, written only if the book's version is still `expectedVersion` and its
 * chain head still `expectedHash`. The version alone would do for a write decided on what was
 * read; the hash also ties a write decided on another write still in flight (see
 * PostingEngine.optimisticFlush) to that very write: should it fail and another write of the same
 * version commit instead, this one cannot chain onto a head that never was.
 */
export interface HeadUpdate {
  bookId: string;
  expectedVersion: bigint;
  expectedHash: string;
  entrySeq: bigint;
  lastHash: string;
}

/** A refusal decided under the book lock, remembered under its idempotency key (journal_refusal). */
export interface Refusal {
  bookId: string;
  idempotencyKey: string;
  requestHash: string;
  code: string;
  message: string;
  field: string | null;
}

export interface DayTotal {
  bookId: string;
  accountId: string;
  day: string;
  /** Minor units at `scale`. */
  debits: bigint;
  credits: bigint;
  scale: number;
}

const at = (p: string) => `(timestamptz 'epoch' + ${p} * interval '1 millisecond')`;

/** What the write's key guard reports (ledger_stale's message), see writeEntries' guardKeys. */
const KEY_GUARD = 'an idempotency key decided before';
export const KEY_GUARD_MESSAGE = `ledger: ${KEY_GUARD} changed since it was read`;

const WRITE_ENTRIES_SQL = `with
     e as (
       insert into journal_entry (book_id, id, seq, kind, idempotency_key, request_hash, effective_at, recorded_at,
           memo, metadata, reverses_id, pending_id, expires_at, posted_by, prev_hash, hash)
       select b, i, s, k, ik, rh, ${at('ea')}, ${at('ra')}, m, md::jsonb, rv, pd, ${at('ex')}, pb, ph, h
         from unnest($1::uuid[], $2::uuid[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::bigint[],
                     $8::bigint[], $9::text[], $10::text[], $11::uuid[], $12::uuid[], $13::bigint[], $14::text[],
                     $15::text[], $16::text[])
           as v(b, i, s, k, ik, rh, ea, ra, m, md, rv, pd, ex, pb, ph, h)
       returning 1),
     l as (
       insert into journal_line (book_id, entry_id, line_no, account_id, side, amount, unit_code, effective_at, phase, seq)
       select b, e, n, a, s, amt, u, ${at('ea')}, ph, sq
         from unnest($17::uuid[], $18::uuid[], $19::smallint[], $20::uuid[], $21::text[], $22::numeric[], $23::text[],
                     $24::bigint[], $25::text[], $26::bigint[]) as v(b, e, n, a, s, amt, u, ea, ph, sq)
       returning 1),
     h as (
       update book b set version = b.version + 1, entry_seq = v.s, last_hash = v.h
         from unnest($38::uuid[], $39::bigint[], $40::text[], $53::bigint[], $62::text[]) as v(i, s, h, ev, eh)
        where b.id = v.i and b.version = v.ev and b.last_hash = v.eh
       returning 1),
     a as (
       update account a set posted_debits = v.pd, posted_credits = v.pc, pending_debits = v.ped, pending_credits = v.pec
         from unnest($27::uuid[], $28::uuid[], $29::numeric[], $30::numeric[], $31::numeric[], $32::numeric[],
                     $54::numeric[], $55::numeric[], $56::numeric[], $57::numeric[], $58::boolean[], $59::numeric[],
                     $60::numeric[])
           as v(b, i, pd, pc, ped, pec, opd, opc, oped, opec, oc, olb, oub)
        where a.book_id = v.b and a.id = v.i
          and a.posted_debits = v.opd and a.posted_credits = v.opc
          and a.pending_debits = v.oped and a.pending_credits = v.opec and (a.closed_at is not null) = v.oc
          and a.lower_bound is not distinct from v.olb and a.upper_bound is not distinct from v.oub
          -- the book's row first, like every writer of the book
          and (select count(*) from h) > 0
       returning 1),
     d as (
       insert into account_day_total as t (book_id, account_id, day, debits, credits)
       select * from unnest($33::uuid[], $34::uuid[], $35::date[], $36::numeric[], $37::numeric[])
       on conflict (book_id, account_id, day)
       do update set debits = t.debits + excluded.debits, credits = t.credits + excluded.credits
       returning 1),
     po as (
       insert into pending_open (book_id, entry_id, expires_at)
       select b, i, ${at('ex')} from unnest($41::uuid[], $42::uuid[], $43::bigint[]) as v(b, i, ex)
       returning 1),
     pc as (
       delete from pending_open p using unnest($44::uuid[], $45::uuid[]) as v(b, i)
        where p.book_id = v.b and p.entry_id = v.i
       returning 1),
     rf as (
       insert into journal_refusal (book_id, idempotency_key, request_hash, code, message, field, recorded_at)
       select b, k, rh, c, m, f, ${at('$52')}
         from unnest($46::uuid[], $47::text[], $48::text[], $49::text[], $50::text[], $51::text[]) as v(b, k, rh, c, m, f)
       returning 1)
     select case
              when (select count(*) from h) <> cardinality($38::uuid[]) then ledger_stale('the book')
              when (select count(*) from a) <> cardinality($27::uuid[]) then ledger_stale('an account')
              -- decided without reading the keys (guardKeys): none of them was refused before
              when $61::boolean and exists (
                     select 1 from journal_refusal r
                      where r.book_id = any($1::uuid[]) and r.idempotency_key = any($5::text[]))
                then ledger_stale('${KEY_GUARD}')
              else 0 end as stale,
            (select count(*) from e) as entries, (select count(*) from l) as lines, (select count(*) from a) as accounts,
            (select count(*) from h) as heads, (select count(*) from pc) as resolved, (select count(*) from rf) as refusals`;

/**
 * Writes a group of accepted entries, and the refusals decided with them, in ONE statement
 * (data-modifying CTEs), whatever the number of entries: one round trip instead of one per table.
 * Foreign-key checks run at the end of the statement, so lines may reference entries inserted by
 * the same statement.
 *
 * Compare-and-set: every book written (`heads`: each book with an entry or a refusal) moves to
 * its new chain head and version only if its version and chain head are still those the group was
 * decided on, and every account only if it still is as read (totals, closed, bounds); the book's
 * row is updated first, so writers of one book queue on it. Otherwise the statement fails with
 * SQLSTATE 40001 (`ledger_stale`) and writes nothing: the engine reads again and decides again.
 * Sent outside a transaction, the statement commits at once: the book's row is locked only while
 * it runs.
 *
 * `guardKeys`: the entries were decided without reading their keys' earlier decisions (see
 * PostingCache). A key already posted fails the statement on journal_entry's unique key (23505);
 * one already refused fails it as stale (40001), here. (Any entry's key against any book of the
 * group: a key refused in another book of the same group fails it too, and the engine reads.)
 */
export async function writeEntries(
  db: Queryable,
  entries: NewEntry[],
  accounts: AccountUpdate[],
  dayTotals: DayTotal[],
  heads: HeadUpdate[],
  refusals: Refusal[] = [],
  recordedAt: Date = new Date(),
  guardKeys = false,
): Promise<void> {
  if (entries.length === 0 && refusals.length === 0) return;
  // Every array parameter is written as its PostgreSQL literal in one pass over the group (see
  // ArrayLiteral), instead of ~60 JavaScript arrays that the driver then escaped element by element.
  // Each literal's elements are counted first, so its array is made at its size once (not grown
  // by doubling, which for a batch of 500 entries made and dropped ~25 arrays of up to 1,000).
  // Indexed loops: this runs a few times a second, seldom optimised, and a for-of that is not
  // makes an iterator result per element.
  let lineCount = 0;
  for (let i = 0; i < entries.length; i++) lineCount += entries[i]!.lines.length;
  const E = entries.length;
  const L = lineCount;
  const A = accounts.length;
  const e = {
    book: new ArrayLiteral(E),
    id: new ArrayLiteral(E),
    seq: new ArrayLiteral(E),
    kind: new ArrayLiteral(E),
    key: new ArrayLiteral(E),
    requestHash: new ArrayLiteral(E),
    effectiveAt: new ArrayLiteral(E),
    recordedAt: new ArrayLiteral(E),
    memo: new ArrayLiteral(E),
    metadata: new ArrayLiteral(E),
    reversesId: new ArrayLiteral(E),
    pendingId: new ArrayLiteral(E),
    expiresAt: new ArrayLiteral(E),
    postedBy: new ArrayLiteral(E),
    prevHash: new ArrayLiteral(E),
    hash: new ArrayLiteral(E),
  };
  const l = {
    book: new ArrayLiteral(L),
    entry: new ArrayLiteral(L),
    lineNo: new ArrayLiteral(L),
    account: new ArrayLiteral(L),
    side: new ArrayLiteral(L),
    amount: new ArrayLiteral(L),
    unit: new ArrayLiteral(L),
    effectiveAt: new ArrayLiteral(L),
    phase: new ArrayLiteral(L),
    seq: new ArrayLiteral(L),
  };
  const opened = { book: new ArrayLiteral(), id: new ArrayLiteral(), expiresAt: new ArrayLiteral() };
  const resolved = { book: new ArrayLiteral(), pendingId: new ArrayLiteral() };
  const EMPTY_METADATA = '{}';
  // Instants as epoch-millisecond text, written once per Date: a group's entries share their
  // recorded instant and most of them their effective one (the same Date).
  const msText = new MsText();
  for (let i = 0; i < E; i++) {
    const entry = entries[i]!;
    const effectiveAt = msText.of(entry.effectiveAt);
    const expiresAt = entry.expiresAt ? String(entry.expiresAt.getTime()) : null;
    e.book.raw(entry.bookId);
    e.id.raw(entry.id);
    e.seq.raw(entry.seq);
    e.kind.raw(entry.kind);
    e.key.text(entry.idempotencyKey);
    e.requestHash.raw(entry.requestHash);
    e.effectiveAt.raw(effectiveAt);
    e.recordedAt.raw(msText.of(entry.recordedAt));
    e.memo.text(entry.memo);
    e.metadata.text(hasKeys(entry.metadata) ? JSON.stringify(entry.metadata) : EMPTY_METADATA);
    e.reversesId.rawOrNull(entry.reversesId);
    e.pendingId.rawOrNull(entry.pendingId);
    e.expiresAt.rawOrNull(expiresAt);
    e.postedBy.text(entry.postedBy);
    e.prevHash.raw(entry.prevHash);
    e.hash.raw(entry.hash);
    const lines = entry.lines;
    for (let j = 0; j < lines.length; j++) {
      const line = lines[j]!;
      l.book.raw(entry.bookId);
      l.entry.raw(entry.id);
      l.lineNo.raw(String(line.lineNo));
      l.account.raw(line.accountId);
      l.side.raw(line.side);
      l.amount.raw(line.amountText);
      l.unit.text(line.unitCode);
      l.effectiveAt.raw(
        line.effectiveAt === entry.effectiveAt ? effectiveAt : String(line.effectiveAt.getTime()),
      );
      l.phase.raw(line.phase);
      l.seq.raw(entry.seq);
    }
    if (entry.kind === 'PENDING') {
      opened.book.raw(entry.bookId);
      opened.id.raw(entry.id);
      opened.expiresAt.rawOrNull(expiresAt);
    }
    if (entry.pendingId !== null) {
      resolved.book.raw(entry.bookId);
      resolved.pendingId.raw(entry.pendingId);
    }
  }
  const a = {
    book: new ArrayLiteral(A),
    id: new ArrayLiteral(A),
    pd: new ArrayLiteral(A),
    pc: new ArrayLiteral(A),
    ped: new ArrayLiteral(A),
    pec: new ArrayLiteral(A),
    opd: new ArrayLiteral(A),
    opc: new ArrayLiteral(A),
    oped: new ArrayLiteral(A),
    opec: new ArrayLiteral(A),
    closed: new ArrayLiteral(A),
    lower: new ArrayLiteral(A),
    upper: new ArrayLiteral(A),
  };
  for (let i = 0; i < A; i++) {
    const u = accounts[i]!;
    const x = u.expected;
    const scale = x.unit.scale;
    // The expected values as read (the text PostgreSQL sent, when `expected` is the account as
    // read), and each new total that did not change as that same text: only the totals an entry
    // moved are written from minor units.
    const read = x instanceof PostingAccountRow ? x : null;
    const opd = read?.readText('postedDebits', x.postedDebits) ?? formatMinor(x.postedDebits, scale);
    const opc = read?.readText('postedCredits', x.postedCredits) ?? formatMinor(x.postedCredits, scale);
    const oped = read?.readText('pendingDebits', x.pendingDebits) ?? formatMinor(x.pendingDebits, scale);
    const opec = read?.readText('pendingCredits', x.pendingCredits) ?? formatMinor(x.pendingCredits, scale);
    a.book.raw(u.bookId);
    a.id.raw(u.id);
    a.pd.raw(u.postedDebits === x.postedDebits ? opd : formatMinor(u.postedDebits, scale));
    a.pc.raw(u.postedCredits === x.postedCredits ? opc : formatMinor(u.postedCredits, scale));
    a.ped.raw(u.pendingDebits === x.pendingDebits ? oped : formatMinor(u.pendingDebits, scale));
    a.pec.raw(u.pendingCredits === x.pendingCredits ? opec : formatMinor(u.pendingCredits, scale));
    a.opd.raw(opd);
    a.opc.raw(opc);
    a.oped.raw(oped);
    a.opec.raw(opec);
    a.closed.raw(x.closed ? 't' : 'f');
    a.lower.rawOrNull(
      x.lowerBound === null
        ? null
        : (read?.readText('lowerBound', x.lowerBound) ?? formatMinor(x.lowerBound, scale)),
    );
    a.upper.rawOrNull(
      x.upperBound === null
        ? null
        : (read?.readText('upperBound', x.upperBound) ?? formatMinor(x.upperBound, scale)),
    );
  }
  const d = {
    book: new ArrayLiteral(dayTotals.length),
    account: new ArrayLiteral(dayTotals.length),
    day: new ArrayLiteral(dayTotals.length),
    debits: new ArrayLiteral(dayTotals.length),
    credits: new ArrayLiteral(dayTotals.length),
  };
  for (let i = 0; i < dayTotals.length; i++) {
    const t = dayTotals[i]!;
    d.book.raw(t.bookId);
    d.account.raw(t.accountId);
    d.day.raw(t.day);
    d.debits.raw(formatMinor(t.debits, t.scale));
    d.credits.raw(formatMinor(t.credits, t.scale));
  }
  const h = {
    book: new ArrayLiteral(heads.length),
    seq: new ArrayLiteral(heads.length),
    hash: new ArrayLiteral(heads.length),
    version: new ArrayLiteral(heads.length),
    expectedHash: new ArrayLiteral(heads.length),
  };
  for (let i = 0; i < heads.length; i++) {
    const head = heads[i]!;
    h.book.raw(head.bookId);
    h.seq.raw(head.entrySeq.toString());
    h.hash.raw(head.lastHash);
    h.version.raw(head.expectedVersion.toString());
    h.expectedHash.raw(head.expectedHash);
  }
  const r = {
    book: new ArrayLiteral(refusals.length),
    key: new ArrayLiteral(refusals.length),
    requestHash: new ArrayLiteral(refusals.length),
    code: new ArrayLiteral(refusals.length),
    message: new ArrayLiteral(refusals.length),
    field: new ArrayLiteral(refusals.length),
  };
  for (let i = 0; i < refusals.length; i++) {
    const refusal = refusals[i]!;
    r.book.raw(refusal.bookId);
    r.key.text(refusal.idempotencyKey);
    r.requestHash.raw(refusal.requestHash);
    r.code.raw(refusal.code);
    r.message.text(refusal.message);
    r.field.text(refusal.field);
  }
  await db.query({
    // Named: each pooled connection parses and plans this statement once, not on every flush.
    name: 'ledger-write-entries',
    text: WRITE_ENTRIES_SQL,
    values: [
      e.book.done(),
      e.id.done(),
      e.seq.done(),
      e.kind.done(),
      e.key.done(),
      e.requestHash.done(),
      e.effectiveAt.done(),
      e.recordedAt.done(),
      e.memo.done(),
      e.metadata.done(),
      e.reversesId.done(),
      e.pendingId.done(),
      e.expiresAt.done(),
      e.postedBy.done(),
      e.prevHash.done(),
      e.hash.done(),
      l.book.done(),
      l.entry.done(),
      l.lineNo.done(),
      l.account.done(),
      l.side.done(),
      l.amount.done(),
      l.unit.done(),
      l.effectiveAt.done(),
      l.phase.done(),
      l.seq.done(),
      a.book.done(),
      a.id.done(),
      a.pd.done(),
      a.pc.done(),
      a.ped.done(),
      a.pec.done(),
      d.book.done(),
      d.account.done(),
      d.day.done(),
      d.debits.done(),
      d.credits.done(),
      h.book.done(),
      h.seq.done(),
      h.hash.done(),
      opened.book.done(),
      opened.id.done(),
      opened.expiresAt.done(),
      resolved.book.done(),
      resolved.pendingId.done(),
      r.book.done(),
      r.key.done(),
      r.requestHash.done(),
      r.code.done(),
      r.message.done(),
      r.field.done(),
      String(recordedAt.getTime()),
      h.version.done(),
      a.opd.done(),
      a.opc.done(),
      a.oped.done(),
      a.opec.done(),
      a.closed.done(),
      a.lower.done(),
      a.upper.done(),
      guardKeys,
      h.expectedHash.done(),
    ],
  });
}

/** String(date.getTime()), remembered for the last two Dates seen (and their instants). */
class MsText {
  private a: Date | null = null;
  private aMs = 0;
  private aText = '';
  private b: Date | null = null;
  private bMs = 0;
  private bText = '';

  of(date: Date): string {
    const ms = date.getTime();
    if (date === this.a && ms === this.aMs) return this.aText;
    if (date === this.b && ms === this.bMs) return this.bText;
    const text = String(ms);
    this.b = this.a;
    this.bMs = this.aMs;
    this.bText = this.aText;
    this.a = date;
    this.aMs = ms;
    this.aText = text;
    return text;
  }
}

function hasKeys(object: Record<string, string>): boolean {
  for (const _ in object) return true;
  return false;
}

const NEEDS_ESCAPE = /["\\]/;

/**
 * A one-dimensional PostgreSQL array literal (`{a,"b c",NULL}`), built element by element.
 * `raw` is for elements that need no quoting: uuids, integers, decimals written by formatMinor or
 * toFixed, hex digests, dates, and the engine's own enum words (never the word NULL, never empty,
 * no commas, quotes, braces, backslashes or spaces). Everything else, anything a client wrote or
 * a unit code (which could be spelled NULL), goes through `text`, which quotes and escapes it.
 */
/** An array literal of uuids (each already validated as one). */
function uuidLiteral(ids: readonly string[]): string {
  return `{${ids.join(',')}}`;
}

/** An array literal of texts, each quoted and escaped. */
function textLiteral(values: readonly string[]): string {
  const literal = new ArrayLiteral();
  for (const value of values) literal.text(value);
  return literal.done();
}

export class ArrayLiteral {
  // The elements, joined once by done(): one flat string, not a chain of concatenations. Made at
  // the size given when it is known (filled up to `size`, grown past it as any array).
  private readonly parts: string[];
  private size = 0;
  // The last text quoted and its quoted form: a column repeats the same text (a unit code, the
  // poster, an empty memo) element after element.
  private lastText: string | null = null;
  private lastQuoted = '';

  constructor(capacity = 0) {
    this.parts = capacity > 0 ? new Array<string>(capacity) : [];
  }

  raw(token: string): void {
    this.parts[this.size++] = token;
  }

  rawOrNull(token: string | null): void {
    this.parts[this.size++] = token === null ? 'NULL' : token;
  }

  text(value: string | null): void {
    if (value === null) {
      this.parts[this.size++] = 'NULL';
      return;
    }
    if (value !== this.lastText) {
      this.lastText = value;
      this.lastQuoted = NEEDS_ESCAPE.test(value)
        ? `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`
        : `"${value}"`;
    }
    this.parts[this.size++] = this.lastQuoted;
  }

  /** The literal: call once, after the last element. */
  done(): string {
    // `{` + the elements joined + `}`, with the braces put on the first and last elements so the
    // joined text is the literal itself (no second copy of it).
    const parts = this.parts;
    const n = this.size;
    if (n === 0) return '{}';
    // A capacity larger than what was written would join empty elements: cut it to size.
    if (parts.length !== n) parts.length = n;
    if (n === 1) return `{${parts[0]}}`;
    parts[0] = `{${parts[0]}`;
    parts[n - 1] = `${parts[n - 1]}}`;
    return parts.join(',');
  }
}

/**
 * Runs `work` on a savepoint of the transaction: when the database refuses it, its writes alone are
 * undone and the refusal is returned; the transaction goes on. Connection failures, serialization
 * failures and deadlocks are thrown: they are the whole transaction's, not the work's.
 */
export async function onSavepoint(
  client: PoolClient,
  work: () => Promise<void>,
): Promise<{ error: unknown } | null> {
  await client.query('savepoint posting_item');
  try {
    await work();
    await client.query('release savepoint posting_item');
    return null;
  } catch (error) {
    if (isConnectionError(error) || isRetryable(error)) throw error;
    await client.query('rollback to savepoint posting_item; release savepoint posting_item');
    return { error };
  }
}

/** Open pending entries whose expiry has passed, oldest first. */
export async function findExpiredPending(
  db: Queryable,
  now: Date,
  limit: number,
): Promise<{ bookId: string; id: string }[]> {
  const { rows } = await db.query(
    `select book_id, entry_id from pending_open
      where expires_at <= (timestamptz 'epoch' + $1::bigint * interval '1 millisecond')
      order by expires_at limit $2`,
    [String(now.getTime()), limit],
  );
  return rows.map((r) => ({ bookId: r.book_id, id: r.entry_id }));
}

/** A SQL array literal of uuids; each id must already be validated as a uuid. */
function uuidArray(ids: string[]): string {
  return `array[${ids.map((id) => escapeLiteral(id)).join(',')}]::uuid[]`;
}

function textArray(values: string[]): string {
  return `array[${values.map((v) => escapeLiteral(v)).join(',')}]::text[]`;
}

/**
 * What a posting flush reads. Keys and accounts are given as their distinct books and their
 * distinct keys / ids (looked up as `book_id = any(books) and key = any(keys)`, see anyKeys;
 * callers look results up by the exact pair).
 */
export interface LockPhaseRequest {
  bookIds: string[];
  keyBooks: string[];
  keys: string[];
  targets: { bookId: string; id: string }[];
  accountBooks: string[];
  accountIds: string[];
}

/** What a key was decided as before: the entry it posted, or the refusal it was answered with. */
export type KeyDecision =
  | { id: string; requestHash: string; refusal: null }
  | { id: null; requestHash: string; refusal: { code: string; message: string; field: string | null } };

export interface LockPhaseResult {
  books: Map<string, BookHead>;
  existingKeys: Map<string, KeyDecision>;
  targets: EntryRecord[];
  links: Map<string, EntryLinks>;
  accounts: Map<string, PostingAccount>;
  /** Instant (ms) of the latest line of each locked bounded account that has lines. */
  latestLineAt: Map<string, number>;
}

/**
 * Opens the transaction and does every read of a posting flush in ONE round trip (a multi-statement
 * simple query, so values are inlined as escaped literals; ids are validated uuids): BEGIN, lock the
 * books' chain heads in id order, then (under that lock, so no other writer can interleave) look
 * up idempotency keys, the entries that reversals and resolutions refer to, their links, and lock
 * the accounts the new entries name. Statements with nothing to look up are left out.
 *
 * The posting engine's locking way, for what runs inside a transaction of its own (a co-op's
 * operation with its entries, a group posted again with its items isolated, a group that kept
 * losing its compare-and-set); the optimistic way reads with readPhase instead.
 */
export async function lockPhase(client: PoolClient, r: LockPhaseRequest): Promise<LockPhaseResult> {
  const statements = [
    'begin',
    `select ${BOOK_COLUMNS} from book where id = any(${uuidArray(r.bookIds)}) order by id for no key update`,
  ];
  const { keyBooks, keys: keyValues, accountBooks, accountIds } = r;
  const [targetBooks, targetIds] = anyKeys(r.targets);
  const at = { keys: -1, targets: -1, links: -1, accounts: -1 };
  if (keyValues.length > 0) {
    at.keys = statements.length;
    statements.push(keysSql(uuidArray(keyBooks), textArray(keyValues)));
  }
  if (targetIds.length > 0) {
    at.targets = statements.length;
    statements.push(
      `select ${ENTRY_COLUMNS}, ${LINES_JSON} from journal_entry e
        where e.book_id = any(${uuidArray(targetBooks)}) and e.id = any(${uuidArray(targetIds)})`,
    );
    at.links = statements.length;
    statements.push(linksSql(uuidArray(targetBooks), uuidArray(targetIds)));
  }
  if (accountIds.length > 0) {
    at.accounts = statements.length;
    statements.push(
      `${POSTING_ACCOUNTS_SELECT}
        where a.book_id = any(${uuidArray(accountBooks)}) and a.id = any(${uuidArray(accountIds)})
        order by a.book_id, a.id for no key update of a`,
    );
  }
  const results = (await client.query(statements.join(';\n'))) as unknown as {
    rows: Record<string, unknown>[];
  }[];
  const rowsAt = (index: number) => (index < 0 ? [] : results[index]!.rows);
  return lockPhaseResult(
    results[1]!.rows,
    rowsAt(at.keys),
    rowsAt(at.targets),
    rowsAt(at.links),
    rowsAt(at.accounts),
  );
}

/** Previous decisions of idempotency keys: the entries they posted, the refusals they got. */
function keysSql(bookIds: string, keys: string): string {
  return `select e.book_id, e.idempotency_key, e.id, e.request_hash, null as code, null as message, null as field
       from journal_entry e
      where e.book_id = any(${bookIds}) and e.idempotency_key = any(${keys})
     union all
     select r.book_id, r.idempotency_key, null, r.request_hash, r.code, r.message, r.field
       from journal_refusal r
      where r.book_id = any(${bookIds}) and r.idempotency_key = any(${keys})`;
}

function lockPhaseResult(
  bookRows: Record<string, unknown>[],
  keyRows: Record<string, unknown>[],
  targetRows: Record<string, unknown>[],
  linkRows: Record<string, unknown>[],
  accountRows: Record<string, unknown>[],
): LockPhaseResult {
  const books = new Map(bookRows.map((row) => [row.id as string, bookFromRow(row)]));
  const existingKeys = new Map<string, KeyDecision>(
    keyRows.map((row) => [
      `${row.book_id}/${row.idempotency_key}`,
      row.id === null
        ? {
            id: null,
            requestHash: row.request_hash as string,
            refusal: {
              code: row.code as string,
              message: row.message as string,
              field: (row.field as string | null) ?? null,
            },
          }
        : { id: row.id as string, requestHash: row.request_hash as string, refusal: null },
    ]),
  );
  const targets = targetRows.map(entryFromRow);
  const links = linksFromRows(targets, linkRows);
  const accounts = postingAccountsOf(accountRows);
  return { books, existingKeys, targets, links, accounts, latestLineAt: latestLinesOf(accountRows) };
}

const jsonRows = (select: string) =>
  `(select coalesce(json_agg(row_to_json(x)), '[]'::json) from (${select}) x)`;

/**
 * readPhase's statement, with or without the reads of target entries and their links. With them,
 * the accounts read are also those of the targets' lines: a commit or void moves them, and read by
 * a statement of their own they could show another writer's resolution
 * of the same entry that this statement's links do not, so that the entry was released or posted
 * twice in the decision (an invariant failure, answered as an internal error) before the write's
 * compare-and-set could find the book changed.
 */
function readPhaseSql(withTargets: boolean): string {
  const targetAccounts = withTargets
    ? `
           or (a.book_id = any($6::uuid[]) and a.id = any(array(
                 select l.account_id from journal_line l
                  where l.book_id = any($6::uuid[]) and l.entry_id = any($7::uuid[]))))`
    : '';
  const columns = [
    `${jsonRows(`select ${BOOK_COLUMNS} from book where id = any($1::uuid[])`)} as books`,
    `${jsonRows(keysSql('$2::uuid[]', '$3::text[]'))} as keys`,
    `${jsonRows(
      `${POSTING_ACCOUNTS_SELECT}
        where (a.book_id = any($4::uuid[]) and a.id = any($5::uuid[]))${targetAccounts}`,
    )} as accounts`,
  ];
  if (withTargets) {
    columns.push(
      `${jsonRows(
        `select ${ENTRY_COLUMNS}, ${LINES_JSON} from journal_entry e
          where e.book_id = any($6::uuid[]) and e.id = any($7::uuid[])`,
      )} as targets`,
      `${jsonRows(linksSql('$6::uuid[]', '$7::uuid[]'))} as links`,
    );
  }
  return `select ${columns.join(',\n')}`;
}

const READ_PHASE_SQL = readPhaseSql(false);
const READ_PHASE_WITH_TARGETS_SQL = readPhaseSql(true);

/**
 * Every read of an optimistic posting flush in ONE statement without locks (one snapshot, so what
 * it returns is consistent), sent on its own (no transaction): the books' chain heads with their
 * versions, previous decisions of the keys, the accounts the entries name and, when the group acts
 * on entries, those entries, their links and the accounts of their lines. A named prepared
 * statement with arrays as parameters: each pooled connection plans it once, whatever the group.
 * The write (writeEntries) then compares and sets against what this read.
 */
export async function readPhase(db: Queryable, r: LockPhaseRequest): Promise<LockPhaseResult> {
  const { keyBooks, keys: keyValues, accountBooks, accountIds } = r;
  const withTargets = r.targets.length > 0;
  // Array literals written here (ids are validated uuids, keys quoted), not escaped by the driver
  // element by element.
  const values: unknown[] = [
    uuidLiteral(r.bookIds),
    uuidLiteral(keyBooks),
    textLiteral(keyValues),
    uuidLiteral(accountBooks),
    uuidLiteral(accountIds),
  ];
  if (withTargets) {
    const [targetBooks, targetIds] = anyKeys(r.targets);
    values.push(uuidLiteral(targetBooks), uuidLiteral(targetIds));
  }
  const { rows } = await db.query({
    name: withTargets ? 'ledger-read-phase-targets' : 'ledger-read-phase',
    text: withTargets ? READ_PHASE_WITH_TARGETS_SQL : READ_PHASE_SQL,
    values,
  });
  const row = rows[0] as Record<string, Record<string, unknown>[]>;
  return lockPhaseResult(row.books!, row.keys!, row.targets ?? [], row.links ?? [], row.accounts!);
}

/**
 * Whether the planner's statistics of the journal lag its size: never analyzed, or the live entries
 * are more than twice what the last ANALYZE counted (the statistics keeper's gate).
 */
export async function ledgerStatisticsStale(db: Queryable): Promise<boolean> {
  const { rows } = await db.query(
    `select c.reltuples::float8 as counted, coalesce(s.n_live_tup, 0)::float8 as live
       from pg_class c left join pg_stat_user_tables s on s.relid = c.oid
      where c.oid = 'journal_entry'::regclass`,
  );
  const row = rows[0] as { counted: number; live: number } | undefined;
  return row === undefined || row.counted < 0 || row.live > 2 * row.counted;
}

/** Refreshes planner statistics of the ledger tables (see the posting engine's statistics keeper). */
export async function analyzeLedgerTables(db: Queryable): Promise<void> {
  await db.query('analyze journal_entry, journal_line, account, account_day_total, pending_open');
}

export interface NewAccount {
  bookId: string;
  id: string;
  code: string;
  name: string;
  type: string;
  unitCode: string;
  parentId: string | null;
  lowerBound: string | null;
  upperBound: string | null;
}

/** Inserts an account; false when its code is already taken in the book. */
export async function insertAccount(db: Queryable, a: NewAccount): Promise<boolean> {
  try {
    await db.query(
      `insert into account (book_id, id, code, name, type, unit_code, parent_id, lower_bound, upper_bound, created_at)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9, now())`,
      [a.bookId, a.id, a.code, a.name, a.type, a.unitCode, a.parentId, a.lowerBound, a.upperBound],
    );
    return true;
  } catch (error) {
    if ((error as { code?: string }).code === '23505') return false;
    throw error;
  }
}

/**
 * The code of the first account below `accountId` (children, their children...) that holds a
 * posted balance or anything pending, or null when the whole branch below it is empty.
 */
export async function nonEmptyDescendant(
  db: Queryable,
  bookId: string,
  accountId: string,
): Promise<string | null> {
  const { rows } = await db.query(
    `with recursive tree(id) as (
       select id from account where book_id = $1 and parent_id = $2
       union
       select a.id from account a join tree t on a.book_id = $1 and a.parent_id = t.id
     )
     select a.code from account a join tree t on a.book_id = $1 and a.id = t.id
      where a.posted_debits <> a.posted_credits or a.pending_debits <> 0 or a.pending_credits <> 0
      order by a.code limit 1`,
    [bookId, accountId],
  );
  return rows[0]?.code ?? null;
}

export async function markAccountClosed(db: Queryable, bookId: string, accountId: string): Promise<void> {
  await db.query('update account set closed_at = now() where book_id = $1 and id = $2', [bookId, accountId]);
}

// ---------- building blocks other domains use inside their own transactions ----------

/**
 * A book row with its units, inside the caller's transaction (a co-op's book is made with its
 * co-op). `managedBy`: the domain that alone changes the book through its stewards (see
 * bookManagedBy).
 */
export async function insertBookRow(
  db: Queryable,
  book: {
    id: string;
    name: string;
    description: string;
    maxBackdateDays: number;
    genesisHash: string;
    managedBy?: 'credit';
  },
  units: { code: string; scale: number }[],
): Promise<void> {
  await db.query(
    `insert into book (id, name, description, max_backdate_days, entry_seq, last_hash, created_at, managed_by)
     values ($1, $2, $3, $4, 0, $5, now(), $6)`,
    [book.id, book.name, book.description, book.maxBackdateDays, book.genesisHash, book.managedBy ?? null],
  );
  await db.query(
    `insert into book_unit (book_id, code, scale)
     select $1, c, s from unnest($2::text[], $3::int[]) as x(c, s)`,
    [book.id, units.map((u) => u.code), units.map((u) => u.scale)],
  );
}

/**
 * The domain that manages the book (a network's book: 'credit'), or null; undefined for no such
 * book.
 */
export async function bookManagedBy(db: Queryable, bookId: string): Promise<string | null | undefined> {
  const { rows } = await db.query('select managed_by from book where id = $1', [bookId]);
  return rows.length === 0 ? undefined : ((rows[0]!.managed_by as string | null) ?? null);
}

/** Accounts of one unit inserted with one statement (a chart, or the accounts of many members). */
export async function insertAccounts(
  db: Queryable,
  bookId: string,
  unitCode: string,
  accounts: {
    id: string;
    code: string;
    name: string;
    type: AccountType;
    parentId?: string | null;
    lowerBound?: string | null;
  }[],
): Promise<void> {
  const column = <T>(f: (a: (typeof accounts)[number]) => T) => accounts.map(f);
  await db.query(
    `insert into account (book_id, id, code, name, type, unit_code, parent_id, lower_bound, created_at)
     select $1, i, c, n, t, $2, pa, lb, now()
       from unnest($3::uuid[], $4::text[], $5::text[], $6::text[], $7::uuid[], $8::numeric[]) as x(i, c, n, t, pa, lb)`,
    [
      bookId,
      unitCode,
      column((a) => a.id),
      column((a) => a.code),
      column((a) => a.name),
      column((a) => a.type),
      column((a) => a.parentId ?? null),
      column((a) => a.lowerBound ?? null),
    ],
  );
}

/** The entry posted with this idempotency key in the book, if any. */
export async function entryIdByKey(db: Queryable, bookId: string, key: string): Promise<string | null> {
  const { rows } = await db.query(
    'select id from journal_entry where book_id = $1 and idempotency_key = $2',
    [bookId, key],
  );
  return rows[0]?.id ?? null;
}

/** The UTC day of the latest posted line on these accounts (null when there is none). */
export async function latestLineDay(
  db: Queryable,
  bookId: string,
  accountIds: string[],
): Promise<string | null> {
  const { rows } = await db.query(
    `select to_char(max(effective_at) at time zone 'UTC', 'YYYY-MM-DD') as day from journal_line
      where book_id = $1 and account_id = any($2::uuid[])`,
    [bookId, accountIds],
  );
  return rows[0]?.day ?? null;
}

/** Entries with a line on any of these accounts, effective in [from, to), oldest first, at most `limit`. */
export async function entriesOnAccounts(
  db: Queryable,
  bookId: string,
  accountIds: string[],
  from: Date,
  to: Date,
  limit: number,
): Promise<EntryRecord[]> {
  const { rows } = await db.query(
    `select ${ENTRY_COLUMNS}, ${LINES_JSON} from journal_entry e
      where e.book_id = $1 and e.effective_at >= $3 and e.effective_at < $4
        and exists (select 1 from journal_line l where l.book_id = e.book_id and l.entry_id = e.id and l.account_id = any($2::uuid[]))
      order by e.effective_at, e.seq limit $5`,
    [bookId, accountIds, from, to, limit],
  );
  return rows.map(entryFromRow);
}
