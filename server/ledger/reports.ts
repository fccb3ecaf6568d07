/**
 * Reading the books: balances now and at any instant, roll-ups, the trial balance, and the
 * integrity checks (the hash chain, stored totals against the lines).
 */
import { balanceView, type Decimal, GENESIS_HASH, normalSide, ZERO } from '../core/index.js';
import type { DbPool } from '../platform/transaction.js';
import { entryHash } from './chain-hash.js';
import type {
  AuditMismatch,
  BalanceRecord,
  BookAudit,
  BookRecord,
  ChainVerification,
  ConsistencyReport,
  TrialBalance,
  TrialBalanceLine,
} from './records.js';
import { type AccountRow, findAccounts, listAccounts } from './store.js';
import {
  balanceMismatches,
  dayTotalMismatches,
  descendantIds,
  entriesBySeq,
  postedTotalsAsOf,
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
 * Trial balances this process computes at once; the others wait their turn (holding nothing). Each
 * reads every account of its book: about 20 MB of heap at its peak for 15,000 accounts, so eight
 * at once ran the service (128 MB heap) out of memory before a line was answered.
 */
export const TRIAL_BALANCES_AT_ONCE = 2;
let trialBalancesRunning = 0;
const trialBalanceTurns: (() => void)[] = [];

async function inTurn<T>(work: () => Promise<T>): Promise<T> {
  if (trialBalancesRunning < TRIAL_BALANCES_AT_ONCE) trialBalancesRunning++;
  else await new Promise<void>((resolve) => trialBalanceTurns.push(resolve));
  try {
    return await work();
  } finally {
    // The turn passes straight to the next waiting request, if any.
    const next = trialBalanceTurns.shift();
    if (next) next();
    else trialBalancesRunning--;
  }
}

/** Every account's debits and credits, with totals per unit; debits equal credits in each unit. */
export function trialBalance(pool: DbPool, book: BookRecord, asOf: Date | null): Promise<TrialBalance> {
  return inTurn(() => computeTrialBalance(pool, book, asOf));
}

async function computeTrialBalance(pool: DbPool, book: BookRecord, asOf: Date | null): Promise<TrialBalance> {
  const bookId = book.id;
  const accounts: AccountRow[] = [];
  for (let after: string | null = null; ; ) {
    const page = await listAccounts(pool, bookId, {
      afterCode: after,
      limit: 1000,
      includeClosed: true,
      type: null,
    });
    accounts.push(...page);
    if (page.length < 1000) break;
    after = page[page.length - 1]!.code;
  }
  const historical = asOf ? await postedTotalsAsOf(pool, bookId, null, asOf) : null;
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

/** Recomputes the book's hash chain from its entries and names the first link that does not match. */
export async function verifyChain(pool: DbPool, book: BookRecord): Promise<ChainVerification> {
  const bookId = book.id;
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
    const page = await entriesBySeq(pool, bookId, expectedSeq - 1n, 1000);
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
 * every account's stored running totals and every per-day total recomputed from its lines. Each
 * difference is reported (account, field, day, stored and recomputed values). Reads the whole
 * book: for audits, not the request path.
 */
export async function auditBook(pool: DbPool, book: BookRecord): Promise<BookAudit> {
  const chain = await verifyChain(pool, book);
  const { accounts, mismatches: totals } = await balanceMismatches(pool, book.id);
  const days = await dayTotalMismatches(pool, book.id);
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
    ok: chain.ok && mismatches.length === 0,
    chain,
    accountsChecked: accounts.length,
    dayTotalsChecked: days.checked,
    mismatchCount: mismatches.length,
    mismatches: mismatches.slice(0, AUDIT_MISMATCHES_MAX),
  };
}
