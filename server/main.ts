/**
 * Command-line entry: `tsx server/main.ts` (what `npm start` runs). Reads the configuration from
 * the environment, starts the service, and stops it gracefully on SIGTERM, SIGINT or SIGHUP.
 */
import { CONFIG_VARIABLES, ConfigError, loadConfig } from './platform/config.js';
import { createLogger } from './platform/logger.js';
import { startService } from './service.js';

const USAGE = `Solidarity Ledger: a double-entry ledger served over GraphQL.

Usage: npm start            (or: npx tsx server/main.ts)
       npx tsx server/main.ts --help

Starts the HTTP server with GraphQL at /graphql (GraphiQL in a browser), /healthz and /readyz.
Without DATABASE_URL it starts an embedded PostgreSQL in DATA_DIR. Pending migrations are
applied at start. SIGTERM or SIGINT drains in-flight requests and exits 0.

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

  const logger = createLogger({ level: config.logLevel });
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
    const message = error instanceof Error ? error.message : String(error);
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
