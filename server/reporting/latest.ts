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
import { ChannelListener } from '../platform/notifications.js';
import type { DbPool } from '../platform/transaction.js';
import * as store from './store.js';
import { RELEASE_CHANNEL } from './store.js';

const CITIES_KEPT_MAX = 10_000;
const RECONNECT_AFTER_MS = 1_000;

export class LatestReleases {
  private readonly ids = new Map<string, string>();
  private epoch = 0;
  private listening = false;
  private readonly listener: ChannelListener;

  constructor(private readonly pool: DbPool) {
    this.listener = new ChannelListener(
      pool,
      RELEASE_CHANNEL,
      {
        // Reads begun before the LISTEN took effect may miss a publication: not kept.
        onListening: () => {
          this.forget();
          this.listening = true;
        },
        onNotify: (cityKey) => {
          this.epoch++;
          if (cityKey) this.ids.delete(cityKey);
          else this.ids.clear();
        },
        onDown: () => {
          this.listening = false;
          this.forget();
        },
      },
      RECONNECT_AFTER_MS,
    );
  }

  /** The city's latest release id (null: none yet). */
  async get(cityKey: string): Promise<string | null> {
    if (this.listening) {
      const id = this.ids.get(cityKey);
      if (id !== undefined) return id;
    } else this.listener.ensure();
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
    await this.listener.close();
  }

  private forget(): void {
    this.epoch++;
    this.ids.clear();
  }
}
