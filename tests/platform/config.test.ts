import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  DEFAULT_BODY_LIMIT_BYTES,
  loadConfig,
  redactUrl,
  repoRoot,
} from '../../server/platform/config.js';

function errorOf(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('has defaults for an empty environment', () => {
    expect(loadConfig({})).toEqual({
      port: 4000,
      host: '127.0.0.1',
      databaseUrl: undefined,
      dataDir: path.join(repoRoot, '.data', 'postgres'),
      logLevel: 'info',
      graphiql: true,
      introspection: true,
      bodyLimitBytes: DEFAULT_BODY_LIMIT_BYTES,
      dbPoolMax: 10,
      corsOrigins: [],
      adminToken: null,
      rateLimitPerSecond: 200,
      publicUrl: null,
      persistedDocumentsOnly: false,
      persistedDocumentsFile: null,
      workerHeapMb: 4096,
      trustProxy: false,
    });
  });

  it('reads every variable', () => {
    const config = loadConfig({
      PORT: '0',
      HOST: '0.0.0.0',
      DATABASE_URL: 'postgresql://ledger:secret@db.example.org:5433/ledger',
      DATA_DIR: '/var/lib/ledger',
      LOG_LEVEL: 'DEBUG',
      GRAPHIQL: 'false',
      INTROSPECTION: '0',
      BODY_LIMIT_BYTES: '2048',
      DB_POOL_MAX: '25',
      CORS_ORIGINS: 'https://app.example.org, http://localhost:5173',
      ADMIN_TOKEN: `slt_${'a'.repeat(32)}_${'b'.repeat(43)}`,
      RATE_LIMIT_PER_SECOND: '0',
      PUBLIC_URL: 'https://ledger.example.org/books/',
      PERSISTED_DOCUMENTS_ONLY: 'true',
      PERSISTED_DOCUMENTS_FILE: 'config/documents.json',
      WORKER_HEAP_MB: '8192',
      TRUST_PROXY: 'loopback, 10.0.0.0/8',
    });
    expect(config).toEqual({
      port: 0,
      host: '0.0.0.0',
      databaseUrl: 'postgresql://ledger:secret@db.example.org:5433/ledger',
      dataDir: '/var/lib/ledger',
      logLevel: 'debug',
      graphiql: false,
      introspection: false,
      bodyLimitBytes: 2048,
      dbPoolMax: 25,
      corsOrigins: ['https://app.example.org', 'http://localhost:5173'],
      adminToken: `slt_${'a'.repeat(32)}_${'b'.repeat(43)}`,
      rateLimitPerSecond: 0,
      publicUrl: 'https://ledger.example.org/books',
      persistedDocumentsOnly: true,
      persistedDocumentsFile: path.join(repoRoot, 'config', 'documents.json'),
      workerHeapMb: 8192,
      trustProxy: ['loopback', '10.0.0.0/8'],
    });
  });

  it('treats empty strings as unset and resolves a relative DATA_DIR against the checkout', () => {
    const config = loadConfig({ PORT: '', DATABASE_URL: '  ', DATA_DIR: 'tmp/pg' });
    expect(config.port).toBe(4000);
    expect(config.databaseUrl).toBeUndefined();
    expect(config.dataDir).toBe(path.join(repoRoot, 'tmp', 'pg'));
  });

  it.each([
    ['PORT', '65536', 'PORT="65536" is invalid: expected an integer between 0 and 65535.'],
    ['PORT', '-1', 'PORT="-1"'],
    ['PORT', '80a', 'PORT="80a"'],
    ['PORT', '4e3', 'PORT="4e3"'],
    ['LOG_LEVEL', 'verbose', 'LOG_LEVEL="verbose" is invalid: expected one of fatal, error, warn, info'],
    ['GRAPHIQL', 'maybe', 'GRAPHIQL="maybe" is invalid: expected true or false.'],
    ['INTROSPECTION', 'enabled', 'INTROSPECTION="enabled"'],
    ['BODY_LIMIT_BYTES', '10', 'BODY_LIMIT_BYTES="10" is invalid: expected an integer between 1024 and'],
    ['BODY_LIMIT_BYTES', '1.5', 'BODY_LIMIT_BYTES="1.5"'],
    ['DB_POOL_MAX', '0', 'DB_POOL_MAX="0" is invalid: expected an integer between 1 and 1000.'],
    ['WORKER_HEAP_MB', '100', 'WORKER_HEAP_MB="100" is invalid: expected an integer between 256 and 65536.'],
    [
      'DATABASE_URL',
      'mysql://root@localhost/db',
      'DATABASE_URL="mysql://root@localhost/db" is invalid: expected a postgres://',
    ],
    ['DATABASE_URL', 'not a url', 'DATABASE_URL="not a url" is invalid'],
    ['CORS_ORIGINS', 'https://ok.example.org,ftp://bad.example.org', 'CORS_ORIGINS="ftp://bad.example.org"'],
    ['CORS_ORIGINS', 'https://app.example.org/path', 'CORS_ORIGINS="https://app.example.org/path"'],
    ['HOST', 'local host', 'HOST="local host"'],
    [
      'PUBLIC_URL',
      'ledger.example.org',
      'PUBLIC_URL="ledger.example.org" is invalid: expected an http:// or https:// URL',
    ],
    ['PUBLIC_URL', 'ftp://ledger.example.org', 'PUBLIC_URL="ftp://ledger.example.org" is invalid'],
    [
      'PUBLIC_URL',
      'https://ledger.example.org/?x=1',
      'PUBLIC_URL="https://ledger.example.org/?x=1" is invalid',
    ],
    [
      'PUBLIC_URL',
      'https://u:p@ledger.example.org',
      'PUBLIC_URL="https://u:p@ledger.example.org" is invalid',
    ],
    [
      'RATE_LIMIT_PER_SECOND',
      '100001',
      'RATE_LIMIT_PER_SECOND="100001" is invalid: expected an integer between 0 and 100000.',
    ],
    [
      'ADMIN_TOKEN',
      'slt_short',
      'ADMIN_TOKEN is invalid: expected a token of the form slt_<32 hex>_<43 base64url> (value not shown).',
    ],
  ])('rejects %s=%s naming the variable and the value', (name, value, message) => {
    const error = errorOf({ [name]: value });
    expect(error.message).toContain(message);
    expect(error.issues).toHaveLength(1);
  });

  it('takes PUBLIC_URL with or without a path, and drops a trailing slash', () => {
    expect(loadConfig({ PUBLIC_URL: 'http://127.0.0.1:4000/' }).publicUrl).toBe('http://127.0.0.1:4000');
    expect(loadConfig({ PUBLIC_URL: 'https://example.org/ledger' }).publicUrl).toBe(
      'https://example.org/ledger',
    );
  });

  it('never shows the ADMIN_TOKEN it refuses', () => {
    const error = errorOf({ ADMIN_TOKEN: 'slt_secret-value' });
    expect(error.message).not.toContain('secret-value');
  });

  it('reports every bad variable at once', () => {
    const error = errorOf({ PORT: 'x', DB_POOL_MAX: 'y' });
    expect(error.issues).toHaveLength(2);
    expect(error.message).toContain('PORT="x"');
    expect(error.message).toContain('DB_POOL_MAX="y"');
  });

  it('never prints a database password', () => {
    const error = errorOf({ DATABASE_URL: 'mysql://root:hunter2@localhost/db' });
    expect(error.message).not.toContain('hunter2');
    expect(error.message).toContain('mysql://root:***@localhost/db');
    expect(redactUrl('postgres://u:p%40ss@h:5432/d')).toBe('postgres://u:***@h:5432/d');
  });
});
