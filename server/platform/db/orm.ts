/**
 * MikroORM bootstrap. One ORM per process; the pg pool behind it is shared by the
 * ORM's entity manager and by the set-based write path (see `nativePool`).
 */

import type { EntityName } from '@mikro-orm/core';
import { Migrator } from '@mikro-orm/migrations';
import { MikroORM } from '@mikro-orm/postgresql';
import type { Pool } from 'pg';
import { migrationsList } from './migrations/index.js';

/** How long a request waits for a database connection before it fails with UNAVAILABLE. */
export const DB_CONNECT_TIMEOUT_MS = 5_000;

/** `application_name` of the service's PostgreSQL sessions. */
export const DB_APPLICATION_NAME = 'solidarity-ledger';

export interface OrmOptions {
  /** The domains' entities (the platform knows none itself; see server/compose.ts). */
  entities?: EntityName[];
  /** Maximum pool size. The write path needs few connections because it groups entries. */
  poolMax?: number;
  debug?: boolean;
}

export async function createOrm(url: string, options: OrmOptions = {}): Promise<MikroORM> {
  return MikroORM.init({
    clientUrl: url,
    entities: options.entities ?? [],
    extensions: [Migrator],
    debug: options.debug ?? false,
    pool: { min: 0, max: options.poolMax ?? 10 },
    driverOptions: {
      // A failed connection must surface to the caller quickly instead of hanging a request
      // (a refused connection fails at once; this bounds an unreachable host or a full pool).
      connectionTimeoutMillis: DB_CONNECT_TIMEOUT_MS,
      // Names the service's sessions in pg_stat_activity, so operators (and the bank test's
      // connection-termination fault) can tell them from other clients of the same database.
      application_name: DB_APPLICATION_NAME,
    },
    migrations: {
      migrationsList,
      tableName: 'mikro_orm_migrations',
      transactional: true,
      allOrNothing: true,
      snapshot: false,
      silent: true,
    },
    discovery: { warnWhenNoEntities: false },
    // Entities here are read models; writes of the ledger go through set-based SQL.
    allowGlobalContext: false,
  });
}

/** Applies every committed migration that has not run yet. */
export async function migrate(orm: MikroORM): Promise<void> {
  await orm.migrator.up();
}

/** Names of committed migrations not yet applied (empty when the schema is current). */
export async function pendingMigrations(orm: MikroORM): Promise<string[]> {
  const pending = await orm.migrator.getPending();
  return pending.map((m) => m.name);
}

/** The pg pool behind the ORM, for hand-written set-based SQL. */
export async function nativePool(orm: MikroORM): Promise<Pool> {
  return orm.em.getConnection().getNativeClient();
}
