/**
 * Command-line entry: `tsx server/main.ts`, or `npm start` (scripts/start.ts compiles it to dist/
 * when the sources changed, then runs dist/server/main.js). Reads the configuration from the
 * environment, checks that the port is free, starts the service, and stops it gracefully on
 * SIGTERM, SIGINT or SIGHUP.
 */
import { CONFIG_VARIABLES, ConfigError, loadConfig } from './platform/config.js';
import { createLogger } from './platform/logger.js';
import { checkPortFree, isListenError, PortUnavailableError, portUnavailable } from './port-check.js';

const USAGE = `Solidarity Ledger: a double-entry ledger served over GraphQL.

Usage: npm start            (compiles to dist/ when the sources changed, then runs it)
       npx tsx server/main.ts (runs from the sources)
       npx tsx server/main.ts --help

Starts the HTTP server with GraphQL at /graphql (GraphiQL in a browser), /healthz and /readyz.
A port already in use stops it at once (before any database or token is created). Without
DATABASE_URL it starts an embedded PostgreSQL in DATA_DIR. Pending migrations are applied at
start. SIGTERM or SIGINT drains in-flight requests and exits 0.

Environment variables:
${CONFIG_VARIABLES.map((v) => `  ${v.name.padEnd(17)} ${v.description} Default: ${v.default}.`).join('\n')}
`;

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(USAGE);
    return;
  }
  if (args.length > 0) {
    process.stderr.write(`Unknown argument: ${args[0]}\n\n${USAGE}`);
    process.exit(2);
  }

  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\nRun with --help to see the variables.\n`);
      process.exit(1);
    }
    throw error;
  }

  // Before anything is created (an embedded database, a first admin token): a port clash fails now.
  try {
    await checkPortFree(config.port, config.host);
  } catch (error) {
    if (error instanceof PortUnavailableError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }

  const logger = createLogger({ level: config.logLevel });
  // Loaded only now (a second or more of modules): a bad setting or a taken port fails before.
  const { startService } = await import('./service.js');
  let service: Awaited<ReturnType<typeof startService>> | undefined;
  let stopRequested: NodeJS.Signals | undefined;

  const onSignal = (signal: NodeJS.Signals) => {
    if (stopRequested) {
      logger.info({ signal }, 'already stopping');
      return;
    }
    stopRequested = signal;
    logger.info({ signal }, 'received signal, stopping');
    // While starting, the start-up sequence below notices and stops.
    if (!service) return;
    service.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.fatal({ err: error }, 'error while stopping');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  process.on('SIGHUP', onSignal);

  try {
    service = await startService(config, logger);
  } catch (error) {
    // The port can still be taken between the check above and the server's listen.
    const message = isListenError(error)
      ? portUnavailable(config.port, config.host, error).message
      : error instanceof Error
        ? error.message
        : String(error);
    logger.fatal({ err: error }, `startup failed: ${message}`);
    process.stderr.write(`Startup failed: ${message}\n`);
    process.exit(1);
  }
  if (stopRequested) {
    await service.stop();
    process.exit(0);
  }
  const what = config.graphiql ? 'GraphiQL' : 'GraphQL';
  logger.info(`${what} at http://localhost:${service.port}/graphql`);
}

await main();
