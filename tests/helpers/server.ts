/**
 * Servers for integration tests, against the run's migrated database (`inject('databaseUrl')`).
 *
 * - `startTestServer()` runs the app in this process on a free port: fast, and the test can read
 *   what it logged (`logs`).
 * - `spawnServerProcess()` runs the service as a child process, as in production (Node on the
 *   compiled service, the test run's build: tests/helpers/build.ts), for restart and signal tests.
 *   It is stopped by its own pid, never through npm.
 *
 * Both act for the run's ADMIN token (`inject('adminToken')`, registered by the global setup): the
 * child gets it as ADMIN_TOKEN, and `adminToken` on the returned handle is what to send.
 *
 * `useLedgerServer()` registers the lifecycle most ledger test files share (a test server, an SDK
 * client for it, optionally a direct `pg` connection, all closed after the file).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { GraphQLSchema } from 'graphql';
import type pg from 'pg';
import { afterAll, beforeAll, inject } from 'vitest';
import type { LedgerClient } from '../../client-sdk/index.js';
import { buildSchema } from '../../schema/index.js';
import { type Config, loadConfig, repoRoot } from '../../server/platform/config.js';
import type { AppDeps } from '../../server/platform/http/app.js';
import { createLogger } from '../../server/platform/logger.js';
import { buildServiceApp, type ServiceAppDeps } from '../../server/service.js';
import { createOrm, createServices, type Services } from '../../server/services.js';
import { builtArgs } from './build.js';
import { ledgerClient, usePg } from './ledger.js';

export type LogLine = Record<string, unknown> & { level: string; msg: string };

export interface TestServerOptions {
  /** Overrides of the configuration (defaults are those of an empty environment). */
  config?: Partial<Config>;
  /** Another schema (e.g. with a resolver that throws); default `buildSchema()`. */
  schema?: GraphQLSchema;
  /** Default: the run's migrated database. */
  databaseUrl?: string;
  /** Overrides of the admission limits for large requests. */
  largeRequestLimits?: AppDeps['largeRequestLimits'];
  /** Overrides of the minimum rate at which a request body must arrive. */
  bodyRate?: AppDeps['bodyRate'];
  /** Overrides of the lean route's reach (default: LEDGER_TEST_HTTP_PATH, see leanFromEnvironment). */
  lean?: ServiceAppDeps['lean'];
}

export interface TestServer {
  /** The GraphQL endpoint, http://127.0.0.1:<port>/graphql. */
  url: string;
  /** The run's ADMIN token (what the helpers send by default). */
  adminToken: string;
  /** http://127.0.0.1:<port> */
  baseUrl: string;
  port: number;
  orm: MikroORM;
  services: Services;
  /** Every line the app logged so far (parsed JSON), at level debug and above. */
  logs: LogLine[];
  stop(): Promise<void>;
}

export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const adminToken = inject('adminToken');
  // ADMIN_TOKEN as a child process gets it; the token is already registered by the global setup.
  const config: Config = {
    ...loadConfig({ ADMIN_TOKEN: adminToken }),
    port: 0,
    host: '127.0.0.1',
    ...options.config,
  };
  const logs: LogLine[] = [];
  const logger = createLogger({ level: 'debug', destination: collect(logs) });
  const orm = await createOrm(options.databaseUrl ?? inject('databaseUrl'), { poolMax: config.dbPoolMax });
  let services: Services | undefined;
  let server: Server | undefined;
  try {
    services = await createServices({ orm, logger });
    const app = buildServiceApp({
      config,
      logger,
      orm,
      schema: options.schema ?? buildSchema(),
      services,
      largeRequestLimits: options.largeRequestLimits,
      bodyRate: options.bodyRate,
      lean: options.lean ?? leanFromEnvironment(),
    });
    server = app.listen(0, '127.0.0.1');
    await once(server, 'listening');
  } catch (error) {
    await services?.close();
    await orm.close();
    throw error;
  }
  const { port } = server.address() as AddressInfo;
  const baseUrl = `http://127.0.0.1:${port}`;
  const running = server;
  const runningServices = services;
  let stopped: Promise<void> | undefined;
  return {
    url: `${baseUrl}/graphql`,
    adminToken,
    baseUrl,
    port,
    orm,
    services,
    logs,
    stop: () => {
      stopped ??= (async () => {
        const closed = new Promise<void>((resolve) => running.close(() => resolve()));
        running.closeAllConnections();
        await closed;
        await runningServices.close();
        await orm.close();
      })();
      return stopped;
    },
  };
}

export interface LedgerServerOptions extends TestServerOptions {
  /** Also open a direct `pg` connection to the run's database (`connectPg()`) as `db`. */
  db?: boolean;
}

export interface LedgerServer {
  /** The in-process test server (`startTestServer(options)`). */
  readonly server: TestServer;
  /** An SDK client for it, as the run's ADMIN, without retries (`ledgerClient(server.url)`). */
  readonly ledger: LedgerClient;
  /** The direct connection; only with `{ db: true }`. */
  readonly db: pg.Client;
}

/**
 * The lifecycle many ledger test files share, registered where it is called (at the top of a file
 * or inside a describe, like the hooks it stands for):
 * - beforeAll: start a test server, make an ADMIN SDK client for it, open a `pg` connection if
 *   `db`;
 * - afterAll: close the connection, then stop the server (vitest runs afterAll hooks last
 *   registered first).
 * Each call gets a server (and connection) of its own, as each file had. The fields exist once
 * beforeAll has run: read them inside hooks, tests and the functions they call, never at the top
 * level of the file (they throw there).
 */
export function useLedgerServer(options: LedgerServerOptions = {}): LedgerServer {
  const { db: withDb = false, ...serverOptions } = options;
  let server: TestServer | undefined;
  let ledger: LedgerClient | undefined;
  beforeAll(async () => {
    server = await startTestServer(serverOptions);
    ledger = ledgerClient(server.url);
  });
  afterAll(async () => {
    await server?.stop();
  });
  // Registered after the server's hooks: opened after the server starts, closed before it stops.
  const direct = withDb ? usePg() : undefined;
  const started = <T>(value: T | undefined, name: string): T => {
    if (value === undefined) throw new Error(`useLedgerServer: ${name} was read before beforeAll ran`);
    return value;
  };
  return {
    get server() {
      return started(server, 'server');
    },
    get ledger() {
      return started(ledger, 'ledger');
    },
    get db() {
      if (direct === undefined) throw new Error('useLedgerServer: db is only there with { db: true }');
      return direct.db;
    },
  };
}

/**
 * LEDGER_TEST_HTTP_PATH=lean runs every valid GraphQL request with a token through the lean route
 * (server/platform/http/persisted.ts), not only the SDK's posting mutations: the vitest project
 * "lean" runs the authorization, bad-input, error, access-log and rate-limit suites so, and the
 * default project runs them with the service's own setting, so both paths answer every case.
 */
function leanFromEnvironment(): TestServerOptions['lean'] {
  return process.env.LEDGER_TEST_HTTP_PATH === 'lean'
    ? { leanRootFields: '*', leanUnknownDocuments: true }
    : undefined;
}

/** A pino destination that parses each line into `into`. */
function collect(into: LogLine[]): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line.trim() !== '') into.push(JSON.parse(line) as LogLine);
      }
      callback();
    },
  });
}

export interface SpawnOptions {
  /** Default: the run's database. `''` starts the embedded PostgreSQL instead (set env.DATA_DIR). */
  databaseUrl?: string;
  /** Default 0: a free port, read back from the server's "listening" log line. */
  port?: number;
  /**
   * ADMIN_TOKEN for the child. Default: the run's ADMIN token; null: none (ADMIN_TOKEN is removed
   * from the inherited environment too). An ADMIN_TOKEN in `env` wins over this.
   */
  adminToken?: string | null;
  /** More environment variables for the child. */
  env?: Record<string, string>;
  /** How long to wait for /readyz to answer 200. */
  readyTimeoutMs?: number;
  /**
   * Run `server/main.ts` through tsx instead of the test run's build (the default): tsx idles with
   * a larger heap, so a test whose point is a heap limit keeps the margin it was written with.
   */
  fromSource?: boolean;
}

export interface ServerProcess {
  /** The GraphQL endpoint. */
  url: string;
  /** The ADMIN_TOKEN the child was started with (null: none). */
  adminToken: string | null;
  baseUrl: string;
  port: number;
  pid: number;
  /** Everything the child wrote to stdout and stderr so far. */
  output(): string;
  /** Resolves when the child exits. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Sends a signal to the child (by its own pid). */
  kill(signal?: NodeJS.Signals): void;
  /** SIGTERM, then waits for the exit (SIGKILL after `timeoutMs`). */
  stop(timeoutMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export async function spawnServerProcess(options: SpawnOptions = {}): Promise<ServerProcess> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATABASE_URL: options.databaseUrl ?? inject('databaseUrl'),
    PORT: String(options.port ?? 0),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
  };
  const token = options.adminToken === undefined ? inject('adminToken') : options.adminToken;
  if (token === null) delete env.ADMIN_TOKEN;
  else env.ADMIN_TOKEN = token;
  Object.assign(env, options.env);
  const adminToken = env.ADMIN_TOKEN ?? null;
  const entry = options.fromSource
    ? ['--import', 'tsx', path.join('server', 'main.ts')]
    : builtArgs('server/main.ts');
  const child: ChildProcess = spawn(process.execPath, entry, {
    cwd: repoRoot,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let port: number | undefined;
  const onData = (chunk: Buffer) => {
    const text = chunk.toString('utf8');
    output += text;
    if (port === undefined) {
      const match = /"msg":"listening on http:\/\/[^"]*?:(\d+)\/graphql"/.exec(output);
      if (match) port = Number(match[1]);
    }
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('exit', (code, signal) => resolve({ code, signal }));
  });
  let hasExited = false;
  void exited.then(() => {
    hasExited = true;
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not spawn the server: ${output}`);

  const kill = (signal: NodeJS.Signals = 'SIGTERM') => {
    if (!hasExited) process.kill(pid, signal);
  };
  const stop = async (timeoutMs = 15_000) => {
    kill('SIGTERM');
    const result = await Promise.race([exited, sleep(timeoutMs, undefined, { ref: false })]);
    if (result) return result;
    kill('SIGKILL');
    return exited;
  };

  const deadline = Date.now() + (options.readyTimeoutMs ?? 30_000);
  while (true) {
    if (hasExited) {
      const { code, signal } = await exited;
      throw new Error(
        `server process exited before it was ready (code ${code}, signal ${signal}):\n${output}`,
      );
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`server process not ready in time:\n${output}`);
    }
    if (port !== undefined) {
      const ready = await fetch(`http://127.0.0.1:${port}/readyz`).then(
        (response) => response.status === 200,
        () => false,
      );
      if (ready) break;
    }
    await sleep(50);
  }
  const baseUrl = `http://127.0.0.1:${port}`;
  return {
    url: `${baseUrl}/graphql`,
    adminToken,
    baseUrl,
    port: port as number,
    pid,
    output: () => output,
    exited,
    kill,
    stop,
  };
}
