/**
 * Consent and NO_DATA (issue 15): a city whose four co-ops were founded five months ago and
 * consented to share data at the start of the third of those months. Their revenue of months 1-2
 * never contributes; those months' money cells are NO_DATA (value null, not suppressed), not a
 * zero, while their COOPS cells say 0; from month 3 on the cells are the true sums.
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
let analyst: LedgerClient;
const city = `Lateconsent ${uniqueSuffix()}`;
const month = (offset: number) => addMonths(today(), offset).slice(0, 7);
/** Months 1..5 of the co-ops' life: month(-5) .. month(-1). */
const MONTHS = [month(-5), month(-4), month(-3), month(-2), month(-1)];
const REVENUES = [1000, 1100, 1200, 1300];
const coops: CoopFixture[] = [];

beforeAll(async () => {
  server = await startTestServer();
  admin = ledgerClient(server.url, { token: server.adminToken });
  db = await connectPg();
  for (const revenue of REVENUES) {
    const fixture = await setupCoop(server.url, admin, {
      city,
      neighbourhood: 'Riverside',
      naicsCode: '311811',
      foundedOn: `${MONTHS[0]}-01`,
      dataSharingConsent: true,
    });
    coops.push(fixture);
    for (const [i, m] of MONTHS.entries()) {
      const amount = (revenue + i).toFixed(2);
      await postRevenue(fixture, m, amount);
    }
  }
  // Every co-op consents on the first day of month 3.
  await db.query('update coop set data_sharing_consent_at = $2::date where book_id = any($1::uuid[])', [
    coops.map((c) => c.bookUuid),
    `${MONTHS[2]}-01`,
  ]);
  analyst = ledgerClient(server.url, {
    token: (await issueToken(admin, { grants: [{ role: 'CITY_ANALYST', scope: city }] })).token,
  });
});
afterAll(async () => {
  await db?.end();
  await server?.stop();
});

const revenueOfMonth = (i: number) => REVENUES.reduce((a, r) => a + r + i, 0).toFixed(2);

describe('consent and NO_DATA', () => {
  it('months before consent are NO_DATA for money, COOPS says 0, and real values follow', async () => {
    const published = await analyst.publishCityReport({ city, currency: 'USD' });
    expect(published.userErrors).toEqual([]);
    expect(published.release!.contributors).toBe(4);
    const answer = await analyst.cityReport({
      city,
      measures: ['REVENUE', 'WAGES', 'COOPS', 'FOUNDED'],
      from: MONTHS[0],
      to: MONTHS[4],
      groupBy: ['NEIGHBOURHOOD'],
      margins: true,
    });
    expect(answer.userErrors).toEqual([]);
    const cell = (measure: string, period: string, neighbourhood = 'TOTAL') =>
      answer.cells.find(
        (c) => c.measure === measure && c.period === period && c.neighbourhood === neighbourhood,
      )!;
    for (const nbh of ['TOTAL', 'Riverside']) {
      for (const m of MONTHS.slice(0, 2)) {
        for (const measure of ['REVENUE', 'WAGES']) {
          expect(cell(measure, m, nbh)).toMatchObject({
            value: null,
            status: 'NO_DATA',
            suppressed: false,
            reason: null,
          });
        }
        // The count of co-ops of the period already says there are none: a real 0.
        expect(cell('COOPS', m, nbh)).toMatchObject({ value: '0', status: 'PUBLISHED', suppressed: false });
      }
      for (const [i, m] of MONTHS.entries()) {
        if (i < 2) continue;
        expect(cell('REVENUE', m, nbh)).toMatchObject({
          value: revenueOfMonth(i),
          status: 'PUBLISHED',
          suppressed: false,
        });
        // A consenting co-op that paid no wages: a real zero, not NO_DATA.
        expect(cell('WAGES', m, nbh)).toMatchObject({ value: '0.00', status: 'PUBLISHED' });
        expect(cell('COOPS', m, nbh)).toMatchObject({ value: '4', status: 'PUBLISHED' });
      }
    }
    // The founding month is before consent: no co-op founded is counted there (FOUNDED is a figure).
    expect(cell('FOUNDED', MONTHS[0]!)).toMatchObject({ value: '0', status: 'PUBLISHED' });
  });

  it('a period that holds the consent month sums only the months from consent on', async () => {
    const answer = await analyst.cityReport({ city, measures: ['REVENUE'], granularity: 'QUARTER' });
    expect(answer.userErrors).toEqual([]);
    const firstQuarterWithData = answer.cells.find((c) => c.status === 'PUBLISHED');
    expect(firstQuarterWithData).toBeDefined();
    // Every quarter before the consent month is NO_DATA; the one holding it counts from it on.
    const quarterOf = (m: string) => `${m.slice(0, 4)}-Q${Math.ceil(Number(m.slice(5, 7)) / 3)}`;
    const consentQuarter = quarterOf(MONTHS[2]!);
    for (const c of answer.cells) {
      if (c.period < consentQuarter) expect(c).toMatchObject({ status: 'NO_DATA', value: null });
    }
    const q = answer.cells.find((c) => c.period === consentQuarter);
    if (q) {
      const monthsInQuarter = MONTHS.map((m, i) => [m, i] as const).filter(
        ([m, i]) => i >= 2 && quarterOf(m) === consentQuarter,
      );
      const expected = monthsInQuarter.reduce((a, [, i]) => a + Number(revenueOfMonth(i)), 0).toFixed(2);
      expect(q).toMatchObject({ status: 'PUBLISHED', value: expected });
    }
  });
});
