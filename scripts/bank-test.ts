/**
 * The bank test: nothing lost, nothing doubled, through crashes and restarts.
 * Run `npm run bank-test -- --help` for the options.
 *
 * Processes:
 *   this harness ├─ the service: `node --import tsx server/main.ts` on its own embedded PostgreSQL
 *                │  (DATA_DIR: a fresh folder of the harness), or on a fresh database on
 *                │  --database-url's server (DATABASE_URL)
 *                └─ (in-process) W workers and R readers using the SDK over loopback HTTP
 *
 * Every operation's outcome is recorded and unknown ones are resent with the same idempotency key
 * until they are ok or rejected; faults are injected on a seeded schedule; at the end the journal
 * is compared with the outcomes and the checks are printed as a table (exit 1 on any violation)
 * and written to RELIABILITY.md.
 */
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { createLedgerClient } from '../client-sdk/index.js';
import { newTokenString } from '../server/auth/index.js';
import { redactUrl } from '../server/platform/config.js';
import { type CheckRow, runChecks, type Tally } from './bank/checks.js';
import { FAULT_KINDS, type FaultEvent, type FaultKind, POSTMASTER_FAULTS, runFaults } from './bank/faults.js';
import { Prng } from './bank/prng.js';
import {
  type HarnessDatabase,
  openHarnessDatabase,
  POSTING_COUNTER_NAMES,
  type PostingCounters,
  ServiceProcess,
} from './bank/processes.js';
import {
  type Bank,
  createBank,
  createLargeBook,
  LARGE_BATCH_MAX,
  LARGE_BATCH_MIN,
  LARGE_BOOK_ACCOUNTS,
  newStats,
  type OpRecord,
  runLargeBatchWorker,
  runReader,
  runWorker,
  SHORT_TIMEOUT_MAX_MS,
  SHORT_TIMEOUT_MIN_MS,
  SHORT_TIMEOUT_SHARE_BATCH,
  SHORT_TIMEOUT_SHARE_SINGLE,
} from './bank/workload.js';
import { commandLine } from './lib/cli.js';
import { freePort } from './lib/ports.js';

const repoRoot = path.resolve(fileURLToPath(new URL('..', import.meta.url)));

const SHORT_SECONDS = 40;
const LONG_SECONDS = 300;
/**
 * --large-batches: seconds of load after the faults have stopped and the last one has healed. The
 * posting engine's counters come from the processes that stop cleanly, and a SIGKILL late in the
 * load could leave the last process no time to run the pipeline before its SIGTERM.
 */
const LARGE_BATCH_TAIL_SECONDS = 15;

const USAGE = `Bank test: concurrent payments through the SDK while the service and its database are
crashed, paused and cut off; then checks that nothing was lost or doubled.

Usage: npm run bank-test -- [options]
       npx tsx scripts/bank-test.ts [options]

Starts the service as a child process on its own embedded PostgreSQL (DATA_DIR: a fresh folder
under os.tmpdir(), removed afterwards) or, with --database-url / DATABASE_URL, on a fresh database
on that server (dropped afterwards; that server is never stopped). Creates a book of --accounts
accounts (zero balances, credit limits, some upper bounds), then for the load time runs
--workers workers sending payments (postJournalEntry), batches (postJournalEntries, ATOMIC and
INDEPENDENT) and two-phase entries (postPendingEntry then commit or void), each with its own
idempotency key, and --readers readers checking the trial balance (all balances at one moment).
Unknown outcomes (timeout, dropped connection, UNAVAILABLE) are resent with the same key until
the ledger answers ok or rejected. Loopback only.

With --large-batches, half of the --workers (as many on each service process) send INDEPENDENT
batches of ${LARGE_BATCH_MIN}-${LARGE_BATCH_MAX} entries instead (each entry with its own key, resent like the others)
between the ${LARGE_BOOK_ACCOUNTS} unbounded accounts of a book of their own (one per process, written by that process
only), so that the posting engine's pipeline runs: a flush of at least ${LARGE_BATCH_MIN} ops decided from its
cache, that moved no bounded account, has the next flush decided and queued on its connection
while its write is in flight. Every check below covers those books too. The load then goes on
for ${LARGE_BATCH_TAIL_SECONDS} s after the faults have stopped and the last one has healed, so that the last service
process (whose counters are logged at its SIGTERM) runs it for a while whenever it was started.

Faults, on a schedule drawn from --seed (one every few seconds, kinds taken in turn):
  kill        SIGKILL of the service, then a restart           (off: --no-kill)
  pause       SIGSTOP of the service for up to 2.5 s, SIGCONT   (off: --no-pause)
  db-restart  immediate stop of the service's PostgreSQL (SIGQUIT to its postmaster); the
              service must start it again by itself                (off: --no-db-restart)
  postmaster-kill  SIGKILL of the service's PostgreSQL postmaster; the service must start it
              again by itself                                      (off: --no-postmaster-kill)
              (these two need the service's embedded PostgreSQL: skipped on --database-url)
  terminate   pg_terminate_backend() of the service's sessions  (off: --no-terminate)
  timeouts    client time limits of ${SHORT_TIMEOUT_MIN_MS}-${SHORT_TIMEOUT_MAX_MS} ms on some requests    (off: --no-timeouts)

Checks at the end (a table on stdout; exit status 1 on any violation): every read summed to
zero within bounds; every acknowledged op is in the journal exactly once and as sent; every
rejected op is absent; no op left unknown; stored balances equal the sums of lines and of the
acknowledged ops; no balance beyond its bounds; the trial balance holds; the hash chain verifies;
the audit (auditBook: chain, account totals and day totals recomputed from the lines) finds
nothing; SIGTERM stops the service cleanly. The posting engine's counters (pipelinedWrites,
cacheHits, staleCachedWrites, staleWrites, lockedFallbacks) are read from the line each service
process logs when it stops cleanly, summed over those processes (a SIGKILLed one logs nothing);
with --large-batches, no pipelined write at all is a violation (the mode did not test what it
claims).

Options:
  --short               about 60 s in all: ${SHORT_SECONDS} s of load (the default; what CI runs)
  --long                ${LONG_SECONDS} s of load
  --duration <s>        seconds of load (overrides --short/--long)
  --seed <n>            seed of the op sequences and the fault schedule (default 1)
  --workers <n>         concurrent writers (default 8)
  --readers <n>         concurrent trial-balance readers (default 2)
  --accounts <n>        accounts in the book, 2..1000 (default 50)
  --large-batches       half of the workers send large INDEPENDENT batches on unbounded accounts
                        (see above; --workers must then be at least 2 per process)
  --processes <n>       service processes posting to the one book, 1 or 2 (default 1). With 2, the
                        workers alternate between them, so both post to the same book at once and
                        their compare-and-set on the book's chain head is exercised (issue 12); the
                        faults that restart the first process or its PostgreSQL (kill, db-restart,
                        postmaster-kill) are skipped unless --database-url is given (the second
                        process reaches the embedded PostgreSQL by a port that changes on a restart),
                        and kill then applies to the first process only
  --no-kill, --no-pause, --no-db-restart, --no-postmaster-kill, --no-terminate, --no-timeouts
                        switch a fault off
  --database-url <url>  use this PostgreSQL server (default: $DATABASE_URL, else embedded)
  --keep-database       do not drop the run's database on that server
  --out <file>          report file (default RELIABILITY.md in the checkout)
  --no-write            print the table only, do not write the report
  --verbose             echo the service's log lines
  -h, --help            this text
`;

interface Options {
  loadSeconds: number;
  mode: string;
  seed: number;
  workers: number;
  readers: number;
  accounts: number;
  processes: number;
  /** Of `workers`, those sending large batches (--large-batches; else 0). */
  largeWorkers: number;
  faults: FaultKind[];
  shortTimeouts: boolean;
  databaseUrl: string | undefined;
  keepDatabase: boolean;
  out: string | null;
  verbose: boolean;
}

class UsageError extends Error {}

function parseOptions(argv: string[]): Options | 'help' {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      short: { type: 'boolean' },
      long: { type: 'boolean' },
      duration: { type: 'string' },
      seed: { type: 'string' },
      workers: { type: 'string' },
      readers: { type: 'string' },
      accounts: { type: 'string' },
      processes: { type: 'string' },
      'large-batches': { type: 'boolean' },
      'no-kill': { type: 'boolean' },
      'no-pause': { type: 'boolean' },
      'no-db-restart': { type: 'boolean' },
      'no-postmaster-kill': { type: 'boolean' },
      'no-terminate': { type: 'boolean' },
      'no-timeouts': { type: 'boolean' },
      'database-url': { type: 'string' },
      'keep-database': { type: 'boolean' },
      out: { type: 'string' },
      'no-write': { type: 'boolean' },
      verbose: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return 'help';
  const integer = (name: string, raw: string | undefined, fallback: number, min: number, max: number) => {
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) {
      throw new UsageError(`--${name} must be an integer from ${min} to ${max} (got ${raw})`);
    }
    return value;
  };
  if (values.short && values.long) throw new UsageError('--short and --long exclude each other');
  const mode = values.duration !== undefined ? 'custom' : values.long ? 'long' : 'short';
  const loadSeconds = integer(
    'duration',
    values.duration,
    mode === 'long' ? LONG_SECONDS : SHORT_SECONDS,
    5,
    24 * 3600,
  );
  const databaseUrl = values['database-url'] ?? (process.env.DATABASE_URL?.trim() || undefined);
  if (databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new UsageError(
      `--database-url must be a postgres:// or postgresql:// URL (got ${redactUrl(databaseUrl)})`,
    );
  }
  const off: Record<FaultKind, boolean | undefined> = {
    kill: values['no-kill'],
    pause: values['no-pause'],
    'db-restart': values['no-db-restart'],
    'postmaster-kill': values['no-postmaster-kill'],
    terminate: values['no-terminate'],
  };
  const workers = integer('workers', values.workers, 8, 1, 256);
  const processes = integer('processes', values.processes, 1, 1, 2);
  // Half of the workers, as many on each process (large-batch worker i posts through process i % n).
  const largeWorkers = values['large-batches'] ? Math.floor(workers / 2 / processes) * processes : 0;
  if (values['large-batches'] && largeWorkers === 0) {
    throw new UsageError(`--large-batches needs --workers of at least ${2 * processes} (got ${workers})`);
  }
  return {
    loadSeconds,
    mode,
    seed: integer('seed', values.seed, 1, 0, 2 ** 32 - 1),
    workers,
    readers: integer('readers', values.readers, 2, 0, 16),
    // One trial balance page holds 1,000 accounts: more and a read would no longer be one snapshot.
    accounts: integer('accounts', values.accounts, 50, 2, 1000),
    processes,
    largeWorkers,
    faults: FAULT_KINDS.filter((kind) => !off[kind]),
    shortTimeouts: !values['no-timeouts'],
    databaseUrl,
    keepDatabase: values['keep-database'] ?? false,
    out: values['no-write'] ? null : path.resolve(values.out ?? path.join(repoRoot, 'RELIABILITY.md')),
    verbose: values.verbose ?? false,
  };
}

const log = (message: string) =>
  process.stderr.write(`[bank ${(performance.now() / 1000).toFixed(1).padStart(5)} s] ${message}\n`);

/** What Ctrl-C must clean up. */
const active: { service?: ServiceProcess; second?: ServiceProcess; database?: HarnessDatabase } = {};

interface RunResult {
  rows: CheckRow[];
  tally: Tally;
  faults: FaultEvent[];
  skipped: string[];
  requests: number;
  unknownByReason: Map<string, number>;
  /** Requests sent with a short client time limit and how many ran out; undefined with --no-timeouts. */
  shortTimeouts: { sent: number; fired: number } | undefined;
  restarts: number;
  /** The posting engine's counters summed over the processes that stopped cleanly, and how many did of how many. */
  posting: { counters: PostingCounters; logged: number; processes: number };
  database: string;
  postgresVersion: string;
  loadSeconds: number;
  totalSeconds: number;
}

async function run(options: Options): Promise<RunResult> {
  const startedAt = Date.now();
  const skipped: string[] = [];
  let database: HarnessDatabase | undefined;
  let service: ServiceProcess | undefined;
  try {
    database = await openHarnessDatabase(options.databaseUrl, { keepDatabase: options.keepDatabase, log });
    active.database = database;
    let faultKinds = options.faults;
    if (options.processes === 2 && database.owned) {
      for (const kind of ['kill', ...POSTMASTER_FAULTS] as FaultKind[]) {
        if (!faultKinds.includes(kind)) continue;
        faultKinds = faultKinds.filter((k) => k !== kind);
        skipped.push(`${kind} (with two processes on the embedded PostgreSQL: see --processes)`);
        log(`skipping the ${kind} fault: two processes share the first one's embedded PostgreSQL`);
      }
    }
    for (const kind of POSTMASTER_FAULTS) {
      if (database.owned || !faultKinds.includes(kind)) continue;
      faultKinds = faultKinds.filter((k) => k !== kind);
      skipped.push(`${kind} (the PostgreSQL at --database-url is not ours to stop)`);
      log(`skipping the ${kind} fault: the PostgreSQL at --database-url is not ours to stop`);
    }
    const adminToken = newTokenString();
    service = new ServiceProcess({
      databaseEnv: database.serviceEnv,
      adminToken,
      port: await freePort(),
      onLine: options.verbose ? (line) => process.stderr.write(`[service] ${line}\n`) : undefined,
    });
    active.service = service;
    log(`starting the service on ${service.origin}`);
    const startMs = await service.start(90_000);
    log(`service ready in ${startMs} ms`);
    const client = createLedgerClient({ url: service.url, token: adminToken, retries: 0, timeoutMs: 30_000 });
    // --processes 2: a second service on the same database; the workers alternate between them.
    let second: ServiceProcess | undefined;
    if (options.processes === 2) {
      second = new ServiceProcess({
        databaseEnv: { DATABASE_URL: database.url, DATA_DIR: '' },
        adminToken,
        port: await freePort(),
        onLine: options.verbose ? (line) => process.stderr.write(`[service 2] ${line}\n`) : undefined,
      });
      active.second = second;
      log(`starting a second service on ${second.origin}`);
      log(`second service ready in ${await second.start(90_000)} ms`);
    }
    const clientOf = (index: number) =>
      second && index % 2 === 1
        ? createLedgerClient({ url: second.url, token: adminToken, retries: 0, timeoutMs: 30_000 })
        : client;

    const runId = `bank-s${options.seed}-${Date.now().toString(36)}`;
    const bank = await createBank(client, runId, options.accounts, Prng.derive(options.seed, 'accounts'));
    log(`book ${bank.rawBookId}: ${bank.accounts.length} accounts`);
    // --large-batches: a book per process, each written by its own process's large-batch workers.
    const largeBooks: Bank[] = [];
    for (let i = 0; options.largeWorkers > 0 && i < options.processes; i++) {
      largeBooks.push(await createLargeBook(client, runId, i));
      log(`large-batch book ${largeBooks[i]!.rawBookId}: ${LARGE_BOOK_ACCOUNTS} unbounded accounts`);
    }

    const ops: OpRecord[] = [];
    const stats = newStats();
    const faults: FaultEvent[] = [];
    let stopping = false;
    // --large-batches: the faults stop before the load does (see LARGE_BATCH_TAIL_SECONDS).
    let faultsOver = false;
    let giveUpAt = Number.POSITIVE_INFINITY;
    const loadStartedAt = Date.now();
    const loadOptions = {
      client,
      bank,
      largeBooks,
      runId,
      seed: options.seed,
      shortTimeouts: options.shortTimeouts,
      timeoutMs: 10_000,
      stats,
      ops,
      stopping: () => stopping,
      giveUpAt: () => giveUpAt,
    };
    const progress = setInterval(() => {
      const count = (outcome: string) => ops.filter((op) => op.outcome === outcome).length;
      log(
        `${Math.round((Date.now() - loadStartedAt) / 1000)} s: ops ${ops.length} (ok ${count('ok')}, rejected ` +
          `${count('rejected')}, unknown now ${count('unknown')}), requests ${stats.requests}, reads ${stats.reads}, ` +
          `faults ${faults.length}`,
      );
    }, 5_000);
    const workers = Array.from({ length: options.workers - options.largeWorkers }, (_, i) =>
      runWorker({ ...loadOptions, client: clientOf(i) }, i),
    );
    // Large-batch worker i: process i % processes, that process's large-batch book.
    const largeWorkers = Array.from({ length: options.largeWorkers }, (_, i) =>
      runLargeBatchWorker(
        { ...loadOptions, client: clientOf(i % largeBooks.length) },
        i,
        largeBooks[i % largeBooks.length]!,
      ),
    );
    const readers = Array.from({ length: options.readers }, (_, i) => runReader(loadOptions, i));
    const injector = runFaults({
      kinds: faultKinds,
      rng: Prng.derive(options.seed, 'faults'),
      service,
      database,
      gapMs: options.loadSeconds > 120 ? [3_000, 8_000] : [2_500, 5_000],
      startedAt: loadStartedAt,
      stopping: () => stopping || faultsOver,
      events: faults,
      log,
    });

    await sleep(options.loadSeconds * 1000);
    if (options.largeWorkers > 0) {
      faultsOver = true;
      await injector;
      log(
        `no more faults; ${LARGE_BATCH_TAIL_SECONDS} s more of load for the last service process's counters`,
      );
      await sleep(LARGE_BATCH_TAIL_SECONDS * 1000);
    }
    log('load time over: no new operations or faults; finishing the ones in flight');
    stopping = true;
    await injector;
    // The last fault has healed (service restarted, PostgreSQL up). Ops still unknown get a
    // minute more of retries, then count as unresolved.
    giveUpAt = Date.now() + 60_000;
    await Promise.all([...workers, ...largeWorkers, ...readers]);
    clearInterval(progress);
    const loadSeconds = (Date.now() - loadStartedAt) / 1000;
    if (!service.isRunning()) await service.start();

    log('checking');
    const db = new pg.Pool({ connectionString: database.url, application_name: 'bank-test', max: 1 });
    let checked: Awaited<ReturnType<typeof runChecks>>;
    let postgresVersion: string;
    try {
      postgresVersion =
        (await db.query<{ v: string }>("select current_setting('server_version') as v")).rows[0]?.v ?? '?';
      checked = await runChecks(db, client, bank, ops, stats, largeBooks);
    } finally {
      await db.end();
    }

    // Graceful stop: SIGTERM must drain and exit 0 (not be killed after the grace period).
    for (const [name, process] of [
      ['the second service', second],
      ['the service', service],
    ] as const) {
      if (!process) continue;
      const exit = await process.stop(20_000);
      const clean = exit.code === 0 && exit.signal === null;
      checked.rows.push({
        name: `SIGTERM stops ${name} cleanly`,
        ok: clean,
        problems: clean ? 0 : 1,
        detail: clean ? 'exit code 0' : `exit ${JSON.stringify(exit)}:\n${process.recentOutput()}`,
      });
      if (!clean) checked.tally.violations++;
    }

    // The posting engine's counters, from the processes that stopped cleanly (the last of each, and
    // any that exited by itself); the SIGKILLed ones logged nothing.
    const logged = [...service.countersLogged, ...(second?.countersLogged ?? [])];
    const counters = Object.fromEntries(
      POSTING_COUNTER_NAMES.map((name) => [name, logged.reduce((sum, c) => sum + c[name], 0)]),
    ) as unknown as PostingCounters;
    if (options.largeWorkers > 0) {
      const ran = counters.pipelinedWrites > 0;
      checked.rows.push({
        name: 'the large batches ran the posting pipeline (pipelinedWrites > 0)',
        ok: ran,
        problems: ran ? 0 : 1,
        detail: ran
          ? `${counters.pipelinedWrites} pipelined writes logged by the processes that stopped cleanly`
          : `no pipelined write logged by the ${logged.length} process(es) that stopped cleanly: the mode did not test the pipeline`,
      });
      if (!ran) checked.tally.violations++;
    }

    return {
      rows: checked.rows,
      tally: checked.tally,
      faults,
      skipped,
      requests: stats.requests,
      unknownByReason: stats.unknownByReason,
      shortTimeouts: options.shortTimeouts
        ? { sent: stats.shortTimeoutsSent, fired: stats.shortTimeoutsFired }
        : undefined,
      restarts: service.starts - 1,
      posting: { counters, logged: logged.length, processes: service.starts + (second?.starts ?? 0) },
      database: database.description,
      postgresVersion,
      loadSeconds,
      totalSeconds: (Date.now() - startedAt) / 1000,
    };
  } finally {
    await active.second?.kill().catch(() => {});
    await service?.kill().catch(() => {});
    await database?.close().catch((error: unknown) => log(`could not clean up the database: ${error}`));
  }
}

function faultCounts(result: RunResult): string {
  const counts = new Map<string, number>();
  for (const event of result.faults) counts.set(event.kind, (counts.get(event.kind) ?? 0) + 1);
  return [...counts].map(([kind, n]) => `${kind} ${n}`).join(', ') || 'none';
}

/** "8 workers", and how many of them send large batches. */
function workersText(options: Options): string {
  const large = options.largeWorkers > 0 ? ` (${options.largeWorkers} of them sending large batches)` : '';
  return `${options.workers} workers${large}`;
}

function summaryRows(result: RunResult): [string, string][] {
  const t = result.tally;
  const unknown = [...result.unknownByReason].map(([reason, n]) => `${reason} ${n}`).join(', ');
  return [
    ['operations (batch entries one by one)', String(t.operations)],
    ['requests sent (retries included)', String(result.requests)],
    ['faults injected', `${result.faults.length} (${faultCounts(result)})`],
    ...(result.shortTimeouts
      ? [
          [
            'client timeouts that fired',
            `${result.shortTimeouts.fired} of ${result.shortTimeouts.sent} requests sent with a ` +
              `${SHORT_TIMEOUT_MIN_MS}-${SHORT_TIMEOUT_MAX_MS} ms limit`,
          ] as [string, string],
        ]
      : []),
    ['service restarts', String(result.restarts)],
    [
      'posting engine counters',
      `${POSTING_COUNTER_NAMES.map((name) => `${name} ${result.posting.counters[name]}`).join(', ')} ` +
        `(summed over the ${result.posting.logged} of ${result.posting.processes} service processes that ` +
        'stopped cleanly and logged them; a SIGKILLed process logs nothing)',
    ],
    ['answers with no decision, resent', unknown || '0'],
    ['acknowledged', String(t.acknowledged)],
    ['rejected', String(t.rejected)],
    ['unresolved', String(t.unresolved)],
    ['lost', String(t.lost)],
    ['duplicated', String(t.duplicated)],
    ['violations', String(t.violations)],
  ];
}

function printTable(result: RunResult): void {
  const out: string[] = [''];
  for (const [name, value] of summaryRows(result)) out.push(`  ${name.padEnd(38)} ${value}`);
  out.push('');
  for (const row of result.rows) out.push(`  ${row.ok ? 'ok  ' : 'FAIL'}  ${row.name}: ${row.detail}`);
  for (const skip of result.skipped) out.push(`  skip  ${skip}`);
  out.push('');
  process.stdout.write(`${out.join('\n')}\n`);
}

/** A share in words, as the report words it: "a third" for about 1/3, else a whole percentage. */
function share(fraction: number): string {
  return Math.abs(fraction - 1 / 3) < 0.05 ? 'a third' : `${Math.round(fraction * 100)}%`;
}

function report(result: RunResult, options: Options, command: string): string {
  const md = (text: string) => text.replaceAll('|', '\\|').replaceAll('\n', ' ');
  const lines = [
    '# Reliability',
    '',
    'Results of the bank test (`scripts/bank-test.ts`, see the README section "Reliability"): concurrent',
    'payments through the SDK while the service is killed, paused and cut off from PostgreSQL, and',
    'PostgreSQL itself is stopped; then the journal is compared with what every client was told.',
    '',
    `Command: \`${command}\``,
    '',
    `Run on ${new Date().toISOString().slice(0, 10)}, ${os.cpus().length} cores, Node ${process.version}, PostgreSQL ` +
      `${result.postgresVersion}, ${result.database}. Seed ${options.seed}, ${workersText(options)}, ` +
      `${options.readers} readers, ${options.accounts} accounts, ${Math.round(result.loadSeconds)} s of load ` +
      `(drain included), ${Math.round(result.totalSeconds)} s in all.`,
    '',
    '| | |',
    '|---|---|',
    ...summaryRows(result).map(([name, value]) => `| ${name} | ${md(value)} |`),
    '',
    '| check | result | detail |',
    '|---|---|---|',
    ...result.rows.map((row) => `| ${md(row.name)} | ${row.ok ? 'ok' : '**FAIL**'} | ${md(row.detail)} |`),
    ...result.skipped.map((skip) => `| ${md(skip)} | skipped | |`),
    '',
    '## Faults injected',
    '',
    '| at (s) | fault | what happened |',
    '|---|---|---|',
    ...result.faults.map((f) => `| ${f.atSeconds.toFixed(1)} | ${f.kind} | ${md(f.detail)} |`),
    '',
    ...(result.shortTimeouts
      ? [
          `Client time limits of ${SHORT_TIMEOUT_MIN_MS} to ${SHORT_TIMEOUT_MAX_MS} ms were put on ${result.shortTimeouts.sent} requests ` +
            `(${share(SHORT_TIMEOUT_SHARE_BATCH)} of the batches, ${share(SHORT_TIMEOUT_SHARE_SINGLE)}`,
          `of the others); ${result.shortTimeouts.fired} of them ran out before the answer, left their op unknown, and`,
          'the op was resent with the same key.',
          '',
        ]
      : []),
    'CI runs the short mode on every change (`.ci/run`): `npm run bank-test -- --short --no-write`',
    '(about 60 s). The op sequences and the fault schedule follow from the seed; the interleaving of',
    'concurrent requests and where each fault lands do not, so two runs with one seed differ in detail.',
    '',
  ];
  return lines.join('\n');
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  let options: Options | 'help';
  try {
    options = parseOptions(argv);
  } catch (error) {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`${(error as Error).message}\n\n${USAGE}`);
      process.exit(2);
    }
    throw error;
  }
  if (options === 'help') {
    process.stdout.write(USAGE);
    return;
  }
  log(
    `seed ${options.seed}, ${options.loadSeconds} s of load (${options.mode}), ${workersText(options)}, ` +
      `${options.readers} readers, ${options.accounts} accounts, faults: ${options.faults.join(', ') || 'none'}` +
      `${options.shortTimeouts ? ', client timeouts' : ''}`,
  );
  const result = await run(options);
  printTable(result);
  if (options.out) {
    writeFileSync(
      options.out,
      report(result, options, commandLine(argv, ['bank-test'], 'scripts/bank-test.ts')),
    );
    log(`wrote ${path.relative(process.cwd(), options.out) || options.out}`);
  }
  const t = result.tally;
  log(
    `${t.violations === 0 ? 'PASS' : 'FAIL'}: ${t.operations} ops, ${t.acknowledged} acknowledged, lost ${t.lost}, ` +
      `duplicated ${t.duplicated}, violations ${t.violations}, pipelinedWrites ` +
      `${result.posting.counters.pipelinedWrites}, ${Math.round(result.totalSeconds)} s`,
  );
  process.exitCode = t.violations === 0 ? 0 : 1;
}

// Ctrl-C: stop the service and the cluster (removing its folder), then leave.
let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    log(`${signal}: stopping the service and the database (again to leave at once)`);
    void (async () => {
      await active.second?.kill().catch(() => {});
      await active.service?.kill().catch(() => {});
      await active.database?.close().catch(() => {});
      process.exit(130);
    })();
  });
}

main().catch((error: unknown) => {
  log(`error: ${(error as Error).stack ?? error}`);
  process.exit(process.exitCode && process.exitCode !== 0 ? process.exitCode : 1);
});
