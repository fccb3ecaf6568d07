/**
 * Ledger throughput benchmark: the GraphQL API against plain interactive SQL on one PostgreSQL.
 * Run `npm run bench:ledger -- --help` for the options; the output is a table on stdout and
 * BENCHMARKS.md. Progress goes to stderr.
 *
 * Processes (so none of them steals the event loop of another):
 *   this orchestrator ── embedded PostgreSQL (or a fresh database on DATABASE_URL's server)
 *                    ├─ the service: as `npm start` runs it (DATABASE_URL = bench database)
 *                    ├─ scripts/bench/load-worker.ts: autocannon, one per API scenario
 *                    └─ scripts/bench/sql-worker.ts: 16 `pg` clients, one per SQL scenario
 *
 * The orchestrator samples the server's memory (/proc VmRSS every 200 ms, VmHWM per scenario),
 * the CPU of every process during each measured window, and checks after each scenario that the
 * number of entries in the database matches what the answers reported.
 */

import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { pino } from 'pino';
import { newTokenString } from '../server/auth/index.js';
import { type EmbeddedPostgres, startEmbeddedPostgres } from '../server/platform/db/embedded.js';
import {
  ActivitySampler,
  type ActivitySummary,
  type CheckpointCounters,
  type TableStats,
} from './bench/activity.js';
import { benchManifest, createBenchBook, loadWorkerConfig } from './bench/ledger-api.js';
import type { WorkerOutput } from './bench/load-worker.js';
import {
  clusterCpuSeconds,
  machineCpu,
  parentPid,
  processCpuSeconds,
  readMemory,
  resetPeakMemory,
} from './bench/proc.js';
import { RemoteProfiler } from './bench/profiler.js';
import type { SqlWorkerConfig, SqlWorkerOutput } from './bench/sql-worker.js';
import { median } from './bench/stats.js';
import { fmtInt, markdownTable } from './bench/table.js';
import { npmStartCommand } from './lib/bench-service.js';
import { commandLine, parseCommandLine, UsageError } from './lib/cli.js';
import { createDatabase, dropDatabase } from './lib/databases.js';
import { freePort } from './lib/ports.js';
import { writeReportSection } from './lib/report-section.js';

const repoRoot = path.resolve(fileURLToPath(new URL('..', import.meta.url)));

// ---------------------------------------------------------------------------------------------
// Options

/** `clients`: a fixed number of concurrent clients (else --connections). */
const SCENARIOS = {
  'single-spread': { label: 'API single entries, spread', kind: 'api', mode: 'single', hot: false },
  'single-hot': { label: 'API single entries, hot account', kind: 'api', mode: 'single', hot: true },
  'batch-spread': { label: 'API batches (INDEPENDENT), spread', kind: 'api', mode: 'batch', hot: false },
  'sql-spread': { label: 'plain SQL, spread', kind: 'sql', mode: 'single', hot: false },
  'sql-hot': { label: 'plain SQL, hot account', kind: 'sql', mode: 'single', hot: true },
  'single-spread-64': {
    label: 'API single entries, spread, 64 clients',
    kind: 'api',
    mode: 'single',
    hot: false,
    clients: 64,
  },
  'sql-spread-64': {
    label: 'plain SQL, spread, 64 clients',
    kind: 'sql',
    mode: 'single',
    hot: false,
    clients: 64,
  },
} as const;
const clientsOf = (id: ScenarioId, options: Options): number =>
  'clients' in SCENARIOS[id] ? (SCENARIOS[id] as { clients: number }).clients : options.connections;
type ScenarioId = keyof typeof SCENARIOS;
const SCENARIO_IDS = Object.keys(SCENARIOS) as ScenarioId[];
/**
 * The order a round runs the scenarios in: each API scenario right before the plain-SQL scenario
 * its ratio is taken against (reversed in even rounds). The tables keep SCENARIO_IDS' order.
 */
const RUN_ORDER: ScenarioId[] = [
  'single-spread',
  'sql-spread',
  'single-hot',
  'sql-hot',
  'batch-spread',
  'single-spread-64',
  'sql-spread-64',
];
const roundOrder = (scenarios: ScenarioId[], round: number): ScenarioId[] => {
  const order = RUN_ORDER.filter((id) => scenarios.includes(id));
  return round % 2 === 1 ? order : order.reverse();
};

const USAGE = `Ledger benchmark: GraphQL API vs plain interactive SQL on one PostgreSQL.

Usage: npm run bench:ledger -- [options]
       npx tsx scripts/bench-ledger.ts [options]

Starts a fresh embedded PostgreSQL (data under os.tmpdir(), deleted at the end) or, when
DATABASE_URL is set (or --database-url given), creates a fresh database on that server and drops
it at the end. Starts the service as a child process on that database, creates one book (USD,
scale 2) with --accounts accounts, then runs each scenario for --duration seconds after a
--warmup, with --connections concurrent clients, in --rounds rounds:

  single-spread  API postJournalEntry, two random accounts per entry
  single-hot     API postJournalEntry, one hot account on one side of every entry
  batch-spread   API postJournalEntries (INDEPENDENT), --batch-size entries per call, spread
  sql-spread     plain interactive SQL through pg (BEGIN, INSERT entry, one multi-row INSERT of
                 the two lines, two UPDATEs of balances in id order, COMMIT), spread
  sql-hot        the same, one hot account
  single-spread-64, sql-spread-64
                 single-spread and sql-spread with 64 clients (whatever --connections says)

Load comes from separate processes (autocannon for the API, pg clients for SQL). Prints a table
on stdout, progress on stderr, and writes BENCHMARKS.md.

Options:
  --duration <s>        measured seconds per scenario (default 10)
  --warmup <s>          warm-up seconds before each scenario, not counted (default 2)
  --service-warmup <s>  before the first round, load the service with single entries (spread) for
                        this long, not counted (default 10; 0: none), so that the first scenario
                        measures a running service rather than one just started (its code not yet
                        optimized: single entries cost about 0.48 ms of service CPU a request in a
                        first scenario of 10 s, 0.29-0.33 ms in the rounds after it)
  --rounds <n>          run the scenarios n times (default 3): each round runs every scenario,
                        each API scenario next to its plain-SQL pair (in reverse order in even
                        rounds, so neither side always runs first); each figure is reported as its
                        median over the rounds, and each ratio as the median of the rounds' ratios
                        (both sides measured within seconds of each other in the same round), so a
                        machine whose speed drifts between minutes moves both sides of a ratio
  --connections <n>     concurrent clients: autocannon connections / pg clients (default 16)
  --accounts <n>        accounts in the book and in the SQL baseline (default 10000)
  --batch-size <n>      entries per postJournalEntries call (default 500, at most 1000)
  --scenarios <list>    comma-separated subset of: ${SCENARIO_IDS.join(', ')} (default all)
  --output <file>       report file (default BENCHMARKS.md in the checkout)
  --no-write            print the table only, do not write the report
  --database-url <url>  use this PostgreSQL server instead of an embedded one (default: $DATABASE_URL)
  --keep-database       do not drop the bench database on --database-url's server
  --analyze             also run ANALYZE on the whole bench database halfway through each warm-up
                        (PostgreSQL then re-plans cached statements, foreign-key checks included,
                        for the current table sizes). Off by default: the bench sends no ANALYZE,
                        but the service's statistics keeper ANALYZEs the ledger tables after 1,000
                        entries and each time that count doubles, and autovacuum runs as usual.
  --db-pool-max <n>     DB_POOL_MAX for the service (default: the service's own default)
  --pg-setting <k=v>    extra setting for the embedded PostgreSQL (repeatable), e.g. synchronous_commit=off
  --cpu-prof <dir>      profile the service with V8's sampling profiler during each measured window
                        (through the inspector) and write <dir>/<scenario>.cpuprofile
                        (<scenario>.round<n>.cpuprofile with more than one round);
                        scripts/bench/profile-summary.ts sums one up
  --no-persisted        send the documents' text instead of their persisted ids (the default sends
                        {"documentId": ...}, as a client with persisted documents does; the service
                        gets the bench's documents as PERSISTED_DOCUMENTS_FILE either way)
  -h, --help            this text

Targets checked in the report (issue 12): API single entries >= 1.0 x plain SQL (spread, at
--connections clients) and >= 1.5 x plain SQL at 64 clients; hot >= 0.9 x spread; batches >= 8,000
entries/s; p99 < 25 ms at --connections clients; server peak RSS < 250 MB; service CPU per request
<= 0.35 ms for a single entry and <= 0.08 ms per entry in a batch (from /proc, in the window).
`;

interface Options {
  durationSeconds: number;
  warmupSeconds: number;
  serviceWarmupSeconds: number;
  rounds: number;
  connections: number;
  accounts: number;
  batchSize: number;
  scenarios: ScenarioId[];
  output: string | null;
  databaseUrl: string | undefined;
  keepDatabase: boolean;
  analyze: boolean;
  dbPoolMax: number | undefined;
  pgSettings: Record<string, string>;
  persisted: boolean;
  cpuProfDir: string | undefined;
}

function parseOptions(argv: string[]): Options | 'help' {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      duration: { type: 'string' },
      warmup: { type: 'string' },
      rounds: { type: 'string' },
      'service-warmup': { type: 'string' },
      connections: { type: 'string' },
      accounts: { type: 'string' },
      'batch-size': { type: 'string' },
      scenarios: { type: 'string' },
      output: { type: 'string' },
      'no-write': { type: 'boolean' },
      'database-url': { type: 'string' },
      'keep-database': { type: 'boolean' },
      analyze: { type: 'boolean' },
      'db-pool-max': { type: 'string' },
      'pg-setting': { type: 'string', multiple: true },
      'no-persisted': { type: 'boolean' },
      'cpu-prof': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return 'help';
  const number = (name: string, raw: string | undefined, fallback: number, min: number, max: number) => {
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!Number.isFinite(value) || value < min || value > max) {
      throw new UsageError(`--${name} must be a number between ${min} and ${max} (got ${raw})`);
    }
    return value;
  };
  const integer = (name: string, raw: string | undefined, fallback: number, min: number, max: number) => {
    const value = number(name, raw, fallback, min, max);
    if (!Number.isInteger(value)) throw new UsageError(`--${name} must be an integer (got ${raw})`);
    return value;
  };
  let scenarios = SCENARIO_IDS;
  if (values.scenarios !== undefined) {
    const chosen = values.scenarios
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    const unknown = chosen.filter((s) => !(s in SCENARIOS));
    if (unknown.length > 0 || chosen.length === 0) {
      throw new UsageError(
        `--scenarios: unknown ${unknown.join(', ') || '(empty)'}; choose from ${SCENARIO_IDS.join(', ')}`,
      );
    }
    scenarios = SCENARIO_IDS.filter((id) => chosen.includes(id));
  }
  const pgSettings: Record<string, string> = {};
  for (const item of values['pg-setting'] ?? []) {
    const match = /^([a-z_.]+)=(.+)$/i.exec(item);
    if (!match) throw new UsageError(`--pg-setting must look like name=value (got ${item})`);
    pgSettings[match[1]!] = match[2]!;
  }
  const databaseUrl = values['database-url'] ?? (process.env.DATABASE_URL?.trim() || undefined);
  if (databaseUrl !== undefined && Object.keys(pgSettings).length > 0) {
    throw new UsageError('--pg-setting applies to the embedded PostgreSQL only, not to DATABASE_URL');
  }
  return {
    durationSeconds: number('duration', values.duration, 10, 1, 3600),
    warmupSeconds: number('warmup', values.warmup, 2, 0, 600),
    rounds: integer('rounds', values.rounds, 3, 1, 50),
    serviceWarmupSeconds: number('service-warmup', values['service-warmup'], 10, 0, 600),
    connections: integer('connections', values.connections, 16, 1, 1000),
    accounts: integer('accounts', values.accounts, 10_000, 3, 1_000_000),
    batchSize: integer('batch-size', values['batch-size'], 500, 1, 1000),
    scenarios,
    output: values['no-write'] ? null : path.resolve(values.output ?? path.join(repoRoot, 'BENCHMARKS.md')),
    databaseUrl,
    keepDatabase: values['keep-database'] ?? false,
    analyze: values.analyze ?? false,
    dbPoolMax:
      values['db-pool-max'] === undefined
        ? undefined
        : integer('db-pool-max', values['db-pool-max'], 10, 1, 1000),
    pgSettings,
    persisted: !values['no-persisted'],
    cpuProfDir: values['cpu-prof'] === undefined ? undefined : path.resolve(values['cpu-prof']),
  };
}

// ---------------------------------------------------------------------------------------------
// Small helpers

const log = (message: string) => process.stderr.write(`[bench] ${message}\n`);

/** Calls `onLine` for every complete line of a stream. */
function eachLine(stream: NodeJS.ReadableStream | null, onLine: (line: string) => void): void {
  if (!stream) return;
  let partial = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) if (line.trim() !== '') onLine(line);
  });
  stream.on('end', () => {
    if (partial.trim() !== '') onLine(partial);
  });
}

const isRunning = (child: ChildProcess) => child.exitCode === null && child.signalCode === null;

/** SIGTERM, wait up to `graceMs`, then SIGKILL; resolves once the process has exited. */
async function stopChild(child: ChildProcess, graceMs: number, name: string): Promise<void> {
  if (!isRunning(child)) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timedOut = await Promise.race([exited.then(() => false), sleep(graceMs, true)]);
  if (timedOut && isRunning(child)) {
    log(`${name} (pid ${child.pid}) did not stop within ${graceMs / 1000} s of SIGTERM; sending SIGKILL`);
    child.kill('SIGKILL');
    await exited;
  }
}

const fmtMs = (value: number) => (Number.isFinite(value) ? value.toFixed(1) : '—');
const fmtRatio = (value: number | undefined) =>
  value !== undefined && Number.isFinite(value) ? value.toFixed(2) : '—';
const fmtPct = (value: number) => (Number.isFinite(value) ? `${Math.round(value)}%` : '—');

// ---------------------------------------------------------------------------------------------
// Database: embedded cluster, or a fresh database on an external server

interface BenchDatabase {
  url: string;
  description: string;
  /** Drops the database / stops the cluster. Idempotent. */
  close(): Promise<void>;
}

async function openDatabase(options: Options, tmpDir: string): Promise<BenchDatabase> {
  if (options.databaseUrl) {
    const name = `ledger_bench_${new Date().toISOString().replace(/\D/g, '').slice(0, 14)}_${process.pid}`;
    const url = new URL(await createDatabase(options.databaseUrl, name));
    log(`created database ${name} on ${url.host}`);
    let closed = false;
    return {
      url: url.toString(),
      description: `database ${name} on ${url.host} (DATABASE_URL), created for this run`,
      close: async () => {
        if (closed) return;
        closed = true;
        if (options.keepDatabase) {
          log(`kept database ${name} (--keep-database)`);
          return;
        }
        await dropDatabase(options.databaseUrl!, name);
        log(`dropped database ${name}`);
      },
    };
  }
  const dataDir = path.join(tmpDir, 'pgdata');
  const logger = pino(
    { level: 'warn', base: { component: 'bench' } },
    pino.destination({ dest: 2, sync: true }),
  );
  const started = performance.now();
  log(`starting an embedded PostgreSQL in ${dataDir}`);
  const cluster: EmbeddedPostgres = await startEmbeddedPostgres({
    dataDir,
    logger,
    database: 'ledger_bench',
    settings: options.pgSettings,
  });
  log(
    `embedded PostgreSQL ready on port ${cluster.port} in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
  let closed = false;
  return {
    url: cluster.url,
    description:
      `embedded PostgreSQL, fresh data folder under os.tmpdir() (${filesystemOf(cluster.dataDir)}), removed after the run, ` +
      `default settings${
        Object.keys(options.pgSettings).length > 0
          ? ` except ${Object.entries(options.pgSettings)
              .map(([k, v]) => `${k}=${v}`)
              .join(', ')}`
          : ''
      }`,
    close: async () => {
      if (closed) return;
      closed = true;
      await cluster.stop();
      // As root the launcher may have put the data elsewhere (a folder the postgres user can reach).
      if (path.resolve(cluster.dataDir) !== path.resolve(dataDir)) {
        await fs.rm(cluster.dataDir, { recursive: true, force: true });
      }
      log('embedded PostgreSQL stopped');
    },
  };
}

/** The file system type and device of a folder, e.g. "ext4 on /dev/vda". */
function filesystemOf(dir: string): string {
  const out = spawnSync('df', ['--output=fstype,source', dir], { encoding: 'utf8' });
  const [type, source] = (out.stdout ?? '').trim().split('\n')[1]?.trim().split(/\s+/) ?? [];
  return type ? `${type} on ${source}` : 'file system unknown';
}

interface DatabaseFacts {
  version: string;
  settings: Record<string, string>;
  postmasterPid: number | undefined;
}

async function databaseFacts(client: pg.Client): Promise<DatabaseFacts> {
  const version = (await client.query<{ v: string }>('select version() as v')).rows[0]?.v ?? 'unknown';
  const names = [
    'server_version',
    'fsync',
    'synchronous_commit',
    'shared_buffers',
    'max_connections',
    'wal_level',
  ];
  const settings: Record<string, string> = {};
  for (const name of names) {
    settings[name] =
      (await client.query<{ s: string }>(`select current_setting($1) as s`, [name])).rows[0]?.s ?? '?';
  }
  const backend = (await client.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]?.pid;
  // The backend's parent is the postmaster (when PostgreSQL runs on this machine).
  const postmasterPid = backend !== undefined ? parentPid(backend) : undefined;
  return { version, settings, postmasterPid };
}

// ---------------------------------------------------------------------------------------------
// The service under test

interface Server {
  child: ChildProcess;
  pid: number;
  origin: string;
  /** The ADMIN token the service was started with (ADMIN_TOKEN); every request sends it. */
  token: string;
  recentOutput: string[];
  /** With --cpu-prof: the service's profiler, run during each measured window. */
  profiler: RemoteProfiler | undefined;
}

async function startServer(databaseUrl: string, options: Options, tmpDir: string): Promise<Server> {
  // main.ts logs its port only at level info; at warn we must choose the port ourselves.
  const port = await freePort();
  // A fresh ADMIN token for this run: the service registers it at start, the bench sends it.
  const token = newTokenString();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATABASE_URL: databaseUrl,
    PORT: String(port),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    ADMIN_TOKEN: token,
    // The per-token rate limit would cap the load at its own figure: off for the bench.
    RATE_LIMIT_PER_SECOND: '0',
  };
  if (options.dbPoolMax !== undefined) env.DB_POOL_MAX = String(options.dbPoolMax);
  // The bench's documents, persisted: the service answers them by id (and by text).
  const manifestFile = path.join(tmpDir, 'persisted-documents.json');
  await fs.writeFile(manifestFile, JSON.stringify(benchManifest()));
  env.PERSISTED_DOCUMENTS_FILE = manifestFile;
  // The same command `npm start` runs (build, then node with the flags in package.json), so the
  // figures are those of the service as users start it.
  const command = npmStartCommand(log);
  const inspectPort = options.cpuProfDir ? await freePort() : undefined;
  const nodeArgs = inspectPort ? [`--inspect=127.0.0.1:${inspectPort}`, ...command.args] : command.args;
  const child = spawn(process.execPath, nodeArgs, {
    cwd: repoRoot,
    env: { ...env, ...command.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) throw new Error('could not start the service process');
  const recentOutput: string[] = [];
  const onLine = (line: string) => {
    recentOutput.push(line);
    if (recentOutput.length > 40) recentOutput.shift();
    process.stderr.write(`[server] ${line}\n`);
  };
  eachLine(child.stdout, onLine);
  eachLine(child.stderr, onLine);
  const server: Server = {
    child,
    pid: child.pid,
    origin: `http://127.0.0.1:${port}`,
    token,
    recentOutput,
    profiler: inspectPort ? new RemoteProfiler(inspectPort) : undefined,
  };
  activeChildren.add(child);
  child.on('exit', () => activeChildren.delete(child));

  const started = performance.now();
  const deadline = Date.now() + 90_000;
  while (true) {
    if (!isRunning(child)) {
      throw new Error(
        `the service exited while starting (code ${child.exitCode ?? child.signalCode}):\n${recentOutput.join('\n')}`,
      );
    }
    if (Date.now() > deadline)
      throw new Error(`the service was not ready within 90 s:\n${recentOutput.join('\n')}`);
    try {
      const response = await fetch(`${server.origin}/readyz`, { signal: AbortSignal.timeout(3000) });
      await response.arrayBuffer();
      if (response.status === 200) break;
    } catch {
      // Not listening yet.
    }
    await sleep(100);
  }
  log(
    `service ready at ${server.origin}/graphql (pid ${server.pid}) in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
  return server;
}

interface Book {
  bookId: string;
  accountIds: string[];
}

// ---------------------------------------------------------------------------------------------
// Measuring a scenario

interface CpuSnapshot {
  at: number;
  server: number | undefined;
  postgres: number | undefined;
  worker: number | undefined;
  self: number;
  machine: ReturnType<typeof machineCpu>;
}

/** CPU use in a window, each as % of one core (100% = one core busy the whole window). */
interface CpuShare {
  server: number;
  postgres: number;
  loadGenerator: number;
  orchestrator: number;
  /** Busy CPU of everything else on the machine (other engineers' tests, the OS). */
  other: number;
  idle: number;
}

function cpuSnapshot(
  serverPid: number,
  postmasterPid: number | undefined,
  workerPid: number | undefined,
): CpuSnapshot {
  const self = process.cpuUsage();
  return {
    at: performance.now(),
    server: processCpuSeconds(serverPid),
    postgres: postmasterPid !== undefined ? clusterCpuSeconds(postmasterPid) : undefined,
    worker: workerPid !== undefined ? processCpuSeconds(workerPid) : undefined,
    self: (self.user + self.system) / 1e6,
    machine: machineCpu(),
  };
}

function cpuShare(a: CpuSnapshot, b: CpuSnapshot, workerCpuSeconds: number | undefined): CpuShare {
  const seconds = (b.at - a.at) / 1000;
  const pct = (x: number | undefined, y: number | undefined) =>
    x !== undefined && y !== undefined ? ((y - x) / seconds) * 100 : Number.NaN;
  const server = pct(a.server, b.server);
  const postgres = pct(a.postgres, b.postgres);
  // The worker may exit before the last snapshot: fall back on its own report.
  let loadGenerator = pct(a.worker, b.worker);
  if (!Number.isFinite(loadGenerator) && workerCpuSeconds !== undefined)
    loadGenerator = (workerCpuSeconds / seconds) * 100;
  const orchestrator = pct(a.self, b.self);
  const busy = pct(a.machine?.busySeconds, b.machine?.busySeconds);
  const idle = pct(a.machine?.idleSeconds, b.machine?.idleSeconds);
  const known = [server, postgres, loadGenerator, orchestrator]
    .filter(Number.isFinite)
    .reduce((s, v) => s + v, 0);
  return { server, postgres, loadGenerator, orchestrator, other: Math.max(0, busy - known), idle };
}

/** Samples the server's VmRSS every 200 ms; `window()` starts a new per-scenario maximum. */
class MemorySampler {
  private timer: NodeJS.Timeout;
  windowMaxKb = 0;
  overallMaxKb = 0;
  peakResettable = false;

  constructor(private readonly pid: number) {
    const first = readMemory(pid);
    if (first) this.overallMaxKb = first.hwmKb; // peak since the service started (start-up, setup)
    this.timer = setInterval(() => this.sample(), 200);
    this.timer.unref();
  }

  private sample(): void {
    const memory = readMemory(this.pid);
    if (!memory) return;
    this.windowMaxKb = Math.max(this.windowMaxKb, memory.rssKb);
    this.overallMaxKb = Math.max(this.overallMaxKb, memory.rssKb, memory.hwmKb);
  }

  /** Starts a window: the peak (VmHWM) is reset to the current RSS when the kernel allows it. */
  startWindow(): void {
    const before = readMemory(this.pid);
    if (before) this.overallMaxKb = Math.max(this.overallMaxKb, before.hwmKb);
    this.peakResettable = resetPeakMemory(this.pid);
    this.windowMaxKb = 0;
    this.sample();
  }

  /** Peak RSS of the window: VmHWM (exact) or the highest 200 ms sample, whichever is higher. */
  endWindow(): number {
    this.sample();
    const memory = readMemory(this.pid);
    const hwm = memory && this.peakResettable ? memory.hwmKb : 0;
    return Math.max(this.windowMaxKb, hwm);
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

interface ScenarioResult {
  id: ScenarioId;
  entriesPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** Server peak RSS in the scenario, MiB (API scenarios only). */
  serverPeakMb: number | undefined;
  cpu: CpuShare;
  /**
   * CPU of the service and of PostgreSQL per answered request and per entry posted in the window,
   * in ms (CPU seconds in the window from /proc, divided by the answers completed in it).
   */
  cpuMs: { serverPerRequest: number; serverPerEntry: number; postgresPerEntry: number };
  okRequests: number;
  failedRequests: number;
  transportErrors: number;
  problems: Record<string, number>;
  /** Human-readable verdict of the database check: entries counted in the database during the scenario vs what the answers reported. */
  check: string;
  checkPassed: boolean;
  /** What the database sessions were doing during the measured window. */
  activity: ActivitySummary;
  /** Sequential scans in the measured window, from pg_stat_user_tables (backends report about once a second). */
  seqScans: string;
  /** What the checkpointer wrote in the measured window, and the full-page images in WAL (null: unknown). */
  checkpoint: CheckpointCounters | null;
}

interface Measured {
  cpu: [CpuSnapshot, CpuSnapshot];
  activity: ActivitySummary;
  /** The scans that read the most rows in the window, from pg_stat_user_tables/indexes. */
  seqScans: string;
  checkpoint: CheckpointCounters | null;
}

interface RunningWorker {
  child: ChildProcess;
  stdout: Promise<string>;
  exit: Promise<number | null>;
  /** CPU and database activity over the measured window (between the worker's markers). */
  measured: Promise<Measured>;
}

/**
 * Starts a worker script; at its `@phase main` marker snapshots CPU and starts sampling database
 * activity, at `@phase done` takes the second snapshot and stops sampling.
 */
function startWorker(script: string, configFile: string, ctx: Context): RunningWorker {
  const serverPid = ctx.server.pid;
  const { postmasterPid, activity } = ctx;
  const child = spawn(process.execPath, ['--import', 'tsx', script, configFile], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  activeChildren.add(child);
  child.on('exit', () => activeChildren.delete(child));
  const name = path.basename(script, '.ts');
  let stdout = '';
  child.stdout?.setEncoding('utf8');
  child.stdout?.on('data', (chunk: string) => {
    stdout += chunk;
  });
  let mainSnapshot: CpuSnapshot | undefined;
  let analyzed: Promise<void> = Promise.resolve();
  let statsBefore: Promise<TableStats> = Promise.resolve(new Map());
  let checkpointBefore: Promise<CheckpointCounters | null> = Promise.resolve(null);
  let resolveMeasured!: (measured: Measured) => void;
  const measured = new Promise<Measured>((resolve) => {
    resolveMeasured = resolve;
  });
  eachLine(child.stderr, (line) => {
    if (line === '@phase main') {
      if (ctx.options.cpuProfDir && script.includes('load-worker')) void ctx.server.profiler?.start();
      mainSnapshot = cpuSnapshot(serverPid, postmasterPid, child.pid);
      statsBefore = activity.tableStats();
      checkpointBefore = activity.checkpointCounters();
      activity.start();
      log(`${name}: measuring`);
    } else if (line === '@phase done') {
      const end = cpuSnapshot(serverPid, postmasterPid, child.pid);
      if (ctx.server.profiler && ctx.options.cpuProfDir && script.includes('load-worker')) {
        const file = path.join(ctx.options.cpuProfDir, `${path.basename(configFile, '.json')}.cpuprofile`);
        void fs
          .mkdir(ctx.options.cpuProfDir, { recursive: true })
          .then(() => ctx.server.profiler!.stop(file))
          .then(() => log(`wrote ${file}`));
      }
      const summary = activity.stop();
      const statsAfter = activity.tableStats();
      const checkpointAfter = activity.checkpointCounters();
      void Promise.all([statsBefore, statsAfter, checkpointBefore, checkpointAfter]).then(
        ([before, after, cpBefore, cpAfter]) =>
          resolveMeasured({
            cpu: [mainSnapshot ?? end, end],
            activity: summary,
            seqScans: seqScanSummary(before, after),
            checkpoint:
              cpBefore && cpAfter
                ? {
                    buffers: cpAfter.buffers - cpBefore.buffers,
                    fullPageImages: cpAfter.fullPageImages - cpBefore.fullPageImages,
                  }
                : null,
          }),
      );
    } else if (line === '@phase warmup') {
      log(`${name}: warming up`);
      if (ctx.options.analyze) analyzed = analyzeLater(ctx, (ctx.options.warmupSeconds * 1000) / 2);
    } else process.stderr.write(`[${name}] ${line}\n`);
  });
  const exit = new Promise<number | null>((resolve) => {
    child.on('exit', (code) => resolve(code));
    child.on('error', () => resolve(-1));
  });
  const stdoutDone = new Promise<string>((resolve) => {
    if (!child.stdout) return resolve('');
    child.stdout.on('end', () => resolve(stdout));
  });
  // The ANALYZE (if any) finishes before the caller reads counts on the same connection.
  const stdoutAfterAnalyze = stdoutDone.then(async (text) => {
    await analyzed;
    return text;
  });
  return { child, stdout: stdoutAfterAnalyze, exit, measured };
}

/** `--analyze`: ANALYZE the whole bench database after `delayMs` (halfway through the warm-up). */
async function analyzeLater(ctx: Context, delayMs: number): Promise<void> {
  await sleep(delayMs);
  const started = performance.now();
  try {
    await ctx.verifier.query('analyze');
    log(`ANALYZE took ${Math.round(performance.now() - started)} ms`);
  } catch (error) {
    log(`ANALYZE failed: ${(error as Error).message}`);
  }
}

/**
 * Makes this session report its table statistics now (PostgreSQL 15+), so the counting scans of
 * the orchestrator show up before the next measured window instead of inside it.
 */
async function flushOwnStats(client: pg.Client): Promise<void> {
  await client.query('select pg_stat_force_next_flush()').catch(() => {});
}

async function countRows(client: pg.Client, table: string): Promise<number> {
  const exists = await client.query<{ t: string | null }>('select to_regclass($1)::text as t', [table]);
  if (!exists.rows[0]?.t) return 0;
  const { rows } = await client.query<{ n: string }>(`select count(*) as n from ${table}`);
  return Number(rows[0]?.n ?? 0);
}

/**
 * Waits until the service has finished the requests still in flight when the load stopped (the
 * server keeps processing a request whose client went away): the row count stops moving, no
 * database session of this database is busy, and the service process is nearly idle, twice in a
 * row 500 ms apart. Returns the final count.
 */
async function waitForQuiet(client: pg.Client, table: string, serverPid: number): Promise<number> {
  const started = Date.now();
  let last = await countRows(client, table);
  let lastCpu = processCpuSeconds(serverPid) ?? 0;
  let quietPolls = 0;
  while (Date.now() - started < 120_000) {
    await sleep(500);
    const count = await countRows(client, table);
    const busy = await client.query<{ n: string }>(
      `select count(*) as n from pg_stat_activity
        where datname = current_database() and pid <> pg_backend_pid() and state is not null and state <> 'idle'`,
    );
    const cpu = processCpuSeconds(serverPid) ?? 0;
    const quiet = count === last && Number(busy.rows[0]?.n) === 0 && cpu - lastCpu < 0.05;
    quietPolls = quiet ? quietPolls + 1 : 0;
    last = count;
    lastCpu = cpu;
    if (quietPolls >= 2) break;
  }
  const waited = (Date.now() - started) / 1000;
  if (waited > 2) log(`waited ${waited.toFixed(1)} s for the service to finish requests left in flight`);
  await flushOwnStats(client);
  return last;
}

/** The tables and indexes that read the most rows between two snapshots, e.g. "journal_entry: 120 scans, 1,200,000 rows". */
function seqScanSummary(before: TableStats, after: TableStats): string {
  const rows = [...after.entries()]
    .map(([name, a]) => {
      const b = before.get(name) ?? { scans: 0, tuples: 0 };
      return { name, scans: a.scans - b.scans, tuples: a.tuples - b.tuples };
    })
    .filter((t) => t.tuples > 0)
    .sort((x, y) => y.tuples - x.tuples)
    .slice(0, 3);
  if (rows.length === 0) return 'no rows read by scans';
  return rows
    .map(
      (t) =>
        `${t.name}: ${fmtInt(t.scans)} scans read ${fmtInt(t.tuples)} rows (${fmtInt(t.tuples / Math.max(1, t.scans))} per scan)`,
    )
    .join('; ');
}

interface Context {
  options: Options;
  tmpDir: string;
  server: Server;
  verifier: pg.Client;
  databaseUrl: string;
  postmasterPid: number | undefined;
  memory: MemorySampler;
  activity: ActivitySampler;
  book: Book | undefined;
  runId: string;
}

/** A scenario's name in one round (0: the service's warm-up): its config file, profile and idempotency keys. */
const runName = (ctx: Context, id: ScenarioId, round: number) =>
  round === 0 ? `${id}.service-warmup` : ctx.options.rounds > 1 ? `${id}.round${round}` : id;

async function runApiScenario(ctx: Context, id: ScenarioId, round: number): Promise<ScenarioResult> {
  const scenario = SCENARIOS[id];
  const { options, book } = ctx;
  if (!book) throw new Error('no book');
  const config = loadWorkerConfig({
    url: `${ctx.server.origin}/graphql`,
    token: ctx.server.token,
    book,
    hot: scenario.hot,
    mode: scenario.mode,
    batchSize: options.batchSize,
    connections: clientsOf(id, options),
    durationSeconds: options.durationSeconds,
    warmupSeconds: options.warmupSeconds,
    keyPrefix: `${ctx.runId}.${runName(ctx, id, round)}`,
    persisted: options.persisted,
  });
  const configFile = path.join(ctx.tmpDir, `${runName(ctx, id, round)}.json`);
  // It holds the ADMIN token: readable by this user only.
  await fs.writeFile(configFile, JSON.stringify(config), { mode: 0o600 });

  const before = await countRows(ctx.verifier, 'journal_entry');
  await flushOwnStats(ctx.verifier);
  ctx.memory.startWindow();
  const worker = startWorker(path.join('scripts', 'bench', 'load-worker.ts'), configFile, ctx);
  const [code, stdout] = await Promise.all([worker.exit, worker.stdout]);
  if (code !== 0) throw new Error(`load worker for ${id} exited with code ${code}`);
  const output = JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as WorkerOutput;
  const {
    cpu: [cpuA, cpuB],
    activity,
    seqScans,
    checkpoint,
  } = await worker.measured;
  const after = await waitForQuiet(ctx.verifier, 'journal_entry', ctx.server.pid);

  // After the quiet wait: the peak includes requests the server finished after the load stopped.
  const serverPeakKb = ctx.memory.endWindow();

  const { window, total } = output;
  const perRequest = scenario.mode === 'batch' ? options.batchSize : 1;
  const reported = total.postedEntries;
  const dbEntries = after - before;
  // Requests in flight when autocannon stops are never answered to it but may still be committed
  // by the server: at most one request per connection.
  const tolerance = clientsOf(id, options) * perRequest;
  const difference = dbEntries - reported;
  const checkPassed = difference >= 0 && difference <= tolerance;
  const check = checkPassed
    ? `ok: ${fmtInt(dbEntries)} new entries in the database, ${fmtInt(reported)} reported posted by the answers ` +
      `(+${difference} from requests unanswered when the load stopped; at most ${tolerance})`
    : `MISMATCH: ${fmtInt(dbEntries)} new entries in the database but ${fmtInt(reported)} reported posted ` +
      `(difference ${difference}, expected 0..${tolerance})`;
  const cpu = cpuShare(cpuA, cpuB, window.cpuSeconds);
  const windowSeconds = (cpuB.at - cpuA.at) / 1000;
  const answered = window.okRequests + window.failedRequests;
  const entries = window.okEntries;
  return {
    id,
    entriesPerSecond: window.okEntries / window.seconds,
    p50Ms: window.latencyMs.p50,
    p99Ms: window.latencyMs.p99,
    serverPeakMb: serverPeakKb / 1024,
    cpu,
    cpuMs: {
      serverPerRequest: (cpu.server * windowSeconds * 10) / answered,
      serverPerEntry: (cpu.server * windowSeconds * 10) / entries,
      postgresPerEntry: (cpu.postgres * windowSeconds * 10) / entries,
    },
    okRequests: window.okRequests,
    failedRequests: window.failedRequests,
    transportErrors: window.transportErrors,
    problems: window.problems,
    check,
    checkPassed,
    activity,
    seqScans,
    checkpoint,
  };
}

async function runSqlScenario(ctx: Context, id: ScenarioId, round: number): Promise<ScenarioResult> {
  const scenario = SCENARIOS[id];
  const { options } = ctx;
  const config: SqlWorkerConfig = {
    databaseUrl: ctx.databaseUrl,
    accounts: options.accounts,
    clients: clientsOf(id, options),
    durationSeconds: options.durationSeconds,
    warmupSeconds: options.warmupSeconds,
    hot: scenario.hot,
  };
  const configFile = path.join(ctx.tmpDir, `${runName(ctx, id, round)}.json`);
  await fs.writeFile(configFile, JSON.stringify(config));
  // The worker creates the tables and accounts the first time (before the warm-up).
  const before = await countRows(ctx.verifier, 'bench_sql_entry');
  await flushOwnStats(ctx.verifier);
  const worker = startWorker(path.join('scripts', 'bench', 'sql-worker.ts'), configFile, ctx);
  const [code, stdout] = await Promise.all([worker.exit, worker.stdout]);
  if (code !== 0) throw new Error(`sql worker for ${id} exited with code ${code}`);
  const output = JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as SqlWorkerOutput;
  const {
    cpu: [cpuA, cpuB],
    activity,
    seqScans,
    checkpoint,
  } = await worker.measured;
  const after = await countRows(ctx.verifier, 'bench_sql_entry');

  const balance = await ctx.verifier.query<{ s: string }>(
    'select coalesce(sum(balance), 0)::text as s from bench_sql_account',
  );
  const balanced = Number(balance.rows[0]?.s) === 0;
  await flushOwnStats(ctx.verifier);
  const dbEntries = after - before;
  const checkPassed = dbEntries === output.committedTotal && balanced;
  const errorCount = Object.values(output.errors).reduce((s, n) => s + n, 0);
  const check =
    `${checkPassed ? 'ok' : 'MISMATCH'}: ${fmtInt(dbEntries)} new rows in bench_sql_entry, ${fmtInt(output.committedTotal)} commits reported; ` +
    `sum of balances ${balance.rows[0]?.s}`;
  const cpu = cpuShare(cpuA, cpuB, output.cpuSeconds);
  const windowSeconds = (cpuB.at - cpuA.at) / 1000;
  return {
    id,
    entriesPerSecond: output.entriesPerSecond,
    p50Ms: output.latencyMs.p50,
    p99Ms: output.latencyMs.p99,
    serverPeakMb: undefined,
    cpu,
    cpuMs: {
      serverPerRequest: Number.NaN,
      serverPerEntry: Number.NaN,
      postgresPerEntry: (cpu.postgres * windowSeconds * 10) / output.committed,
    },
    okRequests: output.committed,
    failedRequests: errorCount,
    transportErrors: 0,
    problems: Object.fromEntries(Object.entries(output.errors).map(([k, v]) => [`SQLSTATE ${k}`, v])),
    check,
    checkPassed,
    activity,
    seqScans,
    checkpoint,
  };
}

/** Debits equal credits over the book, and every entry has its two lines. */
async function checkLedger(client: pg.Client): Promise<string> {
  const totals = await client.query<{ d: string; c: string }>(
    'select coalesce(sum(posted_debits), 0)::text as d, coalesce(sum(posted_credits), 0)::text as c from account',
  );
  const counts = await client.query<{ e: string; l: string }>(
    'select (select count(*) from journal_entry)::text as e, (select count(*) from journal_line)::text as l',
  );
  const { d, c } = totals.rows[0]!;
  const { e, l } = counts.rows[0]!;
  const ok = d === c && Number(l) === 2 * Number(e);
  return `${ok ? 'ok' : 'PROBLEM'}: ${fmtInt(Number(e))} entries, ${fmtInt(Number(l))} lines, posted debits ${d} = credits ${c}`;
}

// ---------------------------------------------------------------------------------------------
// Report

interface Target {
  name: string;
  value: string;
  met: boolean | undefined;
}

/** Scenario a's entries/s ÷ scenario b's: the median of the rounds' ratios; undefined if either is missing. */
type Ratio = (a: ScenarioId, b: ScenarioId) => number | undefined;

/**
 * The ratio of two scenarios taken round by round (both measured within seconds of each other),
 * then the median over the rounds: a machine whose speed drifts between minutes moves both sides.
 */
function pairedRatio(perRound: Map<ScenarioId, ScenarioResult[]>): Ratio {
  return (a, b) => {
    const each = roundRatios(perRound, a, b);
    return each && median(each);
  };
}

/** Scenario a's entries/s ÷ scenario b's in each round; undefined if either was not run. */
function roundRatios(perRound: Map<ScenarioId, ScenarioResult[]>, a: ScenarioId, b: ScenarioId) {
  const x = perRound.get(a);
  const y = perRound.get(b);
  return x && y ? x.map((r, i) => r.entriesPerSecond / (y[i]?.entriesPerSecond ?? Number.NaN)) : undefined;
}

/**
 * One scenario over its rounds: each figure's median (throughput, latency, CPU), the highest peak
 * RSS, every failure, and every round's database check (it passes only if all passed). The
 * database activity is that of the round whose throughput is the median (the lower of the two
 * middle ones for an even count).
 */
function combineRounds(rounds: ScenarioResult[]): ScenarioResult {
  const middle = [...rounds].sort((a, b) => a.entriesPerSecond - b.entriesPerSecond)[
    (rounds.length - 1) >> 1
  ]!;
  if (rounds.length === 1) return middle;
  const of = (pick: (r: ScenarioResult) => number) => median(rounds.map(pick));
  const peaks = rounds.flatMap((r) => (r.serverPeakMb === undefined ? [] : [r.serverPeakMb]));
  const problems: Record<string, number> = {};
  for (const r of rounds)
    for (const [what, n] of Object.entries(r.problems)) problems[what] = (problems[what] ?? 0) + n;
  return {
    ...middle,
    entriesPerSecond: of((r) => r.entriesPerSecond),
    p50Ms: of((r) => r.p50Ms),
    p99Ms: of((r) => r.p99Ms),
    serverPeakMb: peaks.length > 0 ? Math.max(...peaks) : undefined,
    cpu: {
      server: of((r) => r.cpu.server),
      postgres: of((r) => r.cpu.postgres),
      loadGenerator: of((r) => r.cpu.loadGenerator),
      orchestrator: of((r) => r.cpu.orchestrator),
      other: of((r) => r.cpu.other),
      idle: of((r) => r.cpu.idle),
    },
    cpuMs: {
      serverPerRequest: of((r) => r.cpuMs.serverPerRequest),
      serverPerEntry: of((r) => r.cpuMs.serverPerEntry),
      postgresPerEntry: of((r) => r.cpuMs.postgresPerEntry),
    },
    okRequests: rounds.reduce((sum, r) => sum + r.okRequests, 0),
    failedRequests: rounds.reduce((sum, r) => sum + r.failedRequests, 0),
    transportErrors: rounds.reduce((sum, r) => sum + r.transportErrors, 0),
    problems,
    check: rounds.map((r, i) => `round ${i + 1}: ${r.check}`).join('; '),
    checkPassed: rounds.every((r) => r.checkPassed),
  };
}

function targets(
  results: Map<ScenarioId, ScenarioResult>,
  ratio: Ratio,
  overallPeakMb: number | undefined,
  connections: number,
): Target[] {
  const get = (id: ScenarioId) => results.get(id);
  const list: Target[] = [];
  const ratioTarget = (name: string, a: ScenarioId, b: ScenarioId, min: number) => {
    const value = ratio(a, b);
    list.push({
      name,
      value: value === undefined ? 'not measured' : `${value.toFixed(2)} x`,
      met: value === undefined ? undefined : value >= min,
    });
  };
  ratioTarget(
    `API single entries >= 1.0 x plain SQL (spread, ${connections} clients)`,
    'single-spread',
    'sql-spread',
    1.0,
  );
  ratioTarget(
    'API single entries >= 1.5 x plain SQL (spread, 64 clients)',
    'single-spread-64',
    'sql-spread-64',
    1.5,
  );
  ratioTarget('API single entries, hot >= 0.9 x spread', 'single-hot', 'single-spread', 0.9);
  const batch = get('batch-spread');
  list.push({
    name: 'API batches >= 8,000 entries/s',
    value: batch ? `${fmtInt(batch.entriesPerSecond)} entries/s` : 'not measured',
    met: batch ? batch.entriesPerSecond >= 8000 : undefined,
  });
  for (const id of ['single-spread', 'single-hot'] as const) {
    const r = get(id);
    list.push({
      name: `p99 < 25 ms at ${connections} clients (${id})`,
      value: r ? `${fmtMs(r.p99Ms)} ms` : 'not measured',
      met: r ? r.p99Ms < 25 : undefined,
    });
  }
  list.push({
    name: 'server peak RSS < 250 MB',
    value: overallPeakMb === undefined ? 'not measured' : `${Math.round(overallPeakMb)} MB`,
    met: overallPeakMb === undefined ? undefined : overallPeakMb < 250,
  });
  for (const id of ['single-spread', 'single-hot', 'single-spread-64'] as const) {
    const r = get(id);
    const value = r?.cpuMs.serverPerRequest;
    list.push({
      name: `service CPU per request <= 0.35 ms (${id})`,
      value: value !== undefined && Number.isFinite(value) ? `${value.toFixed(3)} ms` : 'not measured',
      met: value !== undefined && Number.isFinite(value) ? value <= 0.35 : undefined,
    });
  }
  const perEntry = batch?.cpuMs.serverPerEntry;
  list.push({
    name: 'service CPU per entry in a batch <= 0.08 ms',
    value: perEntry !== undefined && Number.isFinite(perEntry) ? `${perEntry.toFixed(3)} ms` : 'not measured',
    met: perEntry !== undefined && Number.isFinite(perEntry) ? perEntry <= 0.08 : undefined,
  });
  return list;
}

function ratios(ratio: Ratio, id: ScenarioId): { apiSql?: number; hotSpread?: number } {
  switch (id) {
    case 'single-spread':
      return { apiSql: ratio('single-spread', 'sql-spread') };
    case 'single-hot':
      return { apiSql: ratio('single-hot', 'sql-hot'), hotSpread: ratio('single-hot', 'single-spread') };
    case 'sql-hot':
      return { hotSpread: ratio('sql-hot', 'sql-spread') };
    case 'single-spread-64':
      return { apiSql: ratio('single-spread-64', 'sql-spread-64') };
    default:
      return {};
  }
}

function resultsTable(results: Map<ScenarioId, ScenarioResult>, ratio: Ratio, batchSize: number): string {
  const rows = [...results.values()].map((r) => {
    const { apiSql, hotSpread } = ratios(ratio, r.id);
    const label =
      r.id === 'batch-spread' ? `${SCENARIOS[r.id].label}, ${batchSize}/call` : SCENARIOS[r.id].label;
    return [
      label,
      fmtInt(r.entriesPerSecond),
      fmtMs(r.p50Ms),
      fmtMs(r.p99Ms),
      r.serverPeakMb === undefined ? '—' : fmtInt(r.serverPeakMb),
      fmtRatio(apiSql),
      fmtRatio(hotSpread),
    ];
  });
  return markdownTable(
    ['scenario', 'entries/s', 'p50 ms', 'p99 ms', 'server peak RSS MB', 'ratio API/SQL', 'hot/spread'],
    rows,
  );
}

/**
 * Each round's entries/s per scenario and its ratios; the last row, the medians reported (each
 * scenario's combined result, and the ratios' medians).
 */
function roundsTable(
  perRound: Map<ScenarioId, ScenarioResult[]>,
  results: Map<ScenarioId, ScenarioResult>,
  rounds: number,
): string {
  const ids = SCENARIO_IDS.filter((id) => perRound.has(id));
  const pairs = (
    [
      ['API/SQL spread', 'single-spread', 'sql-spread'],
      ['API/SQL 64 clients', 'single-spread-64', 'sql-spread-64'],
      ['hot/spread', 'single-hot', 'single-spread'],
    ] as const
  ).flatMap(([name, a, b]) => {
    const each = roundRatios(perRound, a, b);
    return each ? [{ name, each }] : [];
  });
  const during = (result: ScenarioResult | undefined) => (result?.checkpoint?.buffers ?? 0) > 0;
  const cell = (result: ScenarioResult | undefined) =>
    `${fmtInt(result?.entriesPerSecond ?? Number.NaN)}${during(result) ? ' †' : ''}`;
  const rows = Array.from({ length: rounds }, (_, round) => [
    `${round + 1}`,
    ...ids.map((id) => cell(perRound.get(id)?.[round])),
    ...pairs.map(({ each }) => fmtRatio(each[round])),
  ]);
  rows.push([
    '**median**',
    ...ids.map((id) => fmtInt(results.get(id)?.entriesPerSecond ?? Number.NaN)),
    ...pairs.map(({ each }) => fmtRatio(median(each))),
  ]);
  const table = markdownTable(['round', ...ids, ...pairs.map(({ name }) => name)], rows);
  const marked = ids.some((id) => perRound.get(id)?.some(during));
  return marked ? `${table}\n\n${CHECKPOINT_FOOTNOTE}` : table;
}

/** What a † in the rounds table means. */
const CHECKPOINT_FOOTNOTE = `† PostgreSQL's checkpointer wrote buffers during that measured window (counted over the whole
cluster): a checkpoint was under way, whose writes compete with the WAL flushes of commits, and
each page first changed after it began goes into WAL whole (full-page images).`;

/** The checkpointer's writes and WAL's full-page images in a measured window, for the progress log. */
function checkpointNote(checkpoint: CheckpointCounters | null): string {
  if (checkpoint === null)
    return 'checkpoints: not known (no pg_stat_checkpointer or pg_stat_bgwriter, or no pg_stat_wal)';
  return checkpoint.buffers > 0
    ? `a checkpoint was under way: the checkpointer wrote ${fmtInt(checkpoint.buffers)} buffers and WAL took ${fmtInt(checkpoint.fullPageImages)} full-page images in the window (whole cluster)`
    : `no checkpoint writes in the window; WAL took ${fmtInt(checkpoint.fullPageImages)} full-page images (whole cluster)`;
}

const fmtCpuMs = (value: number) => (Number.isFinite(value) ? value.toFixed(3) : '—');

function cpuTable(results: Map<ScenarioId, ScenarioResult>): string {
  const rows = [...results.values()].map((r) => [
    SCENARIOS[r.id].label,
    fmtPct(r.cpu.server),
    fmtPct(r.cpu.postgres),
    fmtPct(r.cpu.loadGenerator),
    fmtPct(r.cpu.other + r.cpu.orchestrator),
    fmtPct(r.cpu.idle),
    fmtCpuMs(r.cpuMs.serverPerRequest),
    fmtCpuMs(r.cpuMs.serverPerEntry),
    fmtCpuMs(r.cpuMs.postgresPerEntry),
  ]);
  return markdownTable(
    [
      'scenario',
      'server (node)',
      'PostgreSQL',
      'load generator',
      'other',
      'idle',
      'server CPU ms/request',
      'server CPU ms/entry',
      'PostgreSQL CPU ms/entry',
    ],
    rows,
  );
}

function activitySection(results: Map<ScenarioId, ScenarioResult>): string {
  const parts = [...results.values()].map((r) => {
    const lines = r.activity.top.map(
      (line) => `  - ${line.sessions.toFixed(2)} × ${line.what}: \`${line.query.replaceAll('`', "'")}\``,
    );
    return (
      `- **${SCENARIOS[r.id].label}**: on average ${r.activity.busySessions.toFixed(1)} sessions busy ` +
      `(${r.activity.samples} samples); most often:\n${lines.join('\n') || '  - (nothing sampled)'}\n` +
      `  - most rows read in the window (pg_stat_user_tables/indexes; backends report about once a second): ${r.seqScans}`
    );
  });
  return `Database sessions during each measured window, from pg_stat_activity sampled every 200 ms
(average number of sessions in each state; \`idle in transaction\` means the database waits for
the client inside an open transaction, \`CPU\` means no wait event was reported):

${parts.join('\n')}`;
}

function checksTable(results: Map<ScenarioId, ScenarioResult>): string {
  const rows = [...results.values()].map((r) => {
    const problems = Object.entries(r.problems)
      .map(([what, n]) => `${n} × ${what.replaceAll('|', '\\|')}`)
      .join('; ');
    return [
      SCENARIOS[r.id].label,
      fmtInt(r.okRequests),
      fmtInt(r.failedRequests + r.transportErrors),
      problems || 'none',
      r.check,
    ];
  });
  return markdownTable(
    ['scenario', 'successes (measured)', 'failures (measured)', 'failure kinds', 'database check'],
    rows,
  );
}

interface ReportInput {
  options: Options;
  command: string;
  startedAt: Date;
  facts: DatabaseFacts;
  databaseDescription: string;
  results: Map<ScenarioId, ScenarioResult>;
  perRound: Map<ScenarioId, ScenarioResult[]>;
  ratio: Ratio;
  overallPeakMb: number | undefined;
  peakResettable: boolean;
  /** RSS of the service right after /readyz answered, before any load. */
  readyRssMb: number;
  ledgerCheck: string | undefined;
  loadBefore: number[];
  loadAfter: number[];
  serverNode: string;
}

function report(input: ReportInput): string {
  const { options, results, facts, ratio } = input;
  const cpus = os.cpus();
  const rounds = options.rounds;
  const targetRows = targets(results, ratio, input.overallPeakMb, options.connections).map((t) => [
    t.name,
    t.value,
    t.met === undefined ? 'not measured' : t.met ? '**met**' : '**not met**',
  ]);
  const autocannonVersion = (
    JSON.parse(readFileSync(path.join(repoRoot, 'node_modules/autocannon/package.json'), 'utf8')) as {
      version: string;
    }
  ).version;
  const settings = Object.entries(facts.settings)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
  return `## The ledger

Written by \`scripts/bench-ledger.ts\` (\`npm run bench:ledger\`); regenerate with the command below. Numbers from one run on a
shared ${cpus.length}-core machine where other work (tests) may run at the same time: compare within a run,
and treat differences of 10-20% between runs as noise.${
    rounds > 1
      ? ` The run went through the scenarios ${rounds} times (rounds, below), each API scenario
next to its plain-SQL pair; every figure is its median over the rounds, and every ratio the median of
the rounds' own ratios, so that the machine's drift between minutes moves both sides of a ratio.`
      : ''
  }

- **Date:** ${input.startedAt.toISOString()}
- **Command:** \`${input.command}\`
- **Machine:** ${cpus.length} cores (${cpus[0]?.model.trim() ?? 'unknown CPU'}), ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB memory, ${os.type()} ${os.release()} ${os.arch()}
- **Load average** before / after: ${input.loadBefore.map((v) => v.toFixed(2)).join(' ')} / ${input.loadAfter.map((v) => v.toFixed(2)).join(' ')}
- **Node:** ${input.serverNode} (service, workers and orchestrator)
- **PostgreSQL:** ${facts.version}
- **Database:** ${input.databaseDescription}; ${settings}
- **Parameters:** ${options.serviceWarmupSeconds > 0 && [...results.values()].some((r) => SCENARIOS[r.id].kind === 'api') ? `the service warmed up with ${options.serviceWarmupSeconds} s of single entries before the first round (not counted), ` : ''}${rounds > 1 ? `${rounds} rounds, ` : ''}${options.durationSeconds} s measured after ${options.warmupSeconds} s warm-up per scenario${rounds > 1 ? ' and round' : ''}, ${options.connections} concurrent clients, ${fmtInt(options.accounts)} accounts, batches of ${options.batchSize}, service DB_POOL_MAX=${options.dbPoolMax ?? 'default'}, ${options.analyze ? "ANALYZE of the whole database halfway through each warm-up (--analyze), besides the service's own" : "no ANALYZE sent by the bench (the service's statistics keeper ANALYZEs the ledger tables after 1,000 entries and each time the count doubles; autovacuum as usual)"}

### Results

${resultsTable(results, ratio, options.batchSize)}

- entries/s counts only fully successful answers: HTTP 2xx, no GraphQL errors, no userErrors,
  not replayed; for batches only calls with \`postedCount\` = ${options.batchSize} (entries/s = ${options.batchSize} × successful calls/s).
  Latency is per HTTP request for the API (per call for batches), as autocannon timed every
  answer completed in the window, and per transaction (BEGIN sent to COMMIT answered) for plain SQL.
- ratio API/SQL: single spread ÷ SQL spread, single hot ÷ SQL hot, 64 clients ÷ SQL at 64 clients. hot/spread: each hot row ÷ its spread row.
- server peak RSS: the service process's ${input.peakResettable ? 'VmHWM, reset at the start of each scenario' : 'highest VmRSS sampled every 200 ms'} (${input.peakResettable ? 'and VmRSS sampled every 200 ms' : 'VmHWM could not be reset per scenario'}); peak over the whole run, start-up and setup included: ${input.overallPeakMb === undefined ? '—' : `${Math.round(input.overallPeakMb)} MB`}; RSS when ready, before any request: ${fmtInt(input.readyRssMb)} MB.
- API load: autocannon ${autocannonVersion} in its own process, ${options.connections} connections, a fresh body per request
  (unique idempotency key, random accounts, random amount 1.00-100.00 USD). Hot: account 0 is on a
  random side of every entry, a random other account on the other side.
- Plain SQL: ${options.connections} \`pg\` clients in their own process, each looping over \`BEGIN; INSERT entry;
  INSERT both lines (one multi-row INSERT); UPDATE balance of the lower account id; UPDATE the
  other; COMMIT\` (3 named prepared statements run 4 times, the UPDATE twice, plus BEGIN and COMMIT:
  6 round trips) on tables \`bench_sql_account\`,
  \`bench_sql_entry\`, \`bench_sql_line\` (primary keys, lines referencing entry and account,
  index on line account) in the same database.

${
  rounds > 1
    ? `### Rounds

entries/s of each scenario in each round (in the order ${RUN_ORDER.filter((id) => results.has(id)).join(', ')}
in odd rounds, the reverse in even ones) and the ratios of each round; the last row gives the medians
reported above.

${roundsTable(input.perRound, results, rounds)}

`
    : ''
}### Targets

${markdownTable(['target', 'measured', 'status'], targetRows)}

### Where the time goes

CPU during each measured window, in % of one core (the machine has ${cpus.length} cores = ${cpus.length * 100}%),
from /proc: the service process, the PostgreSQL cluster (postmaster and all its children${options.databaseUrl ? ', which on a shared DATABASE_URL server includes other databases' : ''}), the
load-generator process, and everything else (other engineers' tests, the orchestrator, the OS).

${cpuTable(results)}

${activitySection(results)}

### Checks

${checksTable(results)}

${input.ledgerCheck ? `Ledger after the API scenarios: ${input.ledgerCheck}.` : ''}

${
  options.analyze
    ? 'With `--analyze`, the whole bench database was ANALYZEd halfway through each warm-up, on top of the ' +
      "service's statistics keeper (which ANALYZEs the ledger tables after 1,000 entries and each time the count " +
      'doubles): statements are planned for the tables as they are during the run.'
    : 'The database is measured as a new deployment would be: the tables start empty and the bench sends no ANALYZE, ' +
      "but the service's statistics keeper ANALYZEs the ledger tables (journal_entry, journal_line, account, " +
      'account_day_total, pending_open) after its first 1,000 entries and each time that count doubles, and ' +
      'autovacuum runs as usual. Between two ANALYZEs a statement planned while its tables were smaller ' +
      '(foreign-key checks included, which each pooled connection plans once) can keep a plan made for smaller ' +
      'tables (a sequential scan, or an index that matches only `book_id`); the rows read per scan listed above ' +
      'show whether that happened. `--analyze` also ANALYZEs the whole database halfway through each warm-up.'
}
`;
}

// ---------------------------------------------------------------------------------------------
// Main and cleanup

const activeChildren = new Set<ChildProcess>();
const cleanups: { name: string; run: () => Promise<void> }[] = [];
let cleaning: Promise<void> | undefined;

function cleanUp(): Promise<void> {
  cleaning ??= (async () => {
    // Workers first (they load the server), then the server, then the database, then files.
    for (const child of [...activeChildren]) {
      if (child.pid !== serverPid) await stopChild(child, 5_000, `worker`);
    }
    for (const { name, run } of cleanups.reverse()) {
      try {
        await run();
      } catch (error) {
        log(`cleanup step "${name}" failed: ${(error as Error).message}`);
      }
    }
  })();
  return cleaning;
}

let serverPid: number | undefined;

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const options = parseCommandLine(argv, parseOptions, USAGE);
  if (typeof options === 'number') return options;
  const major = Number(process.versions.node.split('.')[0]);
  if (major < 24)
    log(`warning: running on Node ${process.versions.node}; run through npm (Node 24 from node_modules)`);

  const startedAt = new Date();
  const command = commandLine(argv, ['bench:ledger', 'bench'], 'scripts/bench-ledger.ts');
  const loadBefore = os.loadavg();
  const runId = `bench-${startedAt.getTime().toString(36)}-${process.pid}`;
  log(`${command}`);

  // Mode 0755: as root, PostgreSQL runs as the "postgres" user, which must traverse the folder.
  const tmpDir = await fs.mkdtemp(path.join(os.tmpdir(), 'ledger-bench-'));
  await fs.chmod(tmpDir, 0o755);
  cleanups.push({ name: 'temporary folder', run: () => fs.rm(tmpDir, { recursive: true, force: true }) });

  const database = await openDatabase(options, tmpDir);
  cleanups.push({ name: 'database', run: () => database.close() });

  const verifier = new pg.Client({ connectionString: database.url });
  await verifier.connect();
  cleanups.push({ name: 'verifier connection', run: () => verifier.end() });
  const facts = await databaseFacts(verifier);
  const activity = new ActivitySampler(database.url);
  await activity.connect();
  cleanups.push({ name: 'activity sampler', run: () => activity.close() });
  log(
    `PostgreSQL ${facts.settings.server_version}; postmaster pid ${facts.postmasterPid ?? 'unknown (not local?)'}`,
  );

  const server = await startServer(database.url, options, tmpDir);
  serverPid = server.pid;
  cleanups.push({ name: 'service', run: () => stopChild(server.child, 10_000, 'service') });
  const memory = new MemorySampler(server.pid);
  const readyRssMb = (readMemory(server.pid)?.rssKb ?? Number.NaN) / 1024;
  log(`service RSS when ready: ${fmtInt(readyRssMb)} MB`);
  cleanups.push({ name: 'memory sampler', run: async () => memory.stop() });
  server.child.on('exit', (code, signal) => {
    if (!cleaning)
      log(`the service exited unexpectedly (code ${code ?? signal}):\n${server.recentOutput.join('\n')}`);
  });

  const needsBook = options.scenarios.some((id) => SCENARIOS[id].kind === 'api');
  const book = needsBook
    ? await createBenchBook({
        url: `${server.origin}/graphql`,
        token: server.token,
        name: 'Benchmark',
        count: options.accounts,
        log,
      })
    : undefined;
  const ctx: Context = {
    options,
    tmpDir,
    server,
    verifier,
    databaseUrl: database.url,
    postmasterPid: facts.postmasterPid,
    memory,
    activity,
    book,
    runId,
  };

  if (needsBook && options.serviceWarmupSeconds > 0) {
    log(`service warm-up: single entries, spread, ${options.serviceWarmupSeconds} s (not counted)`);
    const warm = await runApiScenario(
      {
        ...ctx,
        options: {
          ...options,
          durationSeconds: options.serviceWarmupSeconds,
          warmupSeconds: 0,
          cpuProfDir: undefined,
        },
      },
      'single-spread',
      0,
    );
    log(`service warm-up: ${fmtInt(warm.entriesPerSecond)} entries/s; ${warm.check}`);
    if (!warm.checkPassed) throw new Error(`the service warm-up's database check failed: ${warm.check}`);
  }
  const perRound = new Map<ScenarioId, ScenarioResult[]>();
  let ledgerCheck: string | undefined;
  for (let round = 1; round <= options.rounds; round++) {
    for (const id of roundOrder(options.scenarios, round)) {
      if (!isRunning(server.child)) throw new Error('the service is not running');
      const scenario = SCENARIOS[id];
      const name = options.rounds > 1 ? `${id} (round ${round}/${options.rounds})` : id;
      log(
        `scenario ${name}: ${scenario.label}, ${options.warmupSeconds} s warm-up + ${options.durationSeconds} s`,
      );
      const result =
        scenario.kind === 'api' ? await runApiScenario(ctx, id, round) : await runSqlScenario(ctx, id, round);
      perRound.set(id, [...(perRound.get(id) ?? []), result]);
      log(
        `scenario ${name}: ${fmtInt(result.entriesPerSecond)} entries/s, p50 ${fmtMs(result.p50Ms)} ms, p99 ${fmtMs(result.p99Ms)} ms` +
          `${result.serverPeakMb !== undefined ? `, server peak ${fmtInt(result.serverPeakMb)} MB` : ''}; ` +
          `CPU server ${fmtPct(result.cpu.server)}, postgres ${fmtPct(result.cpu.postgres)}, load ${fmtPct(result.cpu.loadGenerator)}, ` +
          `other ${fmtPct(result.cpu.other)}, idle ${fmtPct(result.cpu.idle)}`,
      );
      log(`scenario ${name}: ${result.check}`);
      log(`scenario ${name}: ${result.seqScans}`);
      log(`scenario ${name}: ${checkpointNote(result.checkpoint)}`);
      if (result.failedRequests + result.transportErrors > 0) {
        log(`scenario ${name}: failures: ${JSON.stringify(result.problems)}`);
      }
    }
  }
  const results = new Map(
    SCENARIO_IDS.flatMap((id) => {
      const rounds = perRound.get(id);
      return rounds ? [[id, combineRounds(rounds)] as const] : [];
    }),
  );
  const ratio = pairedRatio(perRound);
  if (needsBook) {
    ledgerCheck = await checkLedger(verifier);
    log(`ledger: ${ledgerCheck}`);
  }
  memory.endWindow();
  const apiPeaks = [...results.values()].flatMap((r) =>
    r.serverPeakMb === undefined ? [] : [r.serverPeakMb],
  );
  const overallPeakMb = apiPeaks.length > 0 ? Math.max(memory.overallMaxKb / 1024, ...apiPeaks) : undefined;

  const text = report({
    options,
    command,
    startedAt,
    facts,
    databaseDescription: database.description,
    results,
    perRound,
    ratio,
    overallPeakMb,
    peakResettable: memory.peakResettable,
    readyRssMb,
    ledgerCheck,
    loadBefore,
    loadAfter: os.loadavg(),
    serverNode: `v${process.versions.node}`,
  });
  process.stdout.write(`\n${resultsTable(results, ratio, options.batchSize)}\n\n`);
  if (options.rounds > 1) process.stdout.write(`${roundsTable(perRound, results, options.rounds)}\n\n`);
  process.stdout.write(
    `${markdownTable(
      ['target', 'measured', 'status'],
      targets(results, ratio, overallPeakMb, options.connections).map((t) => [
        t.name,
        t.value,
        t.met === undefined ? 'not measured' : t.met ? 'met' : 'NOT MET',
      ]),
    )}\n\n${cpuTable(results)}\n\n`,
  );
  if (options.output) {
    await writeReportSection(options.output, 'bench-ledger', text);
    log(`wrote ${options.output}`);
  }
  const failedChecks = [...results.values()].filter((r) => !r.checkPassed);
  if (failedChecks.length > 0 || ledgerCheck?.startsWith('PROBLEM')) {
    log(`database checks failed for: ${failedChecks.map((r) => r.id).join(', ') || 'ledger totals'}`);
    return 1;
  }
  return 0;
}

let interrupted = false;
let firstSignalAt = 0;
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    if (interrupted) {
      // One Ctrl-C often arrives twice (from the terminal, and relayed by npm or tsx): only a
      // signal well after the first one forces an exit without waiting for the cleanup.
      if (Date.now() - firstSignalAt < 3000) return;
      log(`${signal} again: exiting without waiting for the cleanup`);
      for (const child of activeChildren) child.kill('SIGKILL');
      process.exit(130);
    }
    interrupted = true;
    firstSignalAt = Date.now();
    log(`${signal}: stopping and cleaning up (send it again after 3 s to force)`);
    cleanUp().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  });
}
// Last resort if something calls process.exit: never leave a child behind.
process.on('exit', () => {
  for (const child of activeChildren) if (isRunning(child)) child.kill('SIGKILL');
});

let exitCode = 1;
try {
  exitCode = await main();
} catch (error) {
  if (!interrupted) log(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
} finally {
  if (!interrupted) await cleanUp();
}
if (!interrupted) process.exit(exitCode);
// Interrupted: the signal handler exits once cleanup is done.
