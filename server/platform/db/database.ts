/**
 * Where the service's PostgreSQL comes from: DATABASE_URL when set, otherwise an embedded
 * PostgreSQL started in DATA_DIR (see `embedded.ts`).
 */
import type { Logger } from 'pino';
import { type Config, redactUrl } from '../config.js';
import { startEmbeddedPostgres } from './embedded.js';

export interface Database {
  url: string;
  /** True when this process started the PostgreSQL (and `stop()` stops it). */
  embedded: boolean;
  stop(): Promise<void>;
}

export async function openDatabase(
  config: Pick<Config, 'databaseUrl' | 'dataDir'>,
  logger: Logger,
): Promise<Database> {
  if (config.databaseUrl) {
    logger.info({ database: redactUrl(config.databaseUrl) }, 'using the PostgreSQL at DATABASE_URL');
    return { url: config.databaseUrl, embedded: false, stop: async () => {} };
  }
  const cluster = await startEmbeddedPostgres({ dataDir: config.dataDir, logger });
  return { url: cluster.url, embedded: true, stop: cluster.stop };
}
