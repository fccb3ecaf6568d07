/**
 * Imports a co-op's members or buy-in payments from a CSV file through the GraphQL API
 * (importMembersCsv), all or nothing: a file with a bad row changes nothing and every bad row is
 * listed. Re-running the same file is harmless: the idempotency key is derived from the file's
 * content, so the second run answers as a replay and posts nothing.
 *
 *   npm run import:members -- --coop <Coop id> --kind members --file members.csv
 *
 * Exit codes: 0 imported (or replayed); 1 the file has bad rows (nothing imported); 2 usage error,
 * unreadable file, refused token, unknown co-op, or the server could not be reached.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { type CoopImportKind, createLedgerClient, LedgerClientError } from '../client-sdk/index.js';
import { coopGlobalId } from '../schema/ids.js';
import {
  CliError,
  connectionHelp,
  ensureListening,
  type LedgerAddress,
  ledgerAddress,
  ledgerToken,
} from './lib/cli.js';

const usage = `Usage: npm run import:members -- --coop ID --file PATH [--kind members|payments] [--url URL] [--token T] [--key K]

Imports a CSV file into a co-op, all or nothing (a file with a bad row imports nothing and the bad
rows are listed, by line of the file: the header is line 1).

  --coop ID         the co-op: its Coop id (as the API gives it) or its raw uuid
  --file PATH       the CSV file (UTF-8; a byte-order mark and CRLF line ends are fine)
  --kind K          members (default) or payments
                      members:  name, class, applied_on required; kind, email, phone, address,
                                external_ref, status (applicant|candidate|active), status_on optional
                      payments: member (member number or external_ref), paid_on, amount required;
                                method (cash|bank), reference optional
  --url URL         the service's GraphQL endpoint (default: $LEDGER_URL, else http://localhost:4000/graphql)
  --token T         bearer token of one of the co-op's treasurers (default: $LEDGER_TOKEN)
  --key K           idempotency key, 1 to 80 characters (default: derived from the file's SHA-256,
                    so importing the same file again is a replay that changes nothing)
  -h, --help        this help

${connectionHelp("the token of one of the co-op's treasurers")}

Exit status: 0 imported or replayed; 1 the file has bad rows (nothing was imported);
2 usage error, unreadable file, refused token, unknown co-op, or nothing listens at the address
(checked before anything is sent, without retrying).`;

const KEY_LENGTH_MAX = 80;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

class UsageError extends Error {}

interface Options {
  address: LedgerAddress;
  token: string;
  coopId: string;
  kind: CoopImportKind;
  file: string;
  key: string | undefined;
}

function parseOptions(argv: string[]): Options | 'help' {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        url: { type: 'string' },
        token: { type: 'string' },
        coop: { type: 'string' },
        kind: { type: 'string', default: 'members' },
        file: { type: 'string' },
        key: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values.help) return 'help';
  const coop = (values.coop as string | undefined)?.trim();
  if (!coop) throw new UsageError('--coop is required (the Coop id)');
  const file = values.file as string | undefined;
  if (!file) throw new UsageError('--file is required (the CSV file to import)');
  const kind = String(values.kind).toLowerCase();
  if (kind !== 'members' && kind !== 'payments')
    throw new UsageError(`--kind must be members or payments, not "${values.kind}"`);
  const token = ledgerToken(values.token as string | undefined);
  if (token === undefined)
    throw new UsageError('a token is needed: --token T or the environment variable LEDGER_TOKEN');
  const key = values.key as string | undefined;
  if (key !== undefined && (key.length < 1 || key.length > KEY_LENGTH_MAX))
    throw new UsageError(`--key must be 1 to ${KEY_LENGTH_MAX} characters`);
  let address: LedgerAddress;
  try {
    address = ledgerAddress(values.url as string | undefined);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  return {
    address,
    token,
    // A raw uuid is the co-op's book id: the Coop id is its global id.
    coopId: UUID.test(coop) ? coopGlobalId(coop.toLowerCase()) : coop,
    kind: kind === 'members' ? 'MEMBERS' : 'PAYMENTS',
    file,
    key,
  };
}

/** A table with a header row, columns padded to their widest cell. */
function formatTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

async function main(argv: string[]): Promise<number> {
  let options: Options | 'help';
  try {
    options = parseOptions(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`import-members: ${error.message}\n\n${usage}`);
    return 2;
  }
  if (options === 'help') {
    console.log(usage);
    return 0;
  }

  let bytes: Buffer;
  try {
    bytes = readFileSync(options.file);
  } catch (error) {
    console.error(`import-members: cannot read ${options.file}: ${(error as Error).message}`);
    return 2;
  }
  const csv = bytes.toString('utf8');
  const key =
    options.key ??
    `csv-${options.kind.toLowerCase()}-${createHash('sha256').update(bytes).digest('hex')}`.slice(
      0,
      KEY_LENGTH_MAX,
    );

  try {
    await ensureListening(options.address);
  } catch (error) {
    if (!(error instanceof CliError)) throw error;
    console.error(`import-members: ${error.message}`);
    return 2;
  }
  const client = createLedgerClient({ url: options.address.url, token: options.token, timeoutMs: 120_000 });
  let result: Awaited<ReturnType<typeof client.importMembersCsv>>;
  try {
    result = await client.importMembersCsv({
      coopId: options.coopId,
      kind: options.kind,
      csv,
      idempotencyKey: key,
    });
  } catch (error) {
    if (error instanceof LedgerClientError) {
      const refused = error.code === 'UNAUTHENTICATED' || error.code === 'FORBIDDEN';
      console.error(
        refused
          ? `import-members: the server refused the token (${error.code}); use a token of one of the co-op's treasurers`
          : `import-members: the import failed: ${error.message}`,
      );
      return 2;
    }
    throw error;
  }

  if (result.userErrors.length > 0) {
    for (const e of result.userErrors) {
      const hint =
        e.code === 'UNKNOWN_COOP'
          ? `no co-op ${options.coopId} that this token may write to (check --coop and the token)`
          : e.code === 'IDEMPOTENCY_KEY_REUSED'
            ? `the key ${key} was already used for another file in this co-op (give another --key)`
            : `${e.message}${e.field ? ` (${e.field})` : ''}`;
      console.error(`import-members: ${e.code}: ${hint}`);
    }
    return 2;
  }

  if (!result.imported) {
    const errors = [...result.rowErrors].sort((a, b) => a.row - b.row);
    console.log(
      `${options.file}: NOT imported, nothing was changed: ${errors.length} problem${errors.length === 1 ? '' : 's'} in ${result.rows} data row${result.rows === 1 ? '' : 's'} (line 1 is the header)\n`,
    );
    console.log(
      formatTable(
        ['line', 'column', 'code', 'problem'],
        errors.map((e) => [String(e.row), e.column ?? '-', e.code, e.message]),
      ),
    );
    return 1;
  }

  console.log(
    [
      `${options.file}: ${result.replayed ? 'already imported (replayed: nothing new was posted)' : 'imported'}`,
      `  co-op:               ${options.coopId}`,
      `  kind:                ${options.kind.toLowerCase()}`,
      `  rows:                ${result.rows}`,
      `  memberships created: ${result.membershipsCreated}`,
      `  payments posted:     ${result.paymentsPosted}`,
      `  replayed:            ${result.replayed ? 'yes' : 'no'}`,
      `  idempotency key:     ${key}`,
    ].join('\n'),
  );
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    console.error(`import-members: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 2;
  },
);
