/**
 * Reading the books: balances now and at any instant, roll-ups, the trial balance, and the
 * integrity checks (the hash chain, stored totals against the lines).
 */
import {
  balanceView,
  csvText,
  Decimal,
  formatAmount,
  GENESIS_HASH,
  normalSide,
  ZERO,
} from '../core/index.js';
import type { DbPool, Queryable } from '../platform/transaction.js';
import { entryHash } from './chain-hash.js';
import type {
  AuditMismatch,
  BalanceRecord,
  BookAudit,
  BookRecord,
  ChainVerification,
  ConsistencyReport,
  TrialBalanceUnit,
} from './records.js';
import { TRIAL_BALANCE_CSV_HEADER } from './statement-files.js';
import type { RolledTrialBalanceLine } from './statements.js';
import { type AccountRow, findAccounts } from './store.js';
import {
  balanceMismatches,
  chainHead,
  dayTotalMismatches,
  descendantIds,
  eachTrialBalanceChunk,
  entriesBySeq,
  inReadSnapshot,
  inTrialBalanceSnapshot,
  openPendingMismatches,
  postedTotalsAsOf,
  type TrialBalanceUnitSums,
  trialBalanceRows,
  trialBalanceUnitSums,
} from './store-reads.js';

export async function balance(pool: DbPool, account: AccountRow, asOf: Date | null): Promise<BalanceRecord> {
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
  const totals = (await postedTotalsAsOf(pool, account.bookId, [account.id], asOf)).get(account.id) ?? {
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
export async function rollupBalance(pool: DbPool, account: AccountRow, asOf: Date | null): Promise<Decimal> {
  const ids = await descendantIds(pool, account.bookId, account.id);
  let debits = ZERO;
  let credits = ZERO;
  if (asOf === null) {
    for (const a of await findAccounts(
      pool,
      ids.map((id) => ({ bookId: account.bookId, id })),
    )) {
      debits = debits.plus(a.postedDebits);
      credits = credits.plus(a.postedCredits);
    }
  } else {
    for (const t of (await postedTotalsAsOf(pool, account.bookId, ids, asOf)).values()) {
      debits = debits.plus(t.debits);
      credits = credits.plus(t.credits);
    }
  }
  return normalSide(account.type) === 'DEBIT' ? debits.minus(credits) : credits.minus(debits);
}

/**
 * Trial balance reads this process runs at once; the others wait their turn (holding nothing).
 * A turn is held by a request (ReadTurn) from its first trial balance read until its answer is
 * written, when the caller can say so (`end`), else until its reads are done: a csv of a
 * 50,000-account book is about 4 MB of text, then as much again in the JSON answer, so the turn
 * covers writing the answer too. Two concurrent csv reads of such a book used to run the service
 * (128 MB heap) out of memory when every read held every account row and its Decimals.
 */
export const TRIAL_BALANCES_AT_ONCE = 2;
let trialBalancesRunning = 0;
const trialBalanceTurns: (() => void)[] = [];

async function takeTurn(): Promise<void> {
  if (trialBalancesRunning < TRIAL_BALANCES_AT_ONCE) trialBalancesRunning++;
  else await new Promise<void>((resolve) => trialBalanceTurns.push(resolve));
}

function passTurn(): void {
  // The turn passes straight to the next waiting request, if any.
  const next = trialBalanceTurns.shift();
  if (next) next();
  else trialBalancesRunning--;
}

/**
 * How long a request whose reads are done may keep its turn waiting for its answer to be written
 * (`end`). Serializing even a 50,000-account csv takes well under this; a client that does not
 * read its answer would otherwise hold the turn (two such requests, every trial balance of the
 * process) for as long as its connection stays open.
 */
export const READ_TURN_END_GRACE_MS = 2_000;

/**
 * One request's turn at heavy trial balance reads: taken by its first read, shared by the
 * request's other reads (aliases), and given back by `end()` (the answer is written) when the
 * turn was made `untilEnd`, else as soon as no read of the request is running. A turn made
 * `untilEnd` is given back anyway `READ_TURN_END_GRACE_MS` after its last read ends.
 */
export class ReadTurn {
  #taken: Promise<void> | null = null;
  #running = 0;
  #untilEnd: boolean;
  #grace: ReturnType<typeof setTimeout> | null = null;

  constructor(untilEnd: boolean) {
    this.#untilEnd = untilEnd;
  }

  async run<T>(work: () => Promise<T>): Promise<T> {
    this.#running++;
    this.#stopGrace();
    try {
      if (this.#taken === null) this.#taken = takeTurn();
      await this.#taken;
      return await work();
    } finally {
      this.#running--;
      if (!this.#untilEnd) this.#giveBack();
      else if (this.#running === 0 && this.#taken !== null) {
        this.#grace = setTimeout(() => this.end(), READ_TURN_END_GRACE_MS);
        this.#grace.unref();
      }
    }
  }

  /** The request's answer is written: its turn passes on once no read of it is running. */
  end(): void {
    this.#untilEnd = false;
    this.#stopGrace();
    this.#giveBack();
  }

  #stopGrace(): void {
    if (this.#grace === null) return;
    clearTimeout(this.#grace);
    this.#grace = null;
  }

  #giveBack(): void {
    if (this.#running > 0 || this.#taken === null) return;
    this.#taken = null;
    passTurn();
  }
}

export interface TrialBalanceSummary {
  lineCount: number;
  units: TrialBalanceUnit[];
  balanced: boolean;
}

/**
 * A trial balance to be read (see `trialBalance`): its totals and line count, a page of its lines,
 * or all of them as CSV. Every read runs in the caller's ReadTurn.
 */
export interface TrialBalanceView {
  bookId: string;
  asOf: Date | null;
  /** The roll-up depth asked for; null when every account is its own line. */
  rollupDepth: number | null;
  /** The unit totals and the lines shown (read once per view). */
  summary(turn: ReadTurn): Promise<TrialBalanceSummary>;
  /**
   * At most `limit` lines after the line of `afterAccountId` (null: from the first), in account code
   * order. `check` sees whether that line is one of the trial balance's, how many lines follow it
   * and how many this page holds, before any account is read; it throws to refuse the page.
   */
  page(
    turn: ReadTurn,
    afterAccountId: string | null,
    limit: number,
    check: (found: boolean, remaining: number, count: number) => void,
  ): Promise<RolledTrialBalanceLine[]>;
  /** The trial balance as CSV (see trialBalanceCsv: the same bytes). */
  csv(turn: ReadTurn): Promise<string>;
}

/** Lines of a csv read at a time: one chunk's rows and their text are what a read holds besides the text. */
const CSV_CHUNK_LINES = 1000;

/**
 * formatAmount(new Decimal(numeric), scale) for NUMERIC text from PostgreSQL, without decimal.js
 * when the digits beyond `scale` are zeros (always, for amounts the database holds at their
 * unit's scale): the same text, cut or padded. Anything else goes through decimal.js.
 */
export function numericAtScale(numeric: string, scale: number): string {
  const point = numeric.indexOf('.');
  const whole = point < 0 ? numeric : numeric.slice(0, point);
  const fraction = point < 0 ? '' : numeric.slice(point + 1);
  if (!/^-?\d+$/.test(whole) || !/^\d*$/.test(fraction) || !/^0*$/.test(fraction.slice(scale)))
    return formatAmount(new Decimal(numeric), scale);
  // A negative value that is zero at this scale is written as decimal.js writes it.
  if (whole.startsWith('-') && /^-0+$/.test(whole) && /^0*$/.test(fraction))
    return formatAmount(new Decimal(numeric), scale);
  const digits = whole.replace(/^(-?)0+(?=\d)/, '$1');
  return scale === 0 ? digits : `${digits}.${fraction.slice(0, scale).padEnd(scale, '0')}`;
}

function unitTotals(book: BookRecord, sums: TrialBalanceUnitSums[]): TrialBalanceSummary {
  const byUnit = new Map(sums.map((s) => [s.unitCode, s]));
  const units = book.units.map((unit) => {
    const s = byUnit.get(unit.code);
    const debit = s ? new Decimal(s.debitBalanceTotal) : ZERO;
    const credit = s ? new Decimal(s.creditBalanceTotal) : ZERO;
    return { unit, debitBalanceTotal: debit, creditBalanceTotal: credit, balanced: debit.equals(credit) };
  });
  return {
    lineCount: sums.reduce((n, s) => n + s.lines, 0),
    units,
    balanced: units.every((u) => u.balanced),
  };
}

/**
 * Every account's debits and credits, with totals per unit; debits equal credits in each unit.
 * With `rollupDepth`, sub-accounts below that depth are folded into their ancestor at that depth
 * (their debits and credits added, then netted into one balance; the unit totals are those of the
 * lines shown). PostgreSQL sums and folds (store-reads.ts); accounts are read only for the lines
 * a page returns, and a csv is written a chunk of lines at a time. Reads nothing until asked.
 */
export function trialBalance(
  pool: DbPool,
  book: BookRecord,
  asOf: Date | null,
  rollupDepth: number | null = null,
): TrialBalanceView {
  const q = { bookId: book.id, asOf, rollupDepth };
  let summary: Promise<TrialBalanceSummary> | null = null;
  return {
    bookId: book.id,
    asOf,
    rollupDepth,
    summary(turn) {
      summary ??= turn.run(async () =>
        unitTotals(book, await inTrialBalanceSnapshot(pool, (db) => trialBalanceUnitSums(db, q))),
      );
      return summary;
    },
    page(turn, afterAccountId, limit, check) {
      return turn.run(async () => {
        const { found, remaining, rows } = await inTrialBalanceSnapshot(pool, (db) =>
          trialBalanceRows(db, q, afterAccountId, limit),
        );
        check(found, remaining, rows.length);
        const accounts = new Map(
          (
            await findAccounts(
              pool,
              rows.map((r) => ({ bookId: book.id, id: r.id })),
            )
          ).map((a) => [a.id, a]),
        );
        return rows.map((r) => ({
          account: accounts.get(r.id)!,
          depth: r.depth,
          rolledUp: r.folded,
          debits: new Decimal(r.debits),
          credits: new Decimal(r.credits),
          debitBalance: new Decimal(r.debitBalance),
          creditBalance: new Decimal(r.creditBalance),
        }));
      });
    },
    csv(turn) {
      return turn.run(async () => {
        const parts: string[] = [`${TRIAL_BALANCE_CSV_HEADER}\r\n`];
        const sums = await inTrialBalanceSnapshot(pool, async (db) => {
          const totals = await trialBalanceUnitSums(db, q);
          await eachTrialBalanceChunk(db, q, CSV_CHUNK_LINES, (rows) => {
            // Each row's text is a tree of ~20 pieces (V8 cons strings, ~1 KB a row): joined
            // here into one flat string per chunk, they are not held until the end (50 MB for
            // 50,000 rows, which ran a 128 MB service out of heap with one csv in flight).
            const texts = rows.map(
              (r) =>
                `${r.unitCode},${csvText(r.code)},${csvText(r.name)},${r.depth},${r.folded ? 'true' : 'false'},` +
                `${numericAtScale(r.debits, r.scale)},${numericAtScale(r.credits, r.scale)},` +
                `${numericAtScale(r.debitBalance, r.scale)},${numericAtScale(r.creditBalance, r.scale)}\r\n`,
            );
            parts.push(texts.join(''));
          });
          return totals;
        });
        for (const u of unitTotals(book, sums).units)
          parts.push(
            `${u.unit.code},,Total,,,,,${formatAmount(u.debitBalanceTotal, u.unit.scale)},${formatAmount(u.creditBalanceTotal, u.unit.scale)}\r\n`,
          );
        return parts.join('');
      });
    },
  };
}

/**
 * Recomputes the book's hash chain from its entries and names the first link that does not match,
 * reading the head and every entry in one snapshot (entries posted meanwhile are not seen).
 */
export function verifyChain(pool: DbPool, book: BookRecord): Promise<ChainVerification> {
  return inReadSnapshot(pool, (db) => verifyChainIn(db, book.id));
}

async function verifyChainIn(db: Queryable, bookId: string): Promise<ChainVerification> {
  const book = (await chainHead(db, bookId)) ?? { entryCount: '0', lastHash: GENESIS_HASH };
  const headCount = BigInt(book.entryCount);
  // The first entry past the head's count (an entry added without the head), named if found.
  let beyondHead: { id: string; seq: string } | null = null;
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
    const page = await entriesBySeq(db, bookId, expectedSeq - 1n, 1000);
    for (const entry of page) {
      if (BigInt(entry.seq) === headCount + 1n) beyondHead = entry;
      if (BigInt(entry.seq) !== expectedSeq)
        return fail(entry.id, entry.seq, `expected entry number ${expectedSeq}, found ${entry.seq}`);
      if (entry.prevHash !== prevHash)
        return fail(entry.id, entry.seq, 'prevHash does not match the previous entry');
      if (entryHash(prevHash, entry) !== entry.hash)
        return fail(entry.id, entry.seq, 'content does not match its hash');
      const copy = entry.lineCopyMismatch;
      if (copy !== null)
        return fail(
          entry.id,
          entry.seq,
          `line ${copy.lineNo}'s ${copy.fields.join(', ')} ${copy.fields.length > 1 ? 'differ' : 'differs'} from its entry's`,
        );
      prevHash = entry.hash;
      expectedSeq++;
      checked++;
    }
    if (page.length < 1000) break;
  }
  if (headCount !== expectedSeq - 1n) {
    return fail(
      beyondHead?.id ?? null,
      beyondHead?.seq ?? book.entryCount,
      `the book's head says ${book.entryCount} entries but ${expectedSeq - 1n} were found`,
    );
  }
  if (book.lastHash !== prevHash)
    return fail(null, book.entryCount, "the book's head hash does not match its last entry");
  return { bookId, ok: true, entriesChecked: checked, headHash: prevHash, firstMismatch: null };
}

/** Compares every account's stored totals with the sums of its lines (a check, not a request path). */
export async function checkConsistency(pool: DbPool, bookId: string): Promise<ConsistencyReport> {
  const { accounts, mismatches } = await balanceMismatches(pool, bookId);
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

/** Mismatches an audit lists (all are counted): a bound on the answer of a badly damaged book. */
export const AUDIT_MISMATCHES_MAX = 1000;

const TOTAL_FIELDS = {
  postedDebits: 'POSTED_DEBITS',
  postedCredits: 'POSTED_CREDITS',
  pendingDebits: 'PENDING_DEBITS',
  pendingCredits: 'PENDING_CREDITS',
} as const;

/**
 * Everything a book's derived state can be checked against: the hash chain over its entries, and
 * every account's stored running totals and every per-day total recomputed from its lines, and
 * the open-pending table the expiry sweep reads recomputed from the journal. Each
 * difference is reported (account, field, day, stored and recomputed values). Reads the whole
 * book: for audits, not the request path.
 */
export async function auditBook(pool: DbPool, book: BookRecord): Promise<BookAudit> {
  // One snapshot for every read: totals compared with lines posted after them would differ.
  const { chain, accounts, totals, days, open } = await inReadSnapshot(pool, async (db) => {
    const chain = await verifyChainIn(db, book.id);
    const { accounts, mismatches: totals } = await balanceMismatches(db, book.id);
    const days = await dayTotalMismatches(db, book.id);
    const open = await openPendingMismatches(db, book.id);
    return { chain, accounts, totals, days, open };
  });
  const byId = new Map(accounts.map((a) => [a.id, a]));
  const mismatches: AuditMismatch[] = totals.map((m) => ({
    account: m.account,
    field: TOTAL_FIELDS[m.field],
    day: null,
    stored: m.stored,
    recomputed: m.fromLines,
  }));
  for (const d of days.mismatches) {
    const account = byId.get(d.accountId)!;
    for (const [side, field] of [
      ['debits', 'DAY_DEBITS'],
      ['credits', 'DAY_CREDITS'],
    ] as const) {
      if (!d.stored[side].equals(d.fromLines[side])) {
        mismatches.push({
          account,
          field,
          day: d.day,
          stored: d.stored[side],
          recomputed: d.fromLines[side],
        });
      }
    }
  }
  return {
    bookId: book.id,
    ok: chain.ok && mismatches.length === 0 && open.mismatches.length === 0,
    chain,
    accountsChecked: accounts.length,
    dayTotalsChecked: days.checked,
    mismatchCount: mismatches.length,
    mismatches: mismatches.slice(0, AUDIT_MISMATCHES_MAX),
    openPendingChecked: open.checked,
    openPendingMismatchCount: open.mismatches.length,
    openPendingMismatches: open.mismatches.slice(0, AUDIT_MISMATCHES_MAX),
  };
}
