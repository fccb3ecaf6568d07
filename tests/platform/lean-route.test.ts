/**
 * Persisted documents and the lean route (issue 12, server/platform/http/persisted.ts): the SDK's
 * posting mutations sent as persisted documents (by id or by their text) are executed without
 * yoga's request adapter, and must answer exactly as yoga does: the same status, content type and
 * body for a posting, a domain refusal, variables that do not coerce, an anonymous caller, another
 * tenant's book, and either media type; the same per-token rate limit and access log line.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { GraphQLNonNull, GraphQLObjectType, GraphQLSchema, GraphQLString } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../../server/platform/config.js';
import { authHeaders } from '../helpers/auth.js';
import {
  type CreatedAccount,
  createAccount,
  createBook,
  ledgerClient,
  newKey,
  waitFor,
} from '../helpers/ledger.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { issueToken } from '../helpers/tokens.js';

const manifest = JSON.parse(
  readFileSync(path.join(repoRoot, 'server', 'persisted-documents.json'), 'utf8'),
) as Record<string, string>;
const idOf = (operation: string) => {
  const found = Object.entries(manifest).find(([, text]) => text.startsWith(`mutation ${operation}(`));
  if (!found) throw new Error(`no persisted document for ${operation}`);
  return { id: found[0], text: found[1] };
};
const POST = idOf('PostJournalEntry');

let lean: TestServer;
let yoga: TestServer;
let bookId: string;
let cash: CreatedAccount;
let equity: CreatedAccount;

beforeAll(async () => {
  // The service's own setting (the posting mutations lean), and one with no lean route at all.
  [lean, yoga] = await Promise.all([
    startTestServer({ lean: { leanRootFields: ['postJournalEntry', 'postJournalEntries'] } }),
    startTestServer({ lean: { leanRootFields: [] } }),
  ]);
  const admin = ledgerClient(lean.url);
  bookId = (await createBook(admin)).id;
  cash = await createAccount(admin, bookId, { code: 'cash', type: 'ASSET' });
  equity = await createAccount(admin, bookId, { code: 'equity', type: 'EQUITY' });
});

afterAll(async () => {
  await Promise.all([lean?.stop(), yoga?.stop()]);
});

interface Answer {
  status: number;
  contentType: string | null;
  body: unknown;
}

async function send(
  server: TestServer,
  body: Record<string, unknown>,
  options: { token?: string | null; accept?: string; requestId?: string } = {},
): Promise<Answer> {
  const response = await fetch(server.url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(options.accept === undefined ? {} : { accept: options.accept }),
      ...(options.requestId === undefined ? {} : { 'x-request-id': options.requestId }),
      ...authHeaders(options.token),
    },
    body: JSON.stringify(body),
  });
  return {
    status: response.status,
    contentType: response.headers.get('content-type'),
    body: JSON.parse(await response.text()),
  };
}

/** The answer with what differs between two postings (ids, instants, hashes, sequence) blanked. */
function shape(answer: Answer): unknown {
  return JSON.parse(
    JSON.stringify(answer).replace(
      /"(id|hash|prevHash|seq|recordedAt|effectiveAt|idempotencyKey|requestId)":"[^"]*"/g,
      '"$1":"*"',
    ),
  );
}

const input = (amount: string, creditAmount = amount, book = bookId) => ({
  bookId: book,
  idempotencyKey: newKey('lean'),
  lines: [
    { accountId: cash.id, side: 'DEBIT', amount, unit: 'USD' },
    { accountId: equity.id, side: 'CREDIT', amount: creditAmount, unit: 'USD' },
  ],
});

describe('the lean route answers as yoga does', () => {
  const cases: { name: string; variables: () => Record<string, unknown>; token?: () => string | null }[] = [
    { name: 'a posting', variables: () => ({ input: input('5.00') }) },
    { name: 'a domain refusal (userErrors)', variables: () => ({ input: input('5.00', '4.00') }) },
    { name: 'an amount the Decimal scalar refuses', variables: () => ({ input: input('5e2') }) },
    { name: 'a missing input field', variables: () => ({ input: { bookId, lines: [] } }) },
    {
      name: 'a lone surrogate in the memo',
      variables: () => ({ input: { ...input('1.00'), memo: '\ud800' } }),
    },
    { name: 'an anonymous caller', variables: () => ({ input: input('1.00') }), token: () => null },
  ];
  for (const accept of ['application/json', 'application/graphql-response+json', undefined]) {
    for (const c of cases) {
      it(`${c.name}, accept ${accept ?? '(none)'}: same status, type and body by text and by id`, async () => {
        const token = c.token?.();
        const variables = c.variables();
        const byText = await send(lean, { query: POST.text, variables }, { token, accept });
        const byId = await send(lean, { documentId: POST.id, variables: c.variables() }, { token, accept });
        const reference = await send(yoga, { query: POST.text, variables: c.variables() }, { token, accept });
        expect(shape(byText)).toEqual(shape(reference));
        expect(shape(byId)).toEqual(shape(reference));
      });
    }
  }

  it("another tenant's book answers UNKNOWN_BOOK alike", async () => {
    const admin = ledgerClient(lean.url);
    const other = (await createBook(admin)).id;
    const treasurer = await issueToken(admin, {
      grants: [{ role: 'TREASURER', scope: other }],
      principalName: 'Treasurer of another book',
    });
    const variables = () => ({ input: input('3.00') });
    const answers = await Promise.all([
      send(lean, { documentId: POST.id, variables: variables() }, { token: treasurer.token }),
      send(yoga, { query: POST.text, variables: variables() }, { token: treasurer.token }),
    ]);
    expect(shape(answers[0]!)).toEqual(shape(answers[1]!));
    expect(JSON.stringify(answers[0]!.body)).toContain('UNKNOWN_BOOK');
  });

  it("takes Apollo's persistedQuery hash too, and refuses an unknown id with 400", async () => {
    const hash = POST.id.slice('sha256:'.length);
    const apq = await send(lean, {
      variables: { input: input('2.00') },
      extensions: { persistedQuery: { version: 1, sha256Hash: hash } },
    });
    expect(apq.status).toBe(200);
    expect(JSON.stringify(apq.body)).toContain('"userErrors":[]');
    const unknown = await send(lean, { documentId: `sha256:${'0'.repeat(64)}`, variables: {} });
    expect(unknown.status).toBe(400);
    expect(JSON.stringify(unknown.body)).toContain('PERSISTED_DOCUMENT_NOT_FOUND');
  });

  it('logs the same access line (operation, type, principal, outcome)', async () => {
    const lines = [];
    for (const [server, body] of [
      [
        lean,
        {
          documentId: POST.id,
          operationName: 'PostJournalEntry',
          variables: { input: input('1.00', '2.00') },
        },
      ],
      [
        yoga,
        { query: POST.text, operationName: 'PostJournalEntry', variables: { input: input('1.00', '2.00') } },
      ],
    ] as const) {
      const requestId = newKey('lean-log');
      await send(server, body, { requestId });
      await waitFor(() => server.logs.some((l) => l.requestId === requestId && l.msg === 'request'), {
        what: 'the access line',
      });
      const line = server.logs.find((l) => l.requestId === requestId && l.msg === 'request')!;
      lines.push({ ...line, time: '*', ms: '*', requestId: '*', pid: '*' });
      const leanLine = server.logs.some(
        (l) => l.requestId === requestId && l.msg === 'served by the lean route',
      );
      expect(leanLine).toBe(server === lean);
    }
    expect(lines[0]).toMatchObject({
      operation: 'PostJournalEntry',
      operationType: 'mutation',
      outcome: 'UNBALANCED_ENTRY',
      status: 200,
    });
    expect(lines[0]).toEqual(lines[1]);
  });
});

describe('limits on the lean route', () => {
  let limited: TestServer;
  beforeAll(async () => {
    limited = await startTestServer({
      config: { rateLimitPerSecond: 1 },
      lean: { leanRootFields: ['postJournalEntry'] },
    });
  });
  afterAll(() => limited?.stop());

  it('draws on the per-token rate limit like any request', async () => {
    const admin = ledgerClient(lean.url);
    const token = (
      await issueToken(admin, { grants: [{ role: 'ADMIN', scope: '' }], principalName: 'Rate limited' })
    ).token;
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      statuses.push(
        (await send(limited, { documentId: POST.id, variables: { input: input('1.00') } }, { token })).status,
      );
    }
    // A burst of twice the rate, then 429 THROTTLED.
    expect(statuses.slice(0, 2)).toEqual([200, 200]);
    expect(statuses.slice(2)).toContain(429);
  });
});

describe('persisted documents only', () => {
  let only: TestServer;
  beforeAll(async () => {
    only = await startTestServer({ config: { persistedDocumentsOnly: true } });
  });
  afterAll(() => only?.stop());

  it('answers known documents by id or text and refuses any other document', async () => {
    const byId = await send(only, { documentId: POST.id, variables: { input: input('1.00') } });
    expect(byId.status).toBe(200);
    const byText = await send(only, { query: POST.text, variables: { input: input('1.00') } });
    expect(byText.status).toBe(200);
    const other = await send(only, { query: '{ __typename }' });
    expect(other.status).toBe(400);
    expect(JSON.stringify(other.body)).toContain('PERSISTED_DOCUMENT_REQUIRED');
    const get = await fetch(`${only.url}?query=${encodeURIComponent('{ __typename }')}`, {
      headers: { 'x-graphql-csrf': '1', ...authHeaders() },
    });
    expect(get.status).toBe(400);
  });
});

describe('the executor', () => {
  // Which function executed a request, told by what it hands resolvers: yoga's executor
  // (@graphql-tools/executor) gives `info` its abort-signal helpers, graphql-js 16's execute does not.
  const schema = new GraphQLSchema({
    query: new GraphQLObjectType({ name: 'Query', fields: { ok: { type: GraphQLString } } }),
    mutation: new GraphQLObjectType({
      name: 'Mutation',
      fields: {
        probe: {
          type: GraphQLString,
          args: { amount: { type: new GraphQLNonNull(GraphQLString) } },
          resolve: (_parent, args: { amount: string }, _context, info) =>
            `${'getAbortSignal' in info ? 'yoga' : 'graphql-js'} ${args.amount}`,
        },
      },
    }),
  });
  const PROBE = 'mutation Probe($amount: String!) { probe(amount: $amount) }';
  let leanProbe: TestServer;
  let yogaProbe: TestServer;
  beforeAll(async () => {
    const lean = { leanUnknownDocuments: true, compiledRootFields: [] };
    [leanProbe, yogaProbe] = await Promise.all([
      startTestServer({ schema, lean: { ...lean, leanRootFields: ['probe'] } }),
      startTestServer({ schema, lean: { ...lean, leanRootFields: [] } }),
    ]);
  });
  afterAll(() => Promise.all([leanProbe?.stop(), yogaProbe?.stop()]));

  it("runs the lean route's interpreted requests on graphql-js's execute, and yoga's on its own", async () => {
    const body = { query: PROBE, variables: { amount: '1.00' } };
    expect((await send(leanProbe, body)).body).toEqual({ data: { probe: 'graphql-js 1.00' } });
    expect((await send(yogaProbe, body)).body).toEqual({ data: { probe: 'yoga 1.00' } });
    // Variables that do not coerce are left to yoga, on the lean server too.
    const bad = await send(leanProbe, { query: PROBE, variables: { amount: 1 } });
    expect(bad.body).toEqual((await send(yogaProbe, { query: PROBE, variables: { amount: 1 } })).body);
  });
});
