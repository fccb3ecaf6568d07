/**
 * Exports the public co-op directory as Murmurations profiles (schema
 * solidarity_economy_initiatives-v0.2.0), one JSON file per listed co-op plus an index.json, through
 * the GraphQL API and the SDK. The directory is public: no token is needed.
 *
 *   LEDGER_URL=http://localhost:4000/graphql npm run export:directory -- --out ./directory
 *
 * Other solidarity-economy maps can then pick the files up (or the live route
 * GET /directory/coops/<id>.json on the server).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { CoopKind } from '../client-sdk/index.js';
import { connectionHelp, connectLedger } from './lib/cli.js';

const usage = `Usage: npm run export:directory -- [--url URL] [--out DIR] [--public-url URL] [--city C] [--kind K] [--token T]

Writes one Murmurations profile (JSON) per co-op listed in the public directory, named
<co-op uuid>.json, and index.json listing them (name, city, kind, file, profile URL).

  --url URL         the service's GraphQL endpoint (default: $LEDGER_URL, else http://localhost:4000/graphql)
  --out DIR         directory to write to (default ./directory-export; created if missing)
  --public-url URL  where the server is reachable publicly (default: the origin of --url); profiles
                    of co-ops without a website use <public-url>/directory/coops/<uuid>.json as primary_url
  --city C          only co-ops of this city
  --kind K          only co-ops of this kind (WORKER, CONSUMER, PRODUCER, ...)
  --token T         bearer token (default: $LEDGER_TOKEN; not needed: the directory is public)

${connectionHelp('a bearer token, sent when set (the directory needs none)')}

Fails at once when nothing listens at the address.`;

/** On a terminal, one line rewritten in place; in a log file, a whole line every this many profiles. */
const PROGRESS_LINE_EVERY = 100;

function progress(written: number): void {
  if (process.stderr.isTTY) process.stderr.write(`\r${written} profiles written`);
  else if (written % PROGRESS_LINE_EVERY === 0) process.stderr.write(`${written} profiles written\n`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      url: { type: 'string' },
      out: { type: 'string', default: 'directory-export' },
      'public-url': { type: 'string' },
      city: { type: 'string' },
      kind: { type: 'string' },
      token: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(usage);
    return;
  }
  const { client, address } = await connectLedger({ url: values.url, token: values.token });
  const publicBaseUrl = values['public-url'] ?? new URL(address.url).origin;
  mkdirSync(values.out!, { recursive: true });
  const index: { id: string; name: string; city: string; kind: string; file: string; profileUrl: string }[] =
    [];
  for await (const entry of client.iterateCoopDirectory({
    publicBaseUrl,
    ...(values.city ? { city: values.city } : {}),
    ...(values.kind ? { kind: values.kind as CoopKind } : {}),
  })) {
    const uuid = /\/directory\/coops\/([0-9a-f-]{36})\.json$/.exec(entry.profilePath)?.[1];
    if (!uuid) throw new Error(`unexpected profile path ${entry.profilePath}`);
    const file = `${uuid}.json`;
    writeFileSync(
      join(values.out!, file),
      `${JSON.stringify(JSON.parse(entry.murmurationsProfile), null, 2)}\n`,
    );
    index.push({
      id: entry.id,
      name: entry.name,
      city: entry.city,
      kind: entry.kind,
      file,
      profileUrl: `${publicBaseUrl.replace(/\/+$/, '')}${entry.profilePath}`,
    });
    progress(index.length);
  }
  if (index.length > 0 && process.stderr.isTTY) process.stderr.write('\n');
  writeFileSync(
    join(values.out!, 'index.json'),
    `${JSON.stringify({ schema: 'solidarity_economy_initiatives-v0.2.0', exportedAt: new Date().toISOString(), coops: index }, null, 2)}\n`,
  );
  console.error(`wrote ${index.length} profiles and index.json to ${values.out}`);
}

main().catch((error) => {
  // A mistyped option or a stray argument (node:util parseArgs): a usage error, exit 2.
  if (String((error as { code?: unknown } | null)?.code).startsWith('ERR_PARSE_ARGS')) {
    console.error(`export-directory: ${(error as Error).message}\n\nRun with --help for the options.`);
    process.exit(2);
  }
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
