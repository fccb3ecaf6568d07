/**
 * Building and serving the example dashboard (client-sdk/examples/dashboard), for
 * `npm run dashboard` and its browser test: the SDK's package build first (the app imports
 * `@solidarity-ledger/sdk` by name, whose entry is client-sdk/dist), then Vite's production build,
 * served by `vite preview` with /graphql proxied to the service (vite.config.ts), or Vite's dev
 * server.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PreviewServer, ViteDevServer } from 'vite';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const DASHBOARD_DIR = path.join(REPO_ROOT, 'client-sdk', 'examples', 'dashboard');
const SDK_DIR = path.join(REPO_ROOT, 'client-sdk');

function newestSource(): number {
  const files = [
    ...readdirSync(SDK_DIR)
      .filter((f) => f.endsWith('.ts'))
      .map((f) => path.join(SDK_DIR, f)),
    ...readdirSync(path.join(SDK_DIR, 'generated')).map((f) => path.join(SDK_DIR, 'generated', f)),
    path.join(SDK_DIR, 'package.json'),
  ];
  return Math.max(...files.map((f) => statSync(f).mtimeMs));
}

function builtAt(): number {
  try {
    return statSync(path.join(SDK_DIR, 'dist', 'index.js')).mtimeMs;
  } catch {
    return 0;
  }
}

const LOCK_DIR = path.join(SDK_DIR, '.build-lock');
const LOCK_STALE_MS = 120_000;

/**
 * Builds client-sdk/dist when it is missing or older than the SDK's sources. One build at a time
 * across processes (test files run in parallel): a lock folder, created atomically, is held while
 * building; a waiter builds nothing if the build it waited for made dist fresh.
 */
export async function ensureSdkBuilt(log: (line: string) => void = () => {}): Promise<void> {
  if (builtAt() >= newestSource()) return;
  const deadline = Date.now() + LOCK_STALE_MS;
  for (;;) {
    try {
      mkdirSync(LOCK_DIR);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      // A lock left by a killed process is taken over once it is older than any build.
      try {
        if (Date.now() - statSync(LOCK_DIR).mtimeMs > LOCK_STALE_MS)
          rmSync(LOCK_DIR, { recursive: true, force: true });
      } catch {
        // Released meanwhile.
      }
      if (Date.now() > deadline) throw new Error(`waited too long for ${LOCK_DIR} (another SDK build)`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  try {
    if (builtAt() >= newestSource()) return;
    log('building the SDK (client-sdk/dist)');
    const result = spawnSync('npm', ['run', 'build', '--workspace', '@solidarity-ledger/sdk'], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
    });
    if (result.status !== 0) throw new Error(`building the SDK failed:\n${result.stdout}\n${result.stderr}`);
  } finally {
    rmSync(LOCK_DIR, { recursive: true, force: true });
  }
}

export interface DashboardOptions {
  /** The service's GraphQL endpoint (LEDGER_URL). */
  ledgerUrl: string;
  /** Sent by the proxy as Authorization: Bearer <token>; undefined: anonymous (the directory only). */
  token: string | undefined;
  /** The city shown when the page's URL names none. */
  city: string;
  port: number;
  host: string;
  /** Vite's dev server (hot reload) instead of the production build. */
  dev?: boolean;
  /**
   * Where the production build is written and served from (default the app's dist/). The browser
   * test gives a folder of its own: two test runs of one checkout at once would otherwise empty and
   * rewrite one dist/ under each other's page.
   */
  outDir?: string;
}

export interface RunningDashboard {
  url: string;
  close(): Promise<void>;
}

/** Builds (unless dev) and serves the dashboard; resolves once it listens. */
export async function serveDashboard(options: DashboardOptions, log: (line: string) => void = () => {}) {
  await ensureSdkBuilt(log);
  // vite.config.ts reads these when it is loaded, by the build and by the server alike.
  process.env.LEDGER_URL = options.ledgerUrl;
  if (options.token) process.env.LEDGER_TOKEN = options.token;
  else delete process.env.LEDGER_TOKEN;
  process.env.DASHBOARD_CITY = options.city;
  const vite = await import('vite');
  let server: PreviewServer | ViteDevServer;
  if (options.dev) {
    const dev = await vite.createServer({
      root: DASHBOARD_DIR,
      logLevel: 'warn',
      server: { port: options.port, host: options.host, strictPort: options.port !== 0 },
    });
    server = await dev.listen();
  } else {
    log('building the dashboard (vite build)');
    const build = options.outDir ? { outDir: options.outDir, emptyOutDir: true } : {};
    await vite.build({ root: DASHBOARD_DIR, logLevel: 'warn', build });
    server = await vite.preview({
      root: DASHBOARD_DIR,
      logLevel: 'warn',
      build,
      preview: { port: options.port, host: options.host, strictPort: options.port !== 0 },
    });
  }
  const address = server.httpServer?.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  const host = options.host === '0.0.0.0' || options.host === '::' ? 'localhost' : options.host;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}/`,
    close: async () => {
      await server.close();
    },
  } satisfies RunningDashboard;
}
