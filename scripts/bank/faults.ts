/**
 * Faults on a seeded schedule: one every few seconds, the kinds taken in a shuffled cycle so each
 * enabled kind comes up about equally often.
 *
 *   kill             SIGKILL of the service, then a restart (same port, same database)
 *   pause            SIGSTOP of the service for a moment, then SIGCONT
 *   db-restart       immediate stop of the service's embedded PostgreSQL (SIGQUIT to the
 *                    postmaster); the service must start it again by itself
 *   postmaster-kill  SIGKILL of the service's embedded postmaster (a crash: its backends are
 *                    orphaned until they notice); the service must start it again by itself
 *   terminate        pg_terminate_backend() of every session of the service (application_name
 *                    'solidarity-ledger') in the run's database; the harness's own session is spared
 *
 * db-restart and postmaster-kill need the service's own embedded PostgreSQL (not --database-url).
 * When the service does not recover by itself within RECOVERY_TIMEOUT_MS (or exits, as it does when
 * it cannot), the fault is reported as failed and the harness restarts the service.
 *
 * Client timeouts shorter than some requests are drawn by the workers (see workload.ts).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { DB_APPLICATION_NAME } from '../../server/platform/db/orm.js';
import type { Prng } from './prng.js';
import type { HarnessDatabase, ServiceProcess } from './processes.js';

export const FAULT_KINDS = ['kill', 'pause', 'db-restart', 'postmaster-kill', 'terminate'] as const;
/** The faults that stop the service's own embedded PostgreSQL. */
export const POSTMASTER_FAULTS: readonly FaultKind[] = ['db-restart', 'postmaster-kill'];
/** How long the service may take to start its PostgreSQL again and be ready. */
export const RECOVERY_TIMEOUT_MS = 60_000;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface FaultEvent {
  kind: FaultKind;
  /** Seconds since the load started. */
  atSeconds: number;
  detail: string;
  ok: boolean;
}

export interface FaultOptions {
  kinds: FaultKind[];
  rng: Prng;
  service: ServiceProcess;
  database: HarnessDatabase;
  /** Gap between two faults, in ms. */
  gapMs: [number, number];
  startedAt: number;
  stopping: () => boolean;
  events: FaultEvent[];
  log: (message: string) => void;
}

/** Injects faults until `stopping()`; always leaves the service and PostgreSQL running. */
export async function runFaults(options: FaultOptions): Promise<void> {
  const { rng, kinds } = options;
  if (kinds.length === 0) return;
  let cycle: FaultKind[] = [];
  while (true) {
    const gap = rng.int(options.gapMs[0], options.gapMs[1]);
    const until = Date.now() + gap;
    while (Date.now() < until && !options.stopping()) await sleep(Math.min(200, until - Date.now()));
    if (options.stopping()) return;
    if (cycle.length === 0) cycle = rng.shuffle(kinds);
    const kind = cycle.shift()!;
    const atSeconds = (Date.now() - options.startedAt) / 1000;
    let detail: string;
    let ok = true;
    try {
      detail = await inject(kind, options);
    } catch (error) {
      ok = false;
      detail = `failed: ${(error as Error).message.split('\n')[0]}`;
    }
    options.events.push({ kind, atSeconds, detail, ok });
    options.log(`fault ${options.events.length}: ${kind} at ${atSeconds.toFixed(1)} s: ${detail}`);
  }
}

async function inject(kind: FaultKind, options: FaultOptions): Promise<string> {
  const { rng, service, database } = options;
  switch (kind) {
    case 'kill': {
      const downMs = rng.int(0, 800);
      const pid = service.pid;
      await service.kill();
      await sleep(downMs);
      const startMs = await service.start();
      return `SIGKILL pid ${pid}, down ${downMs} ms, restarted (pid ${service.pid}) and ready in ${startMs} ms`;
    }
    case 'pause': {
      const pauseMs = rng.int(300, 2_500);
      service.signal('SIGSTOP');
      await sleep(pauseMs);
      service.signal('SIGCONT');
      return `SIGSTOP for ${pauseMs} ms, then SIGCONT`;
    }
    case 'db-restart':
    case 'postmaster-kill': {
      const signal: NodeJS.Signals = kind === 'db-restart' ? 'SIGQUIT' : 'SIGKILL';
      const started = Date.now();
      const pid = database.signalPostmaster(signal);
      const servicePid = service.pid;
      const restarted = await awaitRecovery(service, database, pid);
      const what = kind === 'db-restart' ? 'stopped (immediate, SIGQUIT)' : 'killed (SIGKILL)';
      return (
        `postmaster ${pid} ${what}; the service (pid ${servicePid}) started PostgreSQL again ` +
        `(postmaster ${restarted}) and was ready in ${Date.now() - started} ms`
      );
    }
    case 'terminate': {
      const killed = await terminateServiceSessions(database.url);
      return `terminated ${killed} service session(s)`;
    }
  }
}

/**
 * Waits until the service has started a new postmaster (not `dead`) and answers /readyz 200, in the
 * same process; returns the new postmaster's pid. Throws (after restarting the service, so the run
 * goes on) when it exits or does not recover in time.
 */
async function awaitRecovery(
  service: ServiceProcess,
  database: HarnessDatabase,
  dead: number,
): Promise<number> {
  const deadline = Date.now() + RECOVERY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (!service.isRunning()) {
      const exit = service.exitStatus();
      await service.start();
      throw new Error(`the service exited (${exit}) instead of restarting its PostgreSQL; restarted it`);
    }
    const now = database.postmasterPid();
    if (now !== undefined && now !== dead && (await service.readyStatus()) === 200) return now;
    await sleep(50);
  }
  await service.kill();
  await service.start();
  throw new Error(
    `the service did not recover within ${RECOVERY_TIMEOUT_MS / 1000} s; killed and restarted it`,
  );
}

/** pg_terminate_backend() of the service's sessions in the run's database; returns how many. */
export async function terminateServiceSessions(databaseUrl: string): Promise<number> {
  const client = new pg.Client({ connectionString: databaseUrl, application_name: 'bank-test' });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: string }>(
      `select count(*) filter (where pg_terminate_backend(pid)) as n
         from pg_stat_activity
        where datname = current_database() and pid <> pg_backend_pid() and application_name = $1`,
      [DB_APPLICATION_NAME],
    );
    return Number(rows[0]?.n ?? 0);
  } finally {
    await client.end();
  }
}
