/**
 * City reporting benchmark (issue 15): protecting a synthetic city's full table (by default 2,000
 * co-ops, 30 neighbourhoods x 20 sectors, 36 months, every measure) with the LP audit, then reading
 * slices of the protected release at 16 concurrent clients: first in process through the same code
 * the API uses (server/reporting/query.ts) on the release as stored (encoded cells), then over real
 * HTTP: the release stored in a fresh database on DATABASE_URL's server, the service started on it
 * as npm start runs it, cityReport from autocannon at 16 connections in a load process of its own
 * (scripts/bench/reporting-serve.ts, scripts/bench/reporting-load.ts);
 * its figures go to their own section of BENCHMARKS.md (bench-reporting-http).
 * Protection is checked twice as publishCityReport does: the certificates exactly
 * (verifyProtection) and every hidden sensitive cell by LP (HiGHS; its certificate's neighbourhood
 * first, the exact program of its component where that does not prove it). Prints each figure
 * beside its target with the machine's load average and writes the bench-reporting section of
 * BENCHMARKS.md (writeReportSection: the other sections are left as they are).
 *
 *   npm run bench:reporting -- [--coops N] [--neighbourhoods N] [--sectors N] [--months N] [--queries N]
 *     [--http-seconds N] [--no-http] [--serve-only] [--publish] [--database-url URL] [--no-write]
 *
 * --publish instead publishes the same city through the service (scripts/bench/reporting-publish.ts:
 * the service as npm start runs it, its heap capped at 128 MB; publishCityReport over HTTP) and
 * writes only the bench-reporting-publish section: whether it succeeded, how long it took, and the
 * service's and its worker process's peak RSS.
 */
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { addMonths } from '../server/core/disclosure-periods.js';
import { verifyProtection } from '../server/core/disclosure-protect.js';
import { protectRelease } from '../server/core/disclosure-release.js';
import { DEFAULT_DISCLOSURE_POLICY } from '../server/core/disclosure-rules.js';
import { repoRoot } from '../server/platform/config.js';
import { auditProtection } from '../server/reporting/audit.js';
import { buildReleaseShape, encodeCells, encodeProtection, releaseCube } from '../server/reporting/cube.js';
import { MEASURES } from '../server/reporting/measures.js';
import { slice } from '../server/reporting/query.js';
import type { ReleaseSummary } from '../server/reporting/release-compute.js';
import { progressLines, RELEASE_PROGRESS_UNITS } from '../server/reporting/release-compute.js';
import type { FrozenRow, ReleaseRow } from '../server/reporting/store.js';
import { type PublishResult, publishOverHttp } from './bench/reporting-publish.js';
import type { ServeResult } from './bench/reporting-serve.js';
import { Cleanups } from './lib/cleanups.js';
import { writeReportSection } from './lib/report-section.js';

const usage = `Usage: npm run bench:reporting -- [options]
  --coops N            co-ops (default 2000)
  --neighbourhoods N   (default 30)
  --sectors N          (default 20)
  --months N           months ending last December (default 36)
  --queries N          slices read (default 20000)
  --clients N          concurrent readers (default 16)
  --seed N             (default 15)
  --http-seconds N     how long autocannon sends cityReport over HTTP (default 20)
  --database-url URL   PostgreSQL server for the HTTP part; a fresh database is created on it and
                       dropped after (default: $DATABASE_URL; without one the HTTP part is skipped)
  --no-http            skip the HTTP part
  --http-cpu-prof DIR  write a V8 CPU profile of the service during the HTTP part into DIR
                       (summarise it with scripts/bench/profile-summary.ts)
  --serve-only         protect the release (no certificate check, no LP audit) and measure only the
                       serving (in process and over HTTP); writes only the bench-reporting-http section
  --publish            publish the city through the service instead (npm start's command and heap
                       limit; publishCityReport over HTTP, protection and LP audit in its worker
                       process): success, time, the service's and the worker's peak RSS; writes only
                       the bench-reporting-publish section. Needs --database-url or DATABASE_URL
  --no-write           do not write BENCHMARKS.md`;

/** The cell fields the SDK's CityReport document selects, in its order. */
const SDK_CELL_FIELDS = (
  ['neighbourhood', 'sector', 'kind', 'measure', 'period', 'value', 'status', 'suppressed', 'reason'] as const
).map((field) => ({ key: field, field }));

function random(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      coops: { type: 'string', default: '2000' },
      neighbourhoods: { type: 'string', default: '30' },
      sectors: { type: 'string', default: '20' },
      months: { type: 'string', default: '36' },
      queries: { type: 'string', default: '20000' },
      clients: { type: 'string', default: '16' },
      seed: { type: 'string', default: '15' },
      'http-seconds': { type: 'string', default: '20' },
      'database-url': { type: 'string' },
      'no-http': { type: 'boolean' },
      'serve-only': { type: 'boolean' },
      publish: { type: 'boolean' },
      'http-cpu-prof': { type: 'string' },
      'no-write': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(usage);
    return;
  }
  const n = {
    coops: Number(values.coops),
    nbh: Number(values.neighbourhoods),
    sec: Number(values.sectors),
    months: Number(values.months),
    queries: Number(values.queries),
    clients: Number(values.clients),
  };
  const rnd = random(Number(values.seed));
  const loadAtStart = os.loadavg();
  const started = Date.now();
  const lastMonth = `${new Date().getUTCFullYear() - 1}-12`;
  const firstMonth = addMonths(lastMonth, -(n.months - 1));
  const months: string[] = [];
  for (let m = firstMonth; m <= lastMonth; m = addMonths(m, 1)) months.push(m);
  const kinds = ['WORKER', 'CONSUMER', 'PRODUCER', 'HOUSING'];
  const rows: FrozenRow[] = [];
  const monthly = MEASURES.filter(
    (m) => m.grain === 'MONTH' && !['JOBS', 'WORKER_OWNERS', 'WORKERS_NOT_MEMBERS'].includes(m.code),
  );
  process.stderr.write(`building ${n.coops} co-ops x ${n.months} months ... `);
  for (let c = 0; c < n.coops; c++) {
    const base = {
      bookId: `c${c}`,
      neighbourhood: `N${Math.floor(rnd() * n.nbh)}`,
      sector: String(10 + Math.floor(rnd() * n.sec)),
      kind: kinds[Math.floor(rnd() * kinds.length)]!,
      group: `g${c}`,
    };
    const size = rnd() < 0.05 ? 50 : 1 + rnd() * 3;
    for (const month of months) {
      for (const m of monthly) {
        if (['FOUNDED', 'CLOSED', 'JOBS_CREATED_AT_FOUNDING'].includes(m.code)) continue;
        const value =
          m.code === 'COOPS'
            ? 1
            : m.money
              ? Math.round(size * 100_000 * (0.5 + rnd()))
              : Math.round(size * 5 * rnd());
        if (value !== 0) rows.push({ ...base, measure: m.code, month, value });
      }
    }
  }
  process.stderr.write(`${rows.length} rollup rows\n`);
  const dims = {
    neighbourhoods: [...new Set(rows.map((r) => r.neighbourhood))].sort(),
    sectors: [...new Set(rows.map((r) => r.sector))].sort(),
    kinds: [...new Set(rows.map((r) => r.kind))].sort(),
    firstYear: Number(firstMonth.slice(0, 4)),
    throughMonth: lastMonth,
    scale: 2,
  };
  if (values.publish) {
    await publishBench(rows, lastMonth, {
      databaseUrl: values['database-url'] ?? (process.env.DATABASE_URL?.trim() || null),
      loadAtStart,
      started,
      city: `${n.coops.toLocaleString('en')} co-ops, ${n.nbh} neighbourhoods x ${n.sec} sectors x ${kinds.length} kinds, ${n.months} months, every monthly measure (seed ${values.seed})`,
      write: !values['no-write'],
    });
    return;
  }
  let t = Date.now();
  const { shape, periods } = buildReleaseShape(dims);
  const cube = releaseCube(shape, periods, rows, DEFAULT_DISCLOSURE_POLICY);
  const cubeMs = Date.now() - t;
  process.stderr.write(`cube: ${shape.cellCount} cells, ${cube.verdicts.size} sensitive, ${cubeMs} ms\n`);
  // Progress of the long phases on stderr, every 5 s.
  const progress = progressLines((line) => process.stderr.write(`${line}\n`), RELEASE_PROGRESS_UNITS);
  t = Date.now();
  const protection = protectRelease(cube, new Map(), {
    onProgress: (done, total) => progress('protect', done, total),
  });
  const protectMs = Date.now() - t;
  process.stderr.write(
    `protect: ${protection.result.complementary.length} complementary, ${protection.result.unprotected.length} unprotected, ${protection.result.fallbacks} by the sparse-slice fallback, ${protectMs} ms\n`,
  );
  const { problem, result } = protection;
  const serveOnly = values['serve-only'] === true;
  t = Date.now();
  const unverified = serveOnly
    ? 0
    : verifyProtection(problem, result.suppressed, protection.certificates).filter((v) => !v.ok).length;
  const verifyMs = Date.now() - t;
  if (!serveOnly) process.stderr.write(`verify certificates: ${unverified} not proven, ${verifyMs} ms\n`);
  t = Date.now();
  const audit = serveOnly
    ? { findings: [], programs: 0, failures: [] }
    : await auditProtection(
        { shape, values: cube.values, suppressed: result.suppressed },
        problem.sensitive.map((cell, i) => ({
          cell,
          wantUp: problem.protectUp[i]!,
          wantDown: Math.min(problem.protectDown[i]!, Math.max(0, cube.values[cell]!)),
        })),
        protection.certificates,
        4_000,
        {
          neighbourhoodFirst: true,
          onProgress: (phase, done, total) => progress(`audit ${phase}`, done, total),
        },
      );
  const auditMs = Date.now() - t;
  const exactPrograms = audit.findings.filter((f) => f.exact).length;
  process.stderr.write(
    `audit: ${audit.findings.length} cells, ${audit.programs} programs (${exactPrograms} cells on exact component programs), ${audit.failures.length} failures, ${auditMs} ms\n`,
  );
  const cells = encodeCells(cube, protection.reasons);
  // As release-compute.ts summarises a release (the SDK's CityReport reads it).
  const summary: ReleaseSummary = {
    cells: shape.cellCount,
    storedCells: cells.length / 13,
    contributors: new Set(rows.map((r) => r.bookId)).size,
    primary: cube.verdicts.size,
    complementary: protection.reasons.filter((r) => r === 'COMPLEMENTARY').length,
    auditPrograms: audit.programs,
    auditedCells: audit.findings.length,
    auditSkipped: 0,
    protectMs,
    auditMs,
  };
  const release: ReleaseRow = {
    id: '00000000-0000-7000-8000-000000000015',
    cityKey: 'bench',
    city: 'Bench',
    seq: 1,
    currency: 'USD',
    firstMonth: `${dims.firstYear}-01`,
    throughMonth: lastMonth,
    policy: DEFAULT_DISCLOSURE_POLICY,
    dimensions: { ...dims, measurePeriods: [...shape.dims[3]!.codes] },
    cells,
    protection: encodeProtection(problem.sensitive, problem.protectUp, problem.protectDown),
    summary,
    createdAt: new Date(),
    createdBy: 'bench',
  };
  // The query path reads releases from its store; here the store's reads answer this release: its
  // id, its head with the lengths of its cells and protection, then chunks of them.
  const pool = {
    query: async (query: string | { text: string }, values: unknown[] = []) => {
      const sql = typeof query === 'string' ? query : query.text;
      if (sql.includes('select id from')) return { rows: [{ id: release.id }] };
      if (sql.includes('octet_length'))
        return {
          rows: [
            {
              ...rowOf(release),
              cells_length: release.cells.length,
              protection_length: release.protection.length,
            },
          ],
        };
      if (sql.includes('substring(')) {
        const bytes = sql.includes('substring(cells') ? release.cells : release.protection;
        const [from, length] = [Number(values[1]) - 1, Number(values[2])];
        return { rows: [{ b: bytes.subarray(from, from + length) }] };
      }
      return { rows: [rowOf(release)] };
    },
  };
  const deps = { pool: pool as never, clock: () => new Date() };
  const admin = { id: 'bench', name: 'bench', tokenId: '', grants: [{ role: 'ADMIN' as const, scope: '' }] };
  const measureCodes = monthly.map((m) => m.code);
  const latencies: number[] = [];
  let done = 0;
  t = Date.now();
  await Promise.all(
    Array.from({ length: n.clients }, async () => {
      while (done < n.queries) {
        done++;
        const groupBy = (['NEIGHBOURHOOD', 'SECTOR', 'KIND'] as const).filter(() => rnd() < 0.4);
        const start = performance.now();
        const answer = await slice(
          deps,
          {
            city: 'Bench',
            releaseId: null,
            measures: [measureCodes[Math.floor(rnd() * measureCodes.length)]!],
            neighbourhoods: null,
            sectors: null,
            kinds: null,
            groupBy: [...groupBy],
            granularity: (['MONTH', 'QUARTER', 'YEAR'] as const)[Math.floor(rnd() * 3)]!,
            from: months[Math.floor(rnd() * months.length)]!,
            to: null,
            margins: true,
          },
          admin,
        );
        // The cells as the lean route writes them for the SDK's CityReport (a slice's cells are
        // made only when read).
        if (!('code' in answer)) answer.cellsJson(SDK_CELL_FIELDS);
        latencies.push(performance.now() - start);
        if ('code' in answer && answer.code !== 'QUERY_TOO_LARGE') throw new Error(answer.message);
        await new Promise((r) => setImmediate(r));
      }
    }),
  );
  const queryMs = Date.now() - t;
  latencies.sort((a, b) => a - b);
  const perSecond = Math.round((latencies.length / queryMs) * 1000);
  const p95 = latencies[Math.floor(latencies.length * 0.95)]!;
  const databaseUrl = values['database-url'] ?? (process.env.DATABASE_URL?.trim() || null);
  let http: ServeResult | null = null;
  if (!values['no-http'] && databaseUrl) {
    const cleanups = new Cleanups((m) => process.stderr.write(`${m}\n`));
    try {
      // Loaded here: the SDK it imports is not needed by the other parts.
      const { serveOverHttp } = await import('./bench/reporting-serve.js');
      http = await serveOverHttp(release, {
        databaseUrl,
        connections: n.clients,
        durationSeconds: Number(values['http-seconds']),
        measures: measureCodes,
        months,
        random: rnd,
        log: (m) => process.stderr.write(`${m}\n`),
        cleanups,
        cpuProfDir: values['http-cpu-prof'] ? path.resolve(values['http-cpu-prof']) : null,
      });
    } finally {
      await cleanups.runAll();
    }
  } else if (!values['no-http']) {
    process.stderr.write('no DATABASE_URL or --database-url: the HTTP part is skipped\n');
  }
  const table = [
    '| figure | measured | target |',
    '|---|---|---|',
    `| table cells (nbh x sector x kind x measure-period) | ${shape.cellCount.toLocaleString('en')} | |`,
    `| co-ops / rollup rows | ${n.coops} / ${rows.length.toLocaleString('en')} | 2,000 |`,
    `| cube (aggregation + primary rules) | ${(cubeMs / 1000).toFixed(1)} s | |`,
    `| primary sensitive / complementary / unprotected | ${cube.verdicts.size.toLocaleString('en')} / ${result.complementary.length.toLocaleString('en')} / ${result.unprotected.length} | unprotected 0 |`,
    `| sensitive cells protected by the sparse-slice fallback | ${result.fallbacks.toLocaleString('en')} | |`,
    `| protect | ${(protectMs / 1000).toFixed(1)} s | |`,
    `| certificates verified exactly (${unverified} not proven) | ${(verifyMs / 1000).toFixed(1)} s | not proven 0 |`,
    `| LP audit of every hidden sensitive cell (${audit.findings.length.toLocaleString('en')} cells, ${audit.programs.toLocaleString('en')} programs, ${exactPrograms} cells on exact component programs, ${audit.failures.length} failures) | ${(auditMs / 1000).toFixed(1)} s | failures 0 |`,
    `| slices at ${n.clients} clients (in process) | ${perSecond.toLocaleString('en')}/s | — (the target is for serving over HTTP: see that section) |`,
    `| slice p95 | ${p95.toFixed(2)} ms | — |`,
  ].join('\n');
  const loadAtEnd = os.loadavg();
  const httpTable =
    http &&
    [
      '| figure | measured | target |',
      '|---|---|---|',
      `| cityReport over HTTP at ${n.clients} connections (autocannon, ${http.seconds} s) | ${http.perSecond.toLocaleString('en')}/s | >= 1,000/s |`,
      `| p50 / p95 / p99 | ${http.p50.toFixed(1)} / ${http.p95.toFixed(1)} / ${http.p99.toFixed(1)} ms | p95 < 50 ms |`,
      `| the same slices in process (no HTTP, no database), for comparison | ${perSecond.toLocaleString('en')}/s, p95 ${p95.toFixed(2)} ms | |`,
      `| answered / refused QUERY_TOO_LARGE (by design) / failed | ${http.answered.toLocaleString('en')} / ${http.tooLarge.toLocaleString('en')} / ${http.failed} | failed 0 |`,
      `| cells per answer (mean) | ${http.answered ? Math.round(http.cells / http.answered).toLocaleString('en') : 0} | |`,
      `| the service's CPU per request (/proc, user + system) | ${http.serviceCpuMsPerRequest === null ? 'n/a' : `${http.serviceCpuMsPerRequest.toFixed(2)} ms`} | |`,
      `| the load process's CPU per request (autocannon and the checks) | ${http.loadCpuMsPerRequest === null ? 'n/a' : `${http.loadCpuMsPerRequest.toFixed(2)} ms`} | |`,
      `| answers parsed in full by the load process (the others judged by their text) | ${http.parsed.toLocaleString('en')} | |`,
    ].join('\n');
  if (!serveOnly) console.log(table);
  if (httpTable) {
    console.log(httpTable);
    if (http?.firstFailure) console.log(`first failure: ${http.firstFailure}`);
  }
  const load = (l: number[]) => l.map((x) => x.toFixed(2)).join(' / ');
  const context = [
    `Synthetic city: ${n.coops.toLocaleString('en')} co-ops, ${n.nbh} neighbourhoods x ${n.sec} sectors x ${kinds.length} kinds, ${n.months} months, every monthly measure (seed ${values.seed}).`,
    `Run ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, Node ${process.version}, ${os.cpus().length} cores shared with other engineers' work: load average (1 / 5 / 15 min) ${load(loadAtStart)} at the start, ${load(loadAtEnd)} at the end; ${((Date.now() - started) / 60_000).toFixed(1)} min in all. Timings are noisy.`,
    'Slices are read in process from the stored release (no HTTP, no database): the query path of cityReport on a cached release.',
  ];
  console.log(context.join('\n'));
  if (!values['no-write'] && httpTable) {
    const body = [
      '## City reporting over HTTP (npm run bench:reporting)',
      '',
      ...context.slice(0, 2).map((line) => `${line}\n`),
      `The release (protected${serveOnly ? ', not audited: --serve-only' : ' and audited'}) stored in a fresh database; the service started on it as npm start runs it (dist/ compiled, then Node with package.json's flags on dist/server/main.js); cityReport queries with a CITY_ANALYST token from autocannon in a load process of its own (scripts/bench/reporting-load.ts), each the SDK's CityReport persisted document by id (what the dashboard sends: the lean route, with the release's fields) with a fresh random slice (one measure, random groupings with margins, granularity and start month); every answer judged (HTTP 200, no GraphQL errors, userErrors empty or QUERY_TOO_LARGE, cells counted) by its text, and every 16th parsed in full and checked to agree; the service's CPU per request read from /proc over the run.\n`,
      httpTable,
    ].join('\n');
    await writeReportSection(path.join(repoRoot, 'BENCHMARKS.md'), 'bench-reporting-http', body);
    console.error('wrote the bench-reporting-http section of BENCHMARKS.md');
  }
  if (!values['no-write'] && !serveOnly) {
    const body = [
      '## City reporting (npm run bench:reporting)',
      '',
      ...context.map((line) => `${line}\n`),
      table,
    ].join('\n');
    await writeReportSection(path.join(repoRoot, 'BENCHMARKS.md'), 'bench-reporting', body);
    console.error('wrote the bench-reporting section of BENCHMARKS.md');
  }
}

/** --publish: the city published through the service (scripts/bench/reporting-publish.ts). */
async function publishBench(
  rows: FrozenRow[],
  throughMonth: string,
  o: { databaseUrl: string | null; loadAtStart: number[]; started: number; city: string; write: boolean },
): Promise<void> {
  if (!o.databaseUrl) throw new Error('--publish needs --database-url or DATABASE_URL');
  const cleanups = new Cleanups((m) => process.stderr.write(`${m}\n`));
  let result: PublishResult;
  try {
    result = await publishOverHttp(rows, {
      databaseUrl: o.databaseUrl,
      city: 'Bench',
      throughMonth,
      log: (m) => process.stderr.write(`${m}\n`),
      cleanups,
    });
  } finally {
    await cleanups.runAll();
  }
  const mb = (x: number | null) => (x === null ? 'n/a' : `${Math.round(x)} MB`);
  const r = result.release;
  const table = [
    '| figure | measured | target |',
    '|---|---|---|',
    `| published through the service (publishCityReport over HTTP, service heap capped at ${result.heapLimitMb ?? '?'} MB by npm start) | ${result.ok ? 'yes' : `no: ${result.message}`} | yes |`,
    `| time from the request to the release stored (refresh, snapshot read, protection, certificates, LP audit within its budget, verification read, write) | ${(result.seconds / 60).toFixed(1)} min | — (the audit's budget is 5 min) |`,
    `| the service's peak RSS (VmHWM, start and setup included) / RSS when ready | ${mb(result.servicePeakMb)} / ${mb(result.serviceReadyRssMb)} | — (heap limit ${result.heapLimitMb ?? '?'} MB) |`,
    `| the worker process's peak RSS (VmHWM sampled every 0.5 s; ${result.workers} worker process${result.workers === 1 ? '' : 'es'}) | ${mb(result.workerPeakMb)} | — (its heap limit 4,096 MB) |`,
    ...(r
      ? [
          `| co-ops / rollup rows | ${r.contributors.toLocaleString('en')} / ${rows.length.toLocaleString('en')} | |`,
          `| primary / complementary suppressed cells | ${r.primarySuppressed.toLocaleString('en')} / ${r.complementarySuppressed.toLocaleString('en')} | |`,
          `| hidden sensitive cells audited by LP / not reached within the budget (certificates verified) | ${r.auditedCells.toLocaleString('en')} / ${r.auditSkipped.toLocaleString('en')} | |`,
        ]
      : []),
  ].join('\n');
  const load = (l: number[]) => l.map((x) => x.toFixed(2)).join(' / ');
  const context = [
    `Synthetic city: ${o.city}.`,
    `Run ${new Date(o.started).toISOString().slice(0, 16).replace('T', ' ')} to ${new Date().toISOString().slice(11, 16)} UTC, Node ${process.version}, ${os.cpus().length} cores shared with other engineers' work: load average (1 / 5 / 15 min) ${load(o.loadAtStart)} at the start, ${load(os.loadavg())} at the end; ${((Date.now() - o.started) / 60_000).toFixed(1)} min in all. Timings are noisy.`,
    "The city's co-ops and rollup rows written with SQL into a fresh database; the service started on it as npm start runs it; one publishCityReport request with an ADMIN token; memory read from /proc.",
  ];
  console.log(table);
  console.log(context.join('\n'));
  if (o.write) {
    const body = [
      '## Publishing a city through the service (npm run bench:reporting -- --publish)',
      '',
      ...context.map((line) => `${line}\n`),
      table,
    ].join('\n');
    await writeReportSection(path.join(repoRoot, 'BENCHMARKS.md'), 'bench-reporting-publish', body);
    console.error('wrote the bench-reporting-publish section of BENCHMARKS.md');
  }
  if (!result.ok) process.exitCode = 1;
}

function rowOf(r: ReleaseRow) {
  return {
    id: r.id,
    city_key: r.cityKey,
    city: r.city,
    seq: r.seq,
    currency: r.currency,
    first_month: r.firstMonth,
    through_month: r.throughMonth,
    policy: r.policy,
    dimensions: r.dimensions,
    cells: r.cells,
    protection: r.protection,
    summary: r.summary,
    created_at: r.createdAt.toISOString(),
    created_by: r.createdBy,
  };
}

main().catch((error) => {
  // A mistyped option (node:util parseArgs): a usage error, exit 2, without a stack trace.
  if (String((error as { code?: unknown } | null)?.code).startsWith('ERR_PARSE_ARGS')) {
    console.error(`bench:reporting: ${(error as Error).message}\n\nRun with --help for the options.`);
    process.exit(2);
  }
  console.error(error);
  process.exit(1);
});
