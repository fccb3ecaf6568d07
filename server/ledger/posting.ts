/**
 * The posting engine: every write of journal entries goes through here.
 *
 * Why a batcher: the hash chain makes every write to a book take the book's chain-head lock, so
 * one entry per transaction caps a book at one commit round trip per entry. Instead, requests that
 * arrive while a flush is running are gathered and the next flush posts all of them in one
 * transaction with set-based statements (a fixed number of round trips per group). Each request
 * still gets its own answer: items are validated one after another against the locked, in-memory
 * account state, so a rejected item changes nothing and never affects its neighbours (except
 * within an atomic batch, which is all or nothing by definition).
 *
 * Concurrency across processes: a flush locks the books (chain heads) in id order, then the
 * accounts in (book, id) order, both FOR NO KEY UPDATE, so bounds are checked against state no
 * other writer can change before commit, and two flushes never wait on each other in a cycle.
 */

import type { Logger } from 'pino';
import {
  type AccountTotals,
  type BalanceMovement,
  compareMovements,
  type ErrorCode,
  invariant,
  LedgerError,
  normalSide,
  signedAmount,
  ZERO,
} from '../core/index.js';
import { UnavailableError } from '../platform/errors.js';
import { isUuid } from '../platform/ids.js';
import { requestSignal } from '../platform/request-signal.js';
import { type DbPool, type TxClient, withTransaction } from '../platform/transaction.js';
import {
  accountsOf,
  dayTotals,
  decide,
  key,
  pickTotals,
  postingInstant,
  precheck,
  toRecord,
} from './decide.js';
import { isEntryOp, type OpResult, type PostOp } from './ops.js';
import {
  type AccountRow,
  analyzeLedgerTables,
  type EntryRecord,
  findEntries,
  laterMovements,
  lockAccountsForPosting,
  lockPhase,
  type NewEntry,
  type Refusal,
  writeEntries,
} from './store.js';

export { isEntryOp, type OpResult, type PostOp } from './ops.js';
export { requestSignal };

interface Item {
  ops: PostOp[];
  atomic: boolean;
  /** Fires when the client that sent these ops has gone (see `process`). */
  signal: AbortSignal | undefined;
  resolve: (results: OpResult[]) => void;
  reject: (error: unknown) => void;
}

/**
 * What a flush decided for one op before the post-commit replay loads. An error decided against
 * the locked state (by `decide`) carries the refusal to remember under its key.
 */
type Decision =
  | { type: 'posted'; entry: EntryRecord }
  | { type: 'error'; error: LedgerError; refusal?: Refusal }
  | { type: 'replay'; bookId: string; id: string }
  | { type: 'same-as'; index: number }
  | { type: 'abandoned' };

export interface PostingEngineOptions {
  /** Most ops posted by one flush; the rest wait for the next. Bounds a transaction's size. */
  opsPerFlushMax?: number;
  clock?: () => Date;
}

/** Thrown inside submitWith's transaction to roll it back with an answer. */
class RolledBack {
  constructor(readonly outcome: Decision[] | LedgerError) {}
}

/** Flushes in flight at once: one before its commit, one committing (see preCommitOwner). */
const FLUSHES_IN_FLIGHT_MAX = 2;

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
  private readonly clock: () => Date;
  /** Statistics keeper: entries posted by this process, and the count that triggers the next ANALYZE. */
  private entriesWritten = 0;
  private nextAnalyzeAt = 1_000;
  private analyzing = false;

  constructor(
    private readonly pool: DbPool,
    private readonly logger: Logger,
    options: PostingEngineOptions = {},
  ) {
    this.opsPerFlushMax = options.opsPerFlushMax ?? 2000;
    this.clock = options.clock ?? (() => new Date());
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
        // Independent ops: one item each, answered together.
        const results: OpResult[] = new Array(ops.length);
        let remaining = ops.length;
        let failed = false;
        ops.forEach((op, i) => {
          this.queue.push({
            ops: [op],
            atomic: false,
            signal,
            resolve: ([r]) => {
              results[i] = r!;
              if (--remaining === 0 && !failed) resolve(results);
            },
            reject: (e) => {
              if (!failed) {
                failed = true;
                reject(e);
              }
            },
          });
        });
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
        const item: Item = {
          ops: prepared.ops,
          atomic: true,
          signal: undefined,
          resolve: () => {},
          reject: () => {},
        };
        const [decisions] = prepared.ops.length > 0 ? await this.process(client, [item]) : [[]];
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
    const group: Item[] = [];
    let ops = 0;
    while (this.queue.length > 0) {
      const next = this.queue[0]!;
      if (group.length > 0 && ops + next.ops.length > this.opsPerFlushMax) break;
      group.push(this.queue.shift()!);
      ops += next.ops.length;
    }
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

  private async flushGroup(group: Item[], atCommit: () => void): Promise<void> {
    let decisions: Decision[][];
    try {
      decisions = await withTransaction(
        this.pool,
        async (client) => {
          const out = await this.process(client, group);
          atCommit();
          return out;
        },
        { beginInWork: true },
      );
    } catch (error) {
      if (group.length > 1 && !(error instanceof UnavailableError)) {
        // Nothing was committed. Isolate the item that broke the group so the others still post.
        this.logger.warn(
          { err: error, items: group.length },
          'entry group failed; posting its items one by one',
        );
        for (const item of group) await this.flushGroup([item], atCommit);
        return;
      }
      for (const item of group) item.reject(error);
      return;
    }
    let replays: Map<string, EntryRecord>;
    try {
      replays = await this.loadReplays(decisions);
    } catch (error) {
      for (const item of group) item.reject(error);
      return;
    }
    const flat = decisions.flat();
    this.entriesWritten += flat.filter((d) => d.type === 'posted').length;
    if (this.entriesWritten >= this.nextAnalyzeAt) this.analyze();
    group.forEach((item, i) => {
      if (decisions[i]!.some((d) => d.type === 'abandoned')) {
        this.logger.info({ ops: item.ops.length }, 'not posted: the client went away before the decision');
        item.reject(
          new UnavailableError('the client went away before the entry was posted; nothing was posted'),
        );
      } else {
        item.resolve(decisions[i]!.map((d) => this.finalise(d, flat, replays)));
      }
    });
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
    analyzeLedgerTables(this.pool)
      .catch((error) => {
        // Without the privilege (a role that does not own the tables) autovacuum remains in charge.
        this.logger.warn({ err: error }, 'could not refresh ledger statistics; leaving it to autovacuum');
        this.nextAnalyzeAt = Number.POSITIVE_INFINITY;
      })
      .finally(() => {
        this.analyzing = false;
      });
  }

  private finalise(d: Decision, flat: Decision[], replays: Map<string, EntryRecord>): OpResult {
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
        // Items with an abandoned op are rejected whole in flushGroup, never finalised.
        throw new Error('an abandoned op has no result');
    }
  }

  private async loadReplays(decisions: Decision[][]): Promise<Map<string, EntryRecord>> {
    const wanted = decisions
      .flat()
      .flatMap((d) => (d.type === 'replay' ? [{ bookId: d.bookId, id: d.id }] : []));
    const found = await findEntries(this.pool, wanted);
    return new Map(found.map((e) => [key(e.bookId, e.id), e]));
  }

  /** One transaction for a whole group. Returns a decision per op, per item. */
  private async process(client: TxClient, group: Item[]): Promise<Decision[][]> {
    const now = this.clock();
    const ops = group.flatMap((item) => item.ops);
    const decisions: (Decision | null)[] = ops.map((op) => {
      const error = precheck(op);
      return error ? { type: 'error', error } : null;
    });

    // Everything the flush reads, in one round trip that opens the transaction and takes the
    // book locks first (see lockPhase). Idempotency lookups are race-free because the book lock is
    // held: no other writer of the book can insert a key between this read and our commit.
    const live = ops.filter((_, i) => decisions[i] === null);
    const keyOf = (op: PostOp) => (isEntryOp(op) ? op.entry.idempotencyKey : op.idempotencyKey);
    const accountKeys = new Map<string, { bookId: string; id: string }>();
    for (const op of live) {
      if (!isEntryOp(op)) continue;
      for (const line of op.entry.lines) {
        if (isUuid(line.accountId))
          accountKeys.set(key(op.bookId, line.accountId), { bookId: op.bookId, id: line.accountId });
      }
    }
    const read = await lockPhase(client, {
      bookIds: [...new Set(live.map((op) => op.bookId))].sort(),
      idempotencyKeys: live.map((op) => ({ bookId: op.bookId, key: keyOf(op) })),
      targets: live.flatMap((op) =>
        !isEntryOp(op) && isUuid(op.targetId) ? [{ bookId: op.bookId, id: op.targetId }] : [],
      ),
      accounts: [...accountKeys.values()],
    });
    const { books, existingKeys: existing, links } = read;
    const accounts = read.accounts;

    // Requests whose client has gone away (its time limit ran out, its connection dropped) are not
    // posted. Checked now, with the locks held and just before deciding, so that a stale attempt
    // the server reads late (after a pause, from a full socket buffer) cannot post after the
    // client's retry of the same key was answered: a key that retry was told is rejected would
    // otherwise end up posted. Decided before the idempotency claims below, so a live resend of
    // the same key in this group claims the key itself. A client that left after this point has
    // its op posted, and its retry gets the replay.
    let offset0 = 0;
    for (const item of group) {
      if (item.signal?.aborted) {
        for (let j = 0; j < item.ops.length; j++) decisions[offset0 + j] = { type: 'abandoned' };
      }
      offset0 += item.ops.length;
    }
    ops.forEach((op, i) => {
      if (decisions[i] === null && !books.has(op.bookId)) {
        decisions[i] = { type: 'error', error: new LedgerError('UNKNOWN_BOOK', 'no such book', 'bookId') };
      }
    });
    const claimed = new Map<string, number>();
    ops.forEach((op, i) => {
      if (decisions[i] !== null) return;
      const k = key(op.bookId, keyOf(op));
      const found = existing.get(k);
      const earlier = claimed.get(k);
      const reused = new LedgerError(
        'IDEMPOTENCY_KEY_REUSED',
        'this idempotencyKey was already used with a different request',
        'idempotencyKey',
      );
      if (found) {
        // The first decision for a key is the only one: a posted entry is replayed, and so is a
        // refusal (a stale copy of a refused request never posts later).
        if (found.requestHash !== op.requestHash) decisions[i] = { type: 'error', error: reused };
        else if (found.refusal === null) decisions[i] = { type: 'replay', bookId: op.bookId, id: found.id };
        else {
          const r = found.refusal;
          decisions[i] = { type: 'error', error: new LedgerError(r.code as ErrorCode, r.message, r.field) };
        }
      } else if (earlier !== undefined) {
        decisions[i] =
          ops[earlier]!.requestHash === op.requestHash
            ? { type: 'same-as', index: earlier }
            : { type: 'error', error: reused };
      } else {
        claimed.set(k, i);
      }
    });

    // Accounts of the entries that reversals and resolutions refer to, when not locked yet. Every
    // writer of a book holds its book lock before any of its accounts, so the order in which
    // accounts are locked after it cannot deadlock.
    const targets = new Map(read.targets.map((e) => [key(e.bookId, e.id), e]));
    const extra = new Map<string, { bookId: string; id: string }>();
    for (const target of targets.values()) {
      for (const line of target.lines) {
        const k = key(target.bookId, line.accountId);
        if (!accounts.has(k)) extra.set(k, { bookId: target.bookId, id: line.accountId });
      }
    }
    const latestLineAt = read.latestLineAt;
    if (extra.size > 0) {
      const locked = await lockAccountsForPosting(client, [...extra.values()]);
      for (const [k, row] of locked.accounts) accounts.set(k, row);
      for (const [k, at] of locked.latestLineAt) latestLineAt.set(k, at);
    }

    // Bounds hold at every instant (see firstBoundBreach): an op whose lines count before the latest
    // line of a bounded account is checked against the balances after each later movement, read
    // here for all such ops at once. None of them in the group (the common case): no query.
    const historyFrom = new Map<string, { bookId: string; accountId: string; afterMs: number }>();
    ops.forEach((op, i) => {
      if (decisions[i] !== null) return;
      const target = isEntryOp(op) ? undefined : targets.get(key(op.bookId, op.targetId));
      const at = postingInstant(op, target, now)?.getTime();
      if (at === undefined || Number.isNaN(at)) return;
      for (const accountId of accountsOf(op, target)) {
        const k = key(op.bookId, accountId);
        const latest = latestLineAt.get(k);
        if (latest === undefined || latest <= at) continue;
        const wanted = historyFrom.get(k);
        if (!wanted || at < wanted.afterMs) historyFrom.set(k, { bookId: op.bookId, accountId, afterMs: at });
      }
    });
    const stored = new Map<string, BalanceMovement[]>();
    if (historyFrom.size > 0) {
      for (const m of await laterMovements(client, [...historyFrom.values()])) {
        const k = key(m.bookId, m.accountId);
        const type = accounts.get(k)!.type;
        const list = stored.get(k) ?? [];
        list.push({
          atMs: m.atMs,
          seq: m.seq,
          delta: normalSide(type) === 'DEBIT' ? m.netDebit : m.netDebit.negated(),
        });
        stored.set(k, list);
      }
    }
    // Movements of bounded accounts by entries decided in this flush: of items already kept
    // (flushMoves) and of the item being decided (stageMoves).
    const flushMoves = new Map<string, BalanceMovement[]>();
    let stageMoves = new Map<string, BalanceMovement[]>();
    const laterMovementsOf = (k: string, atMs: number): BalanceMovement[] => {
      const latest = latestLineAt.get(k);
      let out: BalanceMovement[] = [];
      if (latest !== undefined && latest > atMs) {
        const from = historyFrom.get(k);
        invariant(from !== undefined && from.afterMs <= atMs, `history of ${k} must be read from ${atMs}`);
        out = (stored.get(k) ?? []).filter((m) => m.atMs > atMs);
      }
      const decided = [...(flushMoves.get(k) ?? []), ...(stageMoves.get(k) ?? [])].filter(
        (m) => m.atMs > atMs,
      );
      return decided.length === 0 ? out : [...out, ...decided].sort(compareMovements);
    };

    // Decide item by item against the working state.
    const working = new Map<string, AccountTotals>();
    const heads = new Map([...books.values()].map((b) => [b.id, { seq: b.entrySeq, hash: b.lastHash }]));
    const usedTargets = new Set<string>();
    const posted: NewEntry[] = [];
    const out: Decision[][] = [];
    let offset = 0;
    for (const item of group) {
      const itemDecisions = decisions.slice(offset, offset + item.ops.length);
      const stageTotals = new Map<string, AccountTotals>();
      const stageHeads = new Map<string, { seq: bigint; hash: string }>();
      const stageTargets = new Set<string>();
      stageMoves = new Map();
      const stageEntries: NewEntry[] = [];
      let failedAt = -1;
      for (let j = 0; j < item.ops.length; j++) {
        if (itemDecisions[j] !== null) {
          if (itemDecisions[j]!.type === 'error') failedAt = failedAt < 0 ? j : failedAt;
          continue;
        }
        if (item.atomic && failedAt >= 0) break;
        const op = item.ops[j]!;
        const totalsOf = (accountKey: string): AccountTotals =>
          stageTotals.get(accountKey) ?? working.get(accountKey) ?? accounts.get(accountKey)!;
        const result = decide(op, {
          now,
          book: books.get(op.bookId)!,
          head: stageHeads.get(op.bookId) ?? heads.get(op.bookId)!,
          accounts,
          totalsOf,
          targets,
          links,
          isTargetUsed: (k) => usedTargets.has(k) || stageTargets.has(k),
          laterMovements: laterMovementsOf,
        });
        if (result instanceof LedgerError) {
          // Decided against the locked state: remembered under the key (see journal_refusal).
          const refusal: Refusal = {
            bookId: op.bookId,
            idempotencyKey: keyOf(op),
            requestHash: op.requestHash,
            code: result.code,
            message: result.message,
            field: result.field,
          };
          itemDecisions[j] = { type: 'error', error: result, refusal };
          failedAt = failedAt < 0 ? j : failedAt;
          continue;
        }
        for (const [k, totals] of result.totals) stageTotals.set(k, totals);
        stageHeads.set(op.bookId, { seq: BigInt(result.entry.seq), hash: result.entry.hash });
        if (result.targetKey) stageTargets.add(result.targetKey);
        recordMoves(stageMoves, result.entry, accounts);
        stageEntries.push(result.entry);
        itemDecisions[j] = { type: 'posted', entry: toRecord(result.entry) };
      }
      if (item.atomic && failedAt >= 0) {
        // All or nothing: drop the stage; every op that was not the cause says why it did not post.
        for (let j = 0; j < item.ops.length; j++) {
          const d = itemDecisions[j];
          // Errors keep their own reason; replays were posted by an earlier request and stay so.
          if (d?.type === 'error' || d?.type === 'replay') continue;
          itemDecisions[j] = {
            type: 'error',
            error: new LedgerError(
              'BATCH_ITEM_FAILED',
              `not posted: entries[${failedAt}] was rejected and the batch is atomic`,
              null,
            ),
          };
        }
      } else {
        for (const [k, totals] of stageTotals) working.set(k, totals);
        for (const [b, h] of stageHeads) heads.set(b, h);
        for (const t of stageTargets) usedTargets.add(t);
        for (const [k, moves] of stageMoves) flushMoves.set(k, [...(flushMoves.get(k) ?? []), ...moves]);
        posted.push(...stageEntries);
      }
      out.push(itemDecisions as Decision[]);
      offset += item.ops.length;
    }

    // Refusals decided against the locked state, remembered with the postings in the same
    // statement (no round trip of their own). An atomic batch remembers the entry that caused it
    // to fail, not its BATCH_ITEM_FAILED neighbours: a copy of the same batch fails on that
    // entry's remembered refusal again, and the neighbours' keys were never decided on their own.
    const refusals = out.flat().flatMap((d) => (d.type === 'error' && d.refusal ? [d.refusal] : []));
    if (posted.length > 0 || refusals.length > 0) {
      const accountUpdates = [...working.entries()].map(([k, t]) => {
        const a = accounts.get(k)!;
        return { bookId: a.bookId, id: a.id, ...pickTotals(t) };
      });
      const headUpdates = [...heads.entries()]
        .filter(([bookId, h]) => h.seq !== books.get(bookId)!.entrySeq)
        .map(([bookId, h]) => ({ bookId, entrySeq: h.seq, lastHash: h.hash }));
      await writeEntries(client, posted, accountUpdates, dayTotals(posted), headUpdates, refusals, now);
    }
    return out;
  }
}

/**
 * Adds a decided entry's posted movements of bounded accounts to `into` (one per account), so that
 * entries decided after it in the same flush are checked against it (only bounded accounts are
 * ever checked).
 */
function recordMoves(
  into: Map<string, BalanceMovement[]>,
  entry: NewEntry,
  accounts: Map<string, AccountRow>,
): void {
  let perAccount: Map<string, BalanceMovement> | null = null;
  for (const line of entry.lines) {
    if (line.phase !== 'POSTED') continue;
    const k = key(entry.bookId, line.accountId);
    const account = accounts.get(k)!;
    if (account.lowerBound === null && account.upperBound === null) continue;
    perAccount ??= new Map();
    const m = perAccount.get(k) ?? { atMs: line.effectiveAt.getTime(), seq: BigInt(entry.seq), delta: ZERO };
    m.delta = m.delta.plus(signedAmount(account.type, line.side, line.amount));
    perAccount.set(k, m);
  }
  if (perAccount === null) return;
  for (const [k, m] of perAccount) into.set(k, [...(into.get(k) ?? []), m]);
}
