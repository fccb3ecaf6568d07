/**
 * City reporting through real HTTP and the SDK (issue 15): a small city of co-ops with revenue
 * posted to their books, a cell of 2 co-ops, a cell one co-op dominates, a co-op that never
 * consented and one that consented later; releases published by the city's analyst; a random
 * attacker's queries (filters, groupings, windows) checked cell by cell against the release's full
 * protected table (its export); two consecutive releases; who may read what.
 */
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LedgerClient } from '../../client-sdk/index.js';
import { addMonths, type CoopFixture, postRevenue, setupCoop, today } from '../helpers/coop.js';
import { connectPg, ledgerClient, seededRandom, uniqueSuffix } from '../helpers/ledger.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { issueToken } from '../helpers/tokens.js';

let server: TestServer;
let admin: LedgerClient;
let db: pg.Client;
const city = `Reportton ${uniqueSuffix()}`;
const otherCity = `Elsewhere ${uniqueSuffix()}`;
let analyst: LedgerClient;
let otherAnalyst: LedgerClient;
const month = (offset: number) => addMonths(today(), offset).slice(0, 7);
const M1 = month(-1);
const M2 = month(-2);
const M3 = month(-3);

interface Spec {
  name: string;
  neighbourhood: string;
  naicsCode: string;
  revenue: number;
  consent: boolean;
}
const SPECS: Spec[] = [
  ...['A1', 'A2', 'A3'].map((name, i) => ({
    name,
    neighbourhood: 'North',
    naicsCode: '311811',
    revenue: 1000 + i * 37,
    consent: true,
  })),
  ...['B1', 'B2', 'B3'].map((name, i) => ({
    name,
    neighbourhood: 'North',
    naicsCode: '541511',
    revenue: 900 + i * 53,
    consent: true,
  })),
  // Two co-ops only: THRESHOLD.
  ...['C1', 'C2'].map((name, i) => ({
    name,
    neighbourhood: 'South',
    naicsCode: '311811',
    revenue: 1100 + i * 71,
    consent: true,
  })),
  // One co-op makes 96% of the cell: DOMINANCE.
  { name: 'D1', neighbourhood: 'South', naicsCode: '541511', revenue: 5000, consent: true },
  { name: 'D2', neighbourhood: 'South', naicsCode: '541511', revenue: 100, consent: true },
  { name: 'D3', neighbourhood: 'South', naicsCode: '541511', revenue: 110, consent: true },
  // Never consents.
  { name: 'E1', neighbourhood: 'North', naicsCode: '311811', revenue: 777, consent: false },
  // Consents in the middle of M2: counts from M1 on.
  { name: 'E2', neighbourhood: 'North', naicsCode: '541511', revenue: 555, consent: true },
];
const coops = new Map<string, CoopFixture>();

beforeAll(async () => {
  server = await startTestServer();
  admin = ledgerClient(server.url, { token: server.adminToken });
  db = await connectPg();
  const foundedOn = `${month(-4)}-01`;
  for (const s of SPECS) {
    const fixture = await setupCoop(server.url, admin, {
      city,
      neighbourhood: s.neighbourhood,
      naicsCode: s.naicsCode,
      foundedOn,
      dataSharingConsent: s.consent,
    });
    coops.set(s.name, fixture);
    for (const [m, factor] of [
      [M3, 1],
      [M2, 1],
      [M1, 2],
    ] as const) {
      const amount = (s.revenue * factor).toFixed(2);
      await postRevenue(fixture, m, amount);
    }
  }
  // Every consent dates from before the months reported, but E2's from the middle of M2.
  const ids = [...coops.values()].map((c) => c.bookUuid);
  await db.query(
    `update coop set data_sharing_consent_at = $2::date where book_id = any($1::uuid[]) and data_sharing_consent`,
    [ids, `${month(-4)}-01`],
  );
  await db.query('update coop set data_sharing_consent_at = $2::date where book_id = $1', [
    coops.get('E2')!.bookUuid,
    `${M2}-15`,
  ]);
  analyst = ledgerClient(server.url, {
    token: (await issueToken(admin, { grants: [{ role: 'CITY_ANALYST', scope: city }] })).token,
  });
  otherAnalyst = ledgerClient(server.url, {
    token: (await issueToken(admin, { grants: [{ role: 'CITY_ANALYST', scope: otherCity }] })).token,
  });
});
afterAll(async () => {
  await db?.end();
  await server?.stop();
});

type Cell = {
  neighbourhood: string;
  sector: string;
  kind: string;
  measure: string;
  period: string;
  value: string | null;
  suppressed: boolean;
  reason: string | null;
};

async function fullTable(releaseId: string): Promise<Map<string, Cell>> {
  const out = await analyst.cityReportExport({ city, releaseId, format: 'JSON' });
  expect(out.userErrors).toEqual([]);
  const parsed = JSON.parse(out.content!) as { cells: Cell[] };
  return new Map(parsed.cells.map((c) => [key(c), c]));
}
const key = (c: Pick<Cell, 'neighbourhood' | 'sector' | 'kind' | 'measure' | 'period'>) =>
  `${c.neighbourhood}|${c.sector}|${c.kind}|${c.measure}|${c.period}`;

const revenueOf = (names: string[], factor: number) =>
  names.reduce((a, n) => a + SPECS.find((s) => s.name === n)!.revenue * factor, 0).toFixed(2);

describe('city reporting', () => {
  let first: string;
  let second: string;

  it('publishes a release only for the city’s analyst, protected and audited', async () => {
    const refused = await otherAnalyst.publishCityReport({ city, currency: 'USD', throughMonth: M2 });
    expect(refused.userErrors.map((e) => e.code)).toEqual(['NO_RELEASE']);
    const treasurer = coops.get('A1')!.treasurer;
    expect(
      (await treasurer.publishCityReport({ city, currency: 'USD', throughMonth: M2 })).userErrors[0]?.code,
    ).toBe('NO_RELEASE');
    const published = await analyst.publishCityReport({ city, currency: 'USD', throughMonth: M2 });
    expect(published.userErrors).toEqual([]);
    const release = published.release!;
    first = release.id;
    expect(release.seq).toBe(1);
    expect(release.throughMonth).toBe(M2);
    // E1 never consented; E2 had not consented by M2: 11 of the 13 co-ops.
    expect(release.contributors).toBe(11);
    expect(release.primarySuppressed).toBeGreaterThan(0);
    expect(release.complementarySuppressed).toBeGreaterThan(0);
    expect(release.auditedCells).toBeGreaterThanOrEqual(release.primarySuppressed);
    expect(release.auditSkipped).toBe(0);
    const again = await analyst.publishCityReport({ city, currency: 'USD', throughMonth: M2 });
    expect(again.userErrors.map((e) => e.code)).toEqual(['RELEASE_UP_TO_DATE']);
  });

  it('hides a cell of 2 co-ops and a dominated cell with their reasons, never as zero', async () => {
    const result = await analyst.cityReport({
      city,
      measures: ['REVENUE'],
      groupBy: ['NEIGHBOURHOOD', 'SECTOR'],
      from: M2,
      to: M2,
    });
    expect(result.userErrors).toEqual([]);
    const at = (n: string, s: string) =>
      result.cells.find((c) => c.neighbourhood === n && c.sector === s && c.kind === 'TOTAL')!;
    expect(at('South', '31')).toMatchObject({ value: null, suppressed: true, reason: 'THRESHOLD' });
    expect(at('South', '54')).toMatchObject({ value: null, suppressed: true, reason: 'DOMINANCE' });
    for (const c of result.cells) if (c.suppressed) expect(c.value).toBeNull();
    // A published cell is the true sum of the consenting co-ops in it.
    const truth: [string, string, string[]][] = [
      ['North', '31', ['A1', 'A2', 'A3']],
      ['North', '54', ['B1', 'B2', 'B3']],
      ['North', 'TOTAL', ['A1', 'A2', 'A3', 'B1', 'B2', 'B3']],
      ['TOTAL', '31', ['A1', 'A2', 'A3', 'C1', 'C2']],
      ['TOTAL', '54', ['B1', 'B2', 'B3', 'D1', 'D2', 'D3']],
    ];
    let published = 0;
    for (const [n, s, names] of truth) {
      const c = at(n, s);
      if (c.suppressed) continue;
      published++;
      expect(c.value, `${n}/${s}`).toBe(revenueOf(names, 1));
    }
    expect(published).toBeGreaterThan(0);
    // Neither margin gives the hidden cells away: something else in South's row is hidden too.
    const south = result.cells.filter(
      (c) => c.neighbourhood === 'South' && c.sector !== 'TOTAL' && c.suppressed,
    );
    expect(south.length).toBeGreaterThanOrEqual(2);
    const hiddenElsewhere = result.cells.filter((c) => c.neighbourhood !== 'South' && c.suppressed);
    expect(hiddenElsewhere.length).toBeGreaterThan(0);
  });

  it('a co-op without consent never counts; one that consents later counts from its consent date', async () => {
    const second_ = await analyst.publishCityReport({ city, currency: 'USD' });
    expect(second_.userErrors).toEqual([]);
    second = second_.release!.id;
    expect(second_.release!.throughMonth).toBe(M1);
    expect(second_.release!.contributors).toBe(12);
    const total = await analyst.cityReport({ city, measures: ['REVENUE', 'COOPS'], from: M2, to: M1 });
    const cell = (m: string, p: string) => total.cells.find((c) => c.measure === m && c.period === p)!;
    const consenting = SPECS.filter((s) => s.consent && s.name !== 'E2').map((s) => s.name);
    expect(cell('REVENUE', M2)).toMatchObject({ value: revenueOf(consenting, 1), suppressed: false });
    expect(cell('REVENUE', M1)).toMatchObject({
      value: revenueOf([...consenting, 'E2'], 2),
      suppressed: false,
    });
    expect(cell('COOPS', M2).value).toBe('11');
    expect(cell('COOPS', M1).value).toBe('12');
  });

  it('keeps every cell of the earlier release as it was published or hidden', async () => {
    const before = await fullTable(first);
    const after = await fullTable(second);
    let compared = 0;
    for (const [k, c] of before) {
      const now = after.get(k);
      expect(now, k).toBeDefined();
      expect({ value: now!.value, suppressed: now!.suppressed }).toEqual({
        value: c.value,
        suppressed: c.suppressed,
      });
      compared++;
    }
    expect(compared).toBeGreaterThan(100);
    // Two exports of one release are the same bytes.
    const a = await analyst.cityReportExport({ city, releaseId: second, format: 'CSV' });
    const b = await analyst.cityReportExport({ city, releaseId: second, format: 'CSV' });
    expect(a.content).toBe(b.content);
    expect(a.sha256).toBe(b.sha256);
    expect(a.content!.split('\r\n')[0]).toBe(
      'release_id,city,neighbourhood,sector,kind,measure,period,value,status,suppressed,reason',
    );
  });

  it('a random attacker’s queries only ever return cells of the protected table', async () => {
    const table = await fullTable(second);
    const random = seededRandom(15);
    const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)]!;
    const subset = <T>(list: readonly T[]) => list.filter(() => random() < 0.5);
    const measures = ['REVENUE', 'COOPS', 'MEMBERS', 'FOUNDED', 'JOBS', 'WAGES'];
    const months = [month(-4), M3, M2, M1];
    let cells = 0;
    for (let q = 0; q < 40; q++) {
      const groupBy = subset(['NEIGHBOURHOOD', 'SECTOR', 'KIND'] as const);
      const from = pick(months);
      const input = {
        city,
        measures: [pick(measures), ...subset(measures)],
        groupBy: [...groupBy],
        granularity: pick(['MONTH', 'QUARTER', 'YEAR'] as const),
        ...(random() < 0.5 ? { from } : {}),
        ...(random() < 0.5 ? { to: pick(months.filter((m) => m >= from)) } : {}),
        ...(random() < 0.3 ? { neighbourhoods: subset(['North', 'South', 'TOTAL']) } : {}),
        ...(random() < 0.3 ? { sectors: subset(['31', '54', 'TOTAL']) } : {}),
        margins: random() < 0.5,
      };
      if (input.neighbourhoods?.length === 0) delete input.neighbourhoods;
      if (input.sectors?.length === 0) delete input.sectors;
      const answer = await analyst.cityReport(input);
      expect(answer.userErrors).toEqual([]);
      for (const c of answer.cells) {
        const truth = table.get(key(c));
        cells++;
        if (!truth && c.status === 'NO_DATA') {
          // Not in the export, no co-op in the slice shared data then: no figure, and the
          // published COOPS of the slice is 0 (checked for months).
          expect({ value: c.value, suppressed: c.suppressed, reason: c.reason }).toEqual({
            value: null,
            suppressed: false,
            reason: null,
          });
          if (/^\d{4}-\d{2}$/.test(c.period))
            expect(table.get(key({ ...c, measure: 'COOPS' }))?.value ?? '0').toBe('0');
          continue;
        }
        if (!truth) {
          // Not in the export: a structural zero.
          expect({ value: c.value, suppressed: c.suppressed }).toEqual({
            value: /^\d+$/.test(c.value ?? '') ? c.value : '0.00',
            suppressed: false,
          });
          expect(Number(c.value)).toBe(0);
          continue;
        }
        expect({ value: c.value, suppressed: c.suppressed, reason: c.reason }).toEqual({
          value: truth.value,
          suppressed: truth.suppressed,
          reason: truth.reason,
        });
      }
    }
    expect(cells).toBeGreaterThan(200);
  });

  it('an analyst of another city, a treasurer or an admin-less stranger reaches nothing', async () => {
    const asOther = await otherAnalyst.cityReport({ city, measures: ['REVENUE'] });
    expect(asOther.cells).toEqual([]);
    expect(asOther.userErrors.map((e) => e.code)).toEqual(['NO_RELEASE']);
    expect(await otherAnalyst.cityReportReleases({ city })).toEqual([]);
    const exported = await otherAnalyst.cityReportExport({ city, format: 'CSV' });
    expect(exported.content).toBeNull();
    const treasurer = coops.get('A1')!.treasurer;
    expect((await treasurer.cityReport({ city, measures: ['REVENUE'] })).userErrors[0]?.code).toBe(
      'NO_RELEASE',
    );
    // The analyst reaches no co-op's own figures or profile reports.
    expect(await analyst.coopReportingProfiles({ coopId: coops.get('A1')!.id })).toEqual([]);
    // Another city's release id does not open this city's table, nor the reverse.
    const wrongCity = await otherAnalyst.cityReport({
      city: otherCity,
      releaseId: second,
      measures: ['REVENUE'],
    });
    expect(wrongCity.userErrors.map((e) => e.code)).toEqual(['UNKNOWN_RELEASE']);
  });

  it('a treasurer reports profile figures; they count in the next months once released', async () => {
    const fixture = coops.get('A1')!;
    const payload = await fixture.treasurer.reportCoopProfile({
      coopId: fixture.id,
      asOf: today(),
      workersNotMembers: 2,
      workerOwners: 7,
      byGender: [
        { category: 'WOMEN', count: 4 },
        { category: 'MEN', count: 2 },
      ],
      cityContractsAwarded: 1,
      cityContractsValue: '2500.00',
      idempotencyKey: 'profile-1',
    });
    expect(payload.userErrors).toEqual([]);
    expect(payload.report!.byGender).toContainEqual({ category: 'UNDISCLOSED', count: 1 });
    const replay = await fixture.treasurer.reportCoopProfile({
      coopId: fixture.id,
      asOf: today(),
      workersNotMembers: 2,
      workerOwners: 7,
      byGender: [
        { category: 'WOMEN', count: 4 },
        { category: 'MEN', count: 2 },
      ],
      cityContractsAwarded: 1,
      cityContractsValue: '2500.00',
      idempotencyKey: 'profile-1',
    });
    expect(replay.replayed).toBe(true);
    const bad = await fixture.treasurer.reportCoopProfile({
      coopId: fixture.id,
      asOf: today(),
      workersNotMembers: 0,
      workerOwners: 1,
      byGender: [{ category: 'WOMEN', count: 2 }],
      idempotencyKey: 'profile-2',
    });
    expect(bad.userErrors.map((e) => e.field)).toEqual(['byGender']);
    const stranger = await coops.get('B1')!.treasurer.reportCoopProfile({
      coopId: fixture.id,
      asOf: today(),
      workersNotMembers: 0,
      workerOwners: 1,
      idempotencyKey: 'profile-3',
    });
    expect(stranger.userErrors.map((e) => e.code)).toEqual(['UNKNOWN_COOP']);
    expect((await fixture.treasurer.coopReportingProfiles({ coopId: fixture.id })).length).toBe(1);
  });
});
