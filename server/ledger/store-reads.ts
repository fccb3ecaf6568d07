/**
 * Read queries of the ledger. Balances come from the account rows (current) or from the per-day
 * totals plus one day of lines (as of an instant), never from a scan of every line.
 */
import { Decimal, ZERO } from '../core/index.js';
import { type DbPool, withTransaction } from '../platform/transaction.js';
import type { OpenPendingMismatch } from './records.js';
import {
  type AccountRow,
  ENTRY_COLUMNS,
  type EntryRecord,
  entryFromRow,
  LINES_JSON,
  listAccounts,
  type Queryable,
} from './store.js';

export interface EntryCursor {
  effectiveAtMs: string;
  seq: string;
}

export interface EntryFilter {
  bookId: string;
  accountId: string | null;
  from: Date | null;
  to: Date | null;
  kinds: string[] | null;
  after: EntryCursor | null;
  limit: number;
}

/** Entries in (effectiveAt, seq) order: the order a statement reads in. */
export async function listEntries(db: Queryable, f: EntryFilter): Promise<EntryRecord[]> {
  const params: unknown[] = [
    f.bookId,
    f.from ? String(f.from.getTime()) : null,
    f.to ? String(f.to.getTime()) : null,
    f.after ? f.after.effectiveAtMs : null,
    f.after ? f.after.seq : null,
    f.limit,
    f.kinds,
  ];
  const at = (p: string) => `(timestamptz 'epoch' + ${p}::bigint * interval '1 millisecond')`;
  const range = `($2::bigint is null or x.effective_at >= ${at('$2')})
    and ($3::bigint is null or x.effective_at < ${at('$3')})
    and ($4::bigint is null or (x.effective_at, x.seq) > (${at('$4')}, $5::bigint))`;
  let sql: string;
  if (f.accountId) {
    params.push(f.accountId);
    // Driven by the line index (book, account, effective_at, seq); an entry with two lines on the
    // account appears once.
    sql = `select ${ENTRY_COLUMNS}, ${LINES_JSON}
      from (select distinct x.entry_id, x.effective_at, x.seq from journal_line x
             where x.book_id = $1 and x.account_id = $8::uuid and ${range}
             order by x.effective_at, x.seq limit $6) m
      join journal_entry e on e.book_id = $1 and e.id = m.entry_id
      where ($7::text[] is null or e.kind = any($7::text[]))
      order by e.effective_at, e.seq`;
  } else {
    sql = `select ${ENTRY_COLUMNS}, ${LINES_JSON}
      from journal_entry e
      where e.book_id = $1 and ${range.replaceAll('x.', 'e.')} and ($7::text[] is null or e.kind = any($7::text[]))
      order by e.effective_at, e.seq limit $6`;
  }
  const { rows } = await db.query(sql, params);
  return rows.map(entryFromRow);
}

/**
 * A line's copy of its entry's effectiveAt, seq and phase that disagrees with the entry: the line
 * and which copies differ. The copies are not hashed (the entry's values are), yet balances as of
 * an instant, an account's history and the posted totals read them.
 */
export interface LineCopyMismatch {
  lineNo: number;
  fields: ('effectiveAt' | 'seq' | 'phase')[];
}

/**
 * Entries of a book in chain order, a page at a time, for chain verification, each with the
 * first of its lines whose copies of the entry's fields disagree with it (null when none does).
 */
export async function entriesBySeq(
  db: Queryable,
  bookId: string,
  afterSeq: bigint,
  limit: number,
): Promise<(EntryRecord & { lineCopyMismatch: LineCopyMismatch | null })[]> {
  const { rows } = await db.query(
    `select ${ENTRY_COLUMNS}, ${LINES_JSON},
       (select json_build_array(l.line_no, l.effective_at is distinct from e.effective_at,
                                l.seq is distinct from e.seq, l.phase is distinct from c.phase)
          from journal_line l
         where l.book_id = e.book_id and l.entry_id = e.id
           and (l.effective_at is distinct from e.effective_at or l.seq is distinct from e.seq
                or l.phase is distinct from c.phase)
         order by l.line_no limit 1) as line_copy
       from journal_entry e
       cross join lateral (select case when e.kind = 'PENDING' then 'PENDING' else 'POSTED' end as phase) c
      where e.book_id = $1 and e.seq > $2::bigint order by e.seq limit $3`,
    [bookId, afterSeq.toString(), limit],
  );
  return rows.map((row) => {
    const copy = row.line_copy as [number, boolean, boolean, boolean] | null;
    const fields = (['effectiveAt', 'seq', 'phase'] as const).filter((_, i) => copy?.[i + 1] === true);
    return { ...entryFromRow(row), lineCopyMismatch: copy === null ? null : { lineNo: copy[0], fields } };
  });
}

export interface PostedTotals {
  debits: Decimal;
  credits: Decimal;
}

/**
 * Posted debits and credits per account as of an instant (inclusive): whole UTC days before the
 * instant's day from account_day_total, plus that day's lines up to the instant.
 */
export async function postedTotalsAsOf(
  db: Queryable,
  bookId: string,
  accountIds: string[] | null,
  asOf: Date,
): Promise<Map<string, PostedTotals>> {
  const { rows } = await db.query(
    `with bounds as (
       select (timestamptz 'epoch' + $3::bigint * interval '1 millisecond') as t,
              date_trunc('day', (timestamptz 'epoch' + $3::bigint * interval '1 millisecond') at time zone 'UTC') as day_start
     ), days as (
       select d.account_id, sum(d.debits) as debits, sum(d.credits) as credits
         from account_day_total d, bounds
        where d.book_id = $1 and ($2::uuid[] is null or d.account_id = any($2::uuid[]))
          and d.day < bounds.day_start::date
        group by d.account_id
     ), today as (
       select l.account_id,
              sum(case when l.side = 'DEBIT' then l.amount else 0 end) as debits,
              sum(case when l.side = 'CREDIT' then l.amount else 0 end) as credits
         from journal_line l, bounds
        where l.book_id = $1 and ($2::uuid[] is null or l.account_id = any($2::uuid[]))
          and l.phase = 'POSTED'
          and l.effective_at >= (bounds.day_start at time zone 'UTC') and l.effective_at <= bounds.t
        group by l.account_id
     )
     select coalesce(days.account_id, today.account_id) as account_id,
            (coalesce(days.debits, 0) + coalesce(today.debits, 0))::text as debits,
            (coalesce(days.credits, 0) + coalesce(today.credits, 0))::text as credits
       from days full join today on today.account_id = days.account_id`,
    [bookId, accountIds, String(asOf.getTime())],
  );
  const out = new Map<string, PostedTotals>();
  for (const r of rows)
    out.set(r.account_id, { debits: new Decimal(r.debits), credits: new Decimal(r.credits) });
  return out;
}

/** The account and all its descendants (ids), following parent links. */
export async function descendantIds(db: Queryable, bookId: string, accountId: string): Promise<string[]> {
  const { rows } = await db.query(
    `with recursive tree(id) as (
       select id from account where book_id = $1 and id = $2
       union
       select a.id from account a join tree t on a.book_id = $1 and a.parent_id = t.id
     ) select id from tree`,
    [bookId, accountId],
  );
  return rows.map((r) => r.id as string);
}

/** Sums of lines per account, for consistency checks (not used on the request path). */
export async function lineSums(
  db: Queryable,
  bookId: string,
): Promise<
  Map<
    string,
    { postedDebits: Decimal; postedCredits: Decimal; pendingDebits: Decimal; pendingCredits: Decimal }
  >
> {
  const { rows } = await db.query(
    `select l.account_id,
            sum(case when l.phase = 'POSTED' and l.side = 'DEBIT' then l.amount else 0 end)::text as pd,
            sum(case when l.phase = 'POSTED' and l.side = 'CREDIT' then l.amount else 0 end)::text as pc,
            sum(case when l.phase = 'PENDING' and l.side = 'DEBIT' and r.id is null then l.amount else 0 end)::text as ped,
            sum(case when l.phase = 'PENDING' and l.side = 'CREDIT' and r.id is null then l.amount else 0 end)::text as pec
       from journal_line l
       left join journal_entry r on r.book_id = l.book_id and r.pending_id = l.entry_id
      where l.book_id = $1
      group by l.account_id`,
    [bookId],
  );
  return new Map(
    rows.map((r) => [
      r.account_id,
      {
        postedDebits: new Decimal(r.pd),
        postedCredits: new Decimal(r.pc),
        pendingDebits: new Decimal(r.ped),
        pendingCredits: new Decimal(r.pec),
      },
    ]),
  );
}

export type BalanceField = 'postedDebits' | 'postedCredits' | 'pendingDebits' | 'pendingCredits';

export interface BalanceMismatch {
  account: AccountRow;
  field: BalanceField;
  stored: Decimal;
  fromLines: Decimal;
}

/**
 * Every account of a book (closed ones included) whose stored totals differ from the sums of its
 * lines, one mismatch per differing field, with the accounts checked. For consistency checks.
 */
export async function balanceMismatches(
  db: Queryable,
  bookId: string,
): Promise<{ accounts: AccountRow[]; mismatches: BalanceMismatch[] }> {
  const sums = await lineSums(db, bookId);
  // Every account, a page at a time (a book may hold more accounts than one page should).
  const accounts: AccountRow[] = [];
  for (let after: string | null = null; ; ) {
    const page = await listAccounts(db, bookId, {
      afterCode: after,
      limit: 5000,
      includeClosed: true,
      type: null,
    });
    accounts.push(...page);
    if (page.length < 5000) break;
    after = page[page.length - 1]!.code;
  }
  const mismatches: BalanceMismatch[] = [];
  for (const account of accounts) {
    const s = sums.get(account.id);
    for (const field of ['postedDebits', 'postedCredits', 'pendingDebits', 'pendingCredits'] as const) {
      const fromLines = s?.[field] ?? ZERO;
      if (!account[field].equals(fromLines)) {
        mismatches.push({ account, field, stored: account[field], fromLines });
      }
    }
  }
  return { accounts, mismatches };
}

export interface DayTotalMismatch {
  accountId: string;
  /** UTC day, YYYY-MM-DD. */
  day: string;
  stored: PostedTotals;
  fromLines: PostedTotals;
}

/**
 * Every per-account, per-UTC-day total of a book (account_day_total) recomputed from its posted
 * lines: the (account, day) pairs compared, and those where the stored debits or credits differ
 * (a missing row counts as zero, so a day with lines and no row, or a row with no lines, is one).
 * One pass over the book's lines: for audits, not the request path.
 */
export async function dayTotalMismatches(
  db: Queryable,
  bookId: string,
): Promise<{ checked: number; mismatches: DayTotalMismatch[] }> {
  const { rows } = await db.query(
    `with from_lines as (
       select l.account_id, (l.effective_at at time zone 'UTC')::date as day,
              sum(case when l.side = 'DEBIT' then l.amount else 0 end) as debits,
              sum(case when l.side = 'CREDIT' then l.amount else 0 end) as credits
         from journal_line l
        where l.book_id = $1 and l.phase = 'POSTED'
        group by 1, 2
     ), compared as (
       select coalesce(s.account_id, f.account_id) as account_id, coalesce(s.day, f.day) as day,
              coalesce(s.debits, 0) as stored_debits, coalesce(s.credits, 0) as stored_credits,
              coalesce(f.debits, 0) as line_debits, coalesce(f.credits, 0) as line_credits
         from (select * from account_day_total where book_id = $1) s
         full join from_lines f on f.account_id = s.account_id and f.day = s.day
     )
     select c.checked, m.account_id, to_char(m.day, 'YYYY-MM-DD') as day,
            m.stored_debits::text as stored_debits, m.stored_credits::text as stored_credits,
            m.line_debits::text as line_debits, m.line_credits::text as line_credits
       from (select count(*)::int as checked from compared) c
       left join (select * from compared
                   where stored_debits <> line_debits or stored_credits <> line_credits) m on true
      order by m.account_id, m.day`,
    [bookId],
  );
  const checked = rows.length > 0 ? Number(rows[0].checked) : 0;
  const mismatches = rows
    .filter((r) => r.account_id !== null)
    .map((r) => ({
      accountId: r.account_id as string,
      day: r.day as string,
      stored: { debits: new Decimal(r.stored_debits), credits: new Decimal(r.stored_credits) },
      fromLines: { debits: new Decimal(r.line_debits), credits: new Decimal(r.line_credits) },
    }));
  return { checked, mismatches };
}

/**
 * The open-pending table (pending_open, which the expiry sweep reads) recomputed from the
 * journal: a PENDING entry no COMMIT or VOID (an expiry is a VOID) names is open, with its
 * entry's expires_at. The entries compared (open by the journal or with a row), and each
 * difference: an open entry with no row, a row for an entry that is not open, a row whose
 * expires_at is not the entry's. Ordered by seq. For audits, not the request path.
 */
export async function openPendingMismatches(
  db: Queryable,
  bookId: string,
): Promise<{ checked: number; mismatches: OpenPendingMismatch[] }> {
  const { rows } = await db.query(
    `with open_by_journal as (
       select p.id, p.seq, p.expires_at
         from journal_entry p
        where p.book_id = $1 and p.kind = 'PENDING'
          and not exists (select 1 from journal_entry r where r.book_id = $1 and r.pending_id = p.id)
     ), compared as (
       select coalesce(j.id, o.entry_id) as entry_id, j.id is not null as in_journal,
              o.entry_id is not null as has_row, j.expires_at as journal_expires_at,
              o.expires_at as stored_expires_at
         from open_by_journal j
         full join (select * from pending_open where book_id = $1) o on o.entry_id = j.id
     )
     select c.checked, m.entry_id, e.seq::text as seq, m.in_journal, m.has_row,
            (extract(epoch from m.stored_expires_at) * 1000)::bigint::text as stored_ms,
            (extract(epoch from m.journal_expires_at) * 1000)::bigint::text as journal_ms
       from (select count(*)::int as checked from compared) c
       left join (select * from compared
                   where not (in_journal and has_row)
                      or stored_expires_at is distinct from journal_expires_at) m on true
       left join journal_entry e on e.book_id = $1 and e.id = m.entry_id
      order by e.seq`,
    [bookId],
  );
  const checked = rows.length > 0 ? Number(rows[0].checked) : 0;
  const at = (ms: string | null) => (ms === null ? null : new Date(Number(ms)));
  const mismatches = rows
    .filter((r) => r.entry_id !== null)
    .map(
      (r): OpenPendingMismatch => ({
        kind: !r.has_row ? 'MISSING_ROW' : !r.in_journal ? 'EXTRA_ROW' : 'WRONG_EXPIRES_AT',
        entryId: r.entry_id as string,
        seq: r.seq as string,
        stored: r.has_row ? at(r.stored_ms) : null,
        fromJournal: r.in_journal ? at(r.journal_ms) : null,
      }),
    );
  return { checked, mismatches };
}

// ---------- the trial balance, computed by PostgreSQL ----------

/** Which trial balance: a book's, now or as of an instant, every account or rolled up to a depth. */
export interface TrialBalanceQuery {
  bookId: string;
  asOf: Date | null;
  rollupDepth: number | null;
}

/**
 * The trial balance's lines as a CTE `shown (id, depth, folded, debits, credits)`: one row per line
 * shown, debits and credits NUMERIC (an account's own, or with `rollupDepth` those of everything
 * below it folded in). Depths follow the parent links from the accounts without a parent (a parent
 * is always an account of the same book, created before its children, so the links have no
 * cycle). As of an instant, figures are whole UTC days before the instant's day from
 * account_day_total plus that day's posted lines up to the instant (as postedTotalsAsOf); now,
 * the accounts' stored posted totals. Parameters: $1 book, then those pushed to `params`.
 */
function shownLinesCte(q: TrialBalanceQuery, params: unknown[]): string {
  params.push(q.bookId);
  let asOfCte = '';
  let figures = 'a.posted_debits as debits, a.posted_credits as credits';
  let asOfJoin = '';
  if (q.asOf !== null) {
    params.push(String(q.asOf.getTime()));
    const p = `$${params.length}`;
    asOfCte = `bounds as (
       select (timestamptz 'epoch' + ${p}::bigint * interval '1 millisecond') as t,
              date_trunc('day', (timestamptz 'epoch' + ${p}::bigint * interval '1 millisecond') at time zone 'UTC') as day_start
     ), as_of as (
       select x.account_id, sum(x.debits) as debits, sum(x.credits) as credits
         from (select d.account_id, d.debits, d.credits
                 from account_day_total d, bounds
                where d.book_id = $1 and d.day < bounds.day_start::date
               union all
               select l.account_id,
                      case when l.side = 'DEBIT' then l.amount else 0 end,
                      case when l.side = 'CREDIT' then l.amount else 0 end
                 from journal_line l, bounds
                where l.book_id = $1 and l.phase = 'POSTED'
                  and l.effective_at >= (bounds.day_start at time zone 'UTC') and l.effective_at <= bounds.t) x
        group by x.account_id
     ), `;
    figures = 'coalesce(h.debits, 0) as debits, coalesce(h.credits, 0) as credits';
    asOfJoin = 'left join as_of h on h.account_id = t.id';
  }
  let top = 't.id';
  let childTop = 'c.id';
  if (q.rollupDepth !== null) {
    params.push(q.rollupDepth);
    childTop = `case when t.depth + 1 <= $${params.length}::int then c.id else t.top end`;
    top = 't.top';
  }
  const tree = `tree as (
       select a.id, 1 as depth, a.id as top from account a where a.book_id = $1 and a.parent_id is null
       union all
       select c.id, t.depth + 1, ${childTop}
         from tree t join account c on c.book_id = $1 and c.parent_id = t.id
     ), own as (
       select t.id, t.depth, ${top} as top, ${figures}
         from tree t join account a on a.book_id = $1 and a.id = t.id ${asOfJoin}
     )`;
  const shown =
    q.rollupDepth === null
      ? 'shown as (select id, depth, false as folded, debits, credits from own)'
      : `shown as (
       select o.top as id, max(case when o.id = o.top then o.depth end) as depth,
              bool_or(o.id <> o.top) as folded, sum(o.debits) as debits, sum(o.credits) as credits
         from own o group by o.top
     )`;
  return `with recursive ${asOfCte}${tree}, ${shown}`;
}

export interface TrialBalanceUnitSums {
  unitCode: string;
  lines: number;
  /** Sums of the lines' net debit and net credit balances, NUMERIC text. */
  debitBalanceTotal: string;
  creditBalanceTotal: string;
}

/** Per unit: the lines shown and the totals of their debit and credit balance columns. */
export async function trialBalanceUnitSums(
  db: Queryable,
  q: TrialBalanceQuery,
): Promise<TrialBalanceUnitSums[]> {
  const params: unknown[] = [];
  const { rows } = await db.query(
    `${shownLinesCte(q, params)}
     select a.unit_code, count(*)::int as lines,
            sum(greatest(s.debits - s.credits, 0))::text as debit_total,
            sum(greatest(s.credits - s.debits, 0))::text as credit_total
       from shown s join account a on a.book_id = $1 and a.id = s.id
      group by a.unit_code`,
    params,
  );
  return rows.map((r) => ({
    unitCode: r.unit_code as string,
    lines: Number(r.lines),
    debitBalanceTotal: r.debit_total as string,
    creditBalanceTotal: r.credit_total as string,
  }));
}

/** One line's figures as PostgreSQL gives them (NUMERIC text). */
export interface TrialBalanceRow {
  id: string;
  depth: number;
  folded: boolean;
  debits: string;
  credits: string;
  debitBalance: string;
  creditBalance: string;
}

const ROW_FIGURES = `s.id, s.depth, s.folded, s.debits::text as debits, s.credits::text as credits,
  greatest(s.debits - s.credits, 0)::text as debit_balance, greatest(s.credits - s.debits, 0)::text as credit_balance`;

function rowOf(r: Record<string, unknown>): TrialBalanceRow {
  return {
    id: r.id as string,
    depth: Number(r.depth),
    folded: r.folded === true,
    debits: r.debits as string,
    credits: r.credits as string,
    debitBalance: r.debit_balance as string,
    creditBalance: r.credit_balance as string,
  };
}

/**
 * The lines after the line of `afterAccountId` (null: from the first), in account code order, at
 * most `limit`; with how many lines follow that line in all and whether it is a line shown.
 */
export async function trialBalanceRows(
  db: Queryable,
  q: TrialBalanceQuery,
  afterAccountId: string | null,
  limit: number,
): Promise<{ found: boolean; remaining: number; rows: TrialBalanceRow[] }> {
  const params: unknown[] = [];
  const cte = shownLinesCte(q, params);
  params.push(afterAccountId, limit);
  const after = `$${params.length - 1}::uuid`;
  const { rows } = await db.query(
    `${cte}, cur as (
       select a.code from shown s join account a on a.book_id = $1 and a.id = s.id where s.id = ${after}
     ), rest as (
       select s.*, a.code from shown s join account a on a.book_id = $1 and a.id = s.id
        where ${after} is null or a.code > (select code from cur)
     )
     select c.found, c.remaining, p.*
       from (select ${after} is null or exists (select 1 from cur) as found,
                    (select count(*) from rest)::int as remaining) c
       left join lateral (select ${ROW_FIGURES} from rest s order by s.code limit $${params.length}) p on true`,
    params,
  );
  const first = rows[0] ?? { found: false, remaining: 0 };
  return {
    found: first.found === true,
    remaining: Number(first.remaining),
    rows: rows.filter((r) => r.id !== null).map(rowOf),
  };
}

/** A line with what the CSV shows of its account. */
export interface TrialBalanceCsvRow extends TrialBalanceRow {
  unitCode: string;
  scale: number;
  code: string;
  name: string;
}

/**
 * Runs reads in one REPEATABLE READ READ ONLY transaction on a connection of its own, so that they
 * see one snapshot of the book: the integrity checks (a chain verified page by page while entries
 * are posted otherwise finds more entries than the head it read first, and totals read apart from
 * the lines they are compared with differ by what was posted in between).
 */
export function inReadSnapshot<T>(pool: DbPool, work: (db: Queryable) => Promise<T>): Promise<T> {
  return withTransaction(
    pool,
    async (client) => {
      await client.query('begin isolation level repeatable read read only');
      return work(client);
    },
    { beginInWork: true },
  );
}

/** A book's chain head as stored: how many entries it has and the hash of the last (null: no book). */
export async function chainHead(
  db: Queryable,
  bookId: string,
): Promise<{ entryCount: string; lastHash: string } | null> {
  const { rows } = await db.query('select entry_seq::text as n, last_hash from book where id = $1', [bookId]);
  const row = rows[0];
  return row ? { entryCount: row.n as string, lastHash: row.last_hash as string } : null;
}

/**
 * Runs trial balance reads in one REPEATABLE READ READ ONLY transaction on a connection of its own
 * (so they read one snapshot: a csv's totals agree with its lines). The planner misjudges the
 * account tree's size by two orders of magnitude (the recursive CTE: 4.6 million rows estimated
 * for 50,000 accounts), which made it spend 850 ms compiling the query with JIT, and plan a cursor
 * for its first rows (a nested loop over the CTE, quadratic): both are turned off here.
 */
export async function inTrialBalanceSnapshot<T>(
  pool: DbPool,
  work: (db: Queryable) => Promise<T>,
): Promise<T> {
  return inReadSnapshot(pool, async (db) => {
    await db.query("select set_config('jit', 'off', true), set_config('cursor_tuple_fraction', '1', true)");
    return work(db);
  });
}

/**
 * Every line in account code order, `chunk` lines at a time through a server-side cursor, so that
 * only one chunk is in memory at once; `each` gets every chunk in order. Inside
 * inTrialBalanceSnapshot.
 */
export async function eachTrialBalanceChunk(
  db: Queryable,
  q: TrialBalanceQuery,
  chunk: number,
  each: (rows: TrialBalanceCsvRow[]) => void,
): Promise<void> {
  const params: unknown[] = [];
  await db.query(
    `declare trial_balance_lines no scroll cursor for ${shownLinesCte(q, params)}
     select ${ROW_FIGURES}, a.unit_code, u.scale, a.code, a.name
       from shown s
       join account a on a.book_id = $1 and a.id = s.id
       join book_unit u on u.book_id = a.book_id and u.code = a.unit_code
      order by a.code`,
    params,
  );
  for (;;) {
    const { rows } = await db.query(`fetch ${chunk} from trial_balance_lines`);
    if (rows.length > 0)
      each(
        rows.map((r) => ({
          ...rowOf(r),
          unitCode: r.unit_code as string,
          scale: Number(r.scale),
          code: r.code as string,
          name: r.name as string,
        })),
      );
    if (rows.length < chunk) break;
  }
  await db.query('close trial_balance_lines');
}
