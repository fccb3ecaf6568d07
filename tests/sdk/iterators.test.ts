/**
 * The SDK's iterators over mutual-credit and patronage connections, against a small demo city made
 * by the seed script's code: walking two at a time yields exactly what one full page holds, in the
 * same order, and a list the caller may not read yields nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLedgerClient, type LedgerClient } from '../../client-sdk/index.js';
import { planCity } from '../../scripts/lib/demo-city.js';
import { ProgressBar } from '../../scripts/lib/progress.js';
import { plannedSteps, type Summary, seed } from '../../scripts/seed-demo.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { issueToken } from '../helpers/tokens.js';

let server: TestServer;
let admin: LedgerClient;
let summary: Summary;
let patronageCoopIds: string[];

async function all<T>(iterator: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterator) out.push(item);
  return out;
}

beforeAll(async () => {
  server = await startTestServer({ config: { rateLimitPerSecond: 0 } });
  admin = createLedgerClient({ url: server.url, token: server.adminToken });
  const city = `Iterburg ${process.pid}`;
  const now = new Date();
  // The seed ends with the city's first report release; consents from two months back keep its
  // table (and the audit before it) to the last couple of months: this file is about iterators.
  const consentFrom = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 2, 1))
    .toISOString()
    .slice(0, 10);
  const plan = planCity({
    seed: 11,
    coops: 9,
    members: 90,
    city,
    today: now.toISOString().slice(0, 10),
    consentFrom,
  });
  summary = await seed(admin, plan, new ProgressBar(plannedSteps(plan), { quiet: true }));
  patronageCoopIds = [];
  for await (const coop of admin.iterateCoops()) {
    if (coop.city !== city) continue;
    const runs = await admin.patronageRuns({ coopId: coop.id, first: 10 });
    if ((runs?.edges.length ?? 0) > 0) patronageCoopIds.push(coop.id);
  }
}, 180_000);

afterAll(async () => {
  await server?.stop();
});

describe('iterators over credit and patronage connections', () => {
  it('walks network members, payment requests and obligations two at a time as one page holds them', async () => {
    const networkId = summary.networkId;
    const members = await all(admin.iterateNetworkMembers({ id: networkId, first: 2 }));
    expect(members.length).toBe(summary.networkMembers);
    expect(members.length).toBeGreaterThan(2);
    const page = await admin.creditNetwork({ id: networkId, first: 100 });
    expect(members.map((m) => m.id)).toEqual(page!.members.edges.map((e) => e.node.id));

    const obligations = await all(admin.iterateNetworkObligations({ networkId, first: 2 }));
    expect(obligations.length).toBeGreaterThan(2);
    const obligationPage = await admin.networkObligations({ networkId, first: 100 });
    expect(obligations.map((o) => o.id)).toEqual(obligationPage!.obligations.edges.map((e) => e.node.id));

    const requests = await all(admin.iterateNetworkPaymentRequests({ networkId, first: 2 }));
    const requestPage = await admin.networkPaymentRequests({ networkId, first: 100 });
    expect(requests.map((r) => r.id)).toEqual(requestPage!.paymentRequests.edges.map((e) => e.node.id));

    const networks = await all(admin.iterateCreditNetworks({ first: 1 }));
    expect(networks.map((n) => n.id)).toContain(networkId);
  });

  it('walks patronage runs and records two at a time', async () => {
    expect(patronageCoopIds.length).toBeGreaterThan(0);
    const coopId = patronageCoopIds[0]!;
    const runs = await all(admin.iteratePatronageRuns({ coopId, first: 2 }));
    expect(runs).toHaveLength(1);
    const records = await all(admin.iteratePatronageRecords({ coopId, first: 2 }));
    expect(records.length).toBeGreaterThanOrEqual(5);
    const page = await admin.patronageRecords({ coopId, first: 100 });
    expect(records.map((r) => r.id)).toEqual(page!.edges.map((e) => e.node.id));
  });

  it('yields nothing for a network or co-op the caller may not read', async () => {
    const { book } = await admin.createBook({ name: 'Elsewhere', units: [{ code: 'USD', scale: 2 }] });
    const { token } = await issueToken(admin, { grants: [{ role: 'TREASURER', scope: book!.id }] });
    const outsider = createLedgerClient({ url: server.url, token });
    expect(await all(outsider.iterateNetworkMembers({ id: summary.networkId }))).toEqual([]);
    expect(await all(outsider.iterateNetworkObligations({ networkId: summary.networkId }))).toEqual([]);
    expect(await all(outsider.iteratePatronageRecords({ coopId: patronageCoopIds[0]! }))).toEqual([]);
  });
});
