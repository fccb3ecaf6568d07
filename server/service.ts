/**
 * The whole service in-process: database, ORM, migrations, use cases, schema, HTTP server.
 * `stop()` drains: it stops accepting connections, lets in-flight requests finish (bounded),
 * then closes the use cases, the ORM and the database, in that order.
 */
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { MikroORM } from '@mikro-orm/postgresql';
import type express from 'express';
import type { GraphQLSchema } from 'graphql';
import type { Logger } from 'pino';
import { buildSchema, type GraphQLContext, inputErrorsPlugin, releaseContext } from '../schema/index.js';
import { directoryRoute } from './coops/index.js';
import { type Config, repoRoot } from './platform/config.js';
import { openDatabase } from './platform/db/database.js';
import { migrate } from './platform/db/orm.js';
import {
  type AppDeps,
  buildApp,
  GRAPHQL_ENDPOINT,
  type PersistedDocumentsOptions,
} from './platform/http/app.js';
import { createLogger } from './platform/logger.js';
import { createOrm, createServices, type Services } from './services.js';

/** How long `stop()` waits for in-flight requests before closing their connections. */
export const DRAIN_TIMEOUT_MS = 10_000;

export interface RunningService {
  /** The GraphQL endpoint, e.g. http://127.0.0.1:4000/graphql. */
  url: string;
  port: number;
  stop(): Promise<void>;
}

export interface StartOptions {
  /**
   * Called when the service cannot go on (its embedded PostgreSQL died and could not be started
   * again). By default the service stops (draining what it can) and the process exits with code 1,
   * so a supervisor restarts it; /healthz answers 503 until the server closes.
   */
  onFatal?: (error: Error, stop: () => Promise<void>) => void;
}

export async function startService(
  config: Config,
  logger?: Logger,
  options: StartOptions = {},
): Promise<RunningService> {
  const log = logger ?? createLogger({ level: config.logLevel });
  const cleanups: { name: string; run: () => Promise<void> }[] = [];
  let stopping: Promise<void> | undefined;
  // Once, whoever asks first (SIGTERM, a fatal failure, a failed start).
  const cleanUp = () => {
    stopping ??= (async () => {
      for (const { name, run } of cleanups.reverse()) {
        try {
          await run();
        } catch (error) {
          log.error({ err: error, step: name }, 'error while shutting down');
        }
      }
      cleanups.length = 0;
    })();
    return stopping;
  };
  const onFatal =
    options.onFatal ??
    ((error: Error, stop: () => Promise<void>) => {
      log.fatal({ err: error }, 'the service cannot recover; stopping and exiting with code 1');
      process.exitCode = 1;
      void stop().finally(() => process.exit(1));
    });

  try {
    const database = await openDatabase(config, log, { onFailure: (error) => onFatal(error, cleanUp) });
    cleanups.push({ name: 'database', run: () => database.stop() });

    const orm = await createOrm(database.url, { poolMax: config.dbPoolMax });
    cleanups.push({ name: 'orm', run: () => orm.close() });

    const started = Date.now();
    await migrate(orm);
    log.info({ ms: Date.now() - started }, 'migrations applied');

    const services = await createServices({ orm, logger: log, workerHeapMb: config.workerHeapMb });
    cleanups.push({ name: 'services', run: () => services.close() });

    // First start: make sure an administrator can get in (ADMIN_TOKEN, or a new token shown once).
    const bootstrapToken = await services.auth.bootstrap(config.adminToken);
    if (bootstrapToken) {
      // Printed on stderr, not logged: log pipelines keep what they receive, this must be seen once.
      process.stderr.write(
        `\nNo administrator token existed, so one was created. It is shown only now; keep it safe:\n\n  ${bootstrapToken}\n\n` +
          'Send it as "Authorization: Bearer <token>". Issue narrower tokens with scripts/tokens.ts.\n\n',
      );
      log.warn('created the first administrator token (printed once on stderr)');
    }

    const schema = buildSchema();
    const app = buildServiceApp({
      config,
      logger: log,
      orm,
      schema,
      services,
      processState: () => database.state(),
    });

    const server = app.listen(config.port, config.host);
    await Promise.race([
      once(server, 'listening'),
      once(server, 'error').then(([error]) => {
        throw error;
      }),
    ]);
    cleanups.push({ name: 'http', run: () => closeServer(server, log) });
    // Slow clients must not hold a connection (or a drain) forever.
    server.requestTimeout = 30_000;
    server.headersTimeout = 20_000;
    server.keepAliveTimeout = 5_000;

    const { port } = server.address() as AddressInfo;
    const displayHost = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
    const url = `http://${displayHost.includes(':') ? `[${displayHost}]` : displayHost}:${port}${GRAPHQL_ENDPOINT}`;
    log.info({ url, host: config.host, port, embeddedDatabase: database.embedded }, `listening on ${url}`);

    return {
      url,
      port,
      stop: async () => {
        if (!stopping) log.info('stopping: draining in-flight requests');
        await cleanUp();
        log.info('stopped');
      },
    };
  } catch (error) {
    await cleanUp();
    throw error;
  }
}

export interface ServiceAppDeps
  extends Pick<AppDeps<GraphQLContext>, 'logger' | 'largeRequestLimits' | 'bodyRate' | 'processState'> {
  config: AppDeps<GraphQLContext>['config'] &
    Pick<Config, 'publicUrl'> &
    Partial<Pick<Config, 'persistedDocumentsOnly' | 'persistedDocumentsFile'>>;
  orm: MikroORM;
  schema: GraphQLSchema;
  services: Services;
  /** Overrides of the lean route's reach (tests run whole suites through it). */
  lean?: Pick<PersistedDocumentsOptions, 'leanRootFields' | 'leanUnknownDocuments' | 'compiledRootFields'>;
}

/**
 * The root fields served by the lean route when sent as persisted documents (see
 * server/platform/http/persisted.ts): the posting engine's mutations, which carry the write load,
 * and cityReport, whose answers carry hundreds of cells (issue 15: executed compiled by graphql-jit).
 */
export const LEAN_ROOT_FIELDS = [
  'cityReport',
  'postJournalEntry',
  'postJournalEntries',
  'postPendingEntry',
  'commitPendingEntry',
  'voidPendingEntry',
  'reverseJournalEntry',
] as const;

/**
 * Root fields the lean route executes compiled by graphql-jit: cityReport, whose answers carry
 * hundreds of cells (issue 15), and the posting mutations of single entries and batches (a batch's
 * variables hold up to 1,000 entries): compiled, their coercion is generated code instead of
 * graphql-js's coerceInputValue and graphql-tools' snapshot of every value (22% of the service's
 * CPU in a batch of 500 by profile). Measured on batches of 500 (issue 12, 16 clients, A/B
 * alternating): the service's CPU per entry 0.102, 0.105, 0.117, 0.096 ms on graphql-js's executor
 * against 0.082, 0.088, 0.088, 0.090 compiled (load 6-9); 0.070-0.075 ms compiled on a quiet
 * machine. Single entries ran on graphql-js's executor until the service ran with V8's
 * allocation-site pretenuring off (package.json's start): compiled, they had left about 6 KB more
 * a request in the old space and cost more CPU, most likely V8 allocating graphql-jit's shared
 * sites old once batches had run (not measured again). With pretenuring off, 8 interleaved rounds
 * (bench:compare, 16 clients, single entries): 1.07x the entries/s of graphql-js's executor (higher
 * in 7 rounds of 8), 0.91x its CPU a request (0.186 against 0.206 ms), p99 11.3 against 12.0 ms.
 */
export const LEAN_COMPILED_ROOT_FIELDS = ['cityReport', 'postJournalEntries', 'postJournalEntry'] as const;

/** The SDK's persisted documents (server/persisted-documents.json, from `npm run generate`), and the file's. */
export function loadPersistedDocuments(file: string | null | undefined): Record<string, string> {
  const read = (at: string) => JSON.parse(readFileSync(at, 'utf8')) as Record<string, string>;
  const sdk = read(`${repoRoot}/server/persisted-documents.json`);
  return file ? { ...sdk, ...read(file) } : sdk;
}

/** The HTTP app of the platform, serving the schema over the domains' use cases (never listens). */
export function buildServiceApp({ services, lean, ...deps }: ServiceAppDeps): express.Express {
  return buildApp<GraphQLContext>({
    ...deps,
    persistedDocuments: {
      documents: loadPersistedDocuments(deps.config.persistedDocumentsFile),
      only: deps.config.persistedDocumentsOnly ?? false,
      leanRootFields: LEAN_ROOT_FIELDS,
      compiledRootFields: LEAN_COMPILED_ROOT_FIELDS,
      ...lean,
    },
    authenticator: services.auth,
    // Object.assign keeps the base's lazy logger getter (a spread would make the logger at once).
    context: (base) => Object.assign(base, { services }),
    releaseContext,
    // Variable coercion errors in the schema's short, coded form (their 400 status kept).
    plugins: [inputErrorsPlugin()],
    // Public links come from PUBLIC_URL (or are relative), never from the request's Host header.
    publicRoutes: [
      directoryRoute((ids) => services.coops.getCoops(ids), { publicUrl: deps.config.publicUrl }),
    ],
  });
}

/** Stops accepting, waits for in-flight requests up to `timeoutMs`, then cuts the rest. */
export async function closeServer(server: Server, log: Logger, timeoutMs = DRAIN_TIMEOUT_MS): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  // Keep-alive connections would hold close() until their idle timeout: close each one as soon
  // as its last request has been answered.
  server.closeIdleConnections();
  const sweeper = setInterval(() => server.closeIdleConnections(), 50);
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(true), timeoutMs);
  });
  const late = await Promise.race([closed.then(() => false), timedOut]);
  clearTimeout(timer);
  clearInterval(sweeper);
  if (late) {
    log.warn(
      { timeoutMs: DRAIN_TIMEOUT_MS },
      'in-flight requests did not finish in time; closing their connections',
    );
    server.closeAllConnections();
    await closed;
  }
}
