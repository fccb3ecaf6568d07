/**
 * Load generator for payInNetwork, run as its own process by scripts/bench-clearing.ts (as
 * scripts/bench/load-worker.ts is for scripts/bench-ledger.ts), so the load never shares a CPU
 * thread with the service or the orchestrator.
 *
 * Usage: tsx scripts/bench/pay-worker.ts <config.json>
 *
 * One continuous autocannon run of warm-up + measured seconds. Every request is the SDK's
 * PayInNetwork document sent by its persisted id, as the SDK sends it, with a fresh idempotency
 * key, two different random members and an amount from 1.00 to 100.00. An answer counts as a
 * success only with HTTP 2xx, no GraphQL errors, no userErrors, an entry id and not replayed.
 * Counts and latencies of the measured window come from the responses completed inside it.
 *
 * stderr: phase markers `@phase warmup|main|done` the orchestrator times the service's CPU by.
 * stdout: one JSON line, `PayWorkerOutput`.
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';
import { PayInNetworkDocument } from '../../client-sdk/generated/graphql.js';
import { documentIdOf } from '../../client-sdk/transport.js';
import { randomAmount } from './ledger-api.js';
import { percentile } from './stats.js';

export interface PayWorkerConfig {
  /** GraphQL endpoint, e.g. http://127.0.0.1:4321/graphql */
  url: string;
  token: string;
  /** Global ids of the network members payments go between. */
  memberIds: string[];
  connections: number;
  durationSeconds: number;
  warmupSeconds: number;
  /** Unique per run; idempotency keys are `<prefix>.<n>`. */
  keyPrefix: string;
  timeoutSeconds: number;
}

export interface PayCounts {
  ok: number;
  failed: number;
  transportErrors: number;
  /** Distinct problems with how often each was seen (at most 10 kinds kept). */
  problems: Record<string, number>;
}

export interface PayWorkerOutput {
  window: PayCounts & { seconds: number; latencyMs: { p50: number; p99: number }; cpuSeconds: number };
  /** Warm-up and window together (checked against the database). */
  total: PayCounts;
}

const counts = (): PayCounts => ({ ok: 0, failed: 0, transportErrors: 0, problems: {} });

function addProblem(c: PayCounts, problem: string): void {
  if (problem in c.problems) c.problems[problem]! += 1;
  else if (Object.keys(c.problems).length < 10) c.problems[problem] = 1;
  else c.problems['(other problems)'] = (c.problems['(other problems)'] ?? 0) + 1;
}

/** Why the answer is not a posted payment, or null when it is one. */
function payProblem(status: number, body: string): string | null {
  if (status < 200 || status >= 300) return `HTTP ${status}: ${body.slice(0, 160)}`;
  let answer: {
    data?: {
      payInNetwork?: {
        entryId: string | null;
        replayed: boolean;
        userErrors: { code: string; message?: string }[];
      } | null;
    } | null;
    errors?: { message?: string; extensions?: { code?: string } }[];
  };
  try {
    answer = JSON.parse(body);
  } catch {
    return `unparsable body: ${body.slice(0, 160)}`;
  }
  if (answer.errors?.length)
    return `GraphQL error ${answer.errors[0]!.extensions?.code ?? ''}: ${answer.errors[0]!.message ?? ''}`;
  const payload = answer.data?.payInNetwork;
  if (!payload) return 'no payInNetwork payload';
  if (payload.userErrors.length > 0) return `userErrors ${payload.userErrors.map((e) => e.code).join(', ')}`;
  if (!payload.entryId) return 'no entry id and no userErrors';
  if (payload.replayed) return 'replayed (idempotency key sent twice)';
  return null;
}

async function run(config: PayWorkerConfig): Promise<PayWorkerOutput> {
  const endpoint = new URL(config.url);
  const documentId = documentIdOf(PayInNetworkDocument);
  if (!documentId) throw new Error('the SDK has no persisted id for PayInNetwork');
  const members = config.memberIds;
  let sequence = 0;
  const body = () => {
    sequence += 1;
    const payer = members[Math.floor(Math.random() * members.length)]!;
    let payee = payer;
    while (payee === payer) payee = members[Math.floor(Math.random() * members.length)]!;
    return JSON.stringify({
      documentId,
      operationName: 'PayInNetwork',
      variables: {
        input: {
          payerId: payer,
          payeeId: payee,
          amount: randomAmount(),
          idempotencyKey: `${config.keyPrefix}.${sequence}`,
        },
      },
    });
  };
  const total = counts();
  const window = counts();
  const latencies: number[] = [];
  const start = performance.now();
  const windowStart = start + config.warmupSeconds * 1000;
  const windowEnd = windowStart + config.durationSeconds * 1000;
  const inWindow = (now: number) => now >= windowStart && now <= windowEnd;
  let lastProblem: string | null | undefined;
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
        setupRequest: (request) => ({ ...request, body: body() }),
        onResponse: (status, text) => {
          lastProblem = payProblem(status, String(text));
        },
      },
    ],
  });
  const record = (c: PayCounts, problem: string | null) => {
    if (problem === null) c.ok += 1;
    else {
      c.failed += 1;
      addProblem(c, problem);
    }
  };
  instance.on('response', (...args: unknown[]) => {
    const problem = lastProblem === undefined ? 'response without a parsed body' : lastProblem;
    lastProblem = undefined;
    record(total, problem);
    if (inWindow(performance.now())) {
      record(window, problem);
      latencies.push(args[3] as number);
    }
  });
  instance.on('reqError', (...args: unknown[]) => {
    const problem = `no answer: ${(args[0] as Error | undefined)?.message ?? 'request error'}`;
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
      latencyMs: { p50: percentile(sorted, 50), p99: percentile(sorted, 99) },
      cpuSeconds: (cpuInWindow.user + cpuInWindow.system) / 1e6,
    },
    total,
  };
}

async function main(): Promise<void> {
  const file = process.argv[2];
  if (!file || file === '--help' || file === '-h') {
    process.stderr.write(
      'Usage: tsx scripts/bench/pay-worker.ts <config.json>  (started by scripts/bench-clearing.ts)\n',
    );
    process.exit(file ? 0 : 2);
  }
  const config = JSON.parse(readFileSync(file, 'utf8')) as PayWorkerConfig;
  process.stdout.write(`${JSON.stringify(await run(config))}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(
    `pay worker failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
