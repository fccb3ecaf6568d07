/**
 * One flush of the posting engine: everything it reads under the book locks, the decisions item by
 * item against the locked state, and the write (one statement for the whole group, or one per item
 * on savepoints when isolating a failure). The engine (posting.ts) gathers the groups, runs this in
 * a transaction and answers each request.
 */
import {
  compareMinorMovements,
  type ErrorCode,
  invariant,
  LedgerError,
  type MinorMovement,
  type MinorTotals,
  minorFromNumeric,
  normalSide,
  signedMinor,
} from '../core/index.js';
import { isUuid } from '../platform/ids.js';
import type { DbPool, TxClient } from '../platform/transaction.js';
import {
  accountsOf,
  type DecideContext,
  dayTotals,
  decide,
  key,
  pickTotals,
  postingInstant,
  precheck,
  toRecord,
} from './decide.js';
import { headUpdates, touchedBooks, type WriteAhead, writeAhead, writeIsolated } from './flush-write.js';
import { isEntryOp, type PostOp } from './ops.js';
import { CacheMiss, type PostingCache } from './posting-cache.js';
import {
  type AccountUpdate,
  type EntryRecord,
  type ExpectedHead,
  type LockPhaseResult,
  laterMovements,
  lockAccountsForPosting,
  lockPhase,
  type NewEntry,
  type PostingAccount,
  type Refusal,
  readPhase,
  writeEntries,
} from './store.js';

/** What one flush posts for one request: its ops, all or none when atomic. */
export interface FlushItem {
  ops: PostOp[];
  atomic: boolean;
  /** Fires when the client that sent these ops has gone (see decideGroup). */
  signal: AbortSignal | undefined;
}

/**
 * What a flush decided for one op before the post-commit replay loads. An error decided against
 * the locked state (by `decide`) carries the refusal to remember under its key; 'failed' is an
 * item whose write the database refused unexpectedly (isolated on its own savepoint).
 */
export type Decision =
  | { type: 'posted'; entry: EntryRecord }
  | { type: 'error'; error: LedgerError; refusal?: Refusal }
  | { type: 'replay'; bookId: string; id: string }
  | { type: 'same-as'; index: number }
  | { type: 'abandoned' }
  | { type: 'failed'; error: unknown };

/**
 * How a group is read and written:
 * - `optimistic`: on the pool, outside any transaction: one read without locks (readPhase), the
 *   decisions, then one write that compares and sets the books' versions and the accounts it
 *   changes and commits at once (writeEntries). A book's row is locked only while that write
 *   runs. When another writer got there in between, the write fails with SQLSTATE 40001 and
 *   nothing is kept: the engine tries again (see PostingEngine.flushGroup).
 * - `locked`: in the caller's transaction, under the book and account locks (lockPhase).
 * - `isolated`: locked, and each item written on a savepoint of its own as soon as it is decided,
 *   so an item whose write fails unexpectedly (the database refuses its data) is answered alone
 *   ('failed') and the items after it are decided without it: the posting engine's second try
 *   after such a failure broke a group's shared write.
 */
export type FlushMode = 'optimistic' | 'locked' | 'isolated';

/** Decides a whole group and writes it (see FlushMode). Returns a decision per op, per item. */
export function decideGroup(
  db: TxClient | DbPool,
  group: readonly FlushItem[],
  now: Date,
  mode: FlushMode = 'locked',
  cache?: PostingCache,
): Promise<Decision[][]> {
  return run(db, group, now, mode, cache, false);
}

/**
 * An optimistic flush decided from what the cache knows (see PostingCache) instead of a read: the
 * write is its one round trip, with the same compare-and-set, and a guard against keys decided
 * before. Null, having sent nothing, when the group needs what only a read can tell: a book or an
 * account not known, a reversal or resolution, a bounded account's history, or any refusal. A write
 * that finds its state stale fails like any optimistic write (SQLSTATE 40001, or 23505 for a key
 * posted before) and keeps nothing.
 *
 * `pipeline`: decided on top of `ahead`, what another flush's write still in flight will leave
 * (its write then compares and sets against that: the chain head it writes, the totals it leaves),
 * and remembered in the cache only once `after` (that flush's outcome) has settled. `onSent` is
 * called as soon as this write is sent, with what it will leave when the next flush may be decided
 * on it (null when not: it moved a bounded account, whose latest line the cache keeps).
 */
export async function decideGroupFromCache(
  db: DbPool | TxClient,
  group: readonly FlushItem[],
  now: Date,
  cache: PostingCache,
  pipeline: Pipeline,
): Promise<Decision[][] | null> {
  try {
    return await run(db, group, now, 'optimistic', cache, true, pipeline);
  } catch (error) {
    if (error instanceof CacheMiss) return null;
    throw error;
  }
}

/** A flush decided from the cache while another one's write is in flight (decideGroupFromCache). */
export interface Pipeline {
  ahead: WriteAhead | null;
  /** Whether the write `ahead` describes committed, once its flush has remembered it. */
  after: Promise<boolean> | undefined;
  /** Called once this write is sent, with what it will leave (the next flush may be decided on it). */
  onSent: (ahead: WriteAhead | null) => void;
}

async function run(
  db: TxClient | DbPool,
  group: readonly FlushItem[],
  now: Date,
  mode: FlushMode,
  cache: PostingCache | undefined,
  fromCache: boolean,
  pipeline?: Pipeline,
): Promise<Decision[][]> {
  const isolate = mode === 'isolated';
  const optimistic = mode === 'optimistic';
  // The totals a write in flight leaves its accounts (the cache's own objects) with: this group is
  // decided on them, and its write expects them.
  const ahead = pipeline?.ahead ?? null;
  const before = (account: PostingAccount): MinorTotals =>
    ahead === null ? account : (ahead.totals.get(account) ?? account);
  const client = db as TxClient;
  const ops = group.flatMap((item) => item.ops);
  const decisions: (Decision | null)[] = ops.map((op) => {
    const error = precheck(op);
    return error ? { type: 'error', error } : null;
  });

  // Everything the flush decides against: from the cache (see decideGroupFromCache), or read in one
  // round trip (readPhase without locks, its write comparing and setting; or lockPhase, which opens
  // the transaction and takes the book locks first, so no other writer can insert a key between
  // the read and the commit).
  let read: LockPhaseResult;
  // Decided from the cache: its accounts by book, and whether any of those named has a bound.
  let known: { accounts: Map<string, ReadonlyMap<string, PostingAccount>>; bounded: boolean } | null = null;
  if (fromCache) {
    const fromKept = cache!.readFor(ops, decisions);
    if (fromKept === null) throw new CacheMiss();
    read = fromKept.read;
    known = fromKept;
    // The books as the write in flight leaves them (read.books is the cache's answer of its own).
    for (const [id, head] of ahead?.heads ?? []) if (read.books.has(id)) read.books.set(id, head);
  } else {
    // What to read, as distinct books, keys and account ids (one pass, no `book/id` string or
    // object per line).
    const bookIds = new Set<string>();
    const keyValues = new Set<string>();
    const accountBooks = new Set<string>();
    const accountIds = new Set<string>();
    const targetKeys: { bookId: string; id: string }[] = [];
    for (let i = 0; i < ops.length; i++) {
      if (decisions[i] !== null) continue;
      const op = ops[i]!;
      bookIds.add(op.bookId);
      if (isEntryOp(op)) {
        keyValues.add(op.entry.idempotencyKey);
        let named = false;
        for (const line of op.entry.lines) {
          if (isUuid(line.accountId)) {
            accountIds.add(line.accountId);
            named = true;
          }
        }
        if (named) accountBooks.add(op.bookId);
      } else {
        keyValues.add(op.idempotencyKey);
        if (isUuid(op.targetId)) targetKeys.push({ bookId: op.bookId, id: op.targetId });
      }
    }
    const books0 = [...bookIds].sort();
    read = await (optimistic ? readPhase : lockPhase)(client, {
      bookIds: books0,
      keyBooks: books0,
      keys: [...keyValues],
      targets: targetKeys,
      accountBooks: [...accountBooks],
      accountIds: [...accountIds],
    });
  }
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
  // Keys claimed by this group's ops, by book, then key (no `book/key` string per op).
  const claimed = new Map<string, Map<string, number>>();
  for (let i = 0; i < ops.length; i++) {
    if (decisions[i] !== null) continue;
    const op = ops[i]!;
    const opKey = keyOf(op);
    const found = existing.size === 0 ? undefined : existing.get(key(op.bookId, opKey));
    let ofBook = claimed.get(op.bookId);
    if (ofBook === undefined) {
      ofBook = new Map();
      claimed.set(op.bookId, ofBook);
    }
    const earlier = ofBook.get(opKey);
    if (found) {
      // The first decision for a key is the only one: a posted entry is replayed, and so is a
      // refusal (a stale copy of a refused request never posts later).
      if (found.requestHash !== op.requestHash) decisions[i] = { type: 'error', error: keyReused() };
      else if (found.refusal === null) decisions[i] = { type: 'replay', bookId: op.bookId, id: found.id };
      else {
        const r = found.refusal;
        decisions[i] = { type: 'error', error: new LedgerError(r.code as ErrorCode, r.message, r.field) };
      }
    } else if (earlier !== undefined) {
      decisions[i] =
        ops[earlier]!.requestHash === op.requestHash
          ? { type: 'same-as', index: earlier }
          : { type: 'error', error: keyReused() };
    } else {
      ofBook.set(opKey, i);
    }
  }

  // Accounts of the entries that reversals and resolutions refer to, when not locked yet (an
  // optimistic flush's read has them already: readPhase reads them in its one snapshot). Every
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
    invariant(!optimistic, 'an optimistic flush reads the accounts of its targets with them');
    const locked = await lockAccountsForPosting(client, [...extra.values()]);
    for (const [k, row] of locked.accounts) accounts.set(k, row);
    for (const [k, at] of locked.latestLineAt) latestLineAt.set(k, at);
  }

  // Bounds hold at every instant (see firstBoundBreach): an op whose lines count before the latest
  // line of a bounded account is checked against the balances after each later movement, read
  // here for all such ops at once. None of them in the group (the common case): no query.
  const historyFrom = new Map<string, { bookId: string; accountId: string; afterMs: number }>();
  // Only bounded accounts with lines have a latest line: none in the group, nothing to look for.
  ops.forEach((op, i) => {
    if (decisions[i] !== null || latestLineAt.size === 0) return;
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
  const stored = new Map<string, MinorMovement[]>();
  if (historyFrom.size > 0 && fromCache) throw new CacheMiss();
  if (historyFrom.size > 0) {
    for (const m of await laterMovements(client, [...historyFrom.values()])) {
      const k = key(m.bookId, m.accountId);
      const account = accounts.get(k)!;
      const netDebit = minorFromNumeric(m.netDebit, account.unit.scale);
      const list = stored.get(k) ?? [];
      list.push({
        atMs: m.atMs,
        seq: m.seq,
        delta: normalSide(account.type) === 'DEBIT' ? netDebit : -netDebit,
      });
      stored.set(k, list);
    }
  }
  // Movements of bounded accounts by entries decided in this flush: of items already kept
  // (flushMoves) and of the item being decided (stageMoves).
  const flushMoves = new Map<string, MinorMovement[]>();
  let stageMoves = new Map<string, MinorMovement[]>();
  const laterMovementsOf = (k: string, atMs: number): MinorMovement[] => {
    const latest = latestLineAt.get(k);
    let out: MinorMovement[] = [];
    if (latest !== undefined && latest > atMs) {
      const from = historyFrom.get(k);
      invariant(from !== undefined && from.afterMs <= atMs, `history of ${k} must be read from ${atMs}`);
      out = (stored.get(k) ?? []).filter((m) => m.atMs > atMs);
    }
    const decided = [...(flushMoves.get(k) ?? []), ...(stageMoves.get(k) ?? [])].filter((m) => m.atMs > atMs);
    return decided.length === 0 ? out : [...out, ...decided].sort(compareMinorMovements);
  };

  // The flush's accounts by book, then id: looked up per line without making a `book/id` key.
  const byBook = known?.accounts ?? new Map<string, Map<string, PostingAccount>>();
  if (known === null) {
    for (const a of accounts.values()) {
      let ofBook = byBook.get(a.bookId) as Map<string, PostingAccount> | undefined;
      if (ofBook === undefined) {
        ofBook = new Map();
        byBook.set(a.bookId, ofBook);
      }
      ofBook.set(a.id, a);
    }
  }
  const accountOf = (bookId: string, accountId: string) => byBook.get(bookId)?.get(accountId);
  // Whether any account of the flush has a bound: only their movements are ever checked later.
  let anyBounded = known?.bounded ?? false;
  if (known === null)
    for (const a of accounts.values()) if (a.lowerBound !== null || a.upperBound !== null) anyBounded = true;

  // Decide item by item against the working state: accounts' totals as the decisions so far left
  // them, by account.
  const working = new Map<PostingAccount, MinorTotals>();
  const heads = new Map([...books.values()].map((b) => [b.id, { seq: b.entrySeq, hash: b.lastHash }]));
  // Each book's version and chain head as this transaction left it (isolated writes each move them).
  const expected = new Map<string, ExpectedHead>(
    [...books.values()].map((b) => [b.id, { version: b.version, hash: b.lastHash }]),
  );
  const usedTargets = new Set<string>();
  const posted: NewEntry[] = [];
  const out: Decision[][] = [];
  let offset = 0;
  // One op on its own, not isolated (the independent entries of a batch, single requests): decided
  // straight against the working state, which it changes only when it posts, so none of the
  // staging below is needed (the staging keeps an atomic item's earlier ops out until all post).
  const noStage = new Map<string, MinorMovement[]>();
  const workingTotalsOf = (account: PostingAccount): MinorTotals => working.get(account) ?? before(account);
  const isTargetUsed = (k: string) => usedTargets.has(k);
  // One context for every such op, its book and chain head set per op (decide keeps none of it).
  const singleContext: DecideContext = {
    now,
    book: { maxBackdateDays: 0 },
    head: { seq: 0n, hash: '' },
    accountOf,
    totalsOf: workingTotalsOf,
    targets,
    links,
    isTargetUsed,
    laterMovements: laterMovementsOf,
  };
  for (const item of group) {
    if (item.ops.length === 1 && !isolate) {
      const op = item.ops[0]!;
      let decision = decisions[offset]!;
      if (decision === null) {
        stageMoves = noStage;
        singleContext.book = books.get(op.bookId)!;
        singleContext.head = heads.get(op.bookId)!;
        const result = decide(op, singleContext);
        if (result instanceof LedgerError) {
          decision = { type: 'error', error: result, refusal: refusalOf(op, result) };
        } else {
          result.totals.forEach((totals, account) => {
            working.set(account, totals);
          });
          heads.set(op.bookId, { seq: result.seq, hash: result.entry.hash });
          if (result.targetKey) usedTargets.add(result.targetKey);
          if (anyBounded) recordMoves(flushMoves, result.entry, accountOf);
          posted.push(result.entry);
          decision = { type: 'posted', entry: toRecord(result.entry) };
        }
      }
      out.push([decision]);
      offset += 1;
      continue;
    }
    const itemDecisions = decisions.slice(offset, offset + item.ops.length);
    const stageTotals = new Map<PostingAccount, MinorTotals>();
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
      const totalsOf = (account: PostingAccount): MinorTotals =>
        stageTotals.get(account) ?? working.get(account) ?? before(account);
      const result = decide(op, {
        now,
        book: books.get(op.bookId)!,
        head: stageHeads.get(op.bookId) ?? heads.get(op.bookId)!,
        accountOf,
        totalsOf,
        targets,
        links,
        isTargetUsed: (k) => usedTargets.has(k) || stageTargets.has(k),
        laterMovements: laterMovementsOf,
      });
      if (result instanceof LedgerError) {
        itemDecisions[j] = { type: 'error', error: result, refusal: refusalOf(op, result) };
        failedAt = failedAt < 0 ? j : failedAt;
        continue;
      }
      for (const [account, totals] of result.totals) stageTotals.set(account, totals);
      stageHeads.set(op.bookId, { seq: result.seq, hash: result.entry.hash });
      if (result.targetKey) stageTargets.add(result.targetKey);
      recordMoves(stageMoves, result.entry, accountOf);
      stageEntries.push(result.entry);
      itemDecisions[j] = { type: 'posted', entry: toRecord(result.entry) };
    }
    const keep = !(item.atomic && failedAt >= 0);
    if (isolate) {
      // The item's own write, on a savepoint: if the database refuses it, only this item fails.
      const stage = {
        entries: keep ? stageEntries : [],
        totals: keep ? stageTotals : new Map<PostingAccount, MinorTotals>(),
        refusals: itemDecisions.flatMap((d) => (d?.type === 'error' && d.refusal ? [d.refusal] : [])),
      };
      const failure = await writeIsolated(client, now, {
        ...stage,
        heads: headUpdates(
          stage.entries,
          stage.refusals,
          (b) => stageHeads.get(b) ?? heads.get(b)!,
          expected,
        ),
        working,
      });
      if (failure === null) {
        for (const b of touchedBooks(stage.entries, stage.refusals)) {
          const hash = (stageHeads.get(b) ?? heads.get(b)!).hash;
          expected.set(b, { version: expected.get(b)!.version + 1n, hash });
        }
      }
      if (failure !== null) {
        out.push(item.ops.map(() => ({ type: 'failed', error: failure.error })));
        offset += item.ops.length;
        continue;
      }
    }
    if (!keep) {
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
      for (const [account, totals] of stageTotals) working.set(account, totals);
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
  // A refusal moves no account, so the write would not check the state it was decided on.
  if (fromCache && refusals.length > 0) throw new CacheMiss();
  if (!isolate && (posted.length > 0 || refusals.length > 0)) {
    const accountUpdates = [...working.entries()].map(([a, t]): AccountUpdate => {
      const was = ahead?.totals.get(a);
      return {
        bookId: a.bookId,
        id: a.id,
        ...pickTotals(t),
        expected: was ? { ...a, ...pickTotals(was) } : a,
      };
    });
    const bookHeads = headUpdates(posted, refusals, (b) => heads.get(b)!, expected);
    const written = writeEntries(
      client,
      posted,
      accountUpdates,
      dayTotals(posted),
      bookHeads,
      refusals,
      now,
      fromCache,
    );
    // Sent (its values were taken as they are now): the next flush may be decided on what it leaves.
    // (Decided from a read, there is no pipeline: what it leaves is not worked out.)
    pipeline?.onSent(writeAhead(books, heads, working, posted, refusals));
    await written;
  }
  // What the write this group was decided on left is remembered first; it committed if this group
  // wrote anything (or this write would have failed), and if it did not, this group's decisions
  // (all made before reading anything) are answered but its state is not remembered.
  const aheadCommitted = pipeline?.after === undefined || (await pipeline.after);
  // Committed (an optimistic write commits at once): the state it left, for the next flush.
  if (optimistic && cache !== undefined && aheadCommitted) {
    cache.remember(read, working, heads, touchedBooks(posted, refusals), posted);
    if (fromCache) cache.hits++;
  }
  return out;
}

const keyReused = () =>
  new LedgerError(
    'IDEMPOTENCY_KEY_REUSED',
    'this idempotencyKey was already used with a different request',
    'idempotencyKey',
  );

/** An op's idempotency key. */
function keyOf(op: PostOp): string {
  return isEntryOp(op) ? op.entry.idempotencyKey : op.idempotencyKey;
}

/** An op's refusal, decided against the locked state: remembered under its key (journal_refusal). */
function refusalOf(op: PostOp, error: LedgerError): Refusal {
  return {
    bookId: op.bookId,
    idempotencyKey: keyOf(op),
    requestHash: op.requestHash,
    code: error.code,
    message: error.message,
    field: error.field,
  };
}

/**
 * Adds a decided entry's posted movements of bounded accounts to `into` (one per account), so that
 * entries decided after it in the same flush are checked against it (only bounded accounts are
 * ever checked).
 */
function recordMoves(
  into: Map<string, MinorMovement[]>,
  entry: NewEntry,
  accountOf: (bookId: string, accountId: string) => PostingAccount | undefined,
): void {
  let perAccount: Map<string, MinorMovement> | null = null;
  for (const line of entry.lines) {
    if (line.phase !== 'POSTED') continue;
    const account = accountOf(entry.bookId, line.accountId)!;
    if (account.lowerBound === null && account.upperBound === null) continue;
    const k = key(entry.bookId, line.accountId);
    perAccount ??= new Map();
    const m = perAccount.get(k) ?? { atMs: line.effectiveAt.getTime(), seq: BigInt(entry.seq), delta: 0n };
    m.delta += signedMinor(account.type, line.side, line.minor);
    perAccount.set(k, m);
  }
  if (perAccount === null) return;
  for (const [k, m] of perAccount) into.set(k, [...(into.get(k) ?? []), m]);
}
