import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { CityReportDocument, createLedgerClient, documentIdOf } from '../../client-sdk/index.js';
import { repoRoot } from '../../server/platform/config.js';
import type { ReleaseRow } from '../../server/reporting/store.js';
import { createBenchDatabase, npmStartCommand, startBenchService } from '../lib/bench-service.js';
import type { Cleanups } from '../lib/cleanups.js';
import { processCpuSeconds } from './proc.js';
import type { LoadConfig, LoadResult } from './reporting-load.js';

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
  /** Answers parsed in full by the load process (every PARSE_EVERY-th; the rest judged by their text). */
  parsed: number;
  /** The load process's CPU time per request, in ms. */
  loadCpuMsPerRequest: number | null;
}

/** The load process parses every this-many-th answer in full (reporting-load.ts). */
const PARSE_EVERY = 16;

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

  // The bodies, drawn from o.random as before, for a separate load process (reporting-load.ts).
  const bodies = Array.from({ length: Math.min(200_000, 2_000 * o.durationSeconds + 1_000) }, body);
  const configFile = path.join(os.tmpdir(), `bench-reporting-load-${process.pid}-${Date.now()}.json`);
  await writeFile(
    configFile,
    JSON.stringify({
      url: endpoint,
      token: analystToken,
      connections: o.connections,
      durationSeconds: o.durationSeconds,
      bodies,
      parseEvery: PARSE_EVERY,
      cellKey: 'neighbourhood',
    } satisfies LoadConfig),
  );
  o.cleanups.push({ name: 'remove the load configuration', run: () => rm(configFile, { force: true }) });
  o.log(
    `cityReport over HTTP: ${o.connections} connections for ${o.durationSeconds} s (load from its own process)`,
  );
  let cpuBefore: number | undefined;
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(repoRoot, 'scripts/bench/reporting-load.ts'), configFile],
    {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
    if (cpuBefore === undefined && stderr.includes('@phase main\n')) {
      cpuBefore = processCpuSeconds(service.pid);
      void service.profiler?.start();
    }
  });
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  const cpuAfter = processCpuSeconds(service.pid);
  if (code !== 0 || !stdout.trim())
    throw new Error(`the load process failed (exit ${code}): ${stderr.slice(-2000)}`);
  const load = JSON.parse(stdout.trim()) as LoadResult;
  const latencies = load.latencies;
  if (service.profiler && o.cpuProfDir) {
    const file = path.join(o.cpuProfDir, `reporting-serve-${Date.now()}.cpuprofile`);
    await service.profiler.stop(file);
    o.log(`CPU profile of the service while serving: ${file}`);
  }
  const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))] ?? 0;
  const seconds = load.seconds;
  return {
    answered: load.answered,
    cells: load.cells,
    tooLarge: load.tooLarge,
    failed: load.failed,
    firstFailure: load.firstFailure,
    parsed: load.parsed,
    seconds,
    loadCpuMsPerRequest: latencies.length === 0 ? null : load.cpuMs / latencies.length,
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
