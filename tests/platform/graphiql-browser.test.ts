/**
 * GraphiQL works without the internet: a headless Chromium (Debian's `chromium`, driven by
 * playwright-core) opens /graphql with every request to another origin blocked, and the editor
 * renders and runs a query. A screenshot is saved in the test's temporary folder.
 *
 * Needs /usr/bin/chromium (`apt-get install -y chromium`; .ci/run installs it when missing).
 */
import { existsSync, statSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

let server: TestServer;
let browser: Browser;
let dir: string;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: install it with "apt-get install -y chromium" (.ci/run does).`);
  }
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ledger-graphiql-'));
  server = await startTestServer();
  browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

describe('GraphiQL in a browser with no internet', () => {
  it('renders the editor and runs a query, loading nothing from another origin', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    const blocked: string[] = [];
    const served: string[] = [];
    await page.route('**/*', (route) => {
      const url = new URL(route.request().url());
      // blob: and data: URLs never reach the network; everything else must be this server.
      if (url.origin === server.baseUrl) {
        served.push(url.pathname);
        return route.continue();
      }
      blocked.push(url.href);
      return route.abort('internetdisconnected');
    });
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console: ${message.text()}`);
    });

    await page.goto(server.url, { waitUntil: 'load' });
    const editor = page.locator('.graphiql-container .graphiql-query-editor');
    await editor.waitFor({ state: 'visible', timeout: 60_000 });

    // Write a query in the editor and run it: the answer comes back from this server.
    await editor.click();
    await page.keyboard.press('ControlOrMeta+A');
    await page.keyboard.press('Delete');
    await page.keyboard.type('{ __typename }');
    await page.locator('.graphiql-execute-button').click();
    const response = page.locator('.graphiql-response');
    await expect
      // Monaco renders spaces as no-break spaces.
      .poll(async () => ((await response.textContent()) ?? '').replace(/\s+/g, ' '), { timeout: 20_000 })
      .toContain('"__typename": "Query"');

    const screenshot = path.join(dir, 'graphiql.png');
    await page.screenshot({ path: screenshot });
    expect(statSync(screenshot).size).toBeGreaterThan(10_000);

    expect(blocked).toEqual([]);
    expect(problems).toEqual([]);
    expect(served).toContain('/graphql');
    expect(served.some((p) => p.endsWith('/graphiql.js'))).toBe(true);
    await context.close();
  }, 120_000);
});
