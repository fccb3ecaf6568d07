/**
 * A preview read page by page is one computation (issue 13's follow-up: a 10,000-member co-op read
 * 100 members a page was 100 requests, each recomputing the whole run). Through real HTTP, the SDK
 * and real PostgreSQL: a first page computes the preview anew; the pages after it (after/before)
 * are slices of that computation, even when the co-op's patronage changed in between; the next
 * first page sees the change.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LedgerClient } from '../../client-sdk/index.js';
import type { CoopFixture } from '../helpers/coop.js';
import { ledgerClient } from '../helpers/ledger.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { activeMember, type Member, patronageCoop, record, setPolicy } from './helpers.js';

let server: TestServer;
let admin: LedgerClient;
let coop: CoopFixture;
let a: Member;
let b: Member;

beforeAll(async () => {
  server = await startTestServer({ config: { rateLimitPerSecond: 0 } });
  admin = ledgerClient(server.url);
  const setup = await patronageCoop(server.url, admin);
  coop = setup.coop;
  a = await activeMember(coop, setup.classId, 'Ada Pages', '2024-01-01');
  b = await activeMember(coop, setup.classId, 'Bo Pages', '2024-01-01');
  await setPolicy(coop, {
    measures: [{ code: 'HOURS', kind: 'HOURS', unit: { code: 'HOUR', scale: 2 }, weight: '1' }],
    reservePercent: '0',
    revolvingYears: 3,
  });
  await record(coop, [
    { member: a, measure: 'HOURS', from: '2025-01-01', to: '2025-01-31', quantity: '30.00' },
    { member: b, measure: 'HOURS', from: '2025-01-01', to: '2025-01-31', quantity: '10.00' },
  ]);
});

afterAll(async () => {
  await server?.stop();
});

const page = async (after: string | null = null, before: string | null = null) => {
  const { preview, userErrors } = await coop.treasurer.previewPatronageAllocation({
    coopId: coop.id,
    fiscalYear: 2025,
    surplus: '100.00',
    allocatedOn: '2026-01-31',
    ...(before === null ? { first: 1, after } : { last: 1, before }),
  });
  expect(userErrors).toEqual([]);
  const p = preview!;
  return {
    inputsHash: p.inputsHash,
    totalCount: p.allocations.totalCount,
    endCursor: p.allocations.pageInfo.endCursor ?? null,
    startCursor: p.allocations.pageInfo.startCursor ?? null,
    rows: p.allocations.edges.map(({ node }) => [node.memberNumber, node.allocation]),
  };
};

describe('previewPatronageAllocation read page by page', () => {
  it('pages after the first are slices of the first page’s computation; a first page computes anew', async () => {
    const first = await page();
    expect(first.rows).toEqual([[a.number, '75.00']]);
    // B's patronage grows between the first page and the second.
    await record(coop, [
      { member: b, measure: 'HOURS', from: '2025-02-01', to: '2025-02-28', quantity: '20.00' },
    ]);
    const second = await page(first.endCursor);
    expect([second.inputsHash, second.totalCount, second.rows]).toEqual([
      first.inputsHash,
      2,
      [[b.number, '25.00']],
    ]);
    // Backward from B too: the same computation.
    const back = await page(null, second.startCursor);
    expect([back.inputsHash, back.rows]).toEqual([first.inputsHash, [[a.number, '75.00']]]);

    // A first page again: the change is seen, and its later pages are of the new computation.
    const again = await page();
    expect(again.inputsHash).not.toBe(first.inputsHash);
    expect(again.rows).toEqual([[a.number, '50.00']]);
    const next = await page(again.endCursor);
    expect([next.inputsHash, next.rows]).toEqual([again.inputsHash, [[b.number, '50.00']]]);
  });

  it('a later page with nothing computed for it (another request) computes it', async () => {
    const { preview } = await coop.treasurer.previewPatronageAllocation({
      coopId: coop.id,
      fiscalYear: 2025,
      surplus: '200.00',
      allocatedOn: '2026-01-31',
      first: 1,
      after: (await page()).endCursor,
    });
    expect(preview!.allocations.edges.map(({ node }) => [node.memberNumber, node.allocation])).toEqual([
      [b.number, '100.00'],
    ]);
  });
});
