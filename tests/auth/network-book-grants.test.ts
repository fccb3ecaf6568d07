/**
 * A TREASURER grant on a mutual-credit network's book (issue 3's grants, issue 14's networks). A
 * network's balances move only through the credit domain's use cases (payments, clearing), which
 * keep them summing to zero and within the members' limits; the ledger's general mutations are
 * refused to its stewards (server/ledger/write-access.ts). A treasurer of the network's book would
 * bypass that: issueApiToken refuses such a grant whatever id names the book (its Book id, its raw
 * uuid, its CreditNetwork id), and a token that holds one already (issued before the refusal) is
 * refused by the write path as well. Through real HTTP, the SDK and PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LedgerClient } from '../../client-sdk/index.js';
import type { CoopFixture } from '../helpers/coop.js';
import { type NetworkFixture, setupNetwork } from '../helpers/credit.js';
import { ledgerClient, newKey } from '../helpers/ledger.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { issueToken } from '../helpers/tokens.js';

let server: TestServer;
let admin: LedgerClient;
let network: NetworkFixture;
let coops: CoopFixture[];

beforeAll(async () => {
  server = await startTestServer({ config: { rateLimitPerSecond: 0 } });
  admin = ledgerClient(server.url);
  network = await setupNetwork(
    server.url,
    admin,
    {
      name: 'Treasurer circuit',
      unit: { code: 'TRC', scale: 2 },
      policy: { defaultLimit: '100.00', softLimitPercent: 80 },
    },
    2,
  );
  coops = network.coops;
});

afterAll(async () => {
  await server?.stop();
});

/** The members' balances as the network reports them, in member order. */
async function balances(): Promise<(string | null)[]> {
  const read = await network.steward.creditNetwork({ id: network.networkId, first: 100 });
  const byId = new Map(read!.members.edges.map((e) => [e.node.id, e.node]));
  return network.members.map((id) => byId.get(id)!.balance);
}

/** The member accounts of the network's book: [first member's, second member's]. */
async function memberAccountIds(): Promise<[string, string]> {
  const read = await network.steward.creditNetwork({ id: network.networkId, first: 100 });
  const codeOf = new Map(read!.members.edges.map((e) => [e.node.id, e.node.accountCode]));
  const page = await network.steward.accounts({ bookId: network.bookId, first: 100 });
  const idOf = new Map(page!.edges.map((e) => [e.node.code, e.node.id]));
  return [idOf.get(codeOf.get(network.members[0]!)!)!, idOf.get(codeOf.get(network.members[1]!)!)!];
}

describe("a TREASURER grant on a network's book", () => {
  it('is refused at issue time, whichever id names the book', async () => {
    for (const scope of [network.bookId, network.bookUuid, network.networkId]) {
      const payload = await admin.issueApiToken({
        principalName: `treasurer ${newKey('t')}`,
        grants: [
          { role: 'TREASURER', scope: coops[0]!.bookId },
          { role: 'TREASURER', scope },
        ],
      });
      expect({ scope, errors: payload.userErrors.map((e) => [e.code, e.field]) }).toEqual({
        scope,
        errors: [['INVALID_INPUT', 'grants[1].scope']],
      });
      expect(payload.userErrors[0]!.message).toMatch(/network/i);
      expect(payload.token ?? null).toBeNull();
    }
    // The same book stays open to its stewards, and a co-op's book to its treasurers.
    await issueToken(admin, { grants: [{ role: 'NETWORK_STEWARD', scope: network.bookId }] });
    await issueToken(admin, { grants: [{ role: 'TREASURER', scope: coops[1]!.bookId }] });
  });

  it('held by a token issued before the refusal, cannot move balances off zero-sum or past a limit', async () => {
    // A token that already holds the grant: issued for a co-op's book, the network's book added to
    // its principal as an earlier server would have stored it.
    const issued = await issueToken(admin, { grants: [{ role: 'TREASURER', scope: coops[0]!.bookId }] });
    await server.services.ledger.pool.query(
      `insert into role_grant (principal_id, role, scope_id, created_at)
       select principal_id, 'TREASURER', $1, now() from api_token where id = $2`,
      [network.bookUuid, issued.tokenId],
    );
    const treasurer = ledgerClient(server.url, { token: issued.token });
    const [first, second] = await memberAccountIds();
    const before = await balances();
    expect(before).toEqual(['0.00', '0.00']);

    // 50.00 within the limits: a payment no member made.
    const within = await treasurer.postJournalEntry({
      bookId: network.bookId,
      idempotencyKey: newKey('treasurer-post'),
      metadata: [{ key: 'credit.kind', value: 'PAYMENT' }],
      lines: [
        { accountId: first, side: 'DEBIT', amount: '50.00', unit: 'TRC' },
        { accountId: second, side: 'CREDIT', amount: '50.00', unit: 'TRC' },
      ],
    });
    expect(within.entry ?? null).toBeNull();
    expect(within.userErrors.map((e) => e.code)).toEqual(['UNKNOWN_BOOK']);

    // 500.00 from one member to the other: five times the limit.
    const moved = await treasurer.postJournalEntry({
      bookId: network.bookId,
      idempotencyKey: newKey('treasurer-post'),
      metadata: [{ key: 'credit.kind', value: 'PAYMENT' }],
      lines: [
        { accountId: first, side: 'DEBIT', amount: '500.00', unit: 'TRC' },
        { accountId: second, side: 'CREDIT', amount: '500.00', unit: 'TRC' },
      ],
    });
    expect(moved.entry ?? null).toBeNull();
    expect(moved.userErrors.map((e) => e.code)).toEqual(['UNKNOWN_BOOK']);

    // A new account on the book, which would take a balance outside the members' zero sum.
    const opened = await treasurer.createAccount({
      bookId: network.bookId,
      code: '9998',
      name: 'Side account',
      type: 'ASSET',
      unit: 'TRC',
    });
    expect(opened.account ?? null).toBeNull();
    expect(opened.userErrors.map((e) => e.code)).toEqual(['UNKNOWN_BOOK']);

    const batch = await treasurer.postJournalEntries({
      bookId: network.bookId,
      mode: 'INDEPENDENT',
      entries: [
        {
          idempotencyKey: newKey('treasurer-batch'),
          lines: [
            { accountId: first, side: 'DEBIT', amount: '1.00', unit: 'TRC' },
            { accountId: second, side: 'CREDIT', amount: '1.00', unit: 'TRC' },
          ],
        },
      ],
    });
    expect(batch.postedCount).toBe(0);

    expect(await balances()).toEqual(before);

    // Nor does it act as the network's steward: a member's limit stays the policy's.
    const raised = await treasurer.setCreditLimit({
      memberId: network.members[0]!,
      idempotencyKey: newKey('treasurer-limit'),
      limit: '100000.00',
      reason: 'a treasurer of the network book',
    });
    expect(raised.limitChange ?? null).toBeNull();
    expect(raised.userErrors.length).toBeGreaterThan(0);
    const read = await network.steward.creditNetwork({ id: network.networkId, first: 100 });
    const member = read!.members.edges.find((e) => e.node.id === network.members[0]);
    expect(member!.node.limit).toBe('100.00');

    // The same token still writes its own co-op's book.
    const own = await treasurer.accounts({ bookId: coops[0]!.bookId, first: 1 });
    expect(own!.edges.length).toBe(1);
  });
});
