/**
 * Issue 10, item 13 (part): a MEMBER token reads its own account; the account's `parent` (an
 * account it may not read) answers null, like every other thing the token may not see, instead
 * of a FORBIDDEN error that fails the whole query. Through real HTTP (the SDK's Account query also
 * selects the book, which a member may not read: members use `ownAccount`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LedgerClient } from '../../client-sdk/index.js';
import { createAccount, createBook, ledgerClient, rawGraphQL } from '../helpers/ledger.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { issueToken } from '../helpers/tokens.js';

let server: TestServer;
let admin: LedgerClient;
let parentId: string;
let childId: string;
let memberToken: string;

beforeAll(async () => {
  server = await startTestServer({ config: { rateLimitPerSecond: 0 } });
  admin = ledgerClient(server.url);
  const book = await createBook(admin);
  parentId = (await createAccount(admin, book.id, { code: '3000', type: 'EQUITY' })).id;
  childId = (await createAccount(admin, book.id, { code: '3000-7', type: 'EQUITY', parentId })).id;
  memberToken = (await issueToken(admin, { grants: [{ role: 'MEMBER', scope: childId }] })).token;
});

afterAll(async () => {
  await server?.stop();
});

describe("a MEMBER reading its own account's parent", () => {
  it('gets null for the parent and the rest of its account, with no error', async () => {
    const answer = await rawGraphQL(
      server.url,
      'query ($id: ID!) { account(id: $id) { id code parent { id code } balance { posted } } }',
      { id: childId },
      { token: memberToken },
    );
    expect(answer.body.errors).toBeUndefined();
    expect(answer.body.data).toEqual({
      account: { id: childId, code: '3000-7', parent: null, balance: { posted: '0.00' } },
    });
  });

  it('a reader of the book still sees the parent', async () => {
    expect((await admin.account({ id: childId }))?.parent).toEqual({ id: parentId, code: '3000' });
  });
});
