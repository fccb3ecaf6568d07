import { existsSync } from 'node:fs';
/**
 * Service configuration from environment variables, validated once at start-up with a zod schema
 * (one entry per variable, below).
 *
 * Every variable is optional; a bad value stops the service with a `ConfigError` that names the
 * variable and the value (passwords in DATABASE_URL are redacted, ADMIN_TOKEN is never shown), so
 * a typo never falls back to a default silently. An empty string counts as unset, as most env-file
 * tools write it.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import proxyaddr from 'proxy-addr';
import { z } from 'zod';

/** The checkout: relative paths (DATA_DIR) resolve against it; the nearest folder above this module with a package.json (works from dist/ too). */
function findRepoRoot(start: string): string {
  for (let dir = start; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) return path.resolve(start, '..');
  }
}

export const repoRoot: string = findRepoRoot(path.dirname(fileURLToPath(import.meta.url)));

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface Config {
  /** TCP port of the HTTP server; 0 picks a free one. */
  port: number;
  /** Interface to listen on. */
  host: string;
  /** External PostgreSQL; when absent an embedded PostgreSQL is started in `dataDir`. */
  databaseUrl: string | undefined;
  /** Data folder of the embedded PostgreSQL (absolute). */
  dataDir: string;
  logLevel: LogLevel;
  graphiql: boolean;
  introspection: boolean;
  /** Largest accepted request body, in bytes. */
  bodyLimitBytes: number;
  /** Largest size of the PostgreSQL connection pool. */
  dbPoolMax: number;
  /** Origins allowed by CORS; empty means no CORS headers at all (same-origin only). */
  corsOrigins: string[];
  /** A token to register as an ADMIN token at start (bootstrap); null: print a new one if none exists. */
  adminToken: string | null;
  /** Requests per second allowed per token (bursts of twice that); 0 disables the limit. */
  rateLimitPerSecond: number;
  /**
   * Where the service is reached from outside (scheme, host, optional port and path, no trailing
   * slash), e.g. https://ledger.example.org; public links (directory profiles) are built on it.
   * Null: such links are relative. Never taken from a request's Host header.
   */
  publicUrl: string | null;
  /** Refuse GraphQL documents that are not persisted (known by id in the manifests). */
  persistedDocumentsOnly: boolean;
  /** A manifest of more persisted documents (id -> text) besides the SDK's; null: none. */
  persistedDocumentsFile: string | null;
  /** Heap limit of a worker process (a city report's protection and audit), in MB. */
  workerHeapMb: number;
  /**
   * Which proxies' X-Forwarded-For is believed for the client address (express's `trust proxy`):
   * false trusts none (the connection's address); a number trusts that many hops in front of the
   * service; a list trusts proxies at those addresses, CIDR ranges or the names `loopback`,
   * `linklocal`, `uniquelocal`. Never true: trusting every address lets any client pick its own.
   */
  trustProxy: TrustProxy;
}

/** The values of TRUST_PROXY that express's `trust proxy` is given (see Config.trustProxy). */
export type TrustProxy = false | number | string[];

/** The names of address ranges express's `trust proxy` (proxy-addr) knows. */
export const TRUST_PROXY_NAMES = ['loopback', 'linklocal', 'uniquelocal'] as const;

/** Most hops TRUST_PROXY may trust. */
export const TRUST_PROXY_MAX_HOPS = 10;

/** One documented variable: the single source for `--help`, the README table and defaults. */
export interface ConfigVariable {
  name: string;
  default: string;
  description: string;
}

export const DEFAULT_BODY_LIMIT_BYTES = 1024 * 1024;

/** Default heap limit of a worker process, in MB (WORKER_HEAP_MB). */
export const DEFAULT_WORKER_HEAP_MB = 4096;

export const CONFIG_VARIABLES: readonly ConfigVariable[] = [
  { name: 'PORT', default: '4000', description: 'HTTP port (0..65535; 0 picks a free port).' },
  {
    name: 'HOST',
    default: '127.0.0.1',
    description: 'Interface to listen on. Loopback by default; set 0.0.0.0 (or ::) in a container.',
  },
  {
    name: 'DATABASE_URL',
    default: '(unset)',
    description: 'postgres:// or postgresql:// URL. Unset: start an embedded PostgreSQL in DATA_DIR.',
  },
  {
    name: 'DATA_DIR',
    default: '.data/postgres',
    description: 'Data folder of the embedded PostgreSQL, relative to the checkout (git-ignored).',
  },
  { name: 'LOG_LEVEL', default: 'info', description: `Log level: ${LOG_LEVELS.join(', ')}.` },
  { name: 'GRAPHIQL', default: 'true', description: 'Serve GraphiQL at /graphql to browsers (true/false).' },
  { name: 'INTROSPECTION', default: 'true', description: 'Allow schema introspection queries (true/false).' },
  {
    name: 'BODY_LIMIT_BYTES',
    default: String(DEFAULT_BODY_LIMIT_BYTES),
    description: 'Largest request body in bytes (1024..67108864); larger requests get 413.',
  },
  { name: 'DB_POOL_MAX', default: '10', description: 'Largest PostgreSQL connection pool (1..1000).' },
  {
    name: 'WORKER_HEAP_MB',
    default: String(DEFAULT_WORKER_HEAP_MB),
    description:
      "Heap limit in MB of the worker process that protects and audits a city report's release (256..65536); a city of 2,000 co-ops over 36 months peaks near 3.6 GB.",
  },
  {
    name: 'CORS_ORIGINS',
    default: '(none)',
    description:
      'Comma-separated origins allowed by CORS, e.g. https://app.example.org. None: same-origin only.',
  },
  {
    name: 'ADMIN_TOKEN',
    default: '(unset)',
    description:
      'An API token (slt_<32 hex>_<43 base64url>) registered as an ADMIN token at start. Unset: on first start a new admin token is printed once.',
  },
  {
    name: 'RATE_LIMIT_PER_SECOND',
    default: '200',
    description:
      'Requests per second per token (or per client address without one), in bursts of up to twice that (0..100000; 0 disables).',
  },
  {
    name: 'TRUST_PROXY',
    default: '(none)',
    description:
      "Reverse proxies whose X-Forwarded-For gives the client address (per-address rate limits, access log): a number of hops (1..10), or comma-separated addresses, CIDR ranges or loopback, linklocal, uniquelocal. None: the connection's address, X-Forwarded-For ignored.",
  },
  {
    name: 'PUBLIC_URL',
    default: '(unset)',
    description:
      'The URL the service is reached at from outside, e.g. https://ledger.example.org; public links (directory profiles) start with it. Unset: those links are relative.',
  },
  {
    name: 'PERSISTED_DOCUMENTS_ONLY',
    default: 'false',
    description:
      "Answer persisted documents only (the SDK's, and PERSISTED_DOCUMENTS_FILE's), refusing any other GraphQL document (true/false).",
  },
  {
    name: 'PERSISTED_DOCUMENTS_FILE',
    default: '(unset)',
    description:
      'A JSON manifest {"<id>": "<document>"} of more persisted documents (your own clients\'), relative to the checkout.',
  },
];

export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(readonly issues: string[]) {
    super(
      issues.length === 1
        ? `Invalid configuration: ${issues[0]}`
        : `Invalid configuration:\n${issues.map((issue) => `  - ${issue}`).join('\n')}`,
    );
  }
}

type Env = Record<string, string | undefined>;

// ---------------------------------------------------------------------------------------------
// The schema. Each variable arrives as a trimmed string, or undefined when unset or empty; the
// message of an issue is what was expected ("an integer between 0 and 65535"). A custom issue may
// name the offending part of the value in `params.value` (one origin of CORS_ORIGINS).

const integer = (fallback: number, min: number, max: number) => {
  const expected = `an integer between ${min} and ${max}`;
  return z
    .string()
    .regex(/^\d+$/, expected)
    .transform(Number)
    .pipe(
      z.number().int(expected).min(min, expected).max(max, expected).refine(Number.isSafeInteger, expected),
    )
    .default(fallback);
};

const boolean = (fallback: boolean) =>
  z
    .string()
    .toLowerCase()
    .pipe(z.enum(['true', '1', 'yes', 'on', 'false', '0', 'no', 'off'], 'true or false'))
    .transform((value) => ['true', '1', 'yes', 'on'].includes(value))
    .default(fallback);

function databaseUrlProblem(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'a URL like postgres://user:password@host:5432/database';
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    return 'a postgres:// or postgresql:// URL';
  }
  if (url.hostname === '') return 'a URL with a host, like postgres://user@127.0.0.1:5432/database';
  return undefined;
}

function isOrigin(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.origin === value.replace(/\/$/, '');
  } catch {
    return false;
  }
}

/** An http(s) URL without credentials, query or fragment; returned without a trailing slash. */
function publicUrlOf(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') return undefined;
  if (value.includes('?') || value.includes('#')) return undefined;
  return `${url.origin}${url.pathname}`.replace(/\/+$/, '');
}

/**
 * Whether express's `trust proxy` (proxy-addr) takes this entry: an address, a CIDR range or netmask
 * (a prefix of 0, every address, is refused), or one of TRUST_PROXY_NAMES. Asked of proxy-addr itself,
 * so what is accepted here is exactly what express is then given.
 */
function proxyAddrTakes(entry: string): boolean {
  try {
    proxyaddr.compile(entry);
    return true;
  } catch {
    return false;
  }
}

const TRUST_PROXY_EXPECTED =
  `a number of proxy hops (1..${TRUST_PROXY_MAX_HOPS}), or comma-separated proxy addresses, ` +
  `CIDR ranges or the names ${TRUST_PROXY_NAMES.join(', ')}`;

const trustProxy = z
  .string()
  .transform((raw, ctx): TrustProxy => {
    const value = raw.toLowerCase();
    if (value === 'true' || value === '*') {
      ctx.addIssue({
        code: 'custom',
        message: `${TRUST_PROXY_EXPECTED}, not every address: trusting all would let any client choose its own address (and rate-limit budget) with X-Forwarded-For`,
      });
      return z.NEVER;
    }
    if (/^\d+$/.test(value)) {
      const hops = Number(value);
      if (hops >= 1 && hops <= TRUST_PROXY_MAX_HOPS) return hops;
      ctx.addIssue({
        code: 'custom',
        message: `a number of proxy hops between 1 and ${TRUST_PROXY_MAX_HOPS} (leave it unset to trust none)`,
      });
      return z.NEVER;
    }
    const trusted: string[] = [];
    for (const item of raw.split(',')) {
      const entry = item.trim().toLowerCase();
      if (entry === '') continue;
      if (proxyAddrTakes(entry)) {
        trusted.push(entry);
      } else {
        ctx.addIssue({ code: 'custom', message: TRUST_PROXY_EXPECTED, params: { value: item.trim() } });
      }
    }
    return trusted.length === 0 ? false : trusted;
  })
  .default(false);

const ENV_SCHEMA = z.object({
  PORT: integer(4000, 0, 65535),
  HOST: z
    .string()
    .regex(/^[^\s/]+$/, 'a host name or IP address')
    .default('127.0.0.1'),
  DATABASE_URL: z
    .string()
    .superRefine((value, ctx) => {
      const problem = databaseUrlProblem(value);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    })
    .optional(),
  DATA_DIR: z
    .string()
    .default('.data/postgres')
    .transform((dir) => path.resolve(repoRoot, dir)),
  LOG_LEVEL: z
    .string()
    .toLowerCase()
    .pipe(z.enum(LOG_LEVELS, `one of ${LOG_LEVELS.join(', ')}`))
    .default('info'),
  GRAPHIQL: boolean(true),
  INTROSPECTION: boolean(true),
  BODY_LIMIT_BYTES: integer(DEFAULT_BODY_LIMIT_BYTES, 1024, 64 * 1024 * 1024),
  DB_POOL_MAX: integer(10, 1, 1000),
  WORKER_HEAP_MB: integer(DEFAULT_WORKER_HEAP_MB, 256, 65_536),
  CORS_ORIGINS: z
    .string()
    .transform((raw, ctx) => {
      const origins: string[] = [];
      for (const item of raw.split(',')) {
        const origin = item.trim();
        if (origin === '') continue;
        if (isOrigin(origin)) origins.push(origin.replace(/\/$/, ''));
        else {
          ctx.addIssue({
            code: 'custom',
            message: 'origins like https://app.example.org (scheme, host, optional port)',
            params: { value: origin },
          });
        }
      }
      return origins;
    })
    .default([]),
  ADMIN_TOKEN: z
    .string()
    .regex(/^slt_[0-9a-f]{32}_[A-Za-z0-9_-]{43}$/, 'a token of the form slt_<32 hex>_<43 base64url>')
    .nullable()
    .default(null),
  RATE_LIMIT_PER_SECOND: integer(200, 0, 100_000),
  PUBLIC_URL: z
    .string()
    .transform((raw, ctx) => {
      const url = publicUrlOf(raw);
      if (url === undefined) {
        ctx.addIssue({
          code: 'custom',
          message:
            'an http:// or https:// URL such as https://ledger.example.org (an optional path; no query, fragment or credentials)',
        });
        return z.NEVER;
      }
      return url;
    })
    .nullable()
    .default(null),
  TRUST_PROXY: trustProxy,
  PERSISTED_DOCUMENTS_ONLY: boolean(false),
  PERSISTED_DOCUMENTS_FILE: z
    .string()
    .transform((file) => path.resolve(repoRoot, file))
    .nullable()
    .default(null),
});

/** What a message may show of a variable's value. */
function shown(name: string, value: string): string | undefined {
  if (name === 'ADMIN_TOKEN') return undefined;
  if (name === 'DATABASE_URL') return redactUrl(value);
  return value;
}

/** Reads and validates the configuration; throws `ConfigError` listing every bad variable. */
export function loadConfig(env: Env = process.env): Config {
  const input: Record<string, string | undefined> = {};
  for (const { name } of CONFIG_VARIABLES) {
    const value = env[name]?.trim();
    input[name] = value === undefined || value === '' ? undefined : value;
  }
  const parsed = ENV_SCHEMA.safeParse(input);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => {
        const name = String(issue.path[0]);
        const part = (issue as { params?: { value?: unknown } }).params?.value;
        const value = shown(name, typeof part === 'string' ? part : (input[name] ?? ''));
        return value === undefined
          ? `${name} is invalid: expected ${issue.message} (value not shown).`
          : `${name}=${JSON.stringify(value)} is invalid: expected ${issue.message}.`;
      }),
    );
  }
  const v = parsed.data;
  return {
    port: v.PORT,
    host: v.HOST,
    databaseUrl: v.DATABASE_URL,
    dataDir: v.DATA_DIR,
    logLevel: v.LOG_LEVEL,
    graphiql: v.GRAPHIQL,
    introspection: v.INTROSPECTION,
    bodyLimitBytes: v.BODY_LIMIT_BYTES,
    dbPoolMax: v.DB_POOL_MAX,
    corsOrigins: v.CORS_ORIGINS,
    adminToken: v.ADMIN_TOKEN,
    rateLimitPerSecond: v.RATE_LIMIT_PER_SECOND,
    publicUrl: v.PUBLIC_URL,
    persistedDocumentsOnly: v.PERSISTED_DOCUMENTS_ONLY,
    persistedDocumentsFile: v.PERSISTED_DOCUMENTS_FILE,
    workerHeapMb: v.WORKER_HEAP_MB,
    trustProxy: v.TRUST_PROXY,
  };
}

/** The URL with its password replaced, for messages and logs. */
export function redactUrl(value: string): string {
  try {
    const url = new URL(value);
    if (url.password !== '') url.password = '***';
    return url.toString();
  } catch {
    // Not a URL: hide anything between ':' and '@' that could be a password.
    return value.replace(/:[^:@/]*@/, ':***@');
  }
}
