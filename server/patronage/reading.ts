/**
 * Reading runs: records of stored runs, their allocations, and verification (recomputing a run
 * from its stored inputs and comparing the hash and every cent).
 */
import { Decimal, LedgerError } from '../core/index.js';
import { isUuid } from '../platform/ids.js';
import { computeFigures, gatherInputs, inputsHash, type RunInputs } from './compute.js';
import type { PatronageDeps } from './deps.js';
import { coopOf } from './policy.js';
import type { AllocationLine, RunMeasure, RunRecord, RunVerification } from './records.js';
import {
  type AllocationRow,
  countRuns,
  findRuns,
  type PageQuery,
  policyRow,
  type RunRow,
  runAllocations,
  runPage,
} from './store.js';

export function runRecord(row: RunRow): RunRecord {
  const s = row.summary as {
    periodStart: string;
    periodEnd: string;
    currency: RunRecord['currency'];
    noticeType: RunRecord['noticeType'];
    revolvingYears: number;
    lossRule: RunRecord['lossRule'];
    departingRule: RunRecord['departingRule'];
    measures: (Omit<RunMeasure, 'weight' | 'total'> & { weight: string; total: string })[];
  };
  return {
    id: row.id,
    bookId: row.bookId,
    fiscalYear: row.fiscalYear,
    periodStart: s.periodStart,
    periodEnd: s.periodEnd,
    currency: s.currency,
    kind: row.kind,
    status: row.status,
    surplus: row.surplus,
    surplusSource: row.surplusSource,
    reserve: row.reserve,
    community: row.community,
    memberPool: row.memberPool,
    belowMinimum: row.belowMinimum,
    cashTotal: row.cashTotal,
    retainedTotal: row.retainedTotal,
    allocatedOn: row.allocatedOn,
    policyVersion: row.policyVersion,
    noticeType: s.noticeType,
    revolvingYears: s.revolvingYears,
    lossRule: s.lossRule,
    departingRule: s.departingRule,
    measures: s.measures.map((m) => ({ ...m, weight: new Decimal(m.weight), total: new Decimal(m.total) })),
    inputsHash: row.inputsHash,
    idempotencyKey: row.idempotencyKey,
    entryCount: row.entryCount,
    createdAt: row.createdAt,
    createdBy: row.createdBy,
    reversedAt: row.reversedAt,
    reversedBy: row.reversedBy,
    reversalKey: row.reversalKey,
    memberCount: row.memberCount,
  };
}

export async function getRuns(
  deps: PatronageDeps,
  keys: { bookId: string; id: string }[],
): Promise<RunRecord[]> {
  const valid = keys.filter((k) => isUuid(k.bookId) && isUuid(k.id));
  return (await findRuns(deps.pool, valid)).map(runRecord);
}

const uuidKeys = (q: PageQuery<string>) =>
  (q.after === null || isUuid(q.after)) && (q.before === null || isUuid(q.before));

/** A page of a co-op's runs, newest first, either way between cursors (run ids). */
export async function runPageOf(
  deps: PatronageDeps,
  bookId: string,
  q: PageQuery<string>,
): Promise<RunRecord[]> {
  if (!isUuid(bookId) || !uuidKeys(q)) return [];
  return (await runPage(deps.pool, bookId, q)).map(runRecord);
}

export async function runCountOf(deps: PatronageDeps, bookId: string): Promise<number> {
  return isUuid(bookId) ? countRuns(deps.pool, bookId) : 0;
}

export function allocationLine(a: AllocationRow): AllocationLine {
  return {
    bookId: a.bookId,
    membershipId: a.membershipId,
    memberNumber: a.memberNumber,
    classCode: a.classCode,
    former: a.former,
    patronage: a.patronage.map((p) => ({
      measure: p.measure,
      unit: p.unit,
      counted: new Decimal(p.counted),
      excluded: new Decimal(p.excluded),
    })),
    share: a.share,
    allocation: a.allocation,
    cash: a.cash,
    retained: a.retained,
    belowMinimum: a.belowMinimum,
    qualified: a.qualified,
    consent: a.consent,
    cashPaid: a.cashPaid,
    redeemed: a.redeemed,
    writtenOff: a.writtenOff,
  };
}

/** A page of a run's allocations by member number, either way between cursors (member numbers). */
export async function allocationsOf(
  deps: PatronageDeps,
  bookId: string,
  runId: string,
  q: PageQuery<number>,
): Promise<(AllocationLine & { runId: string; fiscalYear: number })[]> {
  if (!isUuid(bookId) || !isUuid(runId)) return [];
  return (await runAllocations(deps.pool, bookId, runId, q)).map((a) => ({
    ...allocationLine(a),
    runId: a.runId,
    fiscalYear: a.fiscalYear,
  }));
}

/** Recomputes a run from its stored inputs and compares hash, pools and every member's cents. */
export async function verifyRun(
  deps: PatronageDeps,
  bookId: string,
  runId: string,
): Promise<RunVerification | null> {
  if (!isUuid(bookId) || !isUuid(runId)) return null;
  const [row] = await findRuns(deps.pool, [{ bookId, id: runId }], true);
  if (!row) return null;
  const inputs = row.inputs as unknown as RunInputs;
  const inputsHashMatches = inputsHash(inputs) === row.inputsHash;
  const mismatches: string[] = [];
  // Counted again first, so the year's records read again are let go before the figures are made:
  // the two at once were most of a 10,000-member run's verification at the service's 128 MB heap.
  const recordsUnchanged = await recount(deps, row, inputs);
  const figures = computeFigures(inputs);
  if (figures instanceof LedgerError)
    return { runId, inputsHashMatches, figuresMatch: false, recordsUnchanged, mismatches: [figures.message] };
  const same = (label: string, a: Decimal, b: Decimal) => {
    if (!a.eq(b)) mismatches.push(`${label}: stored ${b.toFixed()}, recomputed ${a.toFixed()}`);
  };
  same('surplus', figures.surplus, row.surplus);
  same('reserve', figures.reserve, row.reserve);
  same('community', figures.community, row.community);
  same('memberPool', figures.memberPool, row.memberPool);
  same('belowMinimum', figures.belowMinimum, row.belowMinimum);
  // The stored allocations a page at a time (member-number order, as the recomputed lines), each
  // page compared and let go; only the cents of each stored member are kept until the end.
  const stored = new Map<string, [Decimal, Decimal, Decimal]>();
  for (let after: number | null = null; ; ) {
    const page = await runAllocations(deps.pool, bookId, runId, {
      after,
      before: null,
      limit: 5_000,
      backward: false,
    });
    for (const a of page) stored.set(a.membershipId, [a.allocation, a.cash, a.retained]);
    if (page.length < 5_000) break;
    after = page.at(-1)!.memberNumber;
  }
  if (stored.size !== figures.lines.length)
    mismatches.push(`members: stored ${stored.size}, recomputed ${figures.lines.length}`);
  for (const l of figures.lines) {
    const a = stored.get(l.membershipId);
    if (!a) {
      mismatches.push(`member ${l.memberNumber}: not stored`);
      continue;
    }
    same(`member ${l.memberNumber} allocation`, l.allocation, a[0]);
    same(`member ${l.memberNumber} cash`, l.cash, a[1]);
    same(`member ${l.memberNumber} retained`, l.retained, a[2]);
  }
  return { runId, inputsHashMatches, figuresMatch: mismatches.length === 0, recordsUnchanged, mismatches };
}

/** Whether counting the run's year again (records, days of membership, consents) gives its stored members. */
async function recount(deps: PatronageDeps, row: RunRow, inputs: RunInputs): Promise<boolean> {
  const coop = await coopOf(deps, row.bookId);
  const policy = await policyRow(deps.pool, row.bookId, row.policyVersion);
  if (!coop || !policy) return false;
  const again = await gatherInputs(
    deps,
    deps.pool,
    coop,
    {
      fiscalYear: inputs.fiscalYear,
      surplus: inputs.surplus,
      allocatedOn: inputs.allocatedOn,
      // Members who left after the run was committed were members when it was made.
      leftBy: row.createdAt.toISOString().slice(0, 10),
    },
    policy,
  );
  if (again instanceof LedgerError) return false;
  const same = (x: unknown, y: unknown) => JSON.stringify(x) === JSON.stringify(y);
  // Member by member, not the two lists as two strings of megabytes at once.
  const tuple = (m: RunInputs['members'][number]) => [
    m.membershipId,
    m.active,
    m.former,
    m.consent,
    m.counted,
    m.excluded,
  ];
  return (
    same(again.inputs.records, inputs.records) &&
    same(again.inputs.denominators, inputs.denominators) &&
    again.inputs.members.length === inputs.members.length &&
    again.inputs.members.every((m, i) => same(tuple(m), tuple(inputs.members[i]!)))
  );
}
