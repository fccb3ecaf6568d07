/**
 * Admission of release computations (issue 15; an audit's finding): nothing limited them, and each
 * starts a worker process of up to WORKER_HEAP_MB (4 GB by default), so an analyst firing N
 * publishes at once started N workers and could exhaust the machine's memory for every tenant.
 *
 * - One release of a city at a time, in this process (CityPublishes) and across the service's
 *   processes (a session-level advisory lock held on a connection of its own while the release is
 *   computed: withPublishLock). A second publish of the city meanwhile is answered at once with
 *   RELEASE_IN_PROGRESS; it does not wait for the first and answer its release: a publish is not
 *   keyed (a second one may ask for other months or rules than the one computing), waiting would
 *   hold a request and a connection for minutes per replay (the denial of service again), and the
 *   release, once stored, is listed by cityReportReleases; publishing the same months again then
 *   answers RELEASE_UP_TO_DATE, as any replay of an answered publish does.
 * - At most `workersMax` release workers in this process (ReleaseSlots): the others wait, in
 *   arrival order, holding no connection and no worker, at most `queueMax` of them; past that a
 *   publish is refused (ReleasesBusyError: THROTTLED, HTTP 503 with Retry-After, as the HTTP
 *   layer's queue of large requests answers when full).
 */
import { availableParallelism, totalmem } from 'node:os';
import { DEFAULT_WORKER_HEAP_MB } from '../platform/config.js';
import { UnavailableError } from '../platform/errors.js';
import type { DbPool, TxClient } from '../platform/transaction.js';
import * as store from './store.js';

export interface ReleaseSlotLimits {
  /** Release workers running at once in this process. */
  workersMax: number;
  /** Publishes waiting for a worker in this process; past it a publish is refused. */
  queueMax: number;
}

/** Publishes that may wait for a worker: each waits holding an HTTP request and nothing else. */
export const RELEASE_QUEUE_MAX = 16;

/** What a refused publish is told to wait before trying again, in seconds. */
export const RELEASE_RETRY_AFTER_SECONDS = 60;

/**
 * The default number of release workers for workers of `heapMb`: as many as fit in half of the
 * machine's memory (each may grow to its heap limit), and no more than the cores but one (each
 * keeps a core busy for minutes; one is left to the service); at least one.
 */
export function defaultReleaseWorkersMax(heapMb: number): number {
  const byMemory = Math.floor(totalmem() / 2 / (heapMb * 1024 * 1024));
  const byCores = availableParallelism() - 1;
  return Math.max(1, Math.min(byMemory, byCores));
}

/** A publish refused because this process's release workers are all busy and its queue is full. */
export class ReleasesBusyError extends Error {
  override name = 'ReleasesBusyError';
  readonly code = 'THROTTLED';
  readonly retryAfterSeconds = RELEASE_RETRY_AFTER_SECONDS;
}

/** The process's release workers: `acquire` a slot before starting one (see the module's comment). */
export class ReleaseSlots {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private limits: ReleaseSlotLimits) {}

  /** Changes the limits (the service's worker heap, tests); waiting publishes start if they now fit. */
  configure(limits: Partial<ReleaseSlotLimits>): void {
    this.limits = { ...this.limits, ...limits };
    this.pump();
  }

  stats(): ReleaseSlotLimits & { running: number; waiting: number } {
    return { ...this.limits, running: this.running, waiting: this.waiting.length };
  }

  /**
   * A slot, at once or after those waiting before (resolves with its release function, to call
   * exactly once when the worker is done); throws ReleasesBusyError when the queue is full.
   */
  async acquire(): Promise<() => void> {
    if (this.running < this.limits.workersMax && this.waiting.length === 0) {
      this.running++;
      return this.releaser();
    }
    if (this.waiting.length >= this.limits.queueMax)
      throw new ReleasesBusyError(
        `every release worker of this service is busy and ${this.waiting.length} publishes are waiting; retry in ${RELEASE_RETRY_AFTER_SECONDS} s`,
      );
    // pump() counts the slot as running before it resolves this.
    await new Promise<void>((resolve) => this.waiting.push(resolve));
    return this.releaser();
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.running--;
      this.pump();
    };
  }

  private pump(): void {
    while (this.running < this.limits.workersMax && this.waiting.length > 0) {
      this.running++;
      this.waiting.shift()!();
    }
  }
}

/** Every release computed in this process takes a slot here (ReportingService fits it to its heap). */
export const releaseSlots = new ReleaseSlots({
  workersMax: defaultReleaseWorkersMax(DEFAULT_WORKER_HEAP_MB),
  queueMax: RELEASE_QUEUE_MAX,
});

/** The cities whose release this process is computing or has queued. */
export class CityPublishes {
  private readonly cities = new Set<string>();

  /** False when the city's release is already in hand here; else it is, until `release`. */
  claim(cityKey: string): boolean {
    if (this.cities.has(cityKey)) return false;
    this.cities.add(cityKey);
    return true;
  }

  release(cityKey: string): void {
    this.cities.delete(cityKey);
  }
}

export const cityPublishes = new CityPublishes();

/**
 * Runs `work` holding the city's publish lock (store.tryLockPublish) on a connection of its own,
 * kept for the whole release (minutes) and given back unlocked; `busy()` when another session
 * holds it. A connection that fails meanwhile is closed, not returned to the pool (the lock goes
 * with it; the release's own reads and write use other connections and fail or succeed alone:
 * the lock guards the machine's resources, the write's checks under lockCity guard the data).
 */
export async function withPublishLock<T>(
  pool: DbPool,
  cityKey: string,
  work: () => Promise<T>,
  busy: () => T,
): Promise<T> {
  let session: TxClient;
  try {
    session = await pool.connect();
  } catch (error) {
    throw new UnavailableError('the database is unavailable', { cause: error });
  }
  let broken = false;
  // The connection lost while the release computes (MikroORM's pool logs it): closed, not pooled.
  const onError = () => {
    broken = true;
  };
  session.on('error', onError);
  try {
    let taken: boolean;
    try {
      taken = await store.tryLockPublish(session, cityKey);
    } catch (error) {
      broken = true;
      throw error;
    }
    if (!taken) return busy();
    try {
      return await work();
    } finally {
      // Not given back (the connection lost, or the lock not held as it should be): the
      // connection is closed instead, which ends its locks.
      try {
        if (!(await store.unlockPublish(session, cityKey))) broken = true;
      } catch {
        broken = true;
      }
    }
  } finally {
    session.off('error', onError);
    session.release(broken ? true : undefined);
  }
}
