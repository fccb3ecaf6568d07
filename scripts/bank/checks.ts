/**
 * The bank test's verdict: what the clients were told against what the database holds.
 *
 * The journal is read over the harness's own `pg` connection (never trusting the API for this),
 * and the trial balance and hash chain through the API, as a user would check them. Every check
 * covers every book of the run: the main book and the large-batch books (--large-batches).
 */
import type pg from 'pg';
import type { LedgerClient } from '../../client-sdk/index.js';
import { Decimal, ZERO } from '../../server/core/money.js';
import { balanceMismatches } from '../../server/ledger/index.js';
import type { LoadStats, OpRecord } from './workload.js';
import { type Bank, rawIds } from './workload.js';

export interface CheckRow {
  name: string;
  ok: boolean;
  /** Problems found (0 when ok). */
  problems: number;
  detail: string;
}

export interface Tally {
  operations: number;
  acknowledged: number;
  rejected: number;
  unresolved: number;
  lost: number;
  duplicated: number;
  violations: number;
}

interface JournalRow {
  id: string;
  key: string;
  kind: string;
  pendingId: string | null;
  lines: string[];
}

const MAX_EXAMPLES = 5;

function examples(items: string[]): string {
  if (items.length === 0) return '';
  const shown = items.slice(0, MAX_EXAMPLES).join('; ');
  return items.length > MAX_EXAMPLES ? `${shown}; and ${items.length - MAX_EXAMPLES} more` : shown;
}

const lineKey = (accountRawId: string, side: string, amount: string) =>
  `${accountRawId}|${side}|${new Decimal(amount).toFixed(2)}`;

export async function runChecks(
  db: pg.Pool,
  client: LedgerClient,
  bank: Bank,
  ops: OpRecord[],
  stats: LoadStats,
  largeBooks: Bank[] = [],
): Promise<{ rows: CheckRow[]; tally: Tally }> {
  const books = [bank, ...largeBooks];
  const rows: CheckRow[] = [];
  const add = (name: string, problems: string[], okDetail: string) =>
    rows.push({
      name,
      ok: problems.length === 0,
      problems: problems.length,
      detail: problems.length === 0 ? okDetail : examples(problems),
    });
  const bookIds = books.map((b) => b.rawBookId);

  // --- the journal, read directly -------------------------------------------------------------
  const { rows: entryRows } = await db.query<{
    id: string;
    key: string;
    kind: string;
    pending_id: string | null;
    book_id: string;
  }>(
    'select id, idempotency_key as key, kind, pending_id, book_id from journal_entry where book_id = any($1::uuid[])',
    [bookIds],
  );
  const { rows: lineRows } = await db.query<{
    entry_id: string;
    account_id: string;
    side: string;
    amount: string;
  }>(
    'select entry_id, account_id, side, amount::text as amount from journal_line where book_id = any($1::uuid[])',
    [bookIds],
  );
  const linesByEntry = new Map<string, string[]>();
  for (const line of lineRows) {
    const list = linesByEntry.get(line.entry_id) ?? [];
    list.push(lineKey(line.account_id, line.side, line.amount));
    linesByEntry.set(line.entry_id, list);
  }
  const byKey = new Map<string, JournalRow[]>();
  for (const e of entryRows) {
    const list = byKey.get(e.key) ?? [];
    list.push({
      id: e.id,
      key: e.key,
      kind: e.kind,
      pendingId: e.pending_id,
      lines: linesByEntry.get(e.id) ?? [],
    });
    byKey.set(e.key, list);
  }
  const opsByKey = new Map(ops.map((op) => [op.key, op]));

  // --- acknowledged: in the journal exactly once, as sent -------------------------------------
  const lost: string[] = [];
  const duplicated: string[] = [];
  const mismatched: string[] = [];
  const expectedKind: Record<OpRecord['kind'], string> = {
    PAYMENT: 'STANDARD',
    BATCH_ITEM: 'STANDARD',
    PENDING: 'PENDING',
    COMMIT: 'COMMIT',
    VOID: 'VOID',
  };
  const sentLines = (op: OpRecord) =>
    op.lines.map((l) => lineKey(rawIds(l.accountId).id, l.side, l.amount)).sort();
  for (const op of ops) {
    if (op.outcome !== 'ok') continue;
    const found = byKey.get(op.key) ?? [];
    if (found.length === 0) {
      lost.push(op.key);
      continue;
    }
    if (found.length > 1) duplicated.push(`${op.key} x${found.length}`);
    const entry = found[0]!;
    const problems: string[] = [];
    if (entry.id !== op.entryId) problems.push(`entry ${entry.id}, acknowledged ${op.entryId}`);
    if (entry.kind !== expectedKind[op.kind]) problems.push(`kind ${entry.kind}`);
    let wantLines = sentLines(op);
    if (op.kind === 'COMMIT' || op.kind === 'VOID') {
      const pending = opsByKey.get(op.pendingKey!)!;
      if (entry.pendingId !== pending.entryId) problems.push('resolves another entry');
      wantLines = op.kind === 'COMMIT' ? sentLines(pending) : [];
    }
    if (JSON.stringify([...entry.lines].sort()) !== JSON.stringify(wantLines)) problems.push('lines differ');
    if (problems.length > 0) mismatched.push(`${op.key}: ${problems.join(', ')}`);
  }
  // Entries of this book that no acknowledged op accounts for (a key never sent, or posted twice).
  for (const [key, found] of byKey) {
    if (!opsByKey.has(key)) duplicated.push(`${key}: in the journal but never sent`);
    else if (found.length > 1 && opsByKey.get(key)!.outcome !== 'ok')
      duplicated.push(`${key} x${found.length}`);
  }
  const acknowledged = ops.filter((op) => op.outcome === 'ok');
  add(
    'every acknowledged op is in the journal',
    lost.map((k) => `${k} missing`),
    `${acknowledged.length} of ${acknowledged.length} found`,
  );
  add('no op is in the journal twice', duplicated, `${entryRows.length} entries, one per key`);
  add('journal entries match what was sent', mismatched, 'ids, kinds, pending links and lines agree');

  // --- rejected: absent ------------------------------------------------------------------------
  const rejected = ops.filter((op) => op.outcome === 'rejected');
  const rejectedPresent = rejected.filter((op) => byKey.has(op.key)).map((op) => `${op.key} (${op.code})`);
  const codes = new Map<string, number>();
  for (const op of rejected) codes.set(op.code!, (codes.get(op.code!) ?? 0) + 1);
  add(
    'every rejected op is absent from the journal',
    rejectedPresent.map((k) => `${k} present`),
    `${rejected.length} absent (${[...codes].map(([c, n]) => `${c} ${n}`).join(', ') || 'none'})`,
  );

  // --- unknown at the end ------------------------------------------------------------------------
  const unresolved = ops.filter((op) => op.outcome === 'unknown');
  add(
    'every op ended ok or rejected',
    unresolved.map((op) => `${op.key} unknown after ${op.attempts} attempts`),
    `${ops.filter((op) => op.unknownAttempts > 0).length} ops were unknown for a while and resolved by retrying`,
  );

  // --- answers ---------------------------------------------------------------------------------
  add('no impossible answer (key reuse on resend, half-posted atomic batch)', stats.anomalies, 'none');

  // --- reads during the run ----------------------------------------------------------------------
  add(
    'every read of all balances summed to zero within bounds',
    stats.readViolations,
    `${stats.reads} trial balances read (${stats.readFailures} reads failed during faults)`,
  );

  // --- balances: stored = lines = what was acknowledged --------------------------------------------
  const accounts: Awaited<ReturnType<typeof balanceMismatches>>['accounts'] = [];
  const mismatches: Awaited<ReturnType<typeof balanceMismatches>>['mismatches'] = [];
  for (const book of bookIds) {
    const found = await balanceMismatches(db, book);
    accounts.push(...found.accounts);
    mismatches.push(...found.mismatches);
  }
  const stored = mismatches.map(
    (m) => `${m.account.code} ${m.field} stored ${m.stored.toFixed(2)}, lines ${m.fromLines.toFixed(2)}`,
  );
  add("each account's stored balance equals the sum of its lines", stored, `${accounts.length} accounts`);

  const expectedPosted = new Map<string, Decimal>();
  const expectedPending = new Map<string, Decimal>();
  const move = (into: Map<string, Decimal>, lines: OpRecord['lines']) => {
    for (const l of lines) {
      const id = rawIds(l.accountId).id;
      const signed = l.side === 'DEBIT' ? new Decimal(l.amount) : new Decimal(l.amount).negated();
      into.set(id, (into.get(id) ?? ZERO).plus(signed));
    }
  };
  const resolved = new Set<string>();
  for (const op of acknowledged) {
    if (op.kind === 'PAYMENT' || op.kind === 'BATCH_ITEM') move(expectedPosted, op.lines);
    if (op.kind === 'COMMIT') move(expectedPosted, opsByKey.get(op.pendingKey!)!.lines);
    if (op.kind === 'COMMIT' || op.kind === 'VOID') resolved.add(op.pendingKey!);
  }
  for (const op of acknowledged)
    if (op.kind === 'PENDING' && !resolved.has(op.key)) move(expectedPending, op.lines);
  const drift: string[] = [];
  const beyond: string[] = [];
  const bounds = new Map(books.flatMap((b) => b.accounts.map((a) => [a.rawId, a] as const)));
  // Each book's balances sum to zero on their own.
  const totals = new Map<string, Decimal>();
  for (const a of accounts) {
    const posted = a.postedDebits.minus(a.postedCredits);
    totals.set(a.bookId, (totals.get(a.bookId) ?? ZERO).plus(posted));
    const want = expectedPosted.get(a.id) ?? ZERO;
    if (!posted.equals(want))
      drift.push(`${a.code} posted ${posted.toFixed(2)}, acknowledged ops make ${want.toFixed(2)}`);
    const pendingNet = a.pendingDebits.minus(a.pendingCredits);
    const wantPending = expectedPending.get(a.id) ?? ZERO;
    if (!pendingNet.equals(wantPending))
      drift.push(`${a.code} pending ${pendingNet.toFixed(2)}, expected ${wantPending.toFixed(2)}`);
    // Worst cases: available (posted less pending decreases) and projected (plus pending increases).
    const available = posted.minus(a.pendingCredits);
    const projected = posted.plus(a.pendingDebits);
    const b = bounds.get(a.id)!;
    if (b.lowerBound && available.lessThan(b.lowerBound))
      beyond.push(`${a.code} available ${available.toFixed(2)} < ${b.lowerBound.toFixed(2)}`);
    if (b.upperBound && projected.greaterThan(b.upperBound))
      beyond.push(`${a.code} projected ${projected.toFixed(2)} > ${b.upperBound.toFixed(2)}`);
  }
  add('each balance equals the sum of the acknowledged ops', drift, 'posted and pending, every account');
  add(
    'no balance beyond its bounds at the end',
    beyond,
    'available >= lower bound, projected <= upper bound',
  );
  add(
    'final balances sum to zero',
    [...totals]
      .filter(([, sum]) => !sum.isZero())
      .map(([book, sum]) => `book ${book}: sum ${sum.toFixed(2)}`),
    books.length === 1 ? 'sum 0.00' : `sum 0.00 in each of ${books.length} books`,
  );

  // --- through the API, book by book ----------------------------------------------------------------
  const unbalanced: string[] = [];
  const totalsSeen: string[] = [];
  const chainProblems: string[] = [];
  const auditProblems: string[] = [];
  let entriesChecked = 0;
  let accountsChecked = 0;
  let dayTotalsChecked = 0;
  for (const book of books) {
    const trial = await client.trialBalance({ bookId: book.bookId });
    if (
      !(
        trial?.balanced &&
        trial.units.every((u) => u.balanced && u.debitBalanceTotal === u.creditBalanceTotal)
      )
    )
      unbalanced.push(`trialBalance of ${book.rawBookId}: ${JSON.stringify(trial?.units)}`);
    totalsSeen.push(`${trial?.units[0]?.debitBalanceTotal} = ${trial?.units[0]?.creditBalanceTotal}`);
    const inJournal = entryRows.filter((e) => e.book_id === book.rawBookId).length;
    const chain = await client.verifyBookChain({ bookId: book.bookId });
    if (!(chain?.ok && chain.entriesChecked === inJournal))
      chainProblems.push(`verifyBookChain: ${JSON.stringify(chain)} (journal has ${inJournal} entries)`);
    entriesChecked += chain?.entriesChecked ?? 0;
    // The audit recomputes what the chain does not cover: every stored account total and per-day
    // total (what balances as of an instant are read from), from the lines.
    const audit = await client.auditBook({ bookId: book.bookId });
    if (!audit) {
      auditProblems.push('auditBook answered null');
      continue;
    }
    accountsChecked += audit.accountsChecked;
    dayTotalsChecked += audit.dayTotalsChecked;
    if (!audit.chain.ok)
      auditProblems.push(
        `chain: ${audit.chain.firstMismatch?.reason} (seq ${audit.chain.firstMismatch?.seq})`,
      );
    for (const m of audit.mismatches)
      auditProblems.push(
        `${m.account.code} ${m.field}${m.day ? ` ${m.day}` : ''} stored ${m.stored}, lines ${m.recomputed}`,
      );
    if (audit.mismatchCount > audit.mismatches.length)
      auditProblems.push(`and ${audit.mismatchCount - audit.mismatches.length} more mismatches`);
  }
  add('the trial balance holds', unbalanced, `debit balances = credit balances: ${totalsSeen.join('; ')}`);
  add('the hash chain verifies', chainProblems, `${entriesChecked} entries checked`);
  add(
    'the audit finds nothing (chain, account totals and day totals recomputed from the lines)',
    auditProblems,
    `${accountsChecked} accounts, ${dayTotalsChecked} day totals`,
  );

  const violations = rows.reduce((sum, r) => sum + r.problems, 0);
  return {
    rows,
    tally: {
      operations: ops.length,
      acknowledged: acknowledged.length,
      rejected: rejected.length,
      unresolved: unresolved.length,
      lost: lost.length,
      duplicated: duplicated.length,
      violations,
    },
  };
}
