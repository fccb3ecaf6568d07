/**
 * Extra databases on the test run's server, e.g. an empty (unmigrated) one. Each is dropped by
 * `drop()`; names start with `ledger_scratch_` so leftovers are easy to spot.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';

export interface ScratchDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

export async function createScratchDatabase(
  serverUrl: string = inject('databaseUrl'),
): Promise<ScratchDatabase> {
  const name = `ledger_scratch_${Date.now()}_${randomBytes(4).toString('hex')}`;
  await adminQuery(serverUrl, (client) => `create database ${client.escapeIdentifier(name)}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    drop: () =>
      adminQuery(
        serverUrl,
        (client) => `drop database if exists ${client.escapeIdentifier(name)} with (force)`,
      ),
  };
}

async function adminQuery(url: string, sql: (client: pg.Client) => string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql(client));
  } finally {
    await client.end();
  }
}
