import type { CoopService } from '../coops/index.js';
import type { LedgerService } from '../ledger/index.js';
import type { DbPool } from '../platform/transaction.js';

/** What the patronage use cases stand on: the ledger (entries), the co-ops (members), the pool. */
export interface PatronageDeps {
  pool: DbPool;
  ledger: LedgerService;
  coops: CoopService;
  clock: () => Date;
}
