/**
 * POST /graphql is served without express's router (server/platform/http/app.ts, `runStages`):
 * the same stages run in the same order. Every other spelling of the request goes through express
 * as registered; here `/graphql?` (an empty query string, the same endpoint) does. Both must answer
 * alike: status, every header but the date, and the body, for a lean posting, an anonymous query,
 * a refused token, a malformed body, a body declared too large and a missing content type.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../../server/platform/config.js';
import { authHeaders } from '../helpers/auth.js';
import { type CreatedAccount, createAccount, createBook, ledgerClient, newKey } from '../helpers/ledger.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const manifest = JSON.parse(
  readFileSync(path.join(repoRoot, 'server', 'persisted-documents.json'), 'utf8'),
) as Record<string, string>;
const POST_ID = Object.entries(manifest).find(([, text]) =>
  text.startsWith('mutation PostJournalEntry('),
)![0];

let server: TestServer;
let bookId: string;
let cash: CreatedAccount;
let equity: CreatedAccount;

beforeAll(async () => {
  server = await startTestServer();
  const admin = ledgerClient(server.url);
  bookId = (await createBook(admin)).id;
  cash = await createAccount(admin, bookId, { code: 'cash', type: 'ASSET' });
  equity = await createAccount(admin, bookId, { code: 'equity', type: 'EQUITY' });
});

afterAll(async () => {
  await server?.stop();
});

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

let sent = 0;
async function send(url: string, body: string, headers: Record<string, string>): Promise<Answer> {
  const requestId = `post-path-${++sent}`;
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'x-request-id': requestId, ...headers },
    body,
  });
  const answered: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    if (name !== 'date') answered[name] = name === 'x-request-id' ? value.replace(requestId, '*') : value;
  });
  return {
    status: response.status,
    headers: answered,
    // What differs between two postings (ids, instants, hashes, sequence) blanked.
    body: (await response.text()).replace(
      /"(id|hash|prevHash|seq|recordedAt|effectiveAt|idempotencyKey|requestId)":"[^"]*"/g,
      '"$1":"*"',
    ),
  };
}

describe('POST /graphql answers as through express', () => {
  const json = { 'content-type': 'application/json' };
  const posting = () =>
    JSON.stringify({
      documentId: POST_ID,
      variables: {
        input: {
          bookId,
          idempotencyKey: newKey('post-path'),
          lines: [
            { accountId: cash.id, side: 'DEBIT', amount: '2.00', unit: 'USD' },
            { accountId: equity.id, side: 'CREDIT', amount: '2.00', unit: 'USD' },
          ],
        },
      },
    });
  const cases: { name: string; body: () => string; headers: () => Record<string, string> }[] = [
    { name: 'a lean posting', body: posting, headers: () => ({ ...json, ...authHeaders(undefined) }) },
    { name: 'an anonymous query', body: () => '{"query":"{ __typename }"}', headers: () => json },
    {
      name: 'a refused token',
      body: () => '{"query":"{ __typename }"}',
      headers: () => ({ ...json, authorization: 'Bearer slt_nope' }),
    },
    {
      name: 'a malformed body',
      body: () => '{"query":',
      headers: () => ({ ...json, ...authHeaders(undefined) }),
    },
    {
      name: 'a compressed body',
      body: () => '{}',
      headers: () => ({ ...json, 'content-encoding': 'gzip', ...authHeaders(undefined) }),
    },
    {
      name: 'no content type',
      body: () => '{"query":"{ __typename }"}',
      headers: () => ({ ...authHeaders(undefined) }),
    },
  ];
  for (const c of cases) {
    it(`${c.name}: same status, headers and body`, async () => {
      const direct = await send(server.url, c.body(), c.headers());
      const routed = await send(`${server.url}?`, c.body(), c.headers());
      expect(direct).toEqual(routed);
      expect(Object.keys(direct.headers)).toContain('content-security-policy');
    });
  }
});
