import type { CoopService } from '../coops/index.js';
import type { LedgerService } from '../ledger/index.js';
import type { DbPool } from '../platform/transaction.js';

/** What the mutual-credit use cases stand on: the ledger (entries, accounts), the co-ops, the pool. */
export interface CreditDeps {
  pool: DbPool;
  ledger: LedgerService;
  coops: CoopService;
  clock: () => Date;
}
