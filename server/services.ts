/**
 * The domains' use cases, wired to one ORM and its connection pool: the composition root of the
 * server's domains (platform below, schema and HTTP above in server/service.ts).
 */
import type { MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from 'pino';
import { type AuthService, authEntities, createAuthService } from './auth/index.js';
import { BankingService } from './banking/index.js';
import { CoopService, coopEntities } from './coops/index.js';
import { CreditService } from './credit/index.js';
import { LedgerService, ledgerEntities } from './ledger/index.js';
import { PatronageService } from './patronage/index.js';
import { createOrm as createPlatformOrm, nativePool, type OrmOptions } from './platform/db/orm.js';
import { ReportingService } from './reporting/index.js';

/** Every domain's MikroORM entities. */
export const entities = [...ledgerEntities, ...authEntities, ...coopEntities];

/** The ORM over the service's database, with every domain's entities. */
export function createOrm(url: string, options: Omit<OrmOptions, 'entities'> = {}): Promise<MikroORM> {
  return createPlatformOrm(url, { ...options, entities });
}

export interface ServiceDeps {
  orm: MikroORM;
  logger: Logger;
  /** Interval of the pending-entry expiry sweep; 0 disables it (tests drive it by hand). */
  expirySweepMs?: number;
  /** Heap limit of a worker process in MB (WORKER_HEAP_MB); default the setting's default. */
  workerHeapMb?: number;
}

export interface Services {
  ledger: LedgerService;
  auth: AuthService;
  coops: CoopService;
  patronage: PatronageService;
  credit: CreditService;
  banking: BankingService;
  reporting: ReportingService;
  /**
   * Stops background work (the entry batcher, the pending-entry expiry sweeper) and waits for it,
   * then logs the posting engine's counters ('posting engine counters', level info).
   */
  close(): Promise<void>;
}

export async function createServices(deps: ServiceDeps): Promise<Services> {
  const pool = await nativePool(deps.orm);
  const ledger = new LedgerService(deps.orm, pool, deps.logger);
  const sweepMs = deps.expirySweepMs ?? 5_000;
  if (sweepMs > 0) ledger.startExpirySweeper(sweepMs);
  const auth = createAuthService(deps.orm, pool, deps.logger);
  const coops = new CoopService(deps.orm, pool, ledger, auth);
  const patronage = new PatronageService(pool, ledger, coops);
  // Leaving follows the patronage policy's departing rule for retained allocations.
  coops.onLeaving((client, event) => patronage.onLeaving(client, event));
  const credit = new CreditService(pool, ledger, coops);
  const banking = new BankingService(pool, ledger);
  const reporting = new ReportingService(pool, undefined, { workerHeapMb: deps.workerHeapMb });
  return {
    ledger,
    auth,
    coops,
    patronage,
    credit,
    banking,
    reporting,
    close: async () => {
      await reporting.close();
      await ledger.close();
      // One line at shutdown: how the posting engine's writes went (the bank test reads it).
      deps.logger.info({ posting: ledger.engine.counters() }, 'posting engine counters');
    },
  };
}
