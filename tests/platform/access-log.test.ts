/**
 * The access log tells operations and people apart (issue 11, item 6): each request's line
 * (server/platform/http/access-log.ts) carries the GraphQL operation's name and type, the principal whose token was
 * verified, and the outcome: the first error's or userError's code, or "ok"; for answers outside
 * GraphQL, their code.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLedgerClient } from '../../client-sdk/index.js';
import { fetchWithToken } from '../helpers/auth.js';
import {
  createAccount,
  createBook,
  credit,
  debit,
  ledgerClient,
  newKey,
  waitFor,
} from '../helpers/ledger.js';
import { type LogLine, startTestServer, type TestServer } from '../helpers/server.js';
import { issueToken } from '../helpers/tokens.js';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});

afterAll(() => server?.stop());

let sequence = 0;

/** Sends a request with a fresh x-request-id and returns its access log line. */
async function lineOf(send: (requestId: string) => Promise<unknown>): Promise<LogLine> {
  const requestId = `access-log-${++sequence}`;
  await send(requestId);
  await waitFor(() => server.logs.some((l) => l.requestId === requestId && l.msg === 'request'), {
    what: `the access log line of ${requestId}`,
  });
  const lines = server.logs.filter((l) => l.requestId === requestId && l.msg === 'request');
  expect(lines).toHaveLength(1);
  return lines[0]!;
}

describe('the access log line', () => {
  it('names the operation, its type, the principal and the outcome of a mutation and a query', async () => {
    const admin = ledgerClient(server.url);
    const tenant = await issueToken(admin, {
      grants: [{ role: 'ADMIN', scope: '' }],
      principalName: 'Log reader',
    });
    const client = (requestId: string) =>
      createLedgerClient({
        url: server.url,
        token: tenant.token,
        retries: 0,
        headers: { 'x-request-id': requestId },
      });
    const principalId = (await ledgerClient(server.url, { token: tenant.token }).viewer())!.principalId;

    let bookId = '';
    const created = await lineOf(async (id) => {
      bookId = (await createBook(client(id))).id;
    });
    expect(created).toMatchObject({
      method: 'POST',
      path: '/graphql',
      status: 200,
      operation: 'CreateBook',
      operationType: 'mutation',
      principal: principalId,
      outcome: 'ok',
    });
    expect(typeof created.ms).toBe('number');

    // A domain rejection: the first userError's code.
    const cash = await createAccount(admin, bookId, { code: 'cash', type: 'ASSET' });
    const equity = await createAccount(admin, bookId, { code: 'equity', type: 'EQUITY' });
    const rejected = await lineOf((id) =>
      client(id).postJournalEntry({
        bookId,
        idempotencyKey: newKey('log'),
        lines: [debit(cash, '2.00'), credit(equity, '1.00')],
      }),
    );
    expect(rejected).toMatchObject({
      operation: 'PostJournalEntry',
      operationType: 'mutation',
      principal: principalId,
      outcome: 'UNBALANCED_ENTRY',
    });

    const query = await lineOf((id) => client(id).viewer());
    expect(query).toMatchObject({ operation: 'Viewer', operationType: 'query', outcome: 'ok' });
  });

  it('carries the first error code, and no principal for an anonymous caller', async () => {
    const anonymous = await lineOf((id) =>
      fetchWithToken(
        server.url,
        {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-request-id': id },
          body: JSON.stringify({ query: 'query Books { books(first: 1) { edges { cursor } } }' }),
        },
        { token: null },
      ),
    );
    expect(anonymous).toMatchObject({
      operation: 'Books',
      operationType: 'query',
      outcome: 'UNAUTHENTICATED',
    });
    expect(anonymous).not.toHaveProperty('principal');

    const syntax = await lineOf((id) =>
      fetchWithToken(server.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-request-id': id },
        body: JSON.stringify({ query: '{ books(' }),
      }),
    );
    expect(syntax).toMatchObject({ status: 200, outcome: 'GRAPHQL_PARSE_FAILED' });
  });

  it('carries the code of answers outside GraphQL', async () => {
    const notFound = await lineOf((id) =>
      fetch(`${server.baseUrl}/nope`, { headers: { 'x-request-id': id } }),
    );
    expect(notFound).toMatchObject({ method: 'GET', path: '/nope', status: 404, outcome: 'NOT_FOUND' });

    const refused = await lineOf((id) =>
      fetchWithToken(
        server.url,
        {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-request-id': id },
          body: JSON.stringify({ query: '{ __typename }' }),
        },
        { token: `slt_${'0'.repeat(32)}_${'x'.repeat(43)}` },
      ),
    );
    expect(refused).toMatchObject({ status: 401, outcome: 'UNAUTHENTICATED' });

    const csrf = await lineOf((id) =>
      fetchWithToken(`${server.url}?query=${encodeURIComponent('{ __typename }')}`, {
        headers: { 'x-request-id': id },
      }),
    );
    expect(csrf).toMatchObject({ status: 403, outcome: 'CSRF_PREVENTED' });

    const health = await lineOf((id) =>
      fetch(`${server.baseUrl}/healthz`, { headers: { 'x-request-id': id } }),
    );
    expect(health).toMatchObject({ path: '/healthz', status: 200 });
    expect(health).not.toHaveProperty('operation');
  });
});
