/**
 * MikroORM bootstrap. One ORM per process; the pg pool behind it is shared by the
 * ORM's entity manager and by the set-based write path (see `nativePool`).
 */

import { Migrator } from '@mikro-orm/migrations';
import { MikroORM } from '@mikro-orm/postgresql';
import type { Pool } from 'pg';
import { entities } from './entities.js';
import { migrationsList } from './migrations/index.js';

export interface OrmOptions {
  /** Maximum pool size. The write path needs few connections because it groups entries. */
  poolMax?: number;
  debug?: boolean;
}

export async function createOrm(url: string, options: OrmOptions = {}): Promise<MikroORM> {
  return MikroORM.init({
    clientUrl: url,
    entities,
    extensions: [Migrator],
    debug: options.debug ?? false,
    pool: { min: 0, max: options.poolMax ?? 10 },
    // A failed connection must surface to the caller quickly instead of hanging a request.
    driverOptions: { connectionTimeoutMillis: 5_000 },
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
