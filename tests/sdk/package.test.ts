/**
 * The SDK as a package, as a new user gets it: `npm pack` makes the tarball, a fresh folder outside
 * the checkout installs it (`npm init -y`, `type: module`, `npm install <tarball>`), and the
 * README's example (the block marked `<!-- example:report.js -->` in client-sdk/README.md) runs
 * against a test service:
 * - in Node, as `report.js` and as `report.ts` (type-checked against the installed declarations
 *   with tsc, then run by Node directly);
 * - in a browser: bundled by esbuild for the browser platform (which fails on any Node module)
 *   and run in headless Chromium with every other origin blocked.
 * Both must print the co-ops the test listed in the public directory, and send their operations
 * by persisted document id, through graphql-request (installed with the SDK, bundled with it).
 *
 * Needs npm's cache (filled by the checkout's `npm ci`; installs are `--prefer-offline`) and
 * /usr/bin/chromium (.ci/run installs it).
 */
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLedgerClient } from '../../client-sdk/index.js';
import { ensureSdkBuilt } from '../../scripts/lib/dashboard.js';
import { repoRoot } from '../../server/platform/config.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const execFileAsync = promisify(execFile);
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const CITY = `Packtown ${process.pid}`;
const sdkPackage = JSON.parse(readFileSync(path.join(repoRoot, 'client-sdk', 'package.json'), 'utf8')) as {
  name: string;
  version: string;
};

/** The README's example, exactly as written there. */
function readmeExample(): string {
  const readme = readFileSync(path.join(repoRoot, 'client-sdk', 'README.md'), 'utf8');
  const match = /<!-- example:report\.js[^>]*-->\s*```js\n([\s\S]*?)```/.exec(readme);
  if (!match) throw new Error('client-sdk/README.md has no block marked <!-- example:report.js -->');
  return match[1]!;
}

async function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}) {
  try {
    return await execFileAsync(command, args, {
      cwd,
      env: { ...process.env, ...env },
      timeout: 240_000,
      maxBuffer: 32 * 1024 * 1024,
    });
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`${command} ${args.join(' ')} failed in ${cwd}:\n${stdout ?? ''}\n${stderr ?? ''}`);
  }
}

let server: TestServer;
let fresh: string;
let tarball: string;
let packedFiles: string[];
let staticServer: Server | undefined;
const listed = ['Anvil Bicycle Works', 'Beacon Grocery Co-op'];

beforeAll(async () => {
  // A fresh folder outside the checkout (the checkout's node_modules must not be found from it).
  fresh = await fs.mkdtemp(path.join(os.tmpdir(), 'ledger-sdk-user-'));
  expect(path.relative(repoRoot, fresh).startsWith('..')).toBe(true);

  // The browser's page is served from its own origin, which the service allows through CORS.
  staticServer = createServer(async (req, res) => {
    const name = req.url === '/' ? 'index.html' : (req.url ?? '').slice(1);
    try {
      const body = await fs.readFile(path.join(fresh, 'web', path.basename(name)));
      res.setHeader('content-type', name.endsWith('.html') ? 'text/html' : 'text/javascript');
      res.end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  staticServer.listen(0, '127.0.0.1');
  await once(staticServer, 'listening');
  const pageOrigin = `http://127.0.0.1:${(staticServer.address() as AddressInfo).port}`;
  server = await startTestServer({ config: { corsOrigins: [pageOrigin], rateLimitPerSecond: 0 } });

  const admin = createLedgerClient({ url: server.url, token: server.adminToken });
  for (const [i, name] of listed.entries()) {
    const { coop, userErrors } = await admin.createCoop({
      name,
      kind: i === 0 ? 'WORKER' : 'CONSUMER',
      naicsCode: i === 0 ? '336991' : '445110',
      city: CITY,
      neighbourhood: 'Riverside',
      foundedOn: '2018-04-01',
      legalForm: 'cooperative corporation',
      baseCurrency: { code: 'USD', scale: 2 },
      publicListing: true,
      ...(i === 0 ? { latitude: '45.5017', longitude: '-73.5673' } : {}),
    });
    expect(userErrors).toEqual([]);
    expect(coop).not.toBeNull();
  }

  // `npm run sdk:pack` builds through the package's prepack script; here the build is made by
  // ensureSdkBuilt, which holds a lock, since the dashboard's test may build the SDK at the same time.
  await ensureSdkBuilt();
  const packed = await run(
    'npm',
    ['pack', '--workspace', sdkPackage.name, '--pack-destination', fresh, '--json', '--ignore-scripts'],
    repoRoot,
  );
  const [info] = JSON.parse(packed.stdout.slice(packed.stdout.indexOf('['))) as {
    filename: string;
    files: { path: string }[];
  }[];
  tarball = path.join(fresh, info!.filename);
  packedFiles = info!.files.map((f) => f.path).sort();

  const project = path.join(fresh, 'city-report');
  await fs.mkdir(project);
  await run('npm', ['init', '-y'], project);
  await run('npm', ['pkg', 'set', 'type=module'], project);
  const typesNode = JSON.parse(
    readFileSync(path.join(repoRoot, 'node_modules', '@types', 'node', 'package.json'), 'utf8'),
  ) as { version: string };
  await run(
    'npm',
    [
      'install',
      tarball,
      `@types/node@${typesNode.version}`,
      '--prefer-offline',
      '--no-audit',
      '--no-fund',
      '--ignore-scripts',
    ],
    project,
  );
  await fs.writeFile(path.join(project, 'report.js'), readmeExample());
  await fs.writeFile(path.join(project, 'report.ts'), readmeExample());
}, 600_000);

afterAll(async () => {
  staticServer?.closeAllConnections();
  staticServer?.close();
  await server?.stop();
  if (fresh) await fs.rm(fresh, { recursive: true, force: true });
});

/** What the example prints for the co-ops this test listed. */
const expectedLines = [
  `${listed[0]}: WORKER, NAICS 336991, Riverside at 45.501700, -73.567300`,
  `${listed[1]}: CONSUMER, NAICS 445110, Riverside`,
];

describe(`${sdkPackage.name} packed and installed in a fresh folder`, () => {
  it('the tarball holds the build, its declarations, the documents and the docs, and no sources', () => {
    expect(packedFiles).toEqual(
      expect.arrayContaining([
        'CHANGELOG.md',
        'README.md',
        'dist/index.d.ts',
        'dist/index.js',
        'dist/generated/graphql.d.ts',
        'dist/generated/graphql.js',
        'generated/persisted-documents.json',
        'operations/fragments.graphql',
        'operations/coops.graphql',
        'package.json',
      ]),
    );
    expect(packedFiles.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
    expect(packedFiles.filter((f) => f.startsWith('examples/') || f.includes('tsconfig'))).toEqual([]);
  });

  it('installs graphql-request, the transport, at the version the checkout uses', async () => {
    const installed = path.join(fresh, 'city-report', 'node_modules');
    const sdk = JSON.parse(
      await fs.readFile(path.join(installed, '@solidarity-ledger', 'sdk', 'package.json'), 'utf8'),
    ) as { dependencies: Record<string, string> };
    const root = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    expect(sdk.dependencies['graphql-request']).toBe(root.dependencies['graphql-request']);
    const graphqlRequest = JSON.parse(
      await fs.readFile(path.join(installed, 'graphql-request', 'package.json'), 'utf8'),
    ) as { version: string };
    expect(graphqlRequest.version).toBe(root.dependencies['graphql-request']);
    const transport = await fs.readFile(
      path.join(installed, '@solidarity-ledger', 'sdk', 'dist', 'transport.js'),
      'utf8',
    );
    expect(transport).toMatch(/import \{[^}]*\bGraphQLClient\b[^}]*\} from 'graphql-request'/);
  });

  it('nothing in the build imports a Node module', async () => {
    const dist = path.join(fresh, 'city-report', 'node_modules', '@solidarity-ledger', 'sdk', 'dist');
    const files = (await fs.readdir(dist, { recursive: true })).filter((f) => String(f).endsWith('.js'));
    expect(files.length).toBeGreaterThan(5);
    for (const file of files) {
      const source = await fs.readFile(path.join(dist, String(file)), 'utf8');
      expect(source, String(file)).not.toMatch(/from ['"]node:|require\(|\bprocess\.|\bBuffer\b/);
    }
  });

  it("runs the README's example in Node, as .js and as type-checked .ts", async () => {
    const project = path.join(fresh, 'city-report');
    const env = { LEDGER_URL: server.url, LEDGER_TOKEN: server.adminToken, CITY };
    const js = await run(process.execPath, ['report.js'], project, env);
    for (const line of expectedLines) expect(js.stdout).toContain(line);
    expect(js.stdout).toMatch(/^books you may read: \d+$/m);

    // Without a token the directory still answers, and settle() reports the refusal as a value.
    const anonymous = await run(process.execPath, ['report.js'], project, { ...env, LEDGER_TOKEN: '' });
    for (const line of expectedLines) expect(anonymous.stdout).toContain(line);
    expect(anonymous.stdout).toContain('books: UNAUTHENTICATED');

    await fs.writeFile(
      path.join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          noEmit: true,
          types: ['node'],
        },
        files: ['report.ts'],
      }),
    );
    const tsc = path.join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc');
    await run(process.execPath, [tsc, '-p', 'tsconfig.json'], project);
    const ts = await run(process.execPath, ['report.ts'], project, env);
    expect(ts.stdout).toBe(js.stdout);
  });

  it("runs the README's example bundled for a browser, in headless Chromium", async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(
        `${CHROMIUM} is missing: install it with "apt-get install -y chromium" (.ci/run does).`,
      );
    }
    const project = path.join(fresh, 'city-report');
    const web = path.join(fresh, 'web');
    await fs.mkdir(web, { recursive: true });
    // Configuration as a bundler user gives it: `process.env.X` replaced at build time.
    const result = await build({
      absWorkingDir: project,
      entryPoints: ['report.js'],
      bundle: true,
      platform: 'browser',
      format: 'esm',
      target: 'es2022',
      outfile: path.join(web, 'app.js'),
      metafile: true,
      logLevel: 'silent',
      define: {
        'process.env.LEDGER_URL': JSON.stringify(server.url),
        'process.env.LEDGER_TOKEN': JSON.stringify(server.adminToken),
        'process.env.CITY': JSON.stringify(CITY),
      },
    });
    const inputs = Object.keys(result.metafile.inputs);
    // The SDK came from the installed tarball, not from the checkout.
    expect(inputs.some((i) => i.startsWith('node_modules/@solidarity-ledger/sdk/dist/'))).toBe(true);
    expect(inputs.filter((i) => i.includes('client-sdk'))).toEqual([]);
    // Its transport, graphql-request, is in the page too.
    expect(inputs.some((i) => i.startsWith('node_modules/graphql-request/build/'))).toBe(true);
    await fs.writeFile(
      path.join(web, 'index.html'),
      '<!doctype html><title>report</title><script type="module" src="/app.js"></script>',
    );

    const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS });
    try {
      const page = await browser.newPage();
      const pageOrigin = `http://127.0.0.1:${(staticServer!.address() as AddressInfo).port}`;
      const blocked: string[] = [];
      const sentToService: string[] = [];
      await page.route('**/*', (route) => {
        const url = new URL(route.request().url());
        if (url.origin === pageOrigin) return route.continue();
        if (url.origin === server.baseUrl) {
          const body = route.request().postData();
          if (body) sentToService.push(body);
          return route.continue();
        }
        blocked.push(url.href);
        return route.abort('internetdisconnected');
      });
      const lines: string[] = [];
      const problems: string[] = [];
      page.on('console', (message) => {
        if (message.type() === 'log') lines.push(message.text());
        else if (message.type() === 'error') problems.push(message.text());
      });
      page.on('pageerror', (error) => problems.push(error.message));
      await page.goto(`${pageOrigin}/`);
      await expect
        .poll(() => lines.some((l) => l.startsWith('books you may read:')), { timeout: 30_000 })
        .toBe(true);
      expect(problems).toEqual([]);
      expect(blocked).toEqual([]);
      for (const line of expectedLines) expect(lines).toContain(line);
      // Each operation went first by its id, without its text.
      const bodies = sentToService.map((body) => JSON.parse(body) as Record<string, unknown>);
      const first = new Map<unknown, Record<string, unknown>>();
      for (const body of bodies) if (!first.has(body.operationName)) first.set(body.operationName, body);
      expect([...first.keys()].sort()).toEqual(['Books', 'CoopDirectory']);
      for (const body of first.values()) {
        expect(body.documentId).toMatch(/^sha256:/);
        expect(body.query).toBeUndefined();
      }
    } finally {
      await browser.close();
    }
  });
});
