/**
 * Interleaved A/B benchmark: two (or more) builds of the service under the same single-entry load,
 * taking turns, so that this machine's slow drift (±15-40% from one minute to the next) falls on
 * every version alike instead of on whichever ran last. Run `npm run bench:compare -- --help`.
 *
 * Every version is a checkout whose dist/server/main.js (built by the caller) runs with the Node
 * flags and environment of that checkout's `npm start` (nothing is compiled here), plus its own
 * environment variables; each has its own database, book and accounts. All run at once; the load
 * (scripts/bench/load-worker.ts, autocannon in its own process, as bench-ledger's single scenarios)
 * goes to one at a time, in ABBA order round after round. stdout: medians per version and the
 * per-round ratios to the first version; stderr: progress. Never writes BENCHMARKS.md.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { redactUrl, repoRoot } from '../server/platform/config.js';
import { benchManifest, createBenchBook, loadWorkerConfig } from './bench/ledger-api.js';
import type { WorkerOutput } from './bench/load-worker.js';
import { processCpuSeconds } from './bench/proc.js';
import { median } from './bench/stats.js';
import { fmtInt, markdownTable } from './bench/table.js';
import {
  type BenchService,
  createBenchDatabase,
  startBenchService,
  startCommandOf,
} from './lib/bench-service.js';
import { Cleanups, runScript } from './lib/cleanups.js';
import { commandLine, parseCommandLine, UsageError } from './lib/cli.js';

const USAGE = `Usage: npm run bench:compare -- [options] <name>:<dir>[:<ENV=value>,...] <name>:<dir>[:...] ...

Compares two or more builds of the service under the same load of single entries
(postJournalEntry), taking turns so that the machine's slow drift cancels out.

Each version is <name>:<dir>[:<ENV=value>,...]: a checkout directory whose dist/server/main.js
is started (build it first: in a git worktree, \`npx tsc -p tsconfig.build.json\` with
node_modules symlinked) with the Node flags and environment of that checkout's package.json
\`start\` script (nothing is compiled here), plus the extra environment variables given. The same
directory may appear twice with different variables, e.g. to compare a switch:
  npm run bench:compare -- a:/work/main b:/work/main:POSTING_X=1

Every version gets a fresh database on the --database-url server (dropped at the end unless
--keep-database), its own book (USD, scale 2) and --accounts accounts created through the API,
and the bench's documents as PERSISTED_DOCUMENTS_FILE. All versions run at once; the load goes to
one at a time: round 1 runs A, B; round 2 B, A; and so on (with more versions, the order given,
then reversed). Each leg: --warmup s not counted, then --duration s measured, --connections
clients, one autocannon load worker (scripts/bench/load-worker.ts, as bench-ledger's single
scenarios).

Per leg: entries/s (successful requests only), p99 latency, and the service's CPU ms per answered
request (its process's CPU time from /proc over the measured window).

Output: each leg's figures on stderr as it finishes; then on stdout per version the median
entries/s, p99 and CPU ms/request, and the rounds with each later version's ratio to the first,
its median ratio and in how many rounds it was higher. Never writes BENCHMARKS.md.

Options:
  --rounds <n>          rounds, each running every version once (default 10)
  --duration <s>        measured seconds per leg (default 6)
  --warmup <s>          seconds of load before each leg's measured window (default 2)
  --connections <n>     concurrent clients (default 16)
  --accounts <n>        accounts per book (default 10000)
  --hot                 one hot account on one side of every entry (as bench-ledger's single-hot)
  --batch-size <n>      post batches of n entries (postJournalEntries, INDEPENDENT, as
                        bench-ledger's batch-spread) instead of single entries; CPU is then
                        reported per entry
  --no-persisted        send the documents' text instead of their ids
  --database-url <url>  PostgreSQL server the databases are created on (default: $DATABASE_URL;
                        required)
  --keep-database       keep the databases after the run
  --json <file>         write the raw legs (and the run's settings) as JSON
  -h, --help            this text

Exit status: 0 done; 1 failed; 2 bad arguments (a bad version, a missing dist/server/main.js, no
database URL); 130 interrupted. Services are stopped and databases dropped however it ends.
`;

interface Version {
  name: string;
  dir: string;
  env: Record<string, string>;
}

interface Options {
  versions: Version[];
  rounds: number;
  durationSeconds: number;
  warmupSeconds: number;
  connections: number;
  accounts: number;
  hot: boolean;
  /** Entries per postJournalEntries call; undefined: single entries. */
  batchSize: number | undefined;
  persisted: boolean;
  databaseUrl: string;
  keepDatabase: boolean;
  json: string | undefined;
}

const MAIN_JS = path.join('dist', 'server', 'main.js');

/** `<name>:<dir>[:<ENV=value>,...]`; the directory must hold a built dist/server/main.js. */
function parseVersion(spec: string): Version {
  const match = /^([A-Za-z0-9_.-]+):([^:]+)(?::(.*))?$/.exec(spec);
  if (!match)
    throw new UsageError(
      `a version is <name>:<dir>[:<ENV=value>,...] (name: letters, digits, _.-), not "${spec}"`,
    );
  const [, name, given, envText] = match as unknown as [string, string, string, string | undefined];
  const dir = path.resolve(given);
  const env: Record<string, string> = {};
  for (const pair of envText === undefined ? [] : envText.split(',')) {
    const assignment = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(pair);
    if (!assignment) throw new UsageError(`version ${name}: "${pair}" is not ENV=value (in "${spec}")`);
    env[assignment[1]!] = assignment[2]!;
  }
  if (!existsSync(dir) || !statSync(dir).isDirectory())
    throw new UsageError(`version ${name}: ${dir} is not a directory`);
  if (!existsSync(path.join(dir, MAIN_JS)))
    throw new UsageError(
      `version ${name}: ${path.join(dir, MAIN_JS)} is missing; build it first (in ${dir}: npx tsc -p tsconfig.build.json)`,
    );
  if (!existsSync(path.join(dir, 'package.json')))
    throw new UsageError(`version ${name}: ${dir} has no package.json (its start script gives the flags)`);
  return { name, dir, env };
}

function parseOptions(argv: string[]): Options | 'help' {
  const { values, positionals } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: true,
    options: {
      rounds: { type: 'string' },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      connections: { type: 'string' },
      accounts: { type: 'string' },
      hot: { type: 'boolean' },
      'batch-size': { type: 'string' },
      'no-persisted': { type: 'boolean' },
      'database-url': { type: 'string' },
      'keep-database': { type: 'boolean' },
      json: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return 'help';
  const number = (name: string, raw: string | undefined, fallback: number, min: number, max: number) => {
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(value) || value < min || value > max)
      throw new UsageError(`--${name} must be a number from ${min} to ${max} (got ${raw})`);
    return value;
  };
  const integer = (name: string, raw: string | undefined, fallback: number, min: number, max: number) => {
    const value = number(name, raw, fallback, min, max);
    if (!Number.isInteger(value)) throw new UsageError(`--${name} must be a whole number (got ${raw})`);
    return value;
  };
  if (positionals.length < 2)
    throw new UsageError(
      `give at least two versions, <name>:<dir>[:<ENV=value>,...] (got ${positionals.length})`,
    );
  const versions = positionals.map(parseVersion);
  const names = versions.map((v) => v.name);
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice !== undefined) throw new UsageError(`the version name "${twice}" is given twice`);
  const databaseUrl = values['database-url'] ?? (process.env.DATABASE_URL?.trim() || undefined);
  if (databaseUrl === undefined)
    throw new UsageError(
      'no PostgreSQL server: set DATABASE_URL or give --database-url (e.g. postgres://postgres@127.0.0.1:5432/test); each version gets a fresh database on it',
    );
  return {
    versions,
    rounds: integer('rounds', values.rounds, 10, 1, 1000),
    durationSeconds: number('duration', values.duration, 6, 1, 3600),
    warmupSeconds: number('warmup', values.warmup, 2, 0, 600),
    connections: integer('connections', values.connections, 16, 1, 1000),
    accounts: integer('accounts', values.accounts, 10_000, 3, 1_000_000),
    hot: values.hot ?? false,
    batchSize:
      values['batch-size'] === undefined
        ? undefined
        : integer('batch-size', values['batch-size'], 500, 1, 1000),
    persisted: !values['no-persisted'],
    databaseUrl,
    keepDatabase: values['keep-database'] ?? false,
    json: values.json === undefined ? undefined : path.resolve(values.json),
  };
}

// ---------- helpers ----------

const log = (message: string) => process.stderr.write(`[compare] ${message}\n`);
const cleanups = new Cleanups(log);

const fmt = (v: number, digits: number) => (Number.isFinite(v) ? v.toFixed(digits) : '—');

// ---------- one leg ----------

interface Running {
  version: Version;
  service: BenchService;
  book: { bookId: string; accountIds: string[] };
}

interface Leg {
  round: number;
  /** Position in the round (0 = first). */
  position: number;
  version: string;
  entriesPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** The service's CPU over the measured window ÷ answered requests (ok + failed). */
  cpuMsPerRequest: number;
  okRequests: number;
  failedRequests: number;
  transportErrors: number;
  problems: Record<string, number>;
}

/** The load worker of the leg under way: killed first by the cleanups (registered after the services). */
let currentWorker: ReturnType<typeof spawn> | undefined;

/** Waits (at most 2 s) until the service's CPU is quiet: the last leg's requests in flight are done. */
async function settle(pid: number): Promise<void> {
  let last = processCpuSeconds(pid) ?? 0;
  for (let i = 0; i < 20; i += 1) {
    await sleep(100);
    const now = processCpuSeconds(pid) ?? 0;
    if (now - last < 0.005) return;
    last = now;
  }
}

async function runLeg(
  run: Running,
  options: Options,
  tmpDir: string,
  runId: string,
  round: number,
  position: number,
): Promise<Leg> {
  const { service, book, version } = run;
  if (service.child.exitCode !== null || service.child.signalCode !== null)
    throw new Error(`the service of ${version.name} is not running`);
  const config = loadWorkerConfig({
    url: service.url,
    token: service.token,
    book,
    hot: options.hot,
    mode: options.batchSize === undefined ? 'single' : 'batch',
    batchSize: options.batchSize ?? 1,
    connections: options.connections,
    durationSeconds: options.durationSeconds,
    warmupSeconds: options.warmupSeconds,
    keyPrefix: `${runId}.${version.name}.${round}`,
    persisted: options.persisted,
  });
  const configFile = path.join(tmpDir, `${version.name}-${round}.json`);
  // It holds the ADMIN token: readable by this user only.
  await fs.writeFile(configFile, JSON.stringify(config), { mode: 0o600 });
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join('scripts', 'bench', 'load-worker.ts'), configFile],
    { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  currentWorker = child;
  let stdout = '';
  let partial = '';
  let cpuStart: number | undefined;
  let cpuEnd: number | undefined;
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      if (line === '@phase main') cpuStart = processCpuSeconds(service.pid);
      else if (line === '@phase done') cpuEnd = processCpuSeconds(service.pid);
      else if (line.trim() !== '' && line !== '@phase warmup')
        process.stderr.write(`[load-worker] ${line}\n`);
    }
  });
  const code = await new Promise<number | null>((resolve) => {
    child.once('close', resolve);
    child.once('error', () => resolve(-1));
  });
  currentWorker = undefined;
  await fs.rm(configFile, { force: true });
  if (code !== 0) throw new Error(`the load worker for ${version.name} exited with code ${code}`);
  const { window } = JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as WorkerOutput;
  const answered = window.okRequests + window.failedRequests;
  const cpuSeconds = cpuStart !== undefined && cpuEnd !== undefined ? cpuEnd - cpuStart : Number.NaN;
  await settle(service.pid);
  return {
    round,
    position,
    version: version.name,
    entriesPerSecond: window.okEntries / window.seconds,
    p50Ms: window.latencyMs.p50,
    p99Ms: window.latencyMs.p99,
    // Per entry for batches (answered calls x entries per call).
    cpuMsPerRequest: answered > 0 ? (cpuSeconds * 1000) / (answered * (options.batchSize ?? 1)) : Number.NaN,
    okRequests: window.okRequests,
    failedRequests: window.failedRequests,
    transportErrors: window.transportErrors,
    problems: window.problems,
  };
}

// ---------- report ----------

function report(options: Options, legs: Leg[]): string {
  const names = options.versions.map((v) => v.name);
  const [first] = names as [string];
  const of = (name: string, round: number) => legs.find((l) => l.version === name && l.round === round);
  const summary = markdownTable(
    ['version', 'dir', 'extra env', 'entries/s', 'p99 ms', 'CPU ms/request', 'failed'],
    options.versions.map((v) => {
      const own = legs.filter((l) => l.version === v.name);
      return [
        v.name,
        v.dir,
        Object.entries(v.env)
          .map(([k, value]) => `${k}=${value}`)
          .join(',') || '—',
        fmtInt(median(own.map((l) => l.entriesPerSecond))),
        fmt(median(own.map((l) => l.p99Ms)), 1),
        fmt(median(own.map((l) => l.cpuMsPerRequest)), 3),
        fmtInt(own.reduce((sum, l) => sum + l.failedRequests + l.transportErrors, 0)),
      ];
    }),
  );
  const rounds = [...new Set(legs.map((l) => l.round))];
  const others = names.slice(1);
  const ratio = (name: string, round: number) =>
    (of(name, round)?.entriesPerSecond ?? Number.NaN) / (of(first, round)?.entriesPerSecond ?? Number.NaN);
  const perRound = markdownTable(
    ['round', 'order', ...names.map((n) => `${n} entries/s`), ...others.map((n) => `${n}/${first}`)],
    rounds.map((round) => [
      String(round),
      legs
        .filter((l) => l.round === round)
        .sort((a, b) => a.position - b.position)
        .map((l) => l.version)
        .join(','),
      ...names.map((n) => fmtInt(of(n, round)?.entriesPerSecond ?? Number.NaN)),
      ...others.map((n) => fmt(ratio(n, round), 2)),
    ]),
  );
  const verdicts = others.map((name) => {
    const ratios = rounds.map((round) => ratio(name, round));
    const cpuRatios = rounds.map(
      (round) =>
        (of(name, round)?.cpuMsPerRequest ?? Number.NaN) / (of(first, round)?.cpuMsPerRequest ?? Number.NaN),
    );
    const higher = ratios.filter((r) => r > 1).length;
    return (
      `${name} / ${first}: median ${fmt(median(ratios), 2)}x entries/s, higher in ${higher} of ${rounds.length} rounds; ` +
      `CPU ms/request median ${fmt(median(cpuRatios), 2)}x`
    );
  });
  const what =
    options.batchSize === undefined ? 'single entries' : `batches of ${options.batchSize} (CPU ms per entry)`;
  const load = `${options.rounds} interleaved rounds, ${options.connections} clients, ${what}${options.hot ? ', one hot account' : ', spread'}, ${options.warmupSeconds} s warm-up + ${options.durationSeconds} s per leg; medians over the rounds`;
  return [load, '', summary, '', perRound, '', ...verdicts].join('\n');
}

// ---------- main ----------

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const options = parseCommandLine(argv, parseOptions, USAGE);
  if (typeof options === 'number') return options;
  if (Number(process.versions.node.split('.')[0]) < 24)
    log(`warning: running on Node ${process.versions.node}; run through npm (Node 24 from node_modules)`);
  const command = commandLine(argv, ['bench:compare'], 'scripts/bench-compare.ts');
  log(command);
  const startedAt = new Date();
  const runId = `compare-${startedAt.getTime().toString(36)}-${process.pid}`;
  const tmpDir = await fs.mkdtemp(path.join(os.tmpdir(), 'ledger-compare-'));
  cleanups.push({
    name: 'remove the temporary folder',
    run: () => fs.rm(tmpDir, { recursive: true, force: true }),
  });
  const manifestFile = path.join(tmpDir, 'persisted-documents.json');
  await fs.writeFile(manifestFile, JSON.stringify(benchManifest()));

  const running: Running[] = [];
  for (const [i, version] of options.versions.entries()) {
    const pkg = JSON.parse(readFileSync(path.join(version.dir, 'package.json'), 'utf8')) as {
      scripts?: Record<string, string>;
    };
    // That checkout's `npm start` command, its ${VAR:-default} expanded with this version's variables.
    const start = startCommandOf(pkg.scripts?.start ?? '', { ...process.env, ...version.env });
    const args = [...start.args.slice(0, -1), path.join(version.dir, MAIN_JS)];
    const name = `ledger_compare_${startedAt.toISOString().replace(/\D/g, '').slice(0, 14)}_${process.pid}_${i}`;
    const databaseUrl = await createBenchDatabase(options.databaseUrl, name, cleanups, options.keepDatabase);
    log(`${version.name}: database ${name}${options.keepDatabase ? ' (kept after the run)' : ''}`);
    const service = await startBenchService({
      databaseUrl,
      args,
      env: { ...start.env, PERSISTED_DOCUMENTS_FILE: manifestFile, ...version.env },
      cleanups,
      log: (m) => log(`${version.name}: ${m}`),
      readyWithinMs: 90_000,
    });
    const env = Object.entries({ ...start.env, ...version.env }).map(([k, v]) => `${k}=${v}`);
    log(`${version.name}: ready (pid ${service.pid}): ${env.join(' ')} node ${args.join(' ')}`);
    running.push({
      version,
      service,
      book: await createBenchBook({
        url: service.url,
        token: service.token,
        name: `Compare ${version.name}`,
        count: options.accounts,
        log: (m) => log(`${version.name}: ${m}`),
      }),
    });
  }

  cleanups.push({
    name: 'stop the load worker',
    run: async () => {
      if (currentWorker && currentWorker.exitCode === null && currentWorker.signalCode === null)
        currentWorker.kill('SIGKILL');
    },
  });
  const legs: Leg[] = [];
  for (let round = 1; round <= options.rounds; round += 1) {
    const order = round % 2 === 1 ? running : [...running].reverse();
    for (const [position, run] of order.entries()) {
      const leg = await runLeg(run, options, tmpDir, runId, round, position);
      legs.push(leg);
      log(
        `round ${round}/${options.rounds} ${leg.version}: ${fmtInt(leg.entriesPerSecond)} entries/s, p99 ${fmt(leg.p99Ms, 1)} ms, ` +
          `CPU ${fmt(leg.cpuMsPerRequest, 3)} ms/request` +
          (leg.failedRequests + leg.transportErrors > 0
            ? `; ${leg.failedRequests} failed, ${leg.transportErrors} unanswered: ${JSON.stringify(leg.problems)}`
            : ''),
      );
    }
  }

  process.stdout.write(`\n${report(options, legs)}\n`);
  if (options.json) {
    const json = {
      command,
      startedAt: startedAt.toISOString(),
      databaseServer: redactUrl(options.databaseUrl),
      settings: { ...options, databaseUrl: undefined, json: undefined, versions: undefined },
      versions: options.versions,
      legs,
    };
    await fs.writeFile(options.json, `${JSON.stringify(json, null, 2)}\n`);
    log(`wrote ${options.json}`);
  }
  return 0;
}

runScript('bench-compare', main, cleanups, log);
