/**
 * The posting engine: every write of journal entries goes through here.
 *
 * Why a batcher: the hash chain makes every write to a book take the book's chain-head lock, so
 * one entry per transaction caps a book at one commit round trip per entry. Instead, requests that
 * arrive while a flush is running are gathered and the next flush posts all of them in one
 * transaction with set-based statements (a fixed number of round trips per group). Each request
 * still gets its own answer: items are validated one after another against the locked, in-memory
 * account state, so a rejected item changes nothing and never affects its neighbours (except
 * within an atomic batch, which is all or nothing by definition). One group's transaction (what it
 * reads, decides and writes) is in flush.ts; an unexpected failure of it is isolated to the item
 * that caused it (see flushGroup).
 *
 * Concurrency across processes: a flush locks the books (chain heads) in id order, then the
 * accounts in (book, id) order, both FOR NO KEY UPDATE, so bounds are checked against state no
 * other writer can change before commit, and two flushes never wait on each other in a cycle.
 */

import type { Logger } from 'pino';
import { LedgerError } from '../core/index.js';
import { UnavailableError } from '../platform/errors.js';
import { requestSignal } from '../platform/request-signal.js';
import { type DbPool, type TxClient, withTransaction } from '../platform/transaction.js';
import { key } from './decide.js';
import { type Decision, decideGroup, decideGroupFromCache, type FlushItem, type Pipeline } from './flush.js';
import { isKeyDecidedBefore, throwUnlessStale } from './flush-write.js';
import type { OpResult, PostOp } from './ops.js';
import { PostingCache, PRELOAD_ACCOUNTS_MAX } from './posting-cache.js';
import {
  analyzeLedgerTables,
  type EntryRecord,
  findEntries,
  ledgerStatisticsStale,
  readBookAccountsForPosting,
} from './store.js';
import { halve, opsOf, PIPELINE_OPS_MIN, WriteConnection, type WriteInFlight } from './write-connection.js';

export { isEntryOp, type OpResult, type PostOp } from './ops.js';
export { requestSignal };

interface Item extends FlushItem {
  resolve: (results: OpResult[]) => void;
  reject: (error: unknown) => void;
}

/** The answers of one request's independent ops, gathered as their items are answered. */
class IndependentBatch {
  readonly results: OpResult[];
  private remaining: number;
  private failed = false;

  constructor(
    size: number,
    private readonly onResolve: (results: OpResult[]) => void,
    private readonly onReject: (error: unknown) => void,
  ) {
    this.results = new Array(size);
    this.remaining = size;
  }

  answer(index: number, result: OpResult): void {
    this.results[index] = result;
    if (--this.remaining === 0 && !this.failed) this.onResolve(this.results);
  }

  fail(error: unknown): void {
    if (this.failed) return;
    this.failed = true;
    this.onReject(error);
  }
}

/** One independent op of a request: an item of its own, answered into its request's batch. */
class IndependentItem implements Item {
  readonly atomic = false;
  readonly ops: PostOp[];

  constructor(
    op: PostOp,
    readonly signal: AbortSignal | undefined,
    /** The request's collector; also how `halve` tells this op's request from the next. */
    readonly batch: IndependentBatch,
    private readonly index: number,
  ) {
    this.ops = [op];
  }

  resolve(results: OpResult[]): void {
    this.batch.answer(this.index, results[0]!);
  }

  /** resolve without the array of one result. */
  resolveOne(result: OpResult): void {
    this.batch.answer(this.index, result);
  }

  reject(error: unknown): void {
    this.batch.fail(error);
  }

  /**
   * This op alone failed and nothing was posted for it: answered as ENTRY_NOT_POSTED in its
   * request's results (the error itself is logged), so the request still gets the answers of its
   * other ops, posted or refused. Without it one entry the service fails on would fail the whole
   * request at every retry, and the client could never learn what became of the others.
   */
  notPosted(): void {
    this.batch.answer(this.index, {
      ok: false,
      error: new LedgerError(
        'ENTRY_NOT_POSTED',
        'not posted: the service failed on this entry (the failure is logged); the other entries were answered on their own',
        null,
      ),
    });
  }
}

export interface PostingEngineOptions {
  /** Most ops posted by one flush; the rest wait for the next. Bounds a transaction's size. */
  opsPerFlushMax?: number;
  /**
   * Fewest ops in a flush decided from the cache for the next flush to be decided on its write at
   * once while it is in flight (behind a smaller one, see startFlush).
   */
  pipelineOpsMin?: number;
  clock?: () => Date;
}

/** Thrown inside submitWith's transaction to roll it back with an answer. */
class RolledBack {
  constructor(readonly outcome: Decision[] | LedgerError) {}
}

/** The replays of a group that has none (never written to). */
const NO_REPLAYS: ReadonlyMap<string, EntryRecord> = new Map();

/** Flushes in flight at once: one before its commit, one committing (see preCommitOwner). */
const FLUSHES_IN_FLIGHT_MAX = 2;

/**
 * Optimistic tries of a group (read, decide, compare-and-set write) before it is posted under the
 * book's lock instead: another writer of the book (another process) wrote between the read and
 * the write this many times in a row.
 */
export const OPTIMISTIC_ATTEMPTS_MAX = 3;

/** The books of a group's ops. */
const booksOf = (group: readonly FlushItem[]) => group.flatMap((item) => item.ops.map((op) => op.bookId));

export class PostingEngine {
  private readonly queue: Item[] = [];
  private closed = false;
  /** Flushes started and not finished. */
  private inFlight = 0;
  /**
   * The flush that has not yet reached its commit, if any. Only one flush at a time may be before
   * its commit, so groups stay large; the next one starts as soon as the current one sends COMMIT,
   * and its BEGIN and reads wait on the book lock in PostgreSQL instead of in this process, which
   * takes the round trips between two flushes off the critical path.
   */
  private preCommitOwner: object | null = null;
  private startScheduled = false;
  private idleWaiters: (() => void)[] = [];
  private readonly opsPerFlushMax: number;
  private readonly pipelineOpsMin: number;
  private readonly clock: () => Date;
  /** Statistics keeper: entries posted by this process, and the count that triggers the next ANALYZE. */
  private entriesWritten = 0;
  private nextAnalyzeAt = 1_000;
  private analyzing = false;
  /** Optimistic writes that found their book or an account changed since their read (tests, logs). */
  staleWrites = 0;
  /** Groups posted under the book's lock after OPTIMISTIC_ATTEMPTS_MAX stale writes. */
  lockedFallbacks = 0;
  /** What the last committed writes left: a flush of plain entries is decided from it (see PostingCache). */
  readonly cache: PostingCache;
  /** Writes decided from the cache that found their book, an account or a key changed (tests, logs). */
  staleCachedWrites = 0;
  /**
   * The flush whose write, decided from the cache, is in flight: the next flush is decided on what
   * it will leave and sent at once (see optimisticFlush), instead of waiting for its commit.
   */
  private ahead: WriteInFlight | null = null;
  /** The last group read and written in optimisticFlush after the cache could not post it. */
  private rereads: Promise<unknown> = Promise.resolve();
  /** Groups decided on a write still in flight, whose own write committed (tests, logs). */
  pipelinedWrites = 0;

  /** The counters above, as the service logs them when it stops. */
  counters() {
    return {
      staleWrites: this.staleWrites,
      staleCachedWrites: this.staleCachedWrites,
      lockedFallbacks: this.lockedFallbacks,
      pipelinedWrites: this.pipelinedWrites,
      cacheHits: this.cache.hits,
    };
  }

  constructor(
    private readonly pool: DbPool,
    private readonly logger: Logger,
    options: PostingEngineOptions = {},
  ) {
    this.opsPerFlushMax = options.opsPerFlushMax ?? 2000;
    this.pipelineOpsMin = options.pipelineOpsMin ?? PIPELINE_OPS_MIN;
    this.clock = options.clock ?? (() => new Date());
    this.cache = new PostingCache((bookId) => readBookAccountsForPosting(pool, bookId, PRELOAD_ACCOUNTS_MAX));
  }

  /** Posts ops; atomic = all or none. Resolves with one result per op, in order. */
  submit(ops: PostOp[], atomic: boolean): Promise<OpResult[]> {
    if (this.closed) return Promise.reject(new UnavailableError('the service is shutting down'));
    if (ops.length === 0) return Promise.resolve([]);
    const signal = requestSignal.getStore();
    return new Promise((resolve, reject) => {
      if (atomic) {
        this.queue.push({ ops, atomic: true, signal, resolve, reject });
      } else {
        // Independent ops: one item each, answered together (one collector for the request, no
        // closures per op).
        const batch = new IndependentBatch(ops.length, resolve, reject);
        for (let i = 0; i < ops.length; i++) this.queue.push(new IndependentItem(ops[i]!, signal, batch, i));
      }
      this.schedule();
    });
  }

  /**
   * Posts ops all or nothing in one transaction together with writes of their own: `prepare` runs
   * first in the transaction (it must lock the book row first, like every writer, then may lock
   * and read accounts, insert rows such as a new member's accounts) and returns the ops to post.
   * If any op is rejected, the whole transaction rolls back, `prepare`'s writes included, and the
   * rejections are returned. Runs beside the group queue: PostgreSQL's book and account locks
   * order it with every flush. `prepare` may return a LedgerError to roll back without posting.
   */
  async submitWith<T>(
    prepare: (client: TxClient) => Promise<{ ops: PostOp[]; value: T } | LedgerError>,
  ): Promise<{ results: OpResult[]; value: T } | LedgerError> {
    if (this.closed) throw new UnavailableError('the service is shutting down');
    let outcome: { decisions: Decision[]; value: T } | LedgerError;
    try {
      outcome = await withTransaction(this.pool, async (client) => {
        const prepared = await prepare(client);
        if (prepared instanceof LedgerError) throw new RolledBack(prepared);
        // Written beside the queue: what the cache knows of these books is no longer the latest.
        this.cache.forget(prepared.ops.map((op) => op.bookId));
        const item: Item = {
          ops: prepared.ops,
          atomic: true,
          signal: undefined,
          resolve: () => {},
          reject: () => {},
        };
        const [decisions] = prepared.ops.length > 0 ? await decideGroup(client, [item], this.clock()) : [[]];
        if (decisions!.some((d) => d.type === 'error')) throw new RolledBack(decisions!);
        return { decisions: decisions!, value: prepared.value };
      });
    } catch (error) {
      if (!(error instanceof RolledBack)) throw error;
      if (error.outcome instanceof LedgerError) return error.outcome;
      const flat = error.outcome;
      const replays = await this.loadReplays([flat]);
      return { results: flat.map((d) => this.finalise(d, flat, replays)), value: undefined as T };
    }
    if (outcome instanceof LedgerError) return outcome;
    const flat = outcome.decisions;
    const replays = await this.loadReplays([flat]);
    this.entriesWritten += flat.filter((d) => d.type === 'posted').length;
    return { results: flat.map((d) => this.finalise(d, flat, replays)), value: outcome.value };
  }

  /** Stops taking work and waits for queued work to finish. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.inFlight === 0 && this.queue.length === 0) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  private schedule(): void {
    if (this.startScheduled || this.queue.length === 0) return;
    if (this.preCommitOwner !== null || this.inFlight >= FLUSHES_IN_FLIGHT_MAX) return;
    this.startScheduled = true;
    // setImmediate lets requests parsed in the same event-loop turn join this flush.
    setImmediate(() => {
      this.startScheduled = false;
      this.startFlush();
    });
  }

  private startFlush(): void {
    if (this.queue.length === 0 || this.preCommitOwner !== null || this.inFlight >= FLUSHES_IN_FLIGHT_MAX)
      return;
    // The group is the queue's head, taken with one splice (not one shift per item, each of which
    // moves the rest of a queue that holds thousands of a batch's items).
    let taken = 0;
    let ops = 0;
    while (taken < this.queue.length) {
      const size = this.queue[taken]!.ops.length;
      if (taken > 0 && ops + size > this.opsPerFlushMax) break;
      taken++;
      ops += size;
    }
    // Behind a write in flight of fewer than pipelineOpsMin ops, the next group is decided only once
    // it holds as many ops (else at that write's commit): groups as large as the clients' cohorts.
    const sent = this.ahead;
    if (sent !== null && sent.ops < this.pipelineOpsMin && ops < sent.ops) return;
    // With no write in flight, requests that arrived together are split to pipeline (see halve).
    if (sent === null && ops >= 2 * this.pipelineOpsMin) [taken, ops] = halve(this.queue, taken, ops);
    const group = this.queue.splice(0, taken);
    const token = {};
    this.preCommitOwner = token;
    this.inFlight++;
    const releasePreCommit = () => {
      if (this.preCommitOwner === token) {
        this.preCommitOwner = null;
        this.schedule();
      }
    };
    this.flushGroup(group, releasePreCommit)
      .catch((error) => this.logger.error({ err: error }, 'posting flush failed unexpectedly'))
      .finally(() => {
        this.inFlight--;
        releasePreCommit();
        this.schedule();
        if (this.inFlight === 0 && this.queue.length === 0) {
          for (const resolve of this.idleWaiters.splice(0)) resolve();
        }
      });
  }

  /**
   * Posts a group in one transaction. A failure the engine did not expect (the database refusing
   * an item's data, a bug) must not cost the group's other items: nothing was committed, so the
   * group is posted again at once with each item written on a savepoint of its own
   * (decideGroup's `isolate`), which answers the offending item alone and posts the others in
   * that same transaction. Should that transaction fail as a whole too, the group is split in two
   * and each half tried the same way, until the offending item is alone and gets the error
   * (masked by the API as an internal error, logged in full).
   */
  private async flushGroup(group: Item[], atCommit: () => void, isolate = false): Promise<void> {
    let decisions: Decision[][];
    try {
      decisions = isolate
        ? await this.lockedFlush(group, atCommit, 'isolated')
        : await this.optimisticFlush(group, atCommit);
    } catch (error) {
      if (group.length > 1 && !(error instanceof UnavailableError)) {
        // Nothing was committed.
        this.logger.warn(
          { err: error, items: group.length, isolated: isolate },
          isolate
            ? 'entry group failed again with its items isolated; posting each half on its own'
            : 'entry group failed; posting it again with each item on a savepoint of its own',
        );
        if (!isolate) return this.flushGroup(group, atCommit, true);
        const half = Math.ceil(group.length / 2);
        await this.flushGroup(group.slice(0, half), atCommit, true);
        await this.flushGroup(group.slice(half), atCommit, true);
        return;
      }
      if (!(error instanceof UnavailableError)) {
        this.logger.error({ err: error, ops: group[0]?.ops.length }, 'entry could not be posted');
        // Nothing of this group (one item, after isolation) was committed.
        for (const item of group) this.failItem(item, error);
        return;
      }
      for (const item of group) item.reject(error);
      return;
    }
    let replays: ReadonlyMap<string, EntryRecord>;
    try {
      replays = await this.loadReplays(decisions);
    } catch (error) {
      for (const item of group) item.reject(error);
      return;
    }
    const flat = decisions.flat();
    let postedCount = 0;
    for (const d of flat) if (d.type === 'posted') postedCount++;
    this.entriesWritten += postedCount;
    if (this.entriesWritten >= this.nextAnalyzeAt) this.analyze();
    for (let i = 0; i < group.length; i++) {
      const item = group[i]!;
      const own = decisions[i]!;
      const only = own.length === 1 ? own[0]! : null;
      if (only?.type === 'posted') {
        // The common case (a single entry, or one entry of an independent batch): answered without
        // the arrays the checks below make.
        const result: OpResult = { ok: true, entry: only.entry, replayed: false };
        if (item instanceof IndependentItem) item.resolveOne(result);
        else item.resolve([result]);
        continue;
      }
      this.answer(item, own, flat, replays);
    }
  }

  /**
   * An item that failed unexpectedly and of which nothing was posted: an op of an independent
   * batch is answered ENTRY_NOT_POSTED within its request; any other item fails its request.
   */
  private failItem(item: Item, error: unknown): void {
    if (item instanceof IndependentItem) item.notPosted();
    else item.reject(error);
  }

  /** Answers one item of a flushed group from its decisions. */
  private answer(
    item: Item,
    own: Decision[],
    flat: Decision[],
    replays: ReadonlyMap<string, EntryRecord>,
  ): void {
    // An op that failed, or a copy of one in the same group (same key), fails its item.
    const failed = own
      .map((d) => (d.type === 'same-as' ? flat[d.index]! : d))
      .find((d) => d.type === 'failed');
    if (failed?.type === 'failed') {
      this.logger.error(
        { err: failed.error, ops: item.ops.length },
        'entry could not be posted: the database refused it; the rest of its group was posted',
      );
      this.failItem(item, failed.error);
    } else if (own.some((d) => d.type === 'abandoned')) {
      this.logger.info({ ops: item.ops.length }, 'not posted: the client went away before the decision');
      item.reject(
        new UnavailableError('the client went away before the entry was posted; nothing was posted'),
      );
    } else {
      item.resolve(own.map((d) => this.finalise(d, flat, replays)));
    }
  }

  /**
   * The group read, decided and written without holding the book's lock across round trips (see
   * FlushMode 'optimistic'): two round trips, the second of which commits. A write that finds its
   * book changed since the read (another process wrote it) fails whole and the group is read and
   * decided again; after OPTIMISTIC_ATTEMPTS_MAX such tries it is posted under the lock. One
   * optimistic flush runs at a time (the next one's read would find this one's book version
   * stale): requests that arrive meanwhile join the next group.
   */
  private async optimisticFlush(group: Item[], atCommit: () => void): Promise<Decision[][]> {
    // The flush before this one, when its write (decided from the cache) is still in flight: this
    // one is decided on what that write will leave (see WriteAhead), and its write is queued on
    // that write's connection, so that PostgreSQL runs it once that one has committed (sent on
    // another connection, it could run first and find the book not yet as it expects). The
    // compare-and-set of the book's version and chain head then ties it to that very write.
    const ahead = this.ahead;
    // Any write decided from the cache may have the next flush decided on it in flight (see
    // startFlush): it takes a connection of its own, on which the next write is queued.
    const connection = ahead?.connection.join() ?? new WriteConnection();
    let failure: unknown;
    let settle!: (committed: boolean) => void;
    const done = new Promise<boolean>((resolve) => {
      settle = resolve;
    });
    const mine: WriteInFlight = { state: null, done, connection, ops: opsOf(group) };
    let committed = false;
    // First without a read, from what the last committed write left (one round trip).
    try {
      const db = await connection.open(this.pool);
      const pipeline: Pipeline = {
        ahead: ahead?.state ?? null,
        after: ahead?.done,
        // Once this write is sent, the next flush may be decided on what it leaves.
        onSent: (state) => {
          if (state === null) return;
          mine.state = state;
          this.ahead = mine;
          atCommit();
        },
      };
      const decided = await decideGroupFromCache(db, group, this.clock(), this.cache, pipeline);
      if (decided !== null) {
        committed = true;
        if (ahead !== null) this.pipelinedWrites++;
        return decided;
      }
    } catch (error) {
      failure = error;
      // A write decided on one still in flight fails when that one fails: then this says nothing
      // of the book or the key, and that one's own failure did what it called for.
      const aheadFailed = ahead !== null && !(await ahead.done);
      throwUnlessStale(error);
      this.staleCachedWrites++;
      // A key decided before (a client's retry, most often) says nothing of the book: what the
      // cache knows still holds, and this group alone is read. Anything else means another
      // writer got there: read, and read the book first for a while.
      if (!aheadFailed && !isKeyDecidedBefore(error)) this.cache.forget(booksOf(group), true);
    } finally {
      if (this.ahead === mine) this.ahead = null;
      connection.leave(failure);
      settle(committed);
    }
    // Read only once the write in flight is done with, and once the groups read before this one
    // are posted: what they committed is then read (read beside them, both would be decided on
    // the same version of the book, and one would fail again).
    const before = this.rereads;
    const reread = (async () => {
      await before;
      if (ahead !== null) await ahead.done;
      for (let attempt = 1; attempt <= OPTIMISTIC_ATTEMPTS_MAX; attempt++) {
        try {
          return await decideGroup(this.pool, group, this.clock(), 'optimistic', this.cache);
        } catch (error) {
          throwUnlessStale(error);
          this.staleWrites++;
        }
      }
      this.lockedFallbacks++;
      this.logger.info(
        { items: group.length, attempts: OPTIMISTIC_ATTEMPTS_MAX },
        'entry group kept finding its book changed by another writer; posting it under the book lock',
      );
      return this.lockedFlush(group, atCommit, 'locked');
    })();
    this.rereads = reread.catch(() => undefined);
    return reread;
  }

  /** The group in a transaction of its own, under the book and account locks. */
  private lockedFlush(
    group: Item[],
    atCommit: () => void,
    mode: 'locked' | 'isolated',
  ): Promise<Decision[][]> {
    // Written under the lock, committed or not: what the cache knows of these books is no longer
    // the latest either way.
    this.cache.forget(booksOf(group));
    return withTransaction(
      this.pool,
      async (client) => {
        const out = await decideGroup(client, group, this.clock(), mode);
        atCommit();
        return out;
      },
      { beginInWork: true },
    );
  }

  /**
   * Refreshes planner statistics of the ledger tables as they grow: after 1,000 entries written by
   * this process, then each time that count doubles. Autovacuum would get there too, but on a young
   * database it may analyze a tiny table and leave cached plans (foreign-key checks included)
   * choosing sequential scans while the table grows a thousandfold before its next visit. ANALYZE
   * samples at most 30,000 rows and takes no lock that blocks writers; it runs in the background.
   */
  private analyze(): void {
    if (this.analyzing) return;
    this.analyzing = true;
    this.nextAnalyzeAt = this.entriesWritten * 2;
    // Only while the journal is young: once the planner's statistics count at least half the
    // entries, autovacuum's own ANALYZE (after 10% growth) keeps them current, and an ANALYZE of a
    // large table is not free.
    ledgerStatisticsStale(this.pool)
      .then((stale) => (stale ? analyzeLedgerTables(this.pool) : undefined))
      .catch((error) => {
        // Without the privilege (a role that does not own the tables) autovacuum remains in charge.
        this.logger.warn({ err: error }, 'could not refresh ledger statistics; leaving it to autovacuum');
        this.nextAnalyzeAt = Number.POSITIVE_INFINITY;
      })
      .finally(() => {
        this.analyzing = false;
      });
  }

  private finalise(d: Decision, flat: Decision[], replays: ReadonlyMap<string, EntryRecord>): OpResult {
    switch (d.type) {
      case 'posted':
        return { ok: true, entry: d.entry, replayed: false };
      case 'error':
        return { ok: false, error: d.error };
      case 'replay':
        return { ok: true, entry: replays.get(key(d.bookId, d.id))!, replayed: true };
      case 'same-as': {
        const original = this.finalise(flat[d.index]!, flat, replays);
        return original.ok ? { ...original, replayed: true } : original;
      }
      case 'abandoned':
      case 'failed':
        // Items with an abandoned or failed op are rejected whole in flushGroup, never finalised.
        throw new Error(`an op ${d.type} has no result`);
    }
  }

  private async loadReplays(decisions: Decision[][]): Promise<ReadonlyMap<string, EntryRecord>> {
    const wanted: { bookId: string; id: string }[] = [];
    for (const item of decisions) {
      for (const d of item) if (d.type === 'replay') wanted.push({ bookId: d.bookId, id: d.id });
    }
    if (wanted.length === 0) return NO_REPLAYS;
    const found = await findEntries(this.pool, wanted);
    return new Map(found.map((e) => [key(e.bookId, e.id), e]));
  }
}
