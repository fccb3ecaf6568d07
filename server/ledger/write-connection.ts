/**
 * Writes decided on a write still in flight (see PostingEngine.optimisticFlush): when they may be
 * (PIPELINE_OPS_MIN, and PostingEngine.startFlush), and the connection they share with it, so that
 * PostgreSQL runs such a write only once the one before it has committed.
 */
import { isConnectionError, UnavailableError } from '../platform/errors.js';
import type { DbPool, TxClient } from '../platform/transaction.js';
import type { WriteAhead } from './flush-write.js';

/**
 * Fewest ops in a flush for the next one to be decided at once while its write is in flight. A large
 * write (a batch) keeps PostgreSQL busy long enough for the next group to be parsed and decided
 * meanwhile. Behind a smaller write the next group is decided only once it holds as many ops as
 * that write (PostingEngine.startFlush): started at once, it would be a group of the one or two
 * requests that arrived first, one write each (single entries at 16 clients, 2d7ef49 against
 * f6cc40e, where every write was pipelined at once: 2,501 and 2,801 against 2,987 entries/s), while
 * waiting for the commit leaves PostgreSQL idle between writes as the service answers and decides
 * (about 1-2 ms a write at 16 clients, 2026-12-07). Waiting for as many ops, the clients' two
 * cohorts of about 8 are written back to back (single entries at 16 clients, 20 interleaved
 * rounds: median 1.10x the rule before, 2,019 against 2,427 entries/s, CPU 0.285 against 0.270 ms
 * a request).
 */
export const PIPELINE_OPS_MIN = 64;

/** How many ops a group holds. */
export function opsOf(group: readonly { ops: readonly unknown[] }[]): number {
  let n = 0;
  for (const item of group) n += item.ops.length;
  return n;
}

/**
 * The first `taken` items of `queue` (holding `ops` ops) cut between two requests, about in half:
 * what the next flush takes when no write is in flight to decide it on (PostingEngine.startFlush,
 * when `ops` could fill two writes of PIPELINE_OPS_MIN), so that the second half is decided on the
 * first half's write at once, while it runs. Taken whole, two batches that reach the queue together
 * (one token's two admitted batches, parsed side by side) are written as one and answered together,
 * and the next two are admitted together: from then on no batch is parsed or decided while a write
 * runs (issue 12: one book's batches of 500 settled at about 5,500 entries/s after a first round of
 * about 7,400, no write pipelined, most of the machine idle). A request is never split.
 */
export function halve(
  queue: readonly { ops: readonly unknown[]; batch?: object }[],
  taken: number,
  ops: number,
): [taken: number, ops: number] {
  // An independent op's request is its batch (IndependentItem); any other item is a request.
  const requestOf = (i: number) => queue[i]!.batch ?? queue[i];
  let half = 0;
  for (let i = 0; i < taken; i++) {
    if (i > 0 && half * 2 >= ops && requestOf(i) !== requestOf(i - 1)) return [i, half];
    half += queue[i]!.ops.length;
  }
  return [taken, ops];
}

/**
 * A write decided from the cache, in flight: what it will leave (null: no flush may be decided on
 * it), whether it committed (`done`, once its flush has remembered it or failed), and the
 * connection it was sent on.
 */
export interface WriteInFlight {
  state: WriteAhead | null;
  done: Promise<boolean>;
  /** How many ops its group holds. */
  ops: number;
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
