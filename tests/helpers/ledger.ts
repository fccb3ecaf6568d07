/**
 * Small helpers for the ledger's integration tests: an SDK client that never retries (so a
 * server fault shows up as a failure instead of being papered over), books and accounts created
 * through the API, line builders, unique idempotency keys, global-id decoding and a direct `pg`
 * connection for checks that must not trust the API (sums over journal_line, tampering).
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, expect, inject } from 'vitest';
import {
  type AccountType,
  type CreateAccountInput,
  createLedgerClient,
  type JournalLineInput,
  type LedgerClient,
  LedgerClientError,
  type UnitInput,
} from '../../client-sdk/index.js';
import { LedgerError } from '../../server/core/index.js';
import { type AuthOptions, fetchWithToken, resolveToken } from './auth.js';

/**
 * An SDK client with retries off: every fault of the server surfaces in the test. It sends the
 * run's ADMIN token unless `token` says otherwise (another token, or null for none).
 */
export function ledgerClient(url: string, options: AuthOptions = {}): LedgerClient {
  const token = resolveToken(options.token);
  return createLedgerClient({ url, retries: 0, timeoutMs: 60_000, ...(token === null ? {} : { token }) });
}

/** A short random suffix so names and keys never collide between test files sharing the database. */
export function uniqueSuffix(): string {
  return randomBytes(6).toString('hex');
}

let keyCounter = 0;
/** A fresh idempotency key (unique within the run). */
export function newKey(prefix = 'k'): string {
  keyCounter++;
  return `${prefix}-${keyCounter}-${uniqueSuffix()}`;
}

export interface BookSetup {
  name?: string;
  units?: UnitInput[];
  maxBackdateDays?: number;
}

export interface CreatedBook {
  id: string;
  name: string;
}

export async function createBook(client: LedgerClient, setup: BookSetup = {}): Promise<CreatedBook> {
  const name = setup.name ?? `test book ${uniqueSuffix()}`;
  const payload = await client.createBook({
    name,
    units: setup.units ?? [{ code: 'USD', scale: 2 }],
    ...(setup.maxBackdateDays === undefined ? {} : { maxBackdateDays: setup.maxBackdateDays }),
  });
  expect(payload.userErrors).toEqual([]);
  expect(payload.book).not.toBeNull();
  return { id: payload.book!.id, name };
}

export interface AccountSetup {
  code: string;
  type: AccountType;
  unit?: string;
  name?: string;
  parentId?: string;
  lowerBound?: string;
  upperBound?: string;
}

export interface CreatedAccount {
  id: string;
  code: string;
  type: AccountType;
  unit: string;
}

export async function createAccount(
  client: LedgerClient,
  bookId: string,
  setup: AccountSetup,
): Promise<CreatedAccount> {
  const input: CreateAccountInput = {
    bookId,
    code: setup.code,
    name: setup.name ?? setup.code,
    type: setup.type,
    unit: setup.unit ?? 'USD',
    ...(setup.parentId === undefined ? {} : { parentId: setup.parentId }),
    ...(setup.lowerBound === undefined ? {} : { lowerBound: setup.lowerBound }),
    ...(setup.upperBound === undefined ? {} : { upperBound: setup.upperBound }),
  };
  const payload = await client.createAccount(input);
  expect(payload.userErrors).toEqual([]);
  expect(payload.account).not.toBeNull();
  return { id: payload.account!.id, code: setup.code, type: setup.type, unit: input.unit };
}

/** Creates several accounts, returning them by code. */
export async function createAccounts<const C extends string>(
  client: LedgerClient,
  bookId: string,
  setups: (AccountSetup & { code: C })[],
): Promise<Record<C, CreatedAccount>> {
  const out = {} as Record<C, CreatedAccount>;
  for (const setup of setups) out[setup.code] = await createAccount(client, bookId, setup);
  return out;
}

export function debit(account: CreatedAccount, amount: string, unit = account.unit): JournalLineInput {
  return { accountId: account.id, side: 'DEBIT', amount, unit };
}

export function credit(account: CreatedAccount, amount: string, unit = account.unit): JournalLineInput {
  return { accountId: account.id, side: 'CREDIT', amount, unit };
}

/** The raw (database) ids inside a Relay global id: `Book:<uuid>`, `Coop:<uuid>` or `Account:<book>:<uuid>`. */
export function decodeGlobalId(globalId: string): { typename: string; bookId: string; id: string } {
  const text = Buffer.from(globalId, 'base64').toString('utf8');
  const [typename, ...rest] = text.split(':');
  if ((typename === 'Book' || typename === 'Coop') && rest.length === 1)
    return { typename, bookId: rest[0]!, id: rest[0]! };
  if (rest.length !== 2) throw new Error(`not a global id this helper knows: ${globalId} (${text})`);
  return { typename: typename!, bookId: rest[0]!, id: rest[1]! };
}

export function encodeGlobalId(typename: string, raw: string): string {
  return Buffer.from(`${typename}:${raw}`, 'utf8').toString('base64');
}

/** A direct connection to the run's database, as the user the tests run as (a superuser). */
export async function connectPg(databaseUrl: string = inject('databaseUrl')): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  return client;
}

export interface DirectPg {
  /** The connection (`connectPg()`): exists once beforeAll has run. */
  readonly db: pg.Client;
}

/**
 * A direct connection for a whole file (or describe), registered where it is called: beforeAll
 * opens it (`connectPg()`), afterAll closes it. Read `db` inside hooks and tests, never at the top
 * level of the file (it throws there).
 */
export function usePg(): DirectPg {
  let db: pg.Client | undefined;
  beforeAll(async () => {
    db = await connectPg();
  });
  afterAll(async () => {
    await db?.end();
  });
  return {
    get db() {
      if (db === undefined) throw new Error('usePg: db was read before beforeAll ran');
      return db;
    },
  };
}

/** Runs `call` and returns the LedgerClientError it must throw. */
export async function expectClientError(call: Promise<unknown>): Promise<LedgerClientError> {
  try {
    await call;
  } catch (error) {
    expect(error).toBeInstanceOf(LedgerClientError);
    return error as LedgerClientError;
  }
  throw new Error('expected the call to fail with a LedgerClientError, but it succeeded');
}

export interface RawGraphQLOptions extends AuthOptions {
  /** More request headers (an `authorization` here replaces the one `token` would send). */
  headers?: Record<string, string>;
}

export interface RawGraphQLAnswer {
  status: number;
  headers: Headers;
  body: {
    data?: Record<string, unknown> | null;
    errors?: { message: string; extensions?: Record<string, unknown> }[];
  };
}

/**
 * Posts a raw GraphQL document (for what the typed SDK cannot express: JSON numbers, literals,
 * requests without or with another token). Sends the run's ADMIN token by default.
 */
export async function rawGraphQL(
  url: string,
  query: string,
  variables: Record<string, unknown> = {},
  options: RawGraphQLOptions = {},
): Promise<RawGraphQLAnswer> {
  const response = await fetchWithToken(
    url,
    {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...options.headers },
      body: JSON.stringify({ query, variables }),
    },
    options,
  );
  return { status: response.status, headers: response.headers, body: (await response.json()) as never };
}

/** The value of a use case that answered a value, or a failed test naming the LedgerError it answered. */
export function orThrow<T>(value: T | LedgerError): T {
  if (value instanceof LedgerError) throw new Error(`${value.code}: ${value.message} (${value.field})`);
  return value;
}

/** Polls `condition` until it holds (a condition, never a fixed sleep); fails after `timeoutMs`. */
export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  { timeoutMs = 15_000, intervalMs = 25, what = 'condition' } = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** A small seeded PRNG (mulberry32), so generated scenarios are the same on every run. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Exact money arithmetic in minor units (BigInt) for hand computations: "12.34" at scale 2 is
 * 1234n. Keeps the tests independent of the server's decimal library.
 */
export function toMinor(amount: string, scale: number): bigint {
  const negative = amount.startsWith('-');
  const text = negative ? amount.slice(1) : amount;
  const [whole, fraction = ''] = text.split('.');
  if (fraction.length > scale) throw new Error(`${amount} has more than ${scale} decimals`);
  const value = BigInt(whole! + fraction.padEnd(scale, '0'));
  return negative ? -value : value;
}

export function fromMinor(value: bigint, scale: number): string {
  const negative = value < 0n;
  const digits = (negative ? -value : value).toString().padStart(scale + 1, '0');
  const text = scale === 0 ? digits : `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
  return negative ? `-${text}` : text;
}

/**
 * A book's journal checked whole: its chain verifies over exactly `expectedEntries` entries, the
 * audit finds nothing, and its sequence numbers are 1..expectedEntries with no gap (read by SQL).
 */
export async function expectIntactBook(
  db: pg.Client,
  client: LedgerClient,
  bookId: string,
  expectedEntries: number,
): Promise<void> {
  const chain = await client.verifyBookChain({ bookId });
  expect(chain).toMatchObject({ ok: true, entriesChecked: expectedEntries });
  const audit = await client.auditBook({ bookId });
  expect(audit?.ok).toBe(true);
  const { rows } = await db.query<{ n: string }>(
    'select seq::text as n from journal_entry where book_id = $1 order by seq',
    [decodeGlobalId(bookId).id],
  );
  expect(rows.map((r) => Number(r.n))).toEqual(Array.from({ length: expectedEntries }, (_, i) => i + 1));
}
