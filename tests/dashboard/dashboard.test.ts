/**
 * The example dashboard (client-sdk/examples/dashboard) in headless Chromium against a seeded
 * service: a small demo city made by the seed script's own code (scripts/seed-demo.ts), the
 * dashboard built and served as `npm run dashboard` serves it (scripts/lib/dashboard.ts: the SDK
 * package, Vite's build, `vite preview` proxying /graphql to the service with the token), and every
 * request to any other origin blocked. The seed publishes the city's first report release; the
 * dashboard is served with a CITY_ANALYST token of the city. The figures on the page are checked
 * against the cells the API's cityReport answers this test through the SDK: co-ops and
 * worker-owners over time, jobs, patronage by year, breakdowns by neighbourhood and sector (a
 * suppressed cell drawn hatched with its reason, not a zero), mutual-credit volume by month; and
 * the map's markers against the public directory. A screenshot is saved in test-results/.
 *
 * Needs /usr/bin/chromium (.ci/run installs it).
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type CityReportQueryVariables,
  createLedgerClient,
  type DirectoryEntry,
  type LedgerClient,
} from '../../client-sdk/index.js';
import {
  DASHBOARD_DIR,
  REPO_ROOT,
  type RunningDashboard,
  serveDashboard,
} from '../../scripts/lib/dashboard.js';
import { type CityPlan, planCity } from '../../scripts/lib/demo-city.js';
import { ProgressBar } from '../../scripts/lib/progress.js';
import { plannedSteps, type Summary, seed } from '../../scripts/seed-demo.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { issueToken } from '../helpers/tokens.js';

const CHROMIUM = '/usr/bin/chromium';
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const CITY = `Testburg ${process.pid}`;
/** This file's build of the dashboard (serveDashboard's outDir), removed after it. */
const outDir = mkdtempSync(path.join(os.tmpdir(), 'ledger-dashboard-build-'));
const SCREENSHOT = path.join(REPO_ROOT, 'test-results', 'dashboard.png');

let server: TestServer;
let dashboard: RunningDashboard;
let browser: Browser;
let page: Page;
let admin: LedgerClient;
let analyst: LedgerClient;
let plan: CityPlan;
let summary: Summary;
let directory: DirectoryEntry[];
const problems: string[] = [];
const blocked: string[] = [];

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: install it with "apt-get install -y chromium" (.ci/run does).`);
  }
  server = await startTestServer({ config: { rateLimitPerSecond: 0 } });
  admin = createLedgerClient({ url: server.url, token: server.adminToken });
  const today = new Date().toISOString().slice(0, 10);
  // Consents from three months back: the release protects and audits three months of figures
  // (every month of a sparse city's table costs the service's LP audit seconds).
  plan = planCity({
    seed: 3,
    coops: 14,
    members: 180,
    city: CITY,
    today,
    consentFrom: `${addMonths(today.slice(0, 7), -3)}-01`,
  });
  summary = await seed(admin, plan, new ProgressBar(plannedSteps(plan), { quiet: true }));
  directory = [];
  for await (const coop of admin.iterateCoopDirectory({ city: CITY })) directory.push(coop);

  // The city's economic-development office: an analyst of this city, nothing else.
  const { token } = await issueToken(admin, { grants: [{ role: 'CITY_ANALYST', scope: CITY }] });
  analyst = createLedgerClient({ url: server.url, token });

  dashboard = await serveDashboard({
    ledgerUrl: server.url,
    token,
    city: CITY,
    port: 0,
    host: '127.0.0.1',
    // A build of this run's own: another test run of this checkout may build the dashboard meanwhile.
    outDir,
  });
  const origin = new URL(dashboard.url).origin;
  browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
  const context = await browser.newContext({ viewport: { width: 1280, height: 2000 } });
  page = await context.newPage();
  // Only the dashboard's own origin (which proxies /graphql to the service): no tiles, fonts, CDNs.
  await page.route('**/*', (route) => {
    const url = new URL(route.request().url());
    if (url.origin === origin) return route.continue();
    blocked.push(url.href);
    return route.abort('internetdisconnected');
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console: ${message.text()}`);
  });
  await page.goto(`${dashboard.url}?city=${encodeURIComponent(CITY)}`);
  await page.waitForSelector('body[data-ready]', { timeout: 60_000 });
}, 600_000);

afterAll(async () => {
  await browser?.close();
  await dashboard?.close();
  await server?.stop();
  rmSync(outDir, { recursive: true, force: true });
});

interface Row {
  value?: string;
  suppressed?: string;
  text: string;
}

/** The rows of a panel's figures table: "label|series" (or "label") -> value or suppression. */
async function tableOf(panelId: string): Promise<Map<string, Row>> {
  const rows = await page.locator(`#${panelId} table.figures tbody tr`).evaluateAll((trs) =>
    trs.map((tr) => {
      const d = (tr as HTMLElement).dataset;
      return {
        key: d.series === undefined ? d.label! : `${d.label}|${d.series}`,
        value: d.value,
        suppressed: d.suppressed,
        text: (tr as HTMLTableRowElement).cells[1]!.textContent!,
      };
    }),
  );
  return new Map(
    rows.map((r) => [
      r.key,
      {
        ...(r.value === undefined ? {} : { value: r.value }),
        ...(r.suppressed === undefined ? {} : { suppressed: r.suppressed }),
        text: r.text,
      },
    ]),
  );
}

type ReportInput = Omit<CityReportQueryVariables['input'], 'city' | 'releaseId'>;

/** The cells the API answers this test (as the city's analyst), for the release the seed made. */
async function report(input: ReportInput) {
  const answer = await analyst.cityReport({ ...input, city: CITY, releaseId: summary.release.id });
  expect(answer.userErrors).toEqual([]);
  return answer.cells;
}

/** Every row of the panel's table is the API's cell: its figure, or suppressed with its reason. */
function expectRows(
  table: Map<string, Row>,
  expected: {
    key: string;
    value: string | null | undefined;
    reason: string | null | undefined;
    status?: string;
  }[],
): void {
  expect([...table.keys()].sort()).toEqual(expected.map((e) => e.key).sort());
  for (const e of expected) {
    const row = table.get(e.key)!;
    if (e.status === 'NO_DATA') {
      // No co-op shared data then: no figure, neither a zero nor a suppression.
      expect(row, e.key).toEqual({ text: 'no data' });
    } else if (e.value === null || e.value === undefined) {
      expect(e.reason, e.key).toBeTruthy();
      expect(row, e.key).toEqual({ suppressed: e.reason, text: `suppressed (${e.reason})` });
    } else {
      expect(row.suppressed, e.key).toBeUndefined();
      expect(Number(row.value), e.key).toBe(Number(e.value));
    }
  }
}

const SERIES: Record<string, string> = {
  COOPS: 'co-ops',
  WORKER_OWNERS: 'worker-owners',
  WORKERS_NOT_MEMBERS: 'workers who are not members',
  JOBS: 'jobs',
};

/** The titles of a panel's chart marks ("label: figure"). */
async function markTitles(panelId: string): Promise<string[]> {
  return page.locator(`#${panelId} svg title`).allTextContents();
}

describe('the example dashboard against a seeded service', () => {
  it('loads with nothing from other origins and no errors', async () => {
    expect(await page.getAttribute('body', 'data-ready')).toBe('true');
    expect(problems).toEqual([]);
    expect(blocked).toEqual([]);
    expect(summary.coops).toBe(14);
    expect(await page.locator('#city').textContent()).toBe(CITY);
  });

  it('the seed published a release with protected figures from the treasurers’ reports', async () => {
    const { release } = summary;
    expect(release.seq).toBe(1);
    const consenting = plan.coops.filter(
      (c) => c.dataSharingConsent && c.consentOn! <= `${release.throughMonth}-01`,
    );
    expect(release.contributors).toBe(consenting.length);
    expect(release.primarySuppressed).toBeGreaterThan(0);
    expect(summary.profileReports).toBe(plan.coops.reduce((n, c) => n + c.profiles.length, 0));
    const coop = plan.coops.find((c) => c.kind === 'WORKER')!;
    // Every page: the run's database holds other files' co-ops too (more than one page of them
    // when this file runs after them), so the seeded one need not be on the first.
    let listed: { id: string } | undefined;
    for await (const c of admin.paginate((after) => admin.coops({ first: 100, after }))) {
      if (c.name === coop.name && c.city === CITY) {
        listed = c;
        break;
      }
    }
    expect(listed, `${coop.name} of ${CITY} among the co-ops`).toBeDefined();
    const profiles = await admin.coopReportingProfiles({ coopId: listed!.id, first: 10 });
    expect(profiles.map((p) => [p.asOf, p.workerOwners, p.workersNotMembers]).sort()).toEqual(
      coop.profiles.map((p) => [p.asOf, p.workerOwners, p.workersNotMembers]).sort(),
    );
    expect(await page.locator('[data-kpi="contributing co-ops"] strong').textContent()).toBe(
      String(release.contributors),
    );
    expect(await page.locator('#reporting').count()).toBe(0);
  });

  it('shows co-ops, worker-owners and jobs over time as the release’s cells', async () => {
    const through = summary.release.throughMonth;
    const cells = await report({
      measures: ['COOPS', 'WORKER_OWNERS', 'JOBS', 'WORKERS_NOT_MEMBERS'],
      granularity: 'MONTH',
      from: addMonths(through, -23),
      to: through,
    });
    const rows = (measures: string[]) =>
      cells
        .filter((c) => measures.includes(c.measure))
        .map((c) => ({
          key: `${c.period}|${SERIES[c.measure]}`,
          value: c.value,
          reason: c.reason,
          status: c.status,
        }));
    expectRows(await tableOf('report-growth'), rows(['COOPS', 'WORKER_OWNERS']));
    expectRows(await tableOf('report-jobs'), rows(['JOBS', 'WORKER_OWNERS', 'WORKERS_NOT_MEMBERS']));
    // Each cell is a mark whose title gives its figure, or its reason on a hatched square.
    const format = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 });
    const titles = await markTitles('report-growth');
    const hatchedTitles = await page
      .locator('#report-growth svg g[fill="url(#suppressed-hatch)"] title')
      .allTextContents();
    for (const c of cells.filter((x) => x.measure === 'COOPS' || x.measure === 'WORKER_OWNERS')) {
      const head = `${c.period} · ${SERIES[c.measure]}: `;
      if (c.suppressed) expect(hatchedTitles).toContain(`${head}suppressed (${c.reason})`);
      // NO_DATA (no co-op shared data yet): no mark at all, never a zero.
      else if (c.status === 'NO_DATA') expect(titles.filter((t) => t.startsWith(head))).toEqual([]);
      else expect(titles).toContain(`${head}${format.format(Number(c.value))}`);
    }
    // The release has figures in its last months (co-ops consented three months back).
    expect(cells.some((c) => c.period === through && (c.suppressed || Number(c.value) > 0))).toBe(true);
  });

  it('shows patronage by year as the release’s cells', async () => {
    const cells = await report({
      measures: ['PATRONAGE_ALLOCATED', 'PATRONAGE_PAID_IN_CASH'],
      granularity: 'YEAR',
    });
    const name = { PATRONAGE_ALLOCATED: 'allocated', PATRONAGE_PAID_IN_CASH: 'paid in cash' } as Record<
      string,
      string
    >;
    const table = await tableOf('report-patronage');
    expectRows(
      table,
      cells.map((c) => ({
        key: `${c.period} ${name[c.measure]}`,
        value: c.value,
        reason: c.reason,
        status: c.status,
      })),
    );
    // A release whose months complete no year has no yearly cells, and the panel says so.
    if (cells.length === 0)
      expect(await page.locator('#report-patronage .chart').textContent()).toBe(
        'The release has no complete year yet.',
      );
  });

  it('shows the breakdowns by neighbourhood and sector from the release, a suppressed cell hatched with its reason', async () => {
    const through = summary.release.throughMonth;
    let hatched = 0;
    for (const [dimension, panelId] of [
      ['NEIGHBOURHOOD', 'coops-by-neighbourhood'],
      ['SECTOR', 'coops-by-sector'],
    ] as const) {
      const cells = await report({
        measures: ['COOPS', 'WORKER_OWNERS'],
        groupBy: [dimension],
        granularity: 'MONTH',
        from: through,
        to: through,
      });
      const code = (c: (typeof cells)[number]) =>
        dimension === 'NEIGHBOURHOOD' ? c.neighbourhood : c.sector;
      const label = (c: (typeof cells)[number]) =>
        code(c) === 'TOTAL'
          ? `All of ${CITY}`
          : dimension === 'SECTOR'
            ? new RegExp(`\\(${code(c)}\\)$`)
            : code(c);
      const table = await tableOf(panelId);
      // Labels of sectors are "<name> (<code>)": match each cell to its row by code.
      const keyOf = (c: (typeof cells)[number]) => {
        const l = label(c);
        const series = SERIES[c.measure];
        if (typeof l === 'string') return `${l}|${series}`;
        const found = [...table.keys()].filter((k) => k.endsWith(`|${series}`) && l.test(k.split('|')[0]!));
        expect(found, `${code(c)} ${series}`).toHaveLength(1);
        return found[0]!;
      };
      expectRows(
        table,
        cells.map((c) => ({ key: keyOf(c), value: c.value, reason: c.reason, status: c.status })),
      );
      // Each withheld part is a hatched bar in its measure's chart whose title and text give its
      // reason; no bar of that chart gives it a figure (a zero or any other).
      const charts = await page.locator(`#${panelId} svg[data-series]`).evaluateAll((svgs) =>
        svgs.map((svg) => ({
          series: svg.getAttribute('data-series')!,
          texts: [...svg.querySelectorAll('text')].map((t) => t.textContent),
          // Plot sets a mark's fill on its group of rects.
          marks: [...svg.querySelectorAll('rect')].map((r) => ({
            fill: r.getAttribute('fill') ?? r.parentElement!.getAttribute('fill'),
            width: Number(r.getAttribute('width')),
            title: r.querySelector('title')?.textContent ?? null,
          })),
        })),
      );
      expect(charts.map((c) => c.series).sort()).toEqual(['co-ops', 'worker-owners']);
      for (const cell of cells.filter((c) => c.suppressed && code(c) !== 'TOTAL')) {
        const [rowLabel, series] = keyOf(cell).split('|') as [string, string];
        const chart = charts.find((c) => c.series === series)!;
        const titled = chart.marks.filter((m) => m.title?.startsWith(`${rowLabel}: `));
        expect(titled, `${rowLabel} ${series}`).toHaveLength(1);
        expect(titled[0]!.title).toBe(`${rowLabel}: suppressed (${cell.reason})`);
        expect(titled[0]!.fill).toBe('url(#suppressed-hatch)');
        expect(titled[0]!.width).toBeGreaterThan(0);
        expect(chart.texts).toContain(`suppressed: ${cell.reason}`);
        hatched++;
      }
    }
    expect(hatched).toBeGreaterThan(0);
  });

  it('draws one marker per listed co-op with coordinates, without map tiles', async () => {
    const located = directory.filter((c) => c.latitude !== null).length;
    expect(located).toBeGreaterThan(0);
    await expect.poll(() => page.locator('#map path.coop-marker').count()).toBe(located);
    expect(await page.locator('#map img.leaflet-tile').count()).toBe(0);
  });

  it('shows mutual-credit volume by month as the release’s cells', async () => {
    const through = summary.release.throughMonth;
    const cells = await report({
      measures: ['CREDIT_VOLUME'],
      granularity: 'MONTH',
      from: addMonths(through, -11),
      to: through,
    });
    expect(await page.getAttribute('#credit-volume', 'data-source')).toBe('release');
    expectRows(
      await tableOf('credit-volume'),
      cells.map((c) => ({ key: c.period, value: c.value, reason: c.reason, status: c.status })),
    );
    // The network traded in the months co-ops consented to: figures or suppressed cells, not zeros.
    const consented = cells.filter((c) => c.period >= addMonths(through, -2));
    expect(consented.length).toBe(3);
    for (const c of consented) expect(c.suppressed || Number(c.value) > 0, c.period).toBe(true);
    const titles = await markTitles('credit-volume');
    expect(titles.length).toBe(cells.filter((c) => c.status !== 'NO_DATA').length);
    expect(cells.some((c) => c.status === 'NO_DATA')).toBe(true);
  });

  it('saves a screenshot', async () => {
    await fs.mkdir(path.dirname(SCREENSHOT), { recursive: true });
    // Written beside it and renamed into place: another test run of this checkout may save its own.
    const written = `${SCREENSHOT}.${process.pid}.png`;
    await page.screenshot({ path: written, fullPage: true });
    expect((await fs.stat(written)).size).toBeGreaterThan(20_000);
    await fs.rename(written, SCREENSHOT);
  });

  it('type-checks (the app has its own tsconfig, outside the root type-check)', async () => {
    const tsc = path.join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    await promisify(execFile)(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: DASHBOARD_DIR });
  });
});

function addMonths(month: string, months: number): string {
  const d = new Date(Date.UTC(Number(month.slice(0, 4)), Number(month.slice(5, 7)) - 1 + months, 1));
  return d.toISOString().slice(0, 7);
}
