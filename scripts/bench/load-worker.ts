/**
 * Load generator for the API scenarios, run as its own process by scripts/bench-ledger.ts so the
 * load never shares a CPU thread with the server or the orchestrator.
 *
 * Usage: tsx scripts/bench/load-worker.ts <config.json>
 *
 * Runs autocannon twice against the GraphQL endpoint: a warm-up, then the measured run. Every
 * request gets a fresh body (a unique idempotency key and random accounts) from `setupRequest`,
 * and every response is parsed in `onResponse`: only answers with HTTP 2xx, no GraphQL errors, no
 * userErrors, not replayed (and for batches postedCount = batch size) count as successes.
 *
 * stderr: progress, and phase markers `@phase warmup|main|done` the orchestrator times CPU by.
 * stdout: one JSON line, `WorkerOutput`, the autocannon results and the success counts.
 */
import { readFileSync } from 'node:fs';
import autocannon, { type AutocannonResult } from 'autocannon';
import {
  batchBody,
  type EntryShape,
  judgeBatch,
  judgeSingle,
  singleEntryBody,
  type Verdict,
} from './ledger-api.js';

export interface LoadWorkerConfig {
  /** GraphQL endpoint, e.g. http://127.0.0.1:4321/graphql */
  url: string;
  bookId: string;
  accountIds: string[];
  hotAccountId?: string;
  unit: string;
  mode: 'single' | 'batch';
  /** Entries per postJournalEntries call (batch mode). */
  batchSize: number;
  connections: number;
  durationSeconds: number;
  warmupSeconds: number;
  /** Unique per run and scenario; idempotency keys are `<prefix>.<phase>.<n>`. */
  keyPrefix: string;
  /** Seconds before autocannon gives up on one request. */
  timeoutSeconds: number;
}

export interface PhaseCounts {
  /** Requests that fully succeeded. */
  okRequests: number;
  /** Requests answered but not fully successful (any reason). */
  failedRequests: number;
  /** Entries the answers say were posted (successful or partial). */
  postedEntries: number;
  /** Entries in fully successful requests. */
  okEntries: number;
  /** Distinct problems with how often each was seen (at most 10 kinds kept). */
  problems: Record<string, number>;
}

export interface PhaseResult {
  counts: PhaseCounts;
  autocannon: AutocannonResult;
  /** CPU seconds this worker process used during the phase (user + system). */
  cpuSeconds: number;
}

export interface WorkerOutput {
  warmup: PhaseResult | null;
  main: PhaseResult;
}

function progress(message: string): void {
  process.stderr.write(`${message}\n`);
}

async function runPhase(
  config: LoadWorkerConfig,
  phase: string,
  durationSeconds: number,
): Promise<PhaseResult> {
  const endpoint = new URL(config.url);
  const shape: EntryShape = {
    accountIds: config.accountIds,
    hotAccountId: config.hotAccountId,
    unit: config.unit,
  };
  const counts: PhaseCounts = {
    okRequests: 0,
    failedRequests: 0,
    postedEntries: 0,
    okEntries: 0,
    problems: {},
  };
  let sequence = 0;
  const nextKey = () => {
    sequence += 1;
    return `${config.keyPrefix}.${phase}.${sequence}`;
  };
  const buildBody =
    config.mode === 'single'
      ? () => singleEntryBody(config.bookId, nextKey(), shape)
      : () => batchBody(config.bookId, nextKey(), config.batchSize, shape);
  const judge =
    config.mode === 'single'
      ? (status: number, body: string): Verdict => judgeSingle(status, body)
      : (status: number, body: string): Verdict => judgeBatch(status, body, config.batchSize);

  const record = (verdict: Verdict) => {
    counts.postedEntries += verdict.posted;
    if (verdict.ok) {
      counts.okRequests += 1;
      counts.okEntries += verdict.posted;
      return;
    }
    counts.failedRequests += 1;
    const problem = verdict.problem ?? 'unknown';
    if (problem in counts.problems) counts.problems[problem]! += 1;
    else if (Object.keys(counts.problems).length < 10) counts.problems[problem] = 1;
    else counts.problems['(other problems)'] = (counts.problems['(other problems)'] ?? 0) + 1;
  };

  const cpuBefore = process.cpuUsage();
  const instance = autocannon({
    url: endpoint.origin,
    connections: config.connections,
    duration: durationSeconds,
    timeout: config.timeoutSeconds,
    requests: [
      {
        method: 'POST',
        path: endpoint.pathname,
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        // Called for every request: a fresh idempotency key and fresh random accounts each time.
        setupRequest: (request) => ({ ...request, body: buildBody() }),
        onResponse: (status, body) => record(judge(status, String(body))),
      },
    ],
  });
  const result = await instance;
  const cpu = process.cpuUsage(cpuBefore);
  return { counts, autocannon: result, cpuSeconds: (cpu.user + cpu.system) / 1e6 };
}

async function main(): Promise<void> {
  const file = process.argv[2];
  if (!file || file === '--help' || file === '-h') {
    process.stderr.write(
      'Usage: tsx scripts/bench/load-worker.ts <config.json>  (started by scripts/bench-ledger.ts)\n',
    );
    process.exit(file ? 0 : 2);
  }
  const config = JSON.parse(readFileSync(file, 'utf8')) as LoadWorkerConfig;

  let warmup: PhaseResult | null = null;
  if (config.warmupSeconds > 0) {
    progress('@phase warmup');
    warmup = await runPhase(config, 'w', config.warmupSeconds);
  }
  progress('@phase main');
  const main = await runPhase(config, 'm', config.durationSeconds);
  progress('@phase done');
  const output: WorkerOutput = { warmup, main };
  process.stdout.write(`${JSON.stringify(output)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(
    `load worker failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
