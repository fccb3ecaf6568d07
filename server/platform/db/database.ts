/**
 * Where the service's PostgreSQL comes from: DATABASE_URL when set, otherwise an embedded
 * PostgreSQL started in DATA_DIR (see `embedded.ts`) and watched over while the service runs.
 *
 * If the embedded postmaster dies (killed, crashed), it is started again on the same data folder
 * and port, so the connection pool's URL stays valid and its sessions reconnect; meanwhile the
 * process is `recovering` (/readyz 503, /healthz 200). When it cannot be started again after
 * `EMBEDDED_RESTART.attempts` tries, the process is `failed` (/healthz 503) and `onFailure` is
 * called: the service then stops and exits non-zero, so a supervisor can restart it.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { type Config, redactUrl } from '../config.js';
import type { ProcessState } from '../http/health.js';
import { type EmbeddedPostgres, type PostmasterExit, startEmbeddedPostgres } from './embedded.js';

export interface Database {
  url: string;
  /** True when this process started the PostgreSQL (and `stop()` stops it). */
  embedded: boolean;
  /** ok; recovering while the embedded PostgreSQL is being restarted; failed when it cannot be. */
  state(): ProcessState;
  stop(): Promise<void>;
}

export interface OpenDatabaseOptions {
  /** Called once when the embedded PostgreSQL died and could not be started again. */
  onFailure?: (error: Error) => void;
}

/** Tries to start a dead embedded PostgreSQL again, waiting `delaysMs[i]` after the i-th failure. */
export const EMBEDDED_RESTART = { attempts: 5, delaysMs: [250, 500, 1000, 2000] } as const;

export async function openDatabase(
  config: Pick<Config, 'databaseUrl' | 'dataDir'>,
  logger: Logger,
  options: OpenDatabaseOptions = {},
): Promise<Database> {
  if (config.databaseUrl) {
    logger.info({ database: redactUrl(config.databaseUrl) }, 'using the PostgreSQL at DATABASE_URL');
    // Not ours to restart: while it is away requests answer UNAVAILABLE and /readyz 503.
    return {
      url: config.databaseUrl,
      embedded: false,
      state: () => ({ status: 'ok' }),
      stop: async () => {},
    };
  }
  const cluster = await startEmbeddedPostgres({ dataDir: config.dataDir, logger });
  return supervise(cluster, logger, options);
}

function describe(exit: PostmasterExit): string {
  return exit.signal ? `killed by ${exit.signal}` : `exit code ${exit.code}`;
}

function supervise(first: EmbeddedPostgres, logger: Logger, options: OpenDatabaseOptions): Database {
  const log = logger.child({ component: 'embedded-postgres' });
  let cluster = first;
  let state: ProcessState = { status: 'ok' };
  let stopping = false;
  let restarting: Promise<void> | undefined;

  const restart = async (how: string): Promise<void> => {
    let lastError: Error | undefined;
    for (let attempt = 1; attempt <= EMBEDDED_RESTART.attempts; attempt++) {
      if (stopping) return;
      try {
        const next = await startEmbeddedPostgres({
          dataDir: cluster.dataDir,
          port: cluster.port,
          logger,
          mustExist: true,
        });
        if (stopping) {
          await next.stop();
          return;
        }
        cluster = next;
        state = { status: 'ok' };
        watch(next);
        log.warn({ postgresPid: next.pid, port: next.port, attempt }, 'restarted the embedded PostgreSQL');
        return;
      } catch (error) {
        lastError = error as Error;
        log.error({ err: error, attempt }, 'could not restart the embedded PostgreSQL');
        const delayMs = EMBEDDED_RESTART.delaysMs[attempt - 1];
        if (delayMs !== undefined) await sleep(delayMs);
      }
    }
    if (stopping) return;
    const reason =
      `the embedded PostgreSQL (${how}) could not be restarted after ${EMBEDDED_RESTART.attempts} tries: ` +
      `${(lastError?.message ?? 'unknown error').split('\n')[0]}`;
    state = { status: 'failed', reason };
    log.fatal({ err: lastError }, reason);
    options.onFailure?.(new Error(reason));
  };

  const watch = (watched: EmbeddedPostgres) => {
    void watched.exited.then((exit) => {
      if (stopping || watched !== cluster) return;
      const how = describe(exit);
      log.error(
        { postgresPid: watched.pid, code: exit.code, signal: exit.signal },
        `the embedded PostgreSQL exited unexpectedly (${how}); restarting it`,
      );
      state = {
        status: 'recovering',
        reason: `the embedded PostgreSQL exited (${how}) and is being restarted`,
      };
      restarting = restart(how).finally(() => {
        restarting = undefined;
      });
    });
  };
  watch(first);

  return {
    url: first.url,
    embedded: true,
    state: () => state,
    stop: async () => {
      stopping = true;
      await restarting;
      await cluster.stop();
    },
  };
}
