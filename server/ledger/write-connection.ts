/**
 * The connection of the posting engine's writes decided from its cache (see
 * PostingEngine.optimisticFlush): a write decided on one still in flight is queued on that one's
 * connection, so that PostgreSQL runs it only once that one has committed.
 */
import { isConnectionError, UnavailableError } from '../platform/errors.js';
import type { DbPool, TxClient } from '../platform/transaction.js';
import type { WriteAhead } from './flush-write.js';

/**
 * A write decided from the cache, in flight: what it will leave (null: no flush may be decided on
 * it), whether it committed (`done`, once its flush has remembered it or failed), and the
 * connection it was sent on.
 */
export interface WriteInFlight {
  state: WriteAhead | null;
  done: Promise<boolean>;
  connection: WriteConnection;
}

/** A pooled connection shared by the writes queued on it, released when the last one leaves. */
export class WriteConnection {
  private client: TxClient | null = null;
  private users = 1;
  private broken = false;
  /** A connection lost while no query runs on it (the pool listens only while it is idle). */
  private readonly onError = () => {
    this.broken = true;
  };

  async open(pool: DbPool): Promise<TxClient> {
    if (this.client !== null) return this.client;
    try {
      this.client = await pool.connect();
    } catch (error) {
      throw new UnavailableError('the database is unavailable', { cause: error });
    }
    this.client.on('error', this.onError);
    return this.client;
  }

  join(): this {
    this.users++;
    return this;
  }

  /** One write done with it; `error`, its failure. */
  leave(error?: unknown): void {
    if (error !== undefined && isConnectionError(error)) this.broken = true;
    if (--this.users > 0 || this.client === null) return;
    this.client.removeListener('error', this.onError);
    this.client.release(this.broken ? true : undefined);
    this.client = null;
  }
}
