import type { DbPool } from '../platform/transaction.js';

/** What the reporting use cases run on. */
export interface ReportingDeps {
  pool: DbPool;
  clock: () => Date;
}
