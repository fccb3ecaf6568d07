/**
 * The processes the bank test runs and breaks: the run's PostgreSQL (the service's own embedded
 * one, or a fresh database on a server the user names) and the service as a child process.
 *
 * By default the service runs as `npm start` does, on an embedded PostgreSQL of its own, in a
 * fresh folder of the harness (DATA_DIR): the faults then stop or kill that postmaster (SIGQUIT:
 * `pg_ctl stop -m immediate`; SIGKILL: a crash) and the service must start it again by itself. The
 * harness reads the cluster's URL from the folder (its credentials and postmaster.pid), since the
 * port changes when the service itself is restarted. A server named by --database-url is not ours:
 * it is never stopped, only a database created on it for the run (and dropped after).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { PostingEngine } from '../../server/ledger/posting.js';
import { redactUrl } from '../../server/platform/config.js';
import { embeddedClusterUrl, isAlive, postmasterPidOf } from '../../server/platform/db/embedded.js';
import { createDatabase, dropDatabase } from '../lib/databases.js';

// ---------------------------------------------------------------------------------------------
// PostgreSQL

export interface HarnessDatabase {
  /** URL of the run's database as it is now (throws while the service's cluster is not running). */
  readonly url: string;
  /** Where it lives, for the report. */
  description: string;
  /** The service's database settings: DATABASE_URL, or DATA_DIR for an embedded cluster of its own. */
  serviceEnv: Record<string, string>;
  /** True when the run's PostgreSQL is the service's own embedded one, whose postmaster the faults may stop. */
  owned: boolean;
  /** The pid of the service's postmaster now (undefined while none runs). */
  postmasterPid(): number | undefined;
  /** Sends `signal` to the service's postmaster; returns its pid. */
  signalPostmaster(signal: NodeJS.Signals): number;
  /** Stops what is left of the cluster and removes its folder, or drops the run's database. Idempotent. */
  close(): Promise<void>;
}

const TMP_PREFIX = 'solidarity-ledger-bank-';

export async function openHarnessDatabase(
  externalUrl: string | undefined,
  options: { keepDatabase: boolean; log: (message: string) => void },
): Promise<HarnessDatabase> {
  const { log } = options;
  if (externalUrl) {
    // A database of its own on the user's server: the run's checks, and the termination of
    // connections, then concern nothing else on that server.
    const name = `ledger_bank_${new Date().toISOString().replace(/\D/g, '').slice(0, 14)}_${process.pid}`;
    const url = new URL(await createDatabase(externalUrl, name));
    log(`created database ${name} on ${url.host}`);
    let closed = false;
    return {
      url: url.toString(),
      description: `database ${name} created on ${redactUrl(externalUrl)} (--database-url)`,
      serviceEnv: { DATABASE_URL: url.toString() },
      owned: false,
      postmasterPid: () => undefined,
      signalPostmaster: () => {
        throw new Error('not our PostgreSQL: it is never stopped');
      },
      close: async () => {
        if (closed) return;
        closed = true;
        if (options.keepDatabase) {
          log(`kept database ${name} (--keep-database)`);
          return;
        }
        await dropDatabase(externalUrl, name);
      },
    };
  }

  await removeAbandonedFolders(log);
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), TMP_PREFIX));
  // mkdtemp makes 0700; as root PostgreSQL runs as "postgres", which must traverse it.
  await fs.chmod(dir, 0o755);
  await fs.writeFile(path.join(dir, 'owner.pid'), `${process.pid}\n`);
  // The service initialises the cluster here on its first start (as `npm start` does in DATA_DIR).
  const dataDir = path.join(dir, 'data');
  let closed = false;
  return {
    get url(): string {
      const url = embeddedClusterUrl(dataDir);
      if (url === undefined) throw new Error(`no PostgreSQL is running in ${dataDir}`);
      return url;
    },
    description:
      "the service's own embedded PostgreSQL (DATA_DIR: a fresh folder under the temporary directory, removed after the run)",
    serviceEnv: { DATABASE_URL: '', DATA_DIR: dataDir },
    owned: true,
    postmasterPid: () => {
      const pid = postmasterPidOf(dataDir);
      return pid !== undefined && isAlive(pid) ? pid : undefined;
    },
    signalPostmaster: (signal: NodeJS.Signals) => {
      const pid = postmasterPidOf(dataDir);
      if (pid === undefined || !isAlive(pid)) throw new Error(`no postmaster is running in ${dataDir}`);
      process.kill(pid, signal);
      return pid;
    },
    close: async () => {
      if (closed) return;
      closed = true;
      // The service stops its cluster when it stops; one left by a killed service is quit here.
      const pid = postmasterPidOf(dataDir);
      if (pid !== undefined && isAlive(pid)) {
        process.kill(pid, 'SIGQUIT');
        const deadline = Date.now() + 15_000;
        while (isAlive(pid) && Date.now() < deadline) await sleep(20);
        if (isAlive(pid)) process.kill(pid, 'SIGKILL');
      }
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}

/** Folders of earlier runs whose harness process is gone (SIGKILLed): removed. */
async function removeAbandonedFolders(log: (message: string) => void): Promise<void> {
  const tmp = os.tmpdir();
  for (const name of await fs.readdir(tmp)) {
    if (!name.startsWith(TMP_PREFIX)) continue;
    const dir = path.join(tmp, name);
    try {
      const owner = Number.parseInt(await fs.readFile(path.join(dir, 'owner.pid'), 'utf8'), 10);
      if (Number.isSafeInteger(owner) && isAlive(owner)) continue;
      const pidFile = await fs.readFile(path.join(dir, 'data', 'postmaster.pid'), 'utf8').catch(() => '');
      const postmaster = Number.parseInt(pidFile.split('\n')[0] ?? '', 10);
      if (Number.isSafeInteger(postmaster) && postmaster > 0 && isAlive(postmaster)) {
        process.kill(postmaster, 'SIGQUIT');
        await sleep(500);
      }
      await fs.rm(dir, { recursive: true, force: true });
      log(`removed ${dir}, left by an earlier run`);
    } catch {
      // Another run's folder being created, or not ours to remove: leave it.
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The service

/** The posting engine's counters, as the service logs them when it stops ('posting engine counters'). */
export type PostingCounters = ReturnType<PostingEngine['counters']>;

/** The counters' names, in the order the report gives them (the line is parsed by these). */
export const POSTING_COUNTER_NAMES = [
  'pipelinedWrites',
  'cacheHits',
  'staleCachedWrites',
  'staleWrites',
  'lockedFallbacks',
] as const satisfies readonly (keyof PostingCounters)[];

/** The counters of a 'posting engine counters' log line, or undefined for any other line. */
export function postingCountersOf(line: string): PostingCounters | undefined {
  if (!line.includes('"posting engine counters"')) return undefined;
  try {
    const posting = (JSON.parse(line) as { posting?: Record<string, unknown> }).posting;
    if (!posting) return undefined;
    const counters = {} as PostingCounters;
    for (const name of POSTING_COUNTER_NAMES) {
      const value = posting[name];
      if (typeof value !== 'number') return undefined;
      counters[name] = value;
    }
    return counters;
  } catch {
    return undefined;
  }
}

export interface ServiceOptions {
  /** DATABASE_URL, or DATA_DIR (HarnessDatabase.serviceEnv). */
  databaseEnv: Record<string, string>;
  adminToken: string;
  port: number;
  /** Where the service's output goes (its last lines are kept for error messages). */
  onLine?: (line: string) => void;
}

/**
 * The service as a child process (`node --import tsx server/main.ts`), on a fixed port so that
 * the clients' URL survives restarts. Signals go to its own pid, never through npm.
 */
export class ServiceProcess {
  private child: ChildProcess | undefined;
  private readonly recent: string[] = [];
  readonly origin: string;
  readonly url: string;
  starts = 0;
  /**
   * The posting engine's counters logged by each process that stopped cleanly (SIGTERM, or an exit
   * of its own); a SIGKILLed process logs none.
   */
  readonly countersLogged: PostingCounters[] = [];

  constructor(private readonly options: ServiceOptions) {
    this.origin = `http://127.0.0.1:${options.port}`;
    this.url = `${this.origin}/graphql`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  isRunning(): boolean {
    const child = this.child;
    return child !== undefined && child.exitCode === null && child.signalCode === null;
  }

  recentOutput(): string {
    return this.recent.join('\n');
  }

  /** How the last process ended ('code 1', 'signal SIGKILL'), for reports. */
  exitStatus(): string {
    const child = this.child;
    if (!child) return 'not started';
    if (child.exitCode !== null) return `code ${child.exitCode}`;
    return child.signalCode ? `signal ${child.signalCode}` : 'running';
  }

  /** Starts the process and waits until /readyz answers 200. Returns the milliseconds it took. */
  async start(readyTimeoutMs = 60_000): Promise<number> {
    if (this.isRunning()) throw new Error('the service is already running');
    const started = Date.now();
    const child = spawn(process.execPath, ['--import', 'tsx', path.join('server', 'main.ts')], {
      cwd: path.resolve(import.meta.dirname, '..', '..'),
      env: {
        ...process.env,
        ...this.options.databaseEnv,
        PORT: String(this.options.port),
        HOST: '127.0.0.1',
        // info, for the posting engine's counters logged at the stop (the access lines come with it).
        LOG_LEVEL: 'info',
        ADMIN_TOKEN: this.options.adminToken,
        // The workers send far more than a client normally would; the limit is not under test.
        RATE_LIMIT_PER_SECOND: '0',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    this.starts++;
    const onLine = (line: string) => {
      if (line.trim() === '') return;
      // One access line per request: not what an error message or --verbose needs.
      if (line.includes('"msg":"request"}')) return;
      const counters = postingCountersOf(line);
      if (counters) this.countersLogged.push(counters);
      this.recent.push(line);
      if (this.recent.length > 40) this.recent.shift();
      this.options.onLine?.(line);
    };
    // Whole lines only: a chunk may end inside a line (the rest comes with the next chunk).
    const lines = (stream: NodeJS.ReadableStream | null) => {
      let partial = '';
      stream?.setEncoding('utf8');
      stream?.on('data', (chunk: string) => {
        const parts = (partial + chunk).split('\n');
        partial = parts.pop() ?? '';
        for (const line of parts) onLine(line);
      });
      stream?.on('end', () => onLine(partial));
    };
    lines(child.stdout);
    lines(child.stderr);
    const deadline = Date.now() + readyTimeoutMs;
    while (true) {
      if (!this.isRunning()) {
        throw new Error(
          `the service exited while starting (${child.exitCode ?? child.signalCode}):\n${this.recentOutput()}`,
        );
      }
      if (Date.now() > deadline) {
        throw new Error(
          `the service was not ready within ${readyTimeoutMs / 1000} s:\n${this.recentOutput()}`,
        );
      }
      if ((await this.readyStatus()) === 200) return Date.now() - started;
      await sleep(50);
    }
  }

  /** HTTP status of /readyz, or 0 when nothing answers within a second. */
  async readyStatus(): Promise<number> {
    try {
      const response = await fetch(`${this.origin}/readyz`, { signal: AbortSignal.timeout(1_000) });
      await response.arrayBuffer();
      return response.status;
    } catch {
      return 0;
    }
  }

  signal(signal: NodeJS.Signals): void {
    if (this.isRunning() && this.child?.pid !== undefined) process.kill(this.child.pid, signal);
  }

  /** SIGKILL and wait for the exit. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || !this.isRunning()) return;
    const exited = once(child, 'exit');
    this.signal('SIGKILL');
    await exited;
  }

  /** SIGTERM (a paused process is resumed first), then SIGKILL after `graceMs`. Returns the exit. */
  async stop(graceMs = 20_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    const child = this.child;
    if (!child) return { code: null, signal: null };
    if (!this.isRunning()) return { code: child.exitCode, signal: child.signalCode };
    const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    // Its last lines (the posting engine's counters) may still be in the pipes at the exit.
    const closed = once(child, 'close');
    this.signal('SIGCONT');
    this.signal('SIGTERM');
    const result = await Promise.race([exited, sleep(graceMs, undefined, { ref: false })]);
    if (result) {
      await Promise.race([closed, sleep(2_000, undefined, { ref: false })]);
      return { code: result[0], signal: result[1] };
    }
    this.signal('SIGKILL');
    const [code, signal] = await exited;
    return { code, signal };
  }
}
