/**
 * City reporting (issue 15): the use cases, one object for the API, scripts and tests.
 *   profiles.ts  treasurers' reports of what the ledger does not know
 *   release.ts   rollup refresh, freezing, protection, audit, storing a release
 *   release-admission.ts  one release of a city at a time, a bounded number per process
 *   query.ts     slices of a release for a city's analysts
 *   export.ts    open data (CSV, JSON, data dictionary)
 *   store.ts     the domain's SQL
 */
import type { LedgerError, Principal } from '../core/index.js';
import type { DbPool } from '../platform/transaction.js';
import { analystCities, cityKeyOf, mayReadCity } from './access.js';
import type { ReportingDeps } from './deps.js';
import { type ExportFormat, type ExportResult, exportRelease } from './export.js';
import { LatestReleases } from './latest.js';
import { listProfiles, type ProfileInput, reportProfile } from './profiles.js';
import { releaseFor, type SliceInput, type SliceResult, slice } from './query.js';
import { type CreateReleaseInput, createRelease, refreshCity } from './release.js';
import { defaultReleaseWorkersMax, releaseSlots } from './release-admission.js';
import * as store from './store.js';

export class ReportingService {
  private readonly deps: ReportingDeps;

  constructor(pool: DbPool, clock: () => Date = () => new Date(), options: { workerHeapMb?: number } = {}) {
    this.deps = { pool, clock, latest: new LatestReleases(pool), workerHeapMb: options.workerHeapMb };
    // The process's release workers are as many as workers of this heap fit (release-admission.ts):
    // one service per process (the API's, or a script's).
    if (options.workerHeapMb !== undefined)
      releaseSlots.configure({ workersMax: defaultReleaseWorkersMax(options.workerHeapMb) });
  }

  /** Stops listening for publications (latest.ts). */
  close(): Promise<void> {
    return this.deps.latest?.close() ?? Promise.resolve();
  }

  reportProfile(input: ProfileInput, actor: Principal) {
    return reportProfile(this.deps, input, actor);
  }

  listProfiles(coopId: string, actor: Principal, limit: number) {
    return listProfiles(this.deps, coopId, actor, limit);
  }

  /** Brings the rollup of a city's co-ops up to date (what a schedule or a release runs). */
  refreshCity(city: string): Promise<number> {
    return refreshCity(this.deps, cityKeyOf(city));
  }

  createRelease(input: CreateReleaseInput, actor: Principal): Promise<store.ReleaseRow | LedgerError> {
    return createRelease(this.deps, input, actor);
  }

  slice(input: SliceInput, actor: Principal | null): Promise<SliceResult | LedgerError> {
    return slice(this.deps, input, actor);
  }

  async release(
    city: string,
    releaseId: string | null,
    actor: Principal | null,
  ): Promise<store.ReleaseRow | LedgerError> {
    const r = await releaseFor(this.deps, city, releaseId, actor);
    return 'row' in r ? r.row : r;
  }

  async listReleases(city: string, actor: Principal | null, limit: number): Promise<store.ReleaseRow[]> {
    if (!mayReadCity(actor, city)) return [];
    return store.listReleases(this.deps.pool, cityKeyOf(city), Math.min(Math.max(limit, 1), 100));
  }

  exportRelease(
    input: { city: string; releaseId: string | null; format: ExportFormat },
    actor: Principal | null,
  ): Promise<ExportResult | LedgerError> {
    return exportRelease(this.deps, input, actor);
  }

  /** The cities whose reports the principal reads as an analyst. */
  analystCities(actor: Principal | null): string[] {
    return analystCities(actor);
  }

  /** Rollup rows of some co-ops (tests and the audit command compare them with a recomputation). */
  rollupRows(bookIds: string[]) {
    return store.rollupRows(this.deps.pool, bookIds);
  }
}
