import type { DbPool } from '../platform/transaction.js';
import type { LatestReleases } from './latest.js';

/** What the reporting use cases run on. */
export interface ReportingDeps {
  pool: DbPool;
  clock: () => Date;
  /** The cities' latest release ids, kept while this process hears publications (latest.ts). */
  latest?: LatestReleases;
}
