/**
 * bench-reporting's publish part (--publish): a synthetic city published through the running
 * service as users publish one (publishCityReport over HTTP, with an ADMIN token), the service
 * started as npm start runs it (its heap capped by package.json's --max-old-space-size). The
 * city's co-ops and their rollup rows are written with SQL into a fresh database (the same rows
 * bench-reporting protects in process), with the rollup's fingerprints as the service computes
 * them, so the release reads the rows as they are (the rollup is not recomputed from a journal
 * the synthetic city does not have). The service's and its worker process's memory are sampled
 * from /proc while the release is computed.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import pg from 'pg';
import type { FrozenRow } from '../../server/reporting/store.js';
import { staleBooks } from '../../server/reporting/store.js';
import { createBenchDatabase, npmStartCommand, startBenchService } from '../lib/bench-service.js';
import type { Cleanups } from '../lib/cleanups.js';
import { readMemory } from './proc.js';

export interface PublishOptions {
  databaseUrl: string;
  city: string;
  /** The release's last month, `YYYY-MM`. */
  throughMonth: string;
  log: (message: string) => void;
  cleanups: Cleanups;
}

export interface PublishResult {
  ok: boolean;
  /** The refusal or error, when not ok. */
  message: string | null;
  /** From the request to its answer. */
  seconds: number;
  /** The service's --max-old-space-size, as started. */
  heapLimitMb: number | null;
  serviceReadyRssMb: number;
  /** The service's peak RSS (VmHWM) over the whole run, start and setup included. */
  servicePeakMb: number;
  /** The highest VmHWM of a worker process (a child of the service) seen, sampled every 500 ms. */
  workerPeakMb: number | null;
  workers: number;
  release: {
    contributors: number;
    primarySuppressed: number;
    complementarySuppressed: number;
    auditedCells: number;
    auditSkipped: number;
  } | null;
}

/** Rows written per statement while the city is set up. */
const INSERT_ROWS = 50_000;

export async function publishOverHttp(rows: readonly FrozenRow[], o: PublishOptions): Promise<PublishResult> {
  const name = `ledger_bench_publish_${Date.now()}_${randomBytes(3).toString('hex')}`;
  const databaseUrl = await createBenchDatabase(o.databaseUrl, name, o.cleanups);
  const command = npmStartCommand(o.log);
  const heapFlag = command.args.find((a) => a.startsWith('--max-old-space-size='));
  o.log(`starting the service on database ${name}: node ${command.args.join(' ')}`);
  const service = await startBenchService({
    databaseUrl,
    args: command.args,
    // The service's own log: the release's progress lines (warn level hides the rest).
    env: command.env,
    cleanups: o.cleanups,
    log: o.log,
  });
  const readyRssKb = readMemory(service.pid)?.rssKb ?? 0;
  // The service writes the release's progress on its stderr: passed on.
  service.child.stderr?.on('data', (d: Buffer) => {
    for (const line of d.toString().split('\n')) if (line.includes('city report')) o.log(`service: ${line}`);
  });

  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    const started = Date.now();
    // The co-ops: one book and co-op per synthetic co-op, classified as its rows say.
    const coops = new Map<string, { id: string; row: FrozenRow }>();
    for (const r of rows) if (!coops.has(r.bookId)) coops.set(r.bookId, { id: randomUUID(), row: r });
    const list = [...coops.values()];
    await db.query(
      `insert into book (id, name, max_backdate_days, last_hash, created_at)
       select id, 'bench ' || id, 0, '', now() from unnest($1::uuid[]) id`,
      [list.map((c) => c.id)],
    );
    await db.query(
      `insert into coop (book_id, name, kind, naics_code, city, neighbourhood, founded_on, legal_form,
         fiscal_year_start, base_currency, redemption_rule, data_sharing_consent, data_sharing_consent_at,
         created_at, updated_at)
       select id, 'bench ' || id, kind, sector || '0000', $1, nbh, date '2000-01-01', 'LLC', '01-01', 'USD',
              'HOLD', true, date '2000-01-01', now(), now()
         from unnest($2::uuid[], $3::text[], $4::text[], $5::text[]) as x(id, kind, sector, nbh)`,
      [
        o.city,
        list.map((c) => c.id),
        list.map((c) => c.row.kind),
        list.map((c) => c.row.sector),
        list.map((c) => c.row.neighbourhood),
      ],
    );
    for (let at = 0; at < rows.length; at += INSERT_ROWS) {
      const part = rows.slice(at, at + INSERT_ROWS);
      await db.query(
        `insert into reporting_coop_month (book_id, measure, month, value)
         select * from unnest($1::uuid[], $2::text[], $3::date[], $4::numeric[])`,
        [
          part.map((r) => coops.get(r.bookId)!.id),
          part.map((r) => r.measure),
          part.map((r) => `${r.month}-01`),
          part.map((r) => String(r.value)),
        ],
      );
    }
    // The rollup up to date as the service judges it (its fingerprints of this month).
    const currentMonth = `${new Date().toISOString().slice(0, 7)}-01`;
    const stale = await staleBooks(db as never, o.city.toLowerCase(), currentMonth);
    await db.query(
      `insert into reporting_refresh (book_id, fingerprint, refreshed_at)
       select b, f, now() from unnest($1::uuid[], $2::text[]) as x(b, f)`,
      [stale.map((s) => s.bookId), stale.map((s) => s.fingerprint)],
    );
    o.log(
      `city ${o.city}: ${list.length} co-ops, ${rows.length} rollup rows written in ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
  } finally {
    await db.end();
  }

  // The service's children (the release's worker processes), sampled every 500 ms.
  let workerPeakKb = 0;
  const workers = new Set<number>();
  const sample = () => {
    for (const pid of childrenOf(service.pid)) {
      workers.add(pid);
      const m = readMemory(pid);
      if (m) workerPeakKb = Math.max(workerPeakKb, m.hwmKb);
    }
  };
  const sampler = setInterval(sample, 500);
  const started = Date.now();
  let ok = false;
  let message: string | null = null;
  let release: PublishResult['release'] = null;
  try {
    const answer = JSON.parse(
      await postWithoutTimeouts(
        service.url,
        service.token,
        JSON.stringify({
          query: PUBLISH,
          variables: { input: { city: o.city, currency: 'USD', throughMonth: o.throughMonth } },
        }),
      ),
    ) as {
      data?: {
        publishCityReport: {
          release: PublishResult['release'];
          userErrors: { code: string; message: string }[];
        };
      };
      errors?: { message: string }[];
    };
    const payload = answer.data?.publishCityReport;
    if (!payload) message = `errors: ${JSON.stringify(answer.errors)}`;
    else if (payload.userErrors.length > 0)
      message = payload.userErrors.map((e) => `${e.code}: ${e.message}`).join('; ');
    else if (payload.release) {
      ok = true;
      release = payload.release;
    }
  } catch (error) {
    message = error instanceof Error ? error.message : String(error);
  } finally {
    clearInterval(sampler);
  }
  const seconds = (Date.now() - started) / 1000;
  const alive = service.child.exitCode === null && service.child.signalCode === null;
  if (!alive && message === null) message = 'the service exited';
  const servicePeakKb = readMemory(service.pid)?.hwmKb ?? 0;
  return {
    ok: ok && alive,
    message,
    seconds,
    heapLimitMb: heapFlag ? Number(heapFlag.split('=')[1]) : null,
    serviceReadyRssMb: readyRssKb / 1024,
    servicePeakMb: servicePeakKb / 1024,
    workerPeakMb: workers.size > 0 ? workerPeakKb / 1024 : null,
    workers: workers.size,
    release,
  };
}

/**
 * The publishCityReport mutation (what the SDK's publishCityReport sends, with the fields read
 * here). Sent as a plain POST over node:http: the global fetch's headers timeout (undici's 300 s,
 * whatever the SDK's timeoutMs) ends a full-size city's publication before the service answers
 * (seen: "Headers Timeout Error"), and this part does not load the SDK.
 */
const PUBLISH = `mutation PublishCityReport($input: PublishCityReportInput!) {
  publishCityReport(input: $input) {
    release { contributors primarySuppressed complementarySuppressed auditedCells auditSkipped }
    userErrors { code message }
  }
}`;

/** POSTs `body` to the GraphQL endpoint and resolves with the response's text; no timeout. */
function postWithoutTimeouts(url: string, token: string, body: string): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const request = http.request(
      new URL(url),
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (c: Buffer) => chunks.push(c));
        response.on('error', reject);
        response.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

/** Live children of a process (from /proc/<pid>/stat's ppid). */
function childrenOf(parent: number): number[] {
  const out: number[] = [];
  let names: string[] = [];
  try {
    names = readdirSync('/proc').filter((n) => /^\d+$/.test(n));
  } catch {
    return out;
  }
  for (const n of names) {
    try {
      const stat = readFileSync(`/proc/${n}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === parent) out.push(Number(n));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}
