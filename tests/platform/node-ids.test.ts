/**
 * Every global id of a type that implements Node resolves through `node(id:)`, with the same
 * authorization as the type's own query (issue 11's `node(id:)`, issue 14's networks): one object
 * of each Node type of schema/schema.graphql is made, then `node(id:)` is asked for it by the
 * admin, by the tenant that owns it, and by an outsider (the treasurer of another co-op), and the
 * answer is compared with the type's own query for the same caller. The list of Node types is read
 * from the printed schema, so a new Node type without a case here fails this file.
 *
 * Also: a NETWORK_STEWARD grant takes the network's CreditNetwork id, which names the same book as
 * its Book id (README, Mutual credit); a TREASURER grant does not.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LedgerClient } from '../../client-sdk/index.js';
import { type CoopFixture, createClass, join, setupCoop, today } from '../helpers/coop.js';
import { type NetworkFixture, setupNetwork } from '../helpers/credit.js';
import { decodeGlobalId, ledgerClient, newKey, rawGraphQL } from '../helpers/ledger.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { issueToken } from '../helpers/tokens.js';

let server: TestServer;
let admin: LedgerClient;
let coop: CoopFixture;
let outsider: CoopFixture;
let network: NetworkFixture;
/** One id of each Node type, with the token of its tenant and the root query that reads it. */
const cases: Record<string, { id: string; ownerToken: string; ownQuery: string | null }> = {};

async function nodeOf(id: string, token?: string): Promise<{ __typename: string; id: string } | null> {
  const answer = await rawGraphQL(
    server.url,
    'query N($id: ID!) { node(id: $id) { __typename id } }',
    { id },
    token === undefined ? {} : { token },
  );
  expect(answer.body.errors).toBeUndefined();
  return (answer.body.data?.node ?? null) as never;
}

async function ownOf(ownQuery: string, id: string, token?: string): Promise<{ id: string } | null> {
  const answer = await rawGraphQL(
    server.url,
    `query Q($id: ID!) { own: ${ownQuery}(id: $id) { id } }`,
    { id },
    token === undefined ? {} : { token },
  );
  expect(answer.body.errors).toBeUndefined();
  return (answer.body.data?.own ?? null) as never;
}

beforeAll(async () => {
  server = await startTestServer({ config: { rateLimitPerSecond: 0 } });
  admin = ledgerClient(server.url);
  coop = await setupCoop(server.url, admin);
  outsider = await setupCoop(server.url, admin);
  const classId = await createClass(coop, {
    code: 'W',
    name: 'Worker',
    buyIn: '100.00',
    instalmentCount: 1,
    instalmentIntervalMonths: 1,
    voting: true,
  });
  const joined = await join(coop, { classId, appliedOn: today() });
  const entry = await coop.treasurer.postJournalEntry({
    bookId: coop.bookId,
    idempotencyKey: newKey('entry'),
    memo: 'a sale',
    lines: [
      { accountId: coop.chart['1010']!, side: 'DEBIT', amount: '5.00', unit: 'USD' },
      { accountId: coop.chart['4000']!, side: 'CREDIT', amount: '5.00', unit: 'USD' },
    ],
  });
  expect(entry.userErrors).toEqual([]);
  network = await setupNetwork(
    server.url,
    admin,
    { name: 'Node ids', unit: { code: 'NID', scale: 2 }, policy: { defaultLimit: '10.00' } },
    [coop],
  );
  const t = coop.treasurerToken;
  cases.Book = { id: coop.bookId, ownerToken: t, ownQuery: 'book' };
  cases.Coop = { id: coop.id, ownerToken: t, ownQuery: 'coop' };
  cases.Account = { id: coop.chart['1000']!, ownerToken: t, ownQuery: null };
  cases.JournalEntry = { id: entry.entry!.id, ownerToken: t, ownQuery: 'journalEntry' };
  cases.MemberClass = { id: classId, ownerToken: t, ownQuery: null };
  cases.Party = { id: joined.partyId, ownerToken: t, ownQuery: 'party' };
  cases.Membership = { id: joined.membership.id, ownerToken: t, ownQuery: 'membership' };
  const steward = await issueToken(admin, { grants: [{ role: 'NETWORK_STEWARD', scope: network.bookUuid }] });
  cases.CreditNetwork = { id: network.networkId, ownerToken: steward.token, ownQuery: 'creditNetwork' };
});

afterAll(async () => {
  await server?.stop();
});

describe('node(id:) resolves every Node type', () => {
  it('has a case for each type that implements Node in the printed schema', () => {
    const printed = readFileSync(path.join(import.meta.dirname, '../../schema/schema.graphql'), 'utf8');
    const nodeTypes = [...printed.matchAll(/^type (\w+) implements (?:[\w ]+& )?Node\b/gm)].map((m) => m[1]!);
    expect(nodeTypes).toContain('Book');
    expect(nodeTypes.sort()).toEqual(Object.keys(cases).sort());
  });

  it('answers the object for the admin and for its tenant, as its own query does', async () => {
    for (const [typename, c] of Object.entries(cases)) {
      for (const token of [undefined, c.ownerToken]) {
        const node = await nodeOf(c.id, token);
        expect({ typename, node }).toEqual({ typename, node: { __typename: typename, id: c.id } });
        // The type's own query (where a root field takes its `id`) agrees.
        if (c.ownQuery) expect(await ownOf(c.ownQuery, c.id, token)).toEqual({ id: c.id });
      }
    }
  });

  it("answers null to an outsider, as the type's own query does", async () => {
    for (const [typename, c] of Object.entries(cases)) {
      const node = await nodeOf(c.id, outsider.treasurerToken);
      expect({ typename, node }).toEqual({ typename, node: null });
      if (c.ownQuery) expect(await ownOf(c.ownQuery, c.id, outsider.treasurerToken)).toBeNull();
    }
  });

  it("answers a member co-op's treasurer the network, as creditNetwork(id:) does", async () => {
    expect(await ownOf('creditNetwork', network.networkId, coop.treasurerToken)).toEqual({
      id: network.networkId,
    });
    expect(await nodeOf(network.networkId, coop.treasurerToken)).toEqual({
      __typename: 'CreditNetwork',
      id: network.networkId,
    });
  });

  it('answers null, not an error, for a CreditNetwork id that names no network', async () => {
    const bogus = Buffer.from('CreditNetwork:nope').toString('base64');
    const none = Buffer.from('CreditNetwork:00000000-0000-7000-8000-000000000000').toString('base64');
    expect(await nodeOf(bogus)).toBeNull();
    expect(await nodeOf(none)).toBeNull();
    // A co-op's book is no network.
    expect(await nodeOf(Buffer.from(`CreditNetwork:${coop.bookUuid}`).toString('base64'))).toBeNull();
  });
});

describe('a grant on a network takes its CreditNetwork id', () => {
  it('issues a NETWORK_STEWARD grant given the CreditNetwork id, on the same book as its Book id', async () => {
    for (const scope of [network.networkId, network.bookId, network.bookUuid]) {
      const payload = await admin.issueApiToken({
        principalName: `steward ${newKey('s')}`,
        grants: [{ role: 'NETWORK_STEWARD', scope }],
      });
      expect({ scope, errors: payload.userErrors }).toEqual({ scope, errors: [] });
      expect(payload.apiToken!.grants).toEqual([{ role: 'NETWORK_STEWARD', scope: network.bookId }]);
      const steward = ledgerClient(server.url, { token: payload.token! });
      const read = await steward.creditNetwork({ id: network.networkId, first: 10 });
      expect(read?.id).toBe(network.networkId);
      expect(decodeGlobalId(read!.bookId).bookId).toBe(network.bookUuid);
    }
  });

  it("refuses the CreditNetwork id as the scope of a TREASURER grant (a network is its stewards' to write)", async () => {
    const payload = await admin.issueApiToken({
      principalName: `treasurer ${newKey('t')}`,
      grants: [{ role: 'TREASURER', scope: network.networkId }],
    });
    expect(payload.userErrors.map((e) => [e.code, e.field])).toEqual([['INVALID_INPUT', 'grants[0].scope']]);
    expect(payload.token).toBeNull();
  });

  it('still refuses an id of another type as the scope of a book grant', async () => {
    const payload = await admin.issueApiToken({
      principalName: `steward ${newKey('s')}`,
      grants: [{ role: 'NETWORK_STEWARD', scope: coop.chart['1000']! }],
    });
    expect(payload.userErrors.map((e) => [e.code, e.field])).toEqual([['INVALID_INPUT', 'grants[0].scope']]);
  });
});
