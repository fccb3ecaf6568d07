/**
 * The plain-SQL baseline, run as its own process by scripts/bench-ledger.ts: what a hand-written
 * service could do with `pg` and one interactive transaction per transfer, on the same database.
 *
 * Usage: tsx scripts/bench/sql-worker.ts <config.json>
 *
 * Each of `clients` connections loops over this transaction (6 round trips, every statement but
 * BEGIN/COMMIT a named prepared statement):
 *   BEGIN
 *   INSERT INTO bench_sql_entry (id, created_at) VALUES ($1, now())
 *   INSERT INTO bench_sql_line ... VALUES (line 1), (line 2)      -- ONE multi-row insert
 *   UPDATE bench_sql_account SET balance = balance + $2 WHERE id = $1   -- lower account id first
 *   UPDATE bench_sql_account SET balance = balance + $2 WHERE id = $1   -- then the higher one
 *   COMMIT
 * Updating in id order means two transfers never deadlock. Lines reference the entry and the
 * account by foreign key (as in the real ledger), so PostgreSQL takes FOR KEY SHARE on the account
 * rows before the UPDATEs, which take FOR NO KEY UPDATE: the two do not conflict.
 *
 * Latency is measured per transaction (BEGIN sent to COMMIT answered). A warm-up runs first;
 * only transactions that complete inside the measured window count.
 *
 * stderr: progress and phase markers `@phase warmup|main|done`; stdout: one JSON line, `SqlWorkerOutput`.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { randomAmount } from './ledger-api.js';
import { percentile } from './stats.js';

export interface SqlWorkerConfig {
  databaseUrl: string;
  accounts: number;
  clients: number;
  durationSeconds: number;
  warmupSeconds: number;
  /** Account 1 is on one side of every transfer. */
  hot: boolean;
}

export interface SqlWorkerOutput {
  /** Transactions committed inside the measured window. */
  committed: number;
  /** Every transaction committed by this run, warm-up and stragglers included (to check against the table). */
  committedTotal: number;
  entriesPerSecond: number;
  latencyMs: { p50: number; p99: number };
  /** Failed transactions by SQLSTATE (rolled back, not retried). */
  errors: Record<string, number>;
  /** CPU seconds this worker used in the measured window. */
  cpuSeconds: number;
}

const SCHEMA = [
  `create table if not exists bench_sql_account (
     id integer primary key,
     balance numeric(38, 18) not null default 0
   )`,
  `create table if not exists bench_sql_entry (
     id uuid primary key,
     created_at timestamptz not null
   )`,
  `create table if not exists bench_sql_line (
     entry_id uuid not null references bench_sql_entry (id),
     line_no smallint not null,
     account_id integer not null references bench_sql_account (id),
     side text not null check (side in ('DEBIT', 'CREDIT')),
     amount numeric(38, 18) not null check (amount > 0),
     primary key (entry_id, line_no)
   )`,
  'create index if not exists bench_sql_line_account_idx on bench_sql_line (account_id)',
];

const INSERT_ENTRY = {
  name: 'bench_insert_entry',
  text: 'insert into bench_sql_entry (id, created_at) values ($1, now())',
};
const INSERT_LINES = {
  name: 'bench_insert_lines',
  text:
    'insert into bench_sql_line (entry_id, line_no, account_id, side, amount) ' +
    'values ($1, 1, $2, $3, $6), ($1, 2, $4, $5, $6)',
};
const UPDATE_BALANCE = {
  name: 'bench_update_balance',
  text: 'update bench_sql_account set balance = balance + $2 where id = $1',
};

/** Creates the tables and the accounts (1..accounts) unless already there. */
async function prepare(config: SqlWorkerConfig): Promise<void> {
  const client = new pg.Client({ connectionString: config.databaseUrl });
  await client.connect();
  try {
    for (const statement of SCHEMA) await client.query(statement);
    const { rows } = await client.query<{ n: string }>('select count(*) as n from bench_sql_account');
    if (Number(rows[0]?.n) !== config.accounts) {
      await client.query('begin');
      await client.query('delete from bench_sql_line');
      await client.query('delete from bench_sql_entry');
      await client.query('delete from bench_sql_account');
      await client.query('insert into bench_sql_account (id) select generate_series(1, $1::integer)', [
        config.accounts,
      ]);
      await client.query('commit');
      await client.query('analyze bench_sql_account');
      process.stderr.write(`created ${config.accounts} bench_sql_account rows\n`);
    }
  } finally {
    await client.end();
  }
}

async function main(): Promise<void> {
  const file = process.argv[2];
  if (!file || file === '--help' || file === '-h') {
    process.stderr.write(
      'Usage: tsx scripts/bench/sql-worker.ts <config.json>  (started by scripts/bench-ledger.ts)\n',
    );
    process.exit(file ? 0 : 2);
  }
  const config = JSON.parse(readFileSync(file, 'utf8')) as SqlWorkerConfig;
  await prepare(config);

  const clients: pg.Client[] = [];
  for (let i = 0; i < config.clients; i += 1) {
    const client = new pg.Client({ connectionString: config.databaseUrl });
    await client.connect();
    clients.push(client);
  }

  const pickOther = (not: number) => {
    let id = not;
    while (id === not) id = 1 + Math.floor(Math.random() * config.accounts);
    return id;
  };

  const start = performance.now();
  const mainStart = start + config.warmupSeconds * 1000;
  const deadline = mainStart + config.durationSeconds * 1000;
  const latencies: number[] = [];
  const errors: Record<string, number> = {};
  let committedTotal = 0;

  const transfer = async (client: pg.Client) => {
    const first = config.hot ? 1 : pickOther(0);
    const second = pickOther(first);
    const amount = randomAmount();
    // Debit adds to the balance, credit subtracts; which account is debited is random.
    const [debit, credit] = Math.random() < 0.5 ? [first, second] : [second, first];
    const id = randomUUID();
    const began = performance.now();
    try {
      await client.query('begin');
      await client.query({ ...INSERT_ENTRY, values: [id] });
      await client.query({ ...INSERT_LINES, values: [id, debit, 'DEBIT', credit, 'CREDIT', amount] });
      const updates: [number, string][] = [
        [debit, amount],
        [credit, `-${amount}`],
      ];
      updates.sort((a, b) => a[0] - b[0]);
      for (const [account, delta] of updates)
        await client.query({ ...UPDATE_BALANCE, values: [account, delta] });
      await client.query('commit');
    } catch (error) {
      const code = (error as { code?: string }).code ?? (error as Error).message;
      errors[code] = (errors[code] ?? 0) + 1;
      await client.query('rollback').catch(() => {});
      return;
    }
    const ended = performance.now();
    committedTotal += 1;
    if (ended >= mainStart && ended <= deadline) latencies.push(ended - began);
  };

  let cpuAtMain: NodeJS.CpuUsage | undefined;
  let cpuAtEnd: NodeJS.CpuUsage | undefined;
  if (config.warmupSeconds > 0) process.stderr.write('@phase warmup\n');
  const markMain = setTimeout(
    () => {
      cpuAtMain = process.cpuUsage();
      process.stderr.write('@phase main\n');
    },
    Math.max(0, mainStart - performance.now()),
  );
  const markEnd = setTimeout(
    () => {
      cpuAtEnd = process.cpuUsage(cpuAtMain);
      process.stderr.write('@phase done\n');
    },
    Math.max(0, deadline - performance.now()),
  );

  await Promise.all(
    clients.map(async (client) => {
      while (performance.now() < deadline) await transfer(client);
    }),
  );
  clearTimeout(markMain);
  clearTimeout(markEnd);
  if (!cpuAtEnd) {
    cpuAtEnd = process.cpuUsage(cpuAtMain);
    process.stderr.write('@phase done\n');
  }
  await Promise.all(clients.map((client) => client.end()));

  const sorted = latencies.slice().sort((a, b) => a - b);
  const output: SqlWorkerOutput = {
    committed: sorted.length,
    committedTotal,
    entriesPerSecond: sorted.length / config.durationSeconds,
    latencyMs: {
      p50: percentile(sorted, 50),
      p99: percentile(sorted, 99),
    },
    errors,
    cpuSeconds: (cpuAtEnd.user + cpuAtEnd.system) / 1e6,
  };
  process.stdout.write(`${JSON.stringify(output)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(
    `sql worker failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
