/**
 * A PostgreSQL LISTEN on a connection of its own (not the pool's): a process hears what any
 * process announces with `pg_notify(channel, payload)` when its transaction commits. Used by
 * server/reporting/latest.ts to keep cities' latest release ids without asking on every request.
 *
 * The listener says when it listens (`onListening`), what it hears (`onNotify`) and when it stops
 * listening (`onDown`: the connection failed or ended); after a failure `ensure()` opens it again,
 * at most once per `retryAfterMs`.
 */
import pg from 'pg';
import type { DbPool } from './transaction.js';

export interface ChannelEvents {
  onListening(): void;
  onNotify(payload: string): void;
  onDown(): void;
}

export class ChannelListener {
  private client: pg.Client | null = null;
  private lastAttempt = 0;
  private closed = false;

  constructor(
    private readonly pool: DbPool,
    private readonly channel: string,
    private readonly events: ChannelEvents,
    private readonly retryAfterMs = 1_000,
  ) {
    if (!/^[a-z_][a-z0-9_]*$/.test(channel)) throw new Error(`not a channel name: ${channel}`);
  }

  /** Opens the listening connection, unless one is open or opening, or one failed within retryAfterMs. */
  ensure(): void {
    if (this.closed || this.client || Date.now() - this.lastAttempt < this.retryAfterMs) return;
    this.lastAttempt = Date.now();
    const options = (this.pool as unknown as { options: pg.ClientConfig }).options;
    const client = new pg.Client({ ...options, application_name: `listener ${this.channel}` });
    this.client = client;
    const fail = () => {
      if (this.client !== client) return;
      this.client = null;
      this.events.onDown();
      client.end().catch(() => undefined);
    };
    client.on('error', fail);
    client.on('end', fail);
    client.on('notification', (message) => {
      if (this.client === client && message.channel === this.channel)
        this.events.onNotify(message.payload ?? '');
    });
    client
      .connect()
      .then(() => client.query(`listen ${this.channel}`))
      .then(() => {
        if (this.client === client) this.events.onListening();
      })
      .catch(fail);
  }

  /** Stops listening for good (the service's close). */
  async close(): Promise<void> {
    this.closed = true;
    const client = this.client;
    this.client = null;
    if (client) this.events.onDown();
    await client?.end().catch(() => undefined);
  }
}
