/**
 * A service process keeps its cities' latest release ids (server/reporting/latest.ts): a release
 * published through another service process is served by this one right after, not the release it
 * had kept. Two processes on the same database: this test's server and a spawned one.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { LedgerClient } from '../../client-sdk/index.js';
import { addMonths, postRevenue, setupCoop, today } from '../helpers/coop.js';
import { ledgerClient, uniqueSuffix } from '../helpers/ledger.js';
import {
  type ServerProcess,
  spawnServerProcess,
  startTestServer,
  type TestServer,
} from '../helpers/server.js';
import { issueToken } from '../helpers/tokens.js';

let server: TestServer;
let other: ServerProcess;
let here: LedgerClient;
let there: LedgerClient;
const city = `Listenton ${uniqueSuffix()}`;
const month = (offset: number) => addMonths(today(), offset).slice(0, 7);

beforeAll(async () => {
  [server, other] = await Promise.all([startTestServer(), spawnServerProcess()]);
  const admin = ledgerClient(server.url, { token: server.adminToken });
  for (const name of ['L1', 'L2', 'L3']) {
    const coop = await setupCoop(server.url, admin, {
      city,
      neighbourhood: 'Harbour',
      naicsCode: '311811',
      foundedOn: `${month(-4)}-01`,
      dataSharingConsent: true,
      name: `${name} ${uniqueSuffix()}`,
    });
    await postRevenue(coop, month(-2), '1000.00');
  }
  const token = (await issueToken(admin, { grants: [{ role: 'CITY_ANALYST', scope: city }] })).token;
  here = ledgerClient(server.url, { token });
  there = ledgerClient(other.url, { token });
});
afterAll(async () => {
  await other?.stop();
  await server?.stop();
});

it('serves a release published through another service process right after', async () => {
  const first = await here.publishCityReport({ city, currency: 'USD', throughMonth: month(-2) });
  expect(first.userErrors).toEqual([]);
  // Read here a few times (kept once this process listens), with pauses for its listener to connect.
  for (let i = 0; i < 5; i++) {
    const answer = await here.cityReport({ city, measures: ['COOPS'] });
    expect(answer.userErrors).toEqual([]);
    expect(answer.release?.id).toBe(first.release!.id);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const second = await there.publishCityReport({ city, currency: 'USD', throughMonth: month(-1) });
  expect(second.userErrors).toEqual([]);
  expect(second.release!.id).not.toBe(first.release!.id);
  // Right after: the notification is heard when the other process's transaction commits, before
  // its answer reaches us; a short wait covers its delivery to this process's listener.
  await new Promise((resolve) => setTimeout(resolve, 100));
  for (let i = 0; i < 3; i++) {
    const answer = await here.cityReport({ city, measures: ['COOPS'] });
    expect(answer.userErrors).toEqual([]);
    expect(answer.release?.id).toBe(second.release!.id);
  }
});
