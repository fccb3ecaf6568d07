/**
 * A mutual-credit network for the integration tests, through the API and the SDK: created by the
 * admin, a steward (a NETWORK_STEWARD token on its book), and co-ops (made here, or given) joined
 * by that steward, in order.
 */
import { expect } from 'vitest';
import type { CreateCreditNetworkInput, LedgerClient } from '../../client-sdk/index.js';
import { type CoopFixture, setupCoop } from './coop.js';
import { decodeGlobalId, ledgerClient, newKey } from './ledger.js';
import { issueToken } from './tokens.js';

export interface NetworkFixture {
  networkId: string;
  /** The network's book: its Book global id and its raw uuid. */
  bookId: string;
  bookUuid: string;
  steward: LedgerClient;
  /** The member co-ops, and their member ids in the same order. */
  coops: CoopFixture[];
  members: string[];
}

export async function setupNetwork(
  url: string,
  admin: LedgerClient,
  network: Omit<CreateCreditNetworkInput, 'idempotencyKey'>,
  coops: number | CoopFixture[],
): Promise<NetworkFixture> {
  const created = await admin.createCreditNetwork({ ...network, idempotencyKey: newKey('net') });
  expect(created.userErrors).toEqual([]);
  const networkId = created.network!.id;
  const bookId = created.network!.bookId;
  const bookUuid = decodeGlobalId(bookId).bookId;
  const issued = await issueToken(admin, { grants: [{ role: 'NETWORK_STEWARD', scope: bookUuid }] });
  const steward = ledgerClient(url, { token: issued.token });
  const fixtures: CoopFixture[] = [];
  const members: string[] = [];
  const count = typeof coops === 'number' ? coops : coops.length;
  for (let i = 0; i < count; i++) {
    const coop = typeof coops === 'number' ? await setupCoop(url, admin) : coops[i]!;
    fixtures.push(coop);
    const joined = await steward.joinCreditNetwork({
      networkId,
      coopId: coop.id,
      idempotencyKey: newKey('join'),
    });
    expect(joined.userErrors).toEqual([]);
    members.push(joined.member!.id);
  }
  return { networkId, bookId, bookUuid, steward, coops: fixtures, members };
}
