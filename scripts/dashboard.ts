/**
 * npm run dashboard -- [options]: serves the example dashboard (client-sdk/examples/dashboard)
 * against a running service. Builds the SDK package and the app first; the page's /graphql is
 * proxied to the service with the token added by this server, so the browser never holds it.
 */
import { parseArgs } from 'node:util';
import { CliError, connectionHelp, ensureListening, ledgerAddress, ledgerToken } from './lib/cli.js';
import { serveDashboard } from './lib/dashboard.js';

const HELP = `Usage: npm run dashboard -- [options]

Serves the example city dashboard (client-sdk/examples/dashboard) against a running service,
after building the SDK package and the app. Open the printed address; ?city=NAME shows another
city. Stop it with Ctrl-C.

Options:
  --city NAME     the city shown by default (default Riverton, the one npm run seed:demo makes)
  --port N        port to serve on (default 5173; 0 picks a free one)
  --host HOST     interface to listen on (default 127.0.0.1)
  --dev           Vite's dev server with hot reload instead of the production build
  --url URL       the service (see below)
  --token TOKEN   a token to read with (see below); without one only the public directory shows
  -h, --help      this help

${connectionHelp('a token the dashboard reads with (an ADMIN or CITY_ANALYST token); optional')}`;

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    args: process.argv.slice(2),
    allowPositionals: true,
    options: {
      city: { type: 'string' },
      port: { type: 'string' },
      host: { type: 'string' },
      dev: { type: 'boolean' },
      url: { type: 'string' },
      token: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(HELP);
    return;
  }
  if (positionals.length > 0) throw new CliError(`unexpected argument "${positionals[0]}" (see --help)`);
  const port = values.port === undefined ? 5173 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new CliError(`--port must be an integer from 0 to 65535, not "${values.port}"`);
  const address = ledgerAddress(values.url);
  await ensureListening(address);
  const token = ledgerToken(values.token);
  const city = values.city?.trim() || 'Riverton';
  const running = await serveDashboard(
    { ledgerUrl: address.url, token, city, port, host: values.host ?? '127.0.0.1', dev: values.dev === true },
    (line) => console.error(line),
  );
  console.log(
    `Dashboard of ${city} at ${running.url}?city=${encodeURIComponent(city)} (service ${address.url}${token ? '' : ', no token: the public directory only'})`,
  );
  const stop = () => {
    void running.close().finally(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  console.error(`dashboard: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(
    error instanceof CliError ||
      String((error as { code?: unknown } | null)?.code).startsWith('ERR_PARSE_ARGS')
      ? 2
      : 1,
  );
});
