/**
 * Load generator for the API scenarios, run as its own process by scripts/bench-ledger.ts so the
 * load never shares a CPU thread with the server or the orchestrator.
 *
 * Usage: tsx scripts/bench/load-worker.ts <config.json>
 *
 * One continuous autocannon run of warm-up + measured seconds against the GraphQL endpoint (one
 * run, so requests left in flight at the end of the warm-up never pile onto the measured window).
 * Every request gets a fresh body (a unique idempotency key, random accounts and amount) from
 * `setupRequest`, and every response is parsed in `onResponse`: only answers with HTTP 2xx, no
 * GraphQL errors, no userErrors, not replayed (and for batches postedCount = batch size) count as
 * successes. Counts and latencies of the measured window come from the responses that complete
 * inside it (autocannon's `response` event gives each one's latency).
 *
 * stderr: progress, and phase markers `@phase warmup|main|done` the orchestrator times CPU by.
 * stdout: one JSON line, `WorkerOutput`.
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';
import {
  batchBody,
  type EntryShape,
  judgeBatch,
  judgeSingle,
  singleEntryBody,
  type Verdict,
} from './ledger-api.js';
import { percentile } from './stats.js';

export interface LoadWorkerConfig {
  /** GraphQL endpoint, e.g. http://127.0.0.1:4321/graphql */
  url: string;
  /** API token sent as `Authorization: Bearer <token>` on every request. */
  token: string;
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
  /** Unique per run and scenario; idempotency keys are `<prefix>.<n>` (batch entries `<prefix>.<n>.<i>`). */
  keyPrefix: string;
  /** Seconds before autocannon gives up on one request. */
  timeoutSeconds: number;
  /** Send the documents by id (persisted documents) instead of their text. */
  persisted: boolean;
}

export interface Counts {
  /** Requests that fully succeeded. */
  okRequests: number;
  /** Requests answered but not fully successful (any reason). */
  failedRequests: number;
  /** Timeouts and connection errors (no answer). */
  transportErrors: number;
  /** Entries the answers say were posted (successful or partial). */
  postedEntries: number;
  /** Entries in fully successful requests. */
  okEntries: number;
  /** Distinct problems with how often each was seen (at most 10 kinds kept). */
  problems: Record<string, number>;
}

export interface WorkerOutput {
  /** The measured window: responses completed between the end of the warm-up and the end. */
  window: Counts & {
    seconds: number;
    latencyMs: { p50: number; p99: number };
    /** CPU seconds this worker used in the window (user + system). */
    cpuSeconds: number;
  };
  /** Warm-up and window together (for checking against the database). */
  total: Counts;
}

const emptyCounts = (): Counts => ({
  okRequests: 0,
  failedRequests: 0,
  transportErrors: 0,
  postedEntries: 0,
  okEntries: 0,
  problems: {},
});

function record(counts: Counts, verdict: Verdict): void {
  counts.postedEntries += verdict.posted;
  if (verdict.ok) {
    counts.okRequests += 1;
    counts.okEntries += verdict.posted;
    return;
  }
  counts.failedRequests += 1;
  addProblem(counts, verdict.problem ?? 'unknown');
}

function addProblem(counts: Counts, problem: string): void {
  if (problem in counts.problems) counts.problems[problem]! += 1;
  else if (Object.keys(counts.problems).length < 10) counts.problems[problem] = 1;
  else counts.problems['(other problems)'] = (counts.problems['(other problems)'] ?? 0) + 1;
}

async function run(config: LoadWorkerConfig): Promise<WorkerOutput> {
  const endpoint = new URL(config.url);
  const shape: EntryShape = {
    accountIds: config.accountIds,
    hotAccountId: config.hotAccountId,
    unit: config.unit,
  };
  let sequence = 0;
  const nextKey = () => {
    sequence += 1;
    return `${config.keyPrefix}.${sequence}`;
  };
  const buildBody =
    config.mode === 'single'
      ? () => singleEntryBody(config.bookId, nextKey(), shape, config.persisted)
      : () => batchBody(config.bookId, nextKey(), config.batchSize, shape, config.persisted);
  const judge =
    config.mode === 'single'
      ? (status: number, body: string): Verdict => judgeSingle(status, body)
      : (status: number, body: string): Verdict => judgeBatch(status, body, config.batchSize);

  const total = emptyCounts();
  const window = emptyCounts();
  const latencies: number[] = [];
  const start = performance.now();
  const windowStart = start + config.warmupSeconds * 1000;
  const windowEnd = windowStart + config.durationSeconds * 1000;
  const inWindow = (now: number) => now >= windowStart && now <= windowEnd;
  // onResponse (the body) runs just before autocannon's `response` event (the latency) for the
  // same response, synchronously: the verdict is handed from one to the other.
  let lastVerdict: Verdict | undefined;

  if (config.warmupSeconds > 0) process.stderr.write('@phase warmup\n');
  let cpuAtWindow = process.cpuUsage();
  let cpuInWindow: NodeJS.CpuUsage | undefined;
  const markWindow = setTimeout(
    () => {
      cpuAtWindow = process.cpuUsage();
      process.stderr.write('@phase main\n');
    },
    Math.max(0, windowStart - performance.now()),
  );
  const markEnd = setTimeout(
    () => {
      cpuInWindow = process.cpuUsage(cpuAtWindow);
      process.stderr.write('@phase done\n');
    },
    Math.max(0, windowEnd - performance.now()),
  );

  const instance = autocannon({
    url: endpoint.origin,
    connections: config.connections,
    duration: config.warmupSeconds + config.durationSeconds,
    timeout: config.timeoutSeconds,
    requests: [
      {
        method: 'POST',
        path: endpoint.pathname,
        headers: {
          'content-type': 'application/json',
          accept: 'application/json',
          authorization: `Bearer ${config.token}`,
        },
        // Called for every request: a fresh idempotency key and fresh random accounts each time.
        setupRequest: (request) => ({ ...request, body: buildBody() }),
        onResponse: (status, body) => {
          lastVerdict = judge(status, String(body));
        },
      },
    ],
  });
  instance.on('response', (...args: unknown[]) => {
    const responseTimeMs = args[3] as number;
    const verdict = lastVerdict ?? { ok: false, posted: 0, problem: 'response without a parsed body' };
    lastVerdict = undefined;
    record(total, verdict);
    if (inWindow(performance.now())) {
      record(window, verdict);
      latencies.push(responseTimeMs);
    }
  });
  instance.on('reqError', (...args: unknown[]) => {
    const error = args[0] as Error | undefined;
    const problem = `no answer: ${error?.message ?? 'request error'}`;
    total.transportErrors += 1;
    addProblem(total, problem);
    if (inWindow(performance.now())) {
      window.transportErrors += 1;
      addProblem(window, problem);
    }
  });
  await instance;
  clearTimeout(markWindow);
  clearTimeout(markEnd);
  if (!cpuInWindow) {
    cpuInWindow = process.cpuUsage(cpuAtWindow);
    process.stderr.write('@phase done\n');
  }

  const sorted = latencies.sort((a, b) => a - b);
  return {
    window: {
      ...window,
      seconds: config.durationSeconds,
      latencyMs: {
        p50: percentile(sorted, 50),
        p99: percentile(sorted, 99),
      },
      cpuSeconds: (cpuInWindow.user + cpuInWindow.system) / 1e6,
    },
    total,
  };
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
  const output = await run(config);
  process.stdout.write(`${JSON.stringify(output)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(
    `load worker failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
