/**
 * Allocation runs: preview (nothing posted), commit (balanced entries, the run and every member's
 * allocation in one transaction), reverse (reversing entries, linked, then the year is free for a
 * new run). Reading and verification are in reading.ts.
 *
 * The entries of a surplus run (effective on the allocation date):
 *   pools:   Dr 3900 Net surplus allocated / Cr 3300 Collective reserve, Cr 2350 Community fund
 *   members: Dr 3900 / Cr 2300 Patronage payable (cash parts) / Cr 3100-n each member's retained part
 *            (up to 98 members an entry, so an entry stays within the ledger's 100 lines)
 * of a loss run:
 *   pools:   Dr 3300 (the reserve's charge) / Cr 3900
 *   members: Dr 3100-n each member's charge / Cr 3900
 * A member's loss charge is written off their outstanding retained allocations, oldest first; what
 * those cannot absorb is carried and written off the retained parts of their next allocations.
 *
 * Lock order as every writer of the book: the book's chain head first (lockBooks), then the rest.
 */

import { dayStart, todayUtc, unknownCoop } from '../coops/index.js';
import {
  Decimal,
  type EntryInput,
  fiscalYearSpan,
  formatScaled,
  fromMinor,
  InvariantError,
  LedgerError,
  type LineInput,
  mayWriteBook,
  type Principal,
  planWriteOff,
  rationalToFixed,
  toMinor,
  ZERO,
} from '../core/index.js';
import { entryIdByKey, entryOp, lockBooks, type PostOp, rejection } from '../ledger/index.js';
import { requestHash } from '../platform/hashing.js';
import { isUuid, uuidv7 } from '../platform/ids.js';
import type { TxClient } from '../platform/transaction.js';
import { type ComputedFigures, computeFigures, type FigureLine, gatherInputs } from './compute.js';
import type { PatronageDeps } from './deps.js';
import { coopOf } from './policy.js';
import type { PreviewCache } from './preview-cache.js';
import { getRuns } from './reading.js';
import type { CommitRunInput, ReverseRunInput, RunFigures, RunRequest, RunResult } from './records.js';
import { checkRunKey, noPolicy, pastDate, rejectedEntry, reusedKey, unknownRun } from './rules.js';
import {
  carriedLoss,
  deleteWriteOffsOf,
  findRuns,
  insertAllocations,
  insertPayments,
  insertRun,
  markReversed,
  type NewPayment,
  outstandingRetained,
  patronageAccounts,
  policyRow,
  runIdWhere,
  settlementsAgainst,
} from './store.js';

/** Lines of member accounts per entry: the ledger's 100 less the 3900 and 2300 lines. */
const MEMBER_LINES_PER_ENTRY = 98;

interface Checked {
  fiscalYear: number;
  surplus: string | null;
  allocatedOn: string;
}

function checkRequest(deps: PatronageDeps, input: RunRequest): Checked | LedgerError {
  if (!Number.isInteger(input.fiscalYear) || input.fiscalYear < 1900 || input.fiscalYear > 2998)
    return new LedgerError('INVALID_INPUT', 'fiscalYear must be a year from 1900 to 2998', 'fiscalYear');
  const today = todayUtc(deps.clock());
  const allocatedOn = input.allocatedOn ?? today;
  const dateError = pastDate(allocatedOn, 'allocatedOn', today);
  if (dateError) return dateError;
  return { fiscalYear: input.fiscalYear, surplus: input.surplus ?? null, allocatedOn };
}

/**
 * The run's figures without posting anything. For the co-op's treasurers (and admins).
 * `continuation`: a page after the first of a preview read page by page, answered from the
 * preview its first page computed when `cache` still holds it (see preview-cache.ts).
 */
export async function previewRun(
  deps: PatronageDeps,
  input: RunRequest,
  actor: Principal,
  reuse?: { cache: PreviewCache; continuation: boolean },
): Promise<RunFigures | LedgerError> {
  if (!mayWriteBook(actor, input.bookId)) return unknownCoop();
  const coop = await coopOf(deps, input.bookId);
  if (!coop) return unknownCoop();
  const checked = checkRequest(deps, input);
  if (checked instanceof LedgerError) return checked;
  const compute = async (): Promise<RunFigures | LedgerError> => {
    const policy = await policyRow(deps.pool, coop.id, null);
    if (!policy) return noPolicy();
    const gathered = await gatherInputs(deps, deps.pool, coop, checked, policy);
    if (gathered instanceof LedgerError) return gathered;
    return computeFigures(gathered.inputs, gathered.counted);
  };
  if (!reuse) return compute();
  // Today is part of the request: who has left by today counts as former.
  const key = JSON.stringify([
    coop.id,
    checked.fiscalYear,
    checked.surplus,
    checked.allocatedOn,
    todayUtc(deps.clock()),
  ]);
  const cached = reuse.continuation ? reuse.cache.get(key) : undefined;
  if (cached) return cached;
  const figures = compute();
  reuse.cache.set(key, figures);
  return figures;
}

function summaryOf(f: RunFigures): Record<string, unknown> {
  return {
    periodStart: f.periodStart,
    periodEnd: f.periodEnd,
    currency: f.currency,
    noticeType: f.noticeType,
    revolvingYears: f.revolvingYears,
    lossRule: f.lossRule,
    departingRule: f.departingRule,
    measures: f.measures.map((m) => ({ ...m, weight: m.weight.toFixed(), total: m.total.toFixed() })),
  };
}

/** The run's balanced entries, in posting order (their keys are `<run key>:<index>`). */
function runEntries(
  f: ComputedFigures,
  accounts: { payable: string; community: string; surplus: string; reserve: string },
  capital: Map<string, string>,
  runId: string,
  key: string,
): EntryInput[] {
  const scale = f.currency.scale;
  const unit = f.currency.code;
  const entries: EntryInput[] = [];
  const entry = (memo: string, lines: LineInput[]) =>
    entries.push({
      idempotencyKey: `${key}:${entries.length}`,
      effectiveAt: dayStart(f.allocatedOn),
      memo,
      metadata: [
        { key: 'patronage.run', value: runId },
        { key: 'patronage.event', value: f.kind === 'SURPLUS' ? 'ALLOCATION' : 'LOSS' },
        { key: 'patronage.fiscalYear', value: String(f.fiscalYear) },
      ],
      lines,
    });
  // Members' amounts in minor units, written as text at the currency's scale (what
  // Decimal.toFixed(scale) writes of them), without a Decimal per member.
  const line = (accountId: string, side: 'DEBIT' | 'CREDIT', minor: bigint): LineInput => ({
    accountId,
    side,
    amount: formatScaled(minor, scale),
    unit,
  });
  const members = f.lines.filter((l) => l.minor.allocation !== 0n);
  if (f.kind === 'SURPLUS') {
    const reserve = toMinor(f.reserve, scale);
    const community = toMinor(f.community, scale);
    if (reserve + community > 0n) {
      const lines = [line(accounts.surplus, 'DEBIT', reserve + community)];
      if (reserve > 0n) lines.push(line(accounts.reserve, 'CREDIT', reserve));
      if (community > 0n) lines.push(line(accounts.community, 'CREDIT', community));
      entry(`Patronage ${f.fiscalYear}: surplus to the collective reserve and community fund`, lines);
    }
    let chunk: FigureLine[] = [];
    let retainedLines = 0;
    const flush = () => {
      if (chunk.length === 0) return;
      let total = 0n;
      let cash = 0n;
      for (const l of chunk) {
        total += l.minor.allocation;
        cash += l.minor.cash;
      }
      const lines = [line(accounts.surplus, 'DEBIT', total)];
      if (cash > 0n) lines.push(line(accounts.payable, 'CREDIT', cash));
      for (const l of chunk)
        if (l.minor.retained > 0n) lines.push(line(capital.get(l.membershipId)!, 'CREDIT', l.minor.retained));
      entry(
        `Patronage ${f.fiscalYear}: allocations of members ${chunk[0]!.memberNumber} to ${chunk.at(-1)!.memberNumber}`,
        lines,
      );
      chunk = [];
      retainedLines = 0;
    };
    for (const l of members) {
      if (l.minor.retained > 0n && retainedLines === MEMBER_LINES_PER_ENTRY) flush();
      chunk.push(l);
      if (l.minor.retained > 0n) retainedLines++;
    }
    flush();
  } else {
    const reserve = toMinor(f.reserve, scale);
    if (reserve < 0n)
      entry(`Patronage ${f.fiscalYear}: loss charged to the collective reserve`, [
        line(accounts.reserve, 'DEBIT', -reserve),
        line(accounts.surplus, 'CREDIT', -reserve),
      ]);
    for (let i = 0; i < members.length; i += MEMBER_LINES_PER_ENTRY + 1) {
      const chunk = members.slice(i, i + MEMBER_LINES_PER_ENTRY + 1);
      const total = chunk.reduce((sum, l) => sum - l.minor.allocation, 0n);
      entry(
        `Patronage ${f.fiscalYear}: loss charged to members ${chunk[0]!.memberNumber} to ${chunk.at(-1)!.memberNumber}`,
        [
          ...chunk.map((l) => line(capital.get(l.membershipId)!, 'DEBIT', -l.minor.allocation)),
          line(accounts.surplus, 'CREDIT', total),
        ],
      );
    }
  }
  return entries;
}

/**
 * Write-offs a run makes: a loss run writes each member's charge off their outstanding retained
 * allocations (oldest first); a surplus run writes a member's carried loss off the retained part
 * of their new allocation.
 */
async function writeOffs(client: TxClient, f: ComputedFigures, runId: string): Promise<NewPayment[]> {
  const scale = f.currency.scale;
  const out: NewPayment[] = [];
  if (f.kind === 'LOSS') {
    const charged = f.lines.filter((l) => l.minor.allocation < 0n);
    if (charged.length === 0) return out;
    const outstanding = await outstandingRetained(
      client,
      f.bookId,
      charged.map((l) => l.membershipId),
    );
    for (const l of charged) {
      const items = outstanding
        .filter((o) => o.membershipId === l.membershipId)
        .map((o) => ({ key: o.runId, outstanding: toMinor(o.outstanding, scale) }));
      const plan = planWriteOff(toMinor(l.allocation.neg(), scale), items);
      for (const w of plan.writeOffs)
        out.push({
          sourceId: runId,
          runId: w.key,
          membershipId: l.membershipId,
          kind: 'WRITE_OFF',
          amount: fromMinor(w.amount, scale).toFixed(scale),
          paidOn: f.allocatedOn,
        });
    }
    return out;
  }
  const retaining = f.lines.filter((l) => l.minor.retained > 0n);
  const carried = await carriedLoss(
    client,
    f.bookId,
    retaining.map((l) => l.membershipId),
  );
  for (const l of retaining) {
    const c = carried.get(l.membershipId) ?? ZERO;
    if (c.lte(0)) continue;
    out.push({
      sourceId: runId,
      runId,
      membershipId: l.membershipId,
      kind: 'WRITE_OFF',
      amount: Decimal.min(c, l.retained).toFixed(scale),
      paidOn: f.allocatedOn,
    });
  }
  return out;
}

export async function commitRun(
  deps: PatronageDeps,
  input: CommitRunInput,
  actor: Principal,
): Promise<RunResult | LedgerError> {
  if (!mayWriteBook(actor, input.bookId)) return unknownCoop();
  const keyError = checkRunKey(input.idempotencyKey);
  if (keyError) return keyError;
  const coop = await coopOf(deps, input.bookId);
  if (!coop) return unknownCoop();
  const checked = checkRequest(deps, input);
  if (checked instanceof LedgerError) return checked;
  const span = fiscalYearSpan(coop.fiscalYearStart, checked.fiscalYear);
  const hash = requestHash('commitPatronageAllocation', input);
  // The run's entries and what their accounts are, to tell a rejection in the treasurer's terms.
  const built: { entries: EntryInput[]; names: Map<string, string> } = { entries: [], names: new Map() };
  const outcome = await deps.ledger.engine.submitWith<{ runId: string; replayed: boolean }>(
    async (client) => {
      if (!(await lockBooks(client, [coop.id])).has(coop.id)) return unknownCoop();
      const prior = await runIdWhere(client, coop.id, { key: input.idempotencyKey });
      if (prior) {
        const [run] = await findRuns(client, [{ bookId: coop.id, id: prior }]);
        return run!.requestHash === hash ? { ops: [], value: { runId: prior, replayed: true } } : reusedKey();
      }
      if (checked.allocatedOn <= span.end)
        return new LedgerError(
          'INVALID_DATE',
          `fiscal year ${checked.fiscalYear} ends on ${span.end}; its allocation is dated after that`,
          'allocatedOn',
        );
      if (await runIdWhere(client, coop.id, { liveYear: checked.fiscalYear }))
        return new LedgerError(
          'PATRONAGE_RUN_EXISTS',
          `fiscal year ${checked.fiscalYear} already has a committed run; reverse it first to run it again`,
          'fiscalYear',
        );
      const policy = await policyRow(client, coop.id, null);
      if (!policy) return noPolicy();
      const accounts = await patronageAccounts(client, coop.id);
      if (!accounts.PATRONAGE_PAYABLE || !accounts.COMMUNITY_FUND || !accounts.SURPLUS_ALLOCATED)
        throw new InvariantError('a co-op with a patronage policy has its patronage accounts');
      const gathered = await gatherInputs(deps, client, coop, checked, policy);
      if (gathered instanceof LedgerError) return gathered;
      const figures = computeFigures(gathered.inputs, gathered.counted);
      if (figures instanceof LedgerError) return figures;
      if (figures.surplus.isZero())
        return new LedgerError(
          'NOTHING_TO_ALLOCATE',
          'the net surplus of the year is zero: nothing to allocate',
          'surplus',
        );
      const runId = uuidv7();
      const entries = runEntries(
        figures,
        {
          payable: accounts.PATRONAGE_PAYABLE,
          community: accounts.COMMUNITY_FUND,
          surplus: accounts.SURPLUS_ALLOCATED,
          reserve: coop.accounts.COLLECTIVE_RESERVE,
        },
        gathered.capitalAccounts,
        runId,
        input.idempotencyKey,
      );
      const names = new Map<string, string>([
        [accounts.PATRONAGE_PAYABLE, '2300 Patronage dividends payable'],
        [accounts.COMMUNITY_FUND, '2350 Community fund'],
        [accounts.SURPLUS_ALLOCATED, '3900 Net surplus allocated'],
        [coop.accounts.COLLECTIVE_RESERVE, 'the collective reserve'],
      ]);
      for (const l of figures.lines) {
        const account = gathered.capitalAccounts.get(l.membershipId);
        if (account) names.set(account, `member ${l.memberNumber}'s internal capital account`);
      }
      built.entries = entries;
      built.names = names;
      const scale = figures.currency.scale;
      await insertRun(client, {
        bookId: coop.id,
        id: runId,
        fiscalYear: figures.fiscalYear,
        kind: figures.kind,
        policyVersion: figures.policyVersion,
        allocatedOn: figures.allocatedOn,
        surplus: figures.surplus.toFixed(scale),
        surplusSource: figures.surplusSource,
        reserve: figures.reserve.toFixed(scale),
        community: figures.community.toFixed(scale),
        memberPool: figures.memberPool.toFixed(scale),
        belowMinimum: figures.belowMinimum.toFixed(scale),
        inputsJson: JSON.stringify(gathered.inputs),
        inputsHash: figures.inputsHash,
        summaryJson: JSON.stringify(summaryOf(figures)),
        entryCount: entries.length,
        key: input.idempotencyKey,
        hash,
        actor: actor.id,
      });
      const measures = figures.measures.map((m) => ({ measure: m.code, unit: m.unit }));
      await insertAllocations(
        client,
        coop.id,
        runId,
        figures.fiscalYear,
        measures,
        // Text straight from minor units and exact rationals: what the Decimals' toFixed would
        // write (rationalToDecimal's string, at the same scale), without making them.
        figures.lines.map((l) => {
          for (let k = 0; k < measures.length; k++)
            if (l.measures[k]?.measure !== measures[k]!.measure)
              throw new InvariantError(`member ${l.memberNumber}: measures out of the run's order`);
          return {
            membershipId: l.membershipId,
            memberNumber: l.memberNumber,
            share: l.share,
            classCode: l.classCode,
            former: l.former,
            counted: l.measures.map((p) => rationalToFixed(p.counted, p.unit.scale)),
            excluded: l.measures.map((p) => rationalToFixed(p.excluded, p.unit.scale)),
            allocation: formatScaled(l.minor.allocation, scale),
            cash: formatScaled(l.minor.cash, scale),
            retained: formatScaled(l.minor.retained, scale),
            belowMinimum: formatScaled(l.minor.belowMinimum, scale),
            qualified: l.qualified,
            consent: l.consent,
          };
        }),
      );
      await insertPayments(client, coop.id, await writeOffs(client, figures, runId));
      const ops: PostOp[] = entries.map((e) => entryOp(coop.id, 'STANDARD', e, null, actor.id));
      return { ops, value: { runId, replayed: false } };
    },
  );
  if (outcome instanceof LedgerError) return outcome;
  const failed = rejection(outcome.results);
  if (failed)
    return failed.error.code === 'INVALID_EFFECTIVE_AT'
      ? asDate(failed.error)
      : rejectedEntry(failed, built.entries, built.names);
  const [run] = await getRuns(deps, [{ bookId: coop.id, id: outcome.value.runId }]);
  return { run: run!, replayed: outcome.value.replayed };
}

function asDate(error: LedgerError): LedgerError {
  return new LedgerError('INVALID_DATE', error.message, 'allocatedOn');
}

/**
 * Reverses a committed run as a whole: a reversing entry for each of its entries (linked both
 * ways by the ledger), its write-offs undone; the fiscal year can then be run again. Refused
 * (PATRONAGE_RUN_SETTLED) once anything was paid, redeemed or written off against its allocations,
 * or when a later run exists: reverse those first.
 */
export async function reverseRun(
  deps: PatronageDeps,
  input: ReverseRunInput,
  actor: Principal,
): Promise<RunResult | LedgerError> {
  if (!mayWriteBook(actor, input.bookId)) return unknownRun();
  const keyError = checkRunKey(input.idempotencyKey);
  if (keyError) return keyError;
  if (!isUuid(input.bookId) || !isUuid(input.runId)) return unknownRun();
  const hash = requestHash('reversePatronageAllocation', input);
  const outcome = await deps.ledger.engine.submitWith<{ replayed: boolean }>(async (client) => {
    if (!(await lockBooks(client, [input.bookId])).has(input.bookId)) return unknownRun();
    const byKey = await runIdWhere(client, input.bookId, { reversalKey: input.idempotencyKey });
    if (byKey) {
      const [prior] = await findRuns(client, [{ bookId: input.bookId, id: byKey }]);
      return byKey === input.runId && prior!.reversalRequestHash === hash
        ? { ops: [], value: { replayed: true } }
        : reusedKey();
    }
    const [run] = await findRuns(client, [{ bookId: input.bookId, id: input.runId }]);
    if (!run) return unknownRun();
    if (run.status === 'REVERSED')
      return new LedgerError('ALREADY_REVERSED', 'the run was already reversed', 'runId');
    if ((await settlementsAgainst(client, input.bookId, run.id, run.id)) > 0)
      return new LedgerError(
        'PATRONAGE_RUN_SETTLED',
        'cash was paid, or retained parts redeemed or written off, against this run: it can no longer be reversed',
        'runId',
      );
    const later = await runIdWhere(client, input.bookId, { committedAfter: run.id });
    if (later)
      return new LedgerError('PATRONAGE_RUN_SETTLED', 'a later run is committed; reverse it first', 'runId');
    const ops: PostOp[] = [];
    for (let i = 0; i < run.entryCount; i++) {
      const entryId = await entryIdByKey(client, input.bookId, `${run.idempotencyKey}:${i}`);
      if (!entryId) throw new InvariantError(`entry ${i} of run ${run.id} is missing`);
      const ref = {
        bookId: input.bookId,
        entryId,
        idempotencyKey: `${input.idempotencyKey}:${i}`,
        effectiveAt: null,
        memo: `Reversal of patronage run ${run.fiscalYear} (${run.id})`,
        metadata: [
          { key: 'patronage.run', value: run.id },
          { key: 'patronage.event', value: 'REVERSAL' },
        ],
      };
      ops.push({
        kind: 'REVERSAL',
        bookId: input.bookId,
        targetId: entryId,
        idempotencyKey: ref.idempotencyKey,
        effectiveAt: null,
        memo: ref.memo,
        metadata: ref.metadata,
        postedBy: actor.id,
        requestHash: requestHash('reverseJournalEntry', ref),
      });
    }
    await deleteWriteOffsOf(client, input.bookId, run.id);
    await markReversed(client, {
      bookId: input.bookId,
      runId: run.id,
      key: input.idempotencyKey,
      hash,
      actor: actor.id,
    });
    return { ops, value: { replayed: false } };
  });
  if (outcome instanceof LedgerError) return outcome;
  const failed = rejection(outcome.results);
  if (failed) return failed.error;
  const [run] = await getRuns(deps, [{ bookId: input.bookId, id: input.runId }]);
  return { run: run!, replayed: outcome.value.replayed };
}
