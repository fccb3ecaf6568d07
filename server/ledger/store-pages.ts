/**
 * Pages of the ledger's connections (books, accounts, entries), forward or backward between two
 * cursors, and the size of each list: keyset reads in the order the API promises, answering the
 * keys of a page (the records are then read by primary key, like every other read of them).
 *
 * A page asks for `limit` rows after `after` and before `before` (either may be absent), in the
 * list's order, or, `backward`, from `before` down (the caller reverses them). Counts take the
 * same filters and no cursors: `totalCount` is the size of the whole list.
 */
import type { Queryable } from '../platform/transaction.js';

export interface PageQuery<C> {
  after: C | null;
  before: C | null;
  /** Rows to read: the page size plus one, so the caller knows whether more follow. */
  limit: number;
  backward: boolean;
}

type Key = { bookId: string; id: string };

const direction = (q: PageQuery<unknown>) => (q.backward ? 'desc' : 'asc');

// ---------- books: by id (creation order) ----------

export async function bookIdsPage(
  db: Queryable,
  q: PageQuery<string>,
  onlyIds: string[] | null,
): Promise<string[]> {
  const { rows } = await db.query(
    `select id from book
      where ($1::uuid[] is null or id = any($1::uuid[]))
        and ($2::uuid is null or id > $2::uuid) and ($3::uuid is null or id < $3::uuid)
      order by id ${direction(q)} limit $4`,
    [onlyIds, q.after, q.before, q.limit],
  );
  return rows.map((r) => r.id as string);
}

export async function countBooks(db: Queryable, onlyIds: string[] | null): Promise<number> {
  const { rows } = await db.query(
    'select count(*)::int as n from book where ($1::uuid[] is null or id = any($1::uuid[]))',
    [onlyIds],
  );
  return rows[0].n as number;
}

// ---------- accounts of a book: by code ----------

export interface AccountFilter {
  bookId: string;
  includeClosed: boolean;
  type: string | null;
  /** Only the children of this account (null: accounts without a parent); undefined: any. */
  parentId?: string | null;
}

function accountWhere(f: AccountFilter, params: unknown[]): string {
  params.push(f.bookId, f.includeClosed, f.type);
  let where = 'a.book_id = $1 and ($2 or a.closed_at is null) and ($3::text is null or a.type = $3)';
  if (f.parentId !== undefined) {
    params.push(f.parentId);
    where += ` and a.parent_id is not distinct from $${params.length}::uuid`;
  }
  return where;
}

export async function accountIdsPage(
  db: Queryable,
  f: AccountFilter,
  q: PageQuery<string>,
): Promise<string[]> {
  const params: unknown[] = [];
  const where = accountWhere(f, params);
  params.push(q.after, q.before, q.limit);
  const n = params.length;
  const { rows } = await db.query(
    `select a.id from account a
      where ${where} and ($${n - 2}::text is null or a.code > $${n - 2}) and ($${n - 1}::text is null or a.code < $${n - 1})
      order by a.code ${direction(q)} limit $${n}`,
    params,
  );
  return rows.map((r) => r.id as string);
}

export async function countAccounts(db: Queryable, f: AccountFilter): Promise<number> {
  const params: unknown[] = [];
  const { rows } = await db.query(
    `select count(*)::int as n from account a where ${accountWhere(f, params)}`,
    params,
  );
  return rows[0].n as number;
}

// ---------- journal entries of a book: by (effectiveAt, seq) ----------

export interface EntryCursor {
  /** effectiveAt in milliseconds since the epoch, as a decimal string. */
  effectiveAtMs: string;
  seq: string;
}

export interface EntryListFilter {
  bookId: string;
  /** Only entries with a line on this account. */
  accountId: string | null;
  from: Date | null;
  to: Date | null;
  kinds: string[] | null;
}

const at = (p: string) => `(timestamptz 'epoch' + ${p}::bigint * interval '1 millisecond')`;

/**
 * The filter over rows `x` (journal_entry, or journal_line for one account, whose lines carry
 * their entry's effective_at and seq) and `e` (the entry, for its kind).
 */
function entryWhere(f: EntryListFilter, params: unknown[]): string {
  params.push(
    f.bookId,
    f.from ? String(f.from.getTime()) : null,
    f.to ? String(f.to.getTime()) : null,
    f.kinds,
  );
  let where = `x.book_id = $1 and ($2::bigint is null or x.effective_at >= ${at('$2')})
    and ($3::bigint is null or x.effective_at < ${at('$3')}) and ($4::text[] is null or e.kind = any($4::text[]))`;
  if (f.accountId) {
    params.push(f.accountId);
    where += ` and x.account_id = $${params.length}::uuid`;
  }
  return where;
}

function entryFrom(f: EntryListFilter): string {
  return f.accountId
    ? 'journal_line x join journal_entry e on e.book_id = x.book_id and e.id = x.entry_id'
    : 'journal_entry e';
}

/** `x.` (the line, for one account) or `e.` (the entry): the rows the filter and the order read. */
function aliased(f: EntryListFilter, sql: string): string {
  return f.accountId ? sql : sql.replaceAll('x.', 'e.');
}

export async function entryKeysPage(
  db: Queryable,
  f: EntryListFilter,
  q: PageQuery<EntryCursor>,
): Promise<Key[]> {
  const params: unknown[] = [];
  const where = entryWhere(f, params);
  params.push(
    q.after?.effectiveAtMs ?? null,
    q.after?.seq ?? null,
    q.before?.effectiveAtMs ?? null,
    q.before?.seq ?? null,
  );
  const n = params.length;
  params.push(q.limit);
  const dir = direction(q);
  // For one account, an entry with several lines on it is listed once (distinct on its position).
  const { rows } = await db.query(
    aliased(
      f,
      `select ${f.accountId ? 'distinct on (x.effective_at, x.seq)' : ''} e.book_id, e.id from ${entryFrom(f)}
      where ${where}
        and ($${n - 3}::bigint is null or (x.effective_at, x.seq) > (${at(`$${n - 3}`)}, $${n - 2}::bigint))
        and ($${n - 1}::bigint is null or (x.effective_at, x.seq) < (${at(`$${n - 1}`)}, $${n}::bigint))
      order by x.effective_at ${dir}, x.seq ${dir} limit $${n + 1}`,
    ),
    params,
  );
  return rows.map((r) => ({ bookId: r.book_id as string, id: r.id as string }));
}

export async function countEntries(db: Queryable, f: EntryListFilter): Promise<number> {
  const params: unknown[] = [];
  const { rows } = await db.query(
    aliased(f, `select count(distinct e.id)::int as n from ${entryFrom(f)} where ${entryWhere(f, params)}`),
    params,
  );
  return rows[0].n as number;
}
