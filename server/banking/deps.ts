import type { LedgerService } from '../ledger/index.js';
import type { DbPool } from '../platform/transaction.js';

/** What the banking use cases stand on: the ledger (accounts, entries, balances) and the pool. */
export interface BankingDeps {
  pool: DbPool;
  ledger: LedgerService;
  clock: () => Date;
}
