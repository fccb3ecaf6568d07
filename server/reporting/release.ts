/**
 * Making a release (issue 15): refresh the city's rollup, freeze the newly covered months' figures
 * of consenting co-ops, build the full cube (neighbourhood x sector x kind x measure-period with
 * every margin), protect it with the previous release's cells locked, check the certificates
 * exactly, audit every hidden sensitive cell with HiGHS (its certificate's neighbourhood first, the
 * exact program of its component where that does not prove it), and store the protected cells.
 * Nothing is stored when either check fails. The protection and the audit (release-compute.ts)
 * run in a worker process: the service keeps answering every other request meanwhile; and outside
 * any transaction: the inputs are read under the city's lock in a transaction rolled back (a
 * snapshot), computed from with no lock held, and the release written under the lock only when the
 * same reads then give the same inputs (see createRelease).
 *
 * Who: a CITY_ANALYST of the city, or an ADMIN (an operator running the release command).
 */

import { createHash } from 'node:crypto';
import { addMonths, parseMonth } from '../core/disclosure-periods.js';
import {
  DEFAULT_DISCLOSURE_POLICY,
  type DisclosurePolicy,
  validateDisclosurePolicy,
} from '../core/disclosure-rules.js';
import { LedgerError, type Principal } from '../core/index.js';
import { uuidv7 } from '../platform/ids.js';
import { type TxClient, withTransaction } from '../platform/transaction.js';
import { runInWorker, workerModule } from '../platform/worker.js';
import { cityKeyOf, mayReadCity } from './access.js';
import type { ReleaseDimensions } from './cube.js';
import type { ReportingDeps } from './deps.js';
import { GENDERS, MEASURES, RACES } from './measures.js';
import { asBuffer, type ComputeReleaseInput, type ComputeReleaseOutput } from './release-compute.js';
import * as store from './store.js';

export interface CreateReleaseInput {
  city: string;
  currency: string;
  /** `YYYY-MM`; default the last complete month. */
  throughMonth: string | null;
  policy: Partial<DisclosurePolicy> | null;
}

export type { ReleaseSummary } from './release-compute.js';

export function currentMonthOf(now: Date): string {
  return `${now.toISOString().slice(0, 7)}`;
}

/** Refreshes the rollup of the city's co-ops whose sources changed. */
export async function refreshCity(deps: ReportingDeps, cityKey: string): Promise<number> {
  const current = `${currentMonthOf(deps.clock())}-01`;
  return withTransaction(deps.pool, async (tx) => {
    await store.lockCity(tx, cityKey);
    const stale = await store.staleBooks(tx, cityKey, current);
    await store.recomputeRollup(tx, stale, current, GENDERS, RACES);
    return stale.length;
  });
}

/** For tests: what runs between the steps of a release. */
export interface ReleaseHooks {
  /** After a release is computed from a snapshot, before it is written (no transaction, no lock held). */
  afterCompute?: (attempt: number) => Promise<void>;
}

/**
 * A release: the inputs read in a snapshot (the city's lock held only while reading them), the
 * protection and audit computed with no transaction or lock held, then, under the lock, the same
 * reads again and the release stored only if they are unchanged (else computed again; after
 * RELEASE_SNAPSHOT_ATTEMPTS, computed under the lock).
 */
export async function createRelease(
  deps: ReportingDeps,
  input: CreateReleaseInput,
  actor: Principal,
  hooks: ReleaseHooks = {},
): Promise<store.ReleaseRow | LedgerError> {
  const city = input.city.trim();
  if (!mayReadCity(actor, city))
    return new LedgerError('NO_RELEASE', 'no reporting for this city is open to you', 'city');
  const cityKey = cityKeyOf(city);
  if (!/^[A-Z]{3}$/.test(input.currency))
    return new LedgerError('INVALID_INPUT', 'currency must be three capital letters', 'currency');
  const lastComplete = addMonths(currentMonthOf(deps.clock()), -1);
  const through = input.throughMonth ?? lastComplete;
  if (!parseMonth(through))
    return new LedgerError('INVALID_INPUT', 'throughMonth must be YYYY-MM', 'throughMonth');
  if (through > lastComplete)
    return new LedgerError(
      'INVALID_INPUT',
      `throughMonth must be a complete month (${lastComplete} or before)`,
      'throughMonth',
    );
  const policy: DisclosurePolicy = { ...DEFAULT_DISCLOSURE_POLICY, ...(input.policy ?? {}) };
  const problems = validateDisclosurePolicy(policy);
  if (problems.length > 0) return problems[0]!;

  const currentMonth = `${currentMonthOf(deps.clock())}-01`;
  const read = (tx: TxClient) => readInputs(tx, { cityKey, through, currency: input.currency, currentMonth });
  const compute = (inputs: ReleaseInputs) =>
    runInWorker<ComputeReleaseInput, ComputeReleaseOutput>(workerModule(import.meta.url, 'release-worker'), {
      dims: inputs.dims,
      rows: inputs.rows,
      policy,
      progressLabel: `city report ${city}`,
      previous: inputs.previous
        ? {
            dimensions: inputs.previous.dimensions as ReleaseDimensions,
            cells: inputs.previous.cells,
            protection: inputs.previous.protection,
          }
        : null,
    });
  const stored = (
    inputs: ReleaseInputs,
    computed: ComputeReleaseOutput & { ok: true },
  ): store.ReleaseRow => ({
    id: uuidv7(deps.clock().getTime()),
    cityKey,
    city,
    seq: inputs.seq,
    currency: input.currency,
    firstMonth: `${inputs.dims.firstYear}-01`,
    throughMonth: through,
    policy,
    dimensions: { ...inputs.dims, measurePeriods: computed.measurePeriods } satisfies ReleaseDimensions,
    cells: asBuffer(computed.cells),
    protection: asBuffer(computed.protection),
    summary: computed.summary,
    createdAt: deps.clock(),
    createdBy: actor.id,
  });
  // The rollup's refresh is kept whatever becomes of the release (as refreshCity would keep it).
  await refreshCity(deps, cityKey);
  for (let attempt = 1; attempt <= RELEASE_SNAPSHOT_ATTEMPTS; attempt++) {
    // 1. The inputs as of now, read under the city's lock in a transaction rolled back (the months
    //    it froze are not kept): a snapshot, the lock held for the reads only.
    const snapshot = await withTransaction(deps.pool, async (tx) => {
      throw new Snapshot(await read(tx));
    }).catch((error: unknown) => {
      if (error instanceof Snapshot) return error.inputs;
      throw error;
    });
    if (snapshot instanceof LedgerError) return snapshot;
    // 2. The protection and the audit, minutes for a large city, with no transaction or lock held.
    const computed = await compute(snapshot);
    if (!computed.ok) return new LedgerError('RELEASE_NOT_PROTECTED', computed.message, null);
    await hooks.afterCompute?.(attempt);
    // 3. Under the lock again: the same reads and freeze; stored only when they give the inputs the
    //    release was computed from (no release in between, no figure changed), else computed again.
    const written = await withTransaction(deps.pool, async (tx) => {
      const now = await read(tx);
      if (now instanceof LedgerError) return now;
      if (now.digest !== snapshot.digest) throw new InputsChanged();
      const release = stored(now, computed);
      await store.insertRelease(tx, release);
      return release;
    }).catch((error: unknown) => {
      if (error instanceof InputsChanged) return null;
      throw error;
    });
    if (written !== null) return written;
  }
  // The inputs kept changing while the release was computed (a busy city): compute it under the
  // lock, in one transaction, as the last resort.
  return withTransaction(deps.pool, async (tx) => {
    const inputs = await read(tx);
    if (inputs instanceof LedgerError) return inputs;
    const computed = await compute(inputs);
    // Rolls the transaction back: nothing of this release is kept, the frozen months included.
    if (!computed.ok) throw new ReleaseNotProtected(computed.message);
    const release = stored(inputs, computed);
    await store.insertRelease(tx, release);
    return release;
  }).catch((error: unknown) => {
    if (error instanceof ReleaseNotProtected)
      return new LedgerError('RELEASE_NOT_PROTECTED', error.message, null);
    throw error;
  });
}

/** Times a release is computed from a snapshot before it is computed under the city's lock. */
const RELEASE_SNAPSHOT_ATTEMPTS = 3;

/** What a release is computed from, and a digest of it all (to tell whether it changed). */
interface ReleaseInputs {
  previous: store.ReleaseRow | null;
  seq: number;
  rows: store.FrozenRow[];
  dims: Omit<ReleaseDimensions, 'measurePeriods'>;
  digest: string;
}

/**
 * Under the city's lock, in `tx`: the latest release, the rollup refreshed, the months after it
 * frozen (in `tx`: rolled back with it) and every frozen row of the release read back.
 */
async function readInputs(
  tx: TxClient,
  q: { cityKey: string; through: string; currency: string; currentMonth: string },
): Promise<ReleaseInputs | LedgerError> {
  const { cityKey, through } = q;
  await store.lockCity(tx, cityKey);
  const previous = await store.latestRelease(tx, cityKey);
  if (previous && through <= previous.throughMonth) {
    return new LedgerError(
      'RELEASE_UP_TO_DATE',
      `release ${previous.seq} already covers ${previous.throughMonth}`,
      'throughMonth',
    );
  }
  const stale = await store.staleBooks(tx, cityKey, q.currentMonth);
  await store.recomputeRollup(tx, stale, q.currentMonth, GENDERS, RACES);
  const seq = (previous?.seq ?? 0) + 1;
  await store.freezeMonths(tx, {
    cityKey,
    afterMonth: previous ? `${previous.throughMonth}-01` : null,
    throughMonth: `${through}-01`,
    currency: q.currency,
    moneyMeasures: MEASURES.filter((m) => m.money).map((m) => m.code),
    backfillMeasures: previous ? measuresMissingFrom(previous.dimensions as ReleaseDimensions) : [],
    seq,
  });
  const rows = await store.frozenRows(tx, cityKey, `${through}-01`);
  const prevDims = previous ? (previous.dimensions as ReleaseDimensions) : null;
  const union = (a: readonly string[] | undefined, b: Iterable<string>) =>
    [...new Set([...(a ?? []), ...b])].sort();
  // A loop, not Math.min(...rows): a large city has a million rows, beyond a call's arguments.
  let earliest = Number(through.slice(0, 4));
  for (const r of rows) earliest = Math.min(earliest, Number(r.month.slice(0, 4)));
  const firstYear = prevDims?.firstYear ?? earliest;
  const dims = {
    scale: prevDims?.scale ?? (await store.currencyScale(tx, cityKey, q.currency)),
    neighbourhoods: union(
      prevDims?.neighbourhoods,
      rows.map((r) => r.neighbourhood),
    ),
    sectors: union(
      prevDims?.sectors,
      rows.map((r) => r.sector),
    ),
    kinds: union(
      prevDims?.kinds,
      rows.map((r) => r.kind),
    ),
    firstYear,
    throughMonth: through,
  };
  // Rows in a canonical order (the store returns them in any order; the cube does not depend on it).
  const hash = createHash('sha256');
  hash.update(`${previous?.id ?? ''}\n${JSON.stringify(dims)}\n`);
  const lines = rows.map(
    (r) =>
      `${r.bookId}\t${r.measure}\t${r.month}\t${r.value}\t${r.neighbourhood}\t${r.sector}\t${r.kind}\t${r.group}`,
  );
  lines.sort();
  for (const line of lines) hash.update(`${line}\n`);
  return { previous, seq, rows, dims, digest: hash.digest('hex') };
}

/** Carries a snapshot's inputs out of the transaction it rolls back. */
class Snapshot extends Error {
  constructor(readonly inputs: ReleaseInputs | LedgerError) {
    super('snapshot');
  }
}

/** The inputs changed between the snapshot and the write: the write is rolled back. */
class InputsChanged extends Error {}

class ReleaseNotProtected extends Error {}

/** Measures a release made before they existed lacks (frozen for its months by the next release). */
function measuresMissingFrom(dims: ReleaseDimensions): string[] {
  const had = new Set(dims.measurePeriods.map((c) => c.slice(0, c.lastIndexOf('@'))));
  return MEASURES.map((m) => m.code).filter((c) => !had.has(c));
}
