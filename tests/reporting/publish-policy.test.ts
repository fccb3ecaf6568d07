/**
 * Who sets the disclosure rules a release is protected by (issue 15, audit of 2026-12-07).
 *
 * The attacker of city reporting is the city's own office: a CITY_ANALYST may publish its city's
 * next release, and publishCityReport takes an optional policy. An analyst who could lower it
 * (one contributor enough, dominance and p% off) would publish a release whose cells are single
 * co-ops' books: no query shape has to get around protection when the analyst can switch it off.
 * So an analyst may only publish with rules at least as strict as the defaults; an ADMIN (the
 * operator) configures weaker ones.
 */
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LedgerClient } from '../../client-sdk/index.js';
import { addMonths, type CoopFixture, postRevenue, setupCoop, today } from '../helpers/coop.js';
import { connectPg, ledgerClient, uniqueSuffix } from '../helpers/ledger.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { issueToken } from '../helpers/tokens.js';

let server: TestServer;
let admin: LedgerClient;
let analyst: LedgerClient;
let db: pg.Client;
const city = `Policyton ${uniqueSuffix()}`;
const M2 = addMonths(today(), -2).slice(0, 7);
const coops: CoopFixture[] = [];

beforeAll(async () => {
  server = await startTestServer();
  admin = ledgerClient(server.url, { token: server.adminToken });
  db = await connectPg();
  // Two co-ops, each alone in its neighbourhood: every cell but the city's totals is one co-op.
  for (const [neighbourhood, revenue] of [
    ['North', '1234.56'],
    ['South', '987.65'],
  ] as const) {
    const fixture = await setupCoop(server.url, admin, {
      city,
      neighbourhood,
      naicsCode: '311811',
      foundedOn: `${addMonths(today(), -4).slice(0, 7)}-01`,
      dataSharingConsent: true,
    });
    await postRevenue(fixture, M2, revenue);
    coops.push(fixture);
  }
  await db.query('update coop set data_sharing_consent_at = $2::date where book_id = any($1::uuid[])', [
    coops.map((c) => c.bookUuid),
    `${addMonths(today(), -4).slice(0, 7)}-01`,
  ]);
  analyst = ledgerClient(server.url, {
    token: (await issueToken(admin, { grants: [{ role: 'CITY_ANALYST', scope: city }] })).token,
  });
});
afterAll(async () => {
  await db?.end();
  await server?.stop();
});

describe('the disclosure policy of a release', () => {
  it('an analyst cannot weaken the rules: the release is refused and nothing is published', async () => {
    const weak = await analyst.publishCityReport({
      city,
      currency: 'USD',
      throughMonth: M2,
      policy: { minContributors: 1, dominanceK: 100, pPercent: 0, safetyPercent: 0 },
    });
    expect(weak.release).toBeNull();
    expect(weak.userErrors.map((e) => [e.code, e.field])).toEqual([
      ['INVALID_INPUT', 'policy.minContributors'],
    ]);
    // Each rule alone, too.
    for (const [name, value] of [
      ['minContributors', 2],
      ['dominanceN', 1],
      ['dominanceK', 86],
      ['pPercent', 9],
      ['safetyPercent', 9],
    ] as const) {
      const one = await analyst.publishCityReport({
        city,
        currency: 'USD',
        throughMonth: M2,
        policy: { [name]: value },
      });
      expect(one.userErrors.map((e) => [e.code, e.field])).toEqual([['INVALID_INPUT', `policy.${name}`]]);
    }
    // Nothing was published: North's revenue (one co-op's books) is readable nowhere.
    const read = await analyst.cityReport({ city, measures: ['REVENUE'], groupBy: ['NEIGHBOURHOOD'] });
    expect(read.userErrors.map((e) => e.code)).toEqual(['NO_RELEASE']);
  });

  it('an analyst may publish stricter rules than the defaults', async () => {
    const strict = await analyst.publishCityReport({
      city,
      currency: 'USD',
      throughMonth: M2,
      policy: { minContributors: 4, dominanceN: 3, dominanceK: 70, pPercent: 20, safetyPercent: 15 },
    });
    expect(strict.userErrors).toEqual([]);
    expect(strict.release!.policy).toEqual({
      minContributors: 4,
      dominanceN: 3,
      dominanceK: 70,
      pPercent: 20,
      safetyPercent: 15,
    });
    const read = await analyst.cityReport({
      city,
      measures: ['REVENUE'],
      groupBy: ['NEIGHBOURHOOD'],
      from: M2,
      to: M2,
    });
    expect(read.userErrors).toEqual([]);
    expect(read.cells.length).toBeGreaterThan(0);
    for (const c of read.cells) expect(c).toMatchObject({ value: null, suppressed: true });
  });

  it('an administrator (the operator) may still configure weaker rules', async () => {
    const M1 = addMonths(today(), -1).slice(0, 7);
    const weak = await admin.publishCityReport({
      city,
      currency: 'USD',
      throughMonth: M1,
      policy: { minContributors: 2, pPercent: 5 },
    });
    expect(weak.userErrors).toEqual([]);
    expect(weak.release!.policy).toMatchObject({ minContributors: 2, pPercent: 5 });
  });
});

describe('rules changed between releases', () => {
  it('a stricter release after a default one keeps what was published, protects the new months or is refused', async () => {
    // Three co-ops of one neighbourhood, sector and kind, alike: under the defaults every cell of
    // theirs is published; under minContributors 4 the same cells of the new month are hidden.
    const town = `Stricter ${uniqueSuffix()}`;
    const founded = `${addMonths(today(), -4).slice(0, 7)}-01`;
    const M1 = addMonths(today(), -1).slice(0, 7);
    const trio: CoopFixture[] = [];
    for (const revenue of ['1000.00', '1100.00', '1200.00']) {
      const fixture = await setupCoop(server.url, admin, {
        city: town,
        neighbourhood: 'Centre',
        naicsCode: '311811',
        foundedOn: founded,
        dataSharingConsent: true,
      });
      await postRevenue(fixture, M2, revenue);
      await postRevenue(fixture, M1, revenue);
      trio.push(fixture);
    }
    await db.query('update coop set data_sharing_consent_at = $2::date where book_id = any($1::uuid[])', [
      trio.map((c) => c.bookUuid),
      founded,
    ]);
    const townAnalyst = ledgerClient(server.url, {
      token: (await issueToken(admin, { grants: [{ role: 'CITY_ANALYST', scope: town }] })).token,
    });
    const first = await townAnalyst.publishCityReport({ city: town, currency: 'USD', throughMonth: M2 });
    expect(first.userErrors).toEqual([]);
    // minContributors 4: the new month's count of 3 co-ops would be hidden, but last month's
    // published 3 and this month's EMPTY founded and closed give it away (the stock identity):
    // refused with its reason, nothing kept (an internal error before).
    const counted = await townAnalyst.publishCityReport({
      city: town,
      currency: 'USD',
      throughMonth: M1,
      policy: { minContributors: 4 },
    });
    expect(counted.userErrors.map((e) => e.code)).toEqual(['RELEASE_NOT_PROTECTED']);
    // Dominance at 60%: 1,200 + 1,100 of 3,300 is 69.7%. Last month's revenue, published under
    // the defaults, stays published (an internal error before); the new month's is hidden.
    const second = await townAnalyst.publishCityReport({
      city: town,
      currency: 'USD',
      throughMonth: M1,
      policy: { dominanceK: 60 },
    });
    expect(second.userErrors).toEqual([]);
    const read = await townAnalyst.cityReport({ city: town, measures: ['REVENUE'], from: M2, to: M1 });
    const at = (period: string) => read.cells.find((c) => c.period === period)!;
    expect(at(M2)).toMatchObject({ value: '3300.00', suppressed: false });
    expect(at(M1)).toMatchObject({ value: null, suppressed: true, reason: 'DOMINANCE' });
  });
});
