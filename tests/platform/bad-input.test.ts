/**
 * The bad-input suite of issue 3 ("Hardening"): hundreds of malformed requests, one row each, sent
 * over real HTTP to ONE server on the run's real PostgreSQL. For every row:
 *
 * - the answer is a clear error: a 4xx status, or a 200 whose `errors[].extensions.code` or
 *   `userErrors[].code` holds a stable code (never INTERNAL_SERVER_ERROR / "Unexpected error.");
 *   rows that are odd but valid (a memo with quotes, an emoji name) may instead be ACCEPTED and
 *   must then read back exactly as sent;
 * - the answer leaks no SQL, stack trace, file path or PostgreSQL error text;
 * - after each batch the server still answers /healthz, /readyz and a GraphQL query.
 *
 * Rejected rows all aim at one "main" book (accounts, posted, reversed, pending and voided
 * entries). Its checksum (entries and their hashes, lines, account totals, day totals, open
 * pending entries, the chain head) is taken before the first row and must be exactly the same after
 * the last. Rows that may be accepted aim at books of their own ("odd" books), whose chains must
 * still verify and whose every entry must have been reported to a client.
 *
 * A row that shows a new bug is marked `bug: '<what goes wrong>'`: it runs as `it.fails` until the
 * server is fixed (BAD_INPUT_SHOW_BUGS=1 runs such rows as plain tests, to read how each fails).
 * Rows whose bug has been fixed keep the description as `regression`, added to their failure message.
 * The bugs this suite found first (all fixed in 2367f01) are the *_REGRESSION texts below.
 */
import http from 'node:http';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LedgerClient } from '../../client-sdk/index.js';
import { DEFAULT_BODY_LIMIT_BYTES } from '../../server/platform/config.js';
import { GRAPHQL_LIMITS } from '../../server/platform/http/app.js';
import { adminToken, authHeaders } from '../helpers/auth.js';
import {
  connectPg,
  createAccounts,
  createBook,
  decodeGlobalId,
  encodeGlobalId,
  ledgerClient,
  newKey,
  uniqueSuffix,
} from '../helpers/ledger.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

// ---------------------------------------------------------------------------------------------
// Requests and answers
// ---------------------------------------------------------------------------------------------

interface Body {
  data?: Record<string, unknown> | null;
  errors?: { message?: unknown; extensions?: { code?: unknown } }[];
}

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  /** The body parsed as JSON (undefined when it is not JSON, e.g. an empty 415). */
  json: Body | undefined;
  /** With `declared`: whether the answer had come before the body was sent. */
  answeredBeforeBody?: boolean;
}

interface SendOptions {
  method?: string;
  path?: string;
  /** Replace the default headers (`content-type: application/json` and the ADMIN token); null removes one. */
  headers?: Record<string, string | null>;
  body?: string | Buffer;
  /**
   * Declare this content-length and send only the headers; after three round trips to /healthz on
   * other connections, note whether the answer has come (`answeredBeforeBody`), then send
   * `thenBody` or, without it, abort the request (status 0 if nothing was answered).
   */
  declared?: { length: number; thenBody?: Buffer };
  /** Stream this many bytes of `x` in chunks (chunked encoding), stopping once an answer arrives. */
  streamBytes?: number;
}

let server: TestServer;

const SHOW_BUGS = process.env.BAD_INPUT_SHOW_BUGS === '1';

function send(options: SendOptions = {}): Promise<Answer> {
  const url = new URL(server.url);
  const headers: Record<string, string> = { 'content-type': 'application/json', ...authHeaders() };
  for (const [name, value] of Object.entries(options.headers ?? {})) {
    if (value === null) delete headers[name];
    else headers[name] = value;
  }
  if (options.declared) headers['content-length'] = String(options.declared.length);
  return new Promise<Answer>((resolve, reject) => {
    let answered = false;
    let answeredBeforeBody: boolean | undefined;
    const req = http.request({
      host: url.hostname,
      port: url.port,
      path: options.path ?? url.pathname,
      method: options.method ?? 'POST',
      headers,
      agent: false,
    });
    req.on('response', (res) => {
      answered = true;
      const chunks: Buffer[] = [];
      const finish = () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: Body | undefined;
        try {
          json = JSON.parse(text) as Body;
        } catch {
          json = undefined;
        }
        // With `declared`, the body goes out only after answeredBeforeBody is set: an answer
        // that comes while it is still unset came before the body.
        const before = options.declared ? (answeredBeforeBody ?? true) : undefined;
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          text,
          json,
          answeredBeforeBody: before,
        });
        req.destroy();
      };
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', finish);
      res.on('aborted', finish);
    });
    // An oversized body is answered (413) and the connection closed before the client stops
    // writing: a write error after the answer is expected and ignored.
    req.on('error', (error) => {
      if (!answered) reject(error);
    });
    const { declared } = options;
    if (declared) {
      req.flushHeaders();
      void (async () => {
        for (let i = 0; i < 3; i++) {
          await send({ method: 'GET', path: '/healthz', headers: { 'content-type': null } });
        }
        answeredBeforeBody = answered;
        if (answered) return;
        if (declared.thenBody) {
          req.end(declared.thenBody);
          return;
        }
        resolve({ status: 0, headers: {}, text: '', json: undefined, answeredBeforeBody });
        req.destroy();
      })();
      return;
    }
    if (options.streamBytes !== undefined) {
      const chunk = Buffer.alloc(64 * 1024, 'x');
      let sent = 0;
      const pump = () => {
        if (answered || req.destroyed) return;
        if (sent >= options.streamBytes!) {
          req.end();
          return;
        }
        sent += chunk.length;
        req.write(chunk, (error) => {
          if (!error) pump();
        });
      };
      req.write('{"query":"{ __typename }","extensions":{"pad":"');
      pump();
      return;
    }
    req.end(options.body);
  });
}

/** A GraphQL POST (JSON) with the ADMIN token. */
function gql(query: string, variables?: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return send({ body: JSON.stringify({ query, variables, ...extra }) });
}

/** A read that must succeed: returns `data`. */
async function read(
  query: string,
  variables: Record<string, unknown> = {},
): Promise<Record<string, unknown>> {
  const answer = await gql(query, variables);
  expect(answer.status, answer.text).toBe(200);
  expect(answer.json?.errors, answer.text).toBeUndefined();
  trackEntries(answer);
  return answer.json!.data!;
}

/** Every code in an answer: `errors[].extensions.code` and `userErrors[].code` at any depth of `data`. */
function codesOf(answer: Answer): string[] {
  const codes: string[] = [];
  for (const error of answer.json?.errors ?? []) {
    if (typeof error?.extensions?.code === 'string') codes.push(error.extensions.code);
  }
  const walk = (value: unknown): void => {
    if (Array.isArray(value)) for (const item of value) walk(item);
    else if (value !== null && typeof value === 'object') {
      for (const [key, item] of Object.entries(value)) {
        if (key === 'userErrors' && Array.isArray(item)) {
          for (const u of item) if (typeof u?.code === 'string') codes.push(u.code);
        } else walk(item);
      }
    }
  };
  walk(answer.json?.data);
  return codes;
}

/** What a rejected mutation must not have returned: a created object. */
const CREATED_KEYS = ['entry', 'book', 'account', 'apiToken', 'token'];
function createdObjects(answer: Answer): string[] {
  const found: string[] = [];
  const walk = (value: unknown, path: string): void => {
    if (Array.isArray(value)) {
      for (const [i, item] of value.entries()) walk(item, `${path}[${i}]`);
    } else if (value !== null && typeof value === 'object') {
      for (const [key, item] of Object.entries(value)) {
        if (CREATED_KEYS.includes(key) && item !== null && path.startsWith('data.'))
          found.push(`${path}.${key}`);
        else walk(item, `${path}.${key}`);
      }
    }
  };
  // Only the payloads of mutations create things; their root fields are in `data`.
  walk(answer.json?.data, 'data');
  return found;
}

// ---------------------------------------------------------------------------------------------
// Leaks
// ---------------------------------------------------------------------------------------------

const INJECTIONS: readonly (readonly [string, string])[] = [
  ['SQL comment', "'; drop table journal_entry; --"],
  ['SQL tautology', '") OR 1=1 --'],
  ['dollar-quoted pg_sleep', '$$; select pg_sleep(10); $$'],
  ['NUL character', '\u0000'],
  ['percent-encoded NUL', '%00'],
  ['template expression', '{{7*7}}'],
  ['script tag', '<script>alert(1)</script>'],
  ['path traversal', '../../etc/passwd'],
  ['100 KB string', 'x'.repeat(100 * 1024)],
  ['emoji and RTL marks', '💸🧾 \u202Eevil\u202C \u200Fשלום\u200E'],
];

/** Text of PostgreSQL errors, SQL of the server's own queries, stack frames and file paths. */
const LEAK_PATTERNS: readonly (readonly [string, RegExp])[] = [
  ['stack frame', / {4}at /],
  ['stack frame', /\bat [\w$.<>]+ \([^)]*:\d+:\d+\)/],
  ['file path', /\/work\//],
  ['file path', /node_modules/],
  ['file path', /file:\/\//],
  ['source location', /\.[cm]?[jt]s:\d+/],
  ['SQL statement', /\b(select|insert|update|delete)\b[^"]{0,120}\b(from|into|set|where|values)\b/i],
  ['SQL parameter', /\$\d+::|::(uuid|bigint|text|jsonb|numeric)\b/],
  [
    'table or column name',
    /\b(journal_line|account_day_total|pending_open|book_unit|api_token|role_grant)\b/,
  ],
  [
    'table or column name',
    /\b(posted_debits|posted_credits|idempotency_key|secret_hash|entry_seq|last_hash)\b/,
  ],
  [
    'PostgreSQL error',
    /invalid input syntax|violates [\w -]*constraint|duplicate key value|syntax error at or near/i,
  ],
  ['PostgreSQL error', /relation "[^"]*"|column "[^"]*"|invalid byte sequence|unsupported Unicode escape/i],
  ['PostgreSQL error', /numeric field overflow|out of range for type|value too long for type|SQLSTATE/i],
  ['PostgreSQL error', /\bpostgres(ql)?\b|\bpg_catalog\b/i],
];

/** Problems in an answer's text, after removing what the request itself sent (echoes are no leak). */
function leaks(text: string): string[] {
  let scrubbed = text;
  for (const [, payload] of INJECTIONS) {
    for (const form of [payload, JSON.stringify(payload).slice(1, -1)])
      scrubbed = scrubbed.split(form).join('');
  }
  const found = LEAK_PATTERNS.filter(([, pattern]) => pattern.test(scrubbed)).map(
    ([what, pattern]) => `${what} (${pattern}): ${scrubbed.match(pattern)?.[0]}`,
  );
  if (text.includes(adminToken())) found.push('the ADMIN token');
  return found;
}

// ---------------------------------------------------------------------------------------------
// Cases
// ---------------------------------------------------------------------------------------------

type Check = (answer: Answer) => Promise<void> | void;

type Outcome =
  /** A clear error; `codes`: one of them must be in the answer; `status`/`statuses`: the HTTP status. */
  | {
      kind: 'reject';
      codes?: readonly string[];
      status?: number;
      statuses?: readonly number[];
      message?: RegExp;
    }
  /** Valid though odd: accepted (200, no error), then `check` reads it back. */
  | { kind: 'accept'; check: Check }
  /** Either a clear rejection with one of `codes`, or accepted and read back exactly. */
  | { kind: 'either'; codes: readonly string[]; check: Check }
  /** A lookup of something that does not exist: `null` (the schema's documented not-found). */
  | { kind: 'notFound'; field: string }
  /** A document limit (depth, aliases, cost, directives, tokens): a GraphQL error naming it. */
  | { kind: 'limit'; message: RegExp };

interface Case {
  name: string;
  send: () => Promise<Answer>;
  outcome: Outcome;
  /** Set when the row shows a bug: the row is `it.fails` until the server is fixed. */
  bug?: string;
  /** A bug this row once showed (since fixed): added to the failure message if it comes back. */
  regression?: string;
  /** More assertions on the answer, after the outcome's. */
  also?: Check;
}

const rejects = (
  codes?: string | readonly string[],
  more: { status?: number; statuses?: readonly number[]; message?: RegExp } = {},
): Outcome => ({
  kind: 'reject',
  ...(codes === undefined ? {} : { codes: typeof codes === 'string' ? [codes] : codes }),
  ...more,
});
const accepts = (check: Check): Outcome => ({ kind: 'accept', check });
const limit = (message: RegExp): Outcome => ({ kind: 'limit', message });

function isClearError(answer: Answer): boolean {
  if (answer.status >= 400 && answer.status < 500) return true;
  return answer.status === 200 && codesOf(answer).length > 0;
}

async function check(c: Case, answer: Answer): Promise<void> {
  const shown = `${answer.status} ${answer.text.slice(0, 600)}`;
  expect(leaks(answer.text), shown).toEqual([]);
  expect(answer.status, shown).toBeLessThan(500);
  expect(codesOf(answer), shown).not.toContain('INTERNAL_SERVER_ERROR');
  expect(answer.text, shown).not.toContain('Unexpected error.');
  const { outcome } = c;
  switch (outcome.kind) {
    case 'reject': {
      expect(isClearError(answer), `not a clear error: ${shown}`).toBe(true);
      if (outcome.status !== undefined) expect(answer.status, shown).toBe(outcome.status);
      if (outcome.statuses !== undefined) expect(outcome.statuses, shown).toContain(answer.status);
      if (outcome.codes)
        expect(outcome.codes, shown).toContain(codesOf(answer).find((code) => outcome.codes!.includes(code)));
      if (outcome.message) expect(answer.text, shown).toMatch(outcome.message);
      expect(createdObjects(answer), shown).toEqual([]);
      break;
    }
    case 'accept':
      expect(answer.status, shown).toBe(200);
      expect(codesOf(answer), shown).toEqual([]);
      expect(answer.json?.errors, shown).toBeUndefined();
      await outcome.check(answer);
      break;
    case 'either':
      if (isClearError(answer)) {
        expect(outcome.codes, shown).toContain(codesOf(answer)[0]);
        expect(createdObjects(answer), shown).toEqual([]);
      } else {
        expect(answer.json?.errors, shown).toBeUndefined();
        await outcome.check(answer);
      }
      break;
    case 'notFound':
      expect(answer.status, shown).toBe(200);
      expect(answer.json?.errors, shown).toBeUndefined();
      expect(answer.json?.data?.[outcome.field], shown).toBeNull();
      break;
    case 'limit':
      expect([200, 400], shown).toContain(answer.status);
      expect(answer.json?.data ?? null, shown).toBeNull();
      expect(answer.json?.errors?.length, shown).toBeGreaterThan(0);
      expect(String(answer.json?.errors?.[0]?.message), shown).toMatch(outcome.message);
      limitAnswers.push({ name: c.name, answer });
      break;
  }
}

const limitAnswers: { name: string; answer: Answer }[] = [];

async function expectHealthy(): Promise<void> {
  const health = await send({ method: 'GET', path: '/healthz', headers: { 'content-type': null } });
  expect(health.status).toBe(200);
  expect(health.json).toEqual({ status: 'ok' });
  const ready = await send({ method: 'GET', path: '/readyz', headers: { 'content-type': null } });
  expect(ready.status).toBe(200);
  const data = await read('{ viewer { principalName } books(first: 1) { edges { cursor } } }');
  expect(data.viewer).toEqual({ principalName: 'admin' });
}

/** One batch: a row per case, then a check that nothing leaked and the server is still up. */
function batch(title: string, cases: () => Case[]): void {
  describe(title, () => {
    const list = cases();
    const seen: { name: string; answer: Answer; bug?: string }[] = [];
    const names = new Set<string>();
    for (const c of list) {
      if (names.has(c.name)) throw new Error(`duplicate case name: ${c.name}`);
      names.add(c.name);
      const run = async () => {
        const answer = await c.send();
        trackEntries(answer);
        seen.push({ name: c.name, answer, ...(c.bug ? { bug: c.bug } : {}) });
        try {
          await check(c, answer);
          await c.also?.(answer);
        } catch (error) {
          if (c.regression && error instanceof Error) error.message += `\n(a regression of: ${c.regression})`;
          throw error;
        }
      };
      if (c.bug && !SHOW_BUGS) it.fails(`${c.name} [BUG: ${c.bug}]`, run);
      else it(c.name, run);
    }
    it(`after the ${list.length} rows: every answer was sent, none leaked internals, the server is up`, async () => {
      expect(seen.map((s) => s.name)).toEqual(list.map((c) => c.name));
      for (const { name, answer, bug } of seen) {
        expect(leaks(answer.text), name).toEqual([]);
        // A row marked as a bug fails on its own; the others must not have been answered 5xx.
        if (!bug) expect(answer.status, name).toBeLessThan(500);
      }
      await expectHealthy();
    });
  });
}

// ---------------------------------------------------------------------------------------------
// The books
// ---------------------------------------------------------------------------------------------

interface BookFx {
  /** Global id. */
  id: string;
  /** Raw uuid. */
  raw: string;
  cash: string;
  revenue: string;
}

interface MainFx extends BookFx {
  hours: string;
  hoursOwed: string;
  closed: string;
  /** A posted entry, not reversed. */
  e1: { id: string; key: string };
  /** A posted entry that was reversed by r2. */
  e2: string;
  r2: string;
  /** An open pending entry (no expiry). */
  p1: string;
  /** A pending entry voided by v2. */
  p2: string;
  v2: string;
}

const ODD_FAMILIES = [
  'postJournalEntry',
  'postJournalEntries',
  'postPendingEntry',
  'reverseJournalEntry',
  'commitPendingEntry',
  'voidPendingEntry',
  'createAccount',
  'misc',
] as const;
type OddFamily = (typeof ODD_FAMILIES)[number];

let client: LedgerClient;
let main: MainFx;
const odd = {} as Record<OddFamily, BookFx>;
/** Books made by rows (createBook, the overflow row): their chains are verified at the end. */
const extraBooks: string[] = [];
/** Every JournalEntry id any answer reported, by raw book id. */
const reportedEntries = new Map<string, Set<string>>();
/** Tokens issued by accepted rows, revoked at the end. */
const issuedTokens: string[] = [];

function trackEntries(answer: Answer): void {
  const walk = (value: unknown): void => {
    if (Array.isArray(value)) for (const item of value) walk(item);
    else if (value !== null && typeof value === 'object') {
      for (const [key, item] of Object.entries(value)) {
        if (key === 'id' && typeof item === 'string') {
          const text = Buffer.from(item, 'base64').toString('utf8');
          const [typename, bookId, id] = text.split(':');
          if (typename === 'JournalEntry' && bookId && id) {
            const set = reportedEntries.get(bookId) ?? new Set<string>();
            set.add(id);
            reportedEntries.set(bookId, set);
          }
        } else walk(item);
      }
    }
  };
  walk(answer.json?.data);
}

async function setUpBook(name: string, maxBackdateDays?: number): Promise<BookFx> {
  const book = await createBook(client, {
    name: `${name} ${uniqueSuffix()}`,
    units: [
      { code: 'USD', scale: 2 },
      { code: 'HOUR', scale: 0 },
    ],
    ...(maxBackdateDays === undefined ? {} : { maxBackdateDays }),
  });
  const accounts = await createAccounts(client, book.id, [
    { code: 'cash', type: 'ASSET' },
    { code: 'revenue', type: 'REVENUE' },
  ]);
  return {
    id: book.id,
    raw: decodeGlobalId(book.id).id,
    cash: accounts.cash.id,
    revenue: accounts.revenue.id,
  };
}

async function postOk(
  bookId: string,
  lines: { accountId: string; side: 'DEBIT' | 'CREDIT'; amount: string; unit: string }[],
  key = newKey('setup'),
): Promise<string> {
  const payload = await client.postJournalEntry({ bookId, idempotencyKey: key, lines });
  expect(payload.userErrors).toEqual([]);
  track(payload.entry!.id);
  return payload.entry!.id;
}

async function pendingOk(bookId: string, cash: string, revenue: string): Promise<string> {
  const payload = await client.postPendingEntry({
    bookId,
    idempotencyKey: newKey('setup-pending'),
    lines: [
      { accountId: cash, side: 'DEBIT', amount: '10.00', unit: 'USD' },
      { accountId: revenue, side: 'CREDIT', amount: '10.00', unit: 'USD' },
    ],
  });
  expect(payload.userErrors).toEqual([]);
  track(payload.entry!.id);
  return payload.entry!.id;
}

function track(entryId: string): void {
  const { bookId, id } = decodeGlobalId(entryId);
  const set = reportedEntries.get(bookId) ?? new Set<string>();
  set.add(id);
  reportedEntries.set(bookId, set);
}

const usd = (accountId: string, side: 'DEBIT' | 'CREDIT', amount: string) => ({
  accountId,
  side,
  amount,
  unit: 'USD',
});

// ---------------------------------------------------------------------------------------------
// The ledger checksum (SQL on the run's database, scoped to one book)
// ---------------------------------------------------------------------------------------------

let db: pg.Client;

async function checksum(rawBookId: string): Promise<Record<string, string>> {
  const { rows } = await db.query(
    `select
       (select concat_ws('|', id, name, description, max_backdate_days, entry_seq, last_hash) from book where id = $1) as book,
       (select coalesce(string_agg(code || '/' || scale, ',' order by code), '') from book_unit where book_id = $1) as units,
       (select count(*) || ':' || md5(coalesce(string_agg(id::text || ':' || hash, ',' order by seq), ''))
          from journal_entry where book_id = $1) as entries,
       (select count(*) || ':' || md5(coalesce(string_agg(concat_ws(':', entry_id, line_no, account_id, side, amount, unit_code, phase), ',' order by entry_id, line_no), ''))
          from journal_line where book_id = $1) as lines,
       (select count(*) || ':' || md5(coalesce(string_agg(concat_ws(':', id, code, name, type, unit_code, parent_id, lower_bound, upper_bound, closed_at,
                 posted_debits, posted_credits, pending_debits, pending_credits), ',' order by id), ''))
          from account where book_id = $1) as accounts,
       (select count(*) || ':' || md5(coalesce(string_agg(concat_ws(':', account_id, day, debits, credits), ',' order by account_id, day), ''))
          from account_day_total where book_id = $1) as day_totals,
       (select coalesce(string_agg(entry_id::text, ',' order by entry_id), '') from pending_open where book_id = $1) as pending_open`,
    [rawBookId],
  );
  return rows[0] as Record<string, string>;
}

let mainChecksumBefore: Record<string, string>;

beforeAll(async () => {
  server = await startTestServer({ config: { rateLimitPerSecond: 0 } });
  client = ledgerClient(server.url);
  db = await connectPg();

  const book = await setUpBook('bad-input main');
  const more = await createAccounts(client, book.id, [
    { code: 'hours', type: 'ASSET', unit: 'HOUR' },
    { code: 'hours-owed', type: 'LIABILITY', unit: 'HOUR' },
    { code: 'closed', type: 'ASSET' },
  ]);
  // The cash account may not go below zero (for BALANCE_BOUND_EXCEEDED).
  const bounded = await client.createAccount({
    bookId: book.id,
    code: 'till',
    name: 'till',
    type: 'ASSET',
    unit: 'USD',
    lowerBound: '0.00',
  });
  expect(bounded.userErrors).toEqual([]);
  const closing = await client.closeAccount({ accountId: more.closed.id });
  expect(closing.userErrors).toEqual([]);
  const e1Key = newKey('main-e1');
  const e1 = await postOk(
    book.id,
    [usd(bounded.account!.id, 'DEBIT', '100.00'), usd(book.revenue, 'CREDIT', '100.00')],
    e1Key,
  );
  const e2 = await postOk(book.id, [usd(book.cash, 'DEBIT', '25.00'), usd(book.revenue, 'CREDIT', '25.00')]);
  const reversal = await client.reverseJournalEntry({ entryId: e2, idempotencyKey: newKey('main-r2') });
  expect(reversal.userErrors).toEqual([]);
  track(reversal.entry!.id);
  await postOk(book.id, [
    { accountId: more.hours.id, side: 'DEBIT', amount: '8', unit: 'HOUR' },
    { accountId: more['hours-owed'].id, side: 'CREDIT', amount: '8', unit: 'HOUR' },
  ]);
  const p1 = await pendingOk(book.id, book.cash, book.revenue);
  const p2 = await pendingOk(book.id, book.cash, book.revenue);
  const voided = await client.voidPendingEntry({ entryId: p2, idempotencyKey: newKey('main-v2') });
  expect(voided.userErrors).toEqual([]);
  track(voided.entry!.id);
  main = {
    ...book,
    // Rows debit and credit "cash": the bounded till, so a credit past its balance is refused.
    cash: bounded.account!.id,
    hours: more.hours.id,
    hoursOwed: more['hours-owed'].id,
    closed: more.closed.id,
    e1: { id: e1, key: e1Key },
    e2,
    r2: reversal.entry!.id,
    p1,
    p2,
    v2: voided.entry!.id,
  };
  for (const family of ODD_FAMILIES) odd[family] = await setUpBook(`bad-input accepted ${family}`, 36_600);
  mainChecksumBefore = await checksum(main.raw);
  expect(Number(mainChecksumBefore.entries!.split(':')[0])).toBe(7);
});

afterAll(async () => {
  await db?.end();
  await server?.stop();
});

// ---------------------------------------------------------------------------------------------
// Documents
// ---------------------------------------------------------------------------------------------

const ENTRY_FIELDS = 'id idempotencyKey memo effectiveAt metadata { key value }';
const USER_ERRORS = 'userErrors { code field message }';

const POST_ENTRY = `mutation($input: PostJournalEntryInput!) {
  postJournalEntry(input: $input) { entry { ${ENTRY_FIELDS} } replayed ${USER_ERRORS} } }`;
const POST_ENTRIES = `mutation($input: PostJournalEntriesInput!) {
  postJournalEntries(input: $input) { postedCount results { index entry { ${ENTRY_FIELDS} } ${USER_ERRORS} } ${USER_ERRORS} } }`;
const POST_PENDING = `mutation($input: PostPendingEntryInput!) {
  postPendingEntry(input: $input) { entry { ${ENTRY_FIELDS} } replayed ${USER_ERRORS} } }`;
const REF_MUTATION = (name: string, type: string, related: string) => `mutation($input: ${type}!) {
  ${name}(input: $input) { entry { ${ENTRY_FIELDS} } ${related} { id } replayed ${USER_ERRORS} } }`;
const REVERSE = REF_MUTATION('reverseJournalEntry', 'ReverseJournalEntryInput', 'reversedEntry');
const COMMIT = REF_MUTATION('commitPendingEntry', 'CommitPendingEntryInput', 'pendingEntry');
const VOID = REF_MUTATION('voidPendingEntry', 'VoidPendingEntryInput', 'pendingEntry');
const CREATE_BOOK = `mutation($input: CreateBookInput!) {
  createBook(input: $input) { book { id name description units { code scale } } ${USER_ERRORS} } }`;
const CREATE_ACCOUNT = `mutation($input: CreateAccountInput!) {
  createAccount(input: $input) { account { id code name } ${USER_ERRORS} } }`;
const CLOSE_ACCOUNT = `mutation($input: CloseAccountInput!) {
  closeAccount(input: $input) { account { id closed } ${USER_ERRORS} } }`;
const ISSUE_TOKEN = `mutation($input: IssueApiTokenInput!) {
  issueApiToken(input: $input) { token apiToken { id principalName label grants { role scope } } ${USER_ERRORS} } }`;
const REVOKE_TOKEN = `mutation($input: RevokeApiTokenInput!) {
  revokeApiToken(input: $input) { apiToken { id revokedAt } ${USER_ERRORS} } }`;

interface EntryOverrides {
  bookId?: unknown;
  idempotencyKey?: unknown;
  memo?: unknown;
  metadata?: unknown;
  lines?: unknown;
  effectiveAt?: unknown;
  expiresAt?: unknown;
}

function entryInput(book: BookFx, o: EntryOverrides = {}): Record<string, unknown> {
  const input: Record<string, unknown> = {
    idempotencyKey: newKey('bad'),
    lines: [usd(book.cash, 'DEBIT', '1.00'), usd(book.revenue, 'CREDIT', '1.00')],
  };
  for (const [key, value] of Object.entries(o)) if (key !== 'bookId') input[key] = value;
  return input;
}

type EntryMutation = 'postJournalEntry' | 'postJournalEntries' | 'postPendingEntry';

/** Sends one entry through one of the three entry mutations (a batch of one for postJournalEntries). */
function sendEntry(mutation: EntryMutation, book: BookFx, o: EntryOverrides = {}): Promise<Answer> {
  const bookId = 'bookId' in o ? o.bookId : book.id;
  const entry = entryInput(book, o);
  if (mutation === 'postJournalEntries') {
    delete entry.expiresAt;
    return gql(POST_ENTRIES, { input: { bookId, mode: 'ATOMIC', entries: [entry] } });
  }
  return gql(mutation === 'postJournalEntry' ? POST_ENTRY : POST_PENDING, { input: { bookId, ...entry } });
}

const post = (o: EntryOverrides = {}, book: BookFx = main) => sendEntry('postJournalEntry', book, o);

/** The entry an accepted entry-posting answer created. */
function entryOf(answer: Answer): { id: string } {
  const data = answer.json!.data! as Record<
    string,
    { entry?: { id: string }; results?: { entry: { id: string } }[] }
  >;
  const payload = Object.values(data)[0]!;
  const entry = payload.entry ?? payload.results?.[0]?.entry;
  expect(entry, answer.text).toBeTruthy();
  return entry!;
}

/** Reads an entry back (a separate request) and compares what was sent. */
async function expectEntryReadsBack(
  answer: Answer,
  sent: { idempotencyKey?: string; memo?: string; metadata?: { key: string; value: string }[] },
): Promise<void> {
  const { id } = entryOf(answer);
  const data = await read(`query($id: ID!) { journalEntry(id: $id) { ${ENTRY_FIELDS} } }`, { id });
  const stored = data.journalEntry as {
    idempotencyKey: string;
    memo: string;
    metadata: { key: string; value: string }[];
  };
  if (sent.idempotencyKey !== undefined) expect(stored.idempotencyKey).toBe(sent.idempotencyKey);
  expect(stored.memo).toBe(sent.memo ?? '');
  const byKey = (a: { key: string }, b: { key: string }) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
  expect([...stored.metadata].sort(byKey)).toEqual([...(sent.metadata ?? [])].sort(byKey));
}

type RefMutation = 'reverseJournalEntry' | 'commitPendingEntry' | 'voidPendingEntry';

/**
 * reverse / commit / void. On the main book the target is e1 (reverse) or p1 (commit, void), which
 * a rejected row leaves as it was; on an odd book a fresh target is made first.
 */
async function sendRef(
  mutation: RefMutation,
  where: 'main' | 'odd',
  o: Record<string, unknown>,
): Promise<Answer> {
  let entryId: string;
  if (where === 'main') entryId = mutation === 'reverseJournalEntry' ? main.e1.id : main.p1;
  else {
    const book = odd[mutation];
    entryId =
      mutation === 'reverseJournalEntry'
        ? await postOk(book.id, [usd(book.cash, 'DEBIT', '3.00'), usd(book.revenue, 'CREDIT', '3.00')])
        : await pendingOk(book.id, book.cash, book.revenue);
  }
  const doc = { reverseJournalEntry: REVERSE, commitPendingEntry: COMMIT, voidPendingEntry: VOID }[mutation];
  return gql(doc, { input: { entryId, idempotencyKey: newKey('bad-ref'), ...o } });
}

// ---------------------------------------------------------------------------------------------
// Injection strings in every string field of every mutation input
// ---------------------------------------------------------------------------------------------

type Rule =
  /** Free text up to `max` characters: odd values are accepted and must read back exactly. */
  | { kind: 'text'; max: number; code: string }
  /** An idempotency key: 1-128 printable ASCII characters without spaces. */
  | { kind: 'key' }
  /** An identifier with a strict format, or an id: every injection string is refused. */
  | { kind: 'refused'; codes: readonly string[] };

interface FieldSpec {
  mutation: string;
  field: string;
  rule: Rule;
  /** Sends `value` in the field; `where` is 'main' for rows that must be refused, else 'odd'. */
  send: (value: string, where: 'main' | 'odd') => Promise<Answer>;
  /** For accepted rows: reads the value back (a separate request) and compares it. */
  readBack?: (value: string, answer: Answer) => Promise<void>;
}

const NUL_REGRESSION =
  'PostgreSQL text and jsonb cannot hold U+0000: the INSERT failed and the client got INTERNAL_SERVER_ERROR ' +
  '"Unexpected error." instead of a clear rejection (e.g. INVALID_INPUT)';

function entryFieldSpecs(mutation: EntryMutation): FieldSpec[] {
  const book = (where: 'main' | 'odd') => (where === 'main' ? main : odd[mutation]);
  const go = (where: 'main' | 'odd', o: EntryOverrides) => sendEntry(mutation, book(where), o);
  return [
    {
      mutation,
      field: 'bookId',
      rule: { kind: 'refused', codes: ['UNKNOWN_BOOK'] },
      send: (v, w) => go(w, { bookId: v }),
    },
    {
      mutation,
      field: 'idempotencyKey',
      rule: { kind: 'key' },
      send: (v, w) => go(w, { idempotencyKey: v }),
      readBack: (v, a) => expectEntryReadsBack(a, { idempotencyKey: v }),
    },
    {
      mutation,
      field: 'memo',
      rule: { kind: 'text', max: 1000, code: 'INVALID_INPUT' },
      send: (v, w) => go(w, { memo: v }),
      readBack: (v, a) => expectEntryReadsBack(a, { memo: v }),
    },
    {
      mutation,
      field: 'metadata.key',
      rule: { kind: 'refused', codes: ['INVALID_METADATA'] },
      send: (v, w) => go(w, { metadata: [{ key: v, value: 'x' }] }),
    },
    {
      mutation,
      field: 'metadata.value',
      rule: { kind: 'text', max: 500, code: 'INVALID_METADATA' },
      send: (v, w) => go(w, { metadata: [{ key: 'note', value: v }] }),
      readBack: (v, a) => expectEntryReadsBack(a, { metadata: [{ key: 'note', value: v }] }),
    },
    {
      mutation,
      field: 'lines.accountId',
      rule: { kind: 'refused', codes: ['UNKNOWN_ACCOUNT'] },
      send: (v, w) =>
        go(w, { lines: [{ ...usd(v, 'DEBIT', '1.00') }, usd(book(w).revenue, 'CREDIT', '1.00')] }),
    },
    {
      mutation,
      field: 'lines.unit',
      rule: { kind: 'refused', codes: ['UNIT_MISMATCH'] },
      send: (v, w) =>
        go(w, {
          lines: [{ ...usd(book(w).cash, 'DEBIT', '1.00'), unit: v }, usd(book(w).revenue, 'CREDIT', '1.00')],
        }),
    },
  ];
}

function refFieldSpecs(mutation: RefMutation): FieldSpec[] {
  return [
    {
      mutation,
      field: 'entryId',
      rule: { kind: 'refused', codes: ['UNKNOWN_ENTRY'] },
      send: (v) =>
        gql({ reverseJournalEntry: REVERSE, commitPendingEntry: COMMIT, voidPendingEntry: VOID }[mutation], {
          input: { entryId: v, idempotencyKey: newKey('bad-ref') },
        }),
    },
    {
      mutation,
      field: 'idempotencyKey',
      rule: { kind: 'key' },
      send: (v, w) => sendRef(mutation, w, { idempotencyKey: v }),
      readBack: (v, a) => expectEntryReadsBack(a, { idempotencyKey: v }),
    },
    {
      mutation,
      field: 'memo',
      rule: { kind: 'text', max: 1000, code: 'INVALID_INPUT' },
      send: (v, w) => sendRef(mutation, w, { memo: v }),
      readBack: (v, a) => expectEntryReadsBack(a, { memo: v }),
    },
    {
      mutation,
      field: 'metadata.key',
      rule: { kind: 'refused', codes: ['INVALID_METADATA'] },
      send: (v, w) => sendRef(mutation, w, { metadata: [{ key: v, value: 'x' }] }),
    },
    {
      mutation,
      field: 'metadata.value',
      rule: { kind: 'text', max: 500, code: 'INVALID_METADATA' },
      send: (v, w) => sendRef(mutation, w, { metadata: [{ key: 'note', value: v }] }),
      readBack: (v, a) => expectEntryReadsBack(a, { metadata: [{ key: 'note', value: v }] }),
    },
  ];
}

function bookFieldSpecs(): FieldSpec[] {
  const create = (o: { name?: string; description?: string; unit?: string }) =>
    gql(CREATE_BOOK, {
      input: {
        name: o.name ?? `bad-input book ${uniqueSuffix()}`,
        ...(o.description === undefined ? {} : { description: o.description }),
        units: [{ code: o.unit ?? 'USD', scale: 2 }],
      },
    });
  const readBack = async (sent: { name?: string; description?: string }, answer: Answer) => {
    const { id } = (answer.json!.data!.createBook as { book: { id: string } }).book;
    extraBooks.push(decodeGlobalId(id).id);
    const data = await read('query($id: ID!) { book(id: $id) { name description units { code scale } } }', {
      id,
    });
    const book = data.book as { name: string; description: string; units: unknown };
    if (sent.name !== undefined) expect(book.name).toBe(sent.name);
    expect(book.description).toBe(sent.description ?? '');
    expect(book.units).toEqual([{ code: 'USD', scale: 2 }]);
  };
  return [
    {
      mutation: 'createBook',
      field: 'name',
      rule: { kind: 'text', max: 200, code: 'INVALID_INPUT' },
      send: (v) => create({ name: v }),
      readBack: (v, a) => readBack({ name: v }, a),
    },
    {
      mutation: 'createBook',
      field: 'description',
      rule: { kind: 'text', max: 2000, code: 'INVALID_INPUT' },
      send: (v) => create({ description: v }),
      readBack: (v, a) => readBack({ description: v }, a),
    },
    {
      mutation: 'createBook',
      field: 'units.code',
      rule: { kind: 'refused', codes: ['INVALID_UNIT'] },
      send: (v) => create({ unit: v }),
    },
  ];
}

let accountCodes = 0;
function accountFieldSpecs(): FieldSpec[] {
  const create = (where: 'main' | 'odd', o: Record<string, string>) => {
    const book = where === 'main' ? main : odd.createAccount;
    accountCodes++;
    return gql(CREATE_ACCOUNT, {
      input: {
        bookId: book.id,
        code: `acct-${accountCodes}`,
        name: 'an account',
        type: 'ASSET',
        unit: 'USD',
        ...o,
      },
    });
  };
  return [
    {
      mutation: 'createAccount',
      field: 'bookId',
      rule: { kind: 'refused', codes: ['UNKNOWN_BOOK'] },
      send: (v, w) => create(w, { bookId: v }),
    },
    {
      mutation: 'createAccount',
      field: 'code',
      rule: { kind: 'refused', codes: ['INVALID_INPUT'] },
      send: (v, w) => create(w, { code: v }),
    },
    {
      mutation: 'createAccount',
      field: 'name',
      rule: { kind: 'text', max: 200, code: 'INVALID_INPUT' },
      send: (v, w) => create(w, { name: v }),
      readBack: async (v, a) => {
        const { id } = (a.json!.data!.createAccount as { account: { id: string } }).account;
        const data = await read('query($id: ID!) { account(id: $id) { name type unit { code } } }', { id });
        expect(data.account).toEqual({ name: v, type: 'ASSET', unit: { code: 'USD' } });
      },
    },
    {
      mutation: 'createAccount',
      field: 'unit',
      rule: { kind: 'refused', codes: ['UNKNOWN_UNIT'] },
      send: (v, w) => create(w, { unit: v }),
    },
    {
      mutation: 'createAccount',
      field: 'parentId',
      rule: { kind: 'refused', codes: ['INVALID_PARENT'] },
      send: (v, w) => create(w, { parentId: v }),
    },
    {
      mutation: 'closeAccount',
      field: 'accountId',
      rule: { kind: 'refused', codes: ['UNKNOWN_ACCOUNT'] },
      send: (v) => gql(CLOSE_ACCOUNT, { input: { accountId: v } }),
    },
  ];
}

function tokenFieldSpecs(): FieldSpec[] {
  const issue = (o: { principalName?: string; label?: string; role?: string; scope?: string }) =>
    gql(ISSUE_TOKEN, {
      input: {
        principalName: o.principalName ?? 'bad-input analyst',
        ...(o.label === undefined ? {} : { label: o.label }),
        grants: [{ role: o.role ?? 'CITY_ANALYST', scope: o.scope ?? 'Bad Input City' }],
      },
    });
  /** Reads the principal back through the new token itself (viewer), then the label from the payload. */
  const readBack = async (
    sent: { principalName?: string; label?: string; scope?: string },
    answer: Answer,
  ) => {
    const payload = answer.json!.data!.issueApiToken as {
      token: string;
      apiToken: {
        id: string;
        principalName: string;
        label: string;
        grants: { role: string; scope: string }[];
      };
    };
    issuedTokens.push(payload.apiToken.id);
    const viewer = await send({
      body: JSON.stringify({ query: '{ viewer { principalName grants { role scope } } }' }),
      headers: { authorization: `Bearer ${payload.token}` },
    });
    expect(viewer.status, viewer.text).toBe(200);
    expect(viewer.json?.data?.viewer).toEqual({
      principalName: sent.principalName ?? 'bad-input analyst',
      grants: [{ role: 'CITY_ANALYST', scope: sent.scope ?? 'Bad Input City' }],
    });
    expect(payload.apiToken.label).toBe(sent.label ?? '');
  };
  return [
    {
      mutation: 'issueApiToken',
      field: 'principalName',
      rule: { kind: 'text', max: 200, code: 'INVALID_INPUT' },
      send: (v) => issue({ principalName: v }),
      readBack: (v, a) => readBack({ principalName: v }, a),
    },
    {
      mutation: 'issueApiToken',
      field: 'label',
      rule: { kind: 'text', max: 200, code: 'INVALID_INPUT' },
      send: (v) => issue({ label: v }),
      readBack: (v, a) => readBack({ label: v }, a),
    },
    {
      mutation: 'issueApiToken',
      field: 'grants.scope (CITY_ANALYST: a city name)',
      rule: { kind: 'text', max: 100, code: 'INVALID_INPUT' },
      send: (v) => issue({ scope: v }),
      readBack: (v, a) => readBack({ scope: v }, a),
    },
    {
      mutation: 'issueApiToken',
      field: 'grants.scope (TREASURER: a Book id)',
      rule: { kind: 'refused', codes: ['INVALID_INPUT'] },
      send: (v) => issue({ role: 'TREASURER', scope: v }),
    },
    {
      mutation: 'revokeApiToken',
      field: 'tokenId',
      rule: { kind: 'refused', codes: ['INVALID_INPUT'] },
      send: (v) => gql(REVOKE_TOKEN, { input: { tokenId: v } }),
    },
  ];
}

function injectionCases(specs: FieldSpec[]): Case[] {
  const cases: Case[] = [];
  for (const spec of specs) {
    for (const [label, value] of INJECTIONS) {
      const name = `${spec.mutation} ${spec.field}: ${label}`;
      const { rule } = spec;
      const readBack = (answer: Answer) => spec.readBack!(value, answer);
      // A NUL may also be refused for the whole request, before any field is looked at.
      const nul = value.includes('\u0000') ? ['INVALID_INPUT'] : [];
      if (rule.kind === 'refused') {
        cases.push({ name, send: () => spec.send(value, 'main'), outcome: rejects([...rule.codes, ...nul]) });
      } else if (rule.kind === 'key') {
        const valid = /^[\x21-\x7e]{1,128}$/.test(value);
        cases.push(
          valid
            ? { name, send: () => spec.send(value, 'odd'), outcome: accepts(readBack) }
            : {
                name,
                send: () => spec.send(value, 'main'),
                outcome: rejects(['INVALID_IDEMPOTENCY_KEY', ...nul]),
              },
        );
      } else if (value.length > rule.max) {
        cases.push({ name, send: () => spec.send(value, 'main'), outcome: rejects(rule.code) });
      } else if (value.includes('\u0000')) {
        cases.push({
          name,
          send: () => spec.send(value, 'odd'),
          outcome: { kind: 'either', codes: [rule.code, ...nul], check: readBack },
          regression: NUL_REGRESSION,
        });
      } else {
        cases.push({ name, send: () => spec.send(value, 'odd'), outcome: accepts(readBack) });
      }
    }
  }
  return cases;
}

// ---------------------------------------------------------------------------------------------
// HTTP and body level
// ---------------------------------------------------------------------------------------------

const TYPENAME = JSON.stringify({ query: '{ __typename }' });
/** A valid request padded to exactly `bytes` bytes. */
const padded = (bytes: number) => {
  const base = JSON.stringify({ query: '{ __typename }', extensions: { pad: '' } });
  return JSON.stringify({ query: '{ __typename }', extensions: { pad: 'x'.repeat(bytes - base.length) } });
};
const SEARCH_PARAMS_REGRESSION =
  'graphql-yoga JSON.parsed the `variables` / `extensions` search parameters (GET, and form-encoded POSTs) ' +
  'without a catch: the SyntaxError was an unexpected error, answered HTTP 500 INTERNAL_SERVER_ERROR instead of 400';
const DECLARED_REGRESSION =
  'a declared content-length over the body limit was not "refused without reading": body-parser read off ' +
  '(dumped) the whole declared body before the 413 went out, so a client that declared a large body and ' +
  'stalled held one of the two large-request slots until the request timeout';
const MUTATION_GET = `/graphql?query=${encodeURIComponent(
  'mutation { closeAccount(input: { accountId: "x" }) { userErrors { code } } }',
)}`;

batch('HTTP and body level', () => [
  {
    name: 'truncated JSON',
    send: () => send({ body: '{"query": "{ books { edges' }),
    outcome: rejects('BAD_REQUEST', { status: 400 }),
  },
  {
    name: 'JSON with trailing garbage',
    send: () => send({ body: `${TYPENAME} xyz` }),
    outcome: rejects('BAD_REQUEST', { status: 400 }),
  },
  {
    name: 'JSON with a NaN literal',
    send: () =>
      send({
        body: '{"query":"query($n: Int) { books(first: $n) { edges { cursor } } }","variables":{"n":NaN}}',
      }),
    outcome: rejects('BAD_REQUEST', { status: 400 }),
  },
  {
    name: 'JSON with an Infinity literal',
    send: () => send({ body: '{"query":"{ __typename }","variables":{"n":Infinity}}' }),
    outcome: rejects('BAD_REQUEST', { status: 400 }),
  },
  {
    name: 'single-quoted pseudo-JSON',
    send: () => send({ body: "{'query': '{ __typename }'}" }),
    outcome: rejects('BAD_REQUEST', { status: 400 }),
  },
  {
    name: 'a bare JSON string',
    send: () => send({ body: '"{ __typename }"' }),
    outcome: rejects('BAD_REQUEST', { status: 400 }),
  },
  {
    name: 'a bare JSON number',
    send: () => send({ body: '42' }),
    outcome: rejects('BAD_REQUEST', { status: 400 }),
  },
  { name: 'JSON null', send: () => send({ body: 'null' }), outcome: rejects('BAD_REQUEST') },
  {
    name: 'an array of nonsense (batching)',
    send: () => send({ body: '[1, "a", null, {}]' }),
    outcome: rejects('BAD_REQUEST', { status: 400 }),
  },
  { name: 'an empty body', send: () => send({ body: '' }), outcome: rejects('BAD_REQUEST', { status: 400 }) },
  {
    name: 'a body of whitespace only',
    send: () => send({ body: '  \n\t\r\n ' }),
    outcome: rejects('BAD_REQUEST', { status: 400 }),
  },
  {
    name: 'a UTF-8 byte order mark before the JSON',
    send: () => send({ body: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(TYPENAME)]) }),
    outcome: rejects('BAD_REQUEST', { status: 400 }),
  },
  {
    name: 'a UTF-16LE body',
    send: () => send({ body: Buffer.from(TYPENAME, 'utf16le') }),
    // Not JSON as UTF-8 (BAD_REQUEST), and full of NUL bytes (INVALID_INPUT, if refused up front).
    outcome: rejects(['BAD_REQUEST', 'INVALID_INPUT'], { status: 400 }),
  },
  {
    name: 'invalid UTF-8 bytes inside the query',
    send: () =>
      send({
        body: Buffer.concat([
          Buffer.from('{"query":"{ __type'),
          Buffer.from([0xff, 0xfe, 0xc3]),
          Buffer.from('name }"}'),
        ]),
      }),
    outcome: rejects('GRAPHQL_PARSE_FAILED'),
  },
  {
    // Decoded with U+FFFD in place of the bad bytes: no longer printable ASCII, so refused.
    name: 'invalid UTF-8 bytes inside an idempotencyKey',
    send: () => {
      const [head, tail] = JSON.stringify({
        query: POST_ENTRY,
        variables: { input: { bookId: main.id, ...entryInput(main, { idempotencyKey: 'SPLIT' }) } },
      }).split('SPLIT');
      return send({
        body: Buffer.concat([
          Buffer.from(`${head}key-`),
          Buffer.from([0xc0, 0xaf, 0xed, 0xa0, 0x80]),
          Buffer.from(tail!),
        ]),
      });
    },
    outcome: rejects('INVALID_IDEMPOTENCY_KEY'),
  },
  {
    name: 'a variable nested 100,000 arrays deep',
    send: () =>
      send({
        body: `{"query":${JSON.stringify(POST_ENTRY)},"variables":{"input":{"bookId":"x","idempotencyKey":"k","lines":[],"metadata":${'['.repeat(100_000)}${']'.repeat(100_000)}}}}`,
      }),
    outcome: rejects(),
  },
  {
    name: 'a UTF-16 body labelled charset=utf-16',
    send: () =>
      send({
        body: Buffer.from(TYPENAME, 'utf16le'),
        headers: { 'content-type': 'application/json; charset=utf-16' },
      }),
    outcome: rejects(undefined, { status: 400 }),
  },
  {
    name: 'content-type text/plain (CSRF)',
    send: () => send({ body: TYPENAME, headers: { 'content-type': 'text/plain' } }),
    outcome: rejects('CSRF_PREVENTED', { status: 403 }),
  },
  {
    name: 'content-type application/x-www-form-urlencoded (CSRF)',
    send: () =>
      send({
        body: 'query=%7B__typename%7D',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      }),
    outcome: rejects('CSRF_PREVENTED', { status: 403 }),
  },
  {
    name: 'content-type multipart/form-data (CSRF)',
    send: () =>
      send({
        body: '--b\r\nContent-Disposition: form-data; name="operations"\r\n\r\n{"query":"{ __typename }"}\r\n--b--\r\n',
        headers: { 'content-type': 'multipart/form-data; boundary=b' },
      }),
    outcome: rejects('CSRF_PREVENTED', { status: 403 }),
  },
  {
    name: 'no content-type at all (CSRF)',
    send: () => send({ body: TYPENAME, headers: { 'content-type': null } }),
    outcome: rejects('CSRF_PREVENTED', { status: 403 }),
  },
  {
    name: 'content-type text/plain with a CSRF header (unsupported media type)',
    send: () => send({ body: TYPENAME, headers: { 'content-type': 'text/plain', 'x-graphql-csrf': '1' } }),
    outcome: rejects(undefined, { status: 415 }),
  },
  {
    name: 'content-type application/xml',
    send: () =>
      send({ body: '<query>{ __typename }</query>', headers: { 'content-type': 'application/xml' } }),
    outcome: rejects(undefined, { status: 415 }),
  },
  {
    name: 'content-type image/png',
    send: () =>
      send({
        body: Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 0]),
        headers: { 'content-type': 'image/png' },
      }),
    // Unsupported media type, or refused up front for its NUL bytes.
    outcome: rejects(undefined, { statuses: [400, 415] }),
  },
  {
    name: `a body of 1 MiB + 1 bytes (limit ${DEFAULT_BODY_LIMIT_BYTES})`,
    send: () => send({ body: padded(DEFAULT_BODY_LIMIT_BYTES + 1) }),
    outcome: rejects('PAYLOAD_TOO_LARGE', { status: 413 }),
  },
  {
    name: 'a declared content-length of 1 MiB + 1: answered before the body is sent',
    send: () =>
      send({
        declared: {
          length: DEFAULT_BODY_LIMIT_BYTES + 1,
          thenBody: Buffer.from(padded(DEFAULT_BODY_LIMIT_BYTES + 1)),
        },
      }),
    outcome: rejects('PAYLOAD_TOO_LARGE', { status: 413 }),
    also: (answer) => expect(answer.answeredBeforeBody).toBe(true),
    regression: DECLARED_REGRESSION,
  },
  {
    name: 'a declared content-length of 10 GB, no body: answered at once',
    send: () => send({ declared: { length: 10 * 1024 ** 3 } }),
    outcome: rejects('PAYLOAD_TOO_LARGE', { status: 413 }),
    regression: DECLARED_REGRESSION,
  },
  {
    name: 'a chunked body streaming past 1 MiB',
    send: () => send({ streamBytes: DEFAULT_BODY_LIMIT_BYTES + 256 * 1024 }),
    outcome: rejects('PAYLOAD_TOO_LARGE', { status: 413 }),
  },
  {
    name: 'content-encoding gzip',
    send: () => send({ body: gzipSync(TYPENAME), headers: { 'content-encoding': 'gzip' } }),
    outcome: rejects('UNSUPPORTED_ENCODING', { status: 415 }),
  },
  {
    name: 'content-encoding deflate',
    send: () => send({ body: deflateSync(TYPENAME), headers: { 'content-encoding': 'deflate' } }),
    outcome: rejects('UNSUPPORTED_ENCODING', { status: 415 }),
  },
  {
    name: 'content-encoding br',
    send: () => send({ body: brotliCompressSync(TYPENAME), headers: { 'content-encoding': 'br' } }),
    outcome: rejects('UNSUPPORTED_ENCODING', { status: 415 }),
  },
  {
    name: 'a gzip bomb (10 MB of zeros, 10 KB compressed)',
    send: () =>
      send({
        body: gzipSync(
          Buffer.concat([
            Buffer.from('{"query":"{ __typename }","x":"'),
            Buffer.alloc(10_000_000, 0x30),
            Buffer.from('"}'),
          ]),
        ),
        headers: { 'content-encoding': 'gzip' },
      }),
    outcome: rejects('UNSUPPORTED_ENCODING', { status: 415 }),
  },
  {
    name: 'GET with a mutation (and a CSRF header)',
    send: () =>
      send({ method: 'GET', path: MUTATION_GET, headers: { 'content-type': null, 'x-graphql-csrf': '1' } }),
    outcome: rejects('BAD_REQUEST', { status: 405 }),
  },
  {
    name: 'GET with a mutation, no CSRF header',
    send: () => send({ method: 'GET', path: MUTATION_GET, headers: { 'content-type': null } }),
    outcome: rejects('CSRF_PREVENTED', { status: 403 }),
  },
  {
    name: 'GET with a 20 KB query string',
    send: () =>
      send({
        method: 'GET',
        path: `/graphql?query=${encodeURIComponent(`{ __typename #${'x'.repeat(20_000)}\n}`)}`,
        headers: { 'content-type': null, 'x-graphql-csrf': '1' },
      }),
    outcome: rejects(undefined, { status: 431 }),
  },
  {
    name: 'GET with `variables` that are not JSON',
    send: () =>
      send({
        method: 'GET',
        path: `/graphql?query=${encodeURIComponent('query($n: Int) { books(first: $n) { edges { cursor } } }')}&variables=%7Bnot-json`,
        headers: { 'content-type': null, 'x-graphql-csrf': '1' },
      }),
    outcome: rejects('BAD_REQUEST', { status: 400 }),
    regression: SEARCH_PARAMS_REGRESSION,
  },
  {
    name: 'GET with `extensions` that are not JSON',
    send: () =>
      send({
        method: 'GET',
        path: '/graphql?query=%7B__typename%7D&extensions=%5B%5B',
        headers: { 'content-type': null, 'x-graphql-csrf': '1' },
      }),
    outcome: rejects('BAD_REQUEST', { status: 400 }),
    regression: SEARCH_PARAMS_REGRESSION,
  },
  {
    name: 'a form-encoded POST (with a CSRF header) whose `variables` are not JSON',
    send: () =>
      send({
        body: 'query=%7B__typename%7D&variables=NaN%7D',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-graphql-csrf': '1' },
      }),
    outcome: rejects('BAD_REQUEST', { status: 400 }),
    regression: SEARCH_PARAMS_REGRESSION,
  },
  {
    name: 'method PUT',
    send: () => send({ method: 'PUT', body: TYPENAME }),
    outcome: rejects(undefined, { status: 405 }),
  },
  { name: 'method PATCH', send: () => send({ method: 'PATCH', body: TYPENAME }), outcome: rejects() },
  { name: 'method DELETE', send: () => send({ method: 'DELETE', body: TYPENAME }), outcome: rejects() },
  {
    name: '`query` is a number',
    send: () => send({ body: '{"query": 5}' }),
    outcome: rejects('BAD_REQUEST', { status: 400 }),
  },
  {
    name: '`query` is an object',
    send: () => send({ body: '{"query": {"a": 1}}' }),
    outcome: rejects('BAD_REQUEST', { status: 400 }),
  },
  {
    name: '`query` is an array',
    send: () => send({ body: '{"query": ["{ __typename }"]}' }),
    outcome: rejects('BAD_REQUEST', { status: 400 }),
  },
  { name: '`query` is null', send: () => send({ body: '{"query": null}' }), outcome: rejects('BAD_REQUEST') },
  {
    name: '`query` is missing',
    send: () => send({ body: '{"variables": {}}' }),
    outcome: rejects('BAD_REQUEST'),
  },
  { name: '`query` is an empty string', send: () => send({ body: '{"query": ""}' }), outcome: rejects() },
  {
    name: '`variables` is a string',
    send: () => send({ body: '{"query": "{ __typename }", "variables": "{}"}' }),
    outcome: rejects('BAD_REQUEST', { status: 400 }),
  },
  {
    name: '`variables` is an array',
    send: () => send({ body: '{"query": "{ __typename }", "variables": [1]}' }),
    outcome: rejects('BAD_REQUEST', { status: 400 }),
  },
  {
    name: '`variables` is a number',
    send: () => send({ body: '{"query": "{ __typename }", "variables": 7}' }),
    outcome: rejects('BAD_REQUEST', { status: 400 }),
  },
  {
    name: '`extensions` is a string',
    send: () => send({ body: '{"query": "{ __typename }", "extensions": "x"}' }),
    outcome: rejects('BAD_REQUEST', { status: 400 }),
  },
  {
    name: '`operationName` is a number',
    send: () => send({ body: '{"query": "query A { __typename }", "operationName": 1}' }),
    outcome: rejects(),
  },
  {
    name: 'an unknown operationName',
    send: () => gql('query A { __typename }', undefined, { operationName: 'B' }),
    outcome: rejects(),
  },
  {
    name: 'two operations without an operationName',
    send: () =>
      gql(
        'query A { __typename } mutation B { closeAccount(input: { accountId: "x" }) { userErrors { code } } }',
      ),
    outcome: rejects(),
  },
  {
    name: 'a POST to an unknown path',
    send: () => send({ path: '/graphql2', body: TYPENAME }),
    outcome: rejects('NOT_FOUND', { status: 404 }),
  },
  {
    name: 'a path with an encoded NUL',
    send: () => send({ path: '/graphql%00', body: TYPENAME }),
    outcome: rejects(),
  },
]);

// ---------------------------------------------------------------------------------------------
// GraphQL level
// ---------------------------------------------------------------------------------------------

const ACCOUNTS_PAGE =
  'query($b: ID!, $n: Int) { accounts(bookId: $b, first: $n) { edges { node { code } } } }';
const ENTRIES_AFTER =
  'query($b: ID!, $a: String) { journalEntries(bookId: $b, first: 2, after: $a) { edges { cursor } } }';
const cursor = (parts: unknown) => Buffer.from(JSON.stringify(parts)).toString('base64url');
const nested = (open: string, depth: number, leaf: string) =>
  `${open} { `.repeat(depth) + leaf + ' }'.repeat(depth);
const aliases = (n: number, field: string) =>
  Array.from({ length: n }, (_, i) => `a${i}: ${field}`).join(' ');
const LIMIT_REGRESSION =
  'document-limit rejections (depth, aliases, directives, cost from graphql-armor) came back as 200 with ' +
  '"Syntax Error: ..." and no extensions.code';
const CURSOR_REGRESSION =
  'a journalEntries `after` cursor of digits that passes the /^-?\\d{1,19}$/ check but overflows PostgreSQL ' +
  '(bigint, or the interval it is multiplied into) gave INTERNAL_SERVER_ERROR instead of BAD_USER_INPUT';

batch('GraphQL level', () => [
  {
    name: 'syntax: an unclosed brace',
    send: () => gql('{ books {'),
    outcome: rejects('GRAPHQL_PARSE_FAILED'),
  },
  {
    name: 'syntax: an empty selection',
    send: () => gql('mutation { }'),
    outcome: rejects('GRAPHQL_PARSE_FAILED'),
  },
  {
    name: 'syntax: an argument without a value',
    send: () => gql('{ books(first: ) { edges { cursor } } }'),
    outcome: rejects('GRAPHQL_PARSE_FAILED'),
  },
  {
    name: 'syntax: an unterminated string',
    send: () => gql('{ book(id: "abc) { id } }'),
    outcome: rejects('GRAPHQL_PARSE_FAILED'),
  },
  {
    name: 'syntax: an unterminated block string',
    send: () => gql('{ book(id: """abc) { id } }'),
    outcome: rejects('GRAPHQL_PARSE_FAILED'),
  },
  {
    name: 'syntax: control characters',
    send: () => gql('\u0001\u0002\u0003 { __typename }'),
    outcome: rejects('GRAPHQL_PARSE_FAILED'),
  },
  {
    name: 'syntax: a comment and nothing else',
    send: () => gql('# nothing here'),
    outcome: rejects('GRAPHQL_PARSE_FAILED'),
  },
  {
    name: 'syntax: SQL instead of GraphQL',
    send: () => gql("select * from journal_entry where '1'='1'"),
    outcome: rejects('GRAPHQL_PARSE_FAILED'),
  },
  {
    name: 'syntax: a bad escape in a string',
    send: () => gql('{ book(id: "\\x00") { id } }'),
    outcome: rejects('GRAPHQL_PARSE_FAILED'),
  },
  { name: 'an unknown field', send: () => gql('{ nope }'), outcome: rejects('GRAPHQL_VALIDATION_FAILED') },
  {
    name: 'an unknown argument',
    send: () => gql('{ books(around: 1) { edges { cursor } } }'),
    outcome: rejects('GRAPHQL_VALIDATION_FAILED'),
  },
  {
    name: 'an unknown variable type',
    send: () => gql('query($x: Nope) { books { edges { cursor } } }'),
    outcome: rejects('GRAPHQL_VALIDATION_FAILED'),
  },
  {
    name: 'an unknown enum value',
    send: () =>
      gql('query($b: ID!) { accounts(bookId: $b, type: CASH) { edges { cursor } } }', { b: main.id }),
    outcome: rejects('GRAPHQL_VALIDATION_FAILED'),
  },
  {
    name: 'a selection on a scalar',
    send: () => gql('{ viewer { principalName { x } } }'),
    outcome: rejects('GRAPHQL_VALIDATION_FAILED'),
  },
  {
    name: 'an object without a selection',
    send: () => gql('{ viewer }'),
    outcome: rejects('GRAPHQL_VALIDATION_FAILED'),
  },
  {
    name: 'an unknown directive',
    send: () => gql('{ __typename @nope }'),
    outcome: rejects('GRAPHQL_VALIDATION_FAILED'),
  },
  {
    name: 'an unknown fragment',
    send: () => gql('{ ...Nope }'),
    outcome: rejects('GRAPHQL_VALIDATION_FAILED'),
  },
  {
    name: 'a fragment on an unknown type',
    send: () => gql('fragment F on Nope { id } { ...F }'),
    outcome: rejects('GRAPHQL_VALIDATION_FAILED'),
  },
  {
    name: 'a duplicated argument',
    send: () => gql('{ books(first: 1, first: 2) { edges { cursor } } }'),
    outcome: rejects('GRAPHQL_VALIDATION_FAILED'),
  },
  {
    name: 'two operations with the same name',
    send: () => gql('query A { __typename } query A { __typename }', undefined, { operationName: 'A' }),
    outcome: rejects('GRAPHQL_VALIDATION_FAILED'),
  },
  {
    name: 'a variable declared twice',
    send: () => gql('query($n: Int, $n: Int) { books(first: $n) { edges { cursor } } }'),
    outcome: rejects('GRAPHQL_VALIDATION_FAILED'),
  },
  {
    name: 'an unused variable',
    send: () => gql('query($n: Int) { __typename }', { n: 1 }),
    outcome: rejects('GRAPHQL_VALIDATION_FAILED'),
  },
  {
    name: 'a subscription (the schema has none)',
    send: () => gql('subscription { entries { id } }'),
    outcome: rejects('GRAPHQL_VALIDATION_FAILED'),
    regression:
      'an operation type the schema lacks was answered 200 "Schema is not configured to execute subscription operation." with no extensions.code',
  },
  {
    name: 'a mutation field queried as a query',
    send: () => gql('{ closeAccount(input: { accountId: "x" }) { userErrors { code } } }'),
    outcome: rejects('GRAPHQL_VALIDATION_FAILED'),
  },
  // Wrong variable types: coercion fails before execution (400).
  {
    name: 'variable: an Int for a String (idempotencyKey)',
    send: () => gql(POST_ENTRY, { input: { bookId: main.id, ...entryInput(main, { idempotencyKey: 5 }) } }),
    outcome: rejects(undefined, { status: 400 }),
  },
  {
    name: 'variable: an object for a list (lines)',
    send: () => gql(POST_ENTRY, { input: { bookId: main.id, ...entryInput(main, { lines: {} }) } }),
    outcome: rejects(undefined, { status: 400 }),
  },
  {
    name: 'variable: a list for an input object',
    send: () => gql(POST_ENTRY, { input: [{ bookId: main.id }] }),
    outcome: rejects(undefined, { status: 400 }),
  },
  {
    name: 'variable: a lower-case enum value (side)',
    send: () =>
      post({
        lines: [{ ...usd(main.cash, 'DEBIT', '1.00'), side: 'debit' }, usd(main.revenue, 'CREDIT', '1.00')],
      }),
    outcome: rejects(undefined, { status: 400 }),
  },
  {
    name: 'variable: an unknown enum value (side SIDEWAYS)',
    send: () =>
      post({
        lines: [
          { ...usd(main.cash, 'DEBIT', '1.00'), side: 'SIDEWAYS' },
          usd(main.revenue, 'CREDIT', '1.00'),
        ],
      }),
    outcome: rejects(undefined, { status: 400 }),
  },
  {
    name: 'variable: null for a non-null field (bookId)',
    send: () => gql(POST_ENTRY, { input: { bookId: null, ...entryInput(main) } }),
    outcome: rejects(undefined, { status: 400 }),
  },
  {
    name: 'variable: a required field missing (lines)',
    send: () => gql(POST_ENTRY, { input: { bookId: main.id, idempotencyKey: newKey() } }),
    outcome: rejects(undefined, { status: 400 }),
  },
  {
    name: 'variable: an unknown field in an input object',
    send: () => gql(POST_ENTRY, { input: { bookId: main.id, ...entryInput(main), posted: true } }),
    outcome: rejects(undefined, { status: 400 }),
  },
  {
    name: 'variable: a required variable not provided',
    send: () => gql(POST_ENTRY, {}),
    outcome: rejects(undefined, { status: 400 }),
  },
  {
    name: 'variable: a boolean for an Int (first)',
    send: () => gql(ACCOUNTS_PAGE, { b: main.id, n: true }),
    outcome: rejects(undefined, { status: 400 }),
  },
  {
    name: 'variable: a float for an Int (first 1.5)',
    send: () => gql(ACCOUNTS_PAGE, { b: main.id, n: 1.5 }),
    outcome: rejects(undefined, { status: 400 }),
  },
  {
    name: 'variable: a string for an Int (first "10")',
    send: () => gql(ACCOUNTS_PAGE, { b: main.id, n: '10' }),
    outcome: rejects(undefined, { status: 400 }),
  },
  {
    name: 'variable: first = 2^53',
    send: () => gql(ACCOUNTS_PAGE, { b: main.id, n: 2 ** 53 }),
    outcome: rejects(undefined, { status: 400 }),
  },
  {
    name: 'variable: first = 2^31',
    send: () => gql(ACCOUNTS_PAGE, { b: main.id, n: 2 ** 31 }),
    outcome: rejects(undefined, { status: 400 }),
  },
  {
    name: 'variable: first = 1e400 (Infinity once parsed)',
    send: () =>
      send({
        body: `{"query":${JSON.stringify(ACCOUNTS_PAGE)},"variables":{"b":${JSON.stringify(main.id)},"n":1e400}}`,
      }),
    outcome: rejects(undefined, { status: 400 }),
  },
  {
    name: 'variable: an object for an ID',
    send: () => gql(ACCOUNTS_PAGE, { b: { id: main.id }, n: 1 }),
    outcome: rejects(undefined, { status: 400 }),
  },
  // A literal `first` multiplies the cost, so the cost limit refuses these before validation runs.
  {
    name: 'literal: first = 9007199254740993',
    send: () => gql('{ books(first: 9007199254740993) { edges { cursor } } }'),
    outcome: limit(/cost limit/i),
  },
  {
    name: 'literal: first = 1e400',
    send: () => gql('{ books(first: 1e400) { edges { cursor } } }'),
    outcome: rejects('GRAPHQL_VALIDATION_FAILED'),
  },
  {
    name: 'literal: first = "10"',
    send: () => gql('{ books(first: "10") { edges { cursor } } }'),
    outcome: rejects('GRAPHQL_VALIDATION_FAILED'),
  },
  {
    name: 'first = -1',
    send: () => gql('{ books(first: -1) { edges { cursor } } }'),
    outcome: rejects('BAD_USER_INPUT'),
  },
  {
    name: 'first = 0',
    send: () => gql('{ books(first: 0) { edges { cursor } } }'),
    outcome: rejects('BAD_USER_INPUT'),
  },
  {
    name: 'first = 101',
    send: () => gql('{ books(first: 101) { edges { cursor } } }'),
    outcome: rejects('BAD_USER_INPUT'),
  },
  {
    name: 'first = -2147483648',
    send: () => gql('{ books(first: -2147483648) { edges { cursor } } }'),
    outcome: rejects('BAD_USER_INPUT'),
  },
  {
    name: 'accounts first = 101',
    send: () => gql(ACCOUNTS_PAGE, { b: main.id, n: 101 }),
    outcome: rejects('BAD_USER_INPUT'),
  },
  {
    name: 'journalEntries first = 2147483647',
    send: () =>
      gql('query($b: ID!) { journalEntries(bookId: $b, first: 2147483647) { edges { cursor } } }', {
        b: main.id,
      }),
    outcome: limit(/cost limit/i),
  },
  {
    name: 'account.children first = 0',
    send: () =>
      gql('query($a: ID!) { account(id: $a) { children(first: 0) { edges { cursor } } } }', { a: main.cash }),
    outcome: rejects('BAD_USER_INPUT'),
  },
  {
    name: 'after: not base64 JSON',
    send: () => gql('{ books(first: 1, after: "%%%") { edges { cursor } } }'),
    outcome: rejects('BAD_USER_INPUT'),
  },
  {
    name: 'after: an injection string',
    send: () => gql(ENTRIES_AFTER, { b: main.id, a: "'; drop table journal_entry; --" }),
    outcome: rejects('BAD_USER_INPUT'),
  },
  {
    name: 'after: a cursor of the wrong arity',
    send: () => gql(ENTRIES_AFTER, { b: main.id, a: cursor(['1']) }),
    outcome: rejects('BAD_USER_INPUT'),
  },
  {
    name: 'after: a cursor of numbers, not strings',
    send: () => gql(ENTRIES_AFTER, { b: main.id, a: cursor([1, 2]) }),
    outcome: rejects('BAD_USER_INPUT'),
  },
  {
    name: 'after: a crafted cursor with SQL',
    send: () => gql(ENTRIES_AFTER, { b: main.id, a: cursor(['1 or 1=1', '1; drop table book']) }),
    outcome: rejects('BAD_USER_INPUT'),
  },
  {
    name: 'after: a crafted cursor of 19 nines (over bigint)',
    send: () => gql(ENTRIES_AFTER, { b: main.id, a: cursor(['1', '9999999999999999999']) }),
    outcome: rejects('BAD_USER_INPUT'),
    regression: CURSOR_REGRESSION,
  },
  {
    name: 'after: a crafted cursor at the largest bigint millisecond',
    send: () => gql(ENTRIES_AFTER, { b: main.id, a: cursor(['9223372036854775807', '1']) }),
    outcome: rejects('BAD_USER_INPUT'),
    regression: CURSOR_REGRESSION,
  },
  {
    name: 'after: a crafted accounts cursor with SQL (a valid cursor: answered, parameterised)',
    send: () =>
      gql(
        'query($b: ID!, $a: String) { accounts(bookId: $b, first: 5, after: $a) { edges { node { code } } } }',
        { b: main.id, a: cursor(["'; drop table account; --"]) },
      ),
    outcome: accepts((a) => {
      // Codes sort after the quote character, so every account of the book follows this "cursor".
      expect((a.json!.data!.accounts as { edges: unknown[] }).edges.length).toBe(5);
    }),
  },
  // Depth, width, tokens, directives, cycles, cost, introspection.
  {
    name: `depth ${GRAPHQL_LIMITS.maxDepth + 1} via account { parent { parent ... } }`,
    send: () =>
      gql(`query($a: ID!) { account(id: $a) { ${nested('parent', GRAPHQL_LIMITS.maxDepth - 1, 'id')} } }`, {
        a: main.cash,
      }),
    outcome: limit(/depth limit of 12 exceeded, found 13/i),
  },
  {
    name: 'depth 200 via parent',
    send: () =>
      gql(`query($a: ID!) { account(id: $a) { ${nested('parent', 200, 'id')} } }`, { a: main.cash }),
    outcome: limit(/depth limit|cost limit|nesting limit/i),
  },
  {
    name: 'depth 14 through node and nested fragments',
    send: () =>
      gql(
        `query($a: ID!) { node(id: $a) { ...F0 } } ${Array.from({ length: 13 }, (_, i) => `fragment F${i} on Account { parent { ${i < 12 ? `...F${i + 1}` : 'id'} } }`).join(' ')}`,
        { a: main.cash },
      ),
    outcome: limit(/depth limit|cost limit/i),
  },
  {
    name: 'depth 14 via book { accounts { edges { node { book ... } } } }',
    send: () => {
      const level = (inner: string) => `accounts(first: 1) { edges { node { book { ${inner} } } } }`;
      return gql(`query($b: ID!) { book(id: $b) { ${level(level(level('id')))} } }`, { b: main.id });
    },
    outcome: limit(/depth limit|cost limit/i),
  },
  {
    name: '31 aliases',
    send: () => gql(`{ ${aliases(31, 'viewer { tokenId }')} }`),
    outcome: limit(/aliases limit of 30/i),
  },
  {
    name: '700 aliases',
    send: () => gql(`{ ${aliases(700, 'viewer { tokenId }')} }`),
    outcome: limit(/aliases limit|token limit/i),
  },
  {
    name: '1000 aliases',
    send: () => gql(`{ ${aliases(1000, 'viewer { tokenId }')} }`),
    outcome: limit(/aliases limit|token limit/i),
  },
  {
    name: '31 aliases of a mutation',
    send: () =>
      gql(`mutation { ${aliases(31, 'closeAccount(input: { accountId: "x" }) { userErrors { code } }')} }`),
    outcome: limit(/aliases limit|token limit/i),
  },
  {
    name: `${GRAPHQL_LIMITS.maxTokens + 1} tokens`,
    send: () => gql(`{ ${'__typename '.repeat(GRAPHQL_LIMITS.maxTokens + 1)}}`),
    outcome: rejects('GRAPHQL_PARSE_FAILED', { message: /token limit/i }),
  },
  {
    name: '50,000 tokens (550 KB)',
    send: () => gql(`{ ${'__typename '.repeat(50_000)}}`),
    outcome: rejects('GRAPHQL_PARSE_FAILED', { message: /token limit/i }),
  },
  {
    name: '6,000 tokens in the variable definitions',
    send: () =>
      gql(`query(${Array.from({ length: 1500 }, (_, i) => `$v${i}: Int`).join(' ')}) { __typename }`),
    outcome: rejects('GRAPHQL_PARSE_FAILED', { message: /token limit/i }),
  },
  {
    name: `${GRAPHQL_LIMITS.maxDirectives + 1} directives`,
    send: () => gql(`{ __typename ${'@skip(if: false) '.repeat(51)}}`),
    outcome: limit(/directives limit of 50/i),
  },
  {
    name: '600 directives',
    send: () => gql(`{ __typename ${'@include(if: true) '.repeat(600)}}`),
    outcome: limit(/directives limit|token limit/i),
  },
  {
    name: 'directives spread over aliased fields',
    send: () =>
      gql(
        `{ ${Array.from({ length: 26 }, (_, i) => `a${i}: __typename @skip(if: false) @include(if: true)`).join(' ')} }`,
      ),
    outcome: limit(/directives limit/i),
  },
  {
    name: 'the same field selected 600 times',
    send: () => gql(`{ ${'viewer { grants { role scope } } '.repeat(600)}}`),
    outcome: rejects('GRAPHQL_VALIDATION_FAILED'),
  },
  {
    name: 'a fragment cycle A -> B -> A',
    send: () => gql('fragment A on Query { ...B } fragment B on Query { ...A } { ...A }'),
    outcome: rejects('GRAPHQL_VALIDATION_FAILED'),
  },
  {
    name: 'a fragment that spreads itself',
    send: () => gql('fragment A on Query { __typename ...A } { ...A }'),
    outcome: rejects('GRAPHQL_VALIDATION_FAILED'),
  },
  {
    name: 'a 3-fragment cycle through node',
    send: () =>
      gql(
        'query($a: ID!) { node(id: $a) { ...A } } fragment A on Account { parent { ...B } } fragment B on Account { parent { ...C } } fragment C on Account { parent { ...A } }',
        { a: main.cash },
      ),
    outcome: rejects('GRAPHQL_VALIDATION_FAILED'),
  },
  {
    name: 'fragments doubling 30 times (a billion-laughs document)',
    send: () =>
      gql(
        `{ ...F0 } ${Array.from({ length: 30 }, (_, i) => `fragment F${i} on Query { ...F${i + 1} ...F${i + 1} }`).join(' ')} fragment F30 on Query { viewer { tokenId } }`,
      ),
    outcome: limit(/cost limit|depth limit/i),
  },
  {
    name: 'costly nested connections: books > accounts > journalEntries (100 each)',
    send: () =>
      gql(
        '{ books(first: 100) { edges { node { accounts(first: 100) { edges { node { journalEntries(first: 100) { edges { node { id memo } } } } } } } } } }',
      ),
    outcome: limit(/cost limit of 20000/i),
  },
  {
    name: 'costly nested connections: accounts > children > children (100 each)',
    send: () =>
      gql(
        'query($b: ID!) { accounts(bookId: $b, first: 100) { edges { node { children(first: 100) { edges { node { children(first: 100) { edges { node { code } } } } } } } } } }',
        { b: main.id },
      ),
    outcome: limit(/cost limit/i),
  },
  {
    name: '30 aliases of a 100-entry page with lines and accounts',
    send: () =>
      gql(
        `query($b: ID!) { ${aliases(30, 'journalEntries(bookId: $b, first: 100) { edges { node { id lines { account { code balance { posted } } } } } }')} }`,
        { b: main.id },
      ),
    outcome: limit(/cost limit/i),
  },
  {
    name: 'introspection: __type fields > type > fields nested 4 times',
    send: () => gql(`{ __type(name: "Account") { ${nested('fields { type', 4, 'name')}${' }'.repeat(4)} } }`),
    outcome: rejects('GRAPHQL_VALIDATION_FAILED', { message: /introspection depth/i }),
  },
  {
    name: 'introspection: __schema types > interfaces > possibleTypes nested',
    send: () =>
      gql(`{ __schema { types { ${nested('interfaces { possibleTypes', 3, 'name')}${' }'.repeat(3)} } } }`),
    outcome: rejects('GRAPHQL_VALIDATION_FAILED', { message: /introspection depth/i }),
  },
  {
    name: 'introspection: ofType nested 300 deep',
    send: () => gql(`{ __type(name: "Query") { fields { type { ${nested('ofType', 300, 'name')} } } } }`),
    outcome: limit(/cost limit|depth limit|nesting limit/i),
  },
  {
    name: 'introspection: 31 aliases of __schema',
    send: () => gql(`{ ${aliases(31, '__schema { types { name } }')} }`),
    outcome: limit(/aliases limit/i),
  },
  {
    name: 'introspection: a 100 KB type name',
    send: () => gql('query($n: String!) { __type(name: $n) { name } }', { n: 'x'.repeat(100 * 1024) }),
    outcome: { kind: 'notFound', field: '__type' },
  },
]);

describe('document limits', () => {
  // One row for the code of every limit rejection above.
  it('every limit rejection carries a stable extensions.code', () => {
    expect(limitAnswers.length).toBeGreaterThan(10);
    for (const { name, answer } of limitAnswers) {
      expect(codesOf(answer), `${name}: ${answer.text}\n(a regression of: ${LIMIT_REGRESSION})`).not.toEqual(
        [],
      );
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Scalars
// ---------------------------------------------------------------------------------------------

const amount = (value: unknown, lineAccount = () => main.cash, unit = 'USD') =>
  post({
    lines: [
      { accountId: lineAccount(), side: 'DEBIT', amount: value, unit },
      usd(main.revenue, 'CREDIT', '1.00'),
    ],
  });
const DATE_REGRESSION =
  'DateTime accepted calendar dates that do not exist (Feb 30, Feb 29 of a common year, Apr 31): ' +
  'new Date() rolled them over to the next month, so the ledger stored another date than the client sent';

batch('scalars', () => [
  ...(
    [
      ['a JSON number', 10],
      ['a JSON float', 10.5],
      ['a JSON boolean', true],
      ['a JSON object', { value: '1.00' }],
      ['"1e3"', '1e3'],
      ['"1E-2"', '1E-2'],
      ['"NaN"', 'NaN'],
      ['"Infinity"', 'Infinity'],
      ['"-Infinity"', '-Infinity'],
      ['"-"', '-'],
      ['"."', '.'],
      ['"1."', '1.'],
      ['".5"', '.5'],
      ['"+1"', '+1'],
      ['" 1"', ' 1'],
      ['"1 "', '1 '],
      ['"0x10"', '0x10'],
      ['"1,00"', '1,00'],
      ['"1_000"', '1_000'],
      ['"１" (fullwidth digit)', '１'],
      ['"٣" (Arabic-Indic digit)', '٣'],
      ['"" (empty)', ''],
      ['"00.50" (leading zero)', '00.50'],
      ['"1.0.0"', '1.0.0'],
      ['a 10,000-digit number', '9'.repeat(10_000)],
      ['a 10,000-digit fraction', `0.${'1'.repeat(10_000)}`],
    ] as const
  ).map(([what, value]) => ({
    name: `Decimal amount: ${what}`,
    send: () => amount(value),
    outcome: rejects('INVALID_AMOUNT'),
  })),
  {
    name: 'Decimal amount: 19 integer digits',
    send: () => amount('1000000000000000000'),
    outcome: rejects('INVALID_AMOUNT'),
  },
  {
    name: 'Decimal amount: 60 digits (at the scalar length cap)',
    send: () => amount('9'.repeat(60)),
    outcome: rejects('INVALID_AMOUNT'),
  },
  {
    name: 'Decimal amount: 3 decimals for USD (scale 2)',
    send: () => amount('1.001'),
    outcome: rejects('INVALID_AMOUNT'),
  },
  {
    name: 'Decimal amount: trailing zeros past the scale ("1.000")',
    send: () => amount('1.000'),
    outcome: rejects(['INVALID_AMOUNT']),
  },
  {
    name: 'Decimal amount: 1 decimal for HOUR (scale 0)',
    send: () =>
      post({
        lines: [
          { accountId: main.hours, side: 'DEBIT', amount: '1.5', unit: 'HOUR' },
          { accountId: main.hoursOwed, side: 'CREDIT', amount: '1.5', unit: 'HOUR' },
        ],
      }),
    outcome: rejects('INVALID_AMOUNT'),
  },
  {
    name: 'Decimal amount: negative',
    send: () => post({ lines: [usd(main.cash, 'DEBIT', '-5.00'), usd(main.revenue, 'CREDIT', '-5.00')] }),
    outcome: rejects('INVALID_AMOUNT'),
  },
  {
    name: 'Decimal amount: zero',
    send: () => post({ lines: [usd(main.cash, 'DEBIT', '0.00'), usd(main.revenue, 'CREDIT', '0.00')] }),
    outcome: rejects('INVALID_AMOUNT'),
  },
  {
    name: 'Decimal amount: minus zero',
    send: () => post({ lines: [usd(main.cash, 'DEBIT', '-0'), usd(main.revenue, 'CREDIT', '-0')] }),
    outcome: rejects('INVALID_AMOUNT'),
  },
  {
    name: 'Decimal amount: an inline Int literal',
    send: () =>
      gql(
        `mutation($b: ID!, $c: ID!, $r: ID!) { postJournalEntry(input: { bookId: $b, idempotencyKey: "${newKey()}", lines: [{ accountId: $c, side: DEBIT, amount: 10, unit: "USD" }, { accountId: $r, side: CREDIT, amount: "10.00", unit: "USD" }] }) { ${USER_ERRORS} } }`,
        { b: main.id, c: main.cash, r: main.revenue },
      ),
    outcome: rejects('INVALID_AMOUNT'),
  },
  { name: 'Decimal amount: null', send: () => amount(null), outcome: rejects(undefined, { status: 400 }) },
  {
    name: 'Decimal lowerBound: "abc"',
    send: () =>
      gql(CREATE_ACCOUNT, {
        input: {
          bookId: main.id,
          code: 'bounded-1',
          name: 'b',
          type: 'ASSET',
          unit: 'USD',
          lowerBound: 'abc',
        },
      }),
    outcome: rejects('INVALID_AMOUNT'),
  },
  {
    name: 'Decimal lowerBound: 1e400 as a JSON number',
    send: () =>
      send({
        body: `{"query":${JSON.stringify(CREATE_ACCOUNT)},"variables":{"input":{"bookId":${JSON.stringify(main.id)},"code":"bounded-2","name":"b","type":"ASSET","unit":"USD","lowerBound":1e400}}}`,
      }),
    outcome: rejects('INVALID_AMOUNT'),
  },
  {
    name: 'Decimal lowerBound above zero',
    send: () =>
      gql(CREATE_ACCOUNT, {
        input: {
          bookId: main.id,
          code: 'bounded-3',
          name: 'b',
          type: 'ASSET',
          unit: 'USD',
          lowerBound: '1.00',
        },
      }),
    outcome: rejects('INVALID_INPUT'),
  },
  {
    name: 'Decimal upperBound below zero',
    send: () =>
      gql(CREATE_ACCOUNT, {
        input: {
          bookId: main.id,
          code: 'bounded-4',
          name: 'b',
          type: 'ASSET',
          unit: 'USD',
          upperBound: '-1.00',
        },
      }),
    outcome: rejects('INVALID_INPUT'),
  },
  {
    name: 'Decimal upperBound with more decimals than the unit',
    send: () =>
      gql(CREATE_ACCOUNT, {
        input: {
          bookId: main.id,
          code: 'bounded-5',
          name: 'b',
          type: 'ASSET',
          unit: 'USD',
          upperBound: '10.001',
        },
      }),
    outcome: rejects('INVALID_AMOUNT'),
  },
  ...(
    [
      ['a JSON number', 1_767_225_600_000],
      ['"yesterday"', 'yesterday'],
      ['"2026-13-45T99:99:99Z"', '2026-13-45T99:99:99Z'],
      ['no time zone', '2026-01-01T00:00:00'],
      ['year 99999', '99999-01-01T00:00:00Z'],
      ['an empty string', ''],
      ['a space instead of T', '2026-01-01 00:00:00Z'],
      ['an offset of +25:00', '2026-01-01T00:00:00+25:00'],
      ['10 fractional digits', '2026-01-01T00:00:00.1234567891Z'],
      ['minute 60', '2026-01-01T23:60:00Z'],
      ['day 00', '2026-01-00T00:00:00Z'],
      ['an RFC 2822 date', 'Thu, 01 Jan 2026 00:00:00 GMT'],
      ['a negative year', '-002026-01-01T00:00:00Z'],
    ] as const
  ).map(([what, value]) => ({
    name: `DateTime effectiveAt: ${what}`,
    send: () => post({ effectiveAt: value }),
    // A malformed Date or DateTime is INVALID_DATE (issue 11: one code for both scalars).
    outcome: rejects('INVALID_DATE'),
  })),
  {
    // A plain date is read as 00:00 UTC of the day (issue 11); this one is before the window.
    name: 'DateTime effectiveAt: a plain date, before the backdating window',
    send: () => post({ effectiveAt: '2001-01-01' }),
    outcome: rejects('INVALID_EFFECTIVE_AT'),
  },
  {
    name: 'DateTime effectiveAt: in the future',
    send: () => post({ effectiveAt: '2999-01-01T00:00:00Z' }),
    outcome: rejects('INVALID_EFFECTIVE_AT'),
  },
  {
    name: 'DateTime effectiveAt: before the backdating window',
    send: () => post({ effectiveAt: '1999-01-01T00:00:00Z' }),
    outcome: rejects('INVALID_EFFECTIVE_AT'),
  },
  {
    name: 'DateTime effectiveAt: year 0000',
    send: () => post({ effectiveAt: '0000-01-01T00:00:00Z' }),
    outcome: rejects('INVALID_EFFECTIVE_AT'),
  },
  {
    // The odd book allows 100 years of backdating, so only the calendar can refuse this date.
    name: 'DateTime effectiveAt: February 30',
    send: () => post({ effectiveAt: '2024-02-30T12:00:00Z' }, odd.misc),
    outcome: rejects('INVALID_DATE'),
    regression: DATE_REGRESSION,
  },
  {
    name: 'DateTime asOf: February 29 of a common year (read)',
    send: () =>
      gql('query($a: ID!) { accountBalance(accountId: $a, asOf: "2025-02-29T00:00:00Z") { posted } }', {
        a: main.cash,
      }),
    outcome: rejects('INVALID_DATE'),
    regression: DATE_REGRESSION,
  },
  {
    name: 'DateTime expiresAt: in the past',
    send: () => sendEntry('postPendingEntry', main, { expiresAt: '2001-01-01T00:00:00Z' }),
    outcome: rejects('INVALID_INPUT'),
  },
  {
    name: 'DateTime expiresAt: 400 days ahead',
    send: () =>
      sendEntry('postPendingEntry', main, {
        expiresAt: new Date(Date.now() + 400 * 86_400_000).toISOString(),
      }),
    outcome: rejects('INVALID_INPUT'),
  },
  {
    name: 'DateTime asOf: an inline Int literal',
    send: () => gql('query($a: ID!) { accountBalance(accountId: $a, asOf: 5) { posted } }', { a: main.cash }),
    outcome: rejects('INVALID_DATE'),
  },
  {
    name: 'DateTime from: garbage (journalEntries)',
    send: () =>
      gql('query($b: ID!) { journalEntries(bookId: $b, from: "last tuesday") { edges { cursor } } }', {
        b: main.id,
      }),
    outcome: rejects('INVALID_DATE'),
  },
  {
    name: 'DateTime asOf: an object (trialBalance)',
    send: () =>
      gql('query($b: ID!, $d: DateTime) { trialBalance(bookId: $b, asOf: $d) { balanced } }', {
        b: main.id,
        d: { year: 2026 },
      }),
    outcome: rejects('INVALID_DATE'),
  },
  {
    name: 'DateTime expiresAt of a token: in the past',
    send: () =>
      gql(ISSUE_TOKEN, {
        input: {
          principalName: 'p',
          grants: [{ role: 'CITY_ANALYST', scope: 'c' }],
          expiresAt: '2001-01-01T00:00:00Z',
        },
      }),
    outcome: rejects('INVALID_INPUT'),
  },
]);

// ---------------------------------------------------------------------------------------------
// Domain
// ---------------------------------------------------------------------------------------------

const randomUuid = '0190f7a4-1111-7222-8333-944455556666';
const REVOKE_REGRESSION =
  'revokeApiToken passed a tokenId matching /^[0-9a-f-]{36}$/ (e.g. 36 dashes, or 36 hex digits) to PostgreSQL as a ' +
  'uuid, which refused it: INTERNAL_SERVER_ERROR instead of INVALID_INPUT "no such token"';
const OVERFLOW_REGRESSION =
  'posting past the NUMERIC(38,18) range of an account total (each amount is within the 18 integer digits ' +
  'allowed) failed in PostgreSQL with "numeric field overflow": INTERNAL_SERVER_ERROR instead of a clear rejection';

function unknownAccountIds(): [string, () => string][] {
  return [
    ['a random string', () => 'no-such-account'],
    ['base64 of binary garbage', () => Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x00, 0xff]).toString('base64')],
    ['a Book id (wrong type)', () => main.id],
    ['a JournalEntry id (wrong type)', () => main.e1.id],
    ['an empty string', () => ''],
    ['a 10 KB id', () => 'A'.repeat(10 * 1024)],
    ['Account:<book>:<not a uuid>', () => encodeGlobalId('Account', `${main.raw}:not-a-uuid`)],
    ['Account:<book>:<random uuid>', () => encodeGlobalId('Account', `${main.raw}:${randomUuid}`)],
    ['Account:<book>:<uuid>:<extra>', () => encodeGlobalId('Account', `${main.raw}:${randomUuid}:x`)],
    ['an account of another book', () => odd.misc.cash],
  ];
}

batch('domain', () => [
  ...unknownAccountIds().map(([what, id]) => ({
    name: `unknown accountId in a line: ${what}`,
    send: () => post({ lines: [usd(id(), 'DEBIT', '1.00'), usd(main.revenue, 'CREDIT', '1.00')] }),
    outcome: rejects('UNKNOWN_ACCOUNT'),
  })),
  ...(
    [
      ['a random string', () => 'no-such-book'],
      ['an Account id (wrong type)', () => main.cash],
      ['an empty string', () => ''],
      ['Book:<random uuid>', () => encodeGlobalId('Book', randomUuid)],
      ['Book:<not a uuid>', () => encodeGlobalId('Book', "1' or '1'='1")],
      ['a 10 KB id', () => 'B'.repeat(10 * 1024)],
    ] as const
  ).map(([what, id]) => ({
    name: `unknown bookId: ${what}`,
    send: () => post({ bookId: id() }),
    outcome: rejects('UNKNOWN_BOOK'),
  })),
  {
    name: 'unknown bookId in createAccount',
    send: () =>
      gql(CREATE_ACCOUNT, {
        input: {
          bookId: encodeGlobalId('Book', randomUuid),
          code: 'x',
          name: 'x',
          type: 'ASSET',
          unit: 'USD',
        },
      }),
    outcome: rejects('UNKNOWN_BOOK'),
  },
  {
    name: 'unknown entryId to reverse: a random string',
    send: () => gql(REVERSE, { input: { entryId: 'nope', idempotencyKey: newKey() } }),
    outcome: rejects('UNKNOWN_ENTRY'),
  },
  {
    name: 'unknown entryId to reverse: an Account id',
    send: () => gql(REVERSE, { input: { entryId: main.cash, idempotencyKey: newKey() } }),
    outcome: rejects('UNKNOWN_ENTRY'),
  },
  {
    name: 'unknown entryId to commit: empty',
    send: () => gql(COMMIT, { input: { entryId: '', idempotencyKey: newKey() } }),
    outcome: rejects('UNKNOWN_ENTRY'),
  },
  {
    name: 'unknown entryId to void: JournalEntry:<book>:<random uuid>',
    send: () =>
      gql(VOID, {
        input: {
          entryId: encodeGlobalId('JournalEntry', `${main.raw}:${randomUuid}`),
          idempotencyKey: newKey(),
        },
      }),
    outcome: rejects('UNKNOWN_ENTRY'),
  },
  {
    name: 'unknown entryId to commit: an entry of another book under this book',
    send: () =>
      gql(COMMIT, {
        input: {
          entryId: encodeGlobalId('JournalEntry', `${odd.misc.raw}:${decodeGlobalId(main.p1).id}`),
          idempotencyKey: newKey(),
        },
      }),
    outcome: rejects('UNKNOWN_ENTRY'),
  },
  {
    name: 'closeAccount: an unknown account',
    send: () =>
      gql(CLOSE_ACCOUNT, { input: { accountId: encodeGlobalId('Account', `${main.raw}:${randomUuid}`) } }),
    outcome: rejects('UNKNOWN_ACCOUNT'),
  },
  {
    name: 'createAccount: a parent of another book',
    send: () =>
      gql(CREATE_ACCOUNT, {
        input: {
          bookId: main.id,
          code: 'child-1',
          name: 'c',
          type: 'ASSET',
          unit: 'USD',
          parentId: odd.misc.cash,
        },
      }),
    outcome: rejects('INVALID_PARENT'),
  },
  {
    name: 'createAccount: a parent in another unit',
    send: () =>
      gql(CREATE_ACCOUNT, {
        input: {
          bookId: main.id,
          code: 'child-2',
          name: 'c',
          type: 'ASSET',
          unit: 'USD',
          parentId: main.hours,
        },
      }),
    outcome: rejects('INVALID_PARENT'),
  },
  {
    name: 'revokeApiToken: a random uuid',
    send: () => gql(REVOKE_TOKEN, { input: { tokenId: randomUuid } }),
    outcome: rejects('INVALID_INPUT'),
  },
  {
    name: 'revokeApiToken: 36 dashes',
    send: () => gql(REVOKE_TOKEN, { input: { tokenId: '-'.repeat(36) } }),
    outcome: rejects('INVALID_INPUT'),
    regression: REVOKE_REGRESSION,
  },
  {
    name: 'revokeApiToken: 36 hex digits',
    send: () => gql(REVOKE_TOKEN, { input: { tokenId: '0123456789abcdef'.repeat(3).slice(0, 36) } }),
    outcome: rejects('INVALID_INPUT'),
    regression: REVOKE_REGRESSION,
  },
  // Reads of what does not exist answer null (the documented not-found, the same for a tenant's
  // neighbour), never an error that says more.
  {
    name: 'node(id): base64 garbage (null)',
    send: () =>
      gql('query($id: ID!) { node(id: $id) { id } }', {
        id: Buffer.from('\u0000\u0001garbage').toString('base64'),
      }),
    outcome: { kind: 'notFound', field: 'node' },
  },
  {
    name: 'book(id): a 10 KB id (null)',
    send: () => gql('query($id: ID!) { book(id: $id) { id } }', { id: 'C'.repeat(10 * 1024) }),
    outcome: { kind: 'notFound', field: 'book' },
  },
  {
    name: 'account(id): an empty id (null)',
    send: () => gql('query($id: ID!) { account(id: $id) { id } }', { id: '' }),
    outcome: { kind: 'notFound', field: 'account' },
  },
  {
    name: 'journalEntry(id): a Book id (null)',
    send: () => gql('query($id: ID!) { journalEntry(id: $id) { id } }', { id: main.id }),
    outcome: { kind: 'notFound', field: 'journalEntry' },
  },
  {
    name: 'verifyBookChain: an injection string (null)',
    send: () =>
      gql('query($id: ID!) { verifyBookChain(bookId: $id) { ok } }', { id: "'; drop table book; --" }),
    outcome: { kind: 'notFound', field: 'verifyBookChain' },
  },
  // Lines and batches.
  {
    name: '101 lines',
    send: () =>
      post({
        lines: [
          ...Array.from({ length: 100 }, () => usd(main.cash, 'DEBIT', '1.00')),
          usd(main.revenue, 'CREDIT', '100.00'),
        ],
      }),
    outcome: rejects('INVALID_INPUT'),
  },
  {
    name: 'one line',
    send: () => post({ lines: [usd(main.cash, 'DEBIT', '1.00')] }),
    outcome: rejects('INVALID_INPUT'),
  },
  { name: 'no lines', send: () => post({ lines: [] }), outcome: rejects('INVALID_INPUT') },
  {
    name: '5,000 lines (under the body limit)',
    send: () => {
      const lines = Array.from({ length: 5000 }, (_, i) =>
        usd(i % 2 ? main.revenue : main.cash, i % 2 ? 'CREDIT' : 'DEBIT', '1.00'),
      );
      const body = JSON.stringify({
        query: POST_ENTRY,
        variables: { input: { bookId: main.id, ...entryInput(main, { lines }) } },
      });
      expect(Buffer.byteLength(body)).toBeLessThan(DEFAULT_BODY_LIMIT_BYTES);
      return send({ body });
    },
    outcome: rejects('INVALID_INPUT'),
  },
  {
    // About 300 KB: under the 1 MiB body limit, so the resolver answers (BATCH_TOO_LARGE) rather
    // than the HTTP layer (413, which a batch larger than 1 MiB would get first).
    name: '1001 batch entries: BATCH_TOO_LARGE (the body is under 1 MiB)',
    send: () => {
      const entries = Array.from({ length: 1001 }, () => entryInput(main));
      const body = JSON.stringify({
        query: POST_ENTRIES,
        variables: { input: { bookId: main.id, mode: 'INDEPENDENT', entries } },
      });
      expect(Buffer.byteLength(body)).toBeLessThan(DEFAULT_BODY_LIMIT_BYTES);
      return send({ body });
    },
    outcome: rejects('BATCH_TOO_LARGE'),
  },
  {
    name: '5000 batch entries: 413 (the body is over 1 MiB)',
    send: () => {
      const entries = Array.from({ length: 5000 }, () => entryInput(main));
      const body = JSON.stringify({
        query: POST_ENTRIES,
        variables: { input: { bookId: main.id, mode: 'INDEPENDENT', entries } },
      });
      expect(Buffer.byteLength(body)).toBeGreaterThan(DEFAULT_BODY_LIMIT_BYTES);
      return send({ body });
    },
    outcome: rejects('PAYLOAD_TOO_LARGE', { status: 413 }),
  },
  {
    name: 'a batch of no entries',
    send: () => gql(POST_ENTRIES, { input: { bookId: main.id, mode: 'ATOMIC', entries: [] } }),
    outcome: rejects('INVALID_INPUT'),
  },
  {
    name: 'an ATOMIC batch with one unbalanced entry among valid ones',
    send: () =>
      gql(POST_ENTRIES, {
        input: {
          bookId: main.id,
          mode: 'ATOMIC',
          entries: [
            entryInput(main),
            entryInput(main, {
              lines: [usd(main.cash, 'DEBIT', '2.00'), usd(main.revenue, 'CREDIT', '1.00')],
            }),
            entryInput(main),
          ],
        },
      }),
    outcome: rejects('UNBALANCED_ENTRY'),
  },
  {
    name: 'a batch with the same idempotencyKey twice and different lines',
    send: () => {
      const key = newKey('twice');
      return gql(POST_ENTRIES, {
        input: {
          bookId: main.id,
          mode: 'ATOMIC',
          entries: [
            entryInput(main, { idempotencyKey: key }),
            entryInput(main, {
              idempotencyKey: key,
              lines: [usd(main.cash, 'DEBIT', '2.00'), usd(main.revenue, 'CREDIT', '2.00')],
            }),
          ],
        },
      });
    },
    outcome: rejects(['IDEMPOTENCY_KEY_REUSED', 'BATCH_ITEM_FAILED']),
  },
  {
    name: 'unbalanced',
    send: () => post({ lines: [usd(main.cash, 'DEBIT', '10.00'), usd(main.revenue, 'CREDIT', '9.99')] }),
    outcome: rejects('UNBALANCED_ENTRY'),
  },
  {
    name: 'balanced in total but not per unit (USD against HOUR)',
    send: () =>
      post({
        lines: [
          usd(main.cash, 'DEBIT', '8'),
          { accountId: main.hoursOwed, side: 'CREDIT', amount: '8', unit: 'HOUR' },
        ],
      }),
    outcome: rejects('UNBALANCED_ENTRY'),
  },
  {
    name: 'all lines on one side',
    send: () => post({ lines: [usd(main.cash, 'DEBIT', '1.00'), usd(main.revenue, 'DEBIT', '1.00')] }),
    outcome: rejects('UNBALANCED_ENTRY'),
  },
  {
    name: 'wrong unit: USD on an HOUR account',
    send: () => post({ lines: [usd(main.hours, 'DEBIT', '1.00'), usd(main.revenue, 'CREDIT', '1.00')] }),
    outcome: rejects('UNIT_MISMATCH'),
  },
  {
    name: 'wrong unit: lower-case usd',
    send: () =>
      post({
        lines: [{ ...usd(main.cash, 'DEBIT', '1.00'), unit: 'usd' }, usd(main.revenue, 'CREDIT', '1.00')],
      }),
    outcome: rejects('UNIT_MISMATCH'),
  },
  {
    name: 'a line on a closed account',
    send: () => post({ lines: [usd(main.closed, 'DEBIT', '1.00'), usd(main.revenue, 'CREDIT', '1.00')] }),
    outcome: rejects('ACCOUNT_CLOSED'),
  },
  {
    name: 'past the lower bound of an account',
    send: () => post({ lines: [usd(main.cash, 'CREDIT', '1000.00'), usd(main.revenue, 'DEBIT', '1000.00')] }),
    outcome: rejects('BALANCE_BOUND_EXCEEDED'),
  },
  {
    name: 'metadata: 51 keys',
    send: () => post({ metadata: Array.from({ length: 51 }, (_, i) => ({ key: `k${i}`, value: 'v' })) }),
    outcome: rejects('INVALID_METADATA'),
  },
  {
    name: 'metadata: a 41-character key',
    send: () => post({ metadata: [{ key: 'k'.repeat(41), value: 'v' }] }),
    outcome: rejects('INVALID_METADATA'),
  },
  {
    name: 'metadata: a 501-character value',
    send: () => post({ metadata: [{ key: 'k', value: 'v'.repeat(501) }] }),
    outcome: rejects('INVALID_METADATA'),
  },
  {
    name: 'metadata: a key twice',
    send: () =>
      post({
        metadata: [
          { key: 'k', value: '1' },
          { key: 'k', value: '2' },
        ],
      }),
    outcome: rejects('INVALID_METADATA'),
  },
  {
    name: 'metadata: an empty key',
    send: () => post({ metadata: [{ key: '', value: 'v' }] }),
    outcome: rejects('INVALID_METADATA'),
  },
  {
    name: 'metadata: 10,000 pairs',
    send: () => post({ metadata: Array.from({ length: 10_000 }, (_, i) => ({ key: `k${i}`, value: 'v' })) }),
    outcome: rejects('INVALID_METADATA'),
  },
  {
    name: 'metadata: a pair without a value',
    send: () => post({ metadata: [{ key: 'k' }] }),
    outcome: rejects(undefined, { status: 400 }),
  },
  {
    name: 'metadata: keys that are Object.prototype names (accepted, read back)',
    send: () =>
      post(
        {
          metadata: ['__proto__', 'constructor', 'toString', 'hasOwnProperty'].map((key) => ({
            key,
            value: `v-${key}`,
          })),
        },
        odd.misc,
      ),
    outcome: accepts((a) =>
      expectEntryReadsBack(a, {
        metadata: ['__proto__', 'constructor', 'toString', 'hasOwnProperty'].map((key) => ({
          key,
          value: `v-${key}`,
        })),
      }),
    ),
  },
  {
    name: 'memo: 1001 characters',
    send: () => post({ memo: 'm'.repeat(1001) }),
    outcome: rejects('INVALID_INPUT'),
  },
  {
    name: 'memo: 501 emoji (1002 UTF-16 units)',
    send: () => post({ memo: '💸'.repeat(501) }),
    outcome: rejects('INVALID_INPUT'),
  },
  ...(
    [
      ['empty', ''],
      ['129 characters', 'k'.repeat(129)],
      ['with spaces', 'my key'],
      ['unicode', 'clé-🔑'],
      ['a NUL', 'key\u0000'],
      ['a tab', 'key\t1'],
      ['a newline', 'key\n'],
      ['DEL (0x7f)', 'key\u007f'],
      ['a non-breaking space', 'key\u00a0x'],
    ] as const
  ).map(([what, key]) => ({
    name: `idempotencyKey: ${what}`,
    send: () => post({ idempotencyKey: key }),
    outcome: rejects(['INVALID_IDEMPOTENCY_KEY', ...(key.includes('\u0000') ? ['INVALID_INPUT'] : [])]),
  })),
  {
    name: 'idempotencyKey: reused with different lines',
    send: () =>
      post({
        idempotencyKey: main.e1.key,
        lines: [usd(main.cash, 'DEBIT', '99.00'), usd(main.revenue, 'CREDIT', '99.00')],
      }),
    outcome: rejects('IDEMPOTENCY_KEY_REUSED'),
  },
  {
    name: 'idempotencyKey: an entry key reused by a reversal',
    send: () => gql(REVERSE, { input: { entryId: main.e1.id, idempotencyKey: main.e1.key } }),
    outcome: rejects('IDEMPOTENCY_KEY_REUSED'),
  },
  {
    name: 'reverse: an entry already reversed',
    send: () => gql(REVERSE, { input: { entryId: main.e2, idempotencyKey: newKey() } }),
    outcome: rejects('ALREADY_REVERSED'),
  },
  {
    name: 'reverse: a pending entry',
    send: () => gql(REVERSE, { input: { entryId: main.p1, idempotencyKey: newKey() } }),
    outcome: rejects('NOT_REVERSIBLE'),
  },
  {
    name: 'reverse: a void',
    send: () => gql(REVERSE, { input: { entryId: main.v2, idempotencyKey: newKey() } }),
    outcome: rejects('NOT_REVERSIBLE'),
  },
  {
    name: 'commit: a posted entry',
    send: () => gql(COMMIT, { input: { entryId: main.e1.id, idempotencyKey: newKey() } }),
    outcome: rejects('NOT_PENDING'),
  },
  {
    name: 'void: a reversal',
    send: () => gql(VOID, { input: { entryId: main.r2, idempotencyKey: newKey() } }),
    outcome: rejects('NOT_PENDING'),
  },
  {
    name: 'commit: a voided pending entry',
    send: () => gql(COMMIT, { input: { entryId: main.p2, idempotencyKey: newKey() } }),
    outcome: rejects('PENDING_ALREADY_RESOLVED'),
  },
  {
    name: 'reverse: effectiveAt before the window',
    send: () =>
      gql(REVERSE, {
        input: { entryId: main.e1.id, idempotencyKey: newKey(), effectiveAt: '1990-01-01T00:00:00Z' },
      }),
    outcome: rejects('INVALID_EFFECTIVE_AT'),
  },
  {
    name: 'closeAccount: an account with a balance',
    send: () => gql(CLOSE_ACCOUNT, { input: { accountId: main.cash } }),
    outcome: rejects('ACCOUNT_NOT_EMPTY'),
  },
  {
    name: 'createAccount: a duplicate code',
    send: () =>
      gql(CREATE_ACCOUNT, {
        input: { bookId: main.id, code: 'cash', name: 'again', type: 'ASSET', unit: 'USD' },
      }),
    outcome: rejects('DUPLICATE_CODE'),
  },
  {
    name: 'createAccount: a 65-character code',
    send: () =>
      gql(CREATE_ACCOUNT, {
        input: { bookId: main.id, code: 'c'.repeat(65), name: 'c', type: 'ASSET', unit: 'USD' },
      }),
    outcome: rejects('INVALID_INPUT'),
  },
  {
    name: 'createAccount: a unit the book does not hold',
    send: () =>
      gql(CREATE_ACCOUNT, {
        input: { bookId: main.id, code: 'eur', name: 'eur', type: 'ASSET', unit: 'EUR' },
      }),
    outcome: rejects('UNKNOWN_UNIT'),
  },
  {
    name: 'createAccount: an unknown type',
    send: () =>
      gql(CREATE_ACCOUNT, {
        input: { bookId: main.id, code: 'weird', name: 'w', type: 'CASH', unit: 'USD' },
      }),
    outcome: rejects(undefined, { status: 400 }),
  },
  {
    name: 'createAccount: a name of spaces only',
    send: () =>
      gql(CREATE_ACCOUNT, {
        input: { bookId: main.id, code: 'blank', name: '   ', type: 'ASSET', unit: 'USD' },
      }),
    outcome: rejects('INVALID_INPUT'),
  },
  ...(
    [
      ['no units', { units: [] }, 'INVALID_UNIT'],
      [
        '51 units',
        {
          units: Array.from({ length: 51 }, (_, i) => ({ code: `U${String(i).padStart(2, '0')}`, scale: 0 })),
        },
        'INVALID_UNIT',
      ],
      ['scale 19', { units: [{ code: 'USD', scale: 19 }] }, 'INVALID_UNIT'],
      ['scale -1', { units: [{ code: 'USD', scale: -1 }] }, 'INVALID_UNIT'],
      [
        'a unit twice',
        {
          units: [
            { code: 'USD', scale: 2 },
            { code: 'USD', scale: 2 },
          ],
        },
        'INVALID_UNIT',
      ],
      ['a lower-case unit', { units: [{ code: 'usd', scale: 2 }] }, 'INVALID_UNIT'],
      ['maxBackdateDays 36601', { maxBackdateDays: 36_601 }, 'INVALID_INPUT'],
      ['maxBackdateDays -1', { maxBackdateDays: -1 }, 'INVALID_INPUT'],
      ['an empty name', { name: '' }, 'INVALID_INPUT'],
      ['a name of whitespace', { name: ' \t\n ' }, 'INVALID_INPUT'],
      ['a 201-character name', { name: 'n'.repeat(201) }, 'INVALID_INPUT'],
      ['a 2001-character description', { description: 'd'.repeat(2001) }, 'INVALID_INPUT'],
    ] as const
  ).map(([what, input, code]) => ({
    name: `createBook: ${what}`,
    send: () =>
      gql(CREATE_BOOK, {
        input: { name: 'bad-input refused book', units: [{ code: 'USD', scale: 2 }], ...input },
      }),
    outcome: rejects(code),
  })),
  ...(
    [
      ['no grants', { grants: [] }],
      ['ADMIN with a scope', { grants: [{ role: 'ADMIN', scope: 'x' }] }],
      ['TREASURER of an Account id', { grants: [{ role: 'TREASURER', scope: 'QWNjb3VudDp4Ong=' }] }],
      ['MEMBER of a Book id', { grants: [{ role: 'MEMBER', scope: encodeGlobalId('Book', randomUuid) }] }],
      ['CITY_ANALYST of an empty city', { grants: [{ role: 'CITY_ANALYST', scope: '' }] }],
      [
        '101 grants',
        { grants: Array.from({ length: 101 }, (_, i) => ({ role: 'CITY_ANALYST', scope: `city ${i}` })) },
      ],
      ['an empty principalName', { principalName: '' }],
      ['a 201-character principalName', { principalName: 'p'.repeat(201) }],
    ] as const
  ).map(([what, input]) => ({
    name: `issueApiToken: ${what}`,
    send: () =>
      gql(ISSUE_TOKEN, {
        input: {
          principalName: 'bad-input refused',
          grants: [{ role: 'CITY_ANALYST', scope: 'c' }],
          ...input,
        },
      }),
    outcome: rejects('INVALID_INPUT'),
  })),
  {
    // Two entries of 50 x 999,999,999,999,999,999.99 fill the cash total to 99,999,999,999,999,999,999.00
    // (20 integer digits, the most NUMERIC(38,18) holds); a third must be refused, and the book unchanged.
    name: 'account totals past NUMERIC(38,18): refused, nothing changed',
    send: async () => {
      const book = await setUpBook('bad-input overflow');
      extraBooks.push(book.raw);
      const big = '999999999999999999.99';
      const lines = [
        ...Array.from({ length: 50 }, () => usd(book.cash, 'DEBIT', big)),
        ...Array.from({ length: 50 }, () => usd(book.revenue, 'CREDIT', big)),
      ];
      for (let i = 0; i < 2; i++) await postOk(book.id, lines);
      const before = await checksum(book.raw);
      const answer = await post({ lines }, book);
      expect(await checksum(book.raw)).toEqual(before);
      return answer;
    },
    outcome: rejects(['INVALID_AMOUNT', 'BALANCE_BOUND_EXCEEDED', 'INVALID_INPUT']),
    regression: OVERFLOW_REGRESSION,
  },
]);

// ---------------------------------------------------------------------------------------------
// Injection strings
// ---------------------------------------------------------------------------------------------

batch('injection strings: postJournalEntry', () => injectionCases(entryFieldSpecs('postJournalEntry')));
batch('injection strings: postJournalEntries', () => injectionCases(entryFieldSpecs('postJournalEntries')));
batch('injection strings: postPendingEntry', () => injectionCases(entryFieldSpecs('postPendingEntry')));
batch('injection strings: reverseJournalEntry', () => injectionCases(refFieldSpecs('reverseJournalEntry')));
batch('injection strings: commitPendingEntry', () => injectionCases(refFieldSpecs('commitPendingEntry')));
batch('injection strings: voidPendingEntry', () => injectionCases(refFieldSpecs('voidPendingEntry')));
batch('injection strings: createBook', () => injectionCases(bookFieldSpecs()));
batch('injection strings: createAccount and closeAccount', () => injectionCases(accountFieldSpecs()));
batch('injection strings: issueApiToken and revokeApiToken', () => injectionCases(tokenFieldSpecs()));

// ---------------------------------------------------------------------------------------------
// After the whole suite
// ---------------------------------------------------------------------------------------------

describe('after the whole suite', () => {
  it('left the main book exactly as it was (entries, hashes, lines, account totals, pending)', async () => {
    expect(await checksum(main.raw)).toEqual(mainChecksumBefore);
  });

  it('keeps every hash chain whole and every stored total equal to its lines', async () => {
    const books = [main.raw, ...ODD_FAMILIES.map((f) => odd[f].raw), ...extraBooks];
    for (const raw of books) {
      const data = await read(
        'query($b: ID!) { verifyBookChain(bookId: $b) { ok entriesChecked firstMismatch { reason } } }',
        {
          b: encodeGlobalId('Book', raw),
        },
      );
      expect(data.verifyBookChain, raw).toMatchObject({ ok: true, firstMismatch: null });
      const consistency = await server.services.ledger.checkConsistency(raw);
      expect(consistency.mismatches, raw).toEqual([]);
      expect(consistency.ok, raw).toBe(true);
    }
  });

  it('wrote nothing to the accepting books that no answer reported', async () => {
    for (const family of ODD_FAMILIES) {
      const { rows } = await db.query<{ id: string }>(
        'select id from journal_entry where book_id = $1 order by id',
        [odd[family].raw],
      );
      expect(
        rows.map((r) => r.id),
        family,
      ).toEqual([...(reportedEntries.get(odd[family].raw) ?? [])].sort());
    }
  });

  it('still has every ledger table, and revokes the tokens the accepted rows issued', async () => {
    const { rows } = await db.query<{ name: string | null }>(
      `select to_regclass(t)::text as name from unnest(array['book', 'book_unit', 'account', 'journal_entry', 'journal_line', 'account_day_total', 'pending_open', 'principal', 'api_token', 'role_grant']) as t`,
    );
    expect(rows.every((r) => r.name !== null)).toBe(true);
    for (const tokenId of issuedTokens) {
      const answer = await gql(REVOKE_TOKEN, { input: { tokenId } });
      expect(answer.json?.data?.revokeApiToken, answer.text).toMatchObject({ userErrors: [] });
    }
    await expectHealthy();
  });
});
