/**
 * The latest release id of each city, kept per process so that cityReport does not ask the
 * database for it on every request (issue 15), and never stale: a release is announced by
 * `pg_notify(RELEASE_CHANNEL, cityKey)` in the transaction that stores it (store.insertRelease), so
 * every process hears it when it commits, on a connection of its own that LISTENs.
 *
 * The cache is read only while that connection listens. Until it does (the first request, or after
 * it failed: it is opened again at most once a second), every request reads the database, as
 * without a cache. An id read from the database is kept only when nothing was heard meanwhile
 * (an epoch counts notifications, connections and failures): a read that raced a publication, or
 * began before the LISTEN took effect, is used for its request and not kept.
 */
import pg from 'pg';
import type { DbPool } from '../platform/transaction.js';
import * as store from './store.js';
import { RELEASE_CHANNEL } from './store.js';

const CITIES_KEPT_MAX = 10_000;
const RECONNECT_AFTER_MS = 1_000;

export class LatestReleases {
  private readonly ids = new Map<string, string>();
  private epoch = 0;
  private listener: pg.Client | null = null;
  private listening = false;
  private lastAttempt = 0;
  private closed = false;

  constructor(private readonly pool: DbPool) {}

  /** The city's latest release id (null: none yet). */
  async get(cityKey: string): Promise<string | null> {
    if (this.listening) {
      const id = this.ids.get(cityKey);
      if (id !== undefined) return id;
    } else this.listen();
    const epoch = this.epoch;
    const id = await store.latestReleaseId(this.pool, cityKey);
    if (id !== null && this.listening && epoch === this.epoch) {
      if (this.ids.size >= CITIES_KEPT_MAX) this.ids.clear();
      this.ids.set(cityKey, id);
    }
    return id;
  }

  /** Stops listening (the service's close). */
  async close(): Promise<void> {
    this.closed = true;
    const client = this.listener;
    this.drop();
    await client?.end().catch(() => undefined);
  }

  private forget(): void {
    this.epoch++;
    this.ids.clear();
  }

  private drop(): void {
    this.listening = false;
    this.listener = null;
    this.forget();
  }

  /** Opens the listening connection, unless one is open or opening, or one failed within a second. */
  private listen(): void {
    if (this.closed || this.listener || Date.now() - this.lastAttempt < RECONNECT_AFTER_MS) return;
    this.lastAttempt = Date.now();
    const options = (this.pool as unknown as { options: pg.ClientConfig }).options;
    const client = new pg.Client({ ...options, application_name: 'reporting release listener' });
    this.listener = client;
    const fail = () => {
      if (this.listener !== client) return;
      this.drop();
      client.end().catch(() => undefined);
    };
    client.on('error', fail);
    client.on('end', fail);
    client.on('notification', (message) => {
      if (this.listener !== client || message.channel !== RELEASE_CHANNEL) return;
      this.epoch++;
      if (message.payload) this.ids.delete(message.payload);
      else this.ids.clear();
    });
    client
      .connect()
      .then(() => client.query(`listen ${RELEASE_CHANNEL}`))
      .then(() => {
        if (this.listener !== client) return;
        // Reads begun before the LISTEN took effect may miss a publication: not kept.
        this.forget();
        this.listening = true;
      })
      .catch(fail);
  }
}
