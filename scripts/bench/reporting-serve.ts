import { randomBytes } from 'node:crypto';
import path from 'node:path';
import autocannon from 'autocannon';
import pg from 'pg';
import { CityReportDocument, createLedgerClient, documentIdOf } from '../../client-sdk/index.js';
import type { ReleaseRow } from '../../server/reporting/store.js';
import { createBenchDatabase, npmStartCommand, startBenchService } from '../lib/bench-service.js';
import type { Cleanups } from '../lib/cleanups.js';
import { processCpuSeconds } from './proc.js';

export interface ServeOptions {
  databaseUrl: string;
  connections: number;
  durationSeconds: number;
  measures: string[];
  months: string[];
  random: () => number;
  log: (message: string) => void;
  cleanups: Cleanups;
  /** Folder for a V8 CPU profile of the service while autocannon runs (not its start), or null. */
  cpuProfDir: string | null;
}

export interface ServeResult {
  answered: number;
  /** Cells in the answered responses, in all. */
  cells: number;
  tooLarge: number;
  failed: number;
  firstFailure: string | null;
  seconds: number;
  perSecond: number;
  p50: number;
  p95: number;
  p99: number;
  /** The service process's CPU time (user + system, from /proc) per request sent, in ms. */
  serviceCpuMsPerRequest: number | null;
}

/**
 * What the SDK sends for `client.cityReport(...)` (the dashboard's call): its persisted document by
 * id (CityReport, with the release's fields), so the service answers it by the lean route.
 */
const DOCUMENT_ID = documentIdOf(CityReportDocument)!;

export async function serveOverHttp(release: ReleaseRow, o: ServeOptions): Promise<ServeResult> {
  // A fresh database on the given server, dropped at the end.
  const name = `ledger_bench_reporting_${Date.now()}_${randomBytes(3).toString('hex')}`;
  const databaseUrl = await createBenchDatabase(o.databaseUrl, name, o.cleanups);
  // The service as `npm start` runs it: dist/ compiled, then Node with package.json's flags.
  const command = npmStartCommand(o.log);
  o.log(`starting the service on database ${name}: node ${command.args.join(' ')}`);
  const service = await startBenchService({
    databaseUrl,
    profile: o.cpuProfDir !== null,
    args: command.args,
    env: command.env,
    cleanups: o.cleanups,
    log: o.log,
  });
  const { port } = new URL(service.url);
  const { token } = service;

  // The release, stored as publishCityReport stores one (the service runs the migrations at start).
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  await db.query(
    `insert into reporting_release (city_key, seq, id, city, currency, first_month, through_month, policy, dimensions,
       cells, protection, summary, created_at, created_by)
     values ($1, $2, $3, $4, $5, ($6 || '-01')::date, ($7 || '-01')::date, $8, $9, $10, $11, $12, $13, $14)`,
    [
      release.city.toLowerCase(),
      release.seq,
      release.id,
      release.city,
      release.currency,
      release.firstMonth,
      release.throughMonth,
      JSON.stringify(release.policy),
      JSON.stringify(release.dimensions),
      release.cells,
      release.protection,
      JSON.stringify(release.summary),
      release.createdAt,
      release.createdBy,
    ],
  );
  await db.end();

  const endpoint = `http://127.0.0.1:${port}/graphql`;
  const adminClient = createLedgerClient({ url: endpoint, token });
  const issued = await adminClient.issueApiToken({
    principalName: 'bench analyst',
    label: 'bench-reporting',
    grants: [{ role: 'CITY_ANALYST', scope: release.city }],
  });
  if (issued.userErrors.length > 0 || !issued.token)
    throw new Error(`issueApiToken: ${JSON.stringify(issued.userErrors)}`);
  const analystToken = issued.token;

  const body = () => {
    const r = o.random;
    const groupBy = (['NEIGHBOURHOOD', 'SECTOR', 'KIND'] as const).filter(() => r() < 0.4);
    return JSON.stringify({
      documentId: DOCUMENT_ID,
      variables: {
        input: {
          city: release.city,
          measures: [o.measures[Math.floor(r() * o.measures.length)]!],
          groupBy,
          granularity: (['MONTH', 'QUARTER', 'YEAR'] as const)[Math.floor(r() * 3)]!,
          from: o.months[Math.floor(r() * o.months.length)]!,
          margins: true,
        },
      },
    });
  };
  // One warm-up request (the release is loaded into the service's cache on its first read).
  const warm = await fetch(endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${analystToken}` },
    body: body(),
  });
  if (warm.status !== 200) throw new Error(`warm-up answered ${warm.status}: ${await warm.text()}`);

  let answered = 0;
  let cells = 0;
  let tooLarge = 0;
  let failed = 0;
  let firstFailure: string | null = null;
  const latencies: number[] = [];
  o.log(`cityReport over HTTP: ${o.connections} connections for ${o.durationSeconds} s`);
  await service.profiler?.start();
  const cpuBefore = processCpuSeconds(service.pid);
  const instance = autocannon({
    url: `http://127.0.0.1:${port}`,
    connections: o.connections,
    duration: o.durationSeconds,
    requests: [
      {
        method: 'POST',
        path: '/graphql',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json',
          authorization: `Bearer ${analystToken}`,
        },
        setupRequest: (request) => ({ ...request, body: body() }),
        onResponse: (status, text) => {
          const fail = (why: string) => {
            failed++;
            firstFailure ??= why;
          };
          if (status !== 200) return fail(`HTTP ${status}: ${String(text).slice(0, 300)}`);
          let parsed: {
            data?: { cityReport?: { cells: unknown[]; userErrors: { code: string }[] } };
            errors?: unknown;
          };
          try {
            parsed = JSON.parse(String(text));
          } catch {
            return fail(`not JSON: ${String(text).slice(0, 300)}`);
          }
          const answer = parsed.data?.cityReport;
          if (parsed.errors || !answer) return fail(JSON.stringify(parsed.errors ?? parsed).slice(0, 300));
          if (answer.userErrors.length === 0) {
            answered++;
            cells += answer.cells.length;
          } else if (answer.userErrors.every((e) => e.code === 'QUERY_TOO_LARGE')) tooLarge++;
          else fail(JSON.stringify(answer.userErrors).slice(0, 300));
        },
      },
    ],
  });
  instance.on('response', (...args: unknown[]) => {
    latencies.push(args[3] as number);
  });
  const result = await instance;
  const cpuAfter = processCpuSeconds(service.pid);
  if (service.profiler && o.cpuProfDir) {
    const file = path.join(o.cpuProfDir, `reporting-serve-${Date.now()}.cpuprofile`);
    await service.profiler.stop(file);
    o.log(`CPU profile of the service while serving: ${file}`);
  }
  latencies.sort((a, b) => a - b);
  const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))] ?? 0;
  const seconds = result.duration;
  return {
    answered,
    cells,
    tooLarge,
    failed,
    firstFailure,
    seconds,
    perSecond: Math.round(latencies.length / seconds),
    p50: q(0.5),
    p95: q(0.95),
    p99: q(0.99),
    serviceCpuMsPerRequest:
      cpuBefore === undefined || cpuAfter === undefined || latencies.length === 0
        ? null
        : ((cpuAfter - cpuBefore) * 1000) / latencies.length,
  };
}
