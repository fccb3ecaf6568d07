/**
 * Load generator for bench-reporting's HTTP part, run as its own process by
 * scripts/bench/reporting-serve.ts so the load neither shares a thread with the bench (which holds
 * the whole protected city in its heap) nor slows the service by more than its own CPU.
 *
 * Usage: tsx scripts/bench/reporting-load.ts <config.json>
 *
 * autocannon at `connections` for `durationSeconds`, each request the next of the given bodies
 * (cycling). Every answer is judged: HTTP 200, the text of a cityReport answer with no GraphQL
 * errors (it begins with `{"data":{"cityReport":` and ends with an empty `userErrors`, where any
 * `errors` key would follow), its cells counted by their first key; an answer refused with
 * userErrors is parsed, and counts as refused only when every code is QUERY_TOO_LARGE. Every
 * `parseEvery`-th answer is also parsed in full, and must agree with that judgment (cell count
 * included). Parsing every answer of ~100 KB cost the load generator as much CPU as it left the
 * service on the 2-core machine.
 *
 * stderr: `@phase main` when the load starts. stdout: one JSON line, `LoadResult`.
 */
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';

export interface LoadConfig {
  url: string;
  token: string;
  connections: number;
  durationSeconds: number;
  /** Request bodies, sent in order (and again from the first when they run out). */
  bodies: string[];
  /** Parse every n-th answer in full (1: every answer). */
  parseEvery: number;
  /** The first key of a cell in the answers (the document's first cell field). */
  cellKey: string;
}

export interface LoadResult {
  answered: number;
  cells: number;
  tooLarge: number;
  failed: number;
  firstFailure: string | null;
  /** Answers parsed in full (all agreed with the judgment of their text, or count in failed). */
  parsed: number;
  seconds: number;
  /** Latencies (ms) of every answer, sorted. */
  latencies: number[];
  /** This process's CPU time (user + system) while the load ran, in ms. */
  cpuMs: number;
}

const HEAD = '{"data":{"cityReport":{';
const TAIL = '"userErrors":[]}}}';

function count(text: string, needle: string): number {
  let n = 0;
  for (let at = text.indexOf(needle); at >= 0; at = text.indexOf(needle, at + needle.length)) n++;
  return n;
}

async function main(): Promise<void> {
  const file = process.argv[2];
  if (!file || file === '--help' || file === '-h') {
    process.stderr.write(
      'Usage: tsx scripts/bench/reporting-load.ts <config.json> (run by bench-reporting)\n',
    );
    process.exit(file ? 0 : 2);
  }
  const config = JSON.parse(readFileSync(file, 'utf8')) as LoadConfig;
  const url = new URL(config.url);
  const cellMark = `{${JSON.stringify(config.cellKey)}:`;
  const out: LoadResult = {
    answered: 0,
    cells: 0,
    tooLarge: 0,
    failed: 0,
    firstFailure: null,
    parsed: 0,
    seconds: 0,
    latencies: [],
    cpuMs: 0,
  };
  const fail = (why: string) => {
    out.failed++;
    out.firstFailure ??= why;
  };
  let next = 0;
  let judged = 0;
  // The orchestrator reads the service's CPU time from here to the answer.
  process.stderr.write('@phase main\n');
  const cpuBefore = process.cpuUsage();
  const instance = autocannon({
    url: `${url.protocol}//${url.host}`,
    connections: config.connections,
    duration: config.durationSeconds,
    requests: [
      {
        method: 'POST',
        path: url.pathname,
        headers: {
          'content-type': 'application/json',
          accept: 'application/json',
          authorization: `Bearer ${config.token}`,
        },
        setupRequest: (request) => ({ ...request, body: config.bodies[next++ % config.bodies.length] }),
        onResponse: (status, body) => {
          const text = String(body);
          if (status !== 200) return fail(`HTTP ${status}: ${text.slice(0, 300)}`);
          const plain = text.startsWith(HEAD) && text.endsWith(TAIL);
          const cells = plain ? count(text, cellMark) : 0;
          if (plain && ++judged % config.parseEvery !== 0) {
            out.answered++;
            out.cells += cells;
            return;
          }
          let parsed: {
            data?: { cityReport?: { cells: unknown[]; userErrors: { code: string }[] } };
            errors?: unknown;
          };
          try {
            parsed = JSON.parse(text);
          } catch {
            return fail(`not JSON: ${text.slice(0, 300)}`);
          }
          out.parsed++;
          const answer = parsed.data?.cityReport;
          if (parsed.errors || !answer) return fail(JSON.stringify(parsed.errors ?? parsed).slice(0, 300));
          if (answer.userErrors.length === 0) {
            if (!plain || answer.cells.length !== cells)
              return fail(`the text's judgment (${plain}, ${cells} cells) differs from the parsed answer`);
            out.answered++;
            out.cells += cells;
          } else if (answer.userErrors.every((e) => e.code === 'QUERY_TOO_LARGE')) out.tooLarge++;
          else fail(JSON.stringify(answer.userErrors).slice(0, 300));
        },
      },
    ],
  });
  instance.on('response', (...args: unknown[]) => {
    out.latencies.push(args[3] as number);
  });
  const result = await instance;
  const cpu = process.cpuUsage(cpuBefore);
  out.cpuMs = (cpu.user + cpu.system) / 1000;
  out.seconds = result.duration;
  out.latencies.sort((a, b) => a - b);
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

await main();
