/**
 * Use cases of the ledger core. Each write is one database transaction (through withTransaction or
 * the posting engine); reads are single queries. Inputs arrive already decoded from global ids;
 * results are domain records or LedgerErrors, never GraphQL shapes.
 *
 * Every write takes the acting principal (`actor`, last) and checks it before anything else: a
 * principal who may not write the book gets the answer of an unknown book, account or entry
 * (UNKNOWN_BOOK, UNKNOWN_ACCOUNT, UNKNOWN_ENTRY), so nothing reveals another tenant's ids; creating
 * a book is for admins. Entries record the actor's id as `postedBy`. Work done on nobody's behalf
 * acts as a system principal (systemPrincipal), never without one.
 */
import type { MikroORM } from '@mikro-orm/postgresql';
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import {
  type AccountType,
  balanceView,
  type Decimal,
  type EntryInput,
  GENESIS_HASH,
  LedgerError,
  LIMITS,
  type MetadataEntry,
  mayWriteBook,
  normalSide,
  type Principal,
  requireAdmin,
  systemPrincipal,
  type Unit,
  validateAccountDraft,
  validateUnit,
  ZERO,
} from '../core/index.js';
import { requestHash } from '../platform/hashing.js';
import { isUuid, uuidv7 } from '../platform/ids.js';
import { withTransaction } from '../platform/transaction.js';
import { entryHash } from './chain-hash.js';
import { BookEntity, BookUnitEntity } from './entities.js';
import { type OpResult, PostingEngine, type PostOp } from './posting.js';
import {
  type AccountListOptions,
  type AccountRow,
  type EntryLinks,
  type EntryRecord,
  findAccounts,
  findEntries,
  findEntryLinks,
  findExpiredPending,
  insertAccount,
  listAccounts,
  lockAccounts,
  lockBooks,
  markAccountClosed,
} from './store.js';
import {
  balanceMismatches,
  descendantIds,
  type EntryFilter,
  entriesBySeq,
  listEntries,
  postedTotalsAsOf,
} from './store-reads.js';

export const DEFAULT_MAX_BACKDATE_DAYS = 366;
/** The principal of the expiry sweep; its id is the `postedBy` of the VOID entries it posts. */
export const EXPIRY_PRINCIPAL = systemPrincipal('expiry');
/** `postedBy` of the VOID entries the expiry sweep posts ('system:expiry'). */
export const EXPIRY_ACTOR = EXPIRY_PRINCIPAL.id;
export const UNITS_PER_BOOK_MAX = 50;

export interface BookRecord {
  id: string;
  name: string;
  description: string;
  maxBackdateDays: number;
  entryCount: string;
  lastHash: string;
  createdAt: Date;
  units: Unit[];
}

export interface CreateBookInput {
  name: string;
  description: string | null;
  units: Unit[];
  maxBackdateDays: number | null;
}

export interface CreateAccountInput {
  bookId: string;
  code: string;
  name: string;
  type: AccountType;
  unit: string;
  parentId: string | null;
  lowerBound: string | null;
  upperBound: string | null;
}

export interface RefInput {
  bookId: string;
  entryId: string;
  idempotencyKey: string;
  effectiveAt: Date | null;
  memo: string | null;
  metadata: MetadataEntry[] | null;
}

export interface BalanceRecord {
  account: AccountRow;
  asOf: Date | null;
  debits: Decimal;
  credits: Decimal;
  posted: Decimal;
  /** Null for a historical balance: pending state is only known for now. */
  pendingDebits: Decimal | null;
  pendingCredits: Decimal | null;
  available: Decimal | null;
  projected: Decimal | null;
}

export interface TrialBalanceLine {
  account: AccountRow;
  debits: Decimal;
  credits: Decimal;
  /** Net balance on the debit side (debits > credits), else zero. */
  debitBalance: Decimal;
  creditBalance: Decimal;
}

export interface TrialBalanceUnit {
  unit: Unit;
  debitBalanceTotal: Decimal;
  creditBalanceTotal: Decimal;
  balanced: boolean;
}

export interface TrialBalance {
  bookId: string;
  asOf: Date | null;
  lines: TrialBalanceLine[];
  units: TrialBalanceUnit[];
  balanced: boolean;
}

export interface ChainVerification {
  bookId: string;
  ok: boolean;
  entriesChecked: number;
  headHash: string;
  firstMismatch: { entryId: string | null; seq: string; reason: string } | null;
}

export interface ConsistencyReport {
  ok: boolean;
  accountsChecked: number;
  mismatches: { accountId: string; field: string; stored: string; fromLines: string }[];
}

const BOOK_NAME_LENGTH_MAX = 200;

// The answers to an actor who may not write the book: those of an unknown book, account or entry.
const unknownBook = () => new LedgerError('UNKNOWN_BOOK', 'no such book', 'bookId');
const unknownAccount = () => new LedgerError('UNKNOWN_ACCOUNT', 'no such account', 'accountId');
const unknownEntry = () => new LedgerError('UNKNOWN_ENTRY', 'no such journal entry', 'entryId');

/**
 * The op that posts a standard or pending entry, hashed as postJournalEntry / postPendingEntry
 * requests are, so a replay (same key, same entry) and a reuse (same key, other entry) are told
 * apart whoever builds the entry (the API, or a use case such as a membership payment).
 */
export function entryOp(
  bookId: string,
  kind: 'STANDARD' | 'PENDING',
  entry: EntryInput,
  expiresAt: Date | null,
  postedBy: string | null,
): PostOp {
  const hash = requestHash(kind === 'STANDARD' ? 'postJournalEntry' : 'postPendingEntry', {
    bookId,
    entry,
    expiresAt,
  });
  return { kind, bookId, entry, expiresAt, postedBy, requestHash: hash };
}

/** A book's backdating limit: whole days, 0 to 36,600 (the column's check). */
export function checkMaxBackdateDays(days: number): LedgerError | null {
  return Number.isInteger(days) && days >= 0 && days <= 36_600
    ? null
    : new LedgerError(
        'INVALID_INPUT',
        'maxBackdateDays must be an integer from 0 to 36600',
        'maxBackdateDays',
      );
}

export class LedgerService {
  readonly engine: PostingEngine;
  private expiryTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly orm: MikroORM,
    readonly pool: Pool,
    private readonly logger: Logger,
  ) {
    this.engine = new PostingEngine(pool, logger);
  }

  async close(): Promise<void> {
    if (this.expiryTimer) clearInterval(this.expiryTimer);
    await this.engine.close();
  }

  // ---------- books and accounts ----------

  /** Admins only (a co-op or network then gets a TREASURER or NETWORK_STEWARD grant on it). */
  async createBook(input: CreateBookInput, actor: Principal): Promise<BookRecord | LedgerError> {
    requireAdmin(actor, 'create a book');
    const name = input.name.trim();
    if (name.length === 0 || input.name.length > BOOK_NAME_LENGTH_MAX) {
      return new LedgerError(
        'INVALID_INPUT',
        `book name must be 1 to ${BOOK_NAME_LENGTH_MAX} characters`,
        'name',
      );
    }
    if ((input.description ?? '').length > 2000) {
      return new LedgerError('INVALID_INPUT', 'description must be at most 2000 characters', 'description');
    }
    if (input.units.length === 0 || input.units.length > UNITS_PER_BOOK_MAX) {
      return new LedgerError('INVALID_UNIT', `a book holds 1 to ${UNITS_PER_BOOK_MAX} units`, 'units');
    }
    const seen = new Set<string>();
    for (const [i, unit] of input.units.entries()) {
      const error = validateUnit(unit, `units[${i}]`);
      if (error) return error;
      if (seen.has(unit.code))
        return new LedgerError('INVALID_UNIT', `unit ${unit.code} is listed twice`, `units[${i}].code`);
      seen.add(unit.code);
    }
    const maxBackdateDays = input.maxBackdateDays ?? DEFAULT_MAX_BACKDATE_DAYS;
    const backdateError = checkMaxBackdateDays(maxBackdateDays);
    if (backdateError) return backdateError;
    const em = this.orm.em.fork();
    const id = uuidv7();
    await em.transactional(async (tx) => {
      tx.create(BookEntity, {
        id,
        name,
        description: input.description ?? '',
        maxBackdateDays,
        entrySeq: '0',
        lastHash: GENESIS_HASH,
        createdAt: new Date(),
      });
      await tx.flush();
      for (const unit of input.units)
        tx.create(BookUnitEntity, { bookId: id, code: unit.code, scale: unit.scale });
    });
    return (await this.getBooks([id]))[0]!;
  }

  async getBooks(ids: string[]): Promise<BookRecord[]> {
    const valid = ids.filter(isUuid);
    if (valid.length === 0) return [];
    const em = this.orm.em.fork();
    const books = await em.find(BookEntity, { id: { $in: valid } });
    return this.withUnits(em, books);
  }

  /** Books in id (creation) order; `onlyIds` restricts them to those (a caller's tenants). */
  async listBooks(
    afterId: string | null,
    limit: number,
    onlyIds: string[] | null = null,
  ): Promise<BookRecord[]> {
    const em = this.orm.em.fork();
    const where: Record<string, unknown> = {};
    if (afterId && isUuid(afterId)) where.id = { $gt: afterId };
    if (onlyIds !== null) {
      const ids = onlyIds.filter(isUuid);
      if (ids.length === 0) return [];
      where.id = { ...((where.id as object) ?? {}), $in: ids };
    }
    const books = await em.find(BookEntity, where, { orderBy: { id: 'asc' }, limit });
    return this.withUnits(em, books);
  }

  private async withUnits(
    em: MikroORM['em'],
    books: {
      id: string;
      name: string;
      description: string;
      maxBackdateDays: number;
      entrySeq: string;
      lastHash: string;
      createdAt: Date;
    }[],
  ): Promise<BookRecord[]> {
    if (books.length === 0) return [];
    const units = await em.find(
      BookUnitEntity,
      { bookId: { $in: books.map((b) => b.id) } },
      { orderBy: { code: 'asc' } },
    );
    return books.map((b) => ({
      id: b.id,
      name: b.name,
      description: b.description,
      maxBackdateDays: b.maxBackdateDays,
      entryCount: String(b.entrySeq),
      lastHash: b.lastHash,
      createdAt: b.createdAt,
      units: units.filter((u) => u.bookId === b.id).map((u) => ({ code: u.code, scale: u.scale })),
    }));
  }

  async createAccount(input: CreateAccountInput, actor: Principal): Promise<AccountRow | LedgerError> {
    if (!mayWriteBook(actor, input.bookId)) return unknownBook();
    if (!isUuid(input.bookId)) return new LedgerError('UNKNOWN_BOOK', 'no such book', 'bookId');
    const [book] = await this.getBooks([input.bookId]);
    if (!book) return new LedgerError('UNKNOWN_BOOK', 'no such book', 'bookId');
    const unit = book.units.find((u) => u.code === input.unit);
    if (!unit) return new LedgerError('UNKNOWN_UNIT', `the book does not hold unit ${input.unit}`, 'unit');
    const draft = validateAccountDraft({ ...input, unit });
    if (draft instanceof LedgerError) return draft;
    if (input.parentId !== null) {
      const [parent] = isUuid(input.parentId)
        ? await findAccounts(this.pool, [{ bookId: input.bookId, id: input.parentId }])
        : [];
      if (!parent)
        return new LedgerError('INVALID_PARENT', 'the parent account is not in this book', 'parentId');
      if (parent.unit.code !== unit.code) {
        return new LedgerError(
          'INVALID_PARENT',
          'a parent account must hold the same unit as its children',
          'parentId',
        );
      }
    }
    const id = uuidv7();
    const inserted = await insertAccount(this.pool, {
      bookId: input.bookId,
      id,
      code: input.code,
      name: input.name.trim(),
      type: input.type,
      unitCode: unit.code,
      parentId: input.parentId,
      lowerBound: draft.lowerBound?.toFixed() ?? null,
      upperBound: draft.upperBound?.toFixed() ?? null,
    });
    if (!inserted) {
      return new LedgerError(
        'DUPLICATE_CODE',
        `an account with code ${input.code} already exists in this book`,
        'code',
      );
    }
    return (await findAccounts(this.pool, [{ bookId: input.bookId, id }]))[0]!;
  }

  /** Closes an account whose posted balance is zero and that holds no reservation. */
  async closeAccount(bookId: string, accountId: string, actor: Principal): Promise<AccountRow | LedgerError> {
    if (!mayWriteBook(actor, bookId)) return unknownAccount();
    if (!isUuid(bookId) || !isUuid(accountId))
      return new LedgerError('UNKNOWN_ACCOUNT', 'no such account', 'accountId');
    return withTransaction(this.pool, async (client) => {
      // Same lock order as the posting engine: the book's chain head, then the account.
      const books = await lockBooks(client, [bookId]);
      if (!books.has(bookId)) return new LedgerError('UNKNOWN_ACCOUNT', 'no such account', 'accountId');
      const account = (await lockAccounts(client, [{ bookId, id: accountId }])).get(`${bookId}/${accountId}`);
      if (!account) return new LedgerError('UNKNOWN_ACCOUNT', 'no such account', 'accountId');
      if (account.closed)
        return new LedgerError('ACCOUNT_CLOSED', 'the account is already closed', 'accountId');
      const view = balanceView(account.type, account);
      if (!view.posted.isZero() || !account.pendingDebits.isZero() || !account.pendingCredits.isZero()) {
        return new LedgerError(
          'ACCOUNT_NOT_EMPTY',
          'only an account with a zero balance and no pending entries can be closed',
          'accountId',
        );
      }
      await markAccountClosed(client, bookId, accountId);
      return (await findAccounts(client, [{ bookId, id: accountId }]))[0]!;
    });
  }

  async getAccounts(keys: { bookId: string; id: string }[]): Promise<AccountRow[]> {
    return findAccounts(
      this.pool,
      keys.filter((k) => isUuid(k.bookId) && isUuid(k.id)),
    );
  }

  async listAccounts(bookId: string, options: AccountListOptions): Promise<AccountRow[]> {
    if (!isUuid(bookId)) return [];
    return listAccounts(this.pool, bookId, options);
  }

  // ---------- entries ----------

  /** `actor` must be allowed to write the book; its id is recorded on the entry as `postedBy`. */
  async postEntry(bookId: string, entry: EntryInput, actor: Principal): Promise<OpResult> {
    if (!mayWriteBook(actor, bookId)) return { ok: false, error: unknownBook() };
    const [result] = await this.engine.submit([entryOp(bookId, 'STANDARD', entry, null, actor.id)], true);
    return result!;
  }

  async postEntries(
    bookId: string,
    entries: EntryInput[],
    atomic: boolean,
    actor: Principal,
  ): Promise<OpResult[] | LedgerError> {
    // The batch's size is checked before the actor: it needs nothing and says nothing about any
    // book, and a caller of another book has always been told about it first.
    if (entries.length === 0) {
      return new LedgerError('INVALID_INPUT', 'a batch holds at least one entry', 'entries');
    }
    if (entries.length > LIMITS.entriesPerBatchMax) {
      return new LedgerError(
        'BATCH_TOO_LARGE',
        `a batch holds 1 to ${LIMITS.entriesPerBatchMax} entries`,
        'entries',
      );
    }
    if (!mayWriteBook(actor, bookId)) {
      // Each entry of the batch is rejected as the posting engine rejects an entry of no book.
      return entries.map((_, i) => ({
        ok: false as const,
        error: unknownBook().withFieldPrefix(`entries[${i}]`),
      }));
    }
    const ops = entries.map((e) => entryOp(bookId, 'STANDARD', e, null, actor.id));
    const results = await this.engine.submit(ops, atomic);
    return results.map((r, i) =>
      r.ok ? r : { ok: false as const, error: r.error.withFieldPrefix(`entries[${i}]`) },
    );
  }

  async postPending(
    bookId: string,
    entry: EntryInput,
    expiresAt: Date | null,
    actor: Principal,
  ): Promise<OpResult> {
    if (!mayWriteBook(actor, bookId)) return { ok: false, error: unknownBook() };
    const [result] = await this.engine.submit([entryOp(bookId, 'PENDING', entry, expiresAt, actor.id)], true);
    return result!;
  }

  /** The op that reverses, commits or voids `input.entryId`; `operation` names the request for its hash. */
  private refPostOp(
    kind: 'REVERSAL' | 'COMMIT' | 'VOID',
    input: RefInput,
    actor: string | null,
    operation = { REVERSAL: 'reverseJournalEntry', COMMIT: 'commitPendingEntry', VOID: 'voidPendingEntry' }[
      kind
    ],
  ): PostOp {
    return {
      kind,
      bookId: input.bookId,
      targetId: input.entryId,
      idempotencyKey: input.idempotencyKey,
      effectiveAt: input.effectiveAt,
      memo: input.memo,
      metadata: input.metadata,
      postedBy: actor,
      requestHash: requestHash(operation, input),
    };
  }

  private async refOp(
    kind: 'REVERSAL' | 'COMMIT' | 'VOID',
    input: RefInput,
    actor: Principal,
  ): Promise<OpResult> {
    if (!mayWriteBook(actor, input.bookId)) return { ok: false, error: unknownEntry() };
    const [result] = await this.engine.submit([this.refPostOp(kind, input, actor.id)], true);
    return result!;
  }

  reverseEntry(input: RefInput, actor: Principal): Promise<OpResult> {
    return this.refOp('REVERSAL', input, actor);
  }

  commitPending(input: RefInput, actor: Principal): Promise<OpResult> {
    return this.refOp('COMMIT', input, actor);
  }

  voidPending(input: RefInput, actor: Principal): Promise<OpResult> {
    return this.refOp('VOID', input, actor);
  }

  /**
   * Voids pending entries whose expiry has passed, releasing their reservations. Runs on a timer;
   * until it runs, an expired reservation still counts against bounds (the safe side) but can no
   * longer be committed.
   */
  async expirePending(now: Date = new Date(), limit = 500): Promise<number> {
    const rows = await findExpiredPending(this.pool, now, limit);
    if (rows.length === 0) return 0;
    const ops = rows.map((r) =>
      this.refPostOp(
        'VOID',
        {
          bookId: r.bookId,
          entryId: r.id,
          idempotencyKey: `expire:${r.id}`,
          effectiveAt: null,
          memo: 'expired',
          metadata: null,
        },
        EXPIRY_PRINCIPAL.id,
        'expirePendingEntry',
      ),
    );
    const results = await this.engine.submit(ops, false);
    return results.filter((r) => r.ok && !r.replayed).length;
  }

  startExpirySweeper(intervalMs = 5_000): void {
    this.expiryTimer = setInterval(() => {
      this.expirePending().catch((err) => this.logger.warn({ err }, 'pending-entry expiry sweep failed'));
    }, intervalMs);
    this.expiryTimer.unref();
  }

  async getEntries(keys: { bookId: string; id: string }[]): Promise<EntryRecord[]> {
    return findEntries(
      this.pool,
      keys.filter((k) => isUuid(k.bookId) && isUuid(k.id)),
    );
  }

  async getEntryLinks(keys: { bookId: string; id: string }[]): Promise<Map<string, EntryLinks>> {
    return findEntryLinks(this.pool, keys);
  }

  async listEntries(filter: EntryFilter): Promise<EntryRecord[]> {
    if (!isUuid(filter.bookId) || (filter.accountId !== null && !isUuid(filter.accountId))) return [];
    return listEntries(this.pool, filter);
  }

  // ---------- balances ----------

  async balance(account: AccountRow, asOf: Date | null): Promise<BalanceRecord> {
    if (asOf === null) {
      const view = balanceView(account.type, account);
      return {
        account,
        asOf: null,
        debits: account.postedDebits,
        credits: account.postedCredits,
        posted: view.posted,
        pendingDebits: account.pendingDebits,
        pendingCredits: account.pendingCredits,
        available: view.available,
        projected: view.projected,
      };
    }
    const totals = (await postedTotalsAsOf(this.pool, account.bookId, [account.id], asOf)).get(
      account.id,
    ) ?? {
      debits: ZERO,
      credits: ZERO,
    };
    const view = balanceView(account.type, {
      postedDebits: totals.debits,
      postedCredits: totals.credits,
      pendingDebits: ZERO,
      pendingCredits: ZERO,
    });
    return {
      account,
      asOf,
      debits: totals.debits,
      credits: totals.credits,
      posted: view.posted,
      pendingDebits: null,
      pendingCredits: null,
      available: null,
      projected: null,
    };
  }

  /** Posted balance of an account with all its descendants, in the account's normal direction. */
  async rollupBalance(account: AccountRow, asOf: Date | null): Promise<Decimal> {
    const ids = await descendantIds(this.pool, account.bookId, account.id);
    let debits = ZERO;
    let credits = ZERO;
    if (asOf === null) {
      for (const a of await findAccounts(
        this.pool,
        ids.map((id) => ({ bookId: account.bookId, id })),
      )) {
        debits = debits.plus(a.postedDebits);
        credits = credits.plus(a.postedCredits);
      }
    } else {
      for (const t of (await postedTotalsAsOf(this.pool, account.bookId, ids, asOf)).values()) {
        debits = debits.plus(t.debits);
        credits = credits.plus(t.credits);
      }
    }
    return normalSide(account.type) === 'DEBIT' ? debits.minus(credits) : credits.minus(debits);
  }

  /** Every account's debits and credits, with totals per unit; debits equal credits in each unit. */
  async trialBalance(bookId: string, asOf: Date | null): Promise<TrialBalance | LedgerError> {
    const [book] = await this.getBooks([bookId]);
    if (!book) return new LedgerError('UNKNOWN_BOOK', 'no such book', 'bookId');
    const accounts: AccountRow[] = [];
    for (let after: string | null = null; ; ) {
      const page = await listAccounts(this.pool, bookId, {
        afterCode: after,
        limit: 1000,
        includeClosed: true,
        type: null,
      });
      accounts.push(...page);
      if (page.length < 1000) break;
      after = page[page.length - 1]!.code;
    }
    const historical = asOf ? await postedTotalsAsOf(this.pool, bookId, null, asOf) : null;
    const lines: TrialBalanceLine[] = accounts.map((account) => {
      const t = historical
        ? (historical.get(account.id) ?? { debits: ZERO, credits: ZERO })
        : { debits: account.postedDebits, credits: account.postedCredits };
      const net = t.debits.minus(t.credits);
      return {
        account,
        debits: t.debits,
        credits: t.credits,
        debitBalance: net.isPositive() && !net.isZero() ? net : ZERO,
        creditBalance: net.isNegative() && !net.isZero() ? net.negated() : ZERO,
      };
    });
    const units = book.units.map((unit) => {
      let debit = ZERO;
      let credit = ZERO;
      for (const line of lines) {
        if (line.account.unit.code !== unit.code) continue;
        debit = debit.plus(line.debitBalance);
        credit = credit.plus(line.creditBalance);
      }
      return { unit, debitBalanceTotal: debit, creditBalanceTotal: credit, balanced: debit.equals(credit) };
    });
    return { bookId, asOf, lines, units, balanced: units.every((u) => u.balanced) };
  }

  // ---------- integrity ----------

  /** Recomputes the book's hash chain from its entries and names the first link that does not match. */
  async verifyChain(bookId: string): Promise<ChainVerification | LedgerError> {
    const [book] = await this.getBooks([bookId]);
    if (!book) return new LedgerError('UNKNOWN_BOOK', 'no such book', 'bookId');
    let prevHash = GENESIS_HASH;
    let expectedSeq = 1n;
    let checked = 0;
    const fail = (entryId: string | null, seq: string, reason: string): ChainVerification => ({
      bookId,
      ok: false,
      entriesChecked: checked,
      headHash: book.lastHash,
      firstMismatch: { entryId, seq, reason },
    });
    for (;;) {
      const page = await entriesBySeq(this.pool, bookId, expectedSeq - 1n, 1000);
      for (const entry of page) {
        if (BigInt(entry.seq) !== expectedSeq)
          return fail(entry.id, entry.seq, `expected entry number ${expectedSeq}, found ${entry.seq}`);
        if (entry.prevHash !== prevHash)
          return fail(entry.id, entry.seq, 'prevHash does not match the previous entry');
        if (entryHash(prevHash, entry) !== entry.hash)
          return fail(entry.id, entry.seq, 'content does not match its hash');
        prevHash = entry.hash;
        expectedSeq++;
        checked++;
      }
      if (page.length < 1000) break;
    }
    if (BigInt(book.entryCount) !== expectedSeq - 1n) {
      return fail(
        null,
        book.entryCount,
        `the book's head says ${book.entryCount} entries but ${expectedSeq - 1n} were found`,
      );
    }
    if (book.lastHash !== prevHash)
      return fail(null, book.entryCount, "the book's head hash does not match its last entry");
    return { bookId, ok: true, entriesChecked: checked, headHash: prevHash, firstMismatch: null };
  }

  /** Compares every account's stored totals with the sums of its lines (a check, not a request path). */
  async checkConsistency(bookId: string): Promise<ConsistencyReport> {
    const { accounts, mismatches } = await balanceMismatches(this.pool, bookId);
    return {
      ok: mismatches.length === 0,
      accountsChecked: accounts.length,
      mismatches: mismatches.map((m) => ({
        accountId: m.account.id,
        field: m.field,
        stored: m.stored.toFixed(),
        fromLines: m.fromLines.toFixed(),
      })),
    };
  }
}
