/**
 * The patronage domain's SQL. Set-based where rows come by the thousand (records, allocations,
 * payments: one `unnest` statement each, whatever the count); MikroORM entities (entities.ts) for
 * the plain single-record reads. Amounts travel as text and become decimal.js in the use cases.
 */
import { Decimal, InvariantError } from '../core/index.js';
import type { Queryable, TxClient } from '../platform/transaction.js';
import type { ConsentRecord, PayMethod, StoredPatronageRecord } from './records.js';

export type PatronageAccountPurpose = 'PATRONAGE_PAYABLE' | 'COMMUNITY_FUND' | 'SURPLUS_ALLOCATED';

const D = (v: unknown) => new Decimal(String(v));

/**
 * Serialises the patronage writers of one co-op (records, policy versions) with a transaction-level
 * advisory lock: overlap checks of records are then race-free. Runs and payouts take the book's
 * chain-head lock instead, like every writer of entries.
 */
export async function lockPatronage(client: TxClient, bookId: string): Promise<void> {
  await client.query(`select pg_advisory_xact_lock(hashtextextended($1, 13))`, [`patronage:${bookId}`]);
}

// ---------- accounts ----------

export async function patronageAccounts(
  db: Queryable,
  bookId: string,
): Promise<Partial<Record<PatronageAccountPurpose, string>>> {
  const { rows } = await db.query('select purpose, account_id from patronage_account where book_id = $1', [
    bookId,
  ]);
  return Object.fromEntries(rows.map((r) => [r.purpose, r.account_id]));
}

/**
 * Accounts of the book with these codes (id, type, unit), so a policy reuses an account the
 * treasurer already made with the code the patronage chart wants. The one read of the ledger's
 * account table by code: the ledger's face offers lookups by id only.
 */
export async function accountsByCode(
  db: Queryable,
  bookId: string,
  codes: string[],
): Promise<Map<string, { id: string; type: string; unitCode: string; closed: boolean }>> {
  const { rows } = await db.query(
    `select code, id, type, unit_code, closed_at is not null as closed from account where book_id = $1 and code = any($2::text[])`,
    [bookId, codes],
  );
  return new Map(
    rows.map((r) => [r.code, { id: r.id, type: r.type, unitCode: r.unit_code, closed: r.closed }]),
  );
}

export async function insertPatronageAccounts(
  client: TxClient,
  bookId: string,
  rows: { purpose: PatronageAccountPurpose; accountId: string }[],
): Promise<void> {
  if (rows.length === 0) return;
  await client.query(
    `insert into patronage_account (book_id, purpose, account_id)
     select $1, p, a from unnest($2::text[], $3::uuid[]) as x(p, a) on conflict do nothing`,
    [bookId, rows.map((r) => r.purpose), rows.map((r) => r.accountId)],
  );
}

// ---------- policy ----------

export interface PolicyRow {
  version: number;
  policy: Record<string, unknown>;
  requestHash: string | null;
  createdAt: Date;
  createdBy: string | null;
}

const policyFromRow = (r: Record<string, unknown>): PolicyRow => ({
  version: Number(r.version),
  policy: r.policy as Record<string, unknown>,
  requestHash: (r.request_hash as string | null) ?? null,
  createdAt: new Date(r.created_at as string),
  createdBy: (r.created_by as string | null) ?? null,
});

/** The latest version (version null), or that version. */
export async function policyRow(
  db: Queryable,
  bookId: string,
  version: number | null,
): Promise<PolicyRow | null> {
  const { rows } = await db.query(
    `select version, policy, request_hash, created_at, created_by from patronage_policy
      where book_id = $1 and ($2::int is null or version = $2) order by version desc limit 1`,
    [bookId, version],
  );
  return rows[0] ? policyFromRow(rows[0]) : null;
}

export async function policyRows(db: Queryable, bookId: string): Promise<PolicyRow[]> {
  const { rows } = await db.query(
    `select version, policy, request_hash, created_at, created_by from patronage_policy where book_id = $1 order by version`,
    [bookId],
  );
  return rows.map(policyFromRow);
}

export async function policyByKey(db: Queryable, bookId: string, key: string): Promise<PolicyRow | null> {
  const { rows } = await db.query(
    `select version, policy, request_hash, created_at, created_by from patronage_policy where book_id = $1 and idempotency_key = $2`,
    [bookId, key],
  );
  return rows[0] ? policyFromRow(rows[0]) : null;
}

export async function insertPolicy(
  client: TxClient,
  p: {
    bookId: string;
    version: number;
    policy: unknown;
    key: string | null;
    hash: string | null;
    actor: string;
  },
): Promise<void> {
  await client.query(
    `insert into patronage_policy (book_id, version, policy, idempotency_key, request_hash, created_at, created_by)
     values ($1, $2, $3::jsonb, $4, $5, now(), $6)`,
    [p.bookId, p.version, JSON.stringify(p.policy), p.key, p.hash, p.actor],
  );
}

// ---------- records ----------

export interface NewRecord {
  id: string;
  membershipId: string;
  measure: string;
  periodStart: string;
  periodEnd: string;
  quantity: string;
}

/** Records (new ones, by their index in `rows`) whose period overlaps a stored record of the same member and measure. */
export async function overlappingRecords(
  client: TxClient,
  bookId: string,
  rows: NewRecord[],
): Promise<{ index: number; periodStart: string; periodEnd: string }[]> {
  const { rows: found } = await client.query(
    `select x.i, to_char(r.period_start, 'YYYY-MM-DD') as ps, to_char(r.period_end, 'YYYY-MM-DD') as pe
       from unnest($2::uuid[], $3::text[], $4::date[], $5::date[]) with ordinality as x(m, measure, s, e, i)
       join lateral (select period_start, period_end from patronage_record r
                      where r.book_id = $1 and r.membership_id = x.m and r.measure = x.measure
                        and r.period_start <= x.e and r.period_end >= x.s limit 1) r on true
      order by x.i`,
    [
      bookId,
      rows.map((r) => r.membershipId),
      rows.map((r) => r.measure),
      rows.map((r) => r.periodStart),
      rows.map((r) => r.periodEnd),
    ],
  );
  return found.map((f) => ({ index: Number(f.i) - 1, periodStart: f.ps, periodEnd: f.pe }));
}

export async function insertRecords(
  client: TxClient,
  bookId: string,
  batchKey: string,
  rows: NewRecord[],
): Promise<void> {
  for (let i = 0; i < rows.length; i += 10_000) {
    const chunk = rows.slice(i, i + 10_000);
    await client.query(
      `insert into patronage_record (book_id, id, membership_id, measure, period_start, period_end, quantity, batch_key, created_at)
       select $1, i, m, me, s, e, q, $2, now()
         from unnest($3::uuid[], $4::uuid[], $5::text[], $6::date[], $7::date[], $8::numeric[]) as x(i, m, me, s, e, q)`,
      [
        bookId,
        batchKey,
        chunk.map((r) => r.id),
        chunk.map((r) => r.membershipId),
        chunk.map((r) => r.measure),
        chunk.map((r) => r.periodStart),
        chunk.map((r) => r.periodEnd),
        chunk.map((r) => r.quantity),
      ],
    );
  }
}

export async function batchByKey(
  db: Queryable,
  bookId: string,
  key: string,
): Promise<{ requestHash: string; result: unknown } | null> {
  const { rows } = await db.query(
    'select request_hash, result from patronage_batch where book_id = $1 and idempotency_key = $2',
    [bookId, key],
  );
  return rows[0] ? { requestHash: rows[0].request_hash, result: rows[0].result } : null;
}

export async function insertBatch(
  client: TxClient,
  b: { bookId: string; key: string; hash: string; kind: 'RECORDS' | 'CSV'; result: unknown; actor: string },
): Promise<void> {
  await client.query(
    `insert into patronage_batch (book_id, idempotency_key, request_hash, kind, result, created_at, created_by)
     values ($1, $2, $3, $4, $5::jsonb, now(), $6)`,
    [b.bookId, b.key, b.hash, b.kind, JSON.stringify(b.result), b.actor],
  );
}

// period_start is indexed; a record is at most 366 days long, so it starts at most 365 days before `start`.
const touching = (r = '') =>
  `${r}book_id = $1 and ${r}period_start <= $3::date and ${r}period_start >= $2::date - 366 and ${r}period_end >= $2::date`;
const TOUCHING = touching();

export interface RecordRow {
  membershipId: string;
  measure: string;
  startDay: number;
  endDay: number;
  quantity: string;
}
/**
 * The sums of one member's records of one measure, as the row PostgreSQL sent it (no object made
 * per group: 20,000 of them for 10,000 members): [grouping bit, membership id, measure, length,
 * count, first day, last day (day numbers), sum of quantities (a plain decimal)].
 */
export type RecordGroup = [0, string, string, null, number, number, number, string];

/**
 * A co-op's records touching a year [start, end] (inclusive dates), in one scan: how many, their
 * distinct lengths in days (the counter's common denominator is made of them), and their sums per
 * member and measure with the first and last day they cover. A member whose records of a measure
 * all lie within their one ACTIVE span counts their sum in full, so only these sums travel; the
 * few groups that are not wholly within membership are read again record by record
 * (`recordsOfGroups`). Two grouping sets of one hash aggregate: 240,000 records into 20,000 sums
 * and the lengths, one statement where the lengths were a second scan before (40 to 90 ms here).
 */
export async function recordGroups(
  db: Queryable,
  bookId: string,
  start: string,
  end: string,
): Promise<{ count: number; lengths: number[]; groups: RecordGroup[] }> {
  const { rows } = await db.query({
    text: `select grouping(membership_id), membership_id, measure, period_end - period_start + 1, count(*)::int,
                  min(period_start) - date '1970-01-01', max(period_end) - date '1970-01-01', sum(quantity)::text
             from patronage_record where ${TOUCHING}
            group by grouping sets ((membership_id, measure), (period_end - period_start + 1))`,
    values: [bookId, start, end],
    rowMode: 'array',
  });
  let count = 0;
  const lengths: number[] = [];
  const groups: RecordGroup[] = [];
  for (const r of rows as ([1, null, null, number, number, null, null, null] | RecordGroup)[]) {
    if (r[0] === 1) {
      // A row of the lengths' grouping set (membership_id and measure aggregated away).
      count += r[4];
      lengths.push(r[3]);
    } else groups.push(r);
  }
  return { count, lengths: lengths.sort((x, y) => x - y), groups };
}

/** The records touching a year of these (member, measure) groups, one by one (day numbers). */
export async function recordsOfGroups(
  db: Queryable,
  bookId: string,
  start: string,
  end: string,
  groups: { membershipId: string; measure: string }[],
): Promise<RecordRow[]> {
  if (groups.length === 0) return [];
  const { rows } = await db.query({
    text: `select r.membership_id, r.measure, r.period_start - date '1970-01-01', r.period_end - date '1970-01-01', r.quantity::text
             from patronage_record r join unnest($4::uuid[], $5::text[]) as g(m, measure)
               on g.m = r.membership_id and g.measure = r.measure
            where ${touching('r.')}`,
    values: [bookId, start, end, groups.map((g) => g.membershipId), groups.map((g) => g.measure)],
    rowMode: 'array',
  });
  return (rows as [string, string, number, number, string][]).map((r) => ({
    membershipId: r[0],
    measure: r[1],
    startDay: r[2],
    endDay: r[3],
    quantity: r[4],
  }));
}

/** A page of a connection: after/before are the list's keys; `backward` reads from the end down. */
export interface PageQuery<C> {
  after: C | null;
  before: C | null;
  limit: number;
  backward: boolean;
}

export interface RecordFilter {
  membershipId: string | null;
  from: string | null;
  to: string | null;
}

const RECORD_FILTER = `r.book_id = $1 and ($2::uuid is null or r.membership_id = $2::uuid)
        and ($3::date is null or r.period_end >= $3::date) and ($4::date is null or r.period_start <= $4::date)`;

/** A co-op's records (with the filter) in recording (id) order, between cursors, either way. */
export async function recordPage(
  db: Queryable,
  bookId: string,
  filter: RecordFilter,
  q: PageQuery<string>,
): Promise<StoredPatronageRecord[]> {
  const { rows } = await db.query(
    `select r.id, r.membership_id, m.member_number, r.measure, to_char(r.period_start, 'YYYY-MM-DD') as ps,
            to_char(r.period_end, 'YYYY-MM-DD') as pe, r.quantity::text as q, r.created_at
       from patronage_record r join membership m on m.book_id = r.book_id and m.id = r.membership_id
      where ${RECORD_FILTER}
        and ($5::uuid is null or r.id > $5::uuid) and ($6::uuid is null or r.id < $6::uuid)
      order by r.id ${q.backward ? 'desc' : 'asc'} limit $7`,
    [bookId, filter.membershipId, filter.from, filter.to, q.after, q.before, q.limit],
  );
  return rows.map((r) => ({
    bookId,
    id: r.id,
    membershipId: r.membership_id,
    memberNumber: Number(r.member_number),
    measure: r.measure,
    periodStart: r.ps,
    periodEnd: r.pe,
    quantity: D(r.q),
    createdAt: new Date(r.created_at),
  }));
}

export async function countRecords(db: Queryable, bookId: string, filter: RecordFilter): Promise<number> {
  const { rows } = await db.query(
    `select count(*)::int as n from patronage_record r where ${RECORD_FILTER}`,
    [bookId, filter.membershipId, filter.from, filter.to],
  );
  return rows[0].n as number;
}

// ---------- consent ----------

export async function upsertConsent(db: Queryable, c: Omit<ConsentRecord, 'recordedAt'>): Promise<void> {
  await db.query(
    `insert into patronage_consent (book_id, membership_id, consented, effective_on, recorded_at, recorded_by)
     values ($1, $2, $3, $4, now(), $5)
     on conflict (book_id, membership_id) do update
       set consented = excluded.consented, effective_on = excluded.effective_on,
           recorded_at = excluded.recorded_at, recorded_by = excluded.recorded_by`,
    [c.bookId, c.membershipId, c.consented, c.effectiveOn, c.recordedBy],
  );
}

export async function consents(
  db: Queryable,
  bookId: string,
  membershipIds: string[] | null,
): Promise<ConsentRecord[]> {
  const { rows } = await db.query(
    `select membership_id, consented, to_char(effective_on, 'YYYY-MM-DD') as on_day, recorded_at, recorded_by
       from patronage_consent where book_id = $1 and ($2::uuid[] is null or membership_id = any($2::uuid[]))`,
    [bookId, membershipIds],
  );
  return rows.map((r) => ({
    bookId,
    membershipId: r.membership_id,
    consented: r.consented,
    effectiveOn: r.on_day,
    recordedAt: new Date(r.recorded_at),
    recordedBy: r.recorded_by,
  }));
}

// ---------- runs ----------

export interface RunRow {
  bookId: string;
  id: string;
  fiscalYear: number;
  kind: 'SURPLUS' | 'LOSS';
  status: 'COMMITTED' | 'REVERSED';
  policyVersion: number;
  allocatedOn: string;
  surplus: Decimal;
  surplusSource: 'BOOK' | 'GIVEN';
  reserve: Decimal;
  community: Decimal;
  memberPool: Decimal;
  belowMinimum: Decimal;
  inputs: Record<string, unknown>;
  inputsHash: string;
  summary: Record<string, unknown>;
  entryCount: number;
  idempotencyKey: string;
  requestHash: string;
  createdAt: Date;
  createdBy: string | null;
  reversedAt: Date | null;
  reversedBy: string | null;
  reversalKey: string | null;
  reversalRequestHash: string | null;
  memberCount: number;
  cashTotal: Decimal;
  retainedTotal: Decimal;
}

const RUN_COLUMNS = `r.book_id, r.id, r.fiscal_year, r.kind, r.status, r.policy_version, to_char(r.allocated_on, 'YYYY-MM-DD') as allocated_on,
  r.surplus::text as surplus, r.surplus_source, r.reserve::text as reserve, r.community::text as community,
  r.member_pool::text as member_pool, r.below_minimum::text as below_minimum, r.inputs_hash, r.entry_count,
  r.idempotency_key, r.request_hash, r.created_at, r.created_by, r.reversed_at, r.reversed_by, r.reversal_key,
  r.reversal_request_hash, r.summary,
  (select json_build_array(count(*), coalesce(sum(a.cash), 0)::text, coalesce(sum(a.retained), 0)::text)
     from patronage_allocation a where a.book_id = r.book_id and a.run_id = r.id) as sums`;

function runFromRow(r: Record<string, unknown>, inputs: Record<string, unknown> | null): RunRow {
  const [count, cash, retained] = r.sums as [number, string, string];
  return {
    bookId: r.book_id as string,
    id: r.id as string,
    fiscalYear: Number(r.fiscal_year),
    kind: r.kind as RunRow['kind'],
    status: r.status as RunRow['status'],
    policyVersion: Number(r.policy_version),
    allocatedOn: r.allocated_on as string,
    surplus: D(r.surplus),
    surplusSource: r.surplus_source as RunRow['surplusSource'],
    reserve: D(r.reserve),
    community: D(r.community),
    memberPool: D(r.member_pool),
    belowMinimum: D(r.below_minimum),
    inputs: inputs ?? (r.inputs as Record<string, unknown> | undefined) ?? {},
    inputsHash: r.inputs_hash as string,
    summary: r.summary as Record<string, unknown>,
    entryCount: Number(r.entry_count),
    idempotencyKey: r.idempotency_key as string,
    requestHash: r.request_hash as string,
    createdAt: new Date(r.created_at as string),
    createdBy: (r.created_by as string | null) ?? null,
    reversedAt: r.reversed_at ? new Date(r.reversed_at as string) : null,
    reversedBy: (r.reversed_by as string | null) ?? null,
    reversalKey: (r.reversal_key as string | null) ?? null,
    reversalRequestHash: (r.reversal_request_hash as string | null) ?? null,
    memberCount: Number(count),
    cashTotal: D(cash),
    retainedTotal: D(retained),
  };
}

/**
 * Runs by key. `withInputs` also reads the stored inputs (large: every member's records), which
 * only verification and documents need.
 */
export async function findRuns(
  db: Queryable,
  keys: { bookId: string; id: string }[],
  withInputs = false,
): Promise<RunRow[]> {
  if (keys.length === 0) return [];
  const { rows } = await db.query(
    `select ${RUN_COLUMNS}${withInputs ? ', r.inputs' : ", r.inputs - 'members' as inputs"} from patronage_run r
      where (r.book_id, r.id) in (select * from unnest($1::uuid[], $2::uuid[]))`,
    [keys.map((k) => k.bookId), keys.map((k) => k.id)],
  );
  return rows.map((r) => runFromRow(r, null));
}

export async function runIdWhere(
  db: Queryable,
  bookId: string,
  where: { key?: string; reversalKey?: string; liveYear?: number; committedAfter?: string },
): Promise<string | null> {
  const { rows } = await db.query(
    `select id from patronage_run where book_id = $1
        and ($2::text is null or idempotency_key = $2) and ($3::text is null or reversal_key = $3)
        and ($4::int is null or (fiscal_year = $4 and status = 'COMMITTED'))
        and ($5::uuid is null or (id > $5::uuid and status = 'COMMITTED'))
      limit 1`,
    [
      bookId,
      where.key ?? null,
      where.reversalKey ?? null,
      where.liveYear ?? null,
      where.committedAfter ?? null,
    ],
  );
  return rows[0]?.id ?? null;
}

/** A co-op's runs newest first (by id, a UUIDv7), between cursors, either way. */
export async function runPage(db: Queryable, bookId: string, q: PageQuery<string>): Promise<RunRow[]> {
  const { rows } = await db.query(
    `select ${RUN_COLUMNS}, r.inputs - 'members' as inputs from patronage_run r
      where r.book_id = $1 and ($2::uuid is null or r.id < $2::uuid) and ($3::uuid is null or r.id > $3::uuid)
      order by r.id ${q.backward ? 'asc' : 'desc'} limit $4`,
    [bookId, q.after, q.before, q.limit],
  );
  return rows.map((r) => runFromRow(r, null));
}

export async function countRuns(db: Queryable, bookId: string): Promise<number> {
  const { rows } = await db.query('select count(*)::int as n from patronage_run where book_id = $1', [
    bookId,
  ]);
  return rows[0].n as number;
}

export interface NewRun {
  bookId: string;
  id: string;
  fiscalYear: number;
  kind: 'SURPLUS' | 'LOSS';
  policyVersion: number;
  allocatedOn: string;
  surplus: string;
  surplusSource: 'BOOK' | 'GIVEN';
  reserve: string;
  community: string;
  memberPool: string;
  belowMinimum: string;
  inputsJson: string;
  inputsHash: string;
  summaryJson: string;
  entryCount: number;
  key: string;
  hash: string;
  actor: string;
}

export async function insertRun(client: TxClient, r: NewRun): Promise<void> {
  await client.query(
    `insert into patronage_run (book_id, id, fiscal_year, kind, status, policy_version, allocated_on, surplus, surplus_source,
       reserve, community, member_pool, below_minimum, inputs, inputs_hash, summary, entry_count, idempotency_key,
       request_hash, created_at, created_by)
     values ($1, $2, $3, $4, 'COMMITTED', $5, $6, $7, $8, $9, $10, $11, $12, $13::jsonb, $14, $19::jsonb, $15, $16, $17, now(), $18)`,
    [
      r.bookId,
      r.id,
      r.fiscalYear,
      r.kind,
      r.policyVersion,
      r.allocatedOn,
      r.surplus,
      r.surplusSource,
      r.reserve,
      r.community,
      r.memberPool,
      r.belowMinimum,
      r.inputsJson,
      r.inputsHash,
      r.entryCount,
      r.key,
      r.hash,
      r.actor,
      r.summaryJson,
    ],
  );
}

export interface NewAllocation {
  membershipId: string;
  memberNumber: number;
  share: string;
  classCode: string;
  former: boolean;
  /** Per measure of the run (in its order): counted and excluded, as text at the measure's scale. */
  counted: string[];
  excluded: string[];
  allocation: string;
  cash: string;
  retained: string;
  belowMinimum: string;
  qualified: boolean;
  consent: string;
}

/**
 * A run's allocations. Each row's `patronage` document ({classCode, former, measures: [{measure,
 * unit, counted, excluded}]}) is built by PostgreSQL from flat fields (the run's measures and units
 * given once), not parsed from a nested JSON document per member: parsing those was most of the
 * statement (130 to 330 ms for 10,000 rows here against 45 to 65 ms built, load 4 to 6). The rows
 * travel as one flat JSON document per chunk (serialised natively by JSON.stringify), not thirteen
 * arrays the pg driver escapes element by element in JavaScript.
 */
export async function insertAllocations(
  client: TxClient,
  bookId: string,
  runId: string,
  fiscalYear: number,
  measures: { measure: string; unit: unknown }[],
  rows: NewAllocation[],
): Promise<void> {
  const params = measures.flatMap((m) => [m.measure, JSON.stringify(m.unit)]);
  const measureJson = measures
    .map(
      (_, k) =>
        `jsonb_build_object('measure', $${5 + 2 * k}::text, 'unit', $${6 + 2 * k}::jsonb, 'counted', x.c${k}, 'excluded', x.e${k})`,
    )
    .join(', ');
  const fields = measures.map((_, k) => `c${k} text, e${k} text`).join(', ');
  for (let i = 0; i < rows.length; i += 5_000) {
    const c = rows.slice(i, i + 5_000).map((a) => {
      const row: Record<string, unknown> = {
        m: a.membershipId,
        n: a.memberNumber,
        s: a.share,
        cc: a.classCode,
        f: a.former,
        a: a.allocation,
        c: a.cash,
        r: a.retained,
        b: a.belowMinimum,
        q: a.qualified,
        co: a.consent,
      };
      if (a.counted.length !== measures.length || a.excluded.length !== measures.length)
        throw new InvariantError(`member ${a.memberNumber}: not one figure per measure of the run`);
      for (let k = 0; k < measures.length; k++) {
        row[`c${k}`] = a.counted[k];
        row[`e${k}`] = a.excluded[k];
      }
      return row;
    });
    await client.query(
      `insert into patronage_allocation (book_id, run_id, membership_id, member_number, fiscal_year, share, patronage,
         allocation, cash, retained, below_minimum, qualified, consent)
       select $1, $2, x.m, x.n, $3, x.s,
              jsonb_build_object('classCode', x.cc, 'former', x.f, 'measures', jsonb_build_array(${measureJson})),
              x.a, x.c, x.r, x.b, x.q, x.co
         from json_to_recordset($4::json)
           as x(m uuid, n int, s text, cc text, f bool, ${fields}${fields ? ', ' : ''}a numeric, c numeric, r numeric, b numeric, q bool, co text)`,
      [bookId, runId, fiscalYear, JSON.stringify(c), ...params],
    );
  }
}

export interface AllocationRow {
  bookId: string;
  runId: string;
  membershipId: string;
  memberNumber: number;
  fiscalYear: number;
  share: string;
  patronage: { measure: string; unit: { code: string; scale: number }; counted: string; excluded: string }[];
  classCode: string;
  former: boolean;
  allocation: Decimal;
  cash: Decimal;
  retained: Decimal;
  belowMinimum: Decimal;
  qualified: boolean;
  consent: 'BYLAW' | 'WRITTEN' | 'NONE';
  cashPaid: Decimal;
  redeemed: Decimal;
  writtenOff: Decimal;
}

const ALLOCATION_COLUMNS = `a.book_id, a.run_id, a.membership_id, a.member_number, a.fiscal_year, a.share, a.patronage,
  a.allocation::text as allocation, a.cash::text as cash, a.retained::text as retained,
  a.below_minimum::text as below_minimum, a.qualified, a.consent, a.cash_paid::text as cash_paid,
  a.redeemed::text as redeemed, a.written_off::text as written_off`;

function allocationFromRow(r: Record<string, unknown>): AllocationRow {
  const p = r.patronage as { measures: AllocationRow['patronage']; classCode: string; former: boolean };
  return {
    bookId: r.book_id as string,
    runId: r.run_id as string,
    membershipId: r.membership_id as string,
    memberNumber: Number(r.member_number),
    fiscalYear: Number(r.fiscal_year),
    share: r.share as string,
    patronage: p.measures,
    classCode: p.classCode,
    former: p.former,
    allocation: D(r.allocation),
    cash: D(r.cash),
    retained: D(r.retained),
    belowMinimum: D(r.below_minimum),
    qualified: r.qualified as boolean,
    consent: r.consent as AllocationRow['consent'],
    cashPaid: D(r.cash_paid),
    redeemed: D(r.redeemed),
    writtenOff: D(r.written_off),
  };
}

/** A run's allocations in member-number order, between member numbers, either way. */
export async function runAllocations(
  db: Queryable,
  bookId: string,
  runId: string,
  q: PageQuery<number>,
): Promise<AllocationRow[]> {
  const { rows } = await db.query(
    `select ${ALLOCATION_COLUMNS} from patronage_allocation a
      where a.book_id = $1 and a.run_id = $2 and ($3::int is null or a.member_number > $3)
        and ($4::int is null or a.member_number < $4)
      order by a.member_number ${q.backward ? 'desc' : 'asc'} limit $5`,
    [bookId, runId, q.after, q.before, q.limit],
  );
  return rows.map(allocationFromRow);
}

/** Allocations of these memberships (in committed and reversed runs), newest fiscal year first. */
export async function memberAllocations(
  db: Queryable,
  keys: { bookId: string; membershipId: string }[],
): Promise<AllocationRow[]> {
  if (keys.length === 0) return [];
  const { rows } = await db.query(
    `select ${ALLOCATION_COLUMNS} from patronage_allocation a
      where (a.book_id, a.membership_id) in (select * from unnest($1::uuid[], $2::uuid[]))
      order by a.fiscal_year desc, a.run_id desc`,
    [keys.map((k) => k.bookId), keys.map((k) => k.membershipId)],
  );
  return rows.map(allocationFromRow);
}

export async function markReversed(
  client: TxClient,
  r: { bookId: string; runId: string; key: string; hash: string; actor: string },
): Promise<void> {
  await client.query(
    `update patronage_run set status = 'REVERSED', reversed_at = now(), reversed_by = $5, reversal_key = $3, reversal_request_hash = $4
      where book_id = $1 and id = $2`,
    [r.bookId, r.runId, r.key, r.hash, r.actor],
  );
}

// ---------- settlements: cash paid, redeemed, written off ----------

export interface Outstanding {
  runId: string;
  membershipId: string;
  memberNumber: number;
  fiscalYear: number;
  allocatedOn: string;
  qualified: boolean;
  /** Retained less redeemed and written off. */
  outstanding: Decimal;
  revolvingYears: number;
  internalCapitalAccountId: string | null;
}

/** Outstanding retained allocations of committed runs (of these members, or all), oldest year first. */
export async function outstandingRetained(
  db: Queryable,
  bookId: string,
  membershipIds: string[] | null,
): Promise<Outstanding[]> {
  const { rows } = await db.query(
    `select a.run_id, a.membership_id, a.member_number, a.fiscal_year, to_char(r.allocated_on, 'YYYY-MM-DD') as allocated_on,
            a.qualified, (a.retained - a.redeemed - a.written_off)::text as outstanding,
            (p.policy->>'revolvingYears')::int as revolving_years
       from patronage_allocation a
       join patronage_run r on r.book_id = a.book_id and r.id = a.run_id and r.status = 'COMMITTED'
       join patronage_policy p on p.book_id = r.book_id and p.version = r.policy_version
      where a.book_id = $1 and ($2::uuid[] is null or a.membership_id = any($2::uuid[]))
        and a.retained - a.redeemed - a.written_off > 0
      order by a.fiscal_year, a.member_number, a.run_id`,
    [bookId, membershipIds],
  );
  return rows.map((r) => ({
    runId: r.run_id,
    membershipId: r.membership_id,
    memberNumber: Number(r.member_number),
    fiscalYear: Number(r.fiscal_year),
    allocatedOn: r.allocated_on,
    qualified: r.qualified,
    outstanding: D(r.outstanding),
    revolvingYears: Number(r.revolving_years),
    internalCapitalAccountId: null,
  }));
}

/** Loss charged to each member (committed loss runs) and not yet written off against retained allocations. */
export async function carriedLoss(
  db: Queryable,
  bookId: string,
  membershipIds: string[],
): Promise<Map<string, Decimal>> {
  if (membershipIds.length === 0) return new Map();
  // Driven by the book's committed loss runs (few, usually none): only members charged a loss can
  // carry one, so the others are left out of the map (their carried loss is zero or less: their
  // write-offs only ever absorbed loss charges). Member by member over every member was 120 ms
  // for 10,000 members here, on a book that never had a loss.
  const { rows } = await db.query(
    `with l as (select a.membership_id as m, -sum(a.allocation) as charged
                  from patronage_run r join patronage_allocation a on a.book_id = r.book_id and a.run_id = r.id
                 where r.book_id = $1 and r.status = 'COMMITTED' and r.kind = 'LOSS'
                   and a.membership_id in (select unnest($2::uuid[]))
                 group by a.membership_id)
     select l.m as membership_id,
            (l.charged - coalesce((select sum(p.amount) from patronage_payment p
                                    where p.book_id = $1 and p.membership_id = l.m and p.kind = 'WRITE_OFF'), 0))::text as carried
       from l`,
    [bookId, membershipIds],
  );
  return new Map(rows.map((r) => [r.membership_id, D(r.carried)]));
}

/**
 * Unpaid cash parts of committed runs up to fiscal year `upToYear` allocated on or before `paidOn`
 * (an earlier year's run may be committed late, after a later year's), of all members.
 */
export async function unpaidCash(
  db: Queryable,
  bookId: string,
  upToYear: number,
  paidOn: string,
): Promise<
  { runId: string; membershipId: string; memberNumber: number; fiscalYear: number; unpaid: Decimal }[]
> {
  const { rows } = await db.query(
    `select a.run_id, a.membership_id, a.member_number, a.fiscal_year, (a.cash - a.cash_paid)::text as unpaid
       from patronage_allocation a
       join patronage_run r on r.book_id = a.book_id and r.id = a.run_id and r.status = 'COMMITTED'
      where a.book_id = $1 and a.fiscal_year <= $2 and r.allocated_on <= $3::date and a.cash - a.cash_paid > 0
      order by a.member_number, a.fiscal_year, a.run_id`,
    [bookId, upToYear, paidOn],
  );
  return rows.map((r) => ({
    runId: r.run_id,
    membershipId: r.membership_id,
    memberNumber: Number(r.member_number),
    fiscalYear: Number(r.fiscal_year),
    unpaid: D(r.unpaid),
  }));
}

export type PaymentKind = 'CASH' | 'REDEMPTION' | 'LEAVING' | 'WRITE_OFF';

export interface NewPayment {
  sourceId: string;
  runId: string;
  membershipId: string;
  kind: PaymentKind;
  amount: string;
  paidOn: string;
}

/** Records payments and adds each to its allocation's settled column, in two statements. */
export async function insertPayments(client: TxClient, bookId: string, rows: NewPayment[]): Promise<void> {
  if (rows.length === 0) return;
  for (let i = 0; i < rows.length; i += 5_000) {
    const c = rows.slice(i, i + 5_000);
    await client.query(
      `insert into patronage_payment (book_id, source_id, run_id, membership_id, kind, amount, paid_on)
       select $1, s, r, m, k, a, d from unnest($2::text[], $3::uuid[], $4::uuid[], $5::text[], $6::numeric[], $7::date[])
         as x(s, r, m, k, a, d)`,
      [
        bookId,
        c.map((p) => p.sourceId),
        c.map((p) => p.runId),
        c.map((p) => p.membershipId),
        c.map((p) => p.kind),
        c.map((p) => p.amount),
        c.map((p) => p.paidOn),
      ],
    );
    await client.query(
      `update patronage_allocation a set
          cash_paid = a.cash_paid + x.cash, redeemed = a.redeemed + x.redeemed, written_off = a.written_off + x.written_off
         from (select r, m, sum(case when k = 'CASH' then v else 0 end) as cash,
                      sum(case when k in ('REDEMPTION', 'LEAVING') then v else 0 end) as redeemed,
                      sum(case when k = 'WRITE_OFF' then v else 0 end) as written_off
                 from unnest($2::uuid[], $3::uuid[], $4::text[], $5::numeric[]) as y(r, m, k, v) group by r, m) x
        where a.book_id = $1 and a.run_id = x.r and a.membership_id = x.m`,
      [
        bookId,
        c.map((p) => p.runId),
        c.map((p) => p.membershipId),
        c.map((p) => p.kind),
        c.map((p) => p.amount),
      ],
    );
  }
}

/** Payments against a run's allocations, except those whose source is `exceptSource` (the run's own write-offs). */
export async function settlementsAgainst(
  db: Queryable,
  bookId: string,
  runId: string,
  exceptSource: string,
): Promise<number> {
  const { rows } = await db.query(
    `select count(*)::int as n from patronage_payment where book_id = $1 and run_id = $2 and source_id <> $3`,
    [bookId, runId, exceptSource],
  );
  return Number(rows[0].n);
}

/** Removes the write-offs a run made (against any allocation), restoring the allocations' settled columns. */
export async function deleteWriteOffsOf(client: TxClient, bookId: string, sourceId: string): Promise<void> {
  await client.query(
    `with gone as (delete from patronage_payment where book_id = $1 and source_id = $2 and kind = 'WRITE_OFF'
                    returning run_id, membership_id, amount)
     update patronage_allocation a set written_off = a.written_off - g.total
       from (select run_id, membership_id, sum(amount) as total from gone group by run_id, membership_id) g
      where a.book_id = $1 and a.run_id = g.run_id and a.membership_id = g.membership_id`,
    [bookId, sourceId],
  );
}

// ---------- payouts ----------

export interface PayoutRow {
  bookId: string;
  id: string;
  kind: 'CASH' | 'REDEMPTION';
  runId: string | null;
  paidOn: string;
  method: PayMethod;
  total: Decimal;
  cap: Decimal | null;
  entryCount: number;
  idempotencyKey: string;
  requestHash: string;
  createdAt: Date;
  createdBy: string | null;
}

const PAYOUT_COLUMNS = `book_id, id, kind, run_id, to_char(paid_on, 'YYYY-MM-DD') as paid_on, method, total::text as total,
  cap::text as cap, entry_count, idempotency_key, request_hash, created_at, created_by`;

function payoutFromRow(r: Record<string, unknown>): PayoutRow {
  return {
    bookId: r.book_id as string,
    id: r.id as string,
    kind: r.kind as PayoutRow['kind'],
    runId: (r.run_id as string | null) ?? null,
    paidOn: r.paid_on as string,
    method: r.method as PayMethod,
    total: D(r.total),
    cap: r.cap === null ? null : D(r.cap),
    entryCount: Number(r.entry_count),
    idempotencyKey: r.idempotency_key as string,
    requestHash: r.request_hash as string,
    createdAt: new Date(r.created_at as string),
    createdBy: (r.created_by as string | null) ?? null,
  };
}

export async function payoutWhere(
  db: Queryable,
  bookId: string,
  where: { key?: string; cashOfRun?: string; id?: string },
): Promise<PayoutRow | null> {
  const { rows } = await db.query(
    `select ${PAYOUT_COLUMNS} from patronage_payout where book_id = $1
        and ($2::text is null or idempotency_key = $2) and ($3::uuid is null or (run_id = $3 and kind = 'CASH'))
        and ($4::uuid is null or id = $4)`,
    [bookId, where.key ?? null, where.cashOfRun ?? null, where.id ?? null],
  );
  return rows[0] ? payoutFromRow(rows[0]) : null;
}

export async function listPayouts(db: Queryable, bookId: string, limit: number): Promise<PayoutRow[]> {
  const { rows } = await db.query(
    `select ${PAYOUT_COLUMNS} from patronage_payout where book_id = $1 order by id desc limit $2`,
    [bookId, limit],
  );
  return rows.map(payoutFromRow);
}

export async function insertPayout(
  client: TxClient,
  p: Omit<PayoutRow, 'createdAt' | 'total' | 'cap'> & { total: string; cap: string | null },
): Promise<void> {
  await client.query(
    `insert into patronage_payout (book_id, id, kind, run_id, paid_on, method, total, cap, entry_count, idempotency_key,
       request_hash, created_at, created_by)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, now(), $12)`,
    [
      p.bookId,
      p.id,
      p.kind,
      p.runId,
      p.paidOn,
      p.method,
      p.total,
      p.cap,
      p.entryCount,
      p.idempotencyKey,
      p.requestHash,
      p.createdBy,
    ],
  );
}

export async function paymentsOfSource(
  db: Queryable,
  bookId: string,
  sourceId: string,
): Promise<
  {
    runId: string;
    membershipId: string;
    memberNumber: number;
    fiscalYear: number;
    kind: PaymentKind;
    amount: Decimal;
  }[]
> {
  const { rows } = await db.query(
    `select p.run_id, p.membership_id, a.member_number, a.fiscal_year, p.kind, p.amount::text as amount
       from patronage_payment p
       join patronage_allocation a on a.book_id = p.book_id and a.run_id = p.run_id and a.membership_id = p.membership_id
      where p.book_id = $1 and p.source_id = $2 order by a.member_number, a.fiscal_year`,
    [bookId, sourceId],
  );
  return rows.map((r) => ({
    runId: r.run_id,
    membershipId: r.membership_id,
    memberNumber: Number(r.member_number),
    fiscalYear: Number(r.fiscal_year),
    kind: r.kind,
    amount: D(r.amount),
  }));
}

// ---------- tax year ----------

/**
 * Per membership, for calendar year `year`: cash parts paid in it, qualified retained parts of
 * notices dated in it (committed runs), and redemptions of non-qualified retained parts paid in it.
 */
export async function taxYearSums(
  db: Queryable,
  bookId: string,
  year: number,
): Promise<
  { membershipId: string; cashPaid: Decimal; qualifiedNotices: Decimal; nonQualifiedRedeemed: Decimal }[]
> {
  const from = `${year}-01-01`;
  const to = `${year}-12-31`;
  const { rows } = await db.query(
    `with cash as (
       select p.membership_id, sum(p.amount) as v from patronage_payment p
        where p.book_id = $1 and p.kind = 'CASH' and p.paid_on between $2::date and $3::date group by p.membership_id
     ), notices as (
       select a.membership_id, sum(a.retained) as v from patronage_allocation a
         join patronage_run r on r.book_id = a.book_id and r.id = a.run_id and r.status = 'COMMITTED' and r.kind = 'SURPLUS'
        where a.book_id = $1 and a.qualified and a.retained > 0 and r.allocated_on between $2::date and $3::date
        group by a.membership_id
     ), redeemed as (
       select p.membership_id, sum(p.amount) as v from patronage_payment p
         join patronage_allocation a on a.book_id = p.book_id and a.run_id = p.run_id and a.membership_id = p.membership_id
        where p.book_id = $1 and p.kind in ('REDEMPTION', 'LEAVING') and not a.qualified
          and p.paid_on between $2::date and $3::date group by p.membership_id
     )
     select coalesce(c.membership_id, n.membership_id, d.membership_id) as membership_id,
            coalesce(c.v, 0)::text as cash, coalesce(n.v, 0)::text as notices, coalesce(d.v, 0)::text as redeemed
       from cash c full join notices n on n.membership_id = c.membership_id
       full join redeemed d on d.membership_id = coalesce(c.membership_id, n.membership_id)`,
    [bookId, from, to],
  );
  return rows.map((r) => ({
    membershipId: r.membership_id,
    cashPaid: D(r.cash),
    qualifiedNotices: D(r.notices),
    nonQualifiedRedeemed: D(r.redeemed),
  }));
}
