/**
 * The reporting domain's SQL (issue 15): treasurers' profile reports, the per co-op and month
 * rollup with its incremental refresh, the frozen figures of released months and the releases.
 * Reads the other domains' tables (coop, membership events, the ledger's day totals, patronage,
 * mutual credit) but never writes them.
 */
import type { Queryable, TxClient } from '../platform/transaction.js';

// ---------- profile reports ----------

export interface ProfileRow {
  id: string;
  bookId: string;
  asOf: string;
  workersNotMembers: number;
  workerOwners: number;
  gender: Record<string, number>;
  race: Record<string, number>;
  jobsCreatedAtFounding: number | null;
  /** The day the co-op closed, when this report says it did. */
  closedOn: string | null;
  cityContractsCount: number;
  cityContractsValue: string;
  reportingGroup: string | null;
  idempotencyKey: string;
  requestHash: string;
  recordedAt: Date;
  recordedBy: string;
}

const PROFILE_COLUMNS = `id, book_id, to_char(as_of, 'YYYY-MM-DD') as as_of, workers_not_members, worker_owners, gender, race,
  jobs_created_at_founding, to_char(closed_on, 'YYYY-MM-DD') as closed_on, city_contracts_count, city_contracts_value::text as city_contracts_value, reporting_group, idempotency_key,
  request_hash, recorded_at, recorded_by`;

function profileFromRow(r: Record<string, unknown>): ProfileRow {
  return {
    id: r.id as string,
    bookId: r.book_id as string,
    asOf: r.as_of as string,
    workersNotMembers: Number(r.workers_not_members),
    workerOwners: Number(r.worker_owners),
    gender: r.gender as Record<string, number>,
    race: r.race as Record<string, number>,
    jobsCreatedAtFounding: r.jobs_created_at_founding === null ? null : Number(r.jobs_created_at_founding),
    closedOn: (r.closed_on as string | null) ?? null,
    cityContractsCount: Number(r.city_contracts_count),
    cityContractsValue: r.city_contracts_value as string,
    reportingGroup: (r.reporting_group as string | null) ?? null,
    idempotencyKey: r.idempotency_key as string,
    requestHash: r.request_hash as string,
    recordedAt: new Date(r.recorded_at as string),
    recordedBy: r.recorded_by as string,
  };
}

export async function lockBook(tx: TxClient, bookId: string): Promise<void> {
  await tx.query('select pg_advisory_xact_lock(hashtextextended($1, 15))', [`reporting:${bookId}`]);
}

export async function profileByKey(db: Queryable, bookId: string, key: string): Promise<ProfileRow | null> {
  const { rows } = await db.query(
    `select ${PROFILE_COLUMNS} from reporting_profile where book_id = $1 and idempotency_key = $2`,
    [bookId, key],
  );
  return rows[0] ? profileFromRow(rows[0]) : null;
}

export async function insertProfile(tx: TxClient, p: ProfileRow): Promise<void> {
  await tx.query(
    `insert into reporting_profile (book_id, id, as_of, workers_not_members, worker_owners, gender, race,
       jobs_created_at_founding, city_contracts_count, city_contracts_value, reporting_group, idempotency_key, request_hash, recorded_at, recorded_by, closed_on)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`,
    [
      p.bookId,
      p.id,
      p.asOf,
      p.workersNotMembers,
      p.workerOwners,
      JSON.stringify(p.gender),
      JSON.stringify(p.race),
      p.jobsCreatedAtFounding,
      p.cityContractsCount,
      p.cityContractsValue,
      p.reportingGroup,
      p.idempotencyKey,
      p.requestHash,
      p.recordedAt,
      p.recordedBy,
      p.closedOn,
    ],
  );
}

/** A co-op's reports, latest first (at most `limit`). */
export async function listProfiles(db: Queryable, bookId: string, limit: number): Promise<ProfileRow[]> {
  const { rows } = await db.query(
    `select ${PROFILE_COLUMNS} from reporting_profile where book_id = $1 order by as_of desc, recorded_at desc, id desc limit $2`,
    [bookId, limit],
  );
  return rows.map(profileFromRow);
}

export interface CoopFacts {
  bookId: string;
  city: string;
  baseCurrency: string;
  scale: number;
  foundedOn: string;
}

export async function coopFacts(db: Queryable, bookId: string): Promise<CoopFacts | null> {
  const { rows } = await db.query(
    `select c.book_id, c.city, c.base_currency, u.scale, to_char(c.founded_on, 'YYYY-MM-DD') as founded_on
       from coop c join book_unit u on u.book_id = c.book_id and u.code = c.base_currency where c.book_id = $1`,
    [bookId],
  );
  const r = rows[0];
  return r
    ? {
        bookId: r.book_id,
        city: r.city,
        baseCurrency: r.base_currency,
        scale: Number(r.scale),
        foundedOn: r.founded_on,
      }
    : null;
}

// ---------- the rollup ----------

/** What a co-op's rollup is computed from; a change to any of it means recomputing its rows. */
const FINGERPRINT = `concat_ws('|',
  b.entry_seq,
  to_char(c.founded_on, 'YYYY-MM-DD'),
  c.base_currency,
  (select count(*) from membership_event e where e.book_id = c.book_id),
  (select count(*) || ':' || coalesce(max(r.recorded_at)::text, '') from reporting_profile r where r.book_id = c.book_id),
  (select count(*) || ':' || coalesce(max(coalesce(pr.reversed_at, pr.created_at))::text, '') from patronage_run pr where pr.book_id = c.book_id),
  (select count(*) from patronage_payment pp where pp.book_id = c.book_id),
  (select string_agg(nb.id::text || ':' || nb.entry_seq || ':' || (select count(*) from credit_clearing cc where cc.book_id = nb.id), ',' order by nb.id)
     from credit_member cm join book nb on nb.id = cm.book_id where cm.coop_book_id = c.book_id),
  $2::date)`;

/** Co-ops of the city (all of them, consenting or not) whose rollup is stale or missing. */
export async function staleBooks(
  db: Queryable,
  cityKey: string,
  currentMonth: string,
): Promise<{ bookId: string; fingerprint: string }[]> {
  const { rows } = await db.query(
    `select c.book_id, ${FINGERPRINT} as fingerprint
       from coop c join book b on b.id = c.book_id
       left join reporting_refresh f on f.book_id = c.book_id
      where lower(c.city) = $1 and (f.fingerprint is null or f.fingerprint <> ${FINGERPRINT})`,
    [cityKey, currentMonth],
  );
  return rows.map((r) => ({ bookId: r.book_id as string, fingerprint: r.fingerprint as string }));
}

/** Every co-op's fingerprint now (for the test of a full recomputation). */
export async function forgetRefresh(db: Queryable, bookIds: string[]): Promise<void> {
  await db.query('delete from reporting_refresh where book_id = any($1::uuid[])', [bookIds]);
}

const MONTHS = `(select c.book_id, m::date as month, (m + interval '1 month' - interval '1 day')::date as month_end
   from coop c, generate_series(greatest(date_trunc('month', c.founded_on), date '2000-01-01'), $2::date, interval '1 month') m
  where c.book_id = any($1::uuid[]))`;

const SCALE = `(select 10::numeric ^ u.scale from coop c2 join book_unit u on u.book_id = c2.book_id and u.code = c2.base_currency where c2.book_id = x.book_id)`;

/** Per measure: a query giving (book_id, month, value) for the books $1 up to the month $2. */
const ROLLUP_QUERIES: Record<string, string> = {
  // A co-op counts from the month founded up to the month before it closed.
  COOPS: `select x.book_id, x.month, 1 from ${MONTHS} x left join closures k on k.book_id = x.book_id
    where k.closed_on is null or k.closed_on > x.month_end`,
  CLOSED: `select book_id, date_trunc('month', closed_on)::date, 1 from closures where closed_on is not null`,
  FOUNDED: `select book_id, date_trunc('month', founded_on)::date, 1 from coop where book_id = any($1::uuid[]) and founded_on >= date '2000-01-01' and founded_on < $2::date + interval '1 month'`,
  MEMBERSHIPS_STARTED: `select book_id, date_trunc('month', start_on)::date, count(*) from spans where start_on is not null group by 1, 2`,
  MEMBERSHIPS_ENDED: `select book_id, date_trunc('month', end_on)::date, count(*) from spans where start_on is not null and end_on is not null group by 1, 2`,
  MEMBERS: `select x.book_id, x.month, count(*) from ${MONTHS} x join spans s on s.book_id = x.book_id
    and s.start_on <= x.month_end and (s.end_on is null or s.end_on > x.month_end) group by 1, 2`,
  REVENUE: `select x.book_id, x.month, round(sum(x.v) * ${SCALE}) from (
      select d.book_id, date_trunc('month', d.day)::date as month, d.credits - d.debits as v
        from account_day_total d join account a on a.book_id = d.book_id and a.id = d.account_id
        join coop c on c.book_id = d.book_id and a.unit_code = c.base_currency
       where d.book_id = any($1::uuid[]) and a.type = 'REVENUE') x group by 1, 2`,
  WAGES: `select x.book_id, x.month, round(sum(x.v) * ${SCALE}) from (
      select d.book_id, date_trunc('month', d.day)::date as month, d.debits - d.credits as v
        from account_day_total d join account a on a.book_id = d.book_id and a.id = d.account_id
        join coop c on c.book_id = d.book_id and a.unit_code = c.base_currency
       where d.book_id = any($1::uuid[]) and a.type = 'EXPENSE'
         and (a.code like '51%' or a.name ~* '(wage|salar|payroll)')) x group by 1, 2`,
  SHARE_CAPITAL_RAISED: `select x.book_id, x.month, round(sum(x.v) * ${SCALE}) from (
      select d.book_id, date_trunc('month', d.day)::date as month, d.credits - d.debits as v
        from coop_account ca join account a on a.book_id = ca.book_id and (a.id = ca.account_id or a.parent_id = ca.account_id)
        join account_day_total d on d.book_id = a.book_id and d.account_id = a.id
       where ca.book_id = any($1::uuid[]) and ca.purpose = 'MEMBER_SHARE_CAPITAL') x group by 1, 2`,
  PATRONAGE_ALLOCATED: `select x.book_id, x.month, round(sum(x.v) * ${SCALE}) from (
      select book_id, date_trunc('month', allocated_on)::date as month, member_pool as v from patronage_run
       where book_id = any($1::uuid[]) and status = 'COMMITTED' and kind = 'SURPLUS') x group by 1, 2`,
  PATRONAGE_PAID_IN_CASH: `select x.book_id, x.month, round(sum(x.v) * ${SCALE}) from (
      select book_id, date_trunc('month', paid_on)::date as month, amount as v from patronage_payment
       where book_id = any($1::uuid[]) and kind = 'CASH') x group by 1, 2`,
  CREDIT_VOLUME: `select cm.coop_book_id, date_trunc('month', d.day)::date, round(sum(d.debits) * max(10::numeric ^ u.scale))
      from credit_member cm join credit_network n on n.book_id = cm.book_id
      join coop c on c.book_id = cm.coop_book_id and (n.unit_code = c.base_currency or n.peg_currency = c.base_currency)
      join book_unit u on u.book_id = n.book_id and u.code = n.unit_code
      join account_day_total d on d.book_id = cm.book_id and d.account_id = cm.account_id
     where cm.coop_book_id = any($1::uuid[]) group by 1, 2`,
  // Set-off in committed clearings of the obligations the co-op owed (debts settled with no payment),
  // in clearings of its base currency or of the unit pegged to it.
  LIQUIDITY_SAVED: `select cm.coop_book_id, date_trunc('month', cc.committed_at at time zone 'UTC')::date,
        round(sum(cl.setoff) * max(10::numeric ^ u.scale))
      from credit_member cm join credit_network n on n.book_id = cm.book_id
      join coop c on c.book_id = cm.coop_book_id
      join credit_clearing cc on cc.book_id = cm.book_id
        and (cc.currency = c.base_currency or (cc.currency = n.unit_code and n.peg_currency = c.base_currency))
      join credit_clearing_line cl on cl.book_id = cc.book_id and cl.clearing_id = cc.id
      join credit_obligation o on o.book_id = cl.book_id and o.id = cl.obligation_id and o.debtor_id = cm.id
      join book_unit u on u.book_id = cc.book_id and u.code = cc.currency
     where cm.coop_book_id = any($1::uuid[]) group by 1, 2`,
  CREDIT_OUTSTANDING: `select x.book_id, x.month, round(sum(greatest(o.owed, 0) * o.unit)) from ${MONTHS} x
      cross join lateral (
        select sum(d.debits - d.credits) as owed, max(10::numeric ^ u.scale) as unit
          from credit_member cm join credit_network n on n.book_id = cm.book_id
          join coop c on c.book_id = cm.coop_book_id and (n.unit_code = c.base_currency or n.peg_currency = c.base_currency)
          join book_unit u on u.book_id = n.book_id and u.code = n.unit_code
          join account_day_total d on d.book_id = cm.book_id and d.account_id = cm.account_id and d.day <= x.month_end
         where cm.coop_book_id = x.book_id group by cm.book_id, cm.account_id) o
     group by 1, 2`,
  // Treasurers' reports: the latest of each day counts; stocks take the latest as of the month's end.
  WORKER_OWNERS: `select x.book_id, x.month, p.worker_owners from ${MONTHS} x cross join lateral (${latest('x.month_end')}) p`,
  WORKERS_NOT_MEMBERS: `select x.book_id, x.month, p.workers_not_members from ${MONTHS} x cross join lateral (${latest('x.month_end')}) p`,
  JOBS: `select x.book_id, x.month, p.worker_owners + p.workers_not_members from ${MONTHS} x cross join lateral (${latest('x.month_end')}) p`,
  JOBS_CREATED_AT_FOUNDING: `select c.book_id, date_trunc('month', c.founded_on)::date, p.jobs_created_at_founding from coop c
      cross join lateral (select jobs_created_at_founding from reporting_profile r where r.book_id = c.book_id
        and r.jobs_created_at_founding is not null order by r.as_of desc, r.recorded_at desc, r.id desc limit 1) p
     where c.book_id = any($1::uuid[]) and c.founded_on >= date '2000-01-01' and c.founded_on < $2::date + interval '1 month'`,
  CITY_CONTRACTS_AWARDED: `select book_id, date_trunc('month', as_of)::date, sum(city_contracts_count) from day_reports group by 1, 2`,
  CITY_CONTRACTS_VALUE: `select x.book_id, x.month, round(sum(x.v) * ${SCALE}) from (
      select book_id, date_trunc('month', as_of)::date as month, city_contracts_value as v from day_reports) x group by 1, 2`,
};

function latest(asOf: string): string {
  return `select r.* from reporting_profile r where r.book_id = x.book_id and r.as_of <= ${asOf}
    order by r.as_of desc, r.recorded_at desc, r.id desc limit 1`;
}

/** Year-end breakdowns, stored at the year's December. */
function breakdown(column: 'gender' | 'race', category: string): string {
  return `select x.book_id, x.month, (p.${column} ->> '${category}')::int from ${MONTHS} x
    cross join lateral (${latest('x.month_end')}) p where extract(month from x.month) = 12 and p.${column} ? '${category}'`;
}

const WITH = `with spans as (
    select e.book_id, e.membership_id,
      min(e.effective_on) filter (where e.to_state = 'ACTIVE') as start_on,
      min(e.effective_on) filter (where e.to_state in ('WITHDRAWN', 'TERMINATED') and e.from_state = 'ACTIVE') as end_on
      from membership_event e where e.book_id = any($1::uuid[]) group by 1, 2),
  closures as (
    select distinct on (book_id) book_id, closed_on from reporting_profile where book_id = any($1::uuid[])
     order by book_id, as_of desc, recorded_at desc, id desc),
  day_reports as (
    select distinct on (book_id, as_of) * from reporting_profile where book_id = any($1::uuid[])
     and as_of < $2::date + interval '1 month' order by book_id, as_of, recorded_at desc, id desc)`;

/** Recomputes the rollup rows of these co-ops up to the month `currentMonth` (YYYY-MM-01). */
export async function recomputeRollup(
  tx: TxClient,
  books: { bookId: string; fingerprint: string }[],
  currentMonth: string,
  genders: readonly string[],
  races: readonly string[],
): Promise<void> {
  if (books.length === 0) return;
  const ids = books.map((b) => b.bookId);
  await tx.query('delete from reporting_coop_month where book_id = any($1::uuid[])', [ids]);
  const parts = Object.entries(ROLLUP_QUERIES).map(
    ([measure, q]) => `select '${measure}' as measure, * from (${q}) q`,
  );
  for (const g of genders) parts.push(`select 'WORKER_OWNERS_${g}', * from (${breakdown('gender', g)}) q`);
  for (const r of races) parts.push(`select 'WORKER_OWNERS_RACE_${r}', * from (${breakdown('race', r)}) q`);
  await tx.query(
    `${WITH}
     insert into reporting_coop_month (book_id, measure, month, value)
     select book_id, measure, month, value from (${parts.map((p) => `(${p})`).join(' union all ')}) as u(measure, book_id, month, value)
      where value <> 0 and month <= $2::date`,
    [ids, currentMonth],
  );
  await tx.query(
    `insert into reporting_refresh (book_id, fingerprint, refreshed_at)
     select b, f, now() from unnest($1::uuid[], $2::text[]) as x(b, f)
     on conflict (book_id) do update set fingerprint = excluded.fingerprint, refreshed_at = excluded.refreshed_at`,
    [ids, books.map((b) => b.fingerprint)],
  );
}

export interface RollupRow {
  bookId: string;
  measure: string;
  month: string;
  value: string;
}

export async function rollupRows(db: Queryable, bookIds: string[]): Promise<RollupRow[]> {
  const { rows } = await db.query(
    `select book_id, measure, to_char(month, 'YYYY-MM') as month, value::text from reporting_coop_month
      where book_id = any($1::uuid[]) order by book_id, measure, month`,
    [bookIds],
  );
  return rows.map((r) => ({ bookId: r.book_id, measure: r.measure, month: r.month, value: r.value }));
}

export async function lockCity(tx: TxClient, cityKey: string): Promise<void> {
  await tx.query('select pg_advisory_xact_lock(hashtextextended($1, 15))', [`reporting-city:${cityKey}`]);
}

/**
 * The key of the lock a city's release holds while it is computed (minutes), in every process:
 * a session-level advisory lock, another key than lockCity's (which transactions take and wait
 * for), so that it is only ever tried, never waited for.
 */
export function publishLockKey(cityKey: string): string {
  return `reporting-publish:${cityKey}`;
}

/** Takes the city's publish lock on `session` (a connection held for the release), if free. */
export async function tryLockPublish(session: TxClient, cityKey: string): Promise<boolean> {
  const { rows } = await session.query('select pg_try_advisory_lock(hashtextextended($1, 15)) as taken', [
    publishLockKey(cityKey),
  ]);
  return rows[0].taken === true;
}

/** Gives the city's publish lock back (false when `session` did not hold it). */
export async function unlockPublish(session: TxClient, cityKey: string): Promise<boolean> {
  const { rows } = await session.query('select pg_advisory_unlock(hashtextextended($1, 15)) as freed', [
    publishLockKey(cityKey),
  ]);
  return rows[0].freed === true;
}

/**
 * Whether some session (another process's release) holds the city's publish lock now: tried and
 * at once given back, in one statement, so nothing is held. A hint for an early answer only; the
 * lock itself is taken with tryLockPublish.
 */
export async function publishLockHeld(db: Queryable, cityKey: string): Promise<boolean> {
  const { rows } = await db.query(
    `select case when pg_try_advisory_lock(hashtextextended($1, 15))
                 then not pg_advisory_unlock(hashtextextended($1, 15)) else true end as held`,
    [publishLockKey(cityKey)],
  );
  return rows[0].held === true;
}

// ---------- releases ----------

/**
 * What a co-op's neighbourhood called TOTAL is frozen as: TOTAL is the code of every
 * classification's margin, and a part of that name made every release of the city fail (an
 * invariant of the table's dimension, an internal error).
 */
export const TOTAL_NEIGHBOURHOOD = 'TOTAL (neighbourhood)';

/**
 * Copies into `reporting_frozen` the rollup of the months after `afterMonth` up to `throughMonth`
 * of the city's co-ops that consent now and had consented by the month's first day; money
 * measures only for co-ops whose base currency is the release's, those the rollup keeps in the
 * co-op's minor unit brought to the release's (`scale`; rounded half away from zero when the
 * co-op's books are finer). The co-op's classification and contributor group are copied with them
 * (a neighbourhood called TOTAL as TOTAL_NEIGHBOURHOOD).
 */
export async function freezeMonths(
  tx: TxClient,
  q: {
    cityKey: string;
    afterMonth: string | null;
    throughMonth: string;
    currency: string;
    moneyMeasures: string[];
    /** Measures the earlier releases did not have: frozen for their months too (new cells, no revision). */
    backfillMeasures?: string[];
    /** The release's decimal places: `baseScaleMeasures` are brought from the co-op's to them. */
    scale?: number;
    /** Money measures the rollup keeps in minor units of the co-op's base currency. */
    baseScaleMeasures?: string[];
    seq: number;
  },
): Promise<number> {
  const { rowCount } = await tx.query(
    `insert into reporting_frozen (city_key, book_id, measure, month, value, neighbourhood, sector, kind, group_key, release_seq)
     select $1, r.book_id, r.measure, r.month,
            case when $10::int is not null and r.measure = any($9::text[])
                 then round(r.value * 10::numeric ^ ($10::int - (select u.scale from book_unit u
                        where u.book_id = c.book_id and u.code = c.base_currency)))
                 else r.value end,
            case coalesce(nullif(c.neighbourhood, ''), 'UNSPECIFIED')
              when 'TOTAL' then $8 else coalesce(nullif(c.neighbourhood, ''), 'UNSPECIFIED') end,
            left(c.naics_code, 2), c.kind,
            coalesce((select p.reporting_group from reporting_profile p where p.book_id = c.book_id
                       order by p.as_of desc, p.recorded_at desc, p.id desc limit 1), c.book_id::text),
            $6
       from reporting_coop_month r join coop c on c.book_id = r.book_id
      where lower(c.city) = $1 and c.data_sharing_consent and c.data_sharing_consent_at <= r.month
        and ($2::date is null or r.month > $2::date or r.measure = any($7::text[])) and r.month <= $3::date
        and (r.measure <> all($5::text[]) or c.base_currency = $4)`,
    [
      q.cityKey,
      q.afterMonth,
      q.throughMonth,
      q.currency,
      q.moneyMeasures,
      q.seq,
      q.backfillMeasures ?? [],
      TOTAL_NEIGHBOURHOOD,
      q.baseScaleMeasures ?? [],
      q.scale ?? null,
    ],
  );
  return rowCount ?? 0;
}

export interface FrozenRow {
  bookId: string;
  measure: string;
  month: string;
  value: number;
  neighbourhood: string;
  sector: string;
  kind: string;
  group: string;
}

/** Frozen rows read per statement by forEachFrozenChunk. */
export const FROZEN_CHUNK_ROWS = 10_000;

/**
 * Every frozen row of the city up to `throughMonth`, in `tx`, `chunkRows` at a time through a
 * cursor, in one canonical order (book, measure, month: the table's key after the city, so read by
 * its index with no sort): a city of the issue's full size has about a million rows, which the
 * service's 128 MB heap cannot hold at once. `onChunk` is awaited before the next chunk is read.
 * In a transaction: the months frozen in it (not committed) are read too. Returns the rows read.
 */
export async function forEachFrozenChunk(
  tx: TxClient,
  cityKey: string,
  throughMonth: string,
  onChunk: (rows: FrozenRow[]) => Promise<void> | void,
  chunkRows = FROZEN_CHUNK_ROWS,
): Promise<number> {
  await tx.query(
    `declare reporting_frozen_rows no scroll cursor for
     select book_id, measure, to_char(month, 'YYYY-MM') as month, value::text, neighbourhood, sector, kind, group_key
       from reporting_frozen where city_key = $1 and month <= $2::date
      order by book_id, measure, month`,
    [cityKey, throughMonth],
  );
  let count = 0;
  for (;;) {
    const { rows } = await tx.query(
      `fetch forward ${Math.max(1, Math.floor(chunkRows))} from reporting_frozen_rows`,
    );
    if (rows.length === 0) break;
    count += rows.length;
    await onChunk(
      rows.map((r) => ({
        bookId: r.book_id,
        measure: r.measure,
        month: r.month,
        value: Number(r.value),
        neighbourhood: r.neighbourhood,
        sector: r.sector,
        kind: r.kind,
        group: r.group_key,
      })),
    );
  }
  await tx.query('close reporting_frozen_rows');
  return count;
}

export interface ReleaseRow {
  id: string;
  cityKey: string;
  city: string;
  seq: number;
  currency: string;
  firstMonth: string;
  throughMonth: string;
  policy: unknown;
  dimensions: unknown;
  cells: Buffer;
  protection: Buffer;
  summary: unknown;
  createdAt: Date;
  createdBy: string;
}

const RELEASE_COLUMNS = `id, city_key, city, seq, currency, to_char(first_month, 'YYYY-MM') as first_month,
  to_char(through_month, 'YYYY-MM') as through_month, policy, dimensions, cells, protection, summary, created_at, created_by`;
/** A release's columns without its cells and protection (read apart, in chunks: withBytes), with their lengths. */
const RELEASE_HEAD_COLUMNS = `${RELEASE_COLUMNS.replace('cells, protection, ', '')},
  octet_length(cells) as cells_length, octet_length(protection) as protection_length`;

function releaseFromRow(r: Record<string, unknown>): ReleaseRow {
  return {
    id: r.id as string,
    cityKey: r.city_key as string,
    city: r.city as string,
    seq: Number(r.seq),
    currency: r.currency as string,
    firstMonth: r.first_month as string,
    throughMonth: r.through_month as string,
    policy: r.policy,
    dimensions: r.dimensions,
    cells: r.cells as Buffer,
    protection: r.protection as Buffer,
    summary: r.summary,
    createdAt: new Date(r.created_at as string),
    createdBy: r.created_by as string,
  };
}

export async function latestRelease(db: Queryable, cityKey: string): Promise<ReleaseRow | null> {
  const { rows } = await db.query(
    `select ${RELEASE_HEAD_COLUMNS} from reporting_release where city_key = $1 order by seq desc limit 1`,
    [cityKey],
  );
  return rows[0] ? withBytes(db, rows[0]) : null;
}

/** The latest release's id and number (without its cells), for a cache check. */
export async function latestReleaseId(db: Queryable, cityKey: string): Promise<string | null> {
  const { rows } = await db.query(
    'select id from reporting_release where city_key = $1 order by seq desc limit 1',
    [cityKey],
  );
  return (rows[0]?.id as string | undefined) ?? null;
}

/** A release by id; `chunk`: bytes of its cells or protection read per statement. */
export async function releaseById(
  db: Queryable,
  id: string,
  chunk = BYTES_CHUNK,
): Promise<ReleaseRow | null> {
  const { rows } = await db.query(`select ${RELEASE_HEAD_COLUMNS} from reporting_release where id = $1`, [
    id,
  ]);
  return rows[0] ? withBytes(db, rows[0], chunk) : null;
}

/** Bytes of a release's cells or protection read by one statement (hex text twice that on the heap). */
const BYTES_CHUNK = 4 << 20;

/**
 * A release with its cells and protection, read in chunks: a city of the issue's full size stores
 * tens of megabytes of cells, which pg would hand over as one hex string twice that size on a heap
 * of 128 MB. (pg's binary results decode each value as UTF-8 text first, so they cannot carry bytes.)
 */
async function withBytes(
  db: Queryable,
  head: Record<string, unknown>,
  chunk = BYTES_CHUNK,
): Promise<ReleaseRow> {
  const read = async (column: 'cells' | 'protection', length: number): Promise<Buffer> => {
    const bytes = Buffer.allocUnsafe(length);
    for (let at = 0; at < length; at += chunk) {
      const part = await db.query<{ b: Buffer }>(
        `select substring(${column} from $2::int for $3::int) as b from reporting_release where id = $1`,
        [head.id, at + 1, chunk],
      );
      const got = part.rows[0]?.b;
      if (!got || got.length !== Math.min(chunk, length - at))
        throw new Error(`release ${String(head.id)}: its ${column} changed while read`);
      got.copy(bytes, at);
    }
    return bytes;
  };
  const cells = await read('cells', Number(head.cells_length));
  const protection = await read('protection', Number(head.protection_length));
  return releaseFromRow({ ...head, cells, protection });
}

export async function listReleases(db: Queryable, cityKey: string, limit: number): Promise<ReleaseRow[]> {
  const { rows } = await db.query(
    `select ${RELEASE_COLUMNS.replace('cells, protection, ', "''::bytea as cells, ''::bytea as protection, ")}
       from reporting_release where city_key = $1 order by seq desc limit $2`,
    [cityKey, limit],
  );
  return rows.map(releaseFromRow);
}

/** The channel a stored release is announced on (its city key as the payload). */
export const RELEASE_CHANNEL = 'reporting_release';

/** Stores a release and announces it to every process (in the same transaction). */
export async function insertRelease(tx: TxClient, r: ReleaseRow): Promise<void> {
  await tx.query(
    `insert into reporting_release (city_key, seq, id, city, currency, first_month, through_month, policy, dimensions,
       cells, protection, summary, created_at, created_by)
     values ($1, $2, $3, $4, $5, ($6 || '-01')::date, ($7 || '-01')::date, $8, $9, $10, $11, $12, $13, $14)`,
    [
      r.cityKey,
      r.seq,
      r.id,
      r.city,
      r.currency,
      r.firstMonth,
      r.throughMonth,
      JSON.stringify(r.policy),
      JSON.stringify(r.dimensions),
      r.cells,
      r.protection,
      JSON.stringify(r.summary),
      r.createdAt,
      r.createdBy,
    ],
  );
  // Heard by every process's LatestReleases when this transaction commits (latest.ts).
  await tx.query('select pg_notify($1, $2)', [RELEASE_CHANNEL, r.cityKey]);
}

/** Decimal places of a currency as the city's co-ops keep it (2 when none does). */
export async function currencyScale(db: Queryable, cityKey: string, currency: string): Promise<number> {
  const { rows } = await db.query(
    `select max(u.scale) as scale from coop c join book_unit u on u.book_id = c.book_id and u.code = c.base_currency
      where lower(c.city) = $1 and c.base_currency = $2`,
    [cityKey, currency],
  );
  return rows[0]?.scale === null || rows[0]?.scale === undefined ? 2 : Number(rows[0].scale);
}
