/**
 * The mutual-credit domain's SQL (networks, members, limits, currencies, payment requests). Set-based
 * where rows come by the thousand; amounts travel as text and become decimal.js in the use cases.
 * Obligations, clearings and statistics are in store-clearing.ts.
 *
 * Writers of a network take its book's chain-head lock first (the ledger's lockBooks), like every
 * writer of entries, so the checks made here hold until commit.
 */
import { Decimal } from '../core/index.js';
import type { Queryable, TxClient } from '../platform/transaction.js';
import type { LimitSource, PaymentRequestRecord, RequestStatus } from './records.js';

const D = (v: unknown) => new Decimal(String(v));
const Dn = (v: unknown) => (v === null || v === undefined ? null : new Decimal(String(v)));
const at = (v: unknown) => (v === null || v === undefined ? null : new Date(v as string));

// ---------- networks ----------

export interface NetworkRow {
  bookId: string;
  name: string;
  unitCode: string;
  unitScale: number;
  pegCurrency: string | null;
  pegRate: Decimal | null;
  clearingAccountId: string;
  memberCount: number;
  requestHash: string | null;
  createdAt: Date;
  createdBy: string;
}

const NETWORK_COLUMNS = `n.book_id, n.name, n.unit_code, u.scale, n.peg_currency, n.peg_rate::text as peg_rate,
  n.clearing_account_id, n.member_seq, n.request_hash, n.created_at, n.created_by`;

const networkFromRow = (r: Record<string, unknown>): NetworkRow => ({
  bookId: r.book_id as string,
  name: r.name as string,
  unitCode: r.unit_code as string,
  unitScale: Number(r.scale),
  pegCurrency: (r.peg_currency as string | null) ?? null,
  pegRate: Dn(r.peg_rate),
  clearingAccountId: r.clearing_account_id as string,
  memberCount: Number(r.member_seq),
  requestHash: (r.request_hash as string | null) ?? null,
  createdAt: new Date(r.created_at as string),
  createdBy: r.created_by as string,
});

export async function networkRows(db: Queryable, ids: string[]): Promise<NetworkRow[]> {
  if (ids.length === 0) return [];
  const { rows } = await db.query(
    `select ${NETWORK_COLUMNS} from credit_network n
       join book_unit u on u.book_id = n.book_id and u.code = n.unit_code
      where n.book_id = any($1::uuid[])`,
    [ids],
  );
  return rows.map(networkFromRow);
}

export async function networkIdByKey(db: Queryable, key: string): Promise<string | null> {
  const { rows } = await db.query('select book_id from credit_network where idempotency_key = $1', [key]);
  return rows[0]?.book_id ?? null;
}

export async function insertNetwork(
  client: TxClient,
  n: {
    bookId: string;
    name: string;
    unitCode: string;
    pegCurrency: string | null;
    pegRate: string | null;
    clearingAccountId: string;
    key: string | null;
    hash: string | null;
    actor: string;
  },
): Promise<void> {
  await client.query(
    `insert into credit_network (book_id, name, unit_code, peg_currency, peg_rate, clearing_account_id,
       idempotency_key, request_hash, created_at, created_by)
     values ($1, $2, $3, $4, $5, $6, $7, $8, now(), $9)`,
    [n.bookId, n.name, n.unitCode, n.pegCurrency, n.pegRate, n.clearingAccountId, n.key, n.hash, n.actor],
  );
}

/** Networks in id order after a cursor (both ways), limited to `onlyIds` or to networks with members among `coopIds`. */
export async function networkIdsPage(
  db: Queryable,
  scope: { onlyIds: string[] | null; coopIds: string[] },
  q: { after: string | null; before: string | null; limit: number; backward: boolean },
): Promise<string[]> {
  const { rows } = await db.query(
    `select n.book_id from credit_network n
      where ($1::uuid[] is null or n.book_id = any($1::uuid[])
             or exists (select 1 from credit_member m where m.book_id = n.book_id and m.coop_book_id = any($2::uuid[])))
        and ($3::uuid is null or n.book_id > $3) and ($4::uuid is null or n.book_id < $4)
      order by n.book_id ${q.backward ? 'desc' : 'asc'} limit $5`,
    [scope.onlyIds, scope.coopIds, q.after, q.before, q.limit],
  );
  return rows.map((r) => r.book_id as string);
}

export async function countNetworks(
  db: Queryable,
  scope: { onlyIds: string[] | null; coopIds: string[] },
): Promise<number> {
  const { rows } = await db.query(
    `select count(*)::int as n from credit_network n
      where ($1::uuid[] is null or n.book_id = any($1::uuid[])
             or exists (select 1 from credit_member m where m.book_id = n.book_id and m.coop_book_id = any($2::uuid[])))`,
    [scope.onlyIds, scope.coopIds],
  );
  return rows[0].n as number;
}

// ---------- policy ----------

export interface PolicyRow {
  version: number;
  policy: Record<string, unknown>;
  reason: string;
  requestHash: string | null;
  createdAt: Date;
  createdBy: string;
}

const policyFromRow = (r: Record<string, unknown>): PolicyRow => ({
  version: Number(r.version),
  policy: r.policy as Record<string, unknown>,
  reason: r.reason as string,
  requestHash: (r.request_hash as string | null) ?? null,
  createdAt: new Date(r.created_at as string),
  createdBy: r.created_by as string,
});

export async function latestPolicies(db: Queryable, bookIds: string[]): Promise<Map<string, PolicyRow>> {
  const { rows } = await db.query(
    `select distinct on (book_id) book_id, version, policy, reason, request_hash, created_at, created_by
       from credit_policy where book_id = any($1::uuid[]) order by book_id, version desc`,
    [bookIds],
  );
  return new Map(rows.map((r) => [r.book_id as string, policyFromRow(r)]));
}

export async function policyRows(db: Queryable, bookId: string): Promise<PolicyRow[]> {
  const { rows } = await db.query(
    'select version, policy, reason, request_hash, created_at, created_by from credit_policy where book_id = $1 order by version',
    [bookId],
  );
  return rows.map(policyFromRow);
}

export async function policyByKey(db: Queryable, bookId: string, key: string): Promise<PolicyRow | null> {
  const { rows } = await db.query(
    'select version, policy, reason, request_hash, created_at, created_by from credit_policy where book_id = $1 and idempotency_key = $2',
    [bookId, key],
  );
  return rows[0] ? policyFromRow(rows[0]) : null;
}

export async function insertPolicy(
  client: TxClient,
  p: {
    bookId: string;
    policy: unknown;
    reason: string;
    key: string | null;
    hash: string | null;
    actor: string;
  },
): Promise<number> {
  const { rows } = await client.query(
    `insert into credit_policy (book_id, version, policy, reason, idempotency_key, request_hash, created_at, created_by)
     select $1, coalesce(max(version), 0) + 1, $2::jsonb, $3, $4, $5, now(), $6 from credit_policy where book_id = $1
     returning version`,
    [p.bookId, JSON.stringify(p.policy), p.reason, p.key, p.hash, p.actor],
  );
  return Number(rows[0].version);
}

// ---------- currencies ----------

export async function currencyRows(
  db: Queryable,
  bookId: string,
): Promise<{ code: string; scale: number; clearingAccountId: string }[]> {
  const { rows } = await db.query(
    `select c.code, u.scale, c.clearing_account_id from credit_currency c
       join book_unit u on u.book_id = c.book_id and u.code = c.code
      where c.book_id = $1 order by c.code`,
    [bookId],
  );
  return rows.map((r) => ({
    code: r.code,
    scale: Number(r.scale),
    clearingAccountId: r.clearing_account_id,
  }));
}

export async function insertCurrency(
  client: TxClient,
  bookId: string,
  code: string,
  accountId: string,
): Promise<void> {
  await client.query('insert into credit_currency (book_id, code, clearing_account_id) values ($1, $2, $3)', [
    bookId,
    code,
    accountId,
  ]);
}

export interface MemberCurrencyRow {
  memberId: string;
  receivableAccountId: string;
  payableAccountId: string;
}

export async function memberCurrencyAccounts(
  db: Queryable,
  bookId: string,
  code: string,
): Promise<Map<string, MemberCurrencyRow>> {
  const { rows } = await db.query(
    'select member_id, receivable_account_id, payable_account_id from credit_member_currency where book_id = $1 and code = $2',
    [bookId, code],
  );
  return new Map(
    rows.map((r) => [
      r.member_id,
      {
        memberId: r.member_id,
        receivableAccountId: r.receivable_account_id,
        payableAccountId: r.payable_account_id,
      },
    ]),
  );
}

export async function insertMemberCurrencies(
  client: TxClient,
  bookId: string,
  code: string,
  rows: MemberCurrencyRow[],
): Promise<void> {
  if (rows.length === 0) return;
  await client.query(
    `insert into credit_member_currency (book_id, member_id, code, receivable_account_id, payable_account_id)
     select $1, m, $2, r, p from unnest($3::uuid[], $4::uuid[], $5::uuid[]) as x(m, r, p)`,
    [
      bookId,
      code,
      rows.map((r) => r.memberId),
      rows.map((r) => r.receivableAccountId),
      rows.map((r) => r.payableAccountId),
    ],
  );
}

// ---------- members ----------

export interface MemberRow {
  bookId: string;
  id: string;
  number: number;
  coopBookId: string;
  accountId: string;
  limitMode: 'POLICY' | 'MANUAL';
  requestHash: string | null;
  joinedAt: Date;
  joinedBy: string;
}

const MEMBER_COLUMNS =
  'book_id, id, number, coop_book_id, account_id, limit_mode, request_hash, joined_at, joined_by';

const memberFromRow = (r: Record<string, unknown>): MemberRow => ({
  bookId: r.book_id as string,
  id: r.id as string,
  number: Number(r.number),
  coopBookId: r.coop_book_id as string,
  accountId: r.account_id as string,
  limitMode: r.limit_mode as 'POLICY' | 'MANUAL',
  requestHash: (r.request_hash as string | null) ?? null,
  joinedAt: new Date(r.joined_at as string),
  joinedBy: r.joined_by as string,
});

export async function memberRows(
  db: Queryable,
  keys: { bookId: string; id: string }[],
): Promise<MemberRow[]> {
  if (keys.length === 0) return [];
  const { rows } = await db.query(
    `select ${MEMBER_COLUMNS} from credit_member
      where book_id = any($1::uuid[]) and id = any($2::uuid[])`,
    [[...new Set(keys.map((k) => k.bookId))], [...new Set(keys.map((k) => k.id))]],
  );
  const wanted = new Set(keys.map((k) => `${k.bookId}/${k.id}`));
  return rows.map(memberFromRow).filter((m) => wanted.has(`${m.bookId}/${m.id}`));
}

export async function allMembers(db: Queryable, bookId: string): Promise<MemberRow[]> {
  const { rows } = await db.query(
    `select ${MEMBER_COLUMNS} from credit_member where book_id = $1 order by number`,
    [bookId],
  );
  return rows.map(memberFromRow);
}

/** Memberships of these co-ops in any network (what a co-op's treasurer acts for). */
export async function membersOfCoops(db: Queryable, coopIds: string[]): Promise<MemberRow[]> {
  if (coopIds.length === 0) return [];
  const { rows } = await db.query(
    `select ${MEMBER_COLUMNS} from credit_member where coop_book_id = any($1::uuid[]) order by book_id, number`,
    [coopIds],
  );
  return rows.map(memberFromRow);
}

export async function memberWhere(
  db: Queryable,
  bookId: string,
  where: { coopBookId?: string; key?: string },
): Promise<MemberRow | null> {
  const { rows } = await db.query(
    `select ${MEMBER_COLUMNS} from credit_member
      where book_id = $1 and ($2::uuid is null or coop_book_id = $2) and ($3::text is null or idempotency_key = $3)`,
    [bookId, where.coopBookId ?? null, where.key ?? null],
  );
  return rows[0] ? memberFromRow(rows[0]) : null;
}

export async function nextMemberNumber(client: TxClient, bookId: string): Promise<number> {
  const { rows } = await client.query(
    'update credit_network set member_seq = member_seq + 1 where book_id = $1 returning member_seq',
    [bookId],
  );
  return Number(rows[0].member_seq);
}

export async function insertMember(
  client: TxClient,
  m: Omit<MemberRow, 'joinedAt' | 'requestHash'> & { key: string | null; hash: string | null },
): Promise<void> {
  await client.query(
    `insert into credit_member (book_id, id, number, coop_book_id, account_id, limit_mode, idempotency_key, request_hash, joined_at, joined_by)
     values ($1, $2, $3, $4, $5, $6, $7, $8, now(), $9)`,
    [m.bookId, m.id, m.number, m.coopBookId, m.accountId, m.limitMode, m.key, m.hash, m.joinedBy],
  );
}

export async function setLimitMode(
  client: TxClient,
  bookId: string,
  id: string,
  mode: 'POLICY' | 'MANUAL',
): Promise<void> {
  await client.query('update credit_member set limit_mode = $3 where book_id = $1 and id = $2', [
    bookId,
    id,
    mode,
  ]);
}

export async function memberIdsPage(
  db: Queryable,
  bookId: string,
  q: { after: number | null; before: number | null; limit: number; backward: boolean },
): Promise<string[]> {
  const { rows } = await db.query(
    `select id from credit_member where book_id = $1 and ($2::int is null or number > $2) and ($3::int is null or number < $3)
      order by number ${q.backward ? 'desc' : 'asc'} limit $4`,
    [bookId, q.after, q.before, q.limit],
  );
  return rows.map((r) => r.id as string);
}

export async function countMembers(db: Queryable, bookId: string): Promise<number> {
  const { rows } = await db.query('select count(*)::int as n from credit_member where book_id = $1', [
    bookId,
  ]);
  return rows[0].n as number;
}

// ---------- limit changes ----------

export interface NewLimitChange {
  bookId: string;
  id: string;
  memberId: string;
  limitBefore: string | null;
  limitAfter: string;
  upperBefore: string | null;
  upperAfter: string | null;
  source: LimitSource;
  reason: string;
  key: string | null;
  hash: string | null;
  actor: string;
}

export async function insertLimitChanges(client: TxClient, rows: NewLimitChange[]): Promise<void> {
  if (rows.length === 0) return;
  const col = <T>(f: (r: NewLimitChange) => T) => rows.map(f);
  await client.query(
    `insert into credit_limit_change (book_id, id, member_id, limit_before, limit_after, upper_before, upper_after,
       source, reason, idempotency_key, request_hash, changed_at, changed_by)
     select b, i, m, lb, la, ub, ua, s, r, k, h, now(), a
       from unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::numeric[], $5::numeric[], $6::numeric[], $7::numeric[],
                   $8::text[], $9::text[], $10::text[], $11::text[], $12::text[])
         as x(b, i, m, lb, la, ub, ua, s, r, k, h, a)`,
    [
      col((r) => r.bookId),
      col((r) => r.id),
      col((r) => r.memberId),
      col((r) => r.limitBefore),
      col((r) => r.limitAfter),
      col((r) => r.upperBefore),
      col((r) => r.upperAfter),
      col((r) => r.source),
      col((r) => r.reason),
      col((r) => r.key),
      col((r) => r.hash),
      col((r) => r.actor),
    ],
  );
}

export interface LimitChangeRow {
  bookId: string;
  id: string;
  memberId: string;
  limitBefore: Decimal | null;
  limitAfter: Decimal;
  upperBefore: Decimal | null;
  upperAfter: Decimal | null;
  source: LimitSource;
  reason: string;
  requestHash: string | null;
  changedAt: Date;
  changedBy: string;
}

const LIMIT_COLUMNS = `book_id, id, member_id, limit_before::text as limit_before, limit_after::text as limit_after,
  upper_before::text as upper_before, upper_after::text as upper_after, source, reason, request_hash, changed_at, changed_by`;

const limitFromRow = (r: Record<string, unknown>): LimitChangeRow => ({
  bookId: r.book_id as string,
  id: r.id as string,
  memberId: r.member_id as string,
  limitBefore: Dn(r.limit_before),
  limitAfter: D(r.limit_after),
  upperBefore: Dn(r.upper_before),
  upperAfter: Dn(r.upper_after),
  source: r.source as LimitSource,
  reason: r.reason as string,
  requestHash: (r.request_hash as string | null) ?? null,
  changedAt: new Date(r.changed_at as string),
  changedBy: r.changed_by as string,
});

export async function limitChangeByKey(
  db: Queryable,
  bookId: string,
  key: string,
): Promise<LimitChangeRow | null> {
  const { rows } = await db.query(
    `select ${LIMIT_COLUMNS} from credit_limit_change where book_id = $1 and idempotency_key = $2`,
    [bookId, key],
  );
  return rows[0] ? limitFromRow(rows[0]) : null;
}

/** Limit changes of a network (or one member), in id (time) order, both ways. */
export async function limitChangePage(
  db: Queryable,
  bookId: string,
  memberId: string | null,
  q: { after: string | null; before: string | null; limit: number; backward: boolean },
): Promise<LimitChangeRow[]> {
  const { rows } = await db.query(
    `select ${LIMIT_COLUMNS} from credit_limit_change
      where book_id = $1 and ($2::uuid is null or member_id = $2)
        and ($3::uuid is null or id > $3) and ($4::uuid is null or id < $4)
      order by id ${q.backward ? 'desc' : 'asc'} limit $5`,
    [bookId, memberId, q.after, q.before, q.limit],
  );
  return rows.map(limitFromRow);
}

export async function countLimitChanges(
  db: Queryable,
  bookId: string,
  memberId: string | null,
): Promise<number> {
  const { rows } = await db.query(
    'select count(*)::int as n from credit_limit_change where book_id = $1 and ($2::uuid is null or member_id = $2)',
    [bookId, memberId],
  );
  return rows[0].n as number;
}

// ---------- payment requests ----------

const REQUEST_COLUMNS = `book_id, id, payer_id, payee_id, amount::text as amount, memo, status, expires_at, hold_expires_at,
  entry_key, request_hash, created_at, created_by, decided_at, decided_by, decision_reason, decision_key, decision_hash,
  resolved_at, resolved_by, resolve_key, resolve_hash`;

export interface RequestRow extends Omit<PaymentRequestRecord, 'status'> {
  storedStatus: Exclude<RequestStatus, 'EXPIRED'>;
  requestHash: string;
  decisionKey: string | null;
  decisionHash: string | null;
  resolveKey: string | null;
  resolveHash: string | null;
}

const requestFromRow = (r: Record<string, unknown>): RequestRow => ({
  bookId: r.book_id as string,
  id: r.id as string,
  payerId: r.payer_id as string,
  payeeId: r.payee_id as string,
  amount: D(r.amount),
  memo: r.memo as string,
  storedStatus: r.status as Exclude<RequestStatus, 'EXPIRED'>,
  expiresAt: new Date(r.expires_at as string),
  holdExpiresAt: at(r.hold_expires_at),
  entryKey: (r.entry_key as string | null) ?? null,
  requestHash: r.request_hash as string,
  createdAt: new Date(r.created_at as string),
  createdBy: r.created_by as string,
  decidedAt: at(r.decided_at),
  decidedBy: (r.decided_by as string | null) ?? null,
  decisionReason: (r.decision_reason as string | null) ?? null,
  decisionKey: (r.decision_key as string | null) ?? null,
  decisionHash: (r.decision_hash as string | null) ?? null,
  resolvedAt: at(r.resolved_at),
  resolvedBy: (r.resolved_by as string | null) ?? null,
  resolveKey: (r.resolve_key as string | null) ?? null,
  resolveHash: (r.resolve_hash as string | null) ?? null,
});

export async function requestRows(
  db: Queryable,
  keys: { bookId: string; id: string }[],
  forUpdate = false,
): Promise<RequestRow[]> {
  if (keys.length === 0) return [];
  const { rows } = await db.query(
    `select ${REQUEST_COLUMNS} from credit_payment_request
      where book_id = any($1::uuid[]) and id = any($2::uuid[]) ${forUpdate ? 'for update' : ''}`,
    [[...new Set(keys.map((k) => k.bookId))], [...new Set(keys.map((k) => k.id))]],
  );
  return rows.map(requestFromRow);
}

export async function requestWhere(
  db: Queryable,
  bookId: string,
  where: { key?: string; decisionKey?: string; resolveKey?: string },
): Promise<RequestRow | null> {
  const { rows } = await db.query(
    `select ${REQUEST_COLUMNS} from credit_payment_request where book_id = $1
        and ($2::text is null or idempotency_key = $2) and ($3::text is null or decision_key = $3)
        and ($4::text is null or resolve_key = $4)
      limit 1`,
    [bookId, where.key ?? null, where.decisionKey ?? null, where.resolveKey ?? null],
  );
  return rows[0] ? requestFromRow(rows[0]) : null;
}

export async function insertRequest(
  client: TxClient,
  r: {
    bookId: string;
    id: string;
    payerId: string;
    payeeId: string;
    amount: string;
    memo: string;
    expiresAt: Date;
    key: string;
    hash: string;
    actor: string;
  },
): Promise<void> {
  await client.query(
    `insert into credit_payment_request (book_id, id, payer_id, payee_id, amount, memo, status, expires_at,
       idempotency_key, request_hash, created_at, created_by)
     values ($1, $2, $3, $4, $5, $6, 'OPEN', $7, $8, $9, now(), $10)`,
    [r.bookId, r.id, r.payerId, r.payeeId, r.amount, r.memo, r.expiresAt, r.key, r.hash, r.actor],
  );
}

export async function decideRequest(
  client: TxClient,
  d: {
    bookId: string;
    id: string;
    status: 'PAID' | 'HELD' | 'DECLINED' | 'CANCELLED';
    reason: string | null;
    entryKey: string | null;
    holdExpiresAt: Date | null;
    key: string;
    hash: string;
    actor: string;
  },
): Promise<void> {
  await client.query(
    `update credit_payment_request set status = $3, decision_reason = $4, entry_key = $5, hold_expires_at = $6,
        decision_key = $7, decision_hash = $8, decided_at = now(), decided_by = $9
      where book_id = $1 and id = $2`,
    [d.bookId, d.id, d.status, d.reason, d.entryKey, d.holdExpiresAt, d.key, d.hash, d.actor],
  );
}

export async function resolveRequest(
  client: TxClient,
  d: {
    bookId: string;
    id: string;
    status: 'COMPLETED' | 'RELEASED';
    key: string;
    hash: string;
    actor: string;
  },
): Promise<void> {
  await client.query(
    `update credit_payment_request set status = $3, resolve_key = $4, resolve_hash = $5, resolved_at = now(), resolved_by = $6
      where book_id = $1 and id = $2`,
    [d.bookId, d.id, d.status, d.key, d.hash, d.actor],
  );
}

/** Requests of a network (or those one member pays or is paid), newest first, both ways. */
export async function requestPage(
  db: Queryable,
  bookId: string,
  memberId: string | null,
  q: { after: string | null; before: string | null; limit: number; backward: boolean },
): Promise<RequestRow[]> {
  const { rows } = await db.query(
    `select ${REQUEST_COLUMNS} from credit_payment_request
      where book_id = $1 and ($2::uuid is null or payer_id = $2 or payee_id = $2)
        and ($3::uuid is null or id < $3) and ($4::uuid is null or id > $4)
      order by id ${q.backward ? 'asc' : 'desc'} limit $5`,
    [bookId, memberId, q.after, q.before, q.limit],
  );
  return rows.map(requestFromRow);
}

export async function countRequests(db: Queryable, bookId: string, memberId: string | null): Promise<number> {
  const { rows } = await db.query(
    `select count(*)::int as n from credit_payment_request
      where book_id = $1 and ($2::uuid is null or payer_id = $2 or payee_id = $2)`,
    [bookId, memberId],
  );
  return rows[0].n as number;
}

// ---------- refusals of a request's steps ----------

/** Which of a request's keys a refused step used: a decision's (accept, decline, cancel) or a resolution's. */
export type RequestStep = 'DECISION' | 'RESOLUTION';

export interface RequestRefusalRow {
  requestId: string;
  requestHash: string;
  code: string;
  message: string;
  field: string | null;
}

/** The refusal remembered under a step's key in a network, if any. */
export async function requestRefusal(
  db: Queryable,
  bookId: string,
  step: RequestStep,
  key: string,
): Promise<RequestRefusalRow | null> {
  const { rows } = await db.query(
    `select request_id, request_hash, code, message, field from credit_request_refusal
      where book_id = $1 and step = $2 and idempotency_key = $3`,
    [bookId, step, key],
  );
  const r = rows[0];
  return r
    ? {
        requestId: r.request_id,
        requestHash: r.request_hash,
        code: r.code,
        message: r.message,
        field: r.field,
      }
    : null;
}

/**
 * Remembers a step's refusal under its key, unless the key is already taken: by an earlier
 * refusal, or by a step that went through (a concurrent retry that found credit in between).
 */
export async function insertRequestRefusal(
  client: TxClient,
  r: {
    bookId: string;
    step: RequestStep;
    key: string;
    requestId: string;
    hash: string;
    code: string;
    message: string;
    field: string | null;
    actor: string;
  },
): Promise<void> {
  await client.query(
    `insert into credit_request_refusal (book_id, step, idempotency_key, request_id, request_hash, code, message,
       field, recorded_at, recorded_by)
     select $1, $2, $3, $4, $5, $6, $7, $8, now(), $9
      where not exists (
        select 1 from credit_payment_request
         where book_id = $1 and (case when $2 = 'DECISION' then decision_key else resolve_key end) = $3)
     on conflict do nothing`,
    [r.bookId, r.step, r.key, r.requestId, r.hash, r.code, r.message, r.field, r.actor],
  );
}
