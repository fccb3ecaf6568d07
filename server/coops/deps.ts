import type { AuthService } from '../auth/index.js';
import type { Decimal } from '../core/index.js';
import type { LedgerService } from '../ledger/index.js';
import type { DbPool, TxClient } from '../platform/transaction.js';
import type { CoopStore } from './store.js';

/** What the co-ops use cases stand on. */
export interface CoopDeps {
  pool: DbPool;
  store: CoopStore;
  ledger: LedgerService;
  auth: AuthService;
  clock: () => Date;
  /** Another domain's part in a member's leaving (set once by the composition root). */
  leaving?: LeavingHook;
}

/**
 * Called inside the leaving transaction (the book locked) before the redemption entry is built:
 * answers how much of the member's internal capital stays on their account instead of being
 * redeemed now (patronage: retained allocations kept until their year revolves), and may write
 * its own rows in the same transaction.
 */
export type LeavingHook = (
  client: TxClient,
  event: {
    bookId: string;
    membershipId: string;
    effectiveOn: string;
    internalCapital: Decimal;
    idempotencyKey: string;
  },
) => Promise<Decimal>;
