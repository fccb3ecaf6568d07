import type { AuthService } from '../auth/index.js';
import type { LedgerService } from '../ledger/index.js';
import type { DbPool } from '../platform/transaction.js';
import type { CoopStore } from './store.js';

/** What the co-ops use cases stand on. */
export interface CoopDeps {
  pool: DbPool;
  store: CoopStore;
  ledger: LedgerService;
  auth: AuthService;
  clock: () => Date;
}
