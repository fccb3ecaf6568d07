/**
 * One database for the whole test run, migrated once:
 * - DATABASE_URL set: a fresh database `ledger_test_<timestamp>_<pid>` on that server, dropped at
 *   the end (databases of this kind older than a day, left by killed runs, are dropped too);
 * - otherwise: one embedded PostgreSQL in a fresh folder under os.tmpdir(), stopped and removed
 *   at the end (folders left by killed runs are cleaned first).
 * Tests get the URL with `inject('databaseUrl')`.
 *
 * An ADMIN token is registered in that database (as the service's ADMIN_TOKEN bootstrap would) and
 * provided as `inject('adminToken')`: the test helpers send it by default, and child server
 * processes get it as ADMIN_TOKEN (already registered, so concurrent starts never race to add it).
 */
import { existsSync, readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { createAuthService, newTokenString } from '../../server/auth/index.js';
import { clearStalePostmaster, isAlive, startEmbeddedPostgres } from '../../server/platform/db/embedded.js';
import { migrate, nativePool } from '../../server/platform/db/orm.js';
import { createLogger } from '../../server/platform/logger.js';
import { createOrm } from '../../server/services.js';

declare module 'vitest' {
  interface ProvidedContext {
    /** URL of the migrated database of this test run. */
    databaseUrl: string;
    /** An ADMIN token registered in that database (`Authorization: Bearer <token>`). */
    adminToken: string;
  }
}

const TEST_DIR_PREFIX = 'solidarity-ledger-test-';
const OWNER_FILE = 'owner.pid';
const STALE_DATABASE_AGE_MS = 24 * 60 * 60 * 1000;

const logger = createLogger({ level: (process.env.TEST_LOG_LEVEL as 'warn' | undefined) ?? 'warn' });

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const started = Date.now();
  const external = process.env.DATABASE_URL?.trim();
  const run = external ? await createRunDatabase(external) : await startRunCluster();
  const adminToken = newTokenString();
  try {
    const orm = await createOrm(run.url, { poolMax: 2 });
    try {
      await migrate(orm);
      await createAuthService(orm, await nativePool(orm), logger).bootstrap(adminToken);
    } finally {
      await orm.close();
    }
  } catch (error) {
    await run.stop();
    throw error;
  }
  logger.info({ ms: Date.now() - started, embedded: !external }, 'test database ready');
  project.provide('databaseUrl', run.url);
  project.provide('adminToken', adminToken);
  return run.stop;
}

interface RunDatabase {
  url: string;
  stop(): Promise<void>;
}

async function createRunDatabase(serverUrl: string): Promise<RunDatabase> {
  const name = `ledger_test_${Date.now()}_${process.pid}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await dropOldRunDatabases(admin);
    await admin.query(`create database ${admin.escapeIdentifier(name)}`);
  } finally {
    await admin.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    stop: async () => {
      const client = new pg.Client({ connectionString: serverUrl });
      await client.connect();
      try {
        await client.query(`drop database if exists ${client.escapeIdentifier(name)} with (force)`);
      } finally {
        await client.end();
      }
    },
  };
}

async function dropOldRunDatabases(admin: pg.Client): Promise<void> {
  const { rows } = await admin.query<{ datname: string }>(
    "select datname from pg_database where datname ~ '^ledger_test_[0-9]+_[0-9]+$'",
  );
  for (const { datname } of rows) {
    const createdAt = Number(datname.split('_')[2]);
    if (Date.now() - createdAt < STALE_DATABASE_AGE_MS) continue;
    await admin
      .query(`drop database if exists ${admin.escapeIdentifier(datname)} with (force)`)
      .catch(() => {});
  }
}

async function startRunCluster(): Promise<RunDatabase> {
  await removeAbandonedClusters();
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), TEST_DIR_PREFIX));
  // mkdtemp makes the folder 0700; as root PostgreSQL runs as "postgres" and must traverse it.
  await fs.chmod(dir, 0o755);
  await fs.writeFile(path.join(dir, OWNER_FILE), `${process.pid}\n`);
  try {
    const cluster = await startEmbeddedPostgres({
      dataDir: path.join(dir, 'data'),
      logger,
      // A throwaway cluster: durability is not needed, speed is.
      settings: { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off', max_connections: '300' },
    });
    return {
      url: cluster.url,
      stop: async () => {
        await cluster.stop();
        await fs.rm(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await fs.rm(dir, { recursive: true, force: true });
    throw error;
  }
}

/** Folders of earlier runs whose vitest process is gone (killed): stop their cluster, remove them. */
async function removeAbandonedClusters(): Promise<void> {
  const tmp = os.tmpdir();
  for (const name of await fs.readdir(tmp)) {
    if (!name.startsWith(TEST_DIR_PREFIX)) continue;
    const dir = path.join(tmp, name);
    const ownerFile = path.join(dir, OWNER_FILE);
    if (!existsSync(ownerFile)) {
      // Maybe a concurrent run between mkdtemp and writing its owner file: leave young folders.
      const { mtimeMs } = await fs.stat(dir);
      if (Date.now() - mtimeMs < 60_000) continue;
    } else {
      const owner = Number.parseInt(readFileSync(ownerFile, 'utf8'), 10);
      if (Number.isSafeInteger(owner) && isAlive(owner)) continue;
    }
    try {
      if (existsSync(path.join(dir, 'data'))) await clearStalePostmaster(path.join(dir, 'data'), logger);
      await fs.rm(dir, { recursive: true, force: true });
    } catch (error) {
      logger.warn({ err: error, dir }, 'could not clean an abandoned test cluster');
    }
  }
}
