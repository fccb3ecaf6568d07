/**
 * The authorization matrix: every root field of the schema (Query and Mutation, read from
 * `buildSchema()`) times every kind of caller, each sent as a real request over HTTP against real
 * PostgreSQL, with minimal valid variables.
 *
 * RULES below is the table of who may do what. It must name exactly the root fields of the schema:
 * a new operation without a rule fails here (its own test and the coverage test), and so does a
 * rule for a field that no longer exists. Each rule also states the scope-auth options the field
 * must declare (read from `field.extensions.pothosOptions.authScopes`, where Pothos keeps them), so
 * a field whose declared scopes change without the table changing fails too.
 *
 * Outcomes:
 * - ALLOW: HTTP 200, no errors, the expected data (ids checked; mutations: the effect is in the
 *   database afterwards);
 * - NOT_FOUND: HTTP 200, no errors, and the answer of a missing object: null, an empty connection,
 *   or userErrors UNKNOWN_BOOK / UNKNOWN_ACCOUNT / UNKNOWN_ENTRY / UNKNOWN_COOP / UNKNOWN_MEMBERSHIP,
 *   or for revokeMemberToken that of an unknown token (for `viewer` without a token: null);
 *   mutations leave no effect;
 * - FORBIDDEN / UNAUTHENTICATED: HTTP 200 with a top-level error of that code at the field's path,
 *   no data for it, no effect;
 * - HTTP_401: the request is refused before GraphQL (expired and revoked tokens), no effect.
 *
 * Every answer to a non-admin caller is also scanned for ids it must not contain: the other
 * tenant's (book B) for callers of book A, and for a member every id of A but their own account.
 *
 * The tenants are co-ops (a co-op is its book, issue 5), each with a member class, a person and a
 * membership, so the co-op fields are probed the same way. The member's token holds two MEMBER
 * grants: the book's cash account (the ledger's rules) and the share-capital account of their own
 * membership (which makes them the person of that membership: they read it, their party and their
 * statement, nothing else of the co-op).
 */

import { randomUUID } from 'node:crypto';
import SchemaBuilder from '@pothos/core';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import {
  type GraphQLField,
  type GraphQLObjectType,
  type GraphQLSchema,
  getNamedType,
  isObjectType,
} from 'graphql';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LedgerClient } from '../../client-sdk/index.js';
import { buildSchema } from '../../schema/index.js';
import {
  type CreatedAccount,
  connectPg,
  createAccount,
  createAccounts,
  credit,
  debit,
  decodeGlobalId,
  encodeGlobalId,
  ledgerClient,
  newKey,
  rawGraphQL,
  uniqueSuffix,
} from '../helpers/ledger.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { expectRefusedToken, issueToken, leaksIn, TOKEN_PATTERN, tokenIdOf } from '../helpers/tokens.js';

// ---------------------------------------------------------------------------------------------
// Callers and outcomes

const CALLERS = [
  'anonymous',
  'expiredToken',
  'revokedToken',
  'admin',
  'treasurerA',
  'treasurerAonB',
  'memberA',
  'stewardA',
  'cityAnalyst',
] as const;
type Caller = (typeof CALLERS)[number];

type Outcome = 'ALLOW' | 'NOT_FOUND' | 'FORBIDDEN' | 'UNAUTHENTICATED' | 'HTTP_401';
type Expectations = Readonly<Record<Caller, Outcome>>;

/** Which book each caller aims at: the treasurer of A once at A and once at B (cross-tenant). */
const TARGET: Record<Caller, 'A' | 'B'> = {
  anonymous: 'A',
  expiredToken: 'A',
  revokedToken: 'A',
  admin: 'A',
  treasurerA: 'A',
  treasurerAonB: 'B',
  memberA: 'A',
  stewardA: 'A',
  cityAnalyst: 'A',
};

/** Refusals that do not depend on the operation. */
const NO_VALID_TOKEN = {
  anonymous: 'UNAUTHENTICATED',
  expiredToken: 'HTTP_401',
  revokedToken: 'HTTP_401',
} as const;

/** Reads and writes of one book: its treasurers and stewards (and admins); others see nothing. */
const BOOK_TENANT: Expectations = {
  ...NO_VALID_TOKEN,
  admin: 'ALLOW',
  treasurerA: 'ALLOW',
  treasurerAonB: 'NOT_FOUND',
  memberA: 'NOT_FOUND',
  stewardA: 'ALLOW',
  cityAnalyst: 'NOT_FOUND',
};

/** Reads of one account: as BOOK_TENANT, and the MEMBER it belongs to. */
const ACCOUNT_READ: Expectations = { ...BOOK_TENANT, memberA: 'ALLOW' };

/** Personal data (a membership, a party, a statement): the co-op's treasurers and the person. */
const PERSONAL: Expectations = { ...BOOK_TENANT, memberA: 'ALLOW' };

/** `myMemberships`: a member's own; every other token gets an empty list. */
const OWN_MEMBERSHIPS: Expectations = {
  ...NO_VALID_TOKEN,
  admin: 'NOT_FOUND',
  treasurerA: 'NOT_FOUND',
  treasurerAonB: 'NOT_FOUND',
  memberA: 'ALLOW',
  stewardA: 'NOT_FOUND',
  cityAnalyst: 'NOT_FOUND',
};

/** Instance administration. */
const ADMIN_ONLY: Expectations = {
  ...NO_VALID_TOKEN,
  admin: 'ALLOW',
  treasurerA: 'FORBIDDEN',
  treasurerAonB: 'FORBIDDEN',
  memberA: 'FORBIDDEN',
  stewardA: 'FORBIDDEN',
  cityAnalyst: 'FORBIDDEN',
};

/** `viewer`: public; null (NOT_FOUND) without a token. */
const PUBLIC: Expectations = {
  anonymous: 'NOT_FOUND',
  expiredToken: 'HTTP_401',
  revokedToken: 'HTTP_401',
  admin: 'ALLOW',
  treasurerA: 'ALLOW',
  treasurerAonB: 'ALLOW',
  memberA: 'ALLOW',
  stewardA: 'ALLOW',
  cityAnalyst: 'ALLOW',
};

/** The public directory: anyone, with or without a token (refused tokens still get 401). */
const DIRECTORY: Expectations = { ...PUBLIC, anonymous: 'ALLOW' };

/**
 * `books` takes no book: every caller lists the books they may read (the treasurer of A "acting on
 * B" still sees exactly A); a caller with no book sees an empty list.
 */
const BOOK_LIST: Expectations = { ...BOOK_TENANT, treasurerAonB: 'ALLOW' };

/**
 * City reporting (issue 15), asked about the tenants' own city: only an ADMIN or a CITY_ANALYST of
 * that city reads or publishes its releases. The analyst caller's city is Springfield, so here it
 * is "another city's analyst" and gets nothing.
 */
const CITY_REPORTS: Expectations = {
  ...NO_VALID_TOKEN,
  admin: 'ALLOW',
  treasurerA: 'NOT_FOUND',
  treasurerAonB: 'NOT_FOUND',
  memberA: 'NOT_FOUND',
  stewardA: 'NOT_FOUND',
  cityAnalyst: 'NOT_FOUND',
};

/**
 * Mutual credit (issue 14). The tenant's network has the tenant's co-op and a partner co-op as
 * members; stewardA's token also names network A (NETWORK_STEWARD). Reading the network, its
 * requests, recording obligations, releasing a hold: its stewards and the treasurers of the
 * members concerned (and admins).
 */
const NETWORK_READ: Expectations = BOOK_TENANT;

/** Managing a network (members, limits, policy, currencies, clearing): stewards and admins only. */
const NETWORK_STEWARDS: Expectations = { ...BOOK_TENANT, treasurerA: 'NOT_FOUND' };

/** Acting for a member (paying, requesting, accepting...): its co-op's treasurer; never a steward. */
const MEMBER_ACTS: Expectations = { ...BOOK_TENANT, stewardA: 'NOT_FOUND' };

// ---------------------------------------------------------------------------------------------
// Fixtures

interface Tenant {
  name: 'A' | 'B';
  bookId: string;
  /** The co-op whose book this is (same raw id). */
  coopId: string;
  classId: string;
  partyId: string;
  membershipId: string;
  /** The membership's share-capital account (the member's MEMBER grant names it). */
  shareCapitalId: string;
  /** A class whose shares may be transferred. */
  transferableClassId: string;
  cash: CreatedAccount;
  revenue: CreatedAccount;
  entryId: string;
  /** Every raw uuid of this tenant's objects (book, accounts, entries), including those made later. */
  ids: Set<string>;
}

interface CallerState {
  /** undefined: the run's admin token; null: no header. */
  token: string | null | undefined;
  tokenId: string | null;
}

interface Ctx {
  caller: Caller;
  state: CallerState;
  tenant: Tenant;
  /** The treasurer token's id (for the admin's apiTokens listing). */
  treasurerTokenId: string;
}

/** What one request sends, and for mutations how to see whether it did anything. */
interface Probe {
  query: string;
  variables?: Record<string, unknown>;
  /** Whether the mutation's effect is in the database now. */
  effect?: () => Promise<boolean>;
}

/** A field's value in an answer: its shape is what the assertions check. */
// biome-ignore lint/suspicious/noExplicitAny: answers are untyped JSON, checked by the assertions
type Answer = any;

interface Rule {
  /** The scope-auth options the field must declare. */
  scopes: Record<string, unknown>;
  expect: Expectations;
  probe(ctx: Ctx): Promise<Probe> | Probe;
  /** Asserts the field's value when allowed. */
  allowed(value: Answer, ctx: Ctx): void;
  /** Asserts the field's value when it answers "not found" (not needed when no caller gets NOT_FOUND). */
  notFound?(value: Answer, ctx: Ctx): void;
}

let server: TestServer;
let admin: LedgerClient;
let db: pg.Client;
const tenants = {} as Record<'A' | 'B', Tenant>;
const callers = {} as Record<Caller, CallerState>;
let memberAccount: CreatedAccount;
let treasurerTokenId: string;

function remember(tenant: Tenant, globalId: string): string {
  const { typename, bookId, id } = decodeGlobalId(globalId);
  tenant.ids.add(typename === 'Book' ? bookId : id);
  return globalId;
}

async function freshAccount(tenant: Tenant): Promise<CreatedAccount> {
  const account = await createAccount(admin, tenant.bookId, {
    code: `fresh-${uniqueSuffix()}`,
    type: 'ASSET',
  });
  remember(tenant, account.id);
  return account;
}

async function postEntry(tenant: Tenant, amount = '1.00'): Promise<string> {
  const payload = await admin.postJournalEntry({
    bookId: tenant.bookId,
    idempotencyKey: newKey('authz'),
    lines: [debit(tenant.cash, amount), credit(tenant.revenue, amount)],
  });
  expect(payload.userErrors).toEqual([]);
  return remember(tenant, payload.entry!.id);
}

async function postPending(tenant: Tenant): Promise<string> {
  const payload = await admin.postPendingEntry({
    bookId: tenant.bookId,
    idempotencyKey: newKey('authz-pending'),
    lines: [debit(tenant.cash, '1.00'), credit(tenant.revenue, '1.00')],
  });
  expect(payload.userErrors).toEqual([]);
  return remember(tenant, payload.entry!.id);
}

/**
 * The city of this run's co-ops. Both vitest projects run this file against one database, so a
 * fixed city would list the other project's directory control too.
 */
const CITY = `Authzville ${uniqueSuffix()}`;

function coopInput(name: string) {
  return {
    name,
    kind: 'WORKER',
    naicsCode: '5415',
    city: CITY,
    foundedOn: '2020-01-01',
    legalForm: 'cooperative',
    baseCurrency: { code: 'USD', scale: 2 },
    redemptionRule: 'HOLD',
  } as const;
}

/** The month after the tenants' city's latest release ('2000-01' first: an empty table, always protectable). */
async function nextReleaseMonth(): Promise<string> {
  const { rows } = await db.query(
    `select to_char(max(through_month) + interval '1 month', 'YYYY-MM') as m from reporting_release where city_key = lower($1)`,
    [CITY],
  );
  return (rows[0]?.m as string | null) ?? '2000-01';
}

/** A release of the tenants' city exists (published by the admin when none does). */
async function ensureCityRelease(): Promise<void> {
  const { rows } = await db.query('select 1 from reporting_release where city_key = lower($1)', [CITY]);
  if (rows.length > 0) return;
  const payload = await admin.publishCityReport({
    city: CITY,
    currency: 'USD',
    throughMonth: await nextReleaseMonth(),
  });
  expect(payload.userErrors).toEqual([]);
}

async function exists(sql: string, params: unknown[]): Promise<boolean> {
  const { rows } = await db.query(sql, params);
  return rows.length > 0;
}

const rawId = (globalId: string) => decodeGlobalId(globalId).id;

const today = () => new Date().toISOString().slice(0, 10);

/** The one publicly listed co-op of CITY (the directory's control). */
let listedCoopId = '';

/** A person registered in the tenant's co-op, joined to its class; returns the membership. */
async function freshMembership(
  tenant: Tenant,
  classId = tenant.classId,
): Promise<{ id: string; partyId: string; shareCapitalId: string }> {
  const party = await admin.registerParty({ coopId: tenant.coopId, name: `authz person ${uniqueSuffix()}` });
  expect(party.userErrors).toEqual([]);
  remember(tenant, party.party!.id);
  const joined = await admin.joinCoop({
    coopId: tenant.coopId,
    partyId: party.party!.id,
    memberClassId: classId,
    appliedOn: today(),
    idempotencyKey: newKey('authz-join'),
  });
  expect(joined.userErrors).toEqual([]);
  const m = joined.membership!;
  remember(tenant, m.id);
  for (const account of Object.values(m.accounts)) if (account) remember(tenant, account.id);
  if (joined.entry) remember(tenant, joined.entry.id);
  return { id: m.id, partyId: party.party!.id, shareCapitalId: m.accounts.shareCapital!.id };
}

async function payIn(tenant: Tenant, membershipId: string, amount: string): Promise<void> {
  const paid = await admin.payInstalment({
    membershipId,
    amount,
    paidOn: today(),
    method: 'BANK',
    idempotencyKey: newKey('authz-pay'),
  });
  expect(paid.userErrors).toEqual([]);
  remember(tenant, paid.entry!.id);
}

async function changeState(
  tenant: Tenant,
  membershipId: string,
  toState: 'ACTIVE' | 'WITHDRAWN',
): Promise<void> {
  const changed = await admin.changeMembershipState({
    membershipId,
    toState,
    effectiveOn: today(),
    idempotencyKey: newKey('authz-state'),
  });
  expect(changed.userErrors).toEqual([]);
  if (changed.entry) remember(tenant, changed.entry.id);
}

/** A rejected import payload: exactly one user error of `code`, nothing imported. */
function expectImportRefused(code: string) {
  return (value: Answer) => {
    expect(value.userErrors.map((e: { code: string }) => e.code)).toEqual([code]);
    expect(value.imported).toBe(false);
  };
}

// ---------- patronage fixtures (issue 13) ----------

const PATRONAGE_POLICY = {
  measures: [{ code: 'HOURS', kind: 'HOURS' as const, unit: { code: 'HOUR', scale: 0 }, weight: '1' }],
  reservePercent: '0',
  revolvingYears: 0,
};

interface TenantPatronage {
  /** A member ACTIVE since 2017 with 10 hours in each of 2017-2024, and a committed run of 2023. */
  memberId: string;
  memberNumber: number;
  runId: string;
  /** The next fiscal year free for a run of its own (2017-2022). */
  nextYear: number;
  /** Days already used by records of 2026. */
  day: number;
}

const patronage: Partial<Record<'A' | 'B', TenantPatronage>> = {};
const patronageSetups: Partial<Record<'A' | 'B', Promise<TenantPatronage>>> = {};

async function commitRun(tenant: Tenant, year: number): Promise<string> {
  const committed = await admin.commitPatronageAllocation({
    coopId: tenant.coopId,
    fiscalYear: year,
    surplus: '10.00',
    idempotencyKey: newKey('authz-run'),
  });
  expect(committed.userErrors).toEqual([]);
  return remember(tenant, committed.run!.id);
}

async function policyVersions(tenant: Tenant): Promise<number> {
  return (await admin.patronagePolicies({ coopId: tenant.coopId })).length;
}

/** The tenant's patronage: its policy, a member with hours, a committed run of 2023 (made once). */
function patronageOf(tenant: Tenant): Promise<TenantPatronage> {
  patronageSetups[tenant.name] ??= (async () => {
    const policy = await admin.setPatronagePolicy({ coopId: tenant.coopId, ...PATRONAGE_POLICY });
    expect(policy.userErrors).toEqual([]);
    const accounts = await admin.accounts({ bookId: tenant.bookId, first: 100 });
    for (const e of accounts!.edges) remember(tenant, e.node.id);
    const party = await admin.registerParty({
      coopId: tenant.coopId,
      name: `authz patron ${uniqueSuffix()}`,
    });
    remember(tenant, party.party!.id);
    const joined = await admin.joinCoop({
      coopId: tenant.coopId,
      partyId: party.party!.id,
      memberClassId: tenant.transferableClassId,
      appliedOn: '2017-01-01',
      idempotencyKey: newKey('authz-patron'),
    });
    expect(joined.userErrors).toEqual([]);
    const m = joined.membership!;
    remember(tenant, m.id);
    remember(tenant, joined.entry!.id);
    for (const account of Object.values(m.accounts)) if (account) remember(tenant, account.id);
    const active = await admin.changeMembershipState({
      membershipId: m.id,
      toState: 'ACTIVE',
      effectiveOn: '2017-01-01',
      idempotencyKey: newKey('authz-patron-active'),
    });
    expect(active.userErrors).toEqual([]);
    const years = [2017, 2018, 2019, 2020, 2021, 2022, 2023, 2024];
    const recorded = await admin.recordPatronage({
      coopId: tenant.coopId,
      idempotencyKey: newKey('authz-hours'),
      records: [
        ...years.map((y) => ({
          membershipId: m.id,
          measure: 'HOURS',
          periodStart: `${y}-01-01`,
          periodEnd: `${y}-12-31`,
          quantity: '10',
        })),
        // The tenant's own member (memberA's) joined later: recorded, excluded, allocated 0.
        {
          membershipId: tenant.membershipId,
          measure: 'HOURS',
          periodStart: '2023-01-01',
          periodEnd: '2023-12-31',
          quantity: '5',
        },
      ],
    });
    expect(recorded.userErrors).toEqual([]);
    const setup: TenantPatronage = {
      memberId: m.id,
      memberNumber: m.memberNumber,
      runId: '',
      nextYear: 2017,
      day: 0,
    };
    // 2023: 100.00 to the patron (cash 20.00, retained 80.00, a qualified notice dated this year).
    const run = await admin.commitPatronageAllocation({
      coopId: tenant.coopId,
      fiscalYear: 2023,
      surplus: '100.00',
      allocatedOn: '2024-01-15',
      idempotencyKey: newKey('authz-run'),
    });
    expect(run.userErrors).toEqual([]);
    setup.runId = remember(tenant, run.run!.id);
    patronage[tenant.name] = setup;
    return setup;
  })();
  return patronageSetups[tenant.name]!;
}

function lines(tenant: Tenant) {
  return [debit(tenant.cash, '1.00'), credit(tenant.revenue, '1.00')];
}

// ---------- the treasurer's desk fixtures (issue 17) ----------

const BANK_MAPPING = {
  dateColumn: 'date',
  dateFormat: 'ISO',
  amountColumn: 'amount',
  descriptionColumns: ['text'],
  referenceColumn: 'ref',
};

/** A fresh bank account of the tenant with one imported line of `amount` dated today (and the line's id). */
async function bankLine(
  tenant: Tenant,
  amount = '1.00',
  text = 'authz line',
): Promise<{ account: CreatedAccount; lineId: string; statementId: string }> {
  const account = await freshAccount(tenant);
  const imported = await admin.importBankStatement({
    accountId: account.id,
    format: 'CSV',
    content: `date,text,ref,amount\n${today()},${text},R-${uniqueSuffix()},${amount}\n`,
    csvMapping: BANK_MAPPING as never,
    idempotencyKey: newKey('authz-bank'),
  });
  expect(imported.userErrors).toEqual([]);
  const lines = (await admin.bankLines({ accountId: account.id, first: 1 }))!;
  return { account, lineId: lines.edges[0]!.node.id, statementId: imported.statement!.id };
}

/** An entry of 1.00 into the account, dated today (what a bank line of 1.00 stands for). */
async function bankEntry(tenant: Tenant, account: CreatedAccount): Promise<string> {
  const payload = await admin.postJournalEntry({
    bookId: tenant.bookId,
    idempotencyKey: newKey('authz-bank-entry'),
    effectiveAt: `${today()}T00:00:00.000Z`,
    lines: [debit(account, '1.00'), credit(tenant.revenue, '1.00')],
  });
  expect(payload.userErrors).toEqual([]);
  return remember(tenant, payload.entry!.id);
}

/** A fresh account's open reconciliation of today (nothing on it: it agrees at 0.00). */
async function bankReconciliation(tenant: Tenant): Promise<string> {
  const account = await freshAccount(tenant);
  const started = await admin.startBankReconciliation({
    accountId: account.id,
    periodStart: today(),
    periodEnd: today(),
    statementBalance: '0.00',
  });
  expect(started.userErrors).toEqual([]);
  return started.reconciliation!.id;
}

const bankRaw = (globalId: string) => decodeGlobalId(globalId).id;

// ---------- mutual credit fixtures (issue 14) ----------

/** A dynamic policy, so that applyCreditPolicy has something to grow (10% of sales, window 30 days). */
const CREDIT_POLICY = {
  defaultLimit: '1000.00',
  softLimitPercent: 80,
  dynamic: { salesPercent: '10', windowDays: 30, cap: '100000.00' },
};

/** The dynamic share of sales the applyCreditPolicy probes last set (each raises it by 5 points). */
let policyRaise = 20;

interface TenantCredit {
  /** The tenant's network (a book of its own): its CreditNetwork id, its Book id and its raw uuid. */
  networkId: string;
  networkBookId: string;
  bookRaw: string;
  /** The tenant's co-op as a member (its treasurer acts for it), and a partner co-op's member. */
  memberId: string;
  memberNumber: number;
  partnerId: string;
  partnerNumber: number;
  /** An open request the tenant's member asked of the partner (read by paymentRequest). */
  requestId: string;
}

const networks = {} as Record<'A' | 'B', TenantCredit>;

/** Ids of a network's objects: `CreditNetwork:<book>` has no second part, the others are scoped. */
function rememberCredit(tenant: Tenant, globalId: string): string {
  const text = Buffer.from(globalId, 'base64').toString('utf8');
  if (text.startsWith('CreditNetwork:')) tenant.ids.add(text.slice('CreditNetwork:'.length));
  else remember(tenant, globalId);
  return globalId;
}

async function joinNetwork(tenant: Tenant, networkId: string, coopId: string) {
  const joined = await admin.joinCreditNetwork({
    networkId,
    coopId,
    idempotencyKey: newKey('authz-netjoin'),
  });
  expect(joined.userErrors).toEqual([]);
  rememberCredit(tenant, joined.member!.id);
  return joined.member!;
}

/**
 * The tenant's network, made before the tokens (stewardA's token names network A): the tenant's
 * co-op and a partner co-op (made here, not listed) as its members, and an open request.
 */
async function setupCredit(tenant: Tenant): Promise<TenantCredit> {
  const created = await admin.createCreditNetwork({
    name: `authz network ${tenant.name} ${uniqueSuffix()}`,
    unit: { code: 'HOUR', scale: 2 },
    currencies: [{ code: 'EUR', scale: 2 }],
    policy: CREDIT_POLICY,
    idempotencyKey: newKey('authz-net'),
  });
  expect(created.userErrors).toEqual([]);
  const network = created.network!;
  rememberCredit(tenant, network.id);
  const bookRaw = decodeGlobalId(network.bookId).bookId;
  const partnerCoop = await admin.createCoop(coopInput(`authz ${tenant.name} partner ${uniqueSuffix()}`));
  expect(partnerCoop.userErrors).toEqual([]);
  remember(tenant, partnerCoop.coop!.id);
  const own = await joinNetwork(tenant, network.id, tenant.coopId);
  const partner = await joinNetwork(tenant, network.id, partnerCoop.coop!.id);
  const c: TenantCredit = {
    networkId: network.id,
    networkBookId: network.bookId,
    bookRaw,
    memberId: own.id,
    memberNumber: own.number,
    partnerId: partner.id,
    partnerNumber: partner.number,
    requestId: '',
  };
  c.requestId = await creditRequest(tenant, c, 'partner');
  return c;
}

/**
 * A fresh request of 1.00 (made by an admin, who acts for every member) that `payer` pays and the
 * other member asked for; `hold`: accepted through a hold, waiting for the payee.
 */
async function creditRequest(
  tenant: Tenant,
  c: TenantCredit,
  payer: 'own' | 'partner',
  hold = false,
): Promise<string> {
  const [payerId, payeeId] = payer === 'own' ? [c.memberId, c.partnerId] : [c.partnerId, c.memberId];
  const created = await admin.createPaymentRequest({
    payerId,
    payeeId,
    amount: '1.00',
    idempotencyKey: newKey('authz-request'),
  });
  expect(created.userErrors).toEqual([]);
  const requestId = rememberCredit(tenant, created.request!.id);
  if (hold) {
    const held = await admin.acceptPaymentRequest({
      requestId,
      hold: true,
      idempotencyKey: newKey('authz-hold'),
    });
    expect(held.userErrors).toEqual([]);
    rememberCredit(tenant, held.entryId!);
  }
  return requestId;
}

/** A payment of 1.00 from the tenant's member to the partner (the partner's sales grow). */
async function payPartner(tenant: Tenant, c: TenantCredit): Promise<void> {
  const paid = await admin.payInNetwork({
    payerId: c.memberId,
    payeeId: c.partnerId,
    amount: '1.00',
    idempotencyKey: newKey('authz-netpay'),
  });
  expect(paid.userErrors).toEqual([]);
  rememberCredit(tenant, paid.entryId!);
}

function obligation(c: TenantCredit, debtor: 'own' | 'partner') {
  const [debtorId, creditorId] = debtor === 'own' ? [c.memberId, c.partnerId] : [c.partnerId, c.memberId];
  return {
    debtorId,
    creditorId,
    currency: 'EUR',
    amount: '1.00',
    dueOn: today(),
    reference: `R-${uniqueSuffix()}`,
  };
}

async function requestHas(c: TenantCredit, requestId: string, status: string): Promise<boolean> {
  return exists('select 1 from credit_payment_request where book_id = $1 and id = $2 and status = $3', [
    c.bookRaw,
    decodeGlobalId(requestId).id,
    status,
  ]);
}

/** Codes of unit currencies added by addNetworkCurrency probes (2 to 16 of A-Z, 0-9). */
let currencySeq = 0;

/** The answer of a network, member or request that is not there (or not the caller's to act on). */
const UNKNOWN_NETWORK = [{ code: 'UNKNOWN_NETWORK', field: 'networkId' }];
const UNKNOWN_PAYER = [{ code: 'UNKNOWN_NETWORK_MEMBER', field: 'payerId' }];
const UNKNOWN_PAYEE = [{ code: 'UNKNOWN_NETWORK_MEMBER', field: 'payeeId' }];
const UNKNOWN_REQUEST = [{ code: 'UNKNOWN_PAYMENT_REQUEST', field: 'requestId' }];
const NO_PAYMENT = { entryId: null, replayed: false, warning: null };
const NO_REQUEST = { request: null, entryId: null, replayed: false, warning: null };
const NO_OBLIGATIONS = { recorded: 0, replayed: false, rowErrors: [] };

/**
 * A refused credit mutation: exactly `payload` with `userErrors`. Callers who may read the network
 * (its steward) are told the member or request is unknown (`forReader`); everyone else that the
 * network is, as for an id that does not exist.
 */
function creditRefusal(payload: Record<string, unknown>, forReader = UNKNOWN_NETWORK) {
  return (v: Answer, { caller }: Ctx) =>
    expect(v).toEqual({ ...payload, userErrors: caller === 'stewardA' ? forReader : UNKNOWN_NETWORK });
}

// ---------------------------------------------------------------------------------------------
// Shapes of answers

const ids = (connection: { edges: { node: { id: string } }[] }) => connection.edges.map((e) => e.node.id);

/**
 * The cursor of the edge just before `id` in a listing (books or co-ops, as the admin reads
 * them), or null when it comes first; throws when `id` is not listed at all.
 */
async function cursorBefore(
  list: (variables: { first: number; after?: string }) => Promise<{
    edges: { cursor: string; node: { id: string } }[];
    pageInfo: { hasNextPage: boolean; endCursor?: string | null };
  }>,
  id: string,
): Promise<string | null> {
  let previous: string | null = null;
  let after: string | undefined;
  for (;;) {
    const page = await list({ first: 100, ...(after ? { after } : {}) });
    for (const edge of page.edges) {
      if (edge.node.id === id) return previous;
      previous = edge.cursor;
    }
    if (!page.pageInfo.hasNextPage) throw new Error(`${id} is not listed`);
    after = page.pageInfo.endCursor!;
  }
}

function expectEmptyConnection(value: unknown): void {
  expect(value).toEqual({ edges: [], pageInfo: { hasNextPage: false } });
}

function expectNull(value: unknown): void {
  expect(value).toBeNull();
}

/** A rejected mutation payload: exactly one user error of `code`, and no object. */
function expectUserError(code: string, objectField: string) {
  return (value: Answer) => {
    expect(value.userErrors.map((e: { code: string }) => e.code)).toEqual([code]);
    expect(value[objectField]).toBeNull();
  };
}

const CONNECTION = 'edges { node { id } } pageInfo { hasNextPage }';
const USER_ERRORS = 'userErrors { code field }';

// ---------------------------------------------------------------------------------------------
// The rule table: every root field, by "Type.field".

const RULES: Record<string, Rule> = {
  'Query.viewer': {
    scopes: { public: true },
    expect: PUBLIC,
    probe: () => ({ query: 'query { viewer { tokenId principalId grants { role scope } } }' }),
    allowed: (v, { state }) => {
      expect(v.tokenId).toBe(state.tokenId);
      expect(v.principalId).toMatch(/^[0-9a-f-]{36}$/);
    },
    notFound: expectNull,
  },
  'Query.apiTokens': {
    scopes: { admin: true },
    expect: ADMIN_ONLY,
    probe: () => ({ query: 'query { apiTokens { id principalName } }' }),
    allowed: (v, ctx) => expect(v.map((t: { id: string }) => t.id)).toContain(ctx.treasurerTokenId),
  },
  'Query.book': {
    scopes: { authenticated: true },
    expect: BOOK_TENANT,
    probe: ({ tenant }) => ({
      query: 'query($id: ID!) { book(id: $id) { id name } }',
      variables: { id: tenant.bookId },
    }),
    allowed: (v, { tenant }) => expect(v.id).toBe(tenant.bookId),
    notFound: expectNull,
  },
  'Query.books': {
    scopes: { authenticated: true },
    expect: BOOK_LIST,
    // An admin reads every book of the run (other files make theirs, more than a page of them):
    // its page starts just before the tenant's book, which must come first.
    probe: async ({ caller, tenant }) => ({
      query: `query($after: String) { books(first: 100, after: $after) { ${CONNECTION} } }`,
      variables: {
        after: caller === 'admin' ? await cursorBefore((v) => admin.books(v), tenant.bookId) : null,
      },
    }),
    allowed: (v, { caller, tenant }) => {
      // A treasurer or steward reads exactly their own (the steward's grants also name network A's book).
      if (caller === 'admin') expect(ids(v)[0]).toBe(tenant.bookId);
      else
        expect(ids(v)).toEqual(
          caller === 'stewardA' ? [tenants.A.bookId, networks.A.networkBookId] : [tenants.A.bookId],
        );
    },
    notFound: expectEmptyConnection,
  },
  'Query.account': {
    scopes: { authenticated: true },
    expect: ACCOUNT_READ,
    probe: ({ tenant }) => ({
      query: 'query($id: ID!) { account(id: $id) { id code } }',
      variables: { id: tenant.cash.id },
    }),
    allowed: (v, { tenant }) => expect(v).toEqual({ id: tenant.cash.id, code: tenant.cash.code }),
    notFound: expectNull,
  },
  'Query.accounts': {
    scopes: { authenticated: true },
    expect: BOOK_TENANT,
    probe: ({ tenant }) => ({
      query: `query($bookId: ID!) { accounts(bookId: $bookId, first: 100) { ${CONNECTION} } }`,
      variables: { bookId: tenant.bookId },
    }),
    allowed: (v, { tenant }) =>
      expect(ids(v)).toEqual(expect.arrayContaining([tenant.cash.id, tenant.revenue.id])),
    notFound: expectEmptyConnection,
  },
  'Query.journalEntry': {
    scopes: { authenticated: true },
    expect: BOOK_TENANT,
    probe: ({ tenant }) => ({
      query: 'query($id: ID!) { journalEntry(id: $id) { id kind } }',
      variables: { id: tenant.entryId },
    }),
    allowed: (v, { tenant }) => expect(v).toEqual({ id: tenant.entryId, kind: 'STANDARD' }),
    notFound: expectNull,
  },
  'Query.journalEntries': {
    scopes: { authenticated: true },
    expect: BOOK_TENANT,
    // From the tenant's entry on: other fixtures (patronage's among them) post many entries dated
    // before it, which come first.
    probe: async ({ tenant }) => ({
      query: `query($bookId: ID!, $from: DateTime) { journalEntries(bookId: $bookId, first: 100, from: $from) { ${CONNECTION} } }`,
      variables: {
        bookId: tenant.bookId,
        from: (await admin.journalEntry({ id: tenant.entryId }))!.effectiveAt,
      },
    }),
    allowed: (v, { tenant }) => expect(ids(v)).toContain(tenant.entryId),
    notFound: expectEmptyConnection,
  },
  'Query.accountBalance': {
    scopes: { authenticated: true },
    expect: ACCOUNT_READ,
    probe: ({ tenant }) => ({
      query: 'query($id: ID!) { accountBalance(accountId: $id) { posted account { id } } }',
      variables: { id: tenant.cash.id },
    }),
    allowed: (v, { tenant }) => {
      expect(v.account.id).toBe(tenant.cash.id);
      expect(v.posted).toMatch(/^\d+\.\d\d$/);
      expect(v.posted).not.toBe('0.00');
    },
    notFound: expectNull,
  },
  'Query.trialBalance': {
    scopes: { authenticated: true },
    expect: BOOK_TENANT,
    probe: ({ tenant }) => ({
      query: 'query($bookId: ID!) { trialBalance(bookId: $bookId) { balanced book { id } } }',
      variables: { bookId: tenant.bookId },
    }),
    allowed: (v, { tenant }) => expect(v).toEqual({ balanced: true, book: { id: tenant.bookId } }),
    notFound: expectNull,
  },
  'Query.verifyBookChain': {
    scopes: { authenticated: true },
    expect: BOOK_TENANT,
    probe: ({ tenant }) => ({
      query: 'query($bookId: ID!) { verifyBookChain(bookId: $bookId) { ok entriesChecked book { id } } }',
      variables: { bookId: tenant.bookId },
    }),
    allowed: (v, { tenant }) => {
      expect(v.ok).toBe(true);
      expect(v.entriesChecked).toBeGreaterThan(0);
      expect(v.book.id).toBe(tenant.bookId);
    },
    notFound: expectNull,
  },
  'Query.auditBook': {
    scopes: { authenticated: true },
    expect: BOOK_TENANT,
    probe: ({ tenant }) => ({
      query: 'query($bookId: ID!) { auditBook(bookId: $bookId) { ok mismatchCount book { id } } }',
      variables: { bookId: tenant.bookId },
    }),
    allowed: (v, { tenant }) =>
      expect(v).toEqual({ ok: true, mismatchCount: 0, book: { id: tenant.bookId } }),
    notFound: expectNull,
  },
  'Query.node': {
    scopes: { authenticated: true },
    expect: ACCOUNT_READ,
    probe: ({ tenant }) => ({
      query: 'query($id: ID!) { node(id: $id) { id ... on Account { code } } }',
      variables: { id: tenant.cash.id },
    }),
    allowed: (v, { tenant }) => expect(v).toEqual({ id: tenant.cash.id, code: tenant.cash.code }),
    notFound: expectNull,
  },

  'Query.coop': {
    scopes: { authenticated: true },
    expect: BOOK_TENANT,
    probe: ({ tenant }) => ({
      query: 'query($id: ID!) { coop(id: $id) { id name book { id } } }',
      variables: { id: tenant.coopId },
    }),
    allowed: (v, { tenant }) => expect(v).toMatchObject({ id: tenant.coopId, book: { id: tenant.bookId } }),
    notFound: expectNull,
  },
  'Query.coops': {
    scopes: { authenticated: true },
    expect: BOOK_LIST,
    probe: async ({ caller, tenant }) => ({
      query: `query($after: String) { coops(first: 100, after: $after) { ${CONNECTION} } }`,
      variables: {
        after: caller === 'admin' ? await cursorBefore((v) => admin.coops(v), tenant.coopId) : null,
      },
    }),
    allowed: (v, { caller, tenant }) => {
      if (caller === 'admin') expect(ids(v)[0]).toBe(tenant.coopId);
      else expect(ids(v)).toEqual([tenants.A.coopId]);
    },
    notFound: expectEmptyConnection,
  },
  'Query.coopDirectory': {
    scopes: { public: true },
    expect: DIRECTORY,
    probe: () => ({
      query:
        'query($city: String!) { coopDirectory(first: 100, city: $city) { edges { node { id name city } } } }',
      variables: { city: CITY },
    }),
    // Everybody finds the one listed co-op of CITY, and nobody finds the tenants (not listed).
    allowed: (v) => expect(v.edges.map((e: { node: { id: string } }) => e.node.id)).toEqual([listedCoopId]),
  },
  'Query.membership': {
    scopes: { authenticated: true },
    expect: PERSONAL,
    probe: ({ tenant }) => ({
      query: 'query($id: ID!) { membership(id: $id) { id memberNumber coop { id } party { id name } } }',
      variables: { id: tenant.membershipId },
    }),
    allowed: (v, { tenant, caller }) => {
      expect(v).toMatchObject({ id: tenant.membershipId, memberNumber: 1, party: { id: tenant.partyId } });
      // The member reads their membership but not the Coop object.
      expect(v.coop).toEqual(caller === 'memberA' ? null : { id: tenant.coopId });
    },
    notFound: expectNull,
  },
  'Query.party': {
    scopes: { authenticated: true },
    expect: PERSONAL,
    probe: ({ tenant }) => ({
      query: 'query($id: ID!) { party(id: $id) { id name email memberships { id } } }',
      variables: { id: tenant.partyId },
    }),
    allowed: (v, { tenant }) => {
      expect(v).toMatchObject({ id: tenant.partyId, email: 'person@example.org' });
      expect(v.memberships.map((m: { id: string }) => m.id)).toEqual([tenant.membershipId]);
    },
    notFound: expectNull,
  },
  'Query.myMemberships': {
    scopes: { authenticated: true },
    expect: OWN_MEMBERSHIPS,
    probe: () => ({ query: 'query { myMemberships { id state } }' }),
    allowed: (v, { tenant }) => expect(v).toEqual([{ id: tenant.membershipId, state: 'ACTIVE' }]),
    notFound: (v) => expect(v).toEqual([]),
  },
  'Query.votingRoll': {
    scopes: { authenticated: true },
    expect: BOOK_TENANT,
    probe: ({ tenant }) => ({
      query:
        'query($id: ID!, $on: Date!) { votingRoll(coopId: $id, on: $on) { votes entries { membership { id } } } }',
      variables: { id: tenant.coopId, on: today() },
    }),
    allowed: (v, { tenant }) => {
      expect(v.votes).toBe(1);
      expect(v.entries).toEqual([{ membership: { id: tenant.membershipId } }]);
    },
    notFound: expectNull,
  },
  'Query.memberStatement': {
    scopes: { authenticated: true },
    expect: PERSONAL,
    probe: ({ tenant }) => ({
      query: `query($id: ID!, $from: Date!, $to: Date!) { memberStatement(membershipId: $id, from: $from, to: $to) {
        capitalClosing movements { event } entries { id } accounts { role account { id } } } }`,
      variables: { id: tenant.membershipId, from: '2000-01-01', to: today() },
    }),
    allowed: (v, { tenant, caller }) => {
      expect(v.capitalClosing).toBe('50.00');
      expect(v.movements.map((m: { event: string }) => m.event)).toEqual(['SUBSCRIPTION', 'INSTALMENT']);
      // Whole entries and the other accounts are the treasurers'; the member sees their own lines.
      if (caller === 'memberA') {
        expect(v.entries).toBeNull();
        expect(v.accounts.filter((a: { account: unknown }) => a.account !== null)).toEqual([
          { role: 'SHARE_CAPITAL', account: { id: tenant.shareCapitalId } },
        ]);
      } else expect(v.entries).toHaveLength(2);
    },
    notFound: expectNull,
  },

  'Mutation.createBook': {
    scopes: { admin: true },
    expect: ADMIN_ONLY,
    probe: () => {
      const name = `authz book ${uniqueSuffix()}`;
      return {
        query: `mutation($input: CreateBookInput!) { createBook(input: $input) { book { id name } ${USER_ERRORS} } }`,
        variables: { input: { name, units: [{ code: 'USD', scale: 2 }] } },
        effect: () => exists('select 1 from book where name = $1', [name]),
      };
    },
    allowed: (v) => {
      expect(v.userErrors).toEqual([]);
      expect(v.book.name).toMatch(/^authz book /);
    },
  },
  'Mutation.createAccount': {
    scopes: { authenticated: true },
    expect: BOOK_TENANT,
    probe: ({ tenant }) => {
      const code = `new-${uniqueSuffix()}`;
      return {
        query: `mutation($input: CreateAccountInput!) { createAccount(input: $input) { account { id code } ${USER_ERRORS} } }`,
        variables: { input: { bookId: tenant.bookId, code, name: code, type: 'ASSET', unit: 'USD' } },
        effect: () => exists('select 1 from account where code = $1', [code]),
      };
    },
    allowed: (v, { tenant }) => {
      expect(v.userErrors).toEqual([]);
      remember(tenant, v.account.id);
      expect(decodeGlobalId(v.account.id).bookId).toBe(rawId(tenant.bookId));
    },
    notFound: expectUserError('UNKNOWN_BOOK', 'account'),
  },
  'Mutation.closeAccount': {
    scopes: { authenticated: true },
    expect: BOOK_TENANT,
    probe: async ({ tenant }) => {
      const account = await freshAccount(tenant);
      return {
        query: `mutation($input: CloseAccountInput!) { closeAccount(input: $input) { account { id closed } ${USER_ERRORS} } }`,
        variables: { input: { accountId: account.id } },
        effect: () =>
          exists('select 1 from account where book_id = $1 and id = $2 and closed_at is not null', [
            decodeGlobalId(account.id).bookId,
            rawId(account.id),
          ]),
      };
    },
    allowed: (v) => {
      expect(v.userErrors).toEqual([]);
      expect(v.account.closed).toBe(true);
    },
    notFound: expectUserError('UNKNOWN_ACCOUNT', 'account'),
  },
  'Mutation.postJournalEntry': {
    scopes: { authenticated: true },
    expect: BOOK_TENANT,
    probe: ({ tenant }) => {
      const idempotencyKey = newKey('authz-post');
      return {
        query: `mutation($input: PostJournalEntryInput!) { postJournalEntry(input: $input) { entry { id } ${USER_ERRORS} } }`,
        variables: { input: { bookId: tenant.bookId, idempotencyKey, lines: lines(tenant) } },
        effect: () => exists('select 1 from journal_entry where idempotency_key = $1', [idempotencyKey]),
      };
    },
    allowed: (v, { tenant }) => {
      expect(v.userErrors).toEqual([]);
      remember(tenant, v.entry.id);
    },
    notFound: expectUserError('UNKNOWN_BOOK', 'entry'),
  },
  'Mutation.postJournalEntries': {
    scopes: { authenticated: true },
    expect: BOOK_TENANT,
    probe: ({ tenant }) => {
      const idempotencyKey = newKey('authz-batch');
      return {
        query: `mutation($input: PostJournalEntriesInput!) { postJournalEntries(input: $input) {
          postedCount results { index entry { id } userErrors { code } } ${USER_ERRORS} } }`,
        variables: {
          input: {
            bookId: tenant.bookId,
            mode: 'ATOMIC',
            entries: [{ idempotencyKey, lines: lines(tenant) }],
          },
        },
        effect: () => exists('select 1 from journal_entry where idempotency_key = $1', [idempotencyKey]),
      };
    },
    allowed: (v, { tenant }) => {
      expect(v.userErrors).toEqual([]);
      expect(v.postedCount).toBe(1);
      expect(v.results[0].userErrors).toEqual([]);
      remember(tenant, v.results[0].entry.id);
    },
    notFound: (v) => {
      expect(v.postedCount).toBe(0);
      const codes = [
        ...v.userErrors.map((e: { code: string }) => e.code),
        ...v.results.flatMap((r: { userErrors: { code: string }[] }) => r.userErrors.map((e) => e.code)),
      ];
      expect(codes.length).toBeGreaterThan(0);
      expect(new Set(codes)).toEqual(new Set(['UNKNOWN_BOOK']));
      for (const r of v.results) expect(r.entry).toBeNull();
    },
  },
  'Mutation.postPendingEntry': {
    scopes: { authenticated: true },
    expect: BOOK_TENANT,
    probe: ({ tenant }) => {
      const idempotencyKey = newKey('authz-pending');
      return {
        query: `mutation($input: PostPendingEntryInput!) { postPendingEntry(input: $input) { entry { id kind } ${USER_ERRORS} } }`,
        variables: { input: { bookId: tenant.bookId, idempotencyKey, lines: lines(tenant) } },
        effect: () => exists('select 1 from journal_entry where idempotency_key = $1', [idempotencyKey]),
      };
    },
    allowed: (v, { tenant }) => {
      expect(v.userErrors).toEqual([]);
      expect(v.entry.kind).toBe('PENDING');
      remember(tenant, v.entry.id);
    },
    notFound: expectUserError('UNKNOWN_BOOK', 'entry'),
  },
  'Mutation.reverseJournalEntry': {
    scopes: { authenticated: true },
    expect: BOOK_TENANT,
    probe: async ({ tenant }) => {
      const entryId = await postEntry(tenant);
      return {
        query: `mutation($input: ReverseJournalEntryInput!) { reverseJournalEntry(input: $input) {
          entry { id kind } reversedEntry { id } ${USER_ERRORS} } }`,
        variables: { input: { entryId, idempotencyKey: newKey('authz-reverse') } },
        effect: () =>
          exists('select 1 from journal_entry where book_id = $1 and reverses_id = $2', [
            decodeGlobalId(entryId).bookId,
            rawId(entryId),
          ]),
      };
    },
    allowed: (v, { tenant }) => {
      expect(v.userErrors).toEqual([]);
      expect(v.entry.kind).toBe('REVERSAL');
      remember(tenant, v.entry.id);
    },
    notFound: expectUserError('UNKNOWN_ENTRY', 'entry'),
  },
  'Mutation.commitPendingEntry': {
    scopes: { authenticated: true },
    expect: BOOK_TENANT,
    probe: async ({ tenant }) => {
      const entryId = await postPending(tenant);
      return {
        query: `mutation($input: CommitPendingEntryInput!) { commitPendingEntry(input: $input) {
          entry { id kind } pendingEntry { id } ${USER_ERRORS} } }`,
        variables: { input: { entryId, idempotencyKey: newKey('authz-commit') } },
        effect: () =>
          exists("select 1 from journal_entry where book_id = $1 and pending_id = $2 and kind = 'COMMIT'", [
            decodeGlobalId(entryId).bookId,
            rawId(entryId),
          ]),
      };
    },
    allowed: (v, { tenant }) => {
      expect(v.userErrors).toEqual([]);
      expect(v.entry.kind).toBe('COMMIT');
      remember(tenant, v.entry.id);
    },
    notFound: expectUserError('UNKNOWN_ENTRY', 'entry'),
  },
  'Mutation.voidPendingEntry': {
    scopes: { authenticated: true },
    expect: BOOK_TENANT,
    probe: async ({ tenant }) => {
      const entryId = await postPending(tenant);
      return {
        query: `mutation($input: VoidPendingEntryInput!) { voidPendingEntry(input: $input) {
          entry { id kind } pendingEntry { id } ${USER_ERRORS} } }`,
        variables: { input: { entryId, idempotencyKey: newKey('authz-void') } },
        effect: () =>
          exists("select 1 from journal_entry where book_id = $1 and pending_id = $2 and kind = 'VOID'", [
            decodeGlobalId(entryId).bookId,
            rawId(entryId),
          ]),
      };
    },
    allowed: (v, { tenant }) => {
      expect(v.userErrors).toEqual([]);
      expect(v.entry.kind).toBe('VOID');
      remember(tenant, v.entry.id);
    },
    notFound: expectUserError('UNKNOWN_ENTRY', 'entry'),
  },
  'Mutation.createCoop': {
    scopes: { admin: true },
    expect: ADMIN_ONLY,
    probe: () => {
      const name = `authz coop ${uniqueSuffix()}`;
      return {
        query: `mutation($input: CreateCoopInput!) { createCoop(input: $input) { coop { id name } ${USER_ERRORS} } }`,
        variables: { input: coopInput(name) },
        effect: () => exists('select 1 from coop where name = $1', [name]),
      };
    },
    allowed: (v) => {
      expect(v.userErrors).toEqual([]);
      expect(v.coop.name).toMatch(/^authz coop /);
    },
  },
  'Mutation.updateCoop': {
    scopes: { authenticated: true },
    expect: BOOK_TENANT,
    probe: ({ tenant }) => {
      const description = `updated ${uniqueSuffix()}`;
      return {
        query: `mutation($input: UpdateCoopInput!) { updateCoop(input: $input) { coop { id description } ${USER_ERRORS} } }`,
        variables: { input: { coopId: tenant.coopId, description } },
        effect: () => exists('select 1 from coop where description = $1', [description]),
      };
    },
    allowed: (v, { tenant }) => {
      expect(v.userErrors).toEqual([]);
      expect(v.coop.id).toBe(tenant.coopId);
    },
    notFound: expectUserError('UNKNOWN_COOP', 'coop'),
  },
  'Mutation.createMemberClass': {
    scopes: { authenticated: true },
    expect: BOOK_TENANT,
    probe: ({ tenant }) => {
      const code = `C-${uniqueSuffix()}`;
      return {
        query: `mutation($input: CreateMemberClassInput!) { createMemberClass(input: $input) { memberClass { id code } ${USER_ERRORS} } }`,
        variables: { input: { coopId: tenant.coopId, code, name: code, buyIn: '10.00', voting: false } },
        effect: () => exists('select 1 from member_class where code = $1', [code]),
      };
    },
    allowed: (v, { tenant }) => {
      expect(v.userErrors).toEqual([]);
      remember(tenant, v.memberClass.id);
    },
    notFound: expectUserError('UNKNOWN_COOP', 'memberClass'),
  },
  'Mutation.registerParty': {
    scopes: { authenticated: true },
    expect: BOOK_TENANT,
    probe: ({ tenant }) => {
      const name = `authz party ${uniqueSuffix()}`;
      return {
        query: `mutation($input: RegisterPartyInput!) { registerParty(input: $input) { party { id name } ${USER_ERRORS} } }`,
        variables: { input: { coopId: tenant.coopId, name } },
        effect: () => exists('select 1 from party where name = $1', [name]),
      };
    },
    allowed: (v, { tenant }) => {
      expect(v.userErrors).toEqual([]);
      remember(tenant, v.party.id);
    },
    notFound: expectUserError('UNKNOWN_COOP', 'party'),
  },
  'Mutation.joinCoop': {
    scopes: { authenticated: true },
    expect: BOOK_TENANT,
    probe: async ({ tenant }) => {
      const party = await admin.registerParty({
        coopId: tenant.coopId,
        name: `authz joiner ${uniqueSuffix()}`,
      });
      remember(tenant, party.party!.id);
      const key = newKey('authz-join');
      return {
        query: `mutation($input: JoinCoopInput!) { joinCoop(input: $input) { membership { id } entry { id } replayed ${USER_ERRORS} } }`,
        variables: {
          input: {
            coopId: tenant.coopId,
            partyId: party.party!.id,
            memberClassId: tenant.classId,
            appliedOn: today(),
            idempotencyKey: key,
          },
        },
        effect: () => exists('select 1 from membership where idempotency_key = $1', [key]),
      };
    },
    allowed: (v, { tenant }) => {
      expect(v.userErrors).toEqual([]);
      remember(tenant, v.membership.id);
      remember(tenant, v.entry.id);
    },
    notFound: expectUserError('UNKNOWN_COOP', 'membership'),
  },
  'Mutation.changeMembershipState': {
    scopes: { authenticated: true },
    expect: BOOK_TENANT,
    probe: async ({ tenant }) => {
      const m = await freshMembership(tenant);
      const key = newKey('authz-state');
      return {
        query: `mutation($input: ChangeMembershipStateInput!) { changeMembershipState(input: $input) {
          membership { id state } ${USER_ERRORS} } }`,
        variables: {
          input: { membershipId: m.id, toState: 'CANDIDATE', effectiveOn: today(), idempotencyKey: key },
        },
        effect: () => exists('select 1 from membership_event where idempotency_key = $1', [key]),
      };
    },
    allowed: (v) => {
      expect(v.userErrors).toEqual([]);
      expect(v.membership.state).toBe('CANDIDATE');
    },
    notFound: expectUserError('UNKNOWN_MEMBERSHIP', 'membership'),
  },
  'Mutation.payInstalment': {
    scopes: { authenticated: true },
    expect: BOOK_TENANT,
    probe: async ({ tenant }) => {
      const m = await freshMembership(tenant);
      const key = newKey('authz-pay');
      return {
        query: `mutation($input: PayInstalmentInput!) { payInstalment(input: $input) {
          membership { id paidIn } entry { id } ${USER_ERRORS} } }`,
        variables: {
          input: { membershipId: m.id, amount: '1.00', paidOn: today(), method: 'CASH', idempotencyKey: key },
        },
        effect: () => exists('select 1 from journal_entry where idempotency_key = $1', [key]),
      };
    },
    allowed: (v, { tenant }) => {
      expect(v.userErrors).toEqual([]);
      expect(v.membership.paidIn).toBe('1.00');
      remember(tenant, v.entry.id);
    },
    notFound: expectUserError('UNKNOWN_MEMBERSHIP', 'membership'),
  },
  'Mutation.repayRedemption': {
    scopes: { authenticated: true },
    expect: BOOK_TENANT,
    probe: async ({ tenant }) => {
      // A former member whose capital is held (the tenants' rule is HOLD).
      const m = await freshMembership(tenant);
      await payIn(tenant, m.id, '10.00');
      await changeState(tenant, m.id, 'WITHDRAWN');
      const key = newKey('authz-repay');
      return {
        query: `mutation($input: RepayRedemptionInput!) { repayRedemption(input: $input) {
          membership { id redemptionPayable } entry { id } ${USER_ERRORS} } }`,
        variables: {
          input: { membershipId: m.id, amount: '1.00', paidOn: today(), method: 'BANK', idempotencyKey: key },
        },
        effect: () => exists('select 1 from journal_entry where idempotency_key = $1', [key]),
      };
    },
    allowed: (v, { tenant }) => {
      expect(v.userErrors).toEqual([]);
      expect(v.membership.redemptionPayable).toBe('9.00');
      remember(tenant, v.entry.id);
    },
    notFound: expectUserError('UNKNOWN_MEMBERSHIP', 'membership'),
  },
  'Mutation.transferShares': {
    scopes: { authenticated: true },
    expect: BOOK_TENANT,
    probe: async ({ tenant }) => {
      const seller = await freshMembership(tenant, tenant.transferableClassId);
      const buyer = await freshMembership(tenant, tenant.transferableClassId);
      await payIn(tenant, seller.id, '10.00');
      const key = newKey('authz-transfer');
      return {
        query: `mutation($input: TransferSharesInput!) { transferShares(input: $input) {
          membership { id shareCapital } entry { id } ${USER_ERRORS} } }`,
        variables: {
          input: {
            fromMembershipId: seller.id,
            toMembershipId: buyer.id,
            amount: '1.00',
            effectiveOn: today(),
            idempotencyKey: key,
          },
        },
        effect: () => exists('select 1 from journal_entry where idempotency_key = $1', [key]),
      };
    },
    allowed: (v, { tenant }) => {
      expect(v.userErrors).toEqual([]);
      expect(v.membership.shareCapital).toBe('9.00');
      remember(tenant, v.entry.id);
    },
    notFound: expectUserError('UNKNOWN_MEMBERSHIP', 'membership'),
  },
  'Mutation.importMembersCsv': {
    scopes: { authenticated: true },
    expect: BOOK_TENANT,
    probe: ({ tenant }) => {
      const name = `authz imported ${uniqueSuffix()}`;
      return {
        query: `mutation($input: ImportMembersCsvInput!) { importMembersCsv(input: $input) {
          imported replayed rows membershipsCreated rowErrors { row code } ${USER_ERRORS} } }`,
        variables: {
          input: {
            coopId: tenant.coopId,
            kind: 'MEMBERS',
            csv: `name,class,applied_on\n${name},W,${today()}\n`,
            idempotencyKey: newKey('authz-import'),
          },
        },
        effect: () => exists('select 1 from party where name = $1', [name]),
      };
    },
    allowed: (v) => {
      expect(v).toMatchObject({
        imported: true,
        replayed: false,
        rows: 1,
        membershipsCreated: 1,
        userErrors: [],
      });
    },
    notFound: expectImportRefused('UNKNOWN_COOP'),
  },
  'Mutation.issueMemberToken': {
    scopes: { authenticated: true },
    expect: BOOK_TENANT,
    probe: ({ tenant }) => {
      const label = `authz invite ${uniqueSuffix()}`;
      return {
        query: `mutation($input: IssueMemberTokenInput!) { issueMemberToken(input: $input) {
          token memberToken { id label membership { id } } ${USER_ERRORS} } }`,
        variables: { input: { membershipId: tenant.membershipId, label } },
        effect: () => exists('select 1 from api_token where label = $1', [label]),
      };
    },
    allowed: (v, { tenant }) => {
      expect(v.userErrors).toEqual([]);
      expect(v.token).toMatch(TOKEN_PATTERN);
      expect(tokenIdOf(v.token)).toBe(v.memberToken.id);
      expect(v.memberToken.membership.id).toBe(tenant.membershipId);
    },
    notFound: expectUserError('UNKNOWN_MEMBERSHIP', 'memberToken'),
  },
  'Mutation.revokeMemberToken': {
    scopes: { authenticated: true },
    expect: BOOK_TENANT,
    probe: async ({ tenant }) => {
      const issued = await admin.issueMemberToken({ membershipId: tenant.membershipId });
      expect(issued.userErrors).toEqual([]);
      const tokenId = issued.memberToken!.id;
      return {
        query: `mutation($input: RevokeMemberTokenInput!) { revokeMemberToken(input: $input) {
          memberToken { id revokedAt } ${USER_ERRORS} } }`,
        variables: { input: { coopId: tenant.coopId, tokenId } },
        effect: () => exists('select 1 from api_token where id = $1 and revoked_at is not null', [tokenId]),
      };
    },
    allowed: (v) => {
      expect(v.userErrors).toEqual([]);
      expect(v.memberToken.revokedAt).not.toBeNull();
    },
    // The answer of an unknown token (AuthService.revokeToken's), so token ids cannot be probed.
    notFound: expectUserError('INVALID_INPUT', 'memberToken'),
  },
  'Mutation.issueApiToken': {
    scopes: { admin: true },
    expect: ADMIN_ONLY,
    probe: () => {
      const principalName = `authz issued ${uniqueSuffix()}`;
      return {
        query: `mutation($input: IssueApiTokenInput!) { issueApiToken(input: $input) { token apiToken { id } ${USER_ERRORS} } }`,
        variables: { input: { principalName, grants: [{ role: 'CITY_ANALYST', scope: 'Nowhere' }] } },
        effect: () => exists('select 1 from principal where name = $1', [principalName]),
      };
    },
    allowed: (v) => {
      expect(v.userErrors).toEqual([]);
      expect(v.token).toMatch(TOKEN_PATTERN);
      expect(tokenIdOf(v.token)).toBe(v.apiToken.id);
    },
  },
  'Mutation.revokeApiToken': {
    scopes: { admin: true },
    expect: ADMIN_ONLY,
    probe: async () => {
      const victim = await issueToken(admin, { grants: [{ role: 'CITY_ANALYST', scope: 'Nowhere' }] });
      return {
        query: `mutation($input: RevokeApiTokenInput!) { revokeApiToken(input: $input) { apiToken { id revokedAt } ${USER_ERRORS} } }`,
        variables: { input: { tokenId: victim.tokenId } },
        effect: () =>
          exists('select 1 from api_token where id = $1 and revoked_at is not null', [victim.tokenId]),
      };
    },
    allowed: (v) => {
      expect(v.userErrors).toEqual([]);
      expect(v.apiToken.revokedAt).not.toBeNull();
    },
  },
  // ---------- patronage (issue 13) ----------
  'Query.patronagePolicy': {
    scopes: { authenticated: true },
    expect: BOOK_TENANT,
    probe: async ({ tenant }) => {
      await patronageOf(tenant);
      return {
        query: 'query($id: ID!) { patronagePolicy(coopId: $id) { coopId version revolvingYears } }',
        variables: { id: tenant.coopId },
      };
    },
    allowed: (v, { tenant }) => expect(v).toMatchObject({ coopId: tenant.coopId, revolvingYears: 0 }),
    notFound: expectNull,
  },
  'Query.patronagePolicies': {
    scopes: { authenticated: true },
    expect: BOOK_TENANT,
    probe: async ({ tenant }) => {
      await patronageOf(tenant);
      return {
        query: 'query($id: ID!) { patronagePolicies(coopId: $id) { version } }',
        variables: { id: tenant.coopId },
      };
    },
    allowed: (v) => expect(v[0]).toEqual({ version: 1 }),
    notFound: (v) => expect(v).toEqual([]),
  },
  'Query.previewPatronageAllocation': {
    scopes: { authenticated: true },
    expect: BOOK_TENANT,
    probe: async ({ tenant }) => {
      await patronageOf(tenant);
      return {
        query: `query($id: ID!) { previewPatronageAllocation(coopId: $id, fiscalYear: 2023, surplus: "100.00") {
          preview { surplus memberPool } ${USER_ERRORS} } }`,
        variables: { id: tenant.coopId },
      };
    },
    allowed: (v) =>
      expect(v).toEqual({ preview: { surplus: '100.00', memberPool: '100.00' }, userErrors: [] }),
    notFound: expectUserError('UNKNOWN_COOP', 'preview'),
  },
  'Query.patronageRun': {
    scopes: { authenticated: true },
    expect: BOOK_TENANT,
    probe: async ({ tenant }) => ({
      query: 'query($id: ID!) { patronageRun(id: $id) { id status fiscalYear } }',
      variables: { id: (await patronageOf(tenant)).runId },
    }),
    allowed: (v, { tenant }) =>
      expect(v).toEqual({ id: patronage[tenant.name]!.runId, status: 'COMMITTED', fiscalYear: 2023 }),
    notFound: expectNull,
  },
  'Query.patronageRuns': {
    scopes: { authenticated: true },
    expect: BOOK_TENANT,
    probe: async ({ tenant }) => {
      await patronageOf(tenant);
      return {
        query: `query($id: ID!) { patronageRuns(coopId: $id, first: 100) { ${CONNECTION} } }`,
        variables: { id: tenant.coopId },
      };
    },
    allowed: (v, { tenant }) => expect(ids(v)).toContain(patronage[tenant.name]!.runId),
    notFound: expectEmptyConnection,
  },
  'Query.verifyPatronageRun': {
    scopes: { authenticated: true },
    expect: BOOK_TENANT,
    probe: async ({ tenant }) => ({
      query: 'query($id: ID!) { verifyPatronageRun(id: $id) { inputsHashMatches figuresMatch } }',
      variables: { id: (await patronageOf(tenant)).runId },
    }),
    allowed: (v) => expect(v).toEqual({ inputsHashMatches: true, figuresMatch: true }),
    notFound: expectNull,
  },
  'Query.patronageRecords': {
    scopes: { authenticated: true },
    expect: BOOK_TENANT,
    probe: async ({ tenant }) => {
      await patronageOf(tenant);
      return {
        query: `query($id: ID!) { patronageRecords(coopId: $id, first: 100, from: "2023-01-01", to: "2023-12-31") { ${CONNECTION} } }`,
        variables: { id: tenant.coopId },
      };
    },
    allowed: (v) => expect(ids(v)).toHaveLength(2),
    notFound: expectEmptyConnection,
  },
  'Query.myPatronageAllocations': {
    scopes: { authenticated: true },
    expect: OWN_MEMBERSHIPS,
    probe: async ({ tenant }) => {
      await patronageOf(tenant);
      return { query: 'query { myPatronageAllocations { membershipId fiscalYear allocation } }' };
    },
    // The member's own membership joined after 2023: their hours are excluded, the allocation 0.
    allowed: (v, { tenant }) =>
      expect(v).toEqual([{ membershipId: tenant.membershipId, fiscalYear: 2023, allocation: '0.00' }]),
    notFound: (v) => expect(v).toEqual([]),
  },
  'Query.patronageNotice': {
    scopes: { authenticated: true },
    expect: BOOK_TENANT,
    probe: async ({ tenant }) => {
      const p = await patronageOf(tenant);
      return {
        query:
          'query($run: ID!, $m: ID!) { patronageNotice(runId: $run, membershipId: $m) { fileName html } }',
        variables: { run: p.runId, m: p.memberId },
      };
    },
    allowed: (v) => expect(v.html).toContain('Written notice of allocation'),
    notFound: expectNull,
  },
  'Query.patronageTaxForms': {
    scopes: { authenticated: true },
    expect: BOOK_TENANT,
    probe: async ({ tenant }) => {
      await patronageOf(tenant);
      return {
        query: `query($id: ID!) { patronageTaxForms(coopId: $id, taxYear: 2024) { forms { taxYear rows { box1 } } ${USER_ERRORS} } }`,
        variables: { id: tenant.coopId },
      };
    },
    allowed: (v) => expect(v.forms.rows).toEqual([{ box1: '80.00' }]),
    notFound: expectUserError('UNKNOWN_COOP', 'forms'),
  },
  'Mutation.setPatronagePolicy': {
    scopes: { authenticated: true },
    expect: BOOK_TENANT,
    probe: async ({ tenant }) => {
      const before = (await patronageOf(tenant)) && (await policyVersions(tenant));
      return {
        query: `mutation($input: SetPatronagePolicyInput!) { setPatronagePolicy(input: $input) { policy { version } ${USER_ERRORS} } }`,
        variables: { input: { coopId: tenant.coopId, ...PATRONAGE_POLICY } },
        effect: async () => (await policyVersions(tenant)) > before,
      };
    },
    allowed: (v) => expect(v.userErrors).toEqual([]),
    notFound: expectUserError('UNKNOWN_COOP', 'policy'),
  },
  'Mutation.setPatronageConsent': {
    scopes: { authenticated: true },
    expect: BOOK_TENANT,
    probe: async ({ tenant }) => {
      const m = await freshMembership(tenant);
      return {
        query: `mutation($input: SetPatronageConsentInput!) { setPatronageConsent(input: $input) { consent { consented } ${USER_ERRORS} } }`,
        variables: { input: { membershipId: m.id, consented: true, effectiveOn: today() } },
        effect: () => exists('select 1 from patronage_consent where membership_id = $1', [rawId(m.id)]),
      };
    },
    allowed: (v) => expect(v).toEqual({ consent: { consented: true }, userErrors: [] }),
    notFound: expectUserError('UNKNOWN_MEMBERSHIP', 'consent'),
  },
  'Mutation.recordPatronage': {
    scopes: { authenticated: true },
    expect: BOOK_TENANT,
    probe: async ({ tenant }) => {
      const p = await patronageOf(tenant);
      const key = newKey('authz-records');
      const day = `2026-01-${String(++p.day).padStart(2, '0')}`;
      return {
        query: `mutation($input: RecordPatronageInput!) { recordPatronage(input: $input) { recorded ${USER_ERRORS} } }`,
        variables: {
          input: {
            coopId: tenant.coopId,
            idempotencyKey: key,
            records: [
              { membershipId: p.memberId, measure: 'HOURS', periodStart: day, periodEnd: day, quantity: '1' },
            ],
          },
        },
        effect: () => exists('select 1 from patronage_record where batch_key = $1', [key]),
      };
    },
    allowed: (v) => expect(v).toEqual({ recorded: 1, userErrors: [] }),
    notFound: (v) =>
      expect(v).toEqual({ recorded: 0, userErrors: [{ code: 'UNKNOWN_COOP', field: 'coopId' }] }),
  },
  'Mutation.importPatronageCsv': {
    scopes: { authenticated: true },
    expect: BOOK_TENANT,
    probe: async ({ tenant }) => {
      const p = await patronageOf(tenant);
      const key = newKey('authz-csv');
      const day = `2026-02-${String(++p.day).padStart(2, '0')}`;
      return {
        query: `mutation($input: ImportPatronageCsvInput!) { importPatronageCsv(input: $input) { imported recorded ${USER_ERRORS} } }`,
        variables: {
          input: {
            coopId: tenant.coopId,
            idempotencyKey: key,
            csv: `member,measure,period_start,period_end,quantity\n${p.memberNumber},HOURS,${day},${day},1\n`,
          },
        },
        effect: () => exists('select 1 from patronage_record where batch_key = $1', [key]),
      };
    },
    allowed: (v) => expect(v).toEqual({ imported: true, recorded: 1, userErrors: [] }),
    notFound: (v) =>
      expect(v).toEqual({
        imported: false,
        recorded: 0,
        userErrors: [{ code: 'UNKNOWN_COOP', field: 'coopId' }],
      }),
  },
  'Mutation.commitPatronageAllocation': {
    scopes: { authenticated: true },
    expect: BOOK_TENANT,
    probe: async ({ tenant, caller }) => {
      const p = await patronageOf(tenant);
      // Each allowed commit takes a year of its own (the member has hours in 2017-2022).
      const year = BOOK_TENANT[caller] === 'ALLOW' ? p.nextYear++ : 2017;
      const key = newKey('authz-commit');
      return {
        query: `mutation($input: CommitPatronageAllocationInput!) { commitPatronageAllocation(input: $input) {
          run { id fiscalYear } ${USER_ERRORS} } }`,
        variables: {
          input: { coopId: tenant.coopId, fiscalYear: year, surplus: '10.00', idempotencyKey: key },
        },
        effect: () => exists('select 1 from patronage_run where idempotency_key = $1', [key]),
      };
    },
    allowed: (v, { tenant }) => {
      expect(v.userErrors).toEqual([]);
      remember(tenant, v.run.id);
    },
    notFound: expectUserError('UNKNOWN_COOP', 'run'),
  },
  'Mutation.reversePatronageAllocation': {
    scopes: { authenticated: true },
    expect: BOOK_TENANT,
    probe: async ({ tenant }) => {
      // A run of 2024, committed now and so the latest: reversible (and 2024 is free again after).
      const p = await patronageOf(tenant);
      const live = await admin.patronageRuns({ coopId: tenant.coopId, first: 100 });
      const existing = live.edges.find((e) => e.node.fiscalYear === 2024 && e.node.status === 'COMMITTED');
      const runId = existing?.node.id ?? (await commitRun(tenant, 2024));
      void p;
      const key = newKey('authz-reverse');
      return {
        query: `mutation($input: ReversePatronageAllocationInput!) { reversePatronageAllocation(input: $input) {
          run { id status } ${USER_ERRORS} } }`,
        variables: { input: { runId, idempotencyKey: key } },
        effect: () => exists('select 1 from patronage_run where reversal_key = $1', [key]),
      };
    },
    allowed: (v) => expect(v).toMatchObject({ run: { status: 'REVERSED' }, userErrors: [] }),
    notFound: expectUserError('UNKNOWN_PATRONAGE_RUN', 'run'),
  },
  'Mutation.payPatronageCash': {
    scopes: { authenticated: true },
    expect: BOOK_TENANT,
    probe: async ({ tenant, caller }) => {
      const p = await patronageOf(tenant);
      // Each allowed payout pays a run of its own.
      const runId = BOOK_TENANT[caller] === 'ALLOW' ? await commitRun(tenant, p.nextYear++) : p.runId;
      const key = newKey('authz-pay-cash');
      return {
        query: `mutation($input: PayPatronageCashInput!) { payPatronageCash(input: $input) { payout { total } ${USER_ERRORS} } }`,
        variables: { input: { runId, paidOn: today(), method: 'BANK', idempotencyKey: key } },
        effect: () => exists('select 1 from patronage_payout where idempotency_key = $1', [key]),
      };
    },
    // The run's 2.00 of cash, with any cash of earlier runs still unpaid (paid together).
    allowed: (v) => {
      expect(v.userErrors).toEqual([]);
      expect(Number(v.payout.total)).toBeGreaterThanOrEqual(2);
    },
    notFound: expectUserError('UNKNOWN_PATRONAGE_RUN', 'payout'),
  },
  'Mutation.redeemRetainedPatronage': {
    scopes: { authenticated: true },
    expect: BOOK_TENANT,
    probe: async ({ tenant }) => {
      await patronageOf(tenant);
      const key = newKey('authz-redeem');
      return {
        query: `mutation($input: RedeemRetainedPatronageInput!) { redeemRetainedPatronage(input: $input) {
          payout { total } ${USER_ERRORS} } }`,
        variables: {
          input: { coopId: tenant.coopId, asOf: today(), cap: '0.01', method: 'BANK', idempotencyKey: key },
        },
        effect: () => exists('select 1 from patronage_payout where idempotency_key = $1', [key]),
      };
    },
    allowed: (v) => expect(v).toEqual({ payout: { total: '0.01' }, userErrors: [] }),
    notFound: expectUserError('UNKNOWN_COOP', 'payout'),
  },
  // ---------- mutual credit (issue 14) ----------
  'Query.creditNetwork': {
    scopes: { authenticated: true },
    expect: NETWORK_READ,
    probe: ({ tenant }) => ({
      query: 'query($id: ID!) { creditNetwork(id: $id) { id name myMembers { id } } }',
      variables: { id: networks[tenant.name].networkId },
    }),
    allowed: (v, { tenant, caller }) => {
      const c = networks[tenant.name];
      expect(v.id).toBe(c.networkId);
      // The treasurer acts for the tenant's co-op; stewards and admins act for no member.
      expect(v.myMembers).toEqual(caller === 'treasurerA' ? [{ id: c.memberId }] : []);
    },
    notFound: expectNull,
  },
  'Query.creditNetworks': {
    scopes: { authenticated: true },
    expect: BOOK_LIST,
    probe: async ({ caller, tenant }) => ({
      query: `query($after: String) { creditNetworks(first: 100, after: $after) { ${CONNECTION} } }`,
      variables: {
        after:
          caller === 'admin'
            ? await cursorBefore((v) => admin.creditNetworks(v), networks[tenant.name].networkId)
            : null,
      },
    }),
    // A treasurer lists the network its co-op is a member of (wherever it aims), a steward its own.
    allowed: (v, { caller, tenant }) => {
      if (caller === 'admin') expect(ids(v)[0]).toBe(networks[tenant.name].networkId);
      else expect(ids(v)).toEqual([networks.A.networkId]);
    },
    notFound: expectEmptyConnection,
  },
  'Query.paymentRequest': {
    scopes: { authenticated: true },
    expect: NETWORK_READ,
    // The tenant's member asked the partner: its treasurer reads it as the payee.
    probe: ({ tenant }) => ({
      query: 'query($id: ID!) { paymentRequest(id: $id) { id status payeeId } }',
      variables: { id: networks[tenant.name].requestId },
    }),
    allowed: (v, { tenant }) => {
      const c = networks[tenant.name];
      expect(v).toEqual({ id: c.requestId, status: 'OPEN', payeeId: c.memberId });
    },
    notFound: expectNull,
  },
  'Query.previewClearing': {
    scopes: { authenticated: true },
    expect: NETWORK_STEWARDS,
    probe: ({ tenant }) => ({
      query: `query($id: ID!) { previewClearing(networkId: $id, currency: "EUR") { preview { currency { code } mode } ${USER_ERRORS} } }`,
      variables: { id: networks[tenant.name].networkId },
    }),
    allowed: (v) =>
      expect(v).toEqual({ preview: { currency: { code: 'EUR' }, mode: 'SETOFF' }, userErrors: [] }),
    notFound: (v) => expect(v).toEqual({ preview: null, userErrors: UNKNOWN_NETWORK }),
  },
  'Mutation.createCreditNetwork': {
    scopes: { admin: true },
    expect: ADMIN_ONLY,
    probe: () => {
      const name = `authz network ${uniqueSuffix()}`;
      return {
        query: `mutation($input: CreateCreditNetworkInput!) { createCreditNetwork(input: $input) { network { name } ${USER_ERRORS} } }`,
        variables: { input: { name, unit: { code: 'HOUR', scale: 2 }, policy: CREDIT_POLICY } },
        effect: () => exists('select 1 from credit_network where name = $1', [name]),
      };
    },
    allowed: (v) => {
      expect(v.userErrors).toEqual([]);
      expect(v.network.name).toMatch(/^authz network /);
    },
  },
  'Mutation.addNetworkCurrency': {
    scopes: { authenticated: true },
    expect: NETWORK_STEWARDS,
    probe: ({ tenant }) => {
      const c = networks[tenant.name];
      const code = `AZ${++currencySeq}`;
      return {
        query: `mutation($input: AddNetworkCurrencyInput!) { addNetworkCurrency(input: $input) { network { currencies { code } } replayed ${USER_ERRORS} } }`,
        variables: { input: { networkId: c.networkId, currency: { code, scale: 2 } } },
        effect: () =>
          exists('select 1 from credit_currency where book_id = $1 and code = $2', [c.bookRaw, code]),
      };
    },
    allowed: (v) => {
      expect(v.userErrors).toEqual([]);
      expect(v.network.currencies.map((u: { code: string }) => u.code)).toContain(`AZ${currencySeq}`);
    },
    notFound: creditRefusal({ network: null, replayed: false }),
  },
  'Mutation.setCreditPolicy': {
    scopes: { authenticated: true },
    expect: NETWORK_STEWARDS,
    probe: ({ tenant }) => {
      const c = networks[tenant.name];
      const key = newKey('authz-policy');
      return {
        query: `mutation($input: SetCreditPolicyInput!) { setCreditPolicy(input: $input) { policy { version reason } ${USER_ERRORS} } }`,
        variables: {
          input: { networkId: c.networkId, policy: CREDIT_POLICY, reason: 'authz', idempotencyKey: key },
        },
        effect: () =>
          exists('select 1 from credit_policy where book_id = $1 and idempotency_key = $2', [c.bookRaw, key]),
      };
    },
    allowed: (v) => {
      expect(v.userErrors).toEqual([]);
      expect(v.policy.reason).toBe('authz');
      expect(v.policy.version).toBeGreaterThan(1);
    },
    notFound: (v) => expect(v).toEqual({ policy: null, userErrors: UNKNOWN_NETWORK }),
  },
  'Mutation.joinCreditNetwork': {
    scopes: { authenticated: true },
    expect: NETWORK_STEWARDS,
    // A co-op joins once: each probe brings a new one.
    probe: async ({ tenant }) => {
      const c = networks[tenant.name];
      const coop = await admin.createCoop(coopInput(`authz joiner ${uniqueSuffix()}`));
      expect(coop.userErrors).toEqual([]);
      const coopId = remember(tenant, coop.coop!.id);
      return {
        query: `mutation($input: JoinCreditNetworkInput!) { joinCreditNetwork(input: $input) { member { id coopId } limitChange { id } ${USER_ERRORS} } }`,
        variables: { input: { networkId: c.networkId, coopId } },
        effect: () =>
          exists('select 1 from credit_member where book_id = $1 and coop_book_id = $2', [
            c.bookRaw,
            rawId(coopId),
          ]),
      };
    },
    allowed: (v, { tenant }) => {
      expect(v.userErrors).toEqual([]);
      rememberCredit(tenant, v.member.id);
    },
    notFound: creditRefusal({ member: null, limitChange: null }),
  },
  'Mutation.setCreditLimit': {
    scopes: { authenticated: true },
    expect: NETWORK_STEWARDS,
    probe: ({ tenant }) => {
      const c = networks[tenant.name];
      const key = newKey('authz-limit');
      return {
        query: `mutation($input: SetCreditLimitInput!) { setCreditLimit(input: $input) { member { id limit } limitChange { source } ${USER_ERRORS} } }`,
        variables: {
          input: { memberId: c.memberId, limit: '1000.00', reason: 'authz', idempotencyKey: key },
        },
        effect: () =>
          exists('select 1 from credit_limit_change where book_id = $1 and idempotency_key = $2', [
            c.bookRaw,
            key,
          ]),
      };
    },
    allowed: (v, { tenant }) =>
      expect(v).toEqual({
        member: { id: networks[tenant.name].memberId, limit: '1000.00' },
        limitChange: { source: 'STEWARD' },
        userErrors: [],
      }),
    notFound: creditRefusal({ member: null, limitChange: null }),
  },
  'Mutation.applyCreditPolicy': {
    scopes: { authenticated: true },
    expect: NETWORK_STEWARDS,
    // A payment grows the payee's limit at once (b04343e), so applyCreditPolicy has work only after
    // a policy change, which applies to past sales: each probe raises the dynamic share of sales
    // above every share set before (setCreditPolicy's probes set 10%), then asks for it to apply.
    probe: async ({ tenant }) => {
      const c = networks[tenant.name];
      await payPartner(tenant, c);
      policyRaise += 5;
      const raised = await admin.setCreditPolicy({
        networkId: c.networkId,
        policy: {
          ...CREDIT_POLICY,
          dynamic: { ...CREDIT_POLICY.dynamic, salesPercent: String(policyRaise) },
        },
        reason: 'authz: a higher share of sales',
        idempotencyKey: newKey('authz-policy-raise'),
      });
      expect(raised.userErrors).toEqual([]);
      const grown = async () =>
        (
          await db.query(
            "select count(*)::int as n from credit_limit_change where book_id = $1 and member_id = $2 and source = 'POLICY'",
            [c.bookRaw, decodeGlobalId(c.partnerId).id],
          )
        ).rows[0].n as number;
      const before = await grown();
      return {
        query: `mutation($input: ApplyCreditPolicyInput!) { applyCreditPolicy(input: $input) { limitChanges { memberId source } ${USER_ERRORS} } }`,
        variables: { input: { networkId: c.networkId } },
        effect: async () => (await grown()) > before,
      };
    },
    allowed: (v, { tenant }) =>
      expect(v).toEqual({
        limitChanges: [{ memberId: networks[tenant.name].partnerId, source: 'POLICY' }],
        userErrors: [],
      }),
    notFound: creditRefusal({ limitChanges: [] }),
  },
  'Mutation.payInNetwork': {
    scopes: { authenticated: true },
    expect: MEMBER_ACTS,
    probe: ({ tenant }) => {
      const c = networks[tenant.name];
      const key = newKey('authz-netpay');
      return {
        query: `mutation($input: PayInNetworkInput!) { payInNetwork(input: $input) { entryId replayed warning ${USER_ERRORS} } }`,
        variables: {
          input: { payerId: c.memberId, payeeId: c.partnerId, amount: '1.00', idempotencyKey: key },
        },
        effect: () =>
          exists('select 1 from journal_entry where book_id = $1 and idempotency_key = $2', [
            c.bookRaw,
            `pay:${key}`,
          ]),
      };
    },
    allowed: (v, { tenant }) => {
      expect(v).toMatchObject({ replayed: false, warning: null, userErrors: [] });
      rememberCredit(tenant, v.entryId);
    },
    // A steward reads the network but pays for no member: the payer is unknown to it.
    notFound: creditRefusal(NO_PAYMENT, UNKNOWN_PAYER),
  },
  'Mutation.createPaymentRequest': {
    scopes: { authenticated: true },
    expect: MEMBER_ACTS,
    probe: ({ tenant }) => {
      const c = networks[tenant.name];
      const key = newKey('authz-request');
      return {
        query: `mutation($input: CreatePaymentRequestInput!) { createPaymentRequest(input: $input) {
          request { id status } entryId replayed warning ${USER_ERRORS} } }`,
        variables: {
          input: { payeeId: c.memberId, payerId: c.partnerId, amount: '1.00', idempotencyKey: key },
        },
        effect: () =>
          exists('select 1 from credit_payment_request where book_id = $1 and idempotency_key = $2', [
            c.bookRaw,
            key,
          ]),
      };
    },
    allowed: (v, { tenant }) => {
      expect(v).toMatchObject({ request: { status: 'OPEN' }, userErrors: [] });
      rememberCredit(tenant, v.request.id);
    },
    notFound: creditRefusal(NO_REQUEST, UNKNOWN_PAYEE),
  },
  ...Object.fromEntries(
    (
      [
        // [field, input type, who pays, held first, status after]
        ['acceptPaymentRequest', 'AcceptPaymentRequestInput', 'own', false, 'PAID'],
        ['declinePaymentRequest', 'DeclinePaymentRequestInput', 'own', false, 'DECLINED'],
        ['cancelPaymentRequest', 'CancelPaymentRequestInput', 'partner', false, 'CANCELLED'],
        ['completePaymentRequest', 'CompletePaymentRequestInput', 'partner', true, 'COMPLETED'],
        ['releasePaymentRequest', 'ReleasePaymentRequestInput', 'partner', true, 'RELEASED'],
      ] as const
    ).map(([field, inputType, payer, held, status]): [string, Rule] => [
      `Mutation.${field}`,
      {
        scopes: { authenticated: true },
        // The payer accepts and declines, the payee cancels and completes; the payee or a steward
        // releases a hold. The tenant's member is always the party that may act.
        expect: field === 'releasePaymentRequest' ? NETWORK_READ : MEMBER_ACTS,
        probe: async ({ tenant }) => {
          const c = networks[tenant.name];
          const requestId = await creditRequest(tenant, c, payer, held);
          return {
            query: `mutation($input: ${inputType}!) { ${field}(input: $input) { request { id status } replayed ${USER_ERRORS} } }`,
            variables: { input: { requestId, idempotencyKey: newKey('authz-act') } },
            effect: () => requestHas(c, requestId, status),
          };
        },
        allowed: (v) => expect(v).toMatchObject({ request: { status }, replayed: false, userErrors: [] }),
        notFound: (v, { caller }) =>
          expect(v).toEqual({
            request: null,
            replayed: false,
            userErrors: caller === 'stewardA' ? UNKNOWN_REQUEST : UNKNOWN_NETWORK,
          }),
      },
    ]),
  ),
  'Mutation.recordObligations': {
    scopes: { authenticated: true },
    expect: NETWORK_READ,
    // The tenant's member acknowledges what it owes the partner (its treasurer, or a steward).
    probe: ({ tenant }) => {
      const c = networks[tenant.name];
      const key = newKey('authz-obligations');
      return {
        query: `mutation($input: RecordObligationsInput!) { recordObligations(input: $input) { recorded replayed rowErrors { code } ${USER_ERRORS} } }`,
        variables: {
          input: { networkId: c.networkId, obligations: [obligation(c, 'own')], idempotencyKey: key },
        },
        effect: () =>
          exists('select 1 from credit_obligation_batch where book_id = $1 and idempotency_key = $2', [
            c.bookRaw,
            key,
          ]),
      };
    },
    allowed: (v) => expect(v).toEqual({ recorded: 1, replayed: false, rowErrors: [], userErrors: [] }),
    notFound: creditRefusal(NO_OBLIGATIONS),
  },
  'Mutation.importObligationsCsv': {
    scopes: { authenticated: true },
    expect: NETWORK_READ,
    probe: ({ tenant }) => {
      const c = networks[tenant.name];
      const key = newKey('authz-obligations-csv');
      return {
        query: `mutation($input: ImportObligationsCsvInput!) { importObligationsCsv(input: $input) { recorded replayed rowErrors { code } ${USER_ERRORS} } }`,
        variables: {
          input: {
            networkId: c.networkId,
            csv: `debtor,creditor,currency,amount,due_on,reference\n${c.memberNumber},${c.partnerNumber},EUR,1.00,${today()},R-${uniqueSuffix()}\n`,
            idempotencyKey: key,
          },
        },
        effect: () =>
          exists('select 1 from credit_obligation_batch where book_id = $1 and idempotency_key = $2', [
            c.bookRaw,
            key,
          ]),
      };
    },
    allowed: (v) => expect(v).toEqual({ recorded: 1, replayed: false, rowErrors: [], userErrors: [] }),
    notFound: creditRefusal(NO_OBLIGATIONS),
  },
  'Mutation.commitClearing': {
    scopes: { authenticated: true },
    expect: NETWORK_STEWARDS,
    // Each probe brings a cycle of its own: the member and the partner owe each other 1.00.
    probe: async ({ tenant }) => {
      const c = networks[tenant.name];
      const recorded = await admin.recordObligations({
        networkId: c.networkId,
        obligations: [obligation(c, 'own'), obligation(c, 'partner')],
        idempotencyKey: newKey('authz-cycle'),
      });
      expect(recorded.userErrors).toEqual([]);
      expect(recorded.rowErrors).toEqual([]);
      const key = newKey('authz-clearing');
      return {
        query: `mutation($input: CommitClearingInput!) { commitClearing(input: $input) { clearing { id setoffTotal } replayed ${USER_ERRORS} } }`,
        variables: { input: { networkId: c.networkId, currency: 'EUR', idempotencyKey: key } },
        effect: () =>
          exists('select 1 from credit_clearing where book_id = $1 and idempotency_key = $2', [
            c.bookRaw,
            key,
          ]),
      };
    },
    allowed: (v, { tenant }) => {
      expect(v).toMatchObject({ replayed: false, userErrors: [] });
      // At least this probe's 1.00 (cycles left by refused probes before it clear too).
      expect(v.clearing.setoffTotal).toMatch(/^[1-9]\d*\.\d\d$/);
      rememberCredit(tenant, v.clearing.id);
    },
    notFound: creditRefusal({ clearing: null, replayed: false }),
  },
  // ---------- the treasurer's desk (issue 17): statements, codes, bank reconciliation ----------
  'Query.incomeStatement': {
    scopes: { authenticated: true },
    expect: BOOK_TENANT,
    probe: ({ tenant }) => ({
      query:
        'query($bookId: ID!, $day: Date!) { incomeStatement(bookId: $bookId, from: $day, to: $day) { book { id } units { result } } }',
      variables: { bookId: tenant.bookId, day: today() },
    }),
    allowed: (v, { tenant }) => {
      expect(v.book.id).toBe(tenant.bookId);
      expect(v.units.length).toBeGreaterThan(0);
    },
    notFound: expectNull,
  },
  'Query.balanceSheet': {
    scopes: { authenticated: true },
    expect: BOOK_TENANT,
    probe: ({ tenant }) => ({
      query:
        'query($bookId: ID!, $day: Date!) { balanceSheet(bookId: $bookId, asOf: $day) { book { id } units { balanced } } }',
      variables: { bookId: tenant.bookId, day: today() },
    }),
    allowed: (v, { tenant }) => {
      expect(v.book.id).toBe(tenant.bookId);
      expect(v.units.every((u: { balanced: boolean }) => u.balanced)).toBe(true);
    },
    notFound: expectNull,
  },
  'Query.bankAccount': {
    scopes: { authenticated: true },
    expect: BOOK_TENANT,
    probe: ({ tenant }) => ({
      query: 'query($id: ID!) { bankAccount(accountId: $id) { account { id } matchWindowDays } }',
      variables: { id: tenant.cash.id },
    }),
    allowed: (v, { tenant }) => expect(v).toEqual({ account: { id: tenant.cash.id }, matchWindowDays: 3 }),
    notFound: expectNull,
  },
  'Query.bankStatement': {
    scopes: { authenticated: true },
    expect: BOOK_TENANT,
    probe: async ({ tenant }) => ({
      query: 'query($id: ID!) { bankStatement(id: $id) { id importedCount } }',
      variables: { id: (await bankLine(tenant)).statementId },
    }),
    allowed: (v) => expect(v.importedCount).toBe(1),
    notFound: expectNull,
  },
  'Query.bankReconciliation': {
    scopes: { authenticated: true },
    expect: BOOK_TENANT,
    probe: async ({ tenant }) => ({
      query: 'query($id: ID!) { bankReconciliation(id: $id) { id status agrees } }',
      variables: { id: await bankReconciliation(tenant) },
    }),
    allowed: (v) => expect(v).toMatchObject({ status: 'OPEN', agrees: true }),
    notFound: expectNull,
  },
  'Mutation.importJournalCsv': {
    scopes: { authenticated: true },
    expect: BOOK_TENANT,
    probe: ({ tenant }) => {
      const key = newKey('authz-journal');
      return {
        query: `mutation($input: ImportJournalCsvInput!) { importJournalCsv(input: $input) { imported entries { id } ${USER_ERRORS} } }`,
        variables: {
          input: {
            bookId: tenant.bookId,
            idempotencyKey: key,
            csv: `entry,date,account_code,debit,credit\na,${today()},${tenant.cash.code},1.00,\na,${today()},${tenant.revenue.code},,1.00\n`,
          },
        },
        effect: () => exists('select 1 from journal_entry where idempotency_key = $1', [`${key}:1`]),
      };
    },
    allowed: (v, { tenant }) => {
      expect(v).toMatchObject({ imported: true, userErrors: [] });
      remember(tenant, v.entries[0].id);
    },
    notFound: (v) =>
      expect(v).toEqual({
        imported: false,
        entries: [],
        userErrors: [{ code: 'UNKNOWN_BOOK', field: 'bookId' }],
      }),
  },
  'Mutation.setBankAccountOptions': {
    scopes: { authenticated: true },
    expect: BOOK_TENANT,
    probe: async ({ tenant }) => {
      const account = await freshAccount(tenant);
      return {
        query: `mutation($input: SetBankAccountOptionsInput!) { setBankAccountOptions(input: $input) { bankAccount { matchWindowDays } ${USER_ERRORS} } }`,
        variables: { input: { accountId: account.id, matchWindowDays: 5 } },
        effect: () =>
          exists('select 1 from bank_account where account_id = $1 and match_window_days = 5', [
            rawId(account.id),
          ]),
      };
    },
    allowed: (v) => expect(v).toEqual({ bankAccount: { matchWindowDays: 5 }, userErrors: [] }),
    notFound: expectUserError('UNKNOWN_ACCOUNT', 'bankAccount'),
  },
  'Mutation.importBankStatement': {
    scopes: { authenticated: true },
    expect: BOOK_TENANT,
    probe: async ({ tenant }) => {
      const account = await freshAccount(tenant);
      const key = newKey('authz-import');
      return {
        query: `mutation($input: ImportBankStatementInput!) { importBankStatement(input: $input) { statement { importedCount } ${USER_ERRORS} } }`,
        variables: {
          input: {
            accountId: account.id,
            format: 'CSV',
            content: `date,text,ref,amount\n${today()},authz,R-${uniqueSuffix()},2.00\n`,
            csvMapping: BANK_MAPPING,
            idempotencyKey: key,
          },
        },
        effect: () => exists('select 1 from bank_statement where idempotency_key = $1', [key]),
      };
    },
    allowed: (v) => expect(v).toEqual({ statement: { importedCount: 1 }, userErrors: [] }),
    notFound: expectUserError('UNKNOWN_ACCOUNT', 'statement'),
  },
  'Mutation.confirmBankMatches': {
    scopes: { authenticated: true },
    expect: BOOK_TENANT,
    probe: async ({ tenant }) => {
      const { account, lineId } = await bankLine(tenant);
      const entryId = await bankEntry(tenant, account);
      return {
        query: `mutation($input: ConfirmBankMatchesInput!) { confirmBankMatches(input: $input) { lines { match { how } } ${USER_ERRORS} } }`,
        variables: { input: { accountId: account.id, matches: [{ lineId, entryId }] } },
        effect: () => exists('select 1 from bank_match where line_id = $1', [bankRaw(lineId)]),
      };
    },
    allowed: (v) => expect(v).toEqual({ lines: [{ match: { how: 'CHOSEN' } }], userErrors: [] }),
    notFound: (v) =>
      expect(v).toEqual({ lines: [], userErrors: [{ code: 'UNKNOWN_ACCOUNT', field: 'accountId' }] }),
  },
  'Mutation.acceptBankSuggestions': {
    scopes: { authenticated: true },
    expect: BOOK_TENANT,
    probe: async ({ tenant }) => {
      const { account, lineId } = await bankLine(tenant);
      await bankEntry(tenant, account);
      return {
        query: `mutation($input: AcceptBankSuggestionsInput!) { acceptBankSuggestions(input: $input) { lines { match { how } } ${USER_ERRORS} } }`,
        variables: { input: { accountId: account.id } },
        effect: () => exists('select 1 from bank_match where line_id = $1', [bankRaw(lineId)]),
      };
    },
    allowed: (v) => expect(v).toEqual({ lines: [{ match: { how: 'SUGGESTION' } }], userErrors: [] }),
    notFound: (v) =>
      expect(v).toEqual({ lines: [], userErrors: [{ code: 'UNKNOWN_ACCOUNT', field: 'accountId' }] }),
  },
  'Mutation.unmatchBankLine': {
    scopes: { authenticated: true },
    expect: BOOK_TENANT,
    probe: async ({ tenant }) => {
      const { account, lineId } = await bankLine(tenant);
      const entryId = await bankEntry(tenant, account);
      const confirmed = await admin.confirmBankMatches({
        accountId: account.id,
        matches: [{ lineId, entryId }],
      });
      expect(confirmed.userErrors).toEqual([]);
      return {
        query: `mutation($input: UnmatchBankLineInput!) { unmatchBankLine(input: $input) { line { match { how } } ${USER_ERRORS} } }`,
        variables: { input: { lineId } },
        // The effect is the match gone.
        effect: async () => !(await exists('select 1 from bank_match where line_id = $1', [bankRaw(lineId)])),
      };
    },
    allowed: (v) => expect(v).toEqual({ line: { match: null }, userErrors: [] }),
    notFound: expectUserError('UNKNOWN_BANK_LINE', 'line'),
  },
  'Mutation.createBankRule': {
    scopes: { authenticated: true },
    expect: BOOK_TENANT,
    probe: async ({ tenant }) => {
      const account = await freshAccount(tenant);
      const text = `authz-rule-${uniqueSuffix()}`;
      return {
        query: `mutation($input: CreateBankRuleInput!) { createBankRule(input: $input) { rule { descriptionContains } ${USER_ERRORS} } }`,
        variables: {
          input: {
            accountId: account.id,
            descriptionContains: text,
            counterAccountCode: tenant.revenue.code,
          },
        },
        effect: () => exists('select 1 from bank_rule where description_contains = $1', [text]),
      };
    },
    allowed: (v) => expect(v.userErrors).toEqual([]),
    notFound: expectUserError('UNKNOWN_ACCOUNT', 'rule'),
  },
  'Mutation.deleteBankRule': {
    scopes: { authenticated: true },
    expect: BOOK_TENANT,
    probe: async ({ tenant }) => {
      const account = await freshAccount(tenant);
      const created = await admin.createBankRule({
        accountId: account.id,
        descriptionContains: 'authz',
        counterAccountCode: tenant.revenue.code,
      });
      expect(created.userErrors).toEqual([]);
      const ruleId = created.rule!.id;
      return {
        query: `mutation($input: DeleteBankRuleInput!) { deleteBankRule(input: $input) { rule { id } ${USER_ERRORS} } }`,
        variables: { input: { ruleId } },
        effect: async () => !(await exists('select 1 from bank_rule where id = $1', [bankRaw(ruleId)])),
      };
    },
    allowed: (v) => expect(v.userErrors).toEqual([]),
    notFound: expectUserError('UNKNOWN_BANK_RULE', 'rule'),
  },
  'Mutation.applyBankRules': {
    scopes: { authenticated: true },
    expect: BOOK_TENANT,
    probe: async ({ tenant }) => {
      const text = `RULED-${uniqueSuffix()}`;
      const { account, lineId } = await bankLine(tenant, '-1.00', text);
      const created = await admin.createBankRule({
        accountId: account.id,
        descriptionContains: text,
        counterAccountCode: tenant.revenue.code,
      });
      expect(created.userErrors).toEqual([]);
      return {
        query: `mutation($input: ApplyBankRulesInput!) { applyBankRules(input: $input) { postedCount postings { entry { id } } ${USER_ERRORS} } }`,
        variables: { input: { accountId: account.id, idempotencyKey: newKey('authz-rules') } },
        effect: () =>
          exists("select 1 from bank_match where line_id = $1 and how = 'RULE'", [bankRaw(lineId)]),
      };
    },
    allowed: (v, { tenant }) => {
      expect(v).toMatchObject({ postedCount: 1, userErrors: [] });
      remember(tenant, v.postings[0].entry.id);
    },
    notFound: (v) =>
      expect(v).toEqual({
        postedCount: 0,
        postings: [],
        userErrors: [{ code: 'UNKNOWN_ACCOUNT', field: 'accountId' }],
      }),
  },
  'Mutation.postBankLine': {
    scopes: { authenticated: true },
    expect: BOOK_TENANT,
    probe: async ({ tenant }) => {
      const { lineId } = await bankLine(tenant);
      return {
        query: `mutation($input: PostBankLineInput!) { postBankLine(input: $input) { posting { entry { id } } ${USER_ERRORS} } }`,
        variables: {
          input: { lineId, counterAccountCode: tenant.revenue.code, idempotencyKey: newKey('authz-line') },
        },
        effect: () =>
          exists("select 1 from bank_match where line_id = $1 and how = 'BY_HAND'", [bankRaw(lineId)]),
      };
    },
    allowed: (v, { tenant }) => {
      expect(v.userErrors).toEqual([]);
      remember(tenant, v.posting.entry.id);
    },
    notFound: expectUserError('UNKNOWN_BANK_LINE', 'posting'),
  },
  'Mutation.startBankReconciliation': {
    scopes: { authenticated: true },
    expect: BOOK_TENANT,
    probe: async ({ tenant }) => {
      const account = await freshAccount(tenant);
      return {
        query: `mutation($input: StartBankReconciliationInput!) { startBankReconciliation(input: $input) { reconciliation { status } ${USER_ERRORS} } }`,
        variables: {
          input: {
            accountId: account.id,
            periodStart: today(),
            periodEnd: today(),
            statementBalance: '0.00',
          },
        },
        effect: () => exists('select 1 from bank_reconciliation where account_id = $1', [rawId(account.id)]),
      };
    },
    allowed: (v) => expect(v).toEqual({ reconciliation: { status: 'OPEN' }, userErrors: [] }),
    notFound: expectUserError('UNKNOWN_ACCOUNT', 'reconciliation'),
  },
  'Mutation.closeBankReconciliation': {
    scopes: { authenticated: true },
    expect: BOOK_TENANT,
    probe: async ({ tenant }) => {
      const id = await bankReconciliation(tenant);
      return {
        query: `mutation($input: CloseBankReconciliationInput!) { closeBankReconciliation(input: $input) { reconciliation { status } ${USER_ERRORS} } }`,
        variables: { input: { reconciliationId: id } },
        effect: () =>
          exists("select 1 from bank_reconciliation where id = $1 and status = 'CLOSED'", [bankRaw(id)]),
      };
    },
    allowed: (v) => expect(v).toEqual({ reconciliation: { status: 'CLOSED' }, userErrors: [] }),
    notFound: expectUserError('UNKNOWN_RECONCILIATION', 'reconciliation'),
  },
  'Query.cityReport': {
    scopes: { authenticated: true },
    expect: CITY_REPORTS,
    probe: async () => {
      await ensureCityRelease();
      return {
        query: `query($input: CityReportInput!) { cityReport(input: $input) { release { city } cells { measure value suppressed } ${USER_ERRORS} } }`,
        variables: { input: { city: CITY, measures: ['COOPS'] } },
      };
    },
    allowed: (v) => {
      expect(v.userErrors).toEqual([]);
      expect(v.release.city).toBe(CITY);
      expect(v.cells.length).toBeGreaterThan(0);
    },
    notFound: (v) =>
      expect(v).toEqual({ release: null, cells: [], userErrors: [{ code: 'NO_RELEASE', field: 'city' }] }),
  },
  'Query.cityReportReleases': {
    scopes: { authenticated: true },
    expect: CITY_REPORTS,
    probe: async () => {
      await ensureCityRelease();
      return {
        query: 'query($city: String!) { cityReportReleases(city: $city) { city seq } }',
        variables: { city: CITY },
      };
    },
    allowed: (v) => {
      expect(v.length).toBeGreaterThan(0);
      expect(v[0].city).toBe(CITY);
    },
    notFound: (v) => expect(v).toEqual([]),
  },
  'Query.cityReportExport': {
    scopes: { authenticated: true },
    expect: CITY_REPORTS,
    probe: async () => {
      await ensureCityRelease();
      return {
        query: `query($city: String!) { cityReportExport(city: $city, format: CSV) { releaseId content ${USER_ERRORS} } }`,
        variables: { city: CITY },
      };
    },
    allowed: (v) => {
      expect(v.userErrors).toEqual([]);
      expect(v.content).toMatch(/^release_id,/);
    },
    notFound: (v) =>
      expect(v).toEqual({
        releaseId: null,
        content: null,
        userErrors: [{ code: 'NO_RELEASE', field: 'city' }],
      }),
  },
  'Query.coopReportingProfiles': {
    scopes: { authenticated: true },
    expect: BOOK_TENANT,
    probe: async ({ tenant }) => {
      const payload = await admin.reportCoopProfile({
        coopId: tenant.coopId,
        asOf: today(),
        workersNotMembers: 1,
        workerOwners: 3,
        idempotencyKey: newKey('authz-profile'),
      });
      expect(payload.userErrors).toEqual([]);
      return {
        query: 'query($id: ID!) { coopReportingProfiles(coopId: $id) { workerOwners } }',
        variables: { id: tenant.coopId },
      };
    },
    allowed: (v) => expect(v[0]).toEqual({ workerOwners: 3 }),
    notFound: (v) => expect(v).toEqual([]),
  },
  'Mutation.reportCoopProfile': {
    scopes: { authenticated: true },
    expect: BOOK_TENANT,
    probe: ({ tenant }) => {
      const key = newKey('authz-profile');
      return {
        query: `mutation($input: ReportCoopProfileInput!) { reportCoopProfile(input: $input) { report { workerOwners } ${USER_ERRORS} } }`,
        variables: {
          input: {
            coopId: tenant.coopId,
            asOf: today(),
            workersNotMembers: 0,
            workerOwners: 2,
            idempotencyKey: key,
          },
        },
        effect: () => exists('select 1 from reporting_profile where idempotency_key = $1', [key]),
      };
    },
    allowed: (v) => expect(v).toEqual({ report: { workerOwners: 2 }, userErrors: [] }),
    notFound: expectUserError('UNKNOWN_COOP', 'report'),
  },
  'Mutation.publishCityReport': {
    scopes: { authenticated: true },
    expect: CITY_REPORTS,
    probe: async () => {
      const month = await nextReleaseMonth();
      return {
        query: `mutation($input: PublishCityReportInput!) { publishCityReport(input: $input) { release { throughMonth } ${USER_ERRORS} } }`,
        variables: { input: { city: CITY, currency: 'USD', throughMonth: month } },
        effect: () =>
          exists(
            "select 1 from reporting_release where city_key = lower($1) and through_month = ($2 || '-01')::date",
            [CITY, month],
          ),
      };
    },
    allowed: (v) => expect(v.userErrors).toEqual([]),
    notFound: expectUserError('NO_RELEASE', 'release'),
  },
};

// ---------------------------------------------------------------------------------------------
// Reading the schema

const schema = buildSchema();

function rootFields(s: GraphQLSchema): Map<string, GraphQLField<unknown, unknown>> {
  const out = new Map<string, GraphQLField<unknown, unknown>>();
  for (const type of [s.getQueryType(), s.getMutationType(), s.getSubscriptionType()]) {
    if (!type) continue;
    for (const [name, field] of Object.entries(type.getFields())) out.set(`${type.name}.${name}`, field);
  }
  return out;
}

/** The scope-auth options Pothos recorded for a field or type, if any. */
function declaredScopes(thing: { extensions?: unknown }): unknown {
  return (thing.extensions as { pothosOptions?: { authScopes?: unknown } } | undefined)?.pothosOptions
    ?.authScopes;
}

/** The builder's scopes (schema/builder.ts AuthScopes). */
const KNOWN_SCOPES = [
  'public',
  'authenticated',
  'admin',
  'bookRead',
  'accountRead',
  'partyRead',
  'coopMember',
];

/** Root fields whose scope-auth options are missing or name no known scope. */
function fieldsWithoutScopes(s: GraphQLSchema): string[] {
  const out: string[] = [];
  for (const [name, field] of rootFields(s)) {
    const scopes = declaredScopes(field);
    const ok =
      typeof scopes === 'function' ||
      (typeof scopes === 'object' &&
        scopes !== null &&
        Object.keys(scopes).length > 0 &&
        Object.keys(scopes).every((k) => KNOWN_SCOPES.includes(k) || k.startsWith('$')));
    if (!ok) out.push(name);
  }
  return out;
}

const fields = rootFields(schema);
const OPERATIONS = [...fields.keys()].sort();

describe('the rule table and the schema', () => {
  it('lists a rule for every root field and no rule for a field that does not exist', () => {
    expect(OPERATIONS.length).toBeGreaterThan(20);
    const missing = OPERATIONS.filter((op) => !(op in RULES));
    const stale = Object.keys(RULES).filter((op) => !fields.has(op));
    expect({ missing, stale }).toEqual({ missing: [], stale: [] });
  });

  it('every root field declares scope-auth options, the ones its rule expects', () => {
    expect(fieldsWithoutScopes(schema)).toEqual([]);
    for (const op of OPERATIONS) {
      expect({ op, scopes: declaredScopes(fields.get(op)!) }).toEqual({ op, scopes: RULES[op]?.scopes });
    }
  });

  it('rules agree with the scopes: public fields answer anonymous callers, admin fields only admins', () => {
    for (const [op, rule] of Object.entries(RULES)) {
      const allowedTo = CALLERS.filter((c) => rule.expect[c] === 'ALLOW');
      if ('admin' in rule.scopes) expect({ op, allowedTo }).toEqual({ op, allowedTo: ['admin'] });
      if ('public' in rule.scopes)
        expect({ op, anonymous: rule.expect.anonymous }).not.toEqual({ op, anonymous: 'UNAUTHENTICATED' });
      if ('authenticated' in rule.scopes)
        expect({ op, anonymous: rule.expect.anonymous }).toEqual({ op, anonymous: 'UNAUTHENTICATED' });
      for (const c of CALLERS) {
        if (rule.expect[c] === 'NOT_FOUND')
          expect({ op, hasNotFound: !!rule.notFound }).toEqual({ op, hasNotFound: true });
      }
    }
  });

  it('the scope check itself finds a root field declared without authScopes', () => {
    // A throwaway schema with the same plugin: one field with scopes, one without. If Pothos kept
    // its options somewhere else, the check would report both (and every real field above).
    const probe = new SchemaBuilder<{ Context: object; AuthScopes: { admin: boolean } }>({
      plugins: [ScopeAuthPlugin],
      scopeAuth: { authScopes: () => ({ admin: true }) },
    });
    probe.queryType({
      fields: (t) => ({
        guarded: t.string({ authScopes: { admin: true }, resolve: () => 'x' }),
        bare: t.string({ resolve: () => 'x' }),
      }),
    });
    probe.mutationType({
      fields: (t) => ({ bareMutation: t.string({ resolve: () => 'x' }) }),
    });
    expect(fieldsWithoutScopes(probe.toSchema()).sort()).toEqual(['Mutation.bareMutation', 'Query.bare']);
  });

  it('every type that holds a tenant object checks its tenant itself, so nested paths are checked again', () => {
    const nodeTypes = schema.getImplementations(schema.getType('Node') as never).objects.map((t) => t.name);
    expect(nodeTypes.sort()).toEqual([
      'Account',
      'Book',
      'Coop',
      'CreditNetwork',
      'JournalEntry',
      'MemberClass',
      'Membership',
      'Party',
    ]);
    const guarded = [
      ...nodeTypes,
      'AccountBalance',
      'TrialBalance',
      'ChainVerification',
      'ApiToken',
      'MemberToken',
      'VotingRoll',
      'MemberStatement',
      'IncomeStatement',
      'BalanceSheet',
      'BankAccount',
      'BankStatement',
      'BankStatementLine',
      'BankRule',
      'BankReconciliation',
    ];
    for (const name of guarded) {
      const type = schema.getType(name);
      expect(type && isObjectType(type)).toBe(true);
      expect({ name, scoped: declaredScopes(type as GraphQLObjectType) !== undefined }).toEqual({
        name,
        scoped: true,
      });
    }
    // Types inside a tenant object (lines, trial balance rows, chain mismatches) carry no check of
    // their own: they must be reachable only through fields of checked types (or of each other).
    const inside = [
      'JournalLine',
      'TrialBalanceLine',
      'TrialBalanceUnit',
      'ChainMismatch',
      'CoopAccount',
      'VotingRollEntry',
      'MemberAccounts',
      'MembershipEvent',
      'Instalment',
      'MemberStatementAccount',
      'MemberMovement',
      'MemberAccountChange',
    ];
    const typeMap = schema.getTypeMap();
    for (const type of Object.values(typeMap)) {
      if (!isObjectType(type) || type.name.startsWith('__')) continue;
      for (const field of Object.values(type.getFields())) {
        const target = getNamedType(field.type).name;
        if (!inside.includes(target)) continue;
        expect({
          at: `${type.name}.${field.name}`,
          guardedParent: [...guarded, ...inside].includes(type.name),
        }).toEqual({
          at: `${type.name}.${field.name}`,
          guardedParent: true,
        });
      }
    }
  });
});

// ---------------------------------------------------------------------------------------------
// The matrix

beforeAll(async () => {
  // Rate limiting is tokens.test.ts's subject; here it would only slow the fixtures down.
  server = await startTestServer({ config: { rateLimitPerSecond: 0 } });
  admin = ledgerClient(server.url);
  db = await connectPg();
  const listed = await admin.createCoop({
    ...coopInput(`authz listed ${uniqueSuffix()}`),
    publicListing: true,
  });
  expect(listed.userErrors).toEqual([]);
  listedCoopId = listed.coop!.id;
  for (const name of ['A', 'B'] as const) {
    // A co-op (not publicly listed), and so its book with the default chart.
    const created = await admin.createCoop(coopInput(`authz ${name} ${uniqueSuffix()}`));
    expect(created.userErrors).toEqual([]);
    const coop = created.coop!;
    // Codes that sort before the chart's and the members' accounts (`accounts(first: 100)` finds them).
    const { '0cash': cash, '0revenue': revenue } = await createAccounts(admin, coop.book.id, [
      { code: '0cash', type: 'ASSET' },
      { code: '0revenue', type: 'REVENUE' },
    ]);
    const accounts = { cash, revenue };
    const tenant: Tenant = {
      name,
      bookId: coop.book.id,
      coopId: coop.id,
      classId: '',
      transferableClassId: '',
      partyId: '',
      membershipId: '',
      shareCapitalId: '',
      cash: accounts.cash,
      revenue: accounts.revenue,
      entryId: '',
      ids: new Set(),
    };
    remember(tenant, coop.book.id);
    for (const a of coop.chartOfAccounts) remember(tenant, a.account.id);
    remember(tenant, accounts.cash.id);
    remember(tenant, accounts.revenue.id);
    tenant.entryId = await postEntry(tenant, '10.00');
    // A voting class (buy-in 100.00 in 2 instalments), a transferable one, and one ACTIVE member
    // who has paid 50.00.
    for (const [code, transferable] of [
      ['W', false],
      ['T', true],
    ] as const) {
      const cls = await admin.createMemberClass({
        coopId: coop.id,
        code,
        name: code,
        buyIn: code === 'W' ? '100.00' : '10.00',
        instalmentCount: code === 'W' ? 2 : 1,
        voting: code === 'W',
        transferable,
      });
      expect(cls.userErrors).toEqual([]);
      remember(tenant, cls.memberClass!.id);
      if (code === 'W') tenant.classId = cls.memberClass!.id;
      else tenant.transferableClassId = cls.memberClass!.id;
    }
    const party = await admin.registerParty({
      coopId: coop.id,
      name: `person ${name}`,
      email: 'person@example.org',
    });
    expect(party.userErrors).toEqual([]);
    remember(tenant, party.party!.id);
    const joined = await admin.joinCoop({
      coopId: coop.id,
      partyId: party.party!.id,
      memberClassId: tenant.classId,
      appliedOn: today(),
      idempotencyKey: newKey('authz-join'),
    });
    expect(joined.userErrors).toEqual([]);
    const m = joined.membership!;
    remember(tenant, m.id);
    remember(tenant, joined.entry!.id);
    for (const account of Object.values(m.accounts)) if (account) remember(tenant, account.id);
    Object.assign(tenant, {
      partyId: party.party!.id,
      membershipId: m.id,
      shareCapitalId: m.accounts.shareCapital!.id,
    });
    tenants[name] = tenant;
    await payIn(tenant, m.id, '50.00');
    await changeState(tenant, m.id, 'ACTIVE');
  }
  memberAccount = tenants.A.cash;
  for (const name of ['A', 'B'] as const) networks[name] = await setupCredit(tenants[name]);

  const A = tenants.A.bookId;
  const treasurer = await issueToken(admin, { grants: [{ role: 'TREASURER', scope: A }] });
  treasurerTokenId = treasurer.tokenId;
  const member = await issueToken(admin, {
    grants: [
      { role: 'MEMBER', scope: memberAccount.id },
      { role: 'MEMBER', scope: tenants.A.shareCapitalId },
    ],
  });
  // A steward of the tenant's book and of the tenant's mutual-credit network.
  const steward = await issueToken(admin, {
    grants: [
      { role: 'NETWORK_STEWARD', scope: A },
      { role: 'NETWORK_STEWARD', scope: networks.A.bookRaw },
    ],
  });
  const analyst = await issueToken(admin, { grants: [{ role: 'CITY_ANALYST', scope: 'Springfield' }] });
  // Expired and revoked tokens are ADMIN tokens: if either were accepted, it would be allowed everything.
  const expired = await issueToken(admin, {
    grants: [{ role: 'ADMIN', scope: '' }],
    expiresAt: new Date(Date.now() + 3_600_000),
  });
  // The API only takes future expiries: move this one into the past before it is ever used.
  await db.query("update api_token set expires_at = now() - interval '1 minute' where id = $1", [
    expired.tokenId,
  ]);
  const revoked = await issueToken(admin, { grants: [{ role: 'ADMIN', scope: '' }] });
  expect((await ledgerClient(server.url, { token: revoked.token }).viewer())?.tokenId).toBe(revoked.tokenId);
  const revokedPayload = await admin.revokeApiToken({ tokenId: revoked.tokenId });
  expect(revokedPayload.userErrors).toEqual([]);

  const scoped = (t: { token: string; tokenId: string }): CallerState => ({
    token: t.token,
    tokenId: t.tokenId,
  });
  Object.assign(callers, {
    anonymous: { token: null, tokenId: null },
    expiredToken: scoped(expired),
    revokedToken: scoped(revoked),
    admin: { token: undefined, tokenId: tokenIdOf(server.adminToken) },
    treasurerA: scoped(treasurer),
    treasurerAonB: scoped(treasurer),
    memberA: scoped(member),
    stewardA: scoped(steward),
    cityAnalyst: scoped(analyst),
  } satisfies Record<Caller, CallerState>);
});

afterAll(async () => {
  await db?.end();
  await server?.stop();
});

/** Ids a caller's answers must never contain. */
function forbiddenIdsFor(caller: Caller): Set<string> {
  const A = tenants.A.ids;
  const B = tenants.B.ids;
  switch (caller) {
    case 'admin':
      return new Set();
    case 'treasurerA':
    case 'treasurerAonB':
    case 'stewardA':
      return new Set(B);
    case 'memberA': {
      // Their own accounts' global ids carry A's book id; besides, their membership, their party
      // and the member classes of their co-op; nothing else of A.
      const own = new Set([
        rawId(tenants.A.bookId),
        rawId(memberAccount.id),
        rawId(tenants.A.shareCapitalId),
        rawId(tenants.A.membershipId),
        rawId(tenants.A.partyId),
        rawId(tenants.A.classId),
      ]);
      return new Set([...B, ...[...A].filter((id) => !own.has(id))]);
    }
    default:
      return new Set([...A, ...B]);
  }
}

for (const op of OPERATIONS) {
  const [, fieldName] = op.split('.') as [string, string];
  describe(op, () => {
    for (const caller of CALLERS) {
      const outcome = RULES[op]?.expect[caller];
      it(`${caller}: ${outcome ?? 'NO RULE'}`, async () => {
        const rule = RULES[op];
        if (!rule) throw new Error(`${op} has no rule in RULES: add one (who may call it?)`);
        const ctx: Ctx = {
          caller,
          state: callers[caller],
          tenant: tenants[TARGET[caller]],
          treasurerTokenId,
        };
        const probe = await rule.probe(ctx);
        const answer = await rawGraphQL(server.url, probe.query, probe.variables ?? {}, {
          token: ctx.state.token,
        });
        const context = { op, caller, outcome, status: answer.status, body: answer.body };

        if (outcome === 'HTTP_401') {
          expectRefusedToken(answer);
        } else {
          expect(answer.status, JSON.stringify(context)).toBe(200);
          const value = answer.body.data?.[fieldName];
          if (outcome === 'ALLOW' || outcome === 'NOT_FOUND') {
            expect(answer.body.errors, JSON.stringify(context)).toBeUndefined();
            if (outcome === 'ALLOW') rule.allowed(value, ctx);
            else rule.notFound!(value, ctx);
          } else {
            expect(answer.body.errors, JSON.stringify(context)).toEqual([
              expect.objectContaining({ path: [fieldName], extensions: { code: outcome } }),
            ]);
            expect(value ?? null).toBeNull();
          }
        }

        if (probe.effect) expect(await probe.effect(), 'effect in the database').toBe(outcome === 'ALLOW');
        expect(leaksIn(answer.body, forbiddenIdsFor(caller)), 'ids the caller must not see').toEqual([]);
      });
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Mutual credit: what the matrix's refusals are compared with

/** The field's value for `caller`, with no top-level errors. */
async function creditAnswer(caller: Caller, query: string, variables: Record<string, unknown>) {
  const answer = await rawGraphQL(server.url, query, variables, { token: callers[caller].token });
  expect(answer.status).toBe(200);
  expect(answer.body.errors, JSON.stringify(answer.body)).toBeUndefined();
  return Object.values(answer.body.data as Record<string, unknown>)[0] as Answer;
}

describe('mutual credit: a made-up id answers as another tenant’s network, member or request', () => {
  // The ids the matrix's refused callers sent name real objects of network B; these name nothing.
  // stewardA's grant on co-op A's book (a book that is no network) must not make one of it either.
  const PAY = `mutation($input: PayInNetworkInput!) { payInNetwork(input: $input) { entryId replayed warning ${USER_ERRORS} } }`;
  const ACCEPT = `mutation($input: AcceptPaymentRequestInput!) { acceptPaymentRequest(input: $input) { request { id status } replayed ${USER_ERRORS} } }`;
  const RECORD = `mutation($input: RecordObligationsInput!) { recordObligations(input: $input) { recorded replayed rowErrors { code } ${USER_ERRORS} } }`;
  const JOIN = `mutation($input: JoinCreditNetworkInput!) { joinCreditNetwork(input: $input) { member { id coopId } limitChange { id } ${USER_ERRORS} } }`;

  for (const caller of ['admin', 'treasurerA', 'stewardA'] as const) {
    it(`${caller}: unknown network everywhere, never an internal error`, async () => {
      for (const book of [randomUUID(), rawId(tenants.A.bookId)]) {
        const member = (id = randomUUID()) => encodeGlobalId('NetworkMember', `${book}:${id}`);
        const network = encodeGlobalId('CreditNetwork', book);
        const request = encodeGlobalId('PaymentRequest', `${book}:${randomUUID()}`);
        expect(
          await creditAnswer(caller, 'query($id: ID!) { creditNetwork(id: $id) { id } }', { id: network }),
        ).toBeNull();
        expect(
          await creditAnswer(caller, 'query($id: ID!) { paymentRequest(id: $id) { id } }', { id: request }),
        ).toBeNull();
        const key = newKey('authz-madeup');
        expect(
          await creditAnswer(caller, PAY, {
            input: { payerId: member(), payeeId: member(), amount: '1.00', idempotencyKey: key },
          }),
        ).toEqual({ ...NO_PAYMENT, userErrors: UNKNOWN_NETWORK });
        expect(
          await creditAnswer(caller, ACCEPT, { input: { requestId: request, idempotencyKey: key } }),
        ).toEqual({
          request: null,
          replayed: false,
          userErrors: UNKNOWN_NETWORK,
        });
        const obligations = [
          {
            debtorId: member(),
            creditorId: member(),
            currency: 'EUR',
            amount: '1.00',
            dueOn: today(),
            reference: 'R',
          },
        ];
        expect(
          await creditAnswer(caller, RECORD, {
            input: { networkId: network, obligations, idempotencyKey: key },
          }),
        ).toEqual({ ...NO_OBLIGATIONS, userErrors: UNKNOWN_NETWORK });
        expect(
          await creditAnswer(caller, JOIN, { input: { networkId: network, coopId: tenants.A.coopId } }),
        ).toEqual({ member: null, limitChange: null, userErrors: UNKNOWN_NETWORK });
      }
    });
  }
});

describe('mutual credit: a treasurer takes only its own member’s steps of a request', () => {
  // The matrix gives treasurerA the side its member is on; here it is on the other side.
  const cases = [
    ['acceptPaymentRequest', 'AcceptPaymentRequestInput', 'partner', false],
    ['declinePaymentRequest', 'DeclinePaymentRequestInput', 'partner', false],
    ['cancelPaymentRequest', 'CancelPaymentRequestInput', 'own', false],
    ['completePaymentRequest', 'CompletePaymentRequestInput', 'own', true],
    ['releasePaymentRequest', 'ReleasePaymentRequestInput', 'own', true],
  ] as const;
  for (const [field, inputType, payer, held] of cases) {
    it(`${field}: the other party's treasurer is told the request is unknown, and nothing changes`, async () => {
      const c = networks.A;
      const requestId = await creditRequest(tenants.A, c, payer, held);
      const value = await creditAnswer(
        'treasurerA',
        `mutation($input: ${inputType}!) { ${field}(input: $input) { request { id status } replayed ${USER_ERRORS} } }`,
        { input: { requestId, idempotencyKey: newKey('authz-other-side') } },
      );
      expect(value).toEqual({ request: null, replayed: false, userErrors: UNKNOWN_REQUEST });
      expect(await requestHas(c, requestId, held ? 'HELD' : 'OPEN')).toBe(true);
    });
  }

  it("payInNetwork and createPaymentRequest: a treasurer cannot act for the partner's side", async () => {
    const c = networks.A;
    const pay = await creditAnswer(
      'treasurerA',
      `mutation($input: PayInNetworkInput!) { payInNetwork(input: $input) { entryId replayed warning ${USER_ERRORS} } }`,
      {
        input: {
          payerId: c.partnerId,
          payeeId: c.memberId,
          amount: '1.00',
          idempotencyKey: newKey('authz-steal'),
        },
      },
    );
    expect(pay).toEqual({ ...NO_PAYMENT, userErrors: UNKNOWN_PAYER });
    const ask = await creditAnswer(
      'treasurerA',
      `mutation($input: CreatePaymentRequestInput!) { createPaymentRequest(input: $input) { request { id } entryId replayed warning ${USER_ERRORS} } }`,
      {
        input: {
          payeeId: c.partnerId,
          payerId: c.memberId,
          amount: '1.00',
          idempotencyKey: newKey('authz-ask'),
        },
      },
    );
    expect(ask).toEqual({ ...NO_REQUEST, userErrors: UNKNOWN_PAYEE });
  });
});
