/**
 * Patronage benchmark (issue 13): the time to preview and to commit an allocation run for a large
 * co-op, through the API and the SDK, as a treasurer would. Run `npm run bench:patronage -- --help`.
 * Prints each figure beside its target on stdout, progress on stderr, and writes its section of
 * BENCHMARKS.md (between the markers below; the rest of the file is left as it is).
 *
 *   this orchestrator ── embedded PostgreSQL (or a fresh database on DATABASE_URL's server)
 *                    └─ the service as a child process (Node 24 with tsx, the Node flags `npm start` gives it)
 *
 * Setup (not timed as a figure, but reported): a co-op, --members members imported from CSV
 * (ACTIVE all year), a policy weighing hours and wages 50/50 with 30% to the reserve and 10% to the
 * community fund, --periods monthly periods of both measures per member imported from CSV, and the
 * year's revenue and expenses. Then, --repeat times each: preview (first page of 100 members),
 * commit (every member's allocation posted), and reverse (to commit again). Each committed run is
 * checked: memberCount, verifyPatronageRun (hash and every cent) and the trial balance.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { pino } from 'pino';
import { createLedgerClient, type LedgerClient } from '../client-sdk/index.js';
import { startEmbeddedPostgres } from '../server/platform/db/embedded.js';
import type { RemoteProfiler } from './bench/profiler.js';
import {
  type BenchService,
  createBenchDatabase,
  npmStartNodeFlags,
  npmStartScript,
  startBenchService,
  startCommandOf,
} from './lib/bench-service.js';
import { Cleanups, runScript } from './lib/cleanups.js';
import { commandLine, parseCommandLine, UsageError } from './lib/cli.js';
import { writeReportSection } from './lib/report-section.js';

const repoRoot = path.resolve(fileURLToPath(new URL('..', import.meta.url)));
const TARGETS = { previewMs: 1_000, commitMs: 5_000 } as const;
const FISCAL_YEAR = 2025;

const USAGE = `Patronage benchmark: preview and commit an allocation run for a large co-op through the API.

Usage: npm run bench:patronage -- [options]
       npx tsx scripts/bench-patronage.ts [options]

Starts a fresh embedded PostgreSQL (data under os.tmpdir(), removed at the end) or, when
DATABASE_URL is set (or --database-url given), creates a fresh database on that server and drops
it at the end; starts the service on it; imports --members members and their patronage
(--periods monthly periods of hours and wages each) and analyzes the database (the statistics
autovacuum keeps on a live server, where a bulk import is analyzed within a minute or so); then
times, --repeat times, a preview and a commit of fiscal year ${FISCAL_YEAR} (each commit is
checked, then reversed for the next round).

Options:
  --members <n>         members of the co-op (default 10000)
  --periods <n>         monthly periods per member and measure, 1 to 12 (default 12)
  --repeat <n>          previews and commits timed (default 3)
  --database-url <url>  a PostgreSQL server to create the bench database on (default: embedded)
  --output <file>       report file whose patronage section is written (default BENCHMARKS.md)
  --no-write            print only, write no file
  --cpu-prof <dir>      profile the service with V8's sampling profiler (through the inspector)
                        during each preview and commit, writing <dir>/preview-<round>.cpuprofile
                        and <dir>/commit-<round>.cpuprofile; scripts/bench/profile-summary.ts
                        sums one up
  --built               start the service as npm start does: its build step, then compiled dist/
                        (without it: the sources under tsx, with npm start's Node flags: its heap,
                        semi-space and source maps)
  --keep-database       with --database-url (or DATABASE_URL), keep the bench database after the
                        run (its name is printed) to study its statements with EXPLAIN ANALYZE
  -h, --help            this text

Targets (issue 13): preview under ${TARGETS.previewMs / 1000} s, commit under ${TARGETS.commitMs / 1000} s for 10,000 members
with 12 monthly periods and two measures.
`;

const log = (message: string) => process.stderr.write(`[bench-patronage] ${message}\n`);

interface Options {
  members: number;
  periods: number;
  repeat: number;
  databaseUrl: string | null;
  output: string | null;
  cpuProfDir: string | null;
  keepDatabase: boolean;
  built: boolean;
}

function parseOptions(argv: string[]): Options | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      members: { type: 'string' },
      periods: { type: 'string' },
      repeat: { type: 'string' },
      'database-url': { type: 'string' },
      output: { type: 'string' },
      'no-write': { type: 'boolean' },
      'cpu-prof': { type: 'string' },
      'keep-database': { type: 'boolean' },
      built: { type: 'boolean' },
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
  return {
    members: int('members', values.members, 10_000, 1, 100_000),
    periods: int('periods', values.periods, 12, 1, 12),
    repeat: int('repeat', values.repeat, 3, 1, 20),
    databaseUrl: values['database-url'] ?? (process.env.DATABASE_URL?.trim() || null),
    output: values['no-write'] ? null : path.resolve(values.output ?? path.join(repoRoot, 'BENCHMARKS.md')),
    cpuProfDir: values['cpu-prof'] === undefined ? null : path.resolve(values['cpu-prof']),
    keepDatabase: values['keep-database'] === true,
    built: values.built === true,
  };
}

// ---------- database and service ----------

const cleanups = new Cleanups(log);

async function openDatabase(options: Options): Promise<{ url: string; description: string }> {
  if (options.databaseUrl) {
    const name = `ledger_bench_patronage_${Date.now()}_${randomBytes(3).toString('hex')}`;
    const url = new URL(await createBenchDatabase(options.databaseUrl, name, cleanups, options.keepDatabase));
    if (options.keepDatabase) log(`the database ${name} is kept after the run (--keep-database)`);
    return {
      url: url.toString(),
      description: `a fresh database on DATABASE_URL's server, ${options.keepDatabase ? 'kept' : 'dropped'} after the run`,
    };
  }
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'bench-patronage-'));
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

/**
 * The command `npm start` runs the service with, from package.json: its build step (scripts/start.ts:
 * compiles server/ and schema/ to dist/ when they changed) and the Node flags and environment of
 * `node ... dist/server/main.js` (a semi-space of 16 MB, the bounded heap, source maps).
 */
function npmStartCommand(): { build: string[]; env: Record<string, string>; args: string[] } {
  const script = npmStartScript().trim();
  const build = /^node\s+(.+?)\s*&&/.exec(script);
  if (!build)
    throw new Error('package.json "start" must be `node <build> && [VAR=value ...] node <flags> <script>`');
  return { build: build[1]!.split(/\s+/), ...startCommandOf(script, process.env) };
}

async function startService(databaseUrl: string, profile: boolean, built: boolean): Promise<BenchService> {
  const command = npmStartCommand();
  // From the sources under tsx with the Node flags npm start gives the compiled service (its heap
  // and its 16 MB semi-space: with the heap bounded alone, V8 sizes the young generation from it
  // and a 10,000-member run spent about half its CPU collecting garbage).
  let args = [...npmStartNodeFlags(), '--import', 'tsx', path.join('server', 'main.ts')];
  let env: Record<string, string> = {};
  if (built) {
    log(`building as npm start does (${command.build.join(' ')})`);
    const build = spawnSync(process.execPath, command.build, { cwd: repoRoot, stdio: 'inherit' });
    if (build.status !== 0) throw new Error(`the build step of npm start failed (exit ${build.status})`);
    env = command.env;
    args = command.args;
  }
  return startBenchService({ databaseUrl, args, env, profile, cleanups, log, readyWithinMs: 90_000 });
}

/** Peak resident memory of a process (VmHWM), in MB. */
async function peakRssMb(pid: number): Promise<number | null> {
  try {
    const status = await fs.readFile(`/proc/${pid}/status`, 'utf8');
    const kb = /VmHWM:\s+(\d+) kB/.exec(status)?.[1];
    return kb ? Math.round(Number(kb) / 1024) : null;
  } catch {
    return null;
  }
}

// ---------- setup through the API ----------

function check<T extends { userErrors: { code: string; message: string }[] }>(what: string, payload: T): T {
  if (payload.userErrors.length > 0) throw new Error(`${what}: ${JSON.stringify(payload.userErrors)}`);
  return payload;
}

async function setup(client: LedgerClient, options: Options) {
  const coop = check(
    'createCoop',
    await client.createCoop({
      name: 'Bench worker co-op',
      kind: 'WORKER',
      naicsCode: '311811',
      city: 'Springfield',
      foundedOn: '2010-01-01',
      legalForm: 'worker cooperative corporation',
      baseCurrency: { code: 'USD', scale: 2 },
    }),
  ).coop!;
  check(
    'createMemberClass',
    await client.createMemberClass({
      coopId: coop.id,
      code: 'WORKER',
      name: 'Worker',
      buyIn: '0.00',
      voting: true,
    }),
  );
  const t0 = performance.now();
  const perFile = 5_000;
  for (let from = 1; from <= options.members; from += perFile) {
    const to = Math.min(options.members, from + perFile - 1);
    const rows = ['name,class,applied_on,external_ref,status,status_on'];
    for (let i = from; i <= to; i++) rows.push(`Member ${i},WORKER,2024-12-01,m${i},active,2024-12-01`);
    const result = await client.importMembersCsv({
      coopId: coop.id,
      kind: 'MEMBERS',
      csv: `${rows.join('\n')}\n`,
      idempotencyKey: `members-${from}`,
    });
    if (!result.imported)
      throw new Error(
        `members import: ${JSON.stringify(result.rowErrors.slice(0, 3))} ${JSON.stringify(result.userErrors)}`,
      );
    log(`members ${to}/${options.members}`);
  }
  const membersMs = performance.now() - t0;
  check(
    'setPatronagePolicy',
    await client.setPatronagePolicy({
      coopId: coop.id,
      measures: [
        { code: 'HOURS', kind: 'HOURS', unit: { code: 'HOUR', scale: 2 }, weight: '0.5' },
        { code: 'WAGES', kind: 'WAGES', unit: { code: 'USD', scale: 2 }, weight: '0.5' },
      ],
      reservePercent: '30',
      communityPercent: '10',
      revolvingYears: 5,
    }),
  );
  // Member numbers are 1..members (imported in order). Deterministic quantities, different per member.
  const t1 = performance.now();
  const lines: string[] = [];
  for (let n = 1; n <= options.members; n++)
    for (let m = 1; m <= options.periods; m++) {
      const mm = String(m).padStart(2, '0');
      const last = new Date(Date.UTC(FISCAL_YEAR, m, 0)).getUTCDate();
      const from = `${FISCAL_YEAR}-${mm}-01`;
      const to = `${FISCAL_YEAR}-${mm}-${last}`;
      lines.push(`${n},HOURS,${from},${to},${(100 + ((n * 7 + m * 13) % 80)).toFixed(2)}`);
      lines.push(
        `${n},WAGES,${from},${to},${(2000 + ((n * 31 + m * 17) % 1500) + (n % 100) / 100).toFixed(2)}`,
      );
    }
  const rowsPerFile = 20_000;
  for (let i = 0; i < lines.length; i += rowsPerFile) {
    const chunk = lines.slice(i, i + rowsPerFile);
    const result = await client.importPatronageCsv({
      coopId: coop.id,
      csv: `member,measure,period_start,period_end,quantity\n${chunk.join('\n')}\n`,
      idempotencyKey: `records-${i}`,
    });
    if (!result.imported)
      throw new Error(
        `records import: ${JSON.stringify(result.rowErrors.slice(0, 3))} ${JSON.stringify(result.userErrors)}`,
      );
    log(`patronage records ${Math.min(i + rowsPerFile, lines.length)}/${lines.length}`);
  }
  const recordsMs = performance.now() - t1;
  const chart = Object.fromEntries(coop.chartOfAccounts.map((a) => [a.account.code, a.account.id]));
  for (const [account, side, amount] of [
    ['4000', 'CREDIT', '9876543.21'],
    ['5000', 'DEBIT', '6543210.98'],
  ] as const)
    check(
      'postJournalEntry',
      await client.postJournalEntry({
        bookId: coop.book.id,
        idempotencyKey: `result-${account}`,
        effectiveAt: `${FISCAL_YEAR}-06-30T00:00:00.000Z`,
        lines: [
          { accountId: chart[account]!, side, amount, unit: 'USD' },
          { accountId: chart['1010']!, side: side === 'CREDIT' ? 'DEBIT' : 'CREDIT', amount, unit: 'USD' },
        ],
      }),
    );
  const bookUuid = Buffer.from(coop.book.id, 'base64').toString('utf8').split(':')[1]!;
  return { coopId: coop.id, bookId: coop.book.id, bookUuid, membersMs, recordsMs, records: lines.length };
}

// ---------- measurement ----------

interface Round {
  previewMs: number;
  commitMs: number;
  reverseMs: number | null;
}

/**
 * ANALYZE the bench database after its bulk import: a live server's autovacuum analyzes a table
 * within a minute or so of such an import, and without statistics the planner takes 240,000
 * records for a handful (a sort spilling to disk where a hash aggregate belongs).
 */
async function analyze(databaseUrl: string): Promise<void> {
  const c = new pg.Client({ connectionString: databaseUrl });
  await c.connect();
  try {
    await c.query('analyze');
  } finally {
    await c.end();
  }
}

async function bookBalances(databaseUrl: string, bookId: string): Promise<boolean> {
  const c = new pg.Client({ connectionString: databaseUrl });
  await c.connect();
  try {
    const { rows } = await c.query(
      'select unit_code, sum(posted_debits) = sum(posted_credits) as balanced from account where book_id = $1 group by unit_code',
      [bookId],
    );
    return rows.length > 0 && rows.every((r) => r.balanced === true);
  } finally {
    await c.end();
  }
}

async function measure(
  client: LedgerClient,
  coop: { coopId: string; bookId: string; bookUuid: string },
  options: Options,
  databaseUrl: string,
  profiler: RemoteProfiler | null,
) {
  const rounds: Round[] = [];
  // With --cpu-prof, the service's profiler runs during each timed call only.
  const profiled = async <T>(name: string, call: () => Promise<T>): Promise<T> => {
    if (!profiler || !options.cpuProfDir) return call();
    await profiler.start();
    const result = await call();
    await fs.mkdir(options.cpuProfDir, { recursive: true });
    const file = path.join(options.cpuProfDir, `${name}.cpuprofile`);
    await profiler.stop(file);
    log(`wrote ${file}`);
    return result;
  };
  let surplus = '';
  let memberCount = 0;
  for (let r = 0; r < options.repeat; r++) {
    let previewMs = 0;
    const preview = await profiled(`preview-${r + 1}`, async () => {
      const t0 = performance.now();
      const answer = await client.previewPatronageAllocation({
        coopId: coop.coopId,
        fiscalYear: FISCAL_YEAR,
        allocatedOn: '2026-02-01',
        first: 100,
      });
      previewMs = performance.now() - t0;
      return answer;
    });
    if (preview.userErrors.length > 0 || !preview.preview)
      throw new Error(`preview: ${JSON.stringify(preview.userErrors)}`);
    surplus = preview.preview.surplus;
    let commitMs = 0;
    const committed = check(
      'commit',
      await profiled(`commit-${r + 1}`, async () => {
        const t1 = performance.now();
        const answer = await client.commitPatronageAllocation({
          coopId: coop.coopId,
          fiscalYear: FISCAL_YEAR,
          allocatedOn: '2026-02-01',
          idempotencyKey: `bench-run-${r}`,
        });
        commitMs = performance.now() - t1;
        return answer;
      }),
    );
    const run = committed.run!;
    log(`round ${r + 1}: preview ${previewMs.toFixed(0)} ms, commit ${commitMs.toFixed(0)} ms; checking`);
    memberCount = run.memberCount;
    if (run.memberCount !== options.members)
      throw new Error(`the run has ${run.memberCount} members, not ${options.members}`);
    if (run.inputsHash !== preview.preview.inputsHash)
      throw new Error('the commit computed other inputs than the preview');
    const verified = await client.verifyPatronageRun({ id: run.id });
    if (!verified?.inputsHashMatches || !verified.figuresMatch)
      throw new Error(`verification failed: ${JSON.stringify(verified)}`);
    // The book balances (summed in SQL: the API's trialBalance answers a book of 50,000 accounts
    // in one piece, more than the service's default heap holds; see README, Performance).
    if (!(await bookBalances(databaseUrl, coop.bookUuid)))
      throw new Error('the trial balance does not balance');
    let reverseMs: number | null = null;
    if (r < options.repeat - 1) {
      const t2 = performance.now();
      check(
        'reverse',
        await client.reversePatronageAllocation({ runId: run.id, idempotencyKey: `bench-reverse-${r}` }),
      );
      reverseMs = performance.now() - t2;
    }
    rounds.push({ previewMs, commitMs, reverseMs });
    log(
      `round ${r + 1}/${options.repeat}: preview ${previewMs.toFixed(0)} ms, commit ${commitMs.toFixed(0)} ms` +
        (reverseMs === null ? '' : `, reverse ${reverseMs.toFixed(0)} ms`),
    );
  }
  return { rounds, surplus, memberCount };
}

// ---------- report ----------

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const fmt = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

function report(
  options: Options,
  facts: {
    database: string;
    load: [number[], number[]];
    command: string;
    peakMb: number | null;
  },
  data: Awaited<ReturnType<typeof setup>>,
  result: Awaited<ReturnType<typeof measure>>,
): { table: string; section: string } {
  const previews = result.rounds.map((r) => r.previewMs);
  const commits = result.rounds.map((r) => r.commitMs);
  const reverses = result.rounds.flatMap((r) => (r.reverseMs === null ? [] : [r.reverseMs]));
  const row = (what: string, xs: number[], target: number | null) =>
    `| ${what} | ${fmt(median(xs))} | ${xs.map(fmt).join(', ')} | ${target === null ? '—' : `under ${fmt(target)}`} | ${
      target === null ? '—' : median(xs) < target ? 'met' : 'MISSED'
    } |`;
  const table = [
    '| figure | median | each run | target | |',
    '| --- | --- | --- | --- | --- |',
    row(
      `preview, ${options.members.toLocaleString('en-US')} members (first page of 100)`,
      previews,
      TARGETS.previewMs,
    ),
    row(`commit, ${options.members.toLocaleString('en-US')} members`, commits, TARGETS.commitMs),
    ...(reverses.length > 0 ? [row('reverse (between rounds)', reverses, null)] : []),
  ].join('\n');
  const cpus = os.cpus();
  const section = `## Patronage

Written by \`scripts/bench-patronage.ts\` (its section only). Times are wall-clock through the API and
the SDK on one machine, the client in the orchestrator's process: compare within a run.

- **Date:** ${new Date().toISOString()}
- **Command:** \`${facts.command}\`
- **Machine:** ${cpus.length} cores (${cpus[0]?.model.trim() ?? 'unknown'}), ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB memory, ${os.type()} ${os.release()} ${os.arch()}
- **Load average** before / after: ${facts.load[0].map((l) => l.toFixed(2)).join(' ')} / ${facts.load[1].map((l) => l.toFixed(2)).join(' ')}
- **Node:** ${process.version}; the service as a child process ${
    options.built
      ? `started as \`npm start\` starts it (--built: compiled dist/, \`node ${npmStartCommand().args.join(' ')}\`)`
      : `under tsx with the Node flags \`npm start\` gives the compiled service (\`${npmStartNodeFlags().join(' ')}\`; --built runs dist/ as \`npm start\` does)`
  }
- **Database:** ${facts.database}
- **Data:** ${options.members.toLocaleString('en-US')} members imported from CSV, ${data.records.toLocaleString('en-US')} patronage records (${options.periods} monthly periods x 2 measures: hours and wages, weighted 50/50), 30% reserve, 10% community fund; surplus from the book: ${result.surplus} USD. Setup took ${fmt(data.membersMs)} (members) and ${fmt(data.recordsMs)} (records); the database is analyzed before measuring.
- **Checked each round:** the run has ${result.memberCount.toLocaleString('en-US')} members, the commit's inputs hash equals the preview's, verifyPatronageRun recomputes every cent and recounts the records, the book's debits equal its credits. Service peak RSS ${facts.peakMb ?? '?'} MB.

${table}

Preview reads the year's records and the members' days of membership, computes every member's cents
and answers the first 100; commit does the same inside one transaction under the book's lock and
posts the run (${Math.ceil(options.members / 98) + 1} entries of up to 100 lines), its inputs, their hash and every member's allocation.
Reverse posts the reversing entries of the same lines and nothing else: it is the posting engine's share of a
commit. Figures from a machine under load (see the load average) are higher than a quiet machine's.`;
  return { table, section };
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const options = parseCommandLine(argv, parseOptions, USAGE);
  if (typeof options === 'number') return options;
  const loadBefore = os.loadavg();
  const database = await openDatabase(options);
  log('starting the service');
  const service = await startService(database.url, options.cpuProfDir !== null, options.built);
  const client = createLedgerClient({ url: service.url, token: service.token, timeoutMs: 120_000 });
  log(`setting up ${options.members} members and their patronage`);
  const data = await setup(client, options);
  log('analyzing the bench database');
  await analyze(database.url);
  log('measuring');
  const result = await measure(client, data, options, database.url, service.profiler);
  const peakMb = await peakRssMb(service.pid);
  const { table, section } = report(
    options,
    {
      database: database.description,
      load: [loadBefore, os.loadavg()],
      command: commandLine(argv, ['bench:patronage'], 'scripts/bench-patronage.ts'),
      peakMb,
    },
    data,
    result,
  );
  process.stdout.write(`${table}\n`);
  if (options.output) {
    await writeReportSection(options.output, 'bench-patronage', section);
    log(`wrote the patronage section of ${options.output}`);
  }
  return 0;
}

runScript('bench-patronage', main, cleanups, log);
