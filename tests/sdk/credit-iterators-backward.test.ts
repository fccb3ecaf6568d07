/**
 * The SDK's mutual-credit iterators walk backward as the other iterators do (`{ backward: true }`,
 * which their options type offers): the server pages these connections both ways, and a backward
 * walk one node a page yields every node, last first, its first page the last node alone. Before,
 * the operations took only `first`/`after`: a backward walk sent `last`/`before`, which the
 * documents did not declare, so the server answered its default forward page (50) and the walk
 * stopped there (no hasPreviousPage selected): past 50 nodes, the rest never came.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LedgerClient } from '../../client-sdk/index.js';
import { type NetworkFixture, setupNetwork } from '../helpers/credit.js';
import { ledgerClient, newKey } from '../helpers/ledger.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
let admin: LedgerClient;
let network: NetworkFixture;

async function all<T>(iterator: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterator) out.push(item);
  return out;
}

beforeAll(async () => {
  server = await startTestServer({ config: { rateLimitPerSecond: 0 } });
  admin = ledgerClient(server.url);
  network = await setupNetwork(
    server.url,
    admin,
    {
      name: 'Backward walks',
      unit: { code: 'BWK', scale: 2 },
      currencies: [{ code: 'EUR', scale: 2 }],
      policy: { defaultLimit: '100.00' },
    },
    3,
  );
  const { coops, members } = network;
  for (const [payee, payer, amount] of [
    [0, 1, '1.00'],
    [1, 2, '2.00'],
    [2, 0, '3.00'],
  ] as const) {
    const made = await coops[payee]!.treasurer.createPaymentRequest({
      payeeId: members[payee]!,
      payerId: members[payer]!,
      amount,
      idempotencyKey: newKey('req'),
    });
    expect(made.userErrors).toEqual([]);
  }
  const recorded = await network.steward.recordObligations({
    networkId: network.networkId,
    idempotencyKey: newKey('obl'),
    obligations: [
      [0, 1, '5.00'],
      [1, 2, '6.00'],
      [2, 0, '7.00'],
    ].map(([d, c, amount], i) => ({
      debtorId: members[d as number]!,
      creditorId: members[c as number]!,
      currency: 'EUR',
      amount: amount as string,
      dueOn: '2026-03-31',
      reference: `back-${i}`,
    })),
  });
  expect(recorded.userErrors).toEqual([]);
  expect(recorded.rowErrors).toEqual([]);
});

afterAll(async () => {
  await server?.stop();
});

describe('mutual-credit iterators, backward', () => {
  it('yield every member, payment request and obligation, last first, one a page', async () => {
    const { networkId } = network;
    const forward = {
      members: (await all(admin.iterateNetworkMembers({ id: networkId, first: 1 }))).map((n) => n.id),
      requests: (await all(admin.iterateNetworkPaymentRequests({ networkId, first: 1 }))).map((n) => n.id),
      obligations: (await all(admin.iterateNetworkObligations({ networkId, first: 1 }))).map((n) => n.id),
    };
    expect([forward.members.length, forward.requests.length, forward.obligations.length]).toEqual([3, 3, 3]);
    const backward = {
      members: (await all(admin.iterateNetworkMembers({ id: networkId, last: 1 }, { backward: true }))).map(
        (n) => n.id,
      ),
      requests: (
        await all(admin.iterateNetworkPaymentRequests({ networkId, last: 1 }, { backward: true }))
      ).map((n) => n.id),
      obligations: (
        await all(admin.iterateNetworkObligations({ networkId, last: 1 }, { backward: true }))
      ).map((n) => n.id),
    };
    // One page backward of one node is the last node alone (not a page of the forward order).
    const firstPages = {
      members: (
        await all(admin.iterateNetworkMembers({ id: networkId, last: 1 }, { backward: true, maxPages: 1 }))
      ).map((n) => n.id),
      requests: (
        await all(
          admin.iterateNetworkPaymentRequests({ networkId, last: 1 }, { backward: true, maxPages: 1 }),
        )
      ).map((n) => n.id),
      obligations: (
        await all(admin.iterateNetworkObligations({ networkId, last: 1 }, { backward: true, maxPages: 1 }))
      ).map((n) => n.id),
    };
    expect(firstPages).toEqual({
      members: forward.members.slice(-1),
      requests: forward.requests.slice(-1),
      obligations: forward.obligations.slice(-1),
    });
    expect(backward).toEqual({
      members: [...forward.members].reverse(),
      requests: [...forward.requests].reverse(),
      obligations: [...forward.obligations].reverse(),
    });
  });
  it('walk committed clearings both ways, one a page, with their pageInfo', async () => {
    const { networkId, steward, members } = network;
    // Two clearings of the cycle 0 -> 1 -> 2 -> 0: the first sets off 5.00 of each obligation
    // (5.00, 6.00, 7.00 recorded above), the second 1.00 of a new cycle of 1.00 each.
    const first = await steward.commitClearing({ networkId, currency: 'EUR', idempotencyKey: newKey('clr') });
    expect(first.userErrors).toEqual([]);
    expect(first.clearing?.setoffTotal).toBe('15.00');
    const again = await steward.recordObligations({
      networkId,
      idempotencyKey: newKey('obl'),
      obligations: [0, 1, 2].map((d) => ({
        debtorId: members[d]!,
        creditorId: members[(d + 1) % 3]!,
        currency: 'EUR',
        amount: '1.00',
        dueOn: '2026-03-31',
        reference: `again-${d}`,
      })),
    });
    expect(again.userErrors).toEqual([]);
    const second = await steward.commitClearing({
      networkId,
      currency: 'EUR',
      idempotencyKey: newKey('clr'),
    });
    expect(second.userErrors).toEqual([]);
    const page = await steward.networkClearings({ networkId, first: 1 });
    expect(page!.clearings.totalCount).toBe(2);
    expect(page!.clearings.pageInfo.hasNextPage).toBe(true);
    expect(page!.clearings.edges[0]!.node.lines.pageInfo.hasNextPage).toBe(false);
    const forward = (await all(steward.iterateNetworkClearings({ networkId, first: 1 }))).map((c) => c.id);
    expect(forward).toHaveLength(2);
    expect(new Set(forward)).toEqual(new Set([first.clearing!.id, second.clearing!.id]));
    const backward = (
      await all(steward.iterateNetworkClearings({ networkId, last: 1 }, { backward: true }))
    ).map((c) => c.id);
    expect(backward).toEqual([...forward].reverse());
  });
});
