/**
 * Clearing benchmark (issue 14, "Figures"): a Sardex-size mutual-credit network (3,200 co-ops,
 * 140,000 open obligations, random but with realistic cycles: trade within sectors and along
 * supply chains that close), timed three ways, each figure printed beside its target:
 *
 *   solver  the exact clearing of server/core/clearing.ts in this process (and a greedy cycle
 *           canceller for comparison);
 *   api     the same network recorded THROUGH THE SERVICE (co-ops created, joined and their
 *           obligations imported by CSV through the SDK), then previewClearing (target < 2 s) and
 *           commitClearing (target < 10 s) through the API, checked against the database;
 *   pay     payInNetwork through the API at --connections clients (autocannon in its own
 *           process, scripts/bench/pay-worker.ts): payments/s, p50/p99 and the service's CPU per
 *           request, as scripts/bench-ledger.ts measures entries.
 *
 *   this orchestrator ── embedded PostgreSQL (or a fresh database on DATABASE_URL's server)
 *                    ├─ the service as a child process (Node 24 with tsx, the heap `npm start` gives it)
 *                    └─ scripts/bench/pay-worker.ts (autocannon)
 *
 * Run `npx tsx scripts/bench-clearing.ts --help`. Progress on stderr; the tables on stdout and in
 * this script's one section of BENCHMARKS.md (scripts/lib/report-section.ts).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { pino } from 'pino';
import { createLedgerClient, type LedgerClient } from '../client-sdk/index.js';
import {
  greedyCycleSetoff,
  type ObligationInput,
  obligationTable,
  planClearingTable,
} from '../server/core/index.js';
import { startEmbeddedPostgres } from '../server/platform/db/embedded.js';
import type { PayWorkerConfig, PayWorkerOutput } from './bench/pay-worker.js';
import { clusterCpuSeconds, machineCpu, parentPid, processCpuSeconds, readMemory } from './bench/proc.js';
import {
  type BenchService,
  createBenchDatabase,
  npmStartNodeFlags,
  startBenchService,
} from './lib/bench-service.js';
import { Cleanups, runScript } from './lib/cleanups.js';
import { commandLine, parseCommandLine, UsageError } from './lib/cli.js';
import { writeReportSection } from './lib/report-section.js';

const repoRoot = path.resolve(fileURLToPath(new URL('..', import.meta.url)));
const TARGETS = { previewMs: 2_000, commitMs: 10_000 } as const;
/** Issue 12's targets for one entry through the API, the yardstick for one payment. */
const PAY_TARGETS = { p99Ms: 25, cpuMsPerRequest: 0.35 } as const;
const PARTS = ['solver', 'api', 'pay'] as const;
type Part = (typeof PARTS)[number];

const USAGE = `Clearing benchmark: a Sardex-size mutual-credit network, the solver and the API.

Usage: npm run bench:clearing -- [options]
       npx tsx scripts/bench-clearing.ts [options]

Parts (--parts, default all):
  solver  the exact clearing solver in this process on the generated obligations, sorted once
          into the table the service reads from PostgreSQL: set-off --repeat times, the liquidity mode once, the greedy cycle canceller once (see --greedy)
  api     starts a fresh embedded PostgreSQL (data under os.tmpdir(), removed at the end) or, when
          DATABASE_URL is set (or --database-url given), a fresh database on that server (dropped
          at the end), and the service on it as a child process; creates the network, --coops
          co-ops (createCoop) that join it (joinCreditNetwork), imports the --obligations
          obligations by CSV (importObligationsCsv, 10,000 rows a file), all through the SDK;
          then times previewClearing --repeat times and commitClearing once, and checks the
          database (outstanding totals, every member's net position unchanged)
  pay     payInNetwork through the API at --connections clients for --duration seconds after a
          --warmup, on the same network (autocannon in its own process)

Options:
  --coops <n>           co-ops (default 3200)
  --obligations <n>     open obligations (default 140000)
  --repeat <n>          solves and previews timed (default 3)
  --seed <n>            random seed (default 14)
  --parts <list>        comma-separated subset of ${PARTS.join(', ')} (default all)
  --connections <n>     concurrent clients of the payment load (default 16)
  --duration <s>        measured seconds of the payment load (default 10)
  --warmup <s>          warm-up seconds before it, not counted (default 2)
  --setup-clients <n>   concurrent requests while creating co-ops and members (default 8)
  --greedy / --no-greedy
                        time the greedy cycle canceller for comparison (default: only on 20,000
                        obligations or fewer; it takes hours at Sardex size)
  --database-url <url>  a PostgreSQL server to create the bench database on (default: embedded)
  --keep-database       with --database-url (or DATABASE_URL), keep the bench database (name printed)
                        to study its statements with EXPLAIN ANALYZE
  --cpu-prof <dir>      profile the service with V8's sampling profiler (through the inspector)
                        during each preview, the commit and the payment window, writing
                        <dir>/preview-<n>.cpuprofile, commit.cpuprofile, pay.cpuprofile;
                        scripts/bench/profile-summary.ts sums one up
  --output <file>       report file whose clearing section is written (default BENCHMARKS.md)
  --no-write            print only, write no file
  -h, --help            this text

Targets (issue 14): previewClearing under ${TARGETS.previewMs / 1000} s and commitClearing under ${TARGETS.commitMs / 1000} s through the API on
3,200 co-ops and 140,000 obligations; payments at 16 clients as bench-ledger measures entries (issue
12's single-entry yardsticks: p99 under ${PAY_TARGETS.p99Ms} ms, service CPU under ${PAY_TARGETS.cpuMsPerRequest} ms a request).
`;

const log = (message: string) => process.stderr.write(`[bench-clearing] ${message}\n`);

interface Options {
  coops: number;
  obligations: number;
  repeat: number;
  seed: number;
  parts: Set<Part>;
  connections: number;
  durationSeconds: number;
  warmupSeconds: number;
  setupClients: number;
  /** Run the greedy canceller: true, false, or undefined for "only on small networks". */
  greedy: boolean | undefined;
  databaseUrl: string | null;
  keepDatabase: boolean;
  cpuProfDir: string | null;
  output: string | null;
}

function parseOptions(argv: string[]): Options | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      coops: { type: 'string' },
      obligations: { type: 'string' },
      repeat: { type: 'string' },
      seed: { type: 'string' },
      parts: { type: 'string' },
      connections: { type: 'string' },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      'setup-clients': { type: 'string' },
      greedy: { type: 'boolean' },
      'no-greedy': { type: 'boolean' },
      'database-url': { type: 'string' },
      'keep-database': { type: 'boolean' },
      'cpu-prof': { type: 'string' },
      output: { type: 'string' },
      'no-write': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return 'help';
  const int = (name: string, text: string | undefined, fallback: number, min: number, max: number) => {
    const n = text === undefined ? fallback : Number(text);
    if (!Number.isInteger(n) || n < min || n > max)
      throw new UsageError(`--${name} must be a whole number from ${min} to ${max}`);
    return n;
  };
  const parts = new Set<Part>();
  for (const p of (values.parts ?? PARTS.join(','))
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    if (!(PARTS as readonly string[]).includes(p))
      throw new UsageError(`--parts takes ${PARTS.join(', ')}; not "${p}"`);
    parts.add(p as Part);
  }
  if (parts.size === 0) throw new UsageError('--parts names at least one part');
  return {
    coops: int('coops', values.coops, 3200, 2, 100_000),
    obligations: int('obligations', values.obligations, 140_000, 1, 2_000_000),
    repeat: int('repeat', values.repeat, 3, 1, 20),
    seed: int('seed', values.seed, 14, 0, 2 ** 31),
    parts,
    connections: int('connections', values.connections, 16, 1, 1024),
    durationSeconds: int('duration', values.duration, 10, 1, 3600),
    warmupSeconds: int('warmup', values.warmup, 2, 0, 600),
    setupClients: int('setup-clients', values['setup-clients'], 8, 1, 64),
    greedy: values.greedy ? true : values['no-greedy'] ? false : undefined,
    databaseUrl: values['database-url'] ?? (process.env.DATABASE_URL?.trim() || null),
    keepDatabase: values['keep-database'] === true,
    cpuProfDir: values['cpu-prof'] === undefined ? null : path.resolve(values['cpu-prof']),
    output: values['no-write'] ? null : path.resolve(values.output ?? path.join(repoRoot, 'BENCHMARKS.md')),
  };
}

// ---------- the network ----------

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Obligations with structure: co-ops in 40 sectors; 45% of invoices inside a sector, 35% to the
 * next sector along a supply chain whose last sector sells to the first (so chains close into
 * cycles), 20% anywhere. Amounts log-uniform from 50.00 to 50,000.00, due dates over six months.
 */
function network(coops: number, count: number, seed: number): ObligationInput[] {
  const random = rng(seed);
  const sectors = 40;
  const pick = (sector: number) => {
    const size = Math.ceil(coops / sectors);
    return Math.min(coops - 1, sector * size + Math.floor(random() * size));
  };
  const out: ObligationInput[] = [];
  for (let i = 0; i < count; i++) {
    const debtor = Math.floor(random() * coops);
    const sector = Math.floor(debtor / Math.ceil(coops / sectors));
    const r = random();
    let creditor =
      r < 0.45 ? pick(sector) : r < 0.8 ? pick((sector + 1) % sectors) : Math.floor(random() * coops);
    if (creditor === debtor) creditor = (debtor + 1) % coops;
    const cents = BigInt(Math.round(5_000 * 1_000 ** random()));
    const day = 1 + Math.floor(random() * 180);
    const due = new Date(Date.UTC(2026, 0, day)).toISOString().slice(0, 10);
    out.push({
      id: `o${String(i).padStart(7, '0')}`,
      debtor: `c${String(debtor).padStart(5, '0')}`,
      creditor: `c${String(creditor).padStart(5, '0')}`,
      outstanding: cents,
      dueOn: due,
    });
  }
  return out;
}

const money = (minor: bigint) => `${minor / 100n}.${String(minor % 100n).padStart(2, '0')}`;
const pct = (part: bigint, whole: bigint) =>
  whole === 0n ? '0' : (Number((part * 10_000n) / whole) / 100).toFixed(2);
const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const secs = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const verdict = (value: number, target: number) => (value < target ? 'met' : 'MISSED');

// ---------- the solver in this process ----------

interface SolverResult {
  times: { table: number; setoff: number[]; liquidity: number; greedy: number | null };
  plan: ReturnType<typeof planClearingTable>;
  withLiquidity: ReturnType<typeof planClearingTable>;
  greedy: bigint | null;
}

/**
 * Obligations up to which the greedy cycle canceller runs by default: it is a depth-first search
 * per start member, measured here at 8.9 s for 17,500 obligations and 72 s for 35,000 (it grows
 * about eightfold per doubling), so hours at Sardex size.
 */
const GREEDY_OBLIGATIONS_MAX = 20_000;

function runSolver(obligations: ObligationInput[], options: Options): SolverResult {
  const liquidity = [...new Set(obligations.flatMap((o) => [o.debtor, o.creditor]))].map((member, i) => ({
    member,
    payMax: BigInt(100_000 + (i % 7) * 50_000),
    receiveMax: i % 5 === 0 ? BigInt(200_000) : null,
  }));
  // The service reads obligations already sorted into this table (PostgreSQL sorts them).
  let t = performance.now();
  const { table } = obligationTable(obligations);
  const tableMs = performance.now() - t;
  const setoff: number[] = [];
  let plan: ReturnType<typeof planClearingTable> | undefined;
  for (let r = 1; r <= options.repeat; r++) {
    log(`solver: exact set-off ${r}/${options.repeat}`);
    const t = performance.now();
    plan = planClearingTable(table);
    setoff.push(performance.now() - t);
    log(`solver: exact set-off ${r}/${options.repeat}: ${setoff.at(-1)!.toFixed(0)} ms`);
  }
  log('solver: set-off then the liquidity mode (once)');
  t = performance.now();
  const withLiquidity = planClearingTable(table, liquidity);
  const liquidityMs = performance.now() - t;
  log(`solver: liquidity mode ${liquidityMs.toFixed(0)} ms`);
  let greedy: bigint | null = null;
  let greedyMs: number | null = null;
  if (options.greedy ?? obligations.length <= GREEDY_OBLIGATIONS_MAX) {
    log('solver: greedy cycle clearing (once)');
    t = performance.now();
    greedy = greedyCycleSetoff(obligations);
    greedyMs = performance.now() - t;
  }
  return {
    times: { table: tableMs, setoff, liquidity: liquidityMs, greedy: greedyMs },
    plan: plan!,
    withLiquidity,
    greedy,
  };
}

function solverReport(s: SolverResult): string {
  const rows = [
    [
      "obligations sorted into the solver's table (done by PostgreSQL in the service; once)",
      [s.times.table],
      null,
    ],
    ['exact set-off on the table (the solve inside preview and commit)', s.times.setoff, TARGETS.previewMs],
    ['set-off then liquidity mode (once)', [s.times.liquidity], null],
    ...(s.times.greedy === null
      ? []
      : [['greedy cycle clearing (once, for comparison)', [s.times.greedy], null] as const]),
  ] as const;
  const p = s.plan;
  return [
    '| solve, in one process | median | each run | target (whole preview through the API) | |',
    '| --- | --- | --- | --- | --- |',
    ...rows.map(
      ([name, xs, target]) =>
        `| ${name} | ${median(xs).toFixed(0)} ms | ${xs.map((x) => x.toFixed(0)).join(', ')} ms | ${target === null ? '—' : `under ${secs(target)}`} | ${target === null ? '' : verdict(median(xs), target)} |`,
    ),
    '',
    '| figure | value |',
    '| --- | --- |',
    `| outstanding before | ${money(p.outstandingBefore)} |`,
    `| exact set-off | ${money(p.setoffTotal)} (${pct(p.setoffTotal, p.outstandingBefore)}%) |`,
    s.greedy === null
      ? `| greedy set-off | not run: the greedy canceller takes hours at this size (72 s at 35,000 obligations); run with --greedy, or on ${GREEDY_OBLIGATIONS_MAX.toLocaleString('en-US')} obligations or fewer |`
      : `| greedy set-off | ${money(s.greedy)} (${pct(s.greedy, p.outstandingBefore)}%) |`,
    `| net internal debt (unchanged by set-off) | ${money(p.netInternalDebtBefore)} |`,
    `| liquidity mode on top | ${money(s.withLiquidity.liquidityTotal)} (${pct(s.withLiquidity.liquidityTotal, p.outstandingBefore)}%), using ${money(s.withLiquidity.liquidityUsed)} of network credit |`,
    `| net internal debt after the liquidity mode | ${money(s.withLiquidity.netInternalDebtAfter)} |`,
  ].join('\n');
}

// ---------- database and service ----------

const cleanups = new Cleanups(log);

async function openDatabase(options: Options): Promise<{ url: string; description: string }> {
  if (options.databaseUrl) {
    const name = `ledger_bench_clearing_${new Date().toISOString().replace(/\D/g, '').slice(0, 14)}_${process.pid}`;
    const url = new URL(await createBenchDatabase(options.databaseUrl, name, cleanups, options.keepDatabase));
    if (options.keepDatabase) log(`the database ${name} is kept after the run (--keep-database)`);
    return {
      url: url.toString(),
      description: `database ${name} on ${url.host} (DATABASE_URL), created for this run${options.keepDatabase ? ' and kept' : ''}`,
    };
  }
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'bench-clearing-'));
  await fs.chmod(tmp, 0o755);
  cleanups.push({ name: 'remove data folder', run: () => fs.rm(tmp, { recursive: true, force: true }) });
  const logger = pino({ level: 'warn' }, pino.destination({ dest: 2, sync: true }));
  log(`starting an embedded PostgreSQL in ${tmp}`);
  const cluster = await startEmbeddedPostgres({
    dataDir: path.join(tmp, 'pgdata'),
    logger,
    database: 'ledger_bench',
  });
  cleanups.push({
    name: 'stop PostgreSQL',
    run: async () => {
      await cluster.stop();
      if (!cluster.dataDir.startsWith(tmp)) await fs.rm(cluster.dataDir, { recursive: true, force: true });
    },
  });
  return {
    url: cluster.url,
    description: 'embedded PostgreSQL, fresh data folder under os.tmpdir(), default settings',
  };
}

/** The heap `npm start` gives the service (HEAP_MB, default 128), in MB. */
function heapMb(): string {
  const flag = npmStartNodeFlags().find((a) => a.startsWith('--max-old-space-size='));
  return flag?.split('=')[1] ?? 'default';
}

type Service = BenchService;

async function startService(databaseUrl: string, profile: boolean): Promise<Service> {
  const service = await startBenchService({
    databaseUrl,
    args: [...npmStartNodeFlags(), '--import', 'tsx', path.join('server', 'main.ts')],
    profile,
    cleanups,
    log,
    readyWithinMs: 90_000,
  });
  log(`service ready at ${service.url} (pid ${service.pid})`);
  return service;
}

/** With --cpu-prof, the service's profiler runs during `call` only and writes <dir>/<name>.cpuprofile. */
async function profiled<T>(service: Service, options: Options, name: string, call: () => Promise<T>) {
  if (!service.profiler || !options.cpuProfDir) return call();
  await service.profiler.start();
  try {
    return await call();
  } finally {
    await fs.mkdir(options.cpuProfDir, { recursive: true });
    const file = path.join(options.cpuProfDir, `${name}.cpuprofile`);
    await service.profiler.stop(file);
    log(`wrote ${file}`);
  }
}

// ---------- setup through the API ----------

function check<T extends { userErrors: { code: string; message: string }[] }>(what: string, payload: T): T {
  if (payload.userErrors.length > 0) throw new Error(`${what}: ${JSON.stringify(payload.userErrors)}`);
  return payload;
}

/** Runs `work(i)` for i in 0..count-1, `clients` at a time. */
async function inParallel(count: number, clients: number, work: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(clients, count) }, async () => {
      while (next < count) await work(next++);
    }),
  );
}

const decodeUuid = (globalId: string) => Buffer.from(globalId, 'base64').toString('utf8').split(':')[1]!;

interface Setup {
  networkId: string;
  bookUuid: string;
  /** Member global ids, by the generator's co-op index. */
  memberIds: string[];
  coopsMs: number;
  joinsMs: number;
  importMs: number;
  imported: number;
}

async function setup(client: LedgerClient, obligations: ObligationInput[], options: Options): Promise<Setup> {
  const created = check(
    'createCreditNetwork',
    await client.createCreditNetwork({
      name: 'Bench circuit',
      unit: { code: 'SRD', scale: 2 },
      pegCurrency: 'EUR',
      pegRate: '1',
      currencies: [{ code: 'EUR', scale: 2 }],
      // Limits wide enough that random payments between members are never refused.
      policy: { defaultLimit: '1000000.00', softLimitPercent: 80 },
      idempotencyKey: 'bench-network',
    }),
  );
  const networkId = created.network!.id;
  const bookUuid = decodeUuid(created.network!.bookId);
  const coopIds: string[] = new Array(options.coops);
  const t0 = performance.now();
  let done = 0;
  await inParallel(options.coops, options.setupClients, async (i) => {
    const coop = check(
      `createCoop ${i}`,
      await client.createCoop({
        name: `Bench co-op ${i + 1}`,
        kind: 'WORKER',
        naicsCode: '311811',
        city: 'Cagliari',
        foundedOn: '2010-01-01',
        legalForm: 'cooperativa',
        baseCurrency: { code: 'EUR', scale: 2 },
      }),
    );
    coopIds[i] = coop.coop!.id;
    if (++done % 400 === 0 || done === options.coops) log(`co-ops ${done}/${options.coops}`);
  });
  const coopsMs = performance.now() - t0;
  const memberIds: string[] = new Array(options.coops);
  const numbers: number[] = new Array(options.coops);
  const t1 = performance.now();
  done = 0;
  await inParallel(options.coops, options.setupClients, async (i) => {
    const joined = check(
      `joinCreditNetwork ${i}`,
      await client.joinCreditNetwork({ networkId, coopId: coopIds[i]!, idempotencyKey: `join-${i}` }),
    );
    memberIds[i] = joined.member!.id;
    numbers[i] = joined.member!.number;
    if (++done % 400 === 0 || done === options.coops) log(`members ${done}/${options.coops}`);
  });
  const joinsMs = performance.now() - t1;
  // The generated obligations, by member number, 10,000 rows a CSV file (about 450 KB).
  const perFile = 10_000;
  const t2 = performance.now();
  let imported = 0;
  for (let from = 0; from < obligations.length; from += perFile) {
    const rows = ['debtor,creditor,currency,amount,due_on,reference'];
    for (const o of obligations.slice(from, from + perFile)) {
      const debtor = numbers[Number(o.debtor.slice(1))]!;
      const creditor = numbers[Number(o.creditor.slice(1))]!;
      rows.push(`${debtor},${creditor},EUR,${money(o.outstanding)},${o.dueOn},INV-${o.id}`);
    }
    const result = await client.importObligationsCsv({
      networkId,
      csv: `${rows.join('\n')}\n`,
      idempotencyKey: `obligations-${from}`,
    });
    if (result.userErrors.length > 0 || result.rowErrors.length > 0)
      throw new Error(
        `importObligationsCsv: ${JSON.stringify(result.userErrors)} ${JSON.stringify(result.rowErrors.slice(0, 3))}`,
      );
    imported += result.recorded;
    log(`obligations ${imported}/${obligations.length}`);
  }
  const importMs = performance.now() - t2;
  return { networkId, bookUuid, memberIds, coopsMs, joinsMs, importMs, imported };
}

// ---------- clearing through the API ----------

interface ApiResult {
  previewMs: number[];
  commitMs: number;
  obligationsConsidered: number;
  outstandingBefore: string;
  setoffTotal: string;
  setoffPercent: string;
  outstandingAfter: string;
  netInternalDebt: string;
  entryCount: number;
  linesCleared: number;
  checks: string[];
}

/** Every member's net position in EUR (owed to it less what it owes), from the obligations table. */
async function positions(db: pg.Client, bookUuid: string): Promise<Map<string, string>> {
  const { rows } = await db.query<{ member: string; net: string }>(
    `select member, sum(amount)::text as net from (
       select creditor_id as member, outstanding as amount from credit_obligation where book_id = $1 and currency = 'EUR'
       union all
       select debtor_id, -outstanding from credit_obligation where book_id = $1 and currency = 'EUR') x
     group by member`,
    [bookUuid],
  );
  return new Map(rows.map((r) => [r.member, r.net]));
}

async function outstandingTotal(db: pg.Client, bookUuid: string): Promise<string> {
  const { rows } = await db.query<{ total: string }>(
    `select coalesce(sum(outstanding), 0)::numeric(38, 2)::text as total from credit_obligation
      where book_id = $1 and currency = 'EUR'`,
    [bookUuid],
  );
  return rows[0]!.total;
}

async function measureClearing(
  client: LedgerClient,
  db: pg.Client,
  service: Service,
  data: Setup,
  options: Options,
  solver: SolverResult | null,
): Promise<ApiResult> {
  const previewMs: number[] = [];
  let preview: NonNullable<Awaited<ReturnType<LedgerClient['previewClearing']>>['preview']> | null = null;
  for (let r = 1; r <= options.repeat; r++) {
    const answer = await profiled(service, options, `preview-${r}`, async () => {
      const t = performance.now();
      const a = await client.previewClearing({ networkId: data.networkId, currency: 'EUR', first: 100 });
      previewMs.push(performance.now() - t);
      return a;
    });
    check('previewClearing', answer);
    preview = answer.preview!;
    log(
      `preview ${r}/${options.repeat}: ${previewMs.at(-1)!.toFixed(0)} ms, set-off ${preview.setoffTotal} EUR`,
    );
  }
  const checks: string[] = [];
  if (preview!.obligationsConsidered !== data.imported)
    throw new Error(
      `the preview considered ${preview!.obligationsConsidered} obligations, not ${data.imported}`,
    );
  checks.push(`the preview considered all ${data.imported.toLocaleString('en-US')} obligations`);
  if (solver) {
    if (preview!.setoffTotal !== money(solver.plan.setoffTotal))
      throw new Error(
        `the service's set-off ${preview!.setoffTotal} differs from the solver's ${money(solver.plan.setoffTotal)}`,
      );
    checks.push("the service's set-off equals the in-process solver's on the same network, to the cent");
  }
  const before = await positions(db, data.bookUuid);
  let commitMs = 0;
  const committed = await profiled(service, options, 'commit', async () => {
    const t = performance.now();
    const a = await client.commitClearing({
      networkId: data.networkId,
      currency: 'EUR',
      snapshotHash: preview!.snapshotHash,
      idempotencyKey: 'bench-clearing',
    });
    commitMs = performance.now() - t;
    return a;
  });
  check('commitClearing', committed);
  const clearing = committed.clearing!;
  log(`commit: ${commitMs.toFixed(0)} ms, ${clearing.entryCount} entries; checking`);
  if (clearing.setoffTotal !== preview!.setoffTotal || clearing.snapshotHash !== preview!.snapshotHash)
    throw new Error('the commit cleared something else than the preview showed');
  checks.push("the commit cleared the preview's set-off from the preview's snapshot");
  const after = await positions(db, data.bookUuid);
  const moved = [...before].filter(([m, net]) => after.get(m) !== net && !(net === '0' && !after.has(m)));
  if (moved.length > 0 || after.size > before.size)
    throw new Error(
      `${moved.length} members' net positions moved in the database: ${JSON.stringify(moved.slice(0, 3))}`,
    );
  checks.push(
    `every member's net position read back from the database is unchanged (${before.size.toLocaleString('en-US')} members)`,
  );
  const left = await outstandingTotal(db, data.bookUuid);
  if (left !== clearing.outstandingAfter)
    throw new Error(`the database holds ${left} outstanding, the clearing says ${clearing.outstandingAfter}`);
  checks.push(
    `what the database holds outstanding afterwards is the clearing's outstandingAfter (${left} EUR)`,
  );
  const { rows } = await db.query<{ n: string }>(
    `select count(*)::text as n from credit_clearing_line where book_id = $1`,
    [data.bookUuid],
  );
  return {
    previewMs,
    commitMs,
    obligationsConsidered: clearing.obligationsConsidered,
    outstandingBefore: clearing.outstandingBefore,
    setoffTotal: clearing.setoffTotal,
    setoffPercent: preview!.setoffPercent,
    outstandingAfter: clearing.outstandingAfter,
    netInternalDebt: clearing.netInternalDebtBefore,
    entryCount: clearing.entryCount,
    linesCleared: Number(rows[0]!.n),
    checks,
  };
}

// ---------- payments through the API ----------

interface PayResult {
  output: PayWorkerOutput;
  paymentsPerSecond: number;
  serverCpuMsPerRequest: number;
  postgresCpuMsPerRequest: number;
  serverCpuPct: number;
  postgresCpuPct: number;
  otherCpuPct: number;
  posted: number;
  serverPeakMb: number | null;
}

async function journalCount(db: pg.Client, bookUuid: string): Promise<number> {
  const { rows } = await db.query<{ n: string }>(
    'select count(*)::text as n from journal_entry where book_id = $1',
    [bookUuid],
  );
  return Number(rows[0]!.n);
}

async function measurePayments(
  db: pg.Client,
  service: Service,
  data: Setup,
  options: Options,
): Promise<PayResult> {
  const backend = (await db.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]!.pid;
  const postmaster = parentPid(backend);
  const entriesBefore = await journalCount(db, data.bookUuid);
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'bench-clearing-pay-'));
  cleanups.push({ name: 'remove pay config', run: () => fs.rm(tmp, { recursive: true, force: true }) });
  const config: PayWorkerConfig = {
    url: service.url,
    token: service.token,
    memberIds: data.memberIds,
    connections: options.connections,
    durationSeconds: options.durationSeconds,
    warmupSeconds: options.warmupSeconds,
    keyPrefix: `pay-${Date.now()}`,
    timeoutSeconds: 30,
  };
  const configFile = path.join(tmp, 'pay.json');
  await fs.writeFile(configFile, JSON.stringify(config));
  log(
    `payInNetwork at ${options.connections} clients: ${options.warmupSeconds} s warm-up, ${options.durationSeconds} s measured`,
  );
  const worker = spawn(
    process.execPath,
    ['--import', 'tsx', path.join('scripts', 'bench', 'pay-worker.ts'), configFile],
    {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  type Snap = { at: number; server?: number; pg?: number; busy?: number };
  const snap = (): Snap => ({
    at: performance.now(),
    server: processCpuSeconds(service.pid),
    pg: postmaster === undefined ? undefined : clusterCpuSeconds(postmaster),
    busy: machineCpu()?.busySeconds,
  });
  let first: Snap | undefined;
  let last: Snap | undefined;
  let peakKb = 0;
  const sampler = setInterval(() => {
    peakKb = Math.max(peakKb, readMemory(service.pid)?.rssKb ?? 0);
  }, 200);
  let stdout = '';
  let stderr = '';
  worker.stdout!.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  worker.stderr!.on('data', (d: Buffer) => {
    const text = d.toString();
    stderr = (stderr + text).slice(-5000);
    if (text.includes('@phase main')) {
      first = snap();
      if (service.profiler && options.cpuProfDir) void service.profiler.start();
    }
    if (text.includes('@phase done') && !last) {
      last = snap();
      if (service.profiler && options.cpuProfDir) {
        const file = path.join(options.cpuProfDir, 'pay.cpuprofile');
        void fs
          .mkdir(options.cpuProfDir, { recursive: true })
          .then(() => service.profiler!.stop(file))
          .then(() => log(`wrote ${file}`));
      }
    }
  });
  const [code] = (await once(worker, 'exit')) as [number | null];
  clearInterval(sampler);
  if (code !== 0) throw new Error(`the pay worker failed (exit ${code}):\n${stderr}`);
  const output = JSON.parse(stdout.trim().split('\n').at(-1)!) as PayWorkerOutput;
  if (!first || !last) throw new Error('the pay worker never marked its measured window');
  await sleep(1000); // answers in flight when autocannon stopped
  const posted = (await journalCount(db, data.bookUuid)) - entriesBefore;
  if (posted < output.total.ok)
    throw new Error(
      `the answers report ${output.total.ok} payments but the book holds ${posted} new entries`,
    );
  const windowSeconds = (last.at - first.at) / 1000;
  const requests = output.window.ok + output.window.failed;
  const cpu = (a?: number, b?: number) => (a === undefined || b === undefined ? Number.NaN : b - a);
  const serverCpu = cpu(first.server, last.server);
  const pgCpu = cpu(first.pg, last.pg);
  const busy = cpu(first.busy, last.busy);
  return {
    output,
    paymentsPerSecond: output.window.ok / output.window.seconds,
    serverCpuMsPerRequest: (serverCpu * 1000) / requests,
    postgresCpuMsPerRequest: (pgCpu * 1000) / requests,
    serverCpuPct: (serverCpu / windowSeconds) * 100,
    postgresCpuPct: (pgCpu / windowSeconds) * 100,
    otherCpuPct:
      ((busy - serverCpu - (Number.isFinite(pgCpu) ? pgCpu : 0) - output.window.cpuSeconds) / windowSeconds) *
      100,
    posted,
    serverPeakMb: peakKb > 0 ? Math.round(peakKb / 1024) : null,
  };
}

// ---------- report ----------

interface Facts {
  command: string;
  load: [number[], number[]];
  database: string | null;
  heap: string;
  generateMs: number;
}

function report(
  options: Options,
  facts: Facts,
  solver: SolverResult | null,
  data: Setup | null,
  api: ApiResult | null,
  pay: PayResult | null,
): { printed: string; section: string } {
  const cpus = os.cpus();
  const load = (l: number[]) => l.map((x) => x.toFixed(2)).join(' ');
  const parts: string[] = [];
  if (solver) parts.push(`### The solver in one process\n\n${solverReport(solver)}`);
  if (api && data) {
    const rows = [
      '| through the API | median | each run | target | |',
      '| --- | --- | --- | --- | --- |',
      `| previewClearing (first page of 100 lines, every member's position) | ${secs(median(api.previewMs))} | ${api.previewMs.map(secs).join(', ')} | under ${secs(TARGETS.previewMs)} | ${verdict(median(api.previewMs), TARGETS.previewMs)} |`,
      `| commitClearing (one; it clears everything that clears) | ${secs(api.commitMs)} | ${secs(api.commitMs)} | under ${secs(TARGETS.commitMs)} | ${verdict(api.commitMs, TARGETS.commitMs)} |`,
    ];
    parts.push(`### Clearing through the API

Setup through the SDK (not a target): ${options.coops.toLocaleString('en-US')} createCoop in ${secs(data.coopsMs)}, ${options.coops.toLocaleString('en-US')} joinCreditNetwork in ${secs(data.joinsMs)} (${options.setupClients} at a time), ${data.imported.toLocaleString('en-US')} obligations by importObligationsCsv (10,000 rows a file) in ${secs(data.importMs)}.

${rows.join('\n')}

| figure | value |
| --- | --- |
| obligations considered | ${api.obligationsConsidered.toLocaleString('en-US')} |
| outstanding before | ${api.outstandingBefore} EUR |
| set-off | ${api.setoffTotal} EUR (${api.setoffPercent}%) |
| outstanding after | ${api.outstandingAfter} EUR |
| net internal debt (unchanged by set-off) | ${api.netInternalDebt} EUR |
| obligations reduced or settled | ${api.linesCleared.toLocaleString('en-US')} |
| entries posted by the commit | ${api.entryCount} |

Checked: ${api.checks.join('; ')}; and, inside the commit's transaction, the service's own deferred
constraint trigger (no obligation created, no member's net position moved, the ledger's accounts
agree with the obligations).`);
  }
  if (pay) {
    const w = pay.output.window;
    const rows = [
      '| payInNetwork, API | value | yardstick | |',
      '| --- | --- | --- | --- |',
      `| payments/s at ${options.connections} clients | ${pay.paymentsPerSecond.toFixed(0)} | — | |`,
      `| latency p50 | ${w.latencyMs.p50.toFixed(1)} ms | — | |`,
      `| latency p99 | ${w.latencyMs.p99.toFixed(1)} ms | under ${PAY_TARGETS.p99Ms} ms | ${verdict(w.latencyMs.p99, PAY_TARGETS.p99Ms)} |`,
      `| service CPU per request | ${pay.serverCpuMsPerRequest.toFixed(3)} ms | under ${PAY_TARGETS.cpuMsPerRequest} ms | ${verdict(pay.serverCpuMsPerRequest, PAY_TARGETS.cpuMsPerRequest)} |`,
      `| PostgreSQL CPU per request | ${Number.isFinite(pay.postgresCpuMsPerRequest) ? `${pay.postgresCpuMsPerRequest.toFixed(3)} ms` : '—'} | — | |`,
    ];
    const problems = Object.entries(pay.output.total.problems);
    parts.push(`### Payments through the API

${rows.join('\n')}

${w.ok.toLocaleString('en-US')} payments succeeded in the ${w.seconds} s window (${w.failed} answered otherwise, ${w.transportErrors} unanswered); ${pay.output.total.ok.toLocaleString('en-US')} over warm-up and window, and the network's book holds ${pay.posted.toLocaleString('en-US')} new entries (the difference: answers in flight when the load stopped).${problems.length > 0 ? ` Problems seen: ${problems.map(([p, n]) => `${p} (${n})`).join('; ')}.` : ''}
CPU in the window: the service ${pay.serverCpuPct.toFixed(0)}%, PostgreSQL ${Number.isFinite(pay.postgresCpuPct) ? `${pay.postgresCpuPct.toFixed(0)}%` : '—'}, autocannon ${((w.cpuSeconds / w.seconds) * 100).toFixed(0)}%, everything else on the machine ${Number.isFinite(pay.otherCpuPct) ? `${Math.max(0, pay.otherCpuPct).toFixed(0)}%` : '—'} (of ${cpus.length * 100}%). Service peak RSS ${pay.serverPeakMb ?? '?'} MB. The yardsticks are issue 12's for one journal entry through the API; a payment is one such entry (two lines, bounds checked) plus the member checks.`);
  }
  const section = `## Clearing

Written by \`scripts/bench-clearing.ts\` (its section only).

- **Date:** ${new Date().toISOString()}
- **Command:** \`${facts.command}\`
- **Machine:** ${cpus.length} cores (${cpus[0]?.model.trim() ?? 'unknown'}), ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB memory, ${os.type()} ${os.release()}; shared with other engineers' work
- **Load average** before / after: ${load(facts.load[0])} / ${load(facts.load[1])}: the machine was not quiet, so every time below is an upper bound of what the code takes on a quiet machine
- **Node:** ${process.version}${facts.database ? `; the service as a child process under tsx with \`--max-old-space-size=${facts.heap}\` (what \`npm start\` gives it${process.env.HEAP_MB ? ` with HEAP_MB=${process.env.HEAP_MB}` : ''})\n- **Database:** ${facts.database}` : ''}
- **Network:** ${options.obligations.toLocaleString('en-US')} open obligations among ${options.coops.toLocaleString('en-US')} co-ops in 40 sectors (45% of invoices inside a sector, 35% to the next sector of a supply chain whose last sector sells to the first, 20% anywhere; amounts log-uniform from 50.00 to 50,000.00 EUR; due dates over six months), seed ${options.seed}, generated in ${facts.generateMs.toFixed(0)} ms

${parts.join('\n\n')}`;
  return { printed: parts.join('\n\n'), section };
}

// ---------- main ----------

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const options = parseCommandLine(argv, parseOptions, USAGE);
  if (typeof options === 'number') return options;
  const loadBefore = os.loadavg();
  log(`generating ${options.obligations} obligations among ${options.coops} co-ops (seed ${options.seed})`);
  const g = performance.now();
  const obligations = network(options.coops, options.obligations, options.seed);
  const generateMs = performance.now() - g;
  const solver = options.parts.has('solver') ? runSolver(obligations, options) : null;
  let database: string | null = null;
  let data: Setup | null = null;
  let api: ApiResult | null = null;
  let pay: PayResult | null = null;
  if (options.parts.has('api') || options.parts.has('pay')) {
    const opened = await openDatabase(options);
    database = opened.description;
    const service = await startService(opened.url, options.cpuProfDir !== null);
    const client = createLedgerClient({ url: service.url, token: service.token, timeoutMs: 300_000 });
    const db = new pg.Client({ connectionString: opened.url });
    await db.connect();
    cleanups.push({ name: 'close the check connection', run: () => db.end() });
    log(`setting up ${options.coops} co-ops and members and their obligations through the API`);
    data = await setup(client, obligations, options);
    if (options.parts.has('api')) api = await measureClearing(client, db, service, data, options, solver);
    if (options.parts.has('pay')) pay = await measurePayments(db, service, data, options);
  }
  const { printed, section } = report(
    options,
    {
      command: `${process.env.HEAP_MB ? `HEAP_MB=${process.env.HEAP_MB} ` : ''}${commandLine(argv, [], 'scripts/bench-clearing.ts')}`,
      load: [loadBefore, os.loadavg()],
      database,
      heap: heapMb(),
      generateMs,
    },
    solver,
    data,
    api,
    pay,
  );
  process.stdout.write(`${printed}\n`);
  if (options.output) {
    await writeReportSection(options.output, 'bench-clearing', section);
    log(`wrote the clearing section of ${options.output}`);
  }
  return 0;
}

runScript('bench-clearing', main, cleanups, log);
