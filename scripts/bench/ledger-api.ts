/**
 * The GraphQL documents the benchmark sends, the request bodies it builds, and the checks that
 * decide whether an answer counts as a success. Shared by the orchestrator (setup) and the load
 * worker (load), so both speak the same API.
 */
import { createHash } from 'node:crypto';
import type { LoadWorkerConfig } from './load-worker.js';

export const CREATE_BOOK = `mutation BenchCreateBook($input: CreateBookInput!) {
  createBook(input: $input) { book { id } userErrors { code message field } }
}`;

export const CREATE_ACCOUNT = `mutation BenchCreateAccount($input: CreateAccountInput!) {
  createAccount(input: $input) { account { id } userErrors { code message field } }
}`;

export const POST_ENTRY = `mutation BenchPost($input: PostJournalEntryInput!) {
  postJournalEntry(input: $input) { entry { id } replayed userErrors { code message field } }
}`;

export const POST_ENTRIES = `mutation BenchPostMany($input: PostJournalEntriesInput!) {
  postJournalEntries(input: $input) {
    postedCount
    userErrors { code message field }
    results { index replayed entry { id } userErrors { code } }
  }
}`;

/**
 * The id a persisted document is sent by (`{"documentId": ...}`): `sha256:` and the SHA-256 of its
 * text. The bench hands the service a manifest of its documents (PERSISTED_DOCUMENTS_FILE).
 */
export function documentIdOf(text: string): string {
  return `sha256:${createHash('sha256').update(text).digest('hex')}`;
}

/** The bench's documents as a persisted-documents manifest. */
export function benchManifest(): Record<string, string> {
  return Object.fromEntries([POST_ENTRY, POST_ENTRIES].map((text) => [documentIdOf(text), text]));
}

/** The request body's document: its id (persisted) or its text. */
function documentOf(text: string, persisted: boolean): Record<string, string> {
  return persisted ? { documentId: documentIdOf(text) } : { query: text };
}

export interface LineInput {
  accountId: string;
  side: 'DEBIT' | 'CREDIT';
  amount: string;
  unit: string;
}

export interface EntryShape {
  /** Global ids of every account entries may use. */
  accountIds: string[];
  /** Hot scenario: this account is on one side of every entry; undefined for spread. */
  hotAccountId?: string;
  unit: string;
}

/** A random amount between 1.00 and 100.00, written with scale 2. */
export function randomAmount(): string {
  const cents = 100 + Math.floor(Math.random() * 9901);
  return `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`;
}

/**
 * Two lines moving one amount between two different accounts: both random (spread), or the hot
 * account on a random side and a random other account on the other (hot).
 */
export function randomLines(shape: EntryShape): LineInput[] {
  const { accountIds, hotAccountId, unit } = shape;
  const pick = () => accountIds[Math.floor(Math.random() * accountIds.length)]!;
  const first = hotAccountId ?? pick();
  let second = pick();
  while (second === first) second = pick();
  const amount = randomAmount();
  const hotSide: LineInput['side'] = Math.random() < 0.5 ? 'DEBIT' : 'CREDIT';
  const otherSide: LineInput['side'] = hotSide === 'DEBIT' ? 'CREDIT' : 'DEBIT';
  return [
    { accountId: first, side: hotSide, amount, unit },
    { accountId: second, side: otherSide, amount, unit },
  ];
}

export function singleEntryBody(
  bookId: string,
  idempotencyKey: string,
  shape: EntryShape,
  persisted = false,
): string {
  return JSON.stringify({
    ...documentOf(POST_ENTRY, persisted),
    operationName: 'BenchPost',
    variables: { input: { bookId, idempotencyKey, lines: randomLines(shape) } },
  });
}

export function batchBody(
  bookId: string,
  keyPrefix: string,
  size: number,
  shape: EntryShape,
  persisted = false,
): string {
  const entries = [];
  for (let i = 0; i < size; i += 1)
    entries.push({ idempotencyKey: `${keyPrefix}.${i}`, lines: randomLines(shape) });
  return JSON.stringify({
    ...documentOf(POST_ENTRIES, persisted),
    operationName: 'BenchPostMany',
    variables: { input: { bookId, mode: 'INDEPENDENT', entries } },
  });
}

/** What one HTTP answer contributed. */
export interface Verdict {
  /** The request fully succeeded (every entry posted, no error of any kind). */
  ok: boolean;
  /** Entries this answer says were newly posted (for checking against the database). */
  posted: number;
  /** Why it did not fully succeed, short, for the report. */
  problem?: string;
}

interface GraphQLAnswer<T> {
  data?: T | null;
  errors?: { message?: string; extensions?: { code?: string } }[];
}

interface UserError {
  code: string;
  message?: string;
  field?: string | null;
}

function parse<T>(status: number, body: string): GraphQLAnswer<T> | Verdict {
  if (status < 200 || status >= 300)
    return { ok: false, posted: 0, problem: `HTTP ${status}: ${body.slice(0, 160)}` };
  try {
    const answer = JSON.parse(body) as GraphQLAnswer<T>;
    if (answer.errors && answer.errors.length > 0) {
      const first = answer.errors[0]!;
      return {
        ok: false,
        posted: 0,
        problem: `GraphQL error ${first.extensions?.code ?? ''}: ${first.message ?? ''}`,
      };
    }
    return answer;
  } catch {
    return { ok: false, posted: 0, problem: `unparsable body: ${body.slice(0, 160)}` };
  }
}

const userErrorText = (errors: UserError[]) =>
  `userErrors ${errors.map((e) => `${e.code}${e.field ? `@${e.field}` : ''}${e.message ? ` (${e.message})` : ''}`).join(', ')}`;

export function judgeSingle(status: number, body: string): Verdict {
  const answer = parse<{
    postJournalEntry: { entry: { id: string } | null; replayed: boolean; userErrors: UserError[] } | null;
  }>(status, body);
  if ('ok' in answer) return answer;
  const payload = answer.data?.postJournalEntry;
  if (!payload) return { ok: false, posted: 0, problem: 'no postJournalEntry payload' };
  if (payload.userErrors.length > 0)
    return { ok: false, posted: 0, problem: userErrorText(payload.userErrors) };
  if (!payload.entry?.id) return { ok: false, posted: 0, problem: 'no entry id and no userErrors' };
  // A replay would mean the bench sent a key twice: the entry was not posted by this request.
  if (payload.replayed) return { ok: false, posted: 0, problem: 'replayed (idempotency key sent twice)' };
  return { ok: true, posted: 1 };
}

export function judgeBatch(status: number, body: string, size: number): Verdict {
  const answer = parse<{
    postJournalEntries: {
      postedCount: number;
      userErrors: UserError[];
      results: {
        index: number;
        replayed: boolean;
        entry: { id: string } | null;
        userErrors: { code: string }[];
      }[];
    } | null;
  }>(status, body);
  if ('ok' in answer) return answer;
  const payload = answer.data?.postJournalEntries;
  if (!payload) return { ok: false, posted: 0, problem: 'no postJournalEntries payload' };
  const posted = payload.postedCount;
  if (payload.userErrors.length > 0) return { ok: false, posted, problem: userErrorText(payload.userErrors) };
  if (posted !== size) {
    const codes = new Set(payload.results.flatMap((r) => r.userErrors.map((e) => e.code)));
    return {
      ok: false,
      posted,
      problem: `postedCount ${posted} of ${size}; entry errors: ${[...codes].join(', ')}`,
    };
  }
  const withIds = payload.results.filter(
    (r) => r.entry?.id && r.userErrors.length === 0 && !r.replayed,
  ).length;
  if (withIds !== size)
    return { ok: false, posted, problem: `postedCount ${size} but ${withIds} results with an entry id` };
  return { ok: true, posted };
}

/** One GraphQL call with the bench's ADMIN token: its data, or an error with what went wrong. */
async function call<T>(
  url: string,
  token: string,
  query: string,
  variables: Record<string, unknown>,
): Promise<T> {
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json',
      authorization: `Bearer ${token}`,
    },
    body: JSON.stringify({ query, variables }),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await response.text();
  let body: { data?: T; errors?: { message: string }[] };
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error(`HTTP ${response.status}: ${text.slice(0, 300)}`);
  }
  if (body.errors?.length) throw new Error(`GraphQL errors: ${body.errors.map((e) => e.message).join('; ')}`);
  if (!response.ok || !body.data) throw new Error(`HTTP ${response.status}: ${text.slice(0, 300)}`);
  return body.data;
}

type Payload<K extends string, V> = Record<
  K,
  { userErrors: { code: string; message: string; field: string | null }[] } & Record<string, V | null>
>;

/**
 * One book (USD, scale 2, named `name` and the time) and `count` ASSET accounts without bounds,
 * through the API at `url` (the /graphql endpoint), 16 at a time; progress every 2 s through `log`.
 */
export async function createBenchBook(o: {
  url: string;
  token: string;
  name: string;
  count: number;
  log: (message: string) => void;
}): Promise<{ bookId: string; accountIds: string[] }> {
  const created = await call<Payload<'createBook', { id: string }>>(o.url, o.token, CREATE_BOOK, {
    input: { name: `${o.name} ${new Date().toISOString()}`, units: [{ code: 'USD', scale: 2 }] },
  });
  const bookId = created.createBook.book?.id;
  if (!bookId) throw new Error(`createBook failed: ${JSON.stringify(created.createBook.userErrors)}`);
  const accountIds: string[] = new Array(o.count);
  const digits = String(o.count - 1).length;
  const started = performance.now();
  let next = 0;
  let done = 0;
  let lastReport = started;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < o.count) {
        const index = next++;
        const code = `BENCH-${String(index).padStart(digits, '0')}`;
        const result = await call<Payload<'createAccount', { id: string }>>(o.url, o.token, CREATE_ACCOUNT, {
          input: { bookId, code, name: `Bench account ${index}`, type: 'ASSET', unit: 'USD' },
        });
        const id = result.createAccount.account?.id;
        if (!id)
          throw new Error(`createAccount ${code} failed: ${JSON.stringify(result.createAccount.userErrors)}`);
        accountIds[index] = id;
        done += 1;
        const now = performance.now();
        if (now - lastReport > 2000 || done === o.count) {
          lastReport = now;
          o.log(`accounts: ${done}/${o.count} (${Math.round(done / ((now - started) / 1000))}/s)`);
        }
      }
    }),
  );
  o.log(`created book and ${o.count} accounts in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return { bookId, accountIds };
}

/**
 * A load worker's configuration for `book` (USD): single entries or batches of `batchSize`
 * (INDEPENDENT), between two random accounts, or with `hot` the book's first account on one side of
 * every entry and a random other on the other side (it never repeats the hot one).
 */
export function loadWorkerConfig(o: {
  url: string;
  token: string;
  book: { bookId: string; accountIds: string[] };
  hot: boolean;
  mode: LoadWorkerConfig['mode'];
  batchSize: number;
  connections: number;
  durationSeconds: number;
  warmupSeconds: number;
  keyPrefix: string;
  persisted: boolean;
}): LoadWorkerConfig {
  const { book, hot, ...rest } = o;
  return {
    ...rest,
    bookId: book.bookId,
    accountIds: hot ? book.accountIds.slice(1) : book.accountIds,
    hotAccountId: hot ? book.accountIds[0] : undefined,
    unit: 'USD',
    timeoutSeconds: o.mode === 'batch' ? 60 : 10,
  };
}
