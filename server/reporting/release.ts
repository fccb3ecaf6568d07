/**
 * Making a release (issue 15): refresh the city's rollup, freeze the newly covered months' figures
 * of consenting co-ops, build the full cube (neighbourhood x sector x kind x measure-period with
 * every margin), protect it with the previous release's cells locked, check the certificates
 * exactly, audit every hidden sensitive cell with HiGHS (its certificate's neighbourhood first, the
 * exact program of its component where that does not prove it), and store the protected cells.
 * Nothing is stored when either check fails. The protection and the audit (release-compute.ts)
 * run in a worker thread: the service keeps answering every other request meanwhile.
 *
 * Who: a CITY_ANALYST of the city, or an ADMIN (an operator running the release command).
 */

import { addMonths, parseMonth } from '../core/disclosure-periods.js';
import {
  DEFAULT_DISCLOSURE_POLICY,
  type DisclosurePolicy,
  validateDisclosurePolicy,
} from '../core/disclosure-rules.js';
import { LedgerError, type Principal } from '../core/index.js';
import { uuidv7 } from '../platform/ids.js';
import { withTransaction } from '../platform/transaction.js';
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

export async function createRelease(
  deps: ReportingDeps,
  input: CreateReleaseInput,
  actor: Principal,
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
  return withTransaction(deps.pool, async (tx) => {
    await store.lockCity(tx, cityKey);
    const previous = await store.latestRelease(tx, cityKey);
    if (previous && through <= previous.throughMonth) {
      return new LedgerError(
        'RELEASE_UP_TO_DATE',
        `release ${previous.seq} already covers ${previous.throughMonth}`,
        'throughMonth',
      );
    }
    const stale = await store.staleBooks(tx, cityKey, currentMonth);
    await store.recomputeRollup(tx, stale, currentMonth, GENDERS, RACES);
    const seq = (previous?.seq ?? 0) + 1;
    await store.freezeMonths(tx, {
      cityKey,
      afterMonth: previous ? `${previous.throughMonth}-01` : null,
      throughMonth: `${through}-01`,
      currency: input.currency,
      moneyMeasures: MEASURES.filter((m) => m.money).map((m) => m.code),
      backfillMeasures: previous ? measuresMissingFrom(previous.dimensions as ReleaseDimensions) : [],
      seq,
    });
    const rows = await store.frozenRows(tx, cityKey, `${through}-01`);
    const prevDims = previous ? (previous.dimensions as ReleaseDimensions) : null;
    const union = (a: readonly string[] | undefined, b: Iterable<string>) =>
      [...new Set([...(a ?? []), ...b])].sort();
    const firstYear =
      prevDims?.firstYear ??
      Math.min(Number(through.slice(0, 4)), ...rows.map((r) => Number(r.month.slice(0, 4))));
    const dims = {
      scale: prevDims?.scale ?? (await store.currencyScale(tx, cityKey, input.currency)),
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
    const computed = await runInWorker<ComputeReleaseInput, ComputeReleaseOutput>(
      workerModule(import.meta.url, 'release-worker'),
      {
        dims,
        rows,
        policy,
        previous: previous
          ? {
              dimensions: prevDims as ReleaseDimensions,
              cells: previous.cells,
              protection: previous.protection,
            }
          : null,
      },
    );
    // Rolls the transaction back: nothing of this release is kept, the frozen months included.
    if (!computed.ok) throw new ReleaseNotProtected(computed.message);
    const { summary, measurePeriods } = computed;
    const cells = asBuffer(computed.cells);
    const protection = asBuffer(computed.protection);
    const release: store.ReleaseRow = {
      id: uuidv7(deps.clock().getTime()),
      cityKey,
      city,
      seq,
      currency: input.currency,
      firstMonth: `${firstYear}-01`,
      throughMonth: through,
      policy,
      dimensions: { ...dims, measurePeriods } satisfies ReleaseDimensions,
      cells,
      protection,
      summary,
      createdAt: deps.clock(),
      createdBy: actor.id,
    };
    await store.insertRelease(tx, release);
    return release;
  }).catch((error: unknown) => {
    if (error instanceof ReleaseNotProtected)
      return new LedgerError('RELEASE_NOT_PROTECTED', error.message, null);
    throw error;
  });
}

class ReleaseNotProtected extends Error {}

/** Measures a release made before they existed lacks (frozen for its months by the next release). */
function measuresMissingFrom(dims: ReleaseDimensions): string[] {
  const had = new Set(dims.measurePeriods.map((c) => c.slice(0, c.lastIndexOf('@'))));
  return MEASURES.map((m) => m.code).filter((c) => !had.has(c));
}
