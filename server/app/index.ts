/**
 * Use cases of the ledger, wired to one ORM. STUB: being written (owner: lead). The signature of
 * `createServices` and `Services.close` is fixed; more members will be added.
 */
import type { MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from 'pino';

export interface ServiceDeps {
  orm: MikroORM;
  logger: Logger;
}

export interface Services {
  /** Stops background work (the entry batcher, the pending-expiry sweeper) and waits for it. */
  close(): Promise<void>;
}

export async function createServices(_deps: ServiceDeps): Promise<Services> {
  return { close: async () => {} };
}
