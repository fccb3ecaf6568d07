/**
 * Use cases of the service, wired to one ORM and its connection pool.
 */
import type { MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from 'pino';
import { nativePool } from '../db/orm.js';
import { AuthService } from './auth.js';
import { CoopService } from './coop-service.js';
import { LedgerService } from './ledger-service.js';

export * from './auth.js';
export type { ImportInput, ImportKind, ImportResult, RowError } from './coop-import.js';
export * from './coop-service.js';
export { ForbiddenError, isConnectionError, UnavailableError } from './errors.js';
export type * from './ledger-service.js';
export { EXPIRY_ACTOR, EXPIRY_PRINCIPAL, LedgerService } from './ledger-service.js';

export interface ServiceDeps {
  orm: MikroORM;
  logger: Logger;
  /** Interval of the pending-entry expiry sweep; 0 disables it (tests drive it by hand). */
  expirySweepMs?: number;
}

export interface Services {
  ledger: LedgerService;
  auth: AuthService;
  coops: CoopService;
  /** Stops background work (the entry batcher, the pending-entry expiry sweeper) and waits for it. */
  close(): Promise<void>;
}

export async function createServices(deps: ServiceDeps): Promise<Services> {
  const pool = await nativePool(deps.orm);
  const ledger = new LedgerService(deps.orm, pool, deps.logger);
  const sweepMs = deps.expirySweepMs ?? 5_000;
  if (sweepMs > 0) ledger.startExpirySweeper(sweepMs);
  const auth = new AuthService(pool, deps.logger);
  return {
    ledger,
    auth,
    coops: new CoopService(pool, ledger, auth),
    close: () => ledger.close(),
  };
}
