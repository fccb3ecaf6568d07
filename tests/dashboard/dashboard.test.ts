/**
 * The example dashboard (client-sdk/examples/dashboard) in headless Chromium against a seeded
 * service: a small demo city made by the seed script's own code (scripts/seed-demo.ts), the
 * dashboard built and served as `npm run dashboard` serves it (scripts/lib/dashboard.ts: the SDK
 * package, Vite's build, `vite preview` proxying /graphql to the service with the token), and every
 * request to any other origin blocked. The figures on the page are checked against what the API
 * answers to this test through the SDK: the directory's breakdowns (tables and bars), the map's
 * markers, the mutual-credit volume per month. A screenshot is saved in test-results/.
 *
 * Needs /usr/bin/chromium (.ci/run installs it).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLedgerClient, type DirectoryEntry, type LedgerClient } from '../../client-sdk/index.js';
import {
  DASHBOARD_DIR,
  REPO_ROOT,
  type RunningDashboard,
  serveDashboard,
} from '../../scripts/lib/dashboard.js';
import { planCity } from '../../scripts/lib/demo-city.js';
import { ProgressBar } from '../../scripts/lib/progress.js';
import { plannedSteps, type Summary, seed } from '../../scripts/seed-demo.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

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
const SCREENSHOT = path.join(REPO_ROOT, 'test-results', 'dashboard.png');

let server: TestServer;
let dashboard: RunningDashboard;
let browser: Browser;
let page: Page;
let admin: LedgerClient;
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
  const plan = planCity({
    seed: 3,
    coops: 14,
    members: 180,
    city: CITY,
    today: new Date().toISOString().slice(0, 10),
  });
  summary = await seed(admin, plan, new ProgressBar(plannedSteps(plan), { quiet: true }));
  directory = [];
  for await (const coop of admin.iterateCoopDirectory({ city: CITY })) directory.push(coop);

  dashboard = await serveDashboard({
    ledgerUrl: server.url,
    token: server.adminToken,
    city: CITY,
    port: 0,
    host: '127.0.0.1',
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
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await dashboard?.close();
  await server?.stop();
});

/** The rows of a panel's figures table: label (with series) -> value or suppression. */
async function tableOf(panelId: string): Promise<Map<string, { value?: string; suppressed?: string }>> {
  const rows = await page.locator(`#${panelId} table.figures tbody tr`).evaluateAll((trs) =>
    trs.map((tr) => {
      const d = (tr as HTMLElement).dataset;
      return { label: d.label!, value: d.value, suppressed: d.suppressed };
    }),
  );
  return new Map(rows.map((r) => [r.label, { value: r.value, suppressed: r.suppressed }]));
}

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

  it('shows the directory breakdowns the API returns, in tables and bars', async () => {
    const listed = directory.length;
    expect(listed).toBeGreaterThan(8);
    expect(await page.locator('[data-kpi="listed co-ops"] strong').textContent()).toBe(String(listed));
    const expected = new Map<string, number>();
    for (const coop of directory)
      expected.set(coop.neighbourhood, (expected.get(coop.neighbourhood) ?? 0) + 1);
    const table = await tableOf('coops-by-neighbourhood');
    expect(new Map([...table].map(([label, cell]) => [label, Number(cell.value)]))).toEqual(expected);
    const titles = await markTitles('coops-by-neighbourhood');
    expect(titles.sort()).toEqual([...expected].map(([label, n]) => `${label}: ${n}`).sort());
    // The bars' lengths follow the figures: the largest count has the longest bar.
    const widths = await page
      .locator('#coops-by-neighbourhood svg rect')
      .evaluateAll((rects) =>
        rects
          .filter((r) => r.querySelector('title'))
          .map((r) => [r.querySelector('title')!.textContent, Number(r.getAttribute('width'))] as const),
      );
    const [widest] = [...widths].sort((a, b) => b[1] - a[1]);
    const largest = Math.max(...expected.values());
    expect(widest![0]).toMatch(new RegExp(`: ${largest}$`));

    const over = await tableOf('coops-over-time');
    const lastYear = Math.max(...directory.map((c) => Number(c.foundedOn.slice(0, 4))));
    expect(over.get(String(lastYear))?.value).toBe(String(listed));
  });

  it('draws one marker per listed co-op with coordinates, without map tiles', async () => {
    const located = directory.filter((c) => c.latitude !== null).length;
    expect(located).toBeGreaterThan(0);
    await expect.poll(() => page.locator('#map path.coop-marker').count()).toBe(located);
    expect(await page.locator('#map img.leaflet-tile').count()).toBe(0);
  });

  it("shows the mutual-credit network's volume per month as the API reports it", async () => {
    const now = new Date();
    const to = now.toISOString().slice(0, 7);
    const from = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 11, 1))
      .toISOString()
      .slice(0, 7);
    const stats = await admin.networkStatistics({ networkId: summary.networkId, from, to });
    const months = stats!.statistics.months.filter((m) => m.payments > 0);
    expect(months.length).toBeGreaterThan(5);
    const table = await tableOf('credit-volume');
    for (const month of months) expect(Number(table.get(month.month)?.value)).toBe(Number(month.volume));
    const titles = await markTitles('credit-volume');
    expect(titles.length).toBe(table.size);
  });

  it('saves a screenshot', async () => {
    await fs.mkdir(path.dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect((await fs.stat(SCREENSHOT)).size).toBeGreaterThan(20_000);
  });

  it('type-checks (the app has its own tsconfig, outside the root type-check)', async () => {
    const tsc = path.join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    await promisify(execFile)(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: DASHBOARD_DIR });
  });
});
