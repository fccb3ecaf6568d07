/**
 * Durability for writes that commit without waiting for their WAL flush.
 *
 * The posting engine's optimistic writes commit with synchronous_commit off (see writeEntries'
 * `deferFlush`): PostgreSQL releases the book's row as soon as the commit record is in its WAL
 * buffers, and the next group's write runs while this one's WAL goes to disk, instead of every
 * write of a book holding its row through an fsync. Nothing is answered before it is durable: the
 * engine answers a group only once a flush barrier that started after the group's write committed
 * has finished. The barrier is a transaction that writes one WAL record and commits with
 * synchronous_commit on, so its commit flushes the WAL up to its own record, which comes after every
 * commit made before it started. Barriers from every caller (and every process) share fsyncs as
 * PostgreSQL's group commit does; one runs at a time here, and the callers that arrive meanwhile
 * share the next one.
 *
 * Readers: a commit is seen by other transactions before its WAL is on disk, so a read may see a
 * posting that is not yet durable (and, should PostgreSQL crash within that flush, never will be).
 * The service's queries wait for a barrier after they ran whenever a write of this process may
 * not be durable yet (`settled`, see server/platform/http/durable-reads.ts): whatever they saw was
 * committed before that barrier's commit, so it is durable when they answer. A write of another
 * process is not known here: a read in this process may see it up to one WAL flush early.
 */
import { isConnectionError, UnavailableError } from '../platform/errors.js';
import type { DbPool } from '../platform/transaction.js';
import { flushWal } from './store-wal.js';

const noop = () => {};

export class WalFlush {
  /** The barrier in flight, if any. */
  private running: Promise<void> | null = null;
  /** The barrier that starts once `running` is done, shared by every caller meanwhile. */
  private queued: Promise<void> | null = null;
  /** Barriers run (tests, logs). */
  barriers = 0;
  /** Writes that may commit without their flush, begun and not ended (see begin). */
  private active = 0;
  /** A counter of events: the last write ended, and the start of the last barrier that finished. */
  private tick = 0;
  private lastEnd = 0;
  private durableFrom = 0;

  constructor(private readonly pool: DbPool) {}

  /**
   * Resolves once everything committed before the call is on disk; rejects with UnavailableError
   * when the database could not confirm it (what was committed may or may not be durable).
   */
  after(): Promise<void> {
    if (this.queued !== null) return this.queued;
    // A barrier in flight may have started before the caller's commit: the next one is needed.
    if (this.running === null) return this.start();
    const queued = this.running.then(noop, noop).then(() => {
      this.queued = null;
      return this.start();
    });
    this.queued = queued;
    return queued;
  }

  /** A write that may commit without waiting for its flush is about to be sent. */
  begin(): void {
    this.active++;
  }

  /** That write committed or failed. */
  end(): void {
    this.active--;
    this.lastEnd = ++this.tick;
  }

  /**
   * Whether everything this process's writes committed is durable: none in flight, and a barrier
   * that started after the last one ended has finished.
   */
  settled(): boolean {
    return this.active === 0 && this.durableFrom >= this.lastEnd;
  }

  private start(): Promise<void> {
    this.barriers++;
    const startedAt = ++this.tick;
    const run = flushWal(this.pool).then(
      () => {
        if (startedAt > this.durableFrom) this.durableFrom = startedAt;
      },
      (error: unknown) => {
        if (isConnectionError(error))
          throw new UnavailableError('the database is unavailable', { cause: error });
        throw error;
      },
    );
    this.running = run;
    run
      .finally(() => {
        if (this.running === run) this.running = null;
      })
      .catch(noop);
    return run;
  }
}
