import type { DbPool } from '../platform/transaction.js';
import type { LatestReleases } from './latest.js';

/** What the reporting use cases run on. */
export interface ReportingDeps {
  pool: DbPool;
  clock: () => Date;
  /** The cities' latest release ids, kept while this process hears publications (latest.ts). */
  latest?: LatestReleases;
  /** Heap limit of a release's worker process, in MB (WORKER_HEAP_MB); default the setting's default. */
  workerHeapMb?: number;
}
