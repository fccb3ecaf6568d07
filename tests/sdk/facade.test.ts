/**
 * The SDK facade against a real HTTP server (node:http on 127.0.0.1, port 0) that answers with
 * scripted responses: which operations are retried, with which body, and what the caller sees when
 * a request fails. The real ledger server is exercised by the integration tests.
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  BookDocument,
  BooksDocument,
  carriesIdempotencyKey,
  createLedgerClient,
  LedgerClientError,
  type LedgerClientOptions,
  type PostJournalEntryInput,
} from '../../client-sdk/index.js';
import { backoffDelayMs, parseRetryAfterMs } from '../../client-sdk/retry.js';
import { waitFor } from '../helpers/ledger.js';

// --- the scripted server --------------------------------------------------------------------------

interface Received {
  headers: IncomingMessage['headers'];
  body: string;
  operationName: string;
  variables: Record<string, unknown>;
}

/** What the server does with one request. */
type Step =
  | { kind: 'drop' } // close the socket without answering
  | { kind: 'hang' } // never answer (the client's timeout fires)
  | { kind: 'reply'; status: number; body: unknown; headers?: Record<string, string> };

/** Answers after the script is used up: a function of the request, so pagination can be scripted. */
type Responder = (request: Received) => Step;

let server: Server;
let url: string;
let received: Received[] = [];
let script: Step[] = [];
let responder: Responder = () => reply(500, { errors: [{ message: 'no responder set' }] });

function reply(status: number, body: unknown, headers: Record<string, string> = {}): Step {
  return { kind: 'reply', status, body, headers };
}
const ok = (data: unknown, headers: Record<string, string> = {}) => reply(200, { data }, headers);
const unavailable503 = () =>
  reply(503, {
    errors: [{ message: 'The ledger database is unavailable', extensions: { code: 'UNAVAILABLE' } }],
  });

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const body = Buffer.concat(chunks).toString('utf8');
  const parsed = JSON.parse(body) as { operationName: string; variables?: Record<string, unknown> };
  const request: Received = {
    headers: req.headers,
    body,
    operationName: parsed.operationName,
    variables: parsed.variables ?? {},
  };
  received.push(request);
  const step = script.shift() ?? responder(request);
  if (step.kind === 'drop') {
    req.socket.destroy();
    return;
  }
  if (step.kind === 'hang') return;
  res.writeHead(step.status, {
    'content-type': 'application/graphql-response+json; charset=utf-8',
    'x-request-id': String(req.headers['x-request-id'] ?? ''),
    ...step.headers,
  });
  res.end(JSON.stringify(step.body));
}

beforeAll(async () => {
  server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      res.writeHead(500).end(String(error));
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
});

afterAll(async () => {
  server.closeAllConnections();
  server.close();
  await once(server, 'close');
});

beforeEach(() => {
  received = [];
  script = [];
  responder = () => reply(500, { errors: [{ message: 'no responder set' }] });
});

function client(options: Partial<LedgerClientOptions> = {}) {
  return createLedgerClient({
    url,
    token: 'secret-token',
    retryBaseDelayMs: 1,
    retryMaxDelayMs: 5,
    ...options,
  });
}

// --- fixtures -------------------------------------------------------------------------------------

const unit = { code: 'EUR', scale: 2 };

function entry(id: string, idempotencyKey = `key-${id}`) {
  return {
    id,
    book: { id: 'book-1' },
    kind: 'STANDARD',
    status: 'POSTED',
    seq: '1',
    hash: 'a'.repeat(64),
    prevHash: '0'.repeat(64),
    effectiveAt: '2026-01-31T12:00:00.000Z',
    recordedAt: '2026-01-31T12:00:00.001Z',
    expiresAt: null,
    memo: '',
    metadata: [],
    idempotencyKey,
    postedBy: null,
    lines: [
      {
        lineNo: 1,
        side: 'DEBIT',
        amount: '10.00',
        unit,
        pending: false,
        account: { id: 'acc-1', code: 'cash' },
      },
      {
        lineNo: 2,
        side: 'CREDIT',
        amount: '10.00',
        unit,
        pending: false,
        account: { id: 'acc-2', code: 'dues' },
      },
    ],
    reverses: null,
    reversedBy: null,
    pendingEntry: null,
    resolvedBy: null,
  };
}

const book = {
  id: 'book-1',
  name: 'Bakery co-op',
  description: '',
  maxBackdateDays: 366,
  entryCount: '0',
  headHash: '0'.repeat(64),
  createdAt: '2026-01-01T00:00:00.000Z',
  units: [unit],
};

const postInput: PostJournalEntryInput = {
  bookId: 'book-1',
  idempotencyKey: 'payroll-2026-01',
  memo: 'January dues',
  lines: [
    { accountId: 'acc-1', side: 'DEBIT', amount: '10.00', unit: 'EUR' },
    { accountId: 'acc-2', side: 'CREDIT', amount: '10.00', unit: 'EUR' },
  ],
};

// --- tests ----------------------------------------------------------------------------------------

describe('retry policy', () => {
  it('retries a query after 503s and a dropped connection, with the same body', async () => {
    script = [unavailable503(), { kind: 'drop' }, reply(502, 'bad gateway')];
    responder = () => ok({ book });

    const result = await client().book({ id: 'book-1' });

    expect(result).toEqual(book);
    expect(received).toHaveLength(4);
    expect(new Set(received.map((r) => r.body)).size).toBe(1);
    expect(received[0]?.operationName).toBe('Book');
    expect(received[0]?.headers.authorization).toBe('Bearer secret-token');
  });

  it('retries a mutation that carries an idempotencyKey with the identical body every time', async () => {
    script = [{ kind: 'drop' }, unavailable503(), reply(429, { errors: [{ message: 'slow down' }] })];
    responder = () =>
      ok({
        postJournalEntry: { entry: entry('e-1', postInput.idempotencyKey), replayed: true, userErrors: [] },
      });
    const retries: number[] = [];
    const input = structuredClone(postInput);

    const pending = client({ onRetry: ({ attempt }) => retries.push(attempt) }).postJournalEntry(input);
    input.idempotencyKey = 'mutated-while-retrying'; // the SDK must keep sending what it was given
    const payload = await pending;

    expect(payload.replayed).toBe(true);
    expect(payload.entry?.idempotencyKey).toBe('payroll-2026-01');
    expect(received).toHaveLength(4);
    expect(retries).toEqual([1, 2, 3]);
    const bodies = new Set(received.map((r) => r.body));
    expect(bodies.size).toBe(1);
    expect(received[0]?.variables).toEqual({ input: postInput });
    // Each attempt has its own request id, all sharing the first one as a prefix.
    const ids = received.map((r) => String(r.headers['x-request-id']));
    expect(new Set(ids).size).toBe(4);
    for (const id of ids.slice(1)) expect(id.startsWith(`${ids[0]}-`)).toBe(true);
  });

  it('retries postJournalEntries when every entry has a key, and not when one lacks it', async () => {
    const batch = {
      bookId: 'book-1',
      mode: 'ATOMIC' as const,
      entries: [
        { idempotencyKey: 'k-1', lines: postInput.lines },
        { idempotencyKey: 'k-2', lines: postInput.lines },
      ],
    };
    script = [unavailable503()];
    responder = () => ok({ postJournalEntries: { postedCount: 2, results: [], userErrors: [] } });
    await expect(client().postJournalEntries(batch)).resolves.toMatchObject({ postedCount: 2 });
    expect(received).toHaveLength(2);

    expect(carriesIdempotencyKey({ input: batch })).toBe(true);
    expect(carriesIdempotencyKey({ input: { ...batch, entries: [...batch.entries, { lines: [] }] } })).toBe(
      false,
    );
    expect(carriesIdempotencyKey({ input: { ...batch, entries: [{ idempotencyKey: '', lines: [] }] } })).toBe(
      false,
    );
    expect(carriesIdempotencyKey({ input: { ...batch, entries: [] } })).toBe(false);
  });

  it('never retries createAccount (no idempotencyKey): one request, the 503 surfaces', async () => {
    script = [unavailable503()];
    responder = () => ok({ createAccount: { account: null, userErrors: [] } });

    const error = await client()
      .createAccount({ bookId: 'book-1', code: 'cash', name: 'Cash', type: 'ASSET', unit: 'EUR' })
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(LedgerClientError);
    expect(error).toMatchObject({ code: 'UNAVAILABLE', status: 503, attempts: 1, retryable: true });
    expect(received).toHaveLength(1);
  });

  it('never retries createAccount after a dropped connection either', async () => {
    script = [{ kind: 'drop' }];
    responder = () => ok({ createAccount: { account: null, userErrors: [] } });

    const error = await client()
      .createAccount({ bookId: 'book-1', code: 'cash', name: 'Cash', type: 'ASSET', unit: 'EUR' })
      .catch((e: unknown) => e);

    expect(error).toMatchObject({ name: 'LedgerClientError', code: 'NETWORK_ERROR', attempts: 1 });
    expect(received).toHaveLength(1);
  });

  it('stops after the bounded number of attempts (default 6) and reports the last failure', async () => {
    responder = () =>
      reply(200, {
        data: null,
        errors: [{ message: 'Too many requests', extensions: { code: 'THROTTLED' } }],
      });

    const error = await client()
      .books()
      .catch((e: unknown) => e);

    expect(error).toMatchObject({ code: 'THROTTLED', attempts: 6, status: 200 });
    expect(received).toHaveLength(6);
  });

  it('honours `retries: 0`', async () => {
    responder = unavailable503;
    await expect(client({ retries: 0 }).books()).rejects.toMatchObject({ code: 'UNAVAILABLE', attempts: 1 });
    expect(received).toHaveLength(1);
  });

  it('retries a timed-out query, then answers', async () => {
    script = [{ kind: 'hang' }];
    responder = () => ok({ book });

    await expect(client({ timeoutMs: 200 }).book({ id: 'book-1' })).resolves.toEqual(book);
    expect(received).toHaveLength(2);
  });

  it('does not retry a GraphQL error that is not transient (4xx, validation, masked fault on 200)', async () => {
    responder = () =>
      reply(400, {
        errors: [{ message: 'Cannot query field', extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }],
      });
    await expect(client().book({ id: 'b' })).rejects.toMatchObject({
      code: 'GRAPHQL_VALIDATION_FAILED',
      attempts: 1,
    });
    expect(received).toHaveLength(1);

    received = [];
    responder = () =>
      reply(200, {
        data: null,
        errors: [{ message: 'Unexpected error.', extensions: { requestId: 'r-9' } }],
      });
    await expect(client().book({ id: 'b' })).rejects.toMatchObject({ code: 'GRAPHQL_ERROR', attempts: 1 });
    expect(received).toHaveLength(1);
  });

  it('stops retrying when the caller aborts', async () => {
    responder = unavailable503;
    const controller = new AbortController();
    const pending = client({ retryBaseDelayMs: 60_000, retryMaxDelayMs: 60_000 })
      .book({ id: 'b' }, { signal: controller.signal })
      .catch((e: unknown) => e);
    await waitFor(() => received.length === 1, { what: 'the first attempt' });
    controller.abort();
    expect(await pending).toMatchObject({ code: 'ABORTED', retryable: false });
    expect(received).toHaveLength(1);
  });
});

describe('request()', () => {
  it('sends any typed document with the same rules and returns its typed data', async () => {
    script = [unavailable503()];
    responder = () => ok({ books: { edges: [], pageInfo: { hasNextPage: false, endCursor: null } } });
    const ledger = client();

    const data = await ledger.request(BooksDocument);
    expect(data.books.pageInfo.hasNextPage).toBe(false);
    expect(received).toHaveLength(2);

    // Compile-time checks only (tsc runs over tests): required variables are required.
    const typeChecks = async () => {
      // @ts-expect-error BookDocument needs { id }
      await ledger.request(BookDocument);
      // @ts-expect-error wrong variable name
      await ledger.request(BookDocument, { bookId: 'x' });
      const found = await ledger.request(BookDocument, { id: 'x' });
      found.book?.units[0]?.scale satisfies number | undefined;
    };
    // Never run: the checks above are tsc's (`npm run typecheck` covers tests/). The call with the
    // right variables does run, typed, and answers from the scripted server.
    void typeChecks;
    responder = () => ok({ book: null });
    expect((await ledger.request(BookDocument, { id: 'x' })).book).toBeNull();
  });
});

describe('LedgerClientError', () => {
  it('carries the code, the request id from x-request-id and the original errors', async () => {
    const errors = [{ message: 'Missing or invalid token', extensions: { code: 'UNAUTHENTICATED' } }];
    responder = () => reply(401, { errors }, { 'x-request-id': 'req-from-server' });

    const error = await client({ token: 'wrong' })
      .journalEntry({ id: 'e-1' })
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(LedgerClientError);
    const ledgerError = error as LedgerClientError;
    expect(ledgerError.code).toBe('UNAUTHENTICATED');
    expect(ledgerError.requestId).toBe('req-from-server');
    expect(ledgerError.errors).toEqual(errors);
    expect(ledgerError.status).toBe(401);
    expect(ledgerError.operationName).toBe('JournalEntry');
    expect(ledgerError.message).toContain('Missing or invalid token');
    expect(received).toHaveLength(1);
  });

  it('names network failures NETWORK_ERROR once the retries are spent', async () => {
    responder = () => ({ kind: 'drop' });
    await expect(client({ retries: 2 }).books()).rejects.toMatchObject({
      code: 'NETWORK_ERROR',
      attempts: 3,
      status: undefined,
    });
    expect(received).toHaveLength(3);
  });

  it('uses the caller-supplied x-request-id', async () => {
    responder = () =>
      reply(200, { data: null, errors: [{ message: 'no', extensions: { code: 'FORBIDDEN' } }] }, {});
    const error = (await client()
      .book({ id: 'b' }, { headers: { 'X-Request-Id': 'mine-123' } })
      .catch((e: unknown) => e)) as LedgerClientError;
    expect(received[0]?.headers['x-request-id']).toBe('mine-123');
    expect(error.requestId).toBe('mine-123');
  });
});

describe('pagination', () => {
  it('walks three pages by endCursor and stops', async () => {
    const pages: Record<string, { ids: string[]; next: string | null }> = {
      start: { ids: ['e-1', 'e-2'], next: 'c1' },
      c1: { ids: ['e-3', 'e-4'], next: 'c2' },
      c2: { ids: ['e-5'], next: null },
    };
    responder = ({ variables }) => {
      const page = pages[(variables.after as string | undefined) ?? 'start'];
      if (!page) return reply(400, { errors: [{ message: 'bad cursor' }] });
      return ok({
        journalEntries: {
          edges: page.ids.map((id) => ({ cursor: `cursor-${id}`, node: entry(id) })),
          pageInfo: { hasNextPage: page.next !== null, endCursor: page.next ?? `cursor-${page.ids.at(-1)}` },
        },
      });
    };

    const ids: string[] = [];
    for await (const journalEntry of client().iterateJournalEntries({
      bookId: 'book-1',
      kinds: ['STANDARD'],
    })) {
      ids.push(journalEntry.id);
    }

    expect(ids).toEqual(['e-1', 'e-2', 'e-3', 'e-4', 'e-5']);
    expect(received.map((r) => r.variables)).toEqual([
      { bookId: 'book-1', kinds: ['STANDARD'], first: 100 },
      { bookId: 'book-1', kinds: ['STANDARD'], first: 100, after: 'c1' },
      { bookId: 'book-1', kinds: ['STANDARD'], first: 100, after: 'c2' },
    ]);
  });

  it('fetches lazily: breaking out of the loop fetches no further page', async () => {
    responder = ({ variables }) =>
      ok({
        accounts: {
          edges: [{ cursor: 'x', node: { id: `acc-after-${String(variables.after)}` } }],
          pageInfo: { hasNextPage: true, endCursor: `after-${received.length}` },
        },
      });
    const ledger = client();
    const seen: string[] = [];
    for await (const account of ledger.paginate((after) =>
      ledger.accounts({ bookId: 'book-1', first: 1, after }),
    )) {
      seen.push(account.id);
      break;
    }
    expect(seen).toEqual(['acc-after-undefined']);
    expect(received).toHaveLength(1);
  });

  it('fails loudly when hasNextPage is true but the cursor does not move', async () => {
    responder = () =>
      ok({
        books: {
          edges: [{ cursor: 'same', node: book }],
          pageInfo: { hasNextPage: true, endCursor: 'same' },
        },
      });
    const seen: string[] = [];
    await expect(
      (async () => {
        for await (const b of client().iterateBooks({ first: 1 })) seen.push(b.id);
      })(),
    ).rejects.toThrow(/Pagination stalled/);
    expect(seen).toEqual(['book-1', 'book-1']);
  });
});

describe('backoff', () => {
  const policy = { retries: 3, baseDelayMs: 100, maxDelayMs: 1000 };
  it('grows exponentially with jitter in [ceiling/2, ceiling], bounded, and respects Retry-After', () => {
    expect(backoffDelayMs(policy, 1, undefined, () => 0)).toBe(50);
    expect(backoffDelayMs(policy, 1, undefined, () => 1)).toBe(100);
    expect(backoffDelayMs(policy, 3, undefined, () => 1)).toBe(400);
    expect(backoffDelayMs(policy, 10, undefined, () => 1)).toBe(1000);
    expect(backoffDelayMs(policy, 1, 700, () => 0)).toBe(700);
    expect(backoffDelayMs(policy, 1, 60_000, () => 0)).toBe(1000);
    expect(parseRetryAfterMs('2')).toBe(2000);
    expect(parseRetryAfterMs(new Date(10_000).toUTCString(), 4_000)).toBe(6000);
    expect(parseRetryAfterMs('soon')).toBeUndefined();
  });
});
