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
import type { Logger } from 'pino';
import {
  balanceView,
  type Decimal,
  type EntryInput,
  GENESIS_HASH,
  LedgerError,
  LIMITS,
  type Principal,
  requireAdmin,
  systemPrincipal,
  validateAccountDraft,
  validateDepth,
  validateUnit,
} from '../core/index.js';
import { requestHash } from '../platform/hashing.js';
import { isUuid, uuidv7 } from '../platform/ids.js';
import { type DbPool, withTransaction } from '../platform/transaction.js';
import { type EntryDraft, resolveAccountCodes } from './codes.js';
import { BookEntity, BookUnitEntity } from './entities.js';
import { type ImportJournalInput, importJournalCsv, type JournalImportResult } from './journal-import.js';
import { type OpResult, PostingEngine, type PostOp } from './posting.js';
import type {
  BalanceRecord,
  BookAudit,
  BookRecord,
  ChainVerification,
  ConsistencyReport,
  CreateAccountInput,
  CreateBookInput,
  RefInput,
} from './records.js';
import { auditBook, balance, checkConsistency, rollupBalance, trialBalance, verifyChain } from './reports.js';
import {
  type BalanceSheetReport,
  type BalanceSheetRequest,
  buildBalanceSheet,
  buildIncomeStatement,
  type IncomeStatementReport,
  type IncomeStatementRequest,
} from './statements.js';
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
  nonEmptyDescendant,
} from './store.js';
import { accountIdsByCode } from './store-codes.js';
import { type EntryFilter, listEntries } from './store-reads.js';
import { mayChangeBook } from './write-access.js';

export const DEFAULT_MAX_BACKDATE_DAYS = 366;
/** The principal of the expiry sweep; its id is the `postedBy` of the VOID entries it posts. */
export const EXPIRY_PRINCIPAL = systemPrincipal('expiry');
/** `postedBy` of the VOID entries the expiry sweep posts ('system:expiry'). */
export const EXPIRY_ACTOR = EXPIRY_PRINCIPAL.id;
export const UNITS_PER_BOOK_MAX = 50;

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
    readonly pool: DbPool,
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
    if (!(await mayChangeBook(this.pool, actor, input.bookId))) return unknownBook();
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
    if (!(await mayChangeBook(this.pool, actor, bookId))) return unknownAccount();
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
      // A parent's balance, as a treasurer reads it, is its roll-up: it closes only when every
      // account below it is empty too. (The book lock held here keeps them so until commit.)
      const full = await nonEmptyDescendant(client, bookId, accountId);
      if (full !== null) {
        return new LedgerError(
          'ACCOUNT_NOT_EMPTY',
          `sub-account ${full} holds a balance or pending entries: a parent account closes only when every account below it is empty`,
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

  /** The account of a book with this code (codes are unique per book), or null. */
  async accountByCode(bookId: string, code: string): Promise<AccountRow | null> {
    if (!isUuid(bookId)) return null;
    const id = (await accountIdsByCode(this.pool, bookId, [code])).get(code);
    return id ? ((await findAccounts(this.pool, [{ bookId, id }]))[0] ?? null) : null;
  }

  async listAccounts(bookId: string, options: AccountListOptions): Promise<AccountRow[]> {
    if (!isUuid(bookId)) return [];
    return listAccounts(this.pool, bookId, options);
  }

  // ---------- entries ----------

  /**
   * `actor` must be allowed to write the book; its id is recorded on the entry as `postedBy`. Lines
   * may name their account by code (codes.ts: resolved here, before the engine).
   */
  async postEntry(bookId: string, draft: EntryDraft, actor: Principal): Promise<OpResult> {
    if (!(await mayChangeBook(this.pool, actor, bookId))) return { ok: false, error: unknownBook() };
    const [entry] = await resolveAccountCodes(this.pool, bookId, [draft]);
    if (entry instanceof LedgerError) return { ok: false, error: entry };
    const [result] = await this.engine.submit([entryOp(bookId, 'STANDARD', entry!, null, actor.id)], true);
    return result!;
  }

  async postEntries(
    bookId: string,
    drafts: EntryDraft[],
    atomic: boolean,
    actor: Principal,
  ): Promise<OpResult[] | LedgerError> {
    const entries = drafts;
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
    if (!(await mayChangeBook(this.pool, actor, bookId))) {
      // Each entry of the batch is rejected as the posting engine rejects an entry of no book.
      return entries.map((_, i) => ({
        ok: false as const,
        error: unknownBook().withFieldPrefix(`entries[${i}]`),
      }));
    }
    // Account codes of every entry resolved in one query; an entry with a bad line is answered
    // here (in an atomic batch its neighbours are not posted either).
    const resolved = await resolveAccountCodes(this.pool, bookId, drafts);
    const failedAt = resolved.findIndex((r) => r instanceof LedgerError);
    if (atomic && failedAt >= 0) {
      return resolved.map((r, i) => ({
        ok: false as const,
        error:
          r instanceof LedgerError
            ? r.withFieldPrefix(`entries[${i}]`)
            : new LedgerError(
                'BATCH_ITEM_FAILED',
                `not posted: entries[${failedAt}] was rejected and the batch is atomic`,
                null,
              ),
      }));
    }
    // The ops straight from the entries that resolved; each answer is its entry's (a refusal with
    // its entry's field prefix), with no object per entry beyond its op and its answer.
    const ops: PostOp[] = [];
    for (const r of resolved) {
      if (!(r instanceof LedgerError)) ops.push(entryOp(bookId, 'STANDARD', r, null, actor.id));
    }
    const posted = await this.engine.submit(ops, atomic);
    const results = new Array<OpResult>(resolved.length);
    for (let i = 0, k = 0; i < resolved.length; i++) {
      const r = resolved[i]!;
      const result = r instanceof LedgerError ? { ok: false as const, error: r } : posted[k++]!;
      results[i] = result.ok ? result : { ok: false, error: result.error.withFieldPrefix(`entries[${i}]`) };
    }
    return results;
  }

  /** Journal entries from a CSV file, all or nothing, posted as one atomic batch (journal-import.ts). */
  importJournalCsv(input: ImportJournalInput, actor: Principal): Promise<JournalImportResult | LedgerError> {
    const op = (bookId: string, entry: EntryInput, by: string) =>
      entryOp(bookId, 'STANDARD', entry, null, by);
    return importJournalCsv({ db: this.pool, engine: this.engine, entryOp: op }, input, actor);
  }

  async postPending(
    bookId: string,
    draft: EntryDraft,
    expiresAt: Date | null,
    actor: Principal,
  ): Promise<OpResult> {
    if (!(await mayChangeBook(this.pool, actor, bookId))) return { ok: false, error: unknownBook() };
    const [entry] = await resolveAccountCodes(this.pool, bookId, [draft]);
    if (entry instanceof LedgerError) return { ok: false, error: entry };
    const [result] = await this.engine.submit(
      [entryOp(bookId, 'PENDING', entry!, expiresAt, actor.id)],
      true,
    );
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
    if (!(await mayChangeBook(this.pool, actor, input.bookId))) return { ok: false, error: unknownEntry() };
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

  // ---------- balances, reports and integrity (reports.ts) ----------

  balance(account: AccountRow, asOf: Date | null): Promise<BalanceRecord> {
    return balance(this.pool, account, asOf);
  }

  /** Posted balance of an account with all its descendants, in the account's normal direction. */
  rollupBalance(account: AccountRow, asOf: Date | null): Promise<Decimal> {
    return rollupBalance(this.pool, account, asOf);
  }

  /**
   * Every account's debits and credits, with totals per unit; debits equal credits in each unit.
   * With `rollupDepth`, sub-accounts below that depth are folded into their ancestor (statements.ts).
   */
  async trialBalance(
    bookId: string,
    asOf: Date | null,
    rollupDepth: number | null = null,
  ): Promise<ReturnType<typeof trialBalance> | LedgerError> {
    const depthError = validateDepth(rollupDepth, 'rollupDepth');
    if (depthError) return depthError;
    const [book] = await this.getBooks([bookId]);
    if (!book) return new LedgerError('UNKNOWN_BOOK', 'no such book', 'bookId');
    return trialBalance(this.pool, book, asOf, rollupDepth);
  }

  // ---------- statements (statements.ts, issue 17): per unit, with an optional comparison ----------

  private async ofBook<T>(bookId: string, work: (book: BookRecord) => Promise<T>): Promise<T | LedgerError> {
    const [book] = await this.getBooks([bookId]);
    return book ? work(book) : new LedgerError('UNKNOWN_BOOK', 'no such book', 'bookId');
  }

  /** Revenue and expenses over a period (inclusive UTC days). */
  incomeStatement(bookId: string, request: IncomeStatementRequest) {
    return this.ofBook<IncomeStatementReport | LedgerError>(bookId, (b) =>
      buildIncomeStatement(this.pool, b, request),
    );
  }

  /** Assets, liabilities and equity as of a day, with the period's result. */
  balanceSheet(bookId: string, request: BalanceSheetRequest) {
    return this.ofBook<BalanceSheetReport | LedgerError>(bookId, (b) =>
      buildBalanceSheet(this.pool, b, request),
    );
  }

  /** Recomputes the book's hash chain from its entries and names the first link that does not match. */
  async verifyChain(bookId: string): Promise<ChainVerification | LedgerError> {
    const [book] = await this.getBooks([bookId]);
    if (!book) return new LedgerError('UNKNOWN_BOOK', 'no such book', 'bookId');
    return verifyChain(this.pool, book);
  }

  /**
   * The audit of a book: its hash chain, and every stored running total and per-day total
   * recomputed from the lines, each difference reported. Reads the whole book.
   */
  async auditBook(bookId: string): Promise<BookAudit | LedgerError> {
    const [book] = await this.getBooks([bookId]);
    if (!book) return new LedgerError('UNKNOWN_BOOK', 'no such book', 'bookId');
    return auditBook(this.pool, book);
  }

  /** Compares every account's stored totals with the sums of its lines (a check, not a request path). */
  checkConsistency(bookId: string): Promise<ConsistencyReport> {
    return checkConsistency(this.pool, bookId);
  }
}
