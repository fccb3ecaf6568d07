import { existsSync } from 'node:fs';
/**
 * Service configuration from environment variables, validated once at start-up.
 *
 * Every variable is optional; a bad value stops the service with a `ConfigError` that names the
 * variable and the value (passwords in DATABASE_URL are redacted), so a typo never falls back
 * to a default silently. An empty string counts as unset, as most env-file tools write it.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

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
}

/** One documented variable: the single source for `--help`, the README table and defaults. */
export interface ConfigVariable {
  name: string;
  default: string;
  description: string;
}

export const DEFAULT_BODY_LIMIT_BYTES = 1024 * 1024;

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
    description: 'Requests per second per token, in bursts of up to twice that (0..100000; 0 disables).',
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

/** Reads and validates the configuration; throws `ConfigError` listing every bad variable. */
export function loadConfig(env: Env = process.env): Config {
  const issues: string[] = [];
  const read = (name: string): string | undefined => {
    const value = env[name];
    return value === undefined || value.trim() === '' ? undefined : value.trim();
  };
  const bad = (name: string, value: string, expected: string): void => {
    issues.push(`${name}=${JSON.stringify(value)} is invalid: expected ${expected}.`);
  };

  const int = (name: string, fallback: number, min: number, max: number): number => {
    const raw = read(name);
    if (raw === undefined) return fallback;
    const value = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
    if (!Number.isSafeInteger(value) || value < min || value > max) {
      bad(name, raw, `an integer between ${min} and ${max}`);
      return fallback;
    }
    return value;
  };

  const bool = (name: string, fallback: boolean): boolean => {
    const raw = read(name);
    if (raw === undefined) return fallback;
    const lower = raw.toLowerCase();
    if (['true', '1', 'yes', 'on'].includes(lower)) return true;
    if (['false', '0', 'no', 'off'].includes(lower)) return false;
    bad(name, raw, 'true or false');
    return fallback;
  };

  const port = int('PORT', 4000, 0, 65535);

  const host = read('HOST') ?? '127.0.0.1';
  if (/\s|\//.test(host)) bad('HOST', host, 'a host name or IP address');

  let databaseUrl = read('DATABASE_URL');
  if (databaseUrl !== undefined) {
    const problem = checkDatabaseUrl(databaseUrl);
    if (problem) {
      bad('DATABASE_URL', redactUrl(databaseUrl), problem);
      databaseUrl = undefined;
    }
  }

  const dataDir = path.resolve(repoRoot, read('DATA_DIR') ?? '.data/postgres');

  const rawLevel = read('LOG_LEVEL');
  let logLevel: LogLevel = 'info';
  if (rawLevel !== undefined) {
    const lower = rawLevel.toLowerCase();
    if ((LOG_LEVELS as readonly string[]).includes(lower)) logLevel = lower as LogLevel;
    else bad('LOG_LEVEL', rawLevel, `one of ${LOG_LEVELS.join(', ')}`);
  }

  const graphiql = bool('GRAPHIQL', true);
  const introspection = bool('INTROSPECTION', true);
  const bodyLimitBytes = int('BODY_LIMIT_BYTES', DEFAULT_BODY_LIMIT_BYTES, 1024, 64 * 1024 * 1024);
  const dbPoolMax = int('DB_POOL_MAX', 10, 1, 1000);

  const corsOrigins: string[] = [];
  const rawCors = read('CORS_ORIGINS');
  if (rawCors !== undefined) {
    for (const item of rawCors.split(',')) {
      const origin = item.trim();
      if (origin === '') continue;
      if (isOrigin(origin)) corsOrigins.push(origin.replace(/\/$/, ''));
      else bad('CORS_ORIGINS', origin, 'origins like https://app.example.org (scheme, host, optional port)');
    }
  }

  const adminToken = read('ADMIN_TOKEN') ?? null;
  if (adminToken !== null && !/^slt_[0-9a-f]{32}_[A-Za-z0-9_-]{43}$/.test(adminToken)) {
    issues.push(
      'ADMIN_TOKEN is invalid: expected a token of the form slt_<32 hex>_<43 base64url> (value not shown).',
    );
  }
  const rateLimitPerSecond = int('RATE_LIMIT_PER_SECOND', 200, 0, 100_000);

  if (issues.length > 0) throw new ConfigError(issues);
  return {
    port,
    host,
    databaseUrl,
    dataDir,
    logLevel,
    graphiql,
    introspection,
    bodyLimitBytes,
    dbPoolMax,
    corsOrigins,
    adminToken,
    rateLimitPerSecond,
  };
}

function checkDatabaseUrl(value: string): string | undefined {
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

function isOrigin(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.origin === value.replace(/\/$/, '');
  } catch {
    return false;
  }
}
