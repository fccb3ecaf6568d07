/**
 * Hand-written, set-based SQL of the ledger. Every statement takes whole arrays (unnest) so a
 * group of entries costs a fixed number of round trips whatever its size. Numbers and instants are
 * read as text / epoch milliseconds so nothing passes through a JavaScript float.
 */
import type { Pool, PoolClient } from 'pg';
import type { AccountState, AccountType, EntryKind, Side } from '../ledger/index.js';
import { Decimal } from '../ledger/index.js';

export type Queryable = Pool | PoolClient;

export interface BookHead {
  id: string;
  entrySeq: bigint;
  lastHash: string;
  maxBackdateDays: number;
}

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
    `select id, entry_seq::text as entry_seq, last_hash, max_backdate_days
       from book where id = any($1::uuid[]) order by id for no key update`,
    [bookIds],
  );
  return new Map(
    rows.map((r) => [
      r.id,
      {
        id: r.id,
        entrySeq: BigInt(r.entry_seq),
        lastHash: r.last_hash,
        maxBackdateDays: Number(r.max_backdate_days),
      },
    ]),
  );
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
      where (a.book_id, a.id) in (select * from unnest($1::uuid[], $2::uuid[]))
      order by a.book_id, a.id
      for no key update of a`,
    [keys.map((k) => k.bookId), keys.map((k) => k.id)],
  );
  return new Map(rows.map((r) => [`${r.book_id}/${r.id}`, accountFromRow(r)]));
}

export async function findAccounts(
  db: Queryable,
  keys: { bookId: string; id: string }[],
): Promise<AccountRow[]> {
  if (keys.length === 0) return [];
  const { rows } = await db.query(
    `select ${ACCOUNT_COLUMNS}
       from account a join book_unit u on u.book_id = a.book_id and u.code = a.unit_code
      where (a.book_id, a.id) in (select * from unnest($1::uuid[], $2::uuid[]))`,
    [keys.map((k) => k.bookId), keys.map((k) => k.id)],
  );
  return rows.map(accountFromRow);
}

export async function listAccounts(
  db: Queryable,
  bookId: string,
  options: {
    afterCode: string | null;
    limit: number;
    includeClosed: boolean;
    type: AccountType | null;
    parentId?: string | null;
  },
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
      where (e.book_id, e.id) in (select * from unnest($1::uuid[], $2::uuid[]))`,
    [keys.map((k) => k.bookId), keys.map((k) => k.id)],
  );
  return rows.map(entryFromRow);
}

/** Entries already holding these idempotency keys: id and request hash only. */
export async function findByIdempotencyKeys(
  db: Queryable,
  keys: { bookId: string; key: string }[],
): Promise<Map<string, { id: string; requestHash: string }>> {
  if (keys.length === 0) return new Map();
  const { rows } = await db.query(
    `select e.book_id, e.idempotency_key, e.id, e.request_hash
       from journal_entry e
       join unnest($1::uuid[], $2::text[]) k(book_id, key) on e.book_id = k.book_id and e.idempotency_key = k.key`,
    [keys.map((k) => k.bookId), keys.map((k) => k.key)],
  );
  return new Map(
    rows.map((r) => [`${r.book_id}/${r.idempotency_key}`, { id: r.id, requestHash: r.request_hash }]),
  );
}

export interface EntryLinks {
  reversedBy: string | null;
  resolvedBy: string | null;
  resolutionKind: 'COMMIT' | 'VOID' | null;
}

/** Which entries reverse or resolve the given ones (the other half of the two-way links). */
export async function findEntryLinks(
  db: Queryable,
  keys: { bookId: string; id: string }[],
): Promise<Map<string, EntryLinks>> {
  const out = new Map<string, EntryLinks>();
  if (keys.length === 0) return out;
  for (const k of keys)
    out.set(`${k.bookId}/${k.id}`, { reversedBy: null, resolvedBy: null, resolutionKind: null });
  const { rows } = await db.query(
    `select r.book_id, coalesce(r.reverses_id, r.pending_id) as target, r.id, r.kind
       from journal_entry r
       join unnest($1::uuid[], $2::uuid[]) k(book_id, id)
         on r.book_id = k.book_id and (r.reverses_id = k.id or r.pending_id = k.id)`,
    [keys.map((k) => k.bookId), keys.map((k) => k.id)],
  );
  for (const r of rows) {
    const links = out.get(`${r.book_id}/${r.target}`)!;
    if (r.kind === 'REVERSAL') links.reversedBy = r.id;
    else {
      links.resolvedBy = r.id;
      links.resolutionKind = r.kind;
    }
  }
  return out;
}

export interface NewEntry extends Omit<EntryRecord, 'lines'> {
  lines: (LineRecord & { effectiveAt: Date })[];
}

export interface AccountUpdate {
  bookId: string;
  id: string;
  postedDebits: Decimal;
  postedCredits: Decimal;
  pendingDebits: Decimal;
  pendingCredits: Decimal;
}

export interface DayTotal {
  bookId: string;
  accountId: string;
  day: string;
  debits: Decimal;
  credits: Decimal;
}

/** Writes a group of accepted entries: five statements whatever the number of entries. */
export async function writeEntries(
  db: Queryable,
  entries: NewEntry[],
  accounts: AccountUpdate[],
  dayTotals: DayTotal[],
  heads: { bookId: string; entrySeq: bigint; lastHash: string }[],
): Promise<void> {
  if (entries.length === 0) return;
  await db.query(
    `insert into journal_entry (book_id, id, seq, kind, idempotency_key, request_hash, effective_at, recorded_at,
        memo, metadata, reverses_id, pending_id, expires_at, posted_by, prev_hash, hash)
     select b, i, s, k, ik, rh, (timestamptz 'epoch' + ea * interval '1 millisecond'), (timestamptz 'epoch' + ra * interval '1 millisecond'), m, md::jsonb,
            rv, pd, (timestamptz 'epoch' + ex * interval '1 millisecond'), pb, ph, h
       from unnest($1::uuid[], $2::uuid[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::bigint[], $8::bigint[],
                   $9::text[], $10::text[], $11::uuid[], $12::uuid[], $13::bigint[], $14::text[], $15::text[], $16::text[])
         as v(b, i, s, k, ik, rh, ea, ra, m, md, rv, pd, ex, pb, ph, h)`,
    [
      entries.map((e) => e.bookId),
      entries.map((e) => e.id),
      entries.map((e) => e.seq),
      entries.map((e) => e.kind),
      entries.map((e) => e.idempotencyKey),
      entries.map((e) => e.requestHash),
      entries.map((e) => String(e.effectiveAt.getTime())),
      entries.map((e) => String(e.recordedAt.getTime())),
      entries.map((e) => e.memo),
      entries.map((e) => JSON.stringify(e.metadata)),
      entries.map((e) => e.reversesId),
      entries.map((e) => e.pendingId),
      entries.map((e) => (e.expiresAt ? String(e.expiresAt.getTime()) : null)),
      entries.map((e) => e.postedBy),
      entries.map((e) => e.prevHash),
      entries.map((e) => e.hash),
    ],
  );
  const lines = entries.flatMap((e) =>
    e.lines.map((l) => ({ ...l, bookId: e.bookId, entryId: e.id, seq: e.seq })),
  );
  if (lines.length > 0) {
    await db.query(
      `insert into journal_line (book_id, entry_id, line_no, account_id, side, amount, unit_code, effective_at, phase, seq)
       select b, e, n, a, s, amt, u, (timestamptz 'epoch' + ea * interval '1 millisecond'), ph, sq
         from unnest($1::uuid[], $2::uuid[], $3::smallint[], $4::uuid[], $5::text[], $6::numeric[], $7::text[],
                     $8::bigint[], $9::text[], $10::bigint[]) as v(b, e, n, a, s, amt, u, ea, ph, sq)`,
      [
        lines.map((l) => l.bookId),
        lines.map((l) => l.entryId),
        lines.map((l) => l.lineNo),
        lines.map((l) => l.accountId),
        lines.map((l) => l.side),
        lines.map((l) => l.amount.toFixed()),
        lines.map((l) => l.unitCode),
        lines.map((l) => String(l.effectiveAt.getTime())),
        lines.map((l) => l.phase),
        lines.map((l) => l.seq),
      ],
    );
  }
  if (accounts.length > 0) {
    await db.query(
      `update account a set posted_debits = v.pd, posted_credits = v.pc, pending_debits = v.ped, pending_credits = v.pec
         from unnest($1::uuid[], $2::uuid[], $3::numeric[], $4::numeric[], $5::numeric[], $6::numeric[])
           as v(b, i, pd, pc, ped, pec)
        where a.book_id = v.b and a.id = v.i`,
      [
        accounts.map((a) => a.bookId),
        accounts.map((a) => a.id),
        accounts.map((a) => a.postedDebits.toFixed()),
        accounts.map((a) => a.postedCredits.toFixed()),
        accounts.map((a) => a.pendingDebits.toFixed()),
        accounts.map((a) => a.pendingCredits.toFixed()),
      ],
    );
  }
  if (dayTotals.length > 0) {
    await db.query(
      `insert into account_day_total as t (book_id, account_id, day, debits, credits)
       select * from unnest($1::uuid[], $2::uuid[], $3::date[], $4::numeric[], $5::numeric[])
       on conflict (book_id, account_id, day)
       do update set debits = t.debits + excluded.debits, credits = t.credits + excluded.credits`,
      [
        dayTotals.map((d) => d.bookId),
        dayTotals.map((d) => d.accountId),
        dayTotals.map((d) => d.day),
        dayTotals.map((d) => d.debits.toFixed()),
        dayTotals.map((d) => d.credits.toFixed()),
      ],
    );
  }
  await db.query(
    `update book b set entry_seq = v.s, last_hash = v.h
       from unnest($1::uuid[], $2::bigint[], $3::text[]) as v(i, s, h) where b.id = v.i`,
    [heads.map((h) => h.bookId), heads.map((h) => h.entrySeq.toString()), heads.map((h) => h.lastHash)],
  );
}
