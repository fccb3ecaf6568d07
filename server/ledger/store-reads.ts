/**
 * Read queries of the ledger. Balances come from the account rows (current) or from the per-day
 * totals plus one day of lines (as of an instant), never from a scan of every line.
 */
import { Decimal, ZERO } from '../core/index.js';
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

/** Entries of a book in chain order, a page at a time, for chain verification. */
export async function entriesBySeq(
  db: Queryable,
  bookId: string,
  afterSeq: bigint,
  limit: number,
): Promise<EntryRecord[]> {
  const { rows } = await db.query(
    `select ${ENTRY_COLUMNS}, ${LINES_JSON} from journal_entry e
      where e.book_id = $1 and e.seq > $2::bigint order by e.seq limit $3`,
    [bookId, afterSeq.toString(), limit],
  );
  return rows.map(entryFromRow);
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
