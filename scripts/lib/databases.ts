/**
 * A database of its own on a PostgreSQL server, for a benchmark or the bank test: created fresh,
 * dropped (connections forced off) when the run ends.
 */
import pg from 'pg';

async function onServer(serverUrl: string, sql: (client: pg.Client) => string): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(sql(client));
  } finally {
    await client.end();
  }
}

/** Creates database `name` on the server of `serverUrl`; its URL. */
export async function createDatabase(serverUrl: string, name: string): Promise<string> {
  await onServer(serverUrl, (c) => `create database ${c.escapeIdentifier(name)}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Drops database `name` on the server of `serverUrl`, whoever is connected to it. */
export async function dropDatabase(serverUrl: string, name: string): Promise<void> {
  await onServer(serverUrl, (c) => `drop database if exists ${c.escapeIdentifier(name)} with (force)`);
}
