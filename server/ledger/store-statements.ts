/**
 * Statement figures (issue 17): posted debits and credits per account over ranges of UTC days,
 * summed from the per-account, per-day totals (account_day_total), never from the lines. Every
 * column of a statement (a period, a balance up to a day, their comparisons) comes from one
 * statement.
 */
import { Decimal } from '../core/index.js';
import type { Queryable } from './store.js';
import type { PostedTotals } from './store-reads.js';

/** A range of UTC days, both inclusive; `from: null` reaches back to the book's first day. */
export interface DayRange {
  from: string | null;
  to: string;
}

/** For each range, in order: posted totals per account id (accounts that moved in it only). */
export async function dayRangeTotals(
  db: Queryable,
  bookId: string,
  ranges: DayRange[],
): Promise<Map<string, PostedTotals>[]> {
  const out = ranges.map(() => new Map<string, PostedTotals>());
  if (ranges.length === 0) return out;
  const { rows } = await db.query(
    `select r.i::int as i, d.account_id, sum(d.debits)::text as debits, sum(d.credits)::text as credits
       from unnest($2::date[], $3::date[]) with ordinality as r(f, t, i)
       join account_day_total d
         on d.book_id = $1 and d.day <= r.t and (r.f is null or d.day >= r.f)
      group by r.i, d.account_id`,
    [bookId, ranges.map((r) => r.from), ranges.map((r) => r.to)],
  );
  for (const r of rows)
    out[Number(r.i) - 1]!.set(r.account_id, {
      debits: new Decimal(r.debits),
      credits: new Decimal(r.credits),
    });
  return out;
}
