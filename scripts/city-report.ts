/**
 * City reporting from the command line (issue 15), through the API and the SDK:
 *   publish  publishes a city's next release (refresh, protect, LP audit; refused when the audit fails)
 *   export   writes a release as CSV or JSON (with its data dictionary); the same release gives the same bytes
 *   releases lists a city's releases
 *
 *   LEDGER_URL=... LEDGER_TOKEN=<a CITY_ANALYST token of the city> npm run city-report -- export --city Springfield --format CSV --out springfield.csv
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { connectionHelp, connectLedger } from './lib/cli.js';

const usage = `Usage: npm run city-report -- <publish|export|releases> --city CITY [options]

  publish   publish the city's next release: --currency CUR (default USD), --through YYYY-MM
            (default: last month). The release is protected and audited by linear programming
            before it is stored; a release the audit cannot prove is refused (exit 1).
  export    write a release as open data: --format CSV|JSON (default CSV), --release ID (default
            the latest), --out FILE (default: standard output). Prints the release id and SHA-256.
  releases  list the city's releases, latest first.

  --url URL     the service's GraphQL endpoint (default: $LEDGER_URL, else http://localhost:4000/graphql)
  --token T     bearer token: a CITY_ANALYST of the city, or an ADMIN (default: $LEDGER_TOKEN)

${connectionHelp('a bearer token: a CITY_ANALYST of the city or an ADMIN')}

Exit status: 0 done, 1 refused (the reasons are printed), 2 bad usage.`;

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      city: { type: 'string' },
      currency: { type: 'string', default: 'USD' },
      through: { type: 'string' },
      format: { type: 'string', default: 'CSV' },
      release: { type: 'string' },
      out: { type: 'string' },
      url: { type: 'string' },
      token: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(usage);
    return 0;
  }
  const command = positionals[0];
  const problem = !command
    ? 'a command is needed: publish, export or releases'
    : !['publish', 'export', 'releases'].includes(command)
      ? `unknown command "${command}" (publish, export or releases)`
      : !values.city
        ? '--city is required'
        : null;
  if (problem || !command || !values.city) {
    console.error(`city-report: ${problem}\n\n${usage}`);
    return 2;
  }
  if (values.format !== 'CSV' && values.format !== 'JSON') {
    console.error('--format must be CSV or JSON');
    return 2;
  }
  // publish protects and audits the city's whole table in one request: minutes for a large city,
  // far beyond the SDK's default 30 s per request.
  const { client } = await connectLedger({ url: values.url, token: values.token, timeoutMs: 30 * 60_000 });
  if (command === 'publish') {
    // The release is computed by the service in one request: say every few seconds that it is
    // still running (the service's own stderr has the protection's and the audit's progress:
    // phase and cells done of the total).
    const started = Date.now();
    const ticker = setInterval(() => {
      const seconds = Math.floor((Date.now() - started) / 1000);
      process.stderr.write(
        `publishing ${values.city}: ${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')} elapsed (refresh, protect, LP audit; the service logs each phase's cells done)\n`,
      );
    }, 5_000);
    const payload = await client
      .publishCityReport({
        city: values.city,
        currency: values.currency!,
        ...(values.through ? { throughMonth: values.through } : {}),
      })
      .finally(() => clearInterval(ticker));
    if (payload.userErrors.length > 0) {
      for (const e of payload.userErrors) console.error(`${e.code}: ${e.message}`);
      return 1;
    }
    const r = payload.release!;
    console.log(
      `release ${r.seq} (${r.id}) of ${r.city} through ${r.throughMonth}: ${r.contributors} co-ops, ${r.primarySuppressed} cells withheld by the primary rules, ${r.complementarySuppressed} complementary, ${r.auditedCells} audited by LP${r.auditSkipped > 0 ? ` (${r.auditSkipped} not reached within the audit budget, their certificates verified)` : ''}`,
    );
    return 0;
  }
  if (command === 'releases') {
    for (const r of await client.cityReportReleases({ city: values.city })) {
      console.log(`${r.seq}\t${r.id}\t${r.throughMonth}\t${r.createdAt}\t${r.contributors} co-ops`);
    }
    return 0;
  }
  const out = await client.cityReportExport({
    city: values.city,
    format: values.format,
    ...(values.release ? { releaseId: values.release } : {}),
  });
  if (out.userErrors.length > 0) {
    for (const e of out.userErrors) console.error(`${e.code}: ${e.message}`);
    return 1;
  }
  if (values.out) writeFileSync(values.out, out.content!);
  else process.stdout.write(out.content!);
  console.error(`release ${out.releaseId}, sha256 ${out.sha256}`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    // A mistyped option (node:util parseArgs): bad usage, exit 2 as the help says.
    if (String((error as { code?: unknown } | null)?.code).startsWith('ERR_PARSE_ARGS')) {
      console.error(`city-report: ${(error as Error).message}\n\nRun with --help for the options.`);
      process.exit(2);
    }
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
