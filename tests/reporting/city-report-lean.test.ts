/**
 * cityReport on the lean route (issue 15): its cells are written as JSON straight from the release
 * (server/reporting/query.ts cellsJson, placed by server/platform/http/raw-json.ts) instead of
 * being resolved field by field. The answer must be the one yoga's path gives, byte for byte once
 * parsed and printed again (keys in the same order): random slices of a protected release with
 * every kind of cell (published money and counts, negative figures, figures under 1.00, hidden with each reason,
 * NO_DATA, structural zeros), sent as the SDK sends them (its persisted document by id) to a
 * service whose lean route serves cityReport and to one where yoga answers everything; then other
 * selections of the cells (aliases, __typename, reordered and repeated fields, fragments,
 * directives, the cells alone) and refused queries.
 */
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import net from 'node:net';
import { print } from 'graphql';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CityReportDocument, documentIdOf } from '../../client-sdk/index.js';
import { addMonths } from '../../server/core/disclosure-periods.js';
import { protectRelease } from '../../server/core/disclosure-release.js';
import { DEFAULT_DISCLOSURE_POLICY } from '../../server/core/disclosure-rules.js';
import {
  buildReleaseShape,
  encodeCells,
  encodeProtection,
  releaseCube,
} from '../../server/reporting/cube.js';
import { MEASURES } from '../../server/reporting/measures.js';
import type { FrozenRow } from '../../server/reporting/store.js';
import { connectPg, ledgerClient, seededRandom, uniqueSuffix } from '../helpers/ledger.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { issueToken } from '../helpers/tokens.js';

const city = `Leanton ${uniqueSuffix()}`;
const lastMonth = '2025-12';
const months = Array.from({ length: 12 }, (_, i) => addMonths(lastMonth, i - 11));
const monthly = MEASURES.filter((m) => m.grain === 'MONTH').map((m) => m.code);
const neighbourhoods = ['East', 'North', 'South', 'West'];
const sectors = ['31', '44', '54'];
const kinds = ['CONSUMER', 'WORKER'];

/** The service with its lean route (cityReport included), yoga alone, and the lean route for any document. */
let lean: TestServer;
let yoga: TestServer;
let anyDocument: TestServer;
let token: string;
let db: pg.Client;

beforeAll(async () => {
  [lean, yoga, anyDocument] = await Promise.all([
    startTestServer(),
    startTestServer({ lean: { leanRootFields: [] } }),
    startTestServer({ lean: { leanRootFields: ['cityReport'], leanUnknownDocuments: true } }),
  ]);
  // A small city's release, protected as a publication protects one, stored as it is stored.
  const random = seededRandom(1515);
  const rows: FrozenRow[] = [];
  for (let c = 0; c < 40; c++) {
    // The last neighbourhood, sector and kind are often empty: NO_DATA and structural zeros.
    const pick = <T>(list: T[]) => list[Math.floor(random() ** 1.6 * list.length)]!;
    const base = {
      bookId: `c${c}`,
      neighbourhood: pick(neighbourhoods),
      sector: pick(sectors),
      kind: pick(kinds),
      group: `g${c}`,
    };
    const from = Math.floor(random() * 6);
    const size = random() < 0.1 ? 40 : 1 + random() * 3;
    for (const month of months.slice(from)) {
      for (const m of MEASURES.filter((x) => x.grain === 'MONTH')) {
        if (['FOUNDED', 'CLOSED', 'JOBS_CREATED_AT_FOUNDING'].includes(m.code)) continue;
        const value =
          m.code === 'COOPS'
            ? 1
            : m.money
              ? // Sector 44 trades in cents: figures under 1.00, whose digits need leading zeros.
                Math.round(
                  (base.sector === '44' ? 8 : size * 100_000) * (m.signed ? random() - 0.8 : 0.5 + random()),
                )
              : Math.round(size * 5 * random());
        if (value !== 0) rows.push({ ...base, measure: m.code, month, value });
      }
    }
  }
  const dims = {
    neighbourhoods,
    sectors,
    kinds,
    firstYear: Number(months[0]!.slice(0, 4)),
    throughMonth: lastMonth,
    scale: 2,
  };
  const { shape, periods } = buildReleaseShape(dims);
  const cube = releaseCube(shape, periods, rows, DEFAULT_DISCLOSURE_POLICY);
  const protection = protectRelease(cube, new Map());
  db = await connectPg();
  await db.query(
    `insert into reporting_release (city_key, seq, id, city, currency, first_month, through_month, policy, dimensions,
       cells, protection, summary, created_at, created_by)
     values ($1, 1, $2, $3, 'USD', $4::date, $5::date, $6, $7, $8, $9, $10, now(), 'test')`,
    [
      city.toLowerCase(),
      randomUUID(),
      city,
      `${months[0]}-01`,
      `${lastMonth}-01`,
      JSON.stringify(DEFAULT_DISCLOSURE_POLICY),
      JSON.stringify({ ...dims, measurePeriods: [...shape.dims[3]!.codes] }),
      encodeCells(cube, protection.reasons),
      encodeProtection(
        protection.problem.sensitive,
        protection.problem.protectUp,
        protection.problem.protectDown,
      ),
      JSON.stringify({
        cells: shape.cellCount,
        storedCells: 0,
        contributors: 40,
        primary: cube.verdicts.size,
        complementary: 0,
        auditPrograms: 0,
        auditedCells: 0,
        auditSkipped: 0,
        protectMs: 0,
        auditMs: 0,
      }),
    ],
  );
  const admin = ledgerClient(lean.url, { token: lean.adminToken });
  token = (await issueToken(admin, { grants: [{ role: 'CITY_ANALYST', scope: city }] })).token;
}, 120_000);
afterAll(async () => {
  await db?.end();
  await Promise.all([lean?.stop(), yoga?.stop(), anyDocument?.stop()]);
});

/** The answer's text, and whether the lean route served it (its debug line for the request). */
async function post(
  server: TestServer,
  body: object,
): Promise<{ status: number; text: string; lean: boolean }> {
  const before = server.logs.length;
  const response = await fetch(server.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  const leanServed = server.logs.slice(before).some((l) => l.msg === 'served by the lean route');
  return { status: response.status, text, lean: leanServed };
}

/** The same JSON printed again: equal texts mean equal values with keys in the same order. */
const canonical = (text: string) => JSON.stringify(JSON.parse(text));

describe('cityReport on the lean route', () => {
  it('answers random slices exactly as yoga does, cell for cell', async () => {
    const random = seededRandom(15);
    const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)]!;
    const subset = <T>(list: readonly T[]) => list.filter(() => random() < 0.5);
    const seen = {
      cells: 0,
      suppressed: new Set<string>(),
      noData: 0,
      negative: 0,
      zero: 0,
      money: 0,
      underOne: 0,
    };
    for (let q = 0; q < 60; q++) {
      const from = pick(months);
      const input: Record<string, unknown> = {
        city,
        measures: [
          q % 8 === 0 ? 'SHARE_CAPITAL_RAISED' : pick(monthly),
          ...(random() < 0.3 ? subset(monthly) : []),
        ],
        groupBy: subset(['NEIGHBOURHOOD', 'SECTOR', 'KIND']),
        granularity: pick(['MONTH', 'QUARTER', 'YEAR']),
        margins: random() < 0.7,
      };
      if (random() < 0.5) input.from = from;
      if (random() < 0.3) input.to = pick(months.filter((m) => m >= from));
      if (random() < 0.2) input.neighbourhoods = [...subset(neighbourhoods), 'TOTAL'];
      if (random() < 0.2) input.kinds = [pick(kinds)];
      const variables = { input };
      const byId = await post(lean, { documentId: documentIdOf(CityReportDocument), variables });
      const byYoga = await post(yoga, { query: print(CityReportDocument), variables });
      expect({ status: byId.status, lean: byId.lean }).toEqual({ status: 200, lean: true });
      expect({ status: byYoga.status, lean: byYoga.lean }).toEqual({ status: 200, lean: false });
      expect(canonical(byId.text)).toBe(canonical(byYoga.text));
      const answer = JSON.parse(byYoga.text).data.cityReport as {
        cells: { value: string | null; status: string; reason: string | null; measure: string }[];
      };
      for (const c of answer.cells) {
        seen.cells++;
        if (c.reason) seen.suppressed.add(c.reason);
        if (c.status === 'NO_DATA') seen.noData++;
        if (c.value?.startsWith('-')) seen.negative++;
        if (c.value !== null && Number(c.value) === 0) seen.zero++;
        if (c.value?.includes('.')) seen.money++;
        if (/^-?0\.\d*[1-9]/.test(c.value ?? '')) seen.underOne++;
      }
    }
    // The slices met every kind of cell.
    expect(seen.cells).toBeGreaterThan(2000);
    expect([...seen.suppressed].sort()).toEqual(expect.arrayContaining(['COMPLEMENTARY', 'THRESHOLD']));
    expect(seen.noData).toBeGreaterThan(0);
    expect(seen.negative).toBeGreaterThan(0);
    expect(seen.zero).toBeGreaterThan(0);
    expect(seen.money).toBeGreaterThan(0);
    expect(seen.underOne).toBeGreaterThan(0);
  });

  it('answers other selections of the cells, and refused queries, as yoga does', async () => {
    const input = {
      city,
      measures: ['REVENUE', 'COOPS'],
      groupBy: ['NEIGHBOURHOOD', 'KIND'],
      granularity: 'QUARTER',
    };
    const documents = [
      // Aliases, __typename, another order, a field twice, and not every field.
      `query($input: CityReportInput!) { cityReport(input: $input) { cells { __typename v: value reason
         where: neighbourhood value status v: value kind period } userErrors { code } } }`,
      // The cells alone, under an alias of the root field, with a field selected twice in two nodes.
      `query($input: CityReportInput!) { r: cityReport(input: $input) { cells { period } cells { period } } }`,
      // The value under six keys: six values a cell to make room for.
      `query($input: CityReportInput!) { cityReport(input: $input) {
         cells { a: value b: value c: value d: value e: value f: value } } }`,
      // A directive: resolved as usual.
      `query($input: CityReportInput!, $yes: Boolean = true) { cityReport(input: $input) {
         cells { measure period @include(if: $yes) value } } }`,
      // Two root fields, one of them refused.
      `query($input: CityReportInput!, $big: CityReportInput!) { a: cityReport(input: $input) { cells { value status }
         userErrors { code field } } b: cityReport(input: $big) { cells { value } userErrors { code message } } }`,
    ];
    const variables = {
      input,
      big: {
        ...input,
        measures: monthly,
        groupBy: ['NEIGHBOURHOOD', 'SECTOR', 'KIND'],
        granularity: 'MONTH',
      },
    };
    for (const query of documents) {
      // The six values on the city's yearly totals: every cell a figure of many digits.
      const yearly = { input: { city, measures: ['REVENUE'], granularity: 'YEAR' } };
      const used = query.includes('$big') ? variables : query.includes('f: value') ? yearly : { input };
      const byLean = await post(anyDocument, { query, variables: used });
      const byYoga = await post(yoga, { query, variables: used });
      expect({ status: byLean.status, lean: byLean.lean }).toEqual({ status: 200, lean: true });
      expect(byYoga.lean).toBe(false);
      expect(canonical(byLean.text)).toBe(canonical(byYoga.text));
      expect(byLean.text).toContain('"cells":[{');
    }
    // A fragment: resolved as usual. graphql-jit (the lean route) orders a fragment's fields after
    // the others, graphql-js in selection order: the same values, keys in another order.
    const fragment = `query($input: CityReportInput!) { cityReport(input: $input) {
      cells { ...C status period } } } fragment C on CityReportCell { measure value }`;
    const fragmentLean = await post(anyDocument, { query: fragment, variables: { input } });
    const fragmentYoga = await post(yoga, { query: fragment, variables: { input } });
    expect(fragmentLean.lean).toBe(true);
    expect(JSON.parse(fragmentLean.text)).toEqual(JSON.parse(fragmentYoga.text));
    // A code that is not the release's: userErrors, no cells, alike.
    const bad = { input: { ...input, neighbourhoods: ['Atlantis'] } };
    const a = await post(lean, { documentId: documentIdOf(CityReportDocument), variables: bad });
    const b = await post(yoga, { query: print(CityReportDocument), variables: bad });
    expect(a.lean).toBe(true);
    expect(canonical(a.text)).toBe(canonical(b.text));
    expect(JSON.parse(a.text).data.cityReport.userErrors[0].code).toBe('INVALID_INPUT');
  });

  it('answers slices pipelined on one connection each as yoga does (their buffers are not shared)', async () => {
    // The lean route lends each answer's cells a pooled buffer, reused once that answer has been
    // written to the socket (raw-json.ts). Pipelined requests are executed while the answers before
    // them wait for the socket: a buffer reused at res.end would change the waiting answers.
    const random = seededRandom(16);
    const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)]!;
    const inputs = Array.from({ length: 12 }, () => ({
      city,
      measures: [pick(monthly), pick(monthly), pick(monthly)],
      groupBy: ['NEIGHBOURHOOD', 'SECTOR', 'KIND'],
      granularity: 'MONTH',
    }));
    const { hostname: host, port, pathname } = new URL(lean.url);
    const socket = net.connect(Number(port), host);
    await once(socket, 'connect');
    const chunks: Buffer[] = [];
    socket.on('data', (d: Buffer) => chunks.push(d));
    for (const input of inputs) {
      const body = JSON.stringify({ documentId: documentIdOf(CityReportDocument), variables: { input } });
      socket.write(
        `POST ${pathname} HTTP/1.1\r\nhost: ${host}\r\ncontent-type: application/json\r\n` +
          `authorization: Bearer ${token}\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      );
    }
    // The answers, one after the other (each with its content-length).
    const texts: string[] = [];
    for (let at = 0; texts.length < inputs.length; ) {
      const all = Buffer.concat(chunks);
      const end = all.indexOf('\r\n\r\n', at);
      const length =
        end < 0 ? -1 : Number(/content-length: (\d+)/i.exec(all.subarray(at, end).toString())?.[1]);
      if (end < 0 || all.length < end + 4 + length) {
        await once(socket, 'data');
        continue;
      }
      texts.push(all.subarray(end + 4, end + 4 + length).toString());
      at = end + 4 + length;
    }
    socket.destroy();
    for (let i = 0; i < inputs.length; i++) {
      const byYoga = await post(yoga, { query: print(CityReportDocument), variables: { input: inputs[i] } });
      expect(canonical(texts[i]!)).toBe(canonical(byYoga.text));
    }
  });
});
