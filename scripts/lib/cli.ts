/**
 * Helpers shared by the command-line scripts: for the CLIs that talk to a running service
 * (tokens, import-members, export-directory, export-ledger), where it is and which token to send
 * (`--url`/LEDGER_URL, `--token`/LEDGER_TOKEN), and a check that something listens there before
 * the first request, so a wrong address fails at once instead of after the SDK's retries.
 */
import { connect } from 'node:net';
import { createLedgerClient, type LedgerClient } from '../../client-sdk/index.js';
import { redactUrl } from '../../server/platform/config.js';
import { fetchWithoutTimeouts } from './long-fetch.js';

/** How long Node's global fetch waits for a response's headers. */
const UNDICI_HEADERS_TIMEOUT_MS = 300_000;

/** Where the CLIs find the service when neither --url nor LEDGER_URL says. */
export const DEFAULT_LEDGER_URL = 'http://localhost:4000/graphql';
/** How long the check waits for a connection to be accepted (a firewalled address never refuses). */
export const CONNECT_TIMEOUT_MS = 5_000;

/** A failure to show as it is, without a stack trace. */
export class CliError extends Error {}

/** The `--help` lines about the service's address and the token, the same in every CLI. */
export function connectionHelp(token: string): string {
  return `Environment (an option of the same meaning wins):
  LEDGER_URL     the service's GraphQL endpoint, or its address (/graphql is added), as --url;
                 default ${DEFAULT_LEDGER_URL}
  LEDGER_TOKEN   ${token}, as --token`;
}

export interface LedgerAddress {
  /** The GraphQL endpoint. */
  url: string;
  /** Where it came from, for messages. */
  source: '--url' | 'LEDGER_URL' | 'the default';
}

/** The endpoint from --url, else LEDGER_URL, else the default; an address without a path gets /graphql. */
export function ledgerAddress(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): LedgerAddress {
  const fromEnv = env.LEDGER_URL?.trim() || undefined;
  const source = flag !== undefined ? '--url' : fromEnv !== undefined ? 'LEDGER_URL' : 'the default';
  const given = flag ?? fromEnv ?? DEFAULT_LEDGER_URL;
  let parsed: URL;
  try {
    parsed = new URL(given);
  } catch {
    throw new CliError(`${source} must be an http(s) URL such as ${DEFAULT_LEDGER_URL}, not "${given}"`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
    throw new CliError(`${source} must be an http(s) URL such as ${DEFAULT_LEDGER_URL}, not "${given}"`);
  if (parsed.pathname === '/' || parsed.pathname === '') parsed.pathname = '/graphql';
  return { url: parsed.href, source };
}

/** The token from --token, else LEDGER_TOKEN (blank counts as none). */
export function ledgerToken(
  flag: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  const token = (flag ?? env.LEDGER_TOKEN)?.trim();
  return token ? token : undefined;
}

/**
 * Connects once to the address's host and port: resolves if something accepts, else throws a
 * CliError that says what is wrong and how to point the CLI elsewhere. One attempt, no retries.
 */
export async function ensureListening(address: LedgerAddress, timeoutMs = CONNECT_TIMEOUT_MS): Promise<void> {
  const url = new URL(address.url);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  const failure = await new Promise<NodeJS.ErrnoException | 'timeout' | undefined>((resolve) => {
    const socket = connect({ host, port, timeout: timeoutMs });
    socket.once('connect', () => {
      socket.destroy();
      resolve(undefined);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve('timeout');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error));
  });
  if (failure === undefined) return;
  const why =
    failure === 'timeout'
      ? `nothing answered at ${host}:${port} within ${timeoutMs / 1000} s`
      : failure.code === 'ECONNREFUSED'
        ? `nothing listens at ${address.url} (connection refused)`
        : failure.code === 'ENOTFOUND' || failure.code === 'EAI_AGAIN'
          ? `the host ${host} of ${address.url} is not known`
          : `cannot connect to ${address.url}: ${failure.message}`;
  throw new CliError(
    `${why[0]!.toUpperCase()}${why.slice(1)}; the address came from ${address.source}. ` +
      'Start the service (npm start), or point LEDGER_URL (or --url) at it, e.g. ' +
      'LEDGER_URL=http://127.0.0.1:4001/graphql.',
  );
}

/**
 * The shared setup of a CLI that talks to the service: the address and token from the options or
 * the environment, the check that something listens there, and an SDK client.
 */
export async function connectLedger(options: {
  url: string | undefined;
  token: string | undefined;
  /** The SDK's time limit per request (its default otherwise), for CLIs whose calls may run long. */
  timeoutMs?: number;
}): Promise<{ client: LedgerClient; address: LedgerAddress }> {
  const address = ledgerAddress(options.url);
  await ensureListening(address);
  const client = createLedgerClient({
    url: address.url,
    token: ledgerToken(options.token),
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    // Beyond 300 s the global fetch's own headers timeout would end the call first (long-fetch.ts).
    ...(options.timeoutMs !== undefined && options.timeoutMs > UNDICI_HEADERS_TIMEOUT_MS
      ? { fetch: fetchWithoutTimeouts }
      : {}),
  });
  return { client, address };
}

/**
 * The command line that reproduces this run, as the user would type it (passwords hidden):
 * `npm run <script> -- <args>` when started through one of `npmScripts`, else `npx tsx <file> <args>`.
 */
export function commandLine(argv: string[], npmScripts: readonly string[], file: string): string {
  const quote = (arg: string) => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", "'\\''")}'`);
  const args = argv.map((arg) => (/^postgres(ql)?:\/\//.test(arg) ? redactUrl(arg) : arg)).map(quote);
  const event = process.env.npm_lifecycle_event;
  const base =
    event !== undefined && npmScripts.includes(event)
      ? `npm run ${event}${args.length > 0 ? ' --' : ''}`
      : `npx tsx ${file}`;
  const env =
    process.env.DATABASE_URL?.trim() && !argv.includes('--database-url') ? 'DATABASE_URL=<redacted> ' : '';
  return `${env}${base}${args.length > 0 ? ` ${args.join(' ')}` : ''}`;
}

/** A bad command line: `parseCommandLine` prints its message and a pointer to --help (exit 2). */
export class UsageError extends Error {}

/**
 * A script's options parsed by `parse` (which returns 'help' for --help and throws UsageError, or
 * node:util's parseArgs errors, for a bad command line), or the exit status when there is nothing
 * to run: 0 once `usage` is printed, 2 once the problem is.
 */
export function parseCommandLine<T extends object>(
  argv: string[],
  parse: (argv: string[]) => T | 'help',
  usage: string,
): T | 0 | 2 {
  try {
    const parsed = parse(argv);
    if (parsed !== 'help') return parsed;
    process.stdout.write(usage);
    return 0;
  } catch (error) {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`${(error as Error).message}\n\nRun with --help for the options.\n`);
      return 2;
    }
    throw error;
  }
}
