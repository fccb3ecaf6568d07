/**
 * The mutual-credit domain's SQL of obligations, clearings and statistics. Obligations come by the
 * ten thousand (one `unnest` statement per batch, one per clearing's updates). Statistics read
 * the network book's journal (read-only: entries marked `credit.kind = PAYMENT` by this domain),
 * so every figure is a sum of what the ledger holds.
 */
import { Decimal, type ObligationTable } from '../core/index.js';
import type { Queryable, TxClient } from '../platform/transaction.js';
import type { ClearingMode } from './records.js';

const D = (v: unknown) => new Decimal(String(v));

// ---------- obligations ----------

export async function batchByKey(
  db: Queryable,
  bookId: string,
  key: string,
): Promise<{ requestHash: string; recorded: number } | null> {
  const { rows } = await db.query(
    'select request_hash, recorded from credit_obligation_batch where book_id = $1 and idempotency_key = $2',
    [bookId, key],
  );
  return rows[0] ? { requestHash: rows[0].request_hash, recorded: Number(rows[0].recorded) } : null;
}

export async function insertBatch(
  client: TxClient,
  b: { bookId: string; key: string; hash: string; recorded: number; actor: string },
): Promise<void> {
  await client.query(
    `insert into credit_obligation_batch (book_id, idempotency_key, request_hash, recorded, created_at, created_by)
     values ($1, $2, $3, $4, now(), $5)`,
    [b.bookId, b.key, b.hash, b.recorded, b.actor],
  );
}

export interface NewObligation {
  id: string;
  debtorId: string;
  creditorId: string;
  currency: string;
  amount: string;
  dueOn: string;
  reference: string;
}

/** Indexes (into `rows`) of obligations whose creditor already has that reference in that currency. */
export async function takenReferences(
  db: Queryable,
  bookId: string,
  rows: NewObligation[],
): Promise<number[]> {
  const { rows: found } = await db.query(
    `select x.i from unnest($2::uuid[], $3::text[], $4::text[]) with ordinality as x(c, cur, ref, i)
       join credit_obligation o on o.book_id = $1 and o.creditor_id = x.c and o.currency = x.cur and o.reference = x.ref`,
    [bookId, rows.map((r) => r.creditorId), rows.map((r) => r.currency), rows.map((r) => r.reference)],
  );
  return found.map((r) => Number(r.i) - 1);
}

export async function insertObligations(
  client: TxClient,
  bookId: string,
  rows: NewObligation[],
  batchKey: string,
  actor: string,
): Promise<void> {
  const col = <T>(f: (r: NewObligation) => T) => rows.map(f);
  await client.query(
    `insert into credit_obligation (book_id, id, debtor_id, creditor_id, currency, amount, outstanding, due_on, reference,
       batch_key, recorded_at, recorded_by)
     select $1, i, d, c, cur, a, a, due, ref, $9, now(), $10
       from unnest($2::uuid[], $3::uuid[], $4::uuid[], $5::text[], $6::numeric[], $7::date[], $8::text[])
         as x(i, d, c, cur, a, due, ref)`,
    [
      bookId,
      col((r) => r.id),
      col((r) => r.debtorId),
      col((r) => r.creditorId),
      col((r) => r.currency),
      col((r) => r.amount),
      col((r) => r.dueOn),
      col((r) => r.reference),
      batchKey,
      actor,
    ],
  );
}

export interface ObligationRow {
  bookId: string;
  id: string;
  debtorId: string;
  creditorId: string;
  currency: string;
  amount: Decimal;
  outstanding: Decimal;
  dueOn: string;
  reference: string;
  recordedAt: Date;
  recordedBy: string;
}

const OBLIGATION_COLUMNS = `book_id, id, debtor_id, creditor_id, currency, amount::text as amount,
  outstanding::text as outstanding, to_char(due_on, 'YYYY-MM-DD') as due_on, reference, recorded_at, recorded_by`;

const obligationFromRow = (r: Record<string, unknown>): ObligationRow => ({
  bookId: r.book_id as string,
  id: r.id as string,
  debtorId: r.debtor_id as string,
  creditorId: r.creditor_id as string,
  currency: r.currency as string,
  amount: D(r.amount),
  outstanding: D(r.outstanding),
  dueOn: r.due_on as string,
  reference: r.reference as string,
  recordedAt: new Date(r.recorded_at as string),
  recordedBy: r.recorded_by as string,
});

export async function obligationRows(db: Queryable, bookId: string, ids: string[]): Promise<ObligationRow[]> {
  if (ids.length === 0) return [];
  const { rows } = await db.query(
    `select ${OBLIGATION_COLUMNS} from credit_obligation where book_id = $1 and id = any($2::uuid[])`,
    [bookId, ids],
  );
  return rows.map(obligationFromRow);
}

export interface ObligationFilter {
  bookId: string;
  /** Only those this member owes or is owed. */
  memberId: string | null;
  currency: string | null;
  openOnly: boolean;
}

function obligationWhere(f: ObligationFilter): [string, unknown[]] {
  return [
    `book_id = $1 and ($2::uuid is null or debtor_id = $2 or creditor_id = $2)
      and ($3::text is null or currency = $3) and (not $4 or outstanding > 0)`,
    [f.bookId, f.memberId, f.currency, f.openOnly],
  ];
}

export async function obligationPage(
  db: Queryable,
  f: ObligationFilter,
  q: { after: string | null; before: string | null; limit: number; backward: boolean },
): Promise<ObligationRow[]> {
  const [where, params] = obligationWhere(f);
  const { rows } = await db.query(
    `select ${OBLIGATION_COLUMNS} from credit_obligation
      where ${where} and ($5::uuid is null or id > $5) and ($6::uuid is null or id < $6)
      order by id ${q.backward ? 'desc' : 'asc'} limit $7`,
    [...params, q.after, q.before, q.limit],
  );
  return rows.map(obligationFromRow);
}

export async function countObligations(db: Queryable, f: ObligationFilter): Promise<number> {
  const [where, params] = obligationWhere(f);
  const { rows } = await db.query(`select count(*)::int as n from credit_obligation where ${where}`, params);
  return rows[0].n as number;
}

/**
 * The open obligations of a currency as the solver's table (server/core/clearing.ts,
 * ObligationTable): rows sorted by debtor, creditor, due date and id (PostgreSQL sorts; uuid order
 * is the text order the table's members are sorted in), members as indexes into the sorted member
 * ids, outstanding as bigint minor units (exact: checked to have no digits past the currency's
 * scale), and the obligation ids. Read through a cursor 10,000 rows at a time, so the driver never
 * holds the 140,000 rows of a Sardex-size network at once (the whole result as driver rows, then
 * as objects, ran the service's 128 MB heap out), so `client` must be in a transaction.
 */
export interface OpenObligationTable extends ObligationTable {
  ids: UuidColumn;
}

const UUID_TEXT = 36;

/**
 * Uuids as their text in one Buffer, 36 bytes each: off the JavaScript heap (140,000 id strings
 * were 9 MB of the service's 128 MB heap, and every collection marked them again).
 */
export class UuidColumn {
  private bytes = Buffer.alloc(UUID_TEXT * 1024);
  length = 0;

  push(id: string): void {
    if ((this.length + 1) * UUID_TEXT > this.bytes.length) {
      const grown = Buffer.alloc(this.bytes.length * 2);
      this.bytes.copy(grown);
      this.bytes = grown;
    }
    if (this.bytes.write(id, this.length * UUID_TEXT, 'latin1') !== UUID_TEXT || id.length !== UUID_TEXT)
      throw new Error(`not a uuid's text: ${id}`);
    this.length++;
  }

  at(k: number): string {
    return this.bytes.toString('latin1', k * UUID_TEXT, (k + 1) * UUID_TEXT);
  }

  /** Row k's uuid compared with row j's (text order, which is uuid order). */
  compare(k: number, j: number): number {
    return this.bytes.compare(
      this.bytes,
      j * UUID_TEXT,
      (j + 1) * UUID_TEXT,
      k * UUID_TEXT,
      (k + 1) * UUID_TEXT,
    );
  }

  /** A PostgreSQL array literal of these rows' uuids, `{a,b,...}`, made in one piece. */
  literal(rows: ArrayLike<number>): string {
    const out = Buffer.alloc(rows.length * (UUID_TEXT + 1) + 1);
    out[0] = 0x7b; // {
    for (let i = 0; i < rows.length; i++) {
      const at = 1 + i * (UUID_TEXT + 1);
      this.bytes.copy(out, at, rows[i]! * UUID_TEXT, (rows[i]! + 1) * UUID_TEXT);
      out[at + UUID_TEXT] = 0x2c; // ,
    }
    out[out.length - 1] = 0x7d; // } (over the last comma, or after { when empty)
    return out.toString('latin1');
  }
}

const FETCH_ROWS = 10_000;

/** Makes the transaction just begun a read-only one on one snapshot (a preview's reads agree with each other). */
export async function readOnlySnapshot(client: TxClient): Promise<void> {
  await client.query('set transaction isolation level repeatable read, read only');
}

export async function openObligationTable(
  client: TxClient,
  bookId: string,
  currency: string,
  scale: number,
): Promise<OpenObligationTable> {
  // PostgreSQL sorts the rows; its default work_mem spilled the sort to disk.
  await client.query("set local work_mem = '64MB'");
  await client.query({
    text: `declare credit_open_obligations no scroll cursor for
             select id, debtor_id, creditor_id, outstanding::text
               from credit_obligation
              where book_id = $1 and currency = $2 and outstanding > 0
              order by debtor_id, creditor_id, due_on, id`,
    values: [bookId, currency],
  });
  const ids = new UuidColumn();
  const outstanding: bigint[] = [];
  let debtor = new Int32Array(FETCH_ROWS);
  let creditor = new Int32Array(FETCH_ROWS);
  const seen = new Map<string, number>();
  const local: string[] = [];
  const indexOf = (id: string) => {
    let i = seen.get(id);
    if (i === undefined) {
      i = local.length;
      seen.set(id, i);
      local.push(id);
    }
    return i;
  };
  for (;;) {
    const { rows } = await client.query<[string, string, string, string]>({
      text: `fetch ${FETCH_ROWS} from credit_open_obligations`,
      rowMode: 'array',
    });
    if (rows.length === 0) break;
    const at = ids.length;
    if (at + rows.length > debtor.length) {
      const grown = Math.max(debtor.length * 2, at + rows.length);
      const d = new Int32Array(grown);
      d.set(debtor);
      debtor = d;
      const c = new Int32Array(grown);
      c.set(creditor);
      creditor = c;
    }
    for (let i = 0; i < rows.length; i++) {
      const [id, d, c, amount] = rows[i]!;
      ids.push(id);
      debtor[at + i] = indexOf(d);
      creditor[at + i] = indexOf(c);
      outstanding.push(minorUnits(amount, scale));
    }
    if (rows.length < FETCH_ROWS) break;
  }
  await client.query('close credit_open_obligations');
  // Members by id; rows renumbered to match.
  const members = [...local].sort();
  const rank = new Int32Array(local.length);
  members.forEach((m, r) => {
    rank[seen.get(m)!] = r;
  });
  const count = ids.length;
  debtor = debtor.subarray(0, count);
  creditor = creditor.subarray(0, count);
  for (let k = 0; k < count; k++) {
    debtor[k] = rank[debtor[k]!]!;
    creditor[k] = rank[creditor[k]!]!;
  }
  return { members, ids, debtor, creditor, outstanding };
}

/** Due dates and references of some obligations (they never change), by id. */
export async function obligationDetails(
  db: Queryable,
  bookId: string,
  ids: string[],
): Promise<Map<string, { dueOn: string; reference: string }>> {
  if (ids.length === 0) return new Map();
  const { rows } = await db.query<[string, string, string]>({
    text: `select id, to_char(due_on, 'YYYY-MM-DD'), reference from credit_obligation
            where book_id = $1 and id = any($2::uuid[])`,
    values: [bookId, ids],
    rowMode: 'array',
  });
  return new Map(rows.map(([id, dueOn, reference]) => [id, { dueOn, reference }]));
}

/** `1234.560000` at scale 2 as 123456n; throws if it has non-zero digits past the scale. */
function minorUnits(text: string, scale: number): bigint {
  const dot = text.indexOf('.');
  if (dot === -1) return BigInt(text) * 10n ** BigInt(scale);
  for (let i = dot + 1 + scale; i < text.length; i++)
    if (text.charCodeAt(i) !== 48)
      throw new Error(`an obligation's outstanding ${text} has more than ${scale} decimals`);
  const fraction = text.slice(dot + 1, dot + 1 + scale);
  return BigInt(text.slice(0, dot) + fraction.padEnd(scale, '0'));
}

export async function obligationCount(db: Queryable, bookId: string): Promise<number> {
  const { rows } = await db.query(
    'select count(*)::bigint::text as n from credit_obligation where book_id = $1',
    [bookId],
  );
  return Number(rows[0].n);
}

// ---------- clearings ----------

export interface ClearingRow {
  bookId: string;
  id: string;
  currency: string;
  mode: ClearingMode;
  obligationsConsidered: number;
  outstandingBefore: Decimal;
  setoffTotal: Decimal;
  liquidityTotal: Decimal;
  outstandingAfter: Decimal;
  nidBefore: Decimal;
  nidAfter: Decimal;
  liquidityUsed: Decimal;
  snapshotHash: string;
  entryCount: number;
  idempotencyKey: string;
  requestHash: string;
  committedAt: Date;
  committedBy: string;
}

const CLEARING_COLUMNS = `book_id, id, currency, mode, obligations_considered, outstanding_before::text as ob,
  setoff_total::text as st, liquidity_total::text as lt, outstanding_after::text as oa, nid_before::text as nb,
  nid_after::text as na, liquidity_used::text as lu, snapshot_hash, entry_count, idempotency_key, request_hash,
  committed_at, committed_by`;

const clearingFromRow = (r: Record<string, unknown>): ClearingRow => ({
  bookId: r.book_id as string,
  id: r.id as string,
  currency: r.currency as string,
  mode: r.mode as ClearingMode,
  obligationsConsidered: Number(r.obligations_considered),
  outstandingBefore: D(r.ob),
  setoffTotal: D(r.st),
  liquidityTotal: D(r.lt),
  outstandingAfter: D(r.oa),
  nidBefore: D(r.nb),
  nidAfter: D(r.na),
  liquidityUsed: D(r.lu),
  snapshotHash: r.snapshot_hash as string,
  entryCount: Number(r.entry_count),
  idempotencyKey: r.idempotency_key as string,
  requestHash: r.request_hash as string,
  committedAt: new Date(r.committed_at as string),
  committedBy: r.committed_by as string,
});

export async function clearingRows(db: Queryable, bookId: string, ids: string[]): Promise<ClearingRow[]> {
  if (ids.length === 0) return [];
  const { rows } = await db.query(
    `select ${CLEARING_COLUMNS} from credit_clearing where book_id = $1 and id = any($2::uuid[])`,
    [bookId, ids],
  );
  return rows.map(clearingFromRow);
}

export async function clearingByKey(db: Queryable, bookId: string, key: string): Promise<ClearingRow | null> {
  const { rows } = await db.query(
    `select ${CLEARING_COLUMNS} from credit_clearing where book_id = $1 and idempotency_key = $2`,
    [bookId, key],
  );
  return rows[0] ? clearingFromRow(rows[0]) : null;
}

export async function clearingPage(
  db: Queryable,
  bookId: string,
  q: { after: string | null; before: string | null; limit: number; backward: boolean },
): Promise<ClearingRow[]> {
  const { rows } = await db.query(
    `select ${CLEARING_COLUMNS} from credit_clearing where book_id = $1
        and ($2::uuid is null or id < $2) and ($3::uuid is null or id > $3)
      order by id ${q.backward ? 'asc' : 'desc'} limit $4`,
    [bookId, q.after, q.before, q.limit],
  );
  return rows.map(clearingFromRow);
}

export async function countClearings(db: Queryable, bookId: string): Promise<number> {
  const { rows } = await db.query('select count(*)::int as n from credit_clearing where book_id = $1', [
    bookId,
  ]);
  return rows[0].n as number;
}

export interface NewClearing {
  bookId: string;
  id: string;
  currency: string;
  mode: ClearingMode;
  obligationsConsidered: number;
  obligationCount: number;
  outstandingBefore: string;
  setoffTotal: string;
  liquidityTotal: string;
  outstandingAfter: string;
  nidBefore: string;
  nidAfter: string;
  liquidityUsed: string;
  snapshotHash: string;
  entryCount: number;
  key: string;
  hash: string;
  actor: string;
}

/**
 * Inserts the clearing with the members' positions before it. The clearing row's deferred
 * constraint trigger checks, at COMMIT, that every position held. Its lines: applyClearingLines.
 */
export async function insertClearing(
  client: TxClient,
  c: NewClearing,
  positions: { memberId: string; currencyBefore: string; networkBefore: string; networkPayment: string }[],
): Promise<void> {
  await client.query(
    `insert into credit_clearing (book_id, id, currency, mode, obligations_considered, obligation_count,
       outstanding_before, setoff_total, liquidity_total, outstanding_after, nid_before, nid_after, liquidity_used,
       snapshot_hash, entry_count, idempotency_key, request_hash, committed_at, committed_by)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, now(), $18)`,
    [
      c.bookId,
      c.id,
      c.currency,
      c.mode,
      c.obligationsConsidered,
      c.obligationCount,
      c.outstandingBefore,
      c.setoffTotal,
      c.liquidityTotal,
      c.outstandingAfter,
      c.nidBefore,
      c.nidAfter,
      c.liquidityUsed,
      c.snapshotHash,
      c.entryCount,
      c.key,
      c.hash,
      c.actor,
    ],
  );
  if (positions.length > 0)
    await client.query(
      `insert into credit_clearing_position (book_id, clearing_id, member_id, currency_before, network_before, network_payment)
       select $1, $2, m, c, n, p from unnest($3::uuid[], $4::numeric[], $5::numeric[], $6::numeric[]) as x(m, c, n, p)`,
      [
        c.bookId,
        c.id,
        positions.map((p) => p.memberId),
        positions.map((p) => p.currencyBefore),
        positions.map((p) => p.networkBefore),
        positions.map((p) => p.networkPayment),
      ],
    );
}

/** An array literal of values that need no quoting (uuids, plain decimals): the driver's escaping of 121,000 elements showed in profiles. */
export const plainArray = (values: readonly string[]) => `{${values.join(',')}}`;

/**
 * What a clearing does to its obligations, in one statement: each named obligation's outstanding
 * lowered by its set-off plus liquidity (the database refuses a rise or a value below 0), and the
 * clearing's line for it inserted. `ids`, `setoff` and `liquidity` are array literals (`{a,b}`:
 * UuidColumn.literal, plainArray), `count` elements each. Throws unless every obligation was found.
 */
export async function applyClearingLines(
  client: TxClient,
  bookId: string,
  clearingId: string,
  lines: { ids: string; count: number; setoff: string; liquidity: string },
): Promise<void> {
  if (lines.count === 0) return;
  const { rowCount } = await client.query(
    `with x as (
       select * from unnest($3::uuid[], $4::numeric[], $5::numeric[]) as x(id, setoff, liquidity)
     ), reduced as (
       update credit_obligation o set outstanding = o.outstanding - (x.setoff + x.liquidity)
         from x where o.book_id = $1 and o.id = x.id
       returning o.id
     )
     insert into credit_clearing_line (book_id, clearing_id, obligation_id, setoff, liquidity)
     select $1, $2, x.id, x.setoff, x.liquidity from x join reduced using (id)`,
    [bookId, clearingId, lines.ids, lines.setoff, lines.liquidity],
  );
  if (rowCount !== lines.count) throw new Error(`cleared ${rowCount} obligations of ${lines.count}`);
}

export interface ClearingLineRow {
  obligationId: string;
  setoff: Decimal;
  liquidity: Decimal;
}

export async function clearingLinePage(
  db: Queryable,
  bookId: string,
  clearingId: string,
  q: { after: string | null; before: string | null; limit: number; backward: boolean },
): Promise<ClearingLineRow[]> {
  const { rows } = await db.query(
    `select obligation_id, setoff::text as setoff, liquidity::text as liquidity from credit_clearing_line
      where book_id = $1 and clearing_id = $2 and ($3::uuid is null or obligation_id > $3) and ($4::uuid is null or obligation_id < $4)
      order by obligation_id ${q.backward ? 'desc' : 'asc'} limit $5`,
    [bookId, clearingId, q.after, q.before, q.limit],
  );
  return rows.map((r) => ({ obligationId: r.obligation_id, setoff: D(r.setoff), liquidity: D(r.liquidity) }));
}

export async function countClearingLines(db: Queryable, bookId: string, clearingId: string): Promise<number> {
  const { rows } = await db.query(
    'select count(*)::int as n from credit_clearing_line where book_id = $1 and clearing_id = $2',
    [bookId, clearingId],
  );
  return rows[0].n as number;
}

export async function clearingTotals(
  db: Queryable,
  bookId: string,
): Promise<{ currency: string; count: number; setoff: Decimal; liquidity: Decimal }[]> {
  const { rows } = await db.query(
    `select currency, count(*)::int as n, sum(setoff_total)::text as s, sum(liquidity_total)::text as l
       from credit_clearing where book_id = $1 group by currency order by currency`,
    [bookId],
  );
  return rows.map((r) => ({ currency: r.currency, count: Number(r.n), setoff: D(r.s), liquidity: D(r.l) }));
}

// ---------- statistics (read from the journal) ----------

/** Payments per calendar month (UTC) in [from, to): count, volume, accounts that paid or were paid. */
export async function monthlyPayments(
  db: Queryable,
  bookId: string,
  unitCode: string,
  from: Date,
  to: Date,
): Promise<{ month: string; payments: number; volume: Decimal; active: number }[]> {
  const { rows } = await db.query(
    `select to_char(date_trunc('month', e.effective_at at time zone 'UTC'), 'YYYY-MM') as month,
            count(distinct e.id)::int as payments,
            coalesce(sum(l.amount) filter (where l.side = 'DEBIT'), 0)::text as volume,
            count(distinct l.account_id)::int as active
       from journal_entry e
       join journal_line l on l.book_id = e.book_id and l.entry_id = e.id
      where e.book_id = $1 and e.kind in ('STANDARD', 'COMMIT') and e.metadata->>'credit.kind' = 'PAYMENT'
        and l.unit_code = $2 and l.phase = 'POSTED' and e.effective_at >= $3 and e.effective_at < $4
      group by 1 order by 1`,
    [bookId, unitCode, from, to],
  );
  return rows.map((r) => ({
    month: r.month,
    payments: Number(r.payments),
    volume: D(r.volume),
    active: Number(r.active),
  }));
}

/** What each account received in payments in [from, to) (its sales), by account id. */
export async function salesOf(
  db: Queryable,
  bookId: string,
  accountIds: string[],
  from: Date,
  to: Date,
): Promise<Map<string, Decimal>> {
  if (accountIds.length === 0) return new Map();
  const { rows } = await db.query(
    `select l.account_id, sum(l.amount)::text as sales
       from journal_line l
       join journal_entry e on e.book_id = l.book_id and e.id = l.entry_id
      where l.book_id = $1 and l.account_id = any($2::uuid[]) and l.side = 'CREDIT' and l.phase = 'POSTED'
        and e.metadata->>'credit.kind' = 'PAYMENT' and l.effective_at >= $3 and l.effective_at < $4
      group by l.account_id`,
    [bookId, accountIds, from, to],
  );
  return new Map(rows.map((r) => [r.account_id as string, D(r.sales)]));
}
